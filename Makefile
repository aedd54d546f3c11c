# Sotto — one Makefile for the whole suite. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Pinned tool versions; installed into ./bin by `make tools`.
BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION       := v2.33.0
STATICCHECK_VERSION        := v0.8.2
# govulncheck, and the Go vulnerability database snapshot it reads offline (make vulncheck).
VULN_VERSION               := v1.9.0
VULNDB_VERSION             := v0.0.0-20261105234957-e22db6528018
# CycloneDX SBOM generator for the service binaries (make sbom).
CYCLONEDX_GOMOD_VERSION    := v1.10.0
# Versions of the Go modules that ship the third-party .proto files we import.
GOOGLEAPIS_MODULE          := github.com/grpc-ecosystem/grpc-gateway@v1.16.0
PROTOVALIDATE_MODULE       := github.com/bufbuild/protovalidate@v1.2.2
# The OpenAPI options (openapiv2_swagger) come with the pinned protoc-gen-openapiv2.
GRPC_GATEWAY_MODULE        := github.com/grpc-ecosystem/grpc-gateway/v2@$(GRPC_GATEWAY_VERSION)

ROOT    := $(shell pwd)
BIN     := $(ROOT)/bin
CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sotto
export SOTTO_CACHE := $(CACHE)
export PATH := $(BIN):$(PATH)
# The Go toolchain every target builds with (ADR 0008): go1.26.8's standard
# library has reachable vulnerabilities fixed in go1.27.3 (make vulncheck).
# The go command fetches it from the module proxy on first use (~76 MB).
GO_TOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN := $(GO_TOOLCHAIN)

