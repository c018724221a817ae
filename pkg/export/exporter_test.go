package export_test

import (
	"bytes"
	"flag"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

const demo = "../../testdata/pcaps/demo-mix.pcapng"

// load reads the test policy and names.
func load(t *testing.T) (*policy.Policy, *identity.Map) {
	t.Helper()
	pol, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names, err := identity.Load("testdata/names.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return pol, names
}

// feed runs a capture through a flow table wired to e the way the agent wires it.
func feed(t *testing.T, path string, e *export.Exporter) flow.Stats {
	t.Helper()
	dec := capture.NewDecoder()
	f, err := capture.OpenFile(path, dec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table := flow.New(flow.Config{OnDecide: e.Decided}, e.Finished)
	var p flow.Packet
	for {
		err := f.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		table.Add(&p)
	}
	table.Flush()
	s := table.Stats()
	e.SetHealth(export.TableHealth(s))
	return s
}

func scrape(t *testing.T, cs ...prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range cs {
		reg.MustRegister(c)
	}
	var b bytes.Buffer
	if err := export.WriteMetrics(&b, reg, export.FormatText); err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b.Bytes(), []byte(`goversion="`+runtime.Version()+`"`), []byte(`goversion="GOVERSION"`))
}

// TestExportGoldenScrape exposes demo-mix.pcapng and compares with the committed
// scrape, which `make checkmetrics` lints with promtool. Refresh with -update.
func TestExportGoldenScrape(t *testing.T) {
	pol, names := load(t)
	e := export.New(export.Options{Policy: pol, Names: names, Version: "v0.0.0-test", Revision: "0000000"})
	s := feed(t, demo, e)
	if e.LiveFlows() != 0 {
		t.Errorf("%d flows still live after Flush", e.LiveFlows())
	}
	got := scrape(t, e)
	golden := filepath.Join("testdata", "demo-mix.prom")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("scrape differs from %s (run with -update after checking):\n%s", golden, got)
	}

	// Every flow counted once, every byte counted once.
	var flows, bytesTotal float64
	for _, m := range gather(t, e, "tlsaudit_flows_total") {
		flows += m
	}
	for _, m := range gather(t, e, "tlsaudit_flow_bytes_total") {
		bytesTotal += m
	}
	if flows != float64(s.Flows) {
		t.Errorf("tlsaudit_flows_total sums to %v, the table started %d flows", flows, s.Flows)
	}
	if want := wireBytes(t, demo); bytesTotal != float64(want) {
		t.Errorf("tlsaudit_flow_bytes_total sums to %v, the capture has %d IP bytes in TCP/UDP flows", bytesTotal, want)
	}
}

// gather returns the values of one family by label string.
func gather(t *testing.T, c prometheus.Collector, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out[strings.Join(ls, ",")] = v
		}
	}
	return out
}

