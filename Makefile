# monoflake: the two commands that matter are `make run` and `make test`.
# Everything a fresh Debian machine lacks is installed by tools/install-deps.

GO        ?= go
BIN       := bin/monoflake
GRAMMAR   := analysis/syntax/nixgrammar/src/tree_sitter/api.h
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -X main.version=$(VERSION)
# Go packages of the project: ./... would also reach Go files that npm
# packages ship inside editors/vscode/node_modules.
GOPKGS     = $$($(GO) list ./... | grep -v /node_modules/)

.PHONY: all build run test test-go test-editors deps grammar bench lint clean vsix corpus

all: build

# The Nix grammar's C sources are fetched through the Go module proxy, checked
# against a pinned module hash, and kept out of git (see tools/fetchgrammar).
grammar: $(GRAMMAR)
$(GRAMMAR):
	$(GO) run ./tools/fetchgrammar

build: $(GRAMMAR)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/monoflake

# Show what monoflake finds in the bundled monorepo and, with nix, one
# component's devShell from scoped evaluation.
run: build
	@tools/demo $(BIN)

# Installs nix, direnv, neovim and node when missing (needs root and apt).
deps:
	tools/install-deps

test: deps $(GRAMMAR)
	$(MAKE) lint
	$(MAKE) test-go
	$(MAKE) corpus
	$(MAKE) test-editors

# The model measured on real monorepos (../shared/corpus, when present):
# any error not known to be real, or a score below its target, fails.
CORPUS ?= ../shared/corpus
corpus: $(GRAMMAR)
	@if [ ! -f $(CORPUS)/training.tar.xz ]; then echo "corpus: $(CORPUS)/training.tar.xz is absent; skipping the corpus measure"; exit 0; fi; \
	dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && tar -xJf $(CORPUS)/training.tar.xz -C "$$dir" && \
	$(GO) run ./tools/corpus --dir "$$dir" --expect $(CORPUS)

lint: $(GRAMMAR)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GOPKGS)

# The real flake-parts and nixpkgs lib (../shared/nixlibs, when present):
# tests and benchmarks that need them skip, saying so, without them.
NIXLIBS ?= ../shared/nixlibs
export MONOFLAKE_NIXLIBS = $(abspath $(NIXLIBS))

test-go: $(GRAMMAR)
	$(GO) test -race -count=1 -timeout 20m $(GOPKGS)

test-editors: build
	@for t in editors/*/test.sh; do [ -x "$$t" ] || continue; echo "== $$t"; "$$t" || exit 1; done

# The VS Code extension, packaged: editors/vscode/monoflake.vsix (node 20+).
vsix:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent package

# Most benchmarks take their own samples and compare with a baseline of the
# same run; the server's latency benchmarks take one sample per iteration.
bench: $(GRAMMAR)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m $$($(GO) list ./... | grep -v -e /node_modules/ -e /lsp$$)
	$(GO) test -run '^$$' -bench 'Navigation|WorkspaceSymbol|DidChange' -benchtime 300x -timeout 30m ./lsp
	$(GO) test -run '^$$' -bench 'FirstDiagnostics' -benchtime 3x -timeout 30m ./lsp

clean:
	rm -rf bin editors/vscode/monoflake.vsix