# Modules come from go.work and services from services/*, so adding a service
# (its module + its entry in pkg/suite/services.yaml) needs no edit here.
MODULES  := $(shell go list -m -f '{{.Dir}}' 2>/dev/null | sed 's|^$(ROOT)/||')
SERVICES := $(notdir $(wildcard services/*))

BUF := $(BIN)/buf
PLUGINS := $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/protoc-gen-grpc-gateway $(BIN)/protoc-gen-openapiv2

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

## ---- tools ---------------------------------------------------------------

$(BIN)/.buf-$(BUF_VERSION):
	GOBIN=$(BIN) GOWORK=off go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	touch $@
$(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	GOBIN=$(BIN) GOWORK=off go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	touch $@
$(BIN)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION):
	GOBIN=$(BIN) GOWORK=off go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	touch $@
$(BIN)/.grpc-gateway-$(GRPC_GATEWAY_VERSION):
	GOBIN=$(BIN) GOWORK=off go install \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION) \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	touch $@
$(BIN)/.staticcheck-$(STATICCHECK_VERSION)-$(GO_TOOLCHAIN):
	GOBIN=$(BIN) GOWORK=off go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	touch $@

TOOL_STAMPS := $(BIN)/.buf-$(BUF_VERSION) $(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
	$(BIN)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION) $(BIN)/.grpc-gateway-$(GRPC_GATEWAY_VERSION) \
	$(BIN)/.staticcheck-$(STATICCHECK_VERSION)-$(GO_TOOLCHAIN)

.PHONY: tools
tools: $(TOOL_STAMPS) ## install pinned buf, protoc plugins and staticcheck into ./bin

.PHONY: vulncheck
vulncheck: ## fail on a reachable known vulnerability (govulncheck, offline database from golang.org/x/vulndb)
	@VULN_VERSION=$(VULN_VERSION) VULNDB_VERSION=$(VULNDB_VERSION) bash scripts/vulncheck.sh

.PHONY: vault
vault: ## build (once, cached by version) the Vault server used by tests
	@bash scripts/build-vault.sh

## ---- protos ------------------------------------------------------------------

# buf cannot reach the Buf Schema Registry here, so the imported .proto files
# come from the Go modules that ship them, copied into a git-ignored dir.
.PHONY: protodeps
protodeps:
	@rm -rf third_party/proto && mkdir -p third_party/proto/googleapis third_party/proto/protovalidate \
		third_party/proto/grpc-gateway/protoc-gen-openapiv2/options
	@d=$$(GOWORK=off GOFLAGS=-mod=mod go mod download -json $(GOOGLEAPIS_MODULE) | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
		cp -r $$d/third_party/googleapis/google third_party/proto/googleapis/
	@d=$$(GOWORK=off GOFLAGS=-mod=mod go mod download -json $(PROTOVALIDATE_MODULE) | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
		cp -r $$d/proto/protovalidate/buf third_party/proto/protovalidate/
	@d=$$(GOWORK=off GOFLAGS=-mod=mod go mod download -json $(GRPC_GATEWAY_MODULE) | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
		cp $$d/protoc-gen-openapiv2/options/*.proto third_party/proto/grpc-gateway/protoc-gen-openapiv2/options/
	@chmod -R u+w third_party/proto

.PHONY: generate
generate: $(TOOL_STAMPS) protodeps ## regenerate gen/ from proto/
	rm -rf gen/go gen/openapi
	$(BUF) generate --template buf.gen.yaml --path proto/sotto
	cd gen && GOWORK=off go mod tidy >/dev/null

.PHONY: web
web: ## bundle web/src into the gateway's embedded assets (esbuild, pinned in web/package-lock.json)
	cd web && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

.PHONY: check-web
check-web: web ## fail when the committed web bundle is stale
	@git add -N services/gateway/internal/web/static >/dev/null 2>&1 || true
	@if ! git diff --quiet -- services/gateway/internal/web/static; then git --no-pager diff --stat -- services/gateway/internal/web/static; echo "the web bundle is stale: run make web and commit" >&2; exit 1; fi

.PHONY: check-generated
check-generated: generate check-web ## fail when gen/ or the web bundle is stale
	@git add -N gen >/dev/null 2>&1 || true
	@if ! git diff --quiet -- gen; then git --no-pager diff --stat -- gen; echo "gen/ is stale: run make generate and commit" >&2; exit 1; fi

BREAKING_AGAINST ?= main
.PHONY: breaking
breaking: $(TOOL_STAMPS) protodeps ## buf breaking-change check of the working tree against BREAKING_AGAINST (default main)
	@if ! git cat-file -e $(BREAKING_AGAINST):proto 2>/dev/null; then echo "no proto at $(BREAKING_AGAINST): nothing to compare"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	git archive $(BREAKING_AGAINST) buf.yaml proto | tar -x -C "$$tmp"; \
	cp -r third_party "$$tmp/"; \
	(cd "$$tmp" && $(BUF) build --path proto/sotto -o against.binpb); \
	$(BUF) build --path proto/sotto -o "$$tmp/current.binpb"; \
	$(BUF) breaking "$$tmp/current.binpb" --against "$$tmp/against.binpb" --exclude-imports && echo "no breaking changes against $(BREAKING_AGAINST)"

.PHONY: lint
lint: $(TOOL_STAMPS) protodeps ## buf lint, gofmt, go vet, staticcheck
	$(BUF) lint --path proto/sotto
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	for m in $(MODULES); do (cd $$m && go vet ./...); done
	for m in $(filter-out gen,$(MODULES)); do (cd $$m && $(BIN)/staticcheck ./...); done

.PHONY: check-modules
check-modules: ## every module builds alone (GOWORK=off, offline, the workspace's versions; also in make test)
	cd deploy && go test -count=1 -run TestModulesBuildAlone .

## ---- build, run, test ----------------------------------------------------------

.PHONY: build
build: ## build every binary into ./bin
	for s in $(SERVICES); do (cd services/$$s && go build -o $(BIN)/$$s ./cmd/$$s); done
	cd cmd/sotto && go build -o $(BIN)/sotto .

.PHONY: run
run: build ## run the whole suite locally (sotto dev up); Ctrl-C stops it
	$(BIN)/sotto dev up --bin $(BIN)

GOTEST_FLAGS ?= -count=1 -shuffle=on
ifeq ($(CI),true)
GOTEST_FLAGS += -race
endif

.PHONY: test
test: build ## run every test (needs PostgreSQL; builds Vault on first use)
	SOTTO_VAULT_BIN=$$(bash scripts/build-vault.sh) SOTTO_BIN_DIR=$(BIN) \
		go test $(GOTEST_FLAGS) -timeout 20m $(addsuffix /...,$(addprefix ./,$(filter-out gen,$(MODULES))))

.PHONY: bench
bench: build ## benchmarks; tables go to bin/bench-tokenvault.md and bin/bench-chat.md (docs/benchmarks.md records runs)
	SOTTO_VAULT_BIN=$$(bash scripts/build-vault.sh) SOTTO_BIN_DIR=$(BIN) \
		go test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./pkg/... $(addsuffix /...,$(addprefix ./services/,$(SERVICES)))
	SOTTO_VAULT_BIN=$$(bash scripts/build-vault.sh) SOTTO_BIN_DIR=$(BIN) SOTTO_BENCH=1 SOTTO_BENCH_OUT=$(BIN)/bench-tokenvault.md \
		go test -run TestTokenvaultVersusTransit -v -count=1 -timeout 30m ./test/bench/
	SOTTO_BIN_DIR=$(BIN) SOTTO_BENCH=1 SOTTO_BENCH_OUT_CHAT=$(BIN)/bench-chat.md \
		go test -run TestChatLoad -v -count=1 -timeout 30m ./test/bench/

SOAK_DURATION ?= 10m
.PHONY: soak
soak: build ## the chat path at a steady rate for SOAK_DURATION, failing if a service's memory grows (not in make test)
	SOTTO_BIN_DIR=$(BIN) SOTTO_SOAK=1 SOTTO_SOAK_DURATION=$(SOAK_DURATION) SOTTO_SOAK_OUT=$(BIN)/soak-chat.txt \
		go test -run TestChatSoak -v -count=1 -timeout 60m ./test/bench/

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (their seeds also run in make test)
	cd pkg && go test ./server/ -run '^$$' -fuzz FuzzRequestDecoding -fuzztime $(FUZZTIME)
	cd pkg && go test ./pagetoken/ -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	cd services/tokenvault && go test ./internal/ff1/ -run '^$$' -fuzz FuzzFF1RoundTrip -fuzztime $(FUZZTIME)
	cd services/tokenvault && go test ./internal/ff1/ -run '^$$' -fuzz FuzzFF1Decode -fuzztime $(FUZZTIME)
	cd services/tokenvault && go test ./internal/tokens/ -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	cd services/tokenvault && go test ./internal/tokens/ -run '^$$' -fuzz FuzzNormalize -fuzztime $(FUZZTIME)

## ---- images and SBOMs (deploy/docker, deploy/k8s) ---------------------------

# A docker-compatible CLI whose daemon answers; images are built only where
# one exists and never in make test (deploy/'s tests parse the Dockerfile).
CONTAINER_TOOL ?= $(shell for c in docker podman; do command -v $$c >/dev/null && $$c info >/dev/null 2>&1 && { echo $$c; break; }; done)
IMAGE_TAG      ?= dev

.PHONY: images
images: ## build sotto/<service>:IMAGE_TAG (default dev) for every service from deploy/docker/Dockerfile (needs docker or podman)
	@if [[ -z "$(CONTAINER_TOOL)" ]]; then echo "images: no working docker or podman here; skipped (deploy/'s tests still check the Dockerfile)"; exit 0; fi; \
	for s in $(SERVICES); do \
		$(CONTAINER_TOOL) build -f deploy/docker/Dockerfile --build-arg SERVICE=$$s --build-arg GO_TOOLCHAIN=$(GO_TOOLCHAIN) \
			-t sotto/$$s:$(IMAGE_TAG) . ; \
	done

$(BIN)/.cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION):
	GOBIN=$(BIN) GOWORK=off go install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION)
	touch $@

# In the workspace, as make build and the images build the binaries: the same
# module versions.
.PHONY: sbom
sbom: $(BIN)/.cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION) ## one CycloneDX SBOM per service binary into bin/sbom/<service>.cdx.json
	@mkdir -p $(BIN)/sbom
	for s in $(SERVICES); do \
		(cd services/$$s && CGO_ENABLED=0 $(BIN)/cyclonedx-gomod app -json -licenses=false -std \
			-main cmd/$$s -output $(BIN)/sbom/$$s.cdx.json .); \
	done

.PHONY: clean
clean: ## remove build outputs (keeps cached tools)
	rm -f $(addprefix $(BIN)/,$(SERVICES) sotto)