// wireBytes sums the IP length of every TCP and UDP packet of a capture.
func wireBytes(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := capture.OpenFile(path, capture.NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n uint64
	var p flow.Packet
	for f.Next(&p) == nil {
		n += uint64(p.WireLen)
	}
	return n
}

func TestExportViolationsRespectPolicy(t *testing.T) {
	pol, names := load(t)
	e := export.New(export.Options{Policy: pol, Names: names})
	feed(t, demo, e)
	got := gather(t, e, "tlsaudit_violation_flows_total")
	want := map[string]float64{
		"dst_namespace=data,dst_port=6379,dst_service=cache,dst_workload=redis,kind=plaintext,src_namespace=shop,src_workload=api":      3,
		"dst_namespace=shop,dst_port=80,dst_service=api,dst_workload=api,kind=plaintext,src_namespace=shop,src_workload=batch":          3,
		"dst_namespace=legacy,dst_port=8443,dst_service=,dst_workload=mainframe-gw,kind=legacy_tls,src_namespace=shop,src_workload=api": 2,
	}
	if len(got) != len(want) {
		t.Errorf("violations %v, want %v (DNS to kube-system is exempt)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// TestExportNoAddressesInLabels checks STYLE §12: no label value is an address, and
// ends without a name are "unknown" (internal) or "external".
func TestExportNoAddressesInLabels(t *testing.T) {
	pol, names := load(t)
	e := export.New(export.Options{Policy: pol, Names: names})
	feed(t, demo, e)
	out := scrape(t, e)
	for _, m := range regexp.MustCompile(`="([^"]*)"`).FindAllSubmatch(out, -1) {
		if _, err := netip.ParseAddr(string(m[1])); err == nil {
			t.Errorf("label value %s is an address", m[1])
		}
		if strings.Contains(string(m[1]), ".internal") {
			t.Errorf("label value %s is an SNI", m[1])
		}
	}
	if !bytes.Contains(out, []byte(`src_namespace="",src_workload="unknown"`)) {
		t.Errorf("admin (10.77.0.13, not in the names file) is not exported as unknown:\n%s", out)
	}
	// Without names every internal end is unknown; an external one is external.
	e2 := export.New(export.Options{})
	e2.Decided(record("10.0.0.1:40000", "93.184.216.34:80", classify.ClassPlaintext, 0, 100))
	if got := gather(t, e2, "tlsaudit_flows_total"); len(got) != 1 || got["class=plaintext,dst_namespace=,dst_port=80,dst_service=,dst_workload=external,src_namespace=,src_workload=unknown,tls_version="] != 1 {
		t.Errorf("got %v", got)
	}
	if got := gather(t, e2, "tlsaudit_violation_flows_total"); len(got) != 0 {
		t.Errorf("a flow to an external server is a violation: %v", got)
	}
}

// record builds a flow record between two "ip:port" ends.
func record(client, server string, class classify.Class, version classify.Version, bytes uint64) *flow.Record {
	c, s := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
	r := &flow.Record{Proto: flow.TCP, Client: c, Server: s, BytesToServer: bytes,
		Verdict: classify.Verdict{Class: class, Version: version}}
	r.Key = flow.Key{A: c.Addr().As16(), B: s.Addr().As16(), PortA: c.Port(), PortB: s.Port(), Proto: flow.TCP}
	return r
}

// TestExportCountsOnce walks one flow through decide, kernel counters and finish.
func TestExportCountsOnce(t *testing.T) {
	e := export.New(export.Options{})
	r := record("10.0.0.1:40000", "10.0.0.2:6379", classify.ClassPlaintext, 0, 100)
	key := "class=plaintext,dst_namespace=,dst_port=6379,dst_service=,dst_workload=unknown,src_namespace=,src_workload=unknown,tls_version="
	e.Decided(r)
	check := func(step string, flows, bytes float64) {
		t.Helper()
		if got := gather(t, e, "tlsaudit_flows_total")[key]; got != flows {
			t.Errorf("%s: flows %v, want %v", step, got, flows)
		}
		if got := gather(t, e, "tlsaudit_flow_bytes_total")[key]; got != bytes {
			t.Errorf("%s: bytes %v, want %v", step, got, bytes)
		}
	}
	check("decided", 1, 100)
	e.FlowBytes(r.Key, 5000) // the kernel counted more
	check("kernel counters", 1, 5000)
	e.FlowBytes(r.Key, 4000) // never backwards
	check("older kernel counters", 1, 5000)
	r.BytesToServer, r.BytesToClient = 3000, 3000
	e.Finished(r)
	check("finished", 1, 6000)
	e.FlowBytes(r.Key, 9000) // finished flows are forgotten
	check("after finish", 1, 6000)
	// A flow the decide hook never saw is counted at its end.
	e.Finished(r)
	check("finish only", 2, 12000)
	if e.LiveFlows() != 0 {
		t.Errorf("%d live flows", e.LiveFlows())
	}
}

type fakeKernel map[flow.Key]uint64

func (k fakeKernel) FlowCounters(key flow.Key) (uint64, uint64, bool) {
	b, ok := k[key]
	return 1, b, ok
}

func TestExportRefreshBytes(t *testing.T) {
	e := export.New(export.Options{})
	r := record("10.0.0.1:40000", "10.0.0.2:443", classify.ClassTLS, classify.VersionTLS13, 700)
	e.Decided(r)
	e.RefreshBytes(fakeKernel{r.Key: 10000})
	if got := gather(t, e, "tlsaudit_flow_bytes_total"); len(got) != 1 || sum(got) != 10000 {
		t.Errorf("bytes %v, want 10000", got)
	}
}

func sum(m map[string]float64) (s float64) {
	for _, v := range m {
		s += v
	}
	return s
}

func TestExportSeriesCap(t *testing.T) {
	pol := policy.Default()
	pol.SeriesCap = 3
	e := export.New(export.Options{Policy: pol})
	for port := 1000; port < 1010; port++ {
		e.Decided(record("10.0.0.1:40000", netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(port)).String(),
			classify.ClassPlaintext, 0, 10))
	}
	got := gather(t, e, "tlsaudit_flows_total")
	if len(got) != 4 {
		t.Errorf("%d series, want the cap of 3 plus one folded: %v", len(got), got)
	}
	other := "class=plaintext,dst_namespace=,dst_port=,dst_service=,dst_workload=other,src_namespace=,src_workload=other,tls_version="
	if got[other] != 7 {
		t.Errorf("folded series %v, want 7", got[other])
	}
	if v := gather(t, e, "tlsaudit_series_overflow_total")[""]; v != 7 {
		t.Errorf("tlsaudit_series_overflow_total = %v, want 7", v)
	}
	if v := gather(t, e, "tlsaudit_violation_flows_total"); len(v) != 4 || sum(v) != 10 {
		t.Errorf("violation series %v", v)
	}
}

func TestExportReloadGauges(t *testing.T) {
	e := export.New(export.Options{})
	if len(gather(t, e, "tlsaudit_config_last_reload_successful")) != 0 {
		t.Error("reload gauge exported before any load")
	}
	e.SetReloadStatus(false, timeUnix(1700000000))
	if v := gather(t, e, "tlsaudit_config_last_reload_successful")[""]; v != 0 {
		t.Errorf("successful = %v", v)
	}
	if v := gather(t, e, "tlsaudit_config_last_reload_success_timestamp_seconds")[""]; v != 1700000000 {
		t.Errorf("timestamp = %v", v)
	}
}

// TestMetricsPassPromtool lints the golden scrapes and a live OpenMetrics exposition
// with the real promtool.
func TestMetricsPassPromtool(t *testing.T) {
	promtool := needBinary(t, "promtool")
	pol, names := load(t)
	e := export.New(export.Options{Policy: pol, Names: names, Version: "v1", Revision: "abc"})
	feed(t, demo, e)
	a := export.NewAlerter(pol, export.AlerterConfig{}, zerologNop())
	for _, in := range [][]byte{mustRead(t, "testdata/demo-mix.prom"), mustRead(t, "testdata/probe.prom"), scrape(t, e, a)} {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(in)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }

func zerologNop() zerolog.Logger { return zerolog.Nop() }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// needBinary returns the path of a program the test needs, or skips saying how to
// get it.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install prometheus prometheus-alertmanager; .ci/run does): %v", name, err)
	}
	return p
}

func TestExportOpenMetricsEOF(t *testing.T) {
	e := export.New(export.Options{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	var b bytes.Buffer
	if err := export.WriteMetrics(&b, reg, export.FormatOpenMetrics); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "# EOF\n") {
		t.Errorf("OpenMetrics output does not end in # EOF:\n%s", b.String())
	}
	problems, err := testutil.CollectAndLint(e)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
