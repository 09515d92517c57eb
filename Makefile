# waorders: run `make help` for the targets.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 60s
STATICCHECK_VERSION ?= v0.8.2
# The version `waorders version` prints: the tag (see CHANGELOG.md), or the
# tag, commits since and commit, with -dirty for uncommitted changes.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
STATICCHECK := $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

.PHONY: help run build test lint staticcheck fuzz fuzz-ci bench bench-http reliability ci

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the service on the embedded SQLite default (./data)
	$(GO) run ./cmd/waorders serve

build: ## build bin/waorders, with its version, commit and time from git (waorders version)
	CGO_ENABLED=0 $(GO) build -buildvcs=true -trimpath \
	  -ldflags "-s -w $(if $(VERSION),-X github.com/waorders/waorders/internal/cli.Version=$(VERSION))" \
	  -o bin/waorders ./cmd/waorders

test: ## run every test with the race detector (PostgreSQL tests skip if no server, fail under CI=1)
	$(GO) test -race -count=1 $(PKGS)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK) ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(STATICCHECK) $(PKGS)

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@bash scripts/fuzz.sh $(FUZZTIME)

fuzz-ci: ## run every fuzz target briefly (CI)
	@bash scripts/fuzz.sh 10s

bench: ## Go benchmarks of the decoder and the storage drivers
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

BENCH_ROUNDS ?= 3
bench-http: ## the HTTP benchmark table: ceiling, durable floor, waorders on SQLite and PostgreSQL (BENCH_ROUNDS=3)
	bash bench/run.sh --rounds $(BENCH_ROUNDS)

reliability: ## crash test: kill -9 under load, restart, count (long form)
	bash bench/reliability.sh --rounds 10

ci: lint test fuzz-ci ## everything CI runs
