# tlsaudit — every command a person or CI needs. `make run` and `make test` are the two
# that matter on a fresh machine; .ci/run installs the system packages first.

GO       ?= go
BIN      := bin/tlsaudit
DEMO     := testdata/pcaps/demo-mix.pcapng
FUZZTIME ?= 20s
PKGS     := ./...

.PHONY: all build run test bench fuzz lint testdata clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/tlsaudit

# The main job: analyze the bundled capture and print the report.
run: build
	./$(BIN) analyze $(DEMO)

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 30m $(PKGS)

# Benchmarks, including analyze over a generated multi-hundred-MB capture and the
# same file through tshark for a ratio (see README).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)

# Every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

# Re-record the real-software captures in testdata/pcaps (root: network namespaces).
testdata:
	bash scripts/record-testdata.sh

clean:
	rm -rf bin
