# guard: see README.md. `make run` starts the local stack; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
TOOLS := $(CURDIR)/.tools/bin
RIE := $(TOOLS)/aws-lambda-rie
FUNCTIONS := $(notdir $(wildcard functions/*))
EXAMPLES := $(notdir $(wildcard examples/*))
LAMBDA_FLAGS := -trimpath -buildvcs=false -tags lambda.norpc -ldflags='-s -w -buildid='
FUZZTIME ?= 4s
PORT ?= 3000

export CGO_ENABLED := 0

.PHONY: all build tools run invoke mint rotate revoke webhook test test-unit test-integration fuzz-smoke lint-template check-third-party bench bench-peer cold-start conn-reuse load clean

all: build

## tools: install what the local run and the tests need into .tools/ (git-ignored).
tools: $(RIE)
$(RIE):
	GOBIN=$(TOOLS) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

## build: every function (and example) as build/<folder>/bootstrap for this machine.
build: $(addprefix build/,$(addsuffix /bootstrap,$(FUNCTIONS) $(EXAMPLES)))
build/%/bootstrap: FORCE
	@mkdir -p $(dir $@)
	$(GO) build $(LAMBDA_FLAGS) -o $@ $(if $(wildcard functions/$*),./functions/$*,./examples/$*)
FORCE:

## run: the whole suite locally (moto, functions under the emulator, local API Gateway).
# exec: localgw is make's direct child, so a SIGTERM to make reaches it (and it
# stops with its parent anyway).
run: tools build build/localgw
	exec build/localgw -port $(PORT)

build/localgw: FORCE
	$(GO) build -o $@ ./cmd/localgw

## invoke: send one event to a function of the running local stack: make invoke EVENT=events/token-authorizer/rest-token.json
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<function>/<file>.json [FUNCTION=LogicalId]"; exit 2; }
	$(GO) run ./cmd/invoke -event $(EVENT) $(if $(FUNCTION),-function $(FUNCTION))

## mint: print a demo token from the running local stack's current key: make mint SUB=alice SCOPE="orders:read"
mint:
	@$(GO) run ./cmd/mint -sub "$(or $(SUB),alice)" -scope "$(SCOPE)"

## revoke: revoke a subject on the running local stack: make revoke SUB=alice
revoke:
	@test -n "$(SUB)$(JTI)" || { echo "usage: make revoke SUB=<sub> | JTI=<jti>"; exit 2; }
	$(GO) run ./cmd/revoke $(if $(SUB),-sub "$(SUB)") $(if $(JTI),-jti "$(JTI)")

## webhook: send a signed webhook (RFC 9421 over its Content-Digest) through the running local stack: make webhook API=http [TAMPER=1]
webhook:
	@$(GO) run ./cmd/webhook -api "$(or $(API),rest)" $(if $(TAMPER),-tamper)

## rotate: one full rotation of the running local stack's signing key, through the real key-rotator binary.
rotate: tools build
	$(GO) run ./cmd/rotate

## test: unit tests, fuzz smoke runs, template checks, integration tests against the local stack.
test: tools build test-unit check-third-party fuzz-smoke lint-template test-integration

test-unit:
	@unformatted=$$(gofmt -l shared functions internal cmd examples integration); \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	@# The injection corpus' error rates, printed on every run (go test hides a passing test's log).
	@$(GO) test -count=1 -run '^TestInjectionCorpus$$' -v ./shared/validate | sed -n 's/^ *inject_test.go:[0-9]*: \(false .*\)/injection corpus: \1/p'

test-integration: tools build
	$(GO) test -count=1 -tags integration -timeout 10m ./integration/...

## fuzz-smoke: each fuzz target for FUZZTIME (CI's short bounded run).
fuzz-smoke:
	@./scripts/fuzz-smoke $(FUZZTIME)

## check-third-party: third_party/ is upstream plus its recorded patch, and its tests pass.
check-third-party:
	scripts/check-third-party

lint-template:
	@if command -v cfn-lint >/dev/null; then cfn-lint template.yaml && echo "cfn-lint: template.yaml ok"; \
	else echo "cfn-lint not installed: template lint skipped (pip install cfn-lint)"; fi

## bench: the Go benchmarks.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./functions/... ./internal/gateway/

## bench-peer: our JWT verification beside aws-jwt-verify (Node, installed into .tools/peer) on the same tokens and keys, with ratios.
bench-peer:
	@./scripts/bench-peer

## cold-start: each function's init and first response under the emulator, beside a Node aws-jwt-verify authorizer; binary sizes: make cold-start N=5
cold-start: tools build
	@./scripts/cold-start $(or $(N),5)

## conn-reuse: new TCP connections to the local AWS endpoints over N warm invocations (default 1000) of the cache invalidator, the validator and the token authorizer: make conn-reuse N=1000
conn-reuse: tools build
	@./scripts/conn-reuse $(or $(N),1000)

## load: CLIENTS clients for DURATION (default 50, 60s) through the local gateway with valid, invalid,
## revoked and unentitled tokens, two key rotations and a revocation; every answer judged (scripts/load, wrk).
load: tools build
	@./scripts/load

clean:
	rm -rf build .tools

# SAM: `sam build` runs build-<LogicalId> for each function with BuildMethod: makefile.
define lambda
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./$(1)
endef
build-TokenAuthorizerFunction:
	$(call lambda,functions/token-authorizer)
build-KeyRotatorFunction:
	$(call lambda,functions/key-rotator)
build-JwksFunction:
	$(call lambda,functions/jwks)
build-CacheInvalidatorFunction:
	$(call lambda,functions/cache-invalidator)
build-EchoBackendFunction:
	$(call lambda,examples/echo-backend)
build-RequestAuthorizerFunction:
	$(call lambda,functions/request-authorizer)
# The validator reads its rules at init from VALIDATION_RULES_FILE, a path relative to the
# working directory: /var/task (the artifact) in Lambda, the repository root under `make run`.
VALIDATOR_RULES := functions/validator/testdata/rules.json
build-ValidatorFunction:
	$(call lambda,functions/validator)
	mkdir -p $(ARTIFACTS_DIR)/$(dir $(VALIDATOR_RULES))
	cp $(VALIDATOR_RULES) $(ARTIFACTS_DIR)/$(VALIDATOR_RULES)
# The mutual-TLS route's backend (only with MtlsTruststoreUri): the demo backend again.
build-CertificateEchoFunction:
	$(call lambda,examples/echo-backend)
