# tlsaudit — every command a person or CI needs. `make run` and `make test` are the two
# that matter on a fresh machine; .ci/run installs the system packages first.

GO       ?= go
BIN      := bin/tlsaudit
DEMO     := testdata/pcaps/demo-mix.pcapng
FUZZTIME ?= 20s
PKGS     := ./...

.PHONY: all build run test bench bench-flood bench-live fuzz lint testdata generate clean

all: build

# bin/tlsaudit is the command line without the node agent (-tags noagent: no agent or
# client-go to initialise, so an offline analysis starts in half the memory);
# its `run` hands over to bin/tlsaudit-agent, the full build the container image ships.
build:
	$(GO) build -trimpath -tags noagent -o $(BIN) ./cmd/tlsaudit
	$(GO) build -trimpath -o $(BIN)-agent ./cmd/tlsaudit

# The main job: analyze the bundled capture and print the report; also write it as
# the HTML report bin/demo-report.html.
run: build
	./$(BIN) analyze --names testdata/pcaps/demo-names.yaml $(DEMO)
	./$(BIN) analyze --names testdata/pcaps/demo-names.yaml --format html --output bin/demo-report.html $(DEMO)
	@echo "HTML report: bin/demo-report.html"

test:
	$(GO) vet $(PKGS)
	$(GO) vet -tags noagent ./cmd/tlsaudit
	$(GO) test -count=1 -timeout 30m $(PKGS)

# Benchmarks: parsers, flow table, kernel program (root), and analyze over a generated
# multi-hundred-MB capture with the same file through tshark in the same run, for a
# ratio (TLSAUDIT_BENCH_MB sizes the capture, default 300); then bench-compare, the
# command line beside its peers (BENCHMARKS.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...
	$(GO) test -run '^$$' -bench 'BenchmarkAnalyze$$|BenchmarkTshark' -benchtime 2x -timeout 60m ./cmd/tlsaudit
	bash scripts/bench-compare.sh

# tlsaudit analyze beside ndpiReader, tshark, tcpdump -r and cat on one generated corpus,
# paired rounds; writes BENCHMARKS.md (needs time, libndpi-bin, tshark, tcpdump).
.PHONY: bench-compare
bench-compare:
	bash scripts/bench-compare.sh

# The same on a corpus of about 3 GB (2M packets; long-lived flows dominate): one
# worker against the peers where the file no longer fits the caches; BENCHMARKS-large.md.
.PHONY: bench-compare-large
bench-compare-large:
	bash scripts/bench-compare.sh -r 3 -s 300 -o BENCHMARKS-large.md

# Peak RSS (/usr/bin/time -v) of the built binary, `analyze` with default flags in every
# format, over generated floods: 1M SYN-only flows, 1M one-datagram UDP flows and 200k
# flows of 16 KiB random bytes without FIN (testdata/gen, about 3.6 GB, made once).
bench-flood:
	$(GO) test -run '^$$' -bench FloodRSS -benchtime 1x -timeout 60m ./cmd/tlsaudit

# Throughput cost of the live agent on real traffic (root, iperf3): alternating runs
# with and without each engine attached.
bench-live:
	$(GO) test -run '^$$' -bench AgentThroughputOverhead -benchtime 5x -timeout 30m ./cmd/tlsaudit

# Rebuild the eBPF object and its Go bindings with Debian's clang-14 (committed, so
# building never needs clang).
generate:
	$(GO) generate ./pkg/capture/

# Every fuzz target for FUZZTIME each; CI runs it for 10s each after the tests. Targets
# are found by their declarations, so no package is built just to list them. A failing
# input is written under the package's testdata/fuzz/ and fails the run; Go 1.26's bare
# "context deadline exceeded" at the end of -fuzztime is retried, not failed
# (scripts/fuzz.sh says why).
fuzz:
	GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

# Re-record the real-software captures in testdata/pcaps (root: network namespaces).
testdata:
	bash scripts/record-testdata.sh

clean:
	rm -rf bin

# tlsaudit against every reference of the corpus in ../shared/peer-corpus (or
# $TLSAUDIT_PEER_CORPUS); fails when agreement drops below the committed baseline.
# Regenerate docs/conformance.md and the baseline with:
#   go test -count=1 -run TestConformance -v ./internal/conformance/ -args -update
.PHONY: conformance
conformance:
	$(GO) test -count=1 -run TestConformance -v ./internal/conformance/

# Lint the committed golden scrape with promtool (Debian package prometheus). Refresh
# it with: go test ./pkg/export -run TestExportGoldenScrape -update
.PHONY: checkmetrics promtool-test
checkmetrics:
	promtool check metrics < pkg/export/testdata/demo-mix.prom
	promtool check metrics < pkg/export/testdata/probe.prom

# Check the alerting rules and run their promtool unit tests (deploy/prometheus/tests).
promtool-test:
	promtool check rules deploy/prometheus/tlsaudit-rules.yaml
	cd deploy/prometheus && promtool test rules tests/*.yaml

# Build the real etcd and kube-apiserver the Kubernetes identity tests run against,
# once, into /var/cache/tlsaudit (TLSAUDIT_KUBE_BIN); .ci/run does this before `make test`.
.PHONY: kube-control-plane
kube-control-plane:
	bash scripts/kube-control-plane.sh

# Regenerate the Grafana dashboard deploy/grafana/tlsaudit-dashboard.json from internal/dashboard.
.PHONY: dashboard
dashboard:
	$(GO) test ./internal/dashboard -run TestDashboardCurrent -update

# Build helm (helm.sh/helm/v4 v4.3.2) once into /var/cache/tlsaudit; the chart's tests
# and `make manifests` use it.
.PHONY: helm manifests image
helm:
	@bash scripts/helm.sh

# Copy the Prometheus rules and the dashboard into the chart and render the chart into
# deploy/kubernetes; deploy's tests fail when these are not current.
manifests:
	cp deploy/prometheus/tlsaudit-rules.yaml deploy/helm/tlsaudit/files/tlsaudit-rules.yaml
	cp deploy/grafana/tlsaudit-dashboard.json deploy/helm/tlsaudit/files/tlsaudit-dashboard.json
	bash scripts/render-manifests.sh deploy/kubernetes

# The container image (needs docker or podman; IMAGE names it).
IMAGE ?= ghcr.io/tlsaudit/tlsaudit:dev
image:
	docker build -t $(IMAGE) .
