# idpconform developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/idpconform
PKGS  := ./...

.PHONY: help build conformance test bench lint fmt-check vet tools clean fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/idpconform
	$(GO) build -o $(BIN) ./cmd/idpconform

conformance: build ## run the conformance suites against the bundled mock (no configuration)
	./$(BIN) conform --report-dir idpconform-report

test: vet ## vet, then every test with the race detector
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

FUZZTIME ?= 10s
fuzz: ## run every fuzz target FUZZTIME (default 10s) each; the corpus grows in testdata/fuzz
	FUZZTIME=$(FUZZTIME) GO=$(GO) .ci/fuzz

bench: ## run the benchmarks (compare runs with: go tool -modfile=tools/go.mod benchstat old.txt new.txt)
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 $(PKGS) | tee bench.out

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: fmt-check vet ## gofmt, go vet and golangci-lint (built from tools/go.mod on first use, ~2 min)
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...

clean:
	rm -rf bin idpconform-report bench.out test-artifacts
