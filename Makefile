# Audit Sentinel. `make help` lists the targets.

GO       ?= go
BIN      := bin
CMDS     := ./cmd/api ./cmd/worker ./cmd/sentinelctl
# Packages for test/test-short, e.g. make test PKGS=./internal/config/...
PKGS     ?= ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "; printf "Targets:\n"} \
		/^[a-zA-Z0-9_.\/-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build api, worker and sentinelctl into bin/
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/ $(CMDS)

.PHONY: test
test: ## Run every test with real services (installs/starts what is missing; GOTESTFLAGS, PKGS)
	bash scripts/test.sh $(PKGS)

.PHONY: test-short
test-short: ## Like test, with -short (GOTESTFLAGS, PKGS)
	GOTESTFLAGS="-short $(GOTESTFLAGS)" bash scripts/test.sh $(PKGS)

.PHONY: bench
bench: ## Run the benchmarks (bench/run.sh)
	bash bench/run.sh

.PHONY: lint
lint: ## go vet, gofmt check and golangci-lint (.golangci.yml; builds bin/golangci-lint)
	bash scripts/lint.sh $(PKGS)

.PHONY: fmt
fmt: ## Format all Go files
	find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -w

.PHONY: demo
# demo builds the binary and execs it rather than `go run`: go run serves
# from a compiled child, which kept the port when go run alone was stopped.
# Here make's child is the api itself, so Ctrl-C or a SIGTERM to it stops
# the server (gracefully).
demo: ## Run the API in demo mode (SQLite, embedded queue, sample data); Ctrl-C stops it
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/api
	exec $(BIN)/api -demo

.PHONY: tools
tools: $(BIN)/versitygw ## Build bin/versitygw (the S3 server tests use) from tools/

$(BIN)/versitygw: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && $(GO) build -o ../$(BIN)/versitygw github.com/versity/versitygw/cmd/versitygw

.PHONY: check-compose
check-compose: ## Check docker-compose.yml parses and hangs together
	bash scripts/check-compose.sh

.PHONY: clean
clean: ## Remove bin/ and test caches
	rm -rf $(BIN)
	$(GO) clean -testcache
