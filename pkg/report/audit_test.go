package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

func rec(client, server string, v classify.Verdict) *flow.Record {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return &flow.Record{
		Proto: flow.TCP, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		FirstSeen: t0, LastSeen: t0.Add(time.Second), PacketsToServer: 5, PacketsToClient: 4,
		BytesToServer: 500, BytesToClient: 400, Verdict: v,
	}
}

func TestBuildPairsAndViolations(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	tls13 := classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "api.internal"}
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", tls13))
	b.Add(rec("10.0.0.1:40001", "10.0.0.2:443", tls13))
	// One plaintext flow makes the whole pair plaintext.
	b.Add(rec("10.0.0.1:40002", "10.0.0.2:443", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}))
	b.Add(rec("10.0.0.1:40003", "10.0.0.3:8443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS10}))
	b.Add(rec("10.0.0.1:40004", "10.0.0.4:5432", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, App: classify.AppPostgreSQL, StartTLS: true}))
	// External server: plaintext, but not internal, so no violation.
	b.Add(rec("10.0.0.1:40005", "93.184.216.34:80", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}))
	b.Add(rec("10.0.0.1:40006", "10.0.0.5:9000", classify.Verdict{Reason: classify.ReasonBinary}))
	a := b.Build([]string{"x.pcap"}, 63, nil, nil)

	if a.Summary.Flows != 7 || a.Summary.Pairs != 5 || a.Summary.InternalFlows != 6 {
		t.Errorf("summary %+v", a.Summary)
	}
	if a.Summary.UnknownReasons[classify.ReasonBinary] != 1 {
		t.Errorf("unknown reasons %v", a.Summary.UnknownReasons)
	}
	if p := a.Pairs[0]; p.Class != "plaintext" || p.Flows != 3 || p.Classes.Get("tls") != 2 || !p.Internal {
		t.Errorf("worst pair first: %+v", p)
	}
	kinds := map[string]string{}
	for _, v := range a.Violations {
		kinds[v.Server+":"+portString(v.Port)] = v.Kind
	}
	want := map[string]string{"10.0.0.2:443": "plaintext", "10.0.0.3:8443": "legacy_tls"}
	if len(kinds) != len(want) {
		t.Errorf("violations %v, want %v", kinds, want)
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("violation at %s = %q, want %q", k, kinds[k], v)
		}
	}
	if !a.HasViolation(policy.KindLegacyTLS) || a.HasViolation("nope") {
		t.Error("HasViolation")
	}
}

func portString(p uint16) string {
	return strings.TrimPrefix(netip.AddrPortFrom(netip.IPv4Unspecified(), p).String(), "0.0.0.0:")
}

func TestWriteFormats(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:6379", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppRedis}))
	a := b.Build([]string{"x.pcap"}, 9, map[string]uint64{"flows_evicted": 2}, []string{"x.pcap: offset 99: truncated record"})

	var js bytes.Buffer
	if err := Write(&js, a, "json"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"summary", "flows", "pairs", "violations"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("json lacks %q", k)
		}
	}
	var tbl bytes.Buffer
	if err := Write(&tbl, a, "table"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"plaintext", "redis", "10.0.0.2", "flows_evicted 2", "offset 99"} {
		if !strings.Contains(tbl.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, tbl.String())
		}
	}
	if err := Write(&tbl, a, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestExemptionsWaiveViolations(t *testing.T) {
	pol := policy.Default()
	pol.Exemptions = []policy.Exemption{
		{Reason: "redis sidecar on loopback-only network", Scope: policy.Scope{ServerCIDR: netip.MustParsePrefix("10.0.0.2/32"), ServerPort: 6379}},
		{Reason: "expired", Scope: policy.Scope{ServerPort: 80}, Expires: time.Now().Add(-time.Hour)},
	}
	b := NewBuilder(pol, nil)
	plain := classify.Verdict{Class: classify.ClassPlaintext}
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:6379", plain))
	b.Add(rec("10.0.0.1:40001", "10.0.0.3:6379", plain))
	b.Add(rec("10.0.0.1:40002", "10.0.0.2:80", plain))
	a := b.Build(nil, 0, nil, nil)
	got := map[string]string{}
	for _, f := range a.Flows {
		got[f.Server] = f.Violation + "|" + f.Exempt
	}
	want := map[string]string{
		"10.0.0.2:6379": "|redis sidecar on loopback-only network",
		"10.0.0.3:6379": "plaintext|",
		"10.0.0.2:80":   "plaintext|",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: violation|exempt = %q, want %q", k, got[k], v)
		}
	}
	if len(a.Violations) != 2 {
		t.Errorf("%d violations, want 2", len(a.Violations))
	}
}

// TestBoundedUnderFlood: a flood of flows from distinct sources must not grow the
// audit past its limits; everything is still counted.
func TestBoundedUnderFlood(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	b.FlowLimit, b.PairLimit = 10, 5
	for i := range 1000 {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
		b.Add(rec(client.String(), "10.0.0.2:80", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}))
	}
	a := b.Build(nil, 0, nil, nil)
	if len(a.Flows) != 10 || a.Summary.FlowsOmitted != 990 || a.Summary.Flows != 1000 {
		t.Errorf("flows listed %d omitted %d counted %d", len(a.Flows), a.Summary.FlowsOmitted, a.Summary.Flows)
	}
	if len(a.Pairs) != 6 || a.Summary.FlowsFolded != 995 {
		t.Errorf("%d pairs, %d folded; want 5 + (other), 995", len(a.Pairs), a.Summary.FlowsFolded)
	}
	// The people's formats say what the bounds left out.
	for format, want := range map[string][]string{
		"table":    {"limits hit: flows_evicted 7", `995 flows aggregated as "(other)"`},
		"markdown": {"Limits hit: flows_evicted 7.", "995 flows aggregated as `(other)`."},
	} {
		var out bytes.Buffer
		a.Summary.Limits = map[string]uint64{"flows_evicted": 7}
		if err := Write(&out, a, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s lacks %q:\n%s", format, w, out.String())
			}
		}
	}
	var violating int
	for _, v := range a.Violations {
		violating += v.Flows
	}
	if violating != 1000 {
		t.Errorf("violations cover %d flows, want all 1000", violating)
	}
}

// TestMarkdownEscapes: names and SNIs come from captures and names files; they must
// not break the Markdown table or inject HTML.
func TestMarkdownEscapes(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: "a|b<script>.internal"}))
	var out bytes.Buffer
	if err := Write(&out, b.Build([]string{"x.pcap"}, 1, nil, nil), "markdown"); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	if strings.Contains(md, "<script>") || !strings.Contains(md, `a\|b&lt;script&gt;.internal`) {
		t.Errorf("SNI not escaped:\n%s", md)
	}
	for _, s := range []string{"### Violations", "### Service pairs", "| 10.0.0.1 | 10.0.0.2 | 443 | tcp | tls | TLS1.2 |"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
}

// TestHostOf: the pair's address cut from a flow's "ip:port" is what Addr().String()
// spells, for every kind of address.
func TestHostOf(t *testing.T) {
	for _, s := range []string{"10.0.0.1:443", "[2001:db8::1]:8443", "[fe80::1%eth0]:22", "[::ffff:10.0.0.1]:80", "0.0.0.0:0", "[::]:1"} {
		ap := netip.MustParseAddrPort(s)
		if got, want := hostOf(ap.String(), ap), ap.Addr().String(); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", s, got, want)
		}
	}
	if got := hostOf("", netip.AddrPort{}); got != (netip.Addr{}).String() {
		t.Errorf("hostOf of an invalid address = %q", got)
	}
}
