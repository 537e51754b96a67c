# idpconform developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/idpconform
PKGS  := ./...

.PHONY: help build conformance test test-go test-peers peers-up peers-down bench lint fmt-check vet tools clean fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/idpconform
	$(GO) build -o $(BIN) ./cmd/idpconform

conformance: build ## run the conformance suites against the bundled mock (no configuration)
	./$(BIN) conform --report-dir idpconform-report

test: test-peers test-go ## vet, every Go test with the race detector, then the suites and a load run against the real peers

test-go: vet ## vet, then every Go test with the race detector
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-peers: build ## the zitadel-op module's tests, then conform (known deviations expected) and a short load run against oidc-provider and zitadel-op on loopback
	cd peers/zitadel-op && $(GO) test -count=1 ./...
	peers/peers.sh test

peers-up: ## start the real peer IdPs on loopback (oidc-provider :18081, zitadel-op :18082; logs in .peers/)
	peers/peers.sh up

peers-down: ## stop the peer IdPs started by peers-up
	peers/peers.sh down

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
	cd peers/zitadel-op && $(GO) vet ./... && $(GO) tool -modfile=../../tools/go.mod golangci-lint run --config ../../.golangci.yml ./...

clean:
	rm -rf bin idpconform-report bench.out test-artifacts .peers
