# Herald's two everyday commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
# Every target builds with Go 1.27.3, which the go command fetches from the
# module proxy on first use: go1.26.8 calls standard-library
# vulnerabilities fixed there (see `make vulncheck`). go.mod's `go 1.26.8`
# stays the minimum. Override from the environment (GOTOOLCHAIN=local).
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
# Tests create and drop their own databases on this server.
HERALD_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export HERALD_TEST_POSTGRES_URL
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
# Platforms of `make release`, as GOOS/GOARCH.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64
FUZZTIME ?= 10s

.PHONY: run build release docker test vet lint vulncheck fuzz fuzz-ci bench-ack bench-engine clean

## run: start Herald on the embedded SQLite store in ./data, Slack in dry-run mode, example keyword replies, the demo paging configuration (examples/demo.yaml)
run:
	export HERALD_DEMO=$${HERALD_DEMO:-true} HERALD_KEYWORDS_FILE=$${HERALD_KEYWORDS_FILE-examples/keywords.yaml}; \
		$(GO) run ./cmd/herald apply -f examples/demo.yaml && $(GO) run ./cmd/herald serve

## build: a static binary in ./bin/herald
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/herald ./cmd/herald

## release: static binaries for RELEASE_PLATFORMS in ./dist, named herald-VERSION-OS-ARCH, with SHA256SUMS
release:
	rm -rf dist && mkdir -p dist
	@set -e; for platform in $(RELEASE_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; out=dist/herald-$(VERSION)-$$os-$$arch; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/herald; \
	done
	cd dist && sha256sum herald-* > SHA256SUMS && cat SHA256SUMS

## docker: the container image herald:VERSION (see Dockerfile)
docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg BUILD_DATE=$(BUILD_DATE) -t herald:$(VERSION) .

## test: vet, then every test with the race detector, on Postgres when it is reachable
test: vet
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		echo "PostgreSQL reachable: store tests run on Postgres and SQLite"; \
	else \
		echo "!!! PostgreSQL NOT reachable at $(HERALD_TEST_POSTGRES_URL): Postgres tests will be SKIPPED (SQLite only). Set HERALD_REQUIRE_POSTGRES=1 to fail instead."; \
	fi
	@# Every test log is teed to a temporary directory (internal/testlog), then
	@# scanned for the suite's fake secrets, phone numbers, e-mail addresses,
	@# Slack tokens and integration keys: a leak fails the run.
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
		echo "HERALD_TEST_LOG_DIR=$$dir $(GO) test -race -count=1 ./..." && \
		HERALD_TEST_LOG_DIR=$$dir $(GO) test -race -count=1 ./... && \
		$(GO) run ./internal/testlog/scan -dir "$$dir"

vet:
	$(GO) vet ./...
	@# The gofmt of the toolchain in use, not whichever is first on PATH.
	@gofmt="$$($(GO) env GOROOT)/bin/gofmt"; \
		test -z "$$($$gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; $$gofmt -l .; exit 1; }

## lint: staticcheck (installed on demand)
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## vulncheck: govulncheck on every package, against the Go vulnerability database built offline from the golang.org/x/vulndb module (VULNDB_VERSION, default latest); fails on a called vulnerability not in .govulncheck-allow.yaml, and on a stale entry there
GOVULNCHECK_VERSION ?= v1.9.0
VULNDB_VERSION ?= latest
VULNDB_CACHE ?= $(HOME)/.cache/herald/vulndb
VULNCHECK_PKGS ?= ./...
VULNCHECK_ALLOW ?= .govulncheck-allow.yaml
vulncheck:
	@# vuln.go.dev is out of reach here; the module proxy serves the same
	@# reports as a Go module, which internal/vulndb/build indexes (cached per version).
	@# internal/vulndb/gate reads the JSON findings and applies the allow-list.
	@set -eo pipefail; tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT; \
		db=$$($(GO) run ./internal/vulndb/build -module golang.org/x/vulndb@$(VULNDB_VERSION) -cache '$(VULNDB_CACHE)'); \
		$(GO) build -o "$$tmp/gate" ./internal/vulndb/gate; \
		echo "$$($(GO) version): govulncheck -db file://$$db -format json $(VULNCHECK_PKGS) | gate -allow $(VULNCHECK_ALLOW)"; \
		$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db "file://$$db" -format json $(VULNCHECK_PKGS) | \
			"$$tmp/gate" -allow '$(VULNCHECK_ALLOW)'

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## fuzz-ci: every fuzz target for 2 s each (FUZZTIME=2s), bounded for CI
fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2s

## bench-ack: how fast Slack requests are acknowledged: a slash command and a declare form submission (Postgres and SQLite)
bench-ack:
	$(GO) test -run '^$$' -bench 'Ack' -benchtime 2000x ./cmd/herald

## bench-engine: the paging engine under load (burst, steady, claim, replicas, fair, storm) on the local PostgreSQL; BENCH_ARGS="--scenario burst --duration 30s" to narrow it
BENCH_ARGS ?=
bench-engine:
	$(GO) build -o bin/herald-bench ./cmd/herald
	mkdir -p artifacts
	./bin/herald-bench bench engine --database-url '$(HERALD_TEST_POSTGRES_URL)' --out artifacts/bench-engine.json --markdown artifacts/bench-engine.md $(BENCH_ARGS)

clean:
	rm -rf bin data dist
