# syntax=docker/dockerfile:1
# Herald: a static binary on a distroless, non-root base (no shell, no
# package manager). Build with `make docker`, or `docker compose up --build`.

# The Go of the Makefile's GOTOOLCHAIN (cmd/herald/dockerfile_go_test.go
# keeps the two equal): go1.26.8 calls fixed standard-library vulnerabilities.
FROM golang:1.27.3 AS build
WORKDIR /src
# Modules first, so a code change does not download them again; the cache
# mounts keep modules and compiled packages between builds.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.buildDate=${BUILD_DATE}" \
    -o /out/herald ./cmd/herald
# The data directory, owned by the image's nonroot user (65532) so that a
# fresh named volume mounted there is writable too.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
# The embedded SQLite store (used without DATABASE_URL) lives here: mount
# a volume to keep it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HERALD_DATA_DIR=/data
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
# The binary checks itself: distroless has no curl and no shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/herald", "healthcheck"]
ENTRYPOINT ["/herald"]
CMD ["serve"]
