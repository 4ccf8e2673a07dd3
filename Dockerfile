# Static Herald binary on a distroless, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /herald ./cmd/herald

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /herald /herald
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/herald"]
CMD ["serve"]
