package report

import (
	"maps"
	"slices"
	"testing"
)

func TestFromCounters(t *testing.T) {
	rows := []CounterRow{
		{Client: "shop/web", Server: "shop/api", Port: 443, Internal: true, Class: "tls", TLSVersion: "TLS1.3", Flows: 3, Bytes: 3000},
		{Client: "shop/web", Server: "shop/api", Port: 443, Internal: true, Class: "plaintext", Flows: 1, Bytes: 100},
		{Client: "shop/web", Server: "external", Port: 443, Class: "tls", TLSVersion: "TLS1.2", Flows: 2, Bytes: 500},
		{Client: "a/b", Server: "c/d", Port: 1, Internal: true, Class: "tls", TLSVersion: "TLS1.3"}, // no growth in the window
	}
	viol := []ViolationRow{
		{Kind: "plaintext", Client: "shop/web", Server: "shop/api", Port: 443, Flows: 1},
		// Violations counted where the class counters saw nothing in the window.
		{Kind: "legacy_tls", Client: "shop/api", Server: "legacy/billing", Port: 8443, Flows: 2},
		{Kind: "plaintext", Client: "x/y", Server: "z/w", Port: 80},
	}
	a, s := FromCounters("prometheus", rows, viol, "TLS1.2")
	got := map[string]Pair{}
	for _, p := range a.Pairs {
		got[p.Client+" "+p.Server] = p
	}
	if len(a.Pairs) != 3 {
		t.Fatalf("%d pairs, want 3: %+v", len(a.Pairs), a.Pairs)
	}
	if p := got["shop/web shop/api"]; p.Class != "plaintext" || p.Flows != 4 || p.Bytes != 3100 || !slices.Equal(p.Violations, []string{"plaintext"}) ||
		!maps.Equal(p.Classes.Map(), map[string]int{"tls": 3, "plaintext": 1}) || !maps.Equal(p.Versions.Map(), map[string]int{"TLS1.3": 3}) {
		t.Errorf("web -> api: %+v", p)
	}
	if p := got["shop/api legacy/billing"]; p.Class != "tls" || !slices.Equal(p.Violations, []string{"legacy_tls"}) {
		t.Errorf("a pair seen only in violations: %+v", p)
	}
	if p := got["shop/web external"]; p.Internal || p.Class != "tls" {
		t.Errorf("external pair: %+v", p)
	}
	if a.Pairs[0].Class != "plaintext" || a.Summary.Flows != 6 || a.Summary.InternalFlows != 4 || a.Summary.Pairs != 3 ||
		!maps.Equal(a.Summary.Violations, map[string]int{"plaintext": 1, "legacy_tls": 1}) {
		t.Errorf("summary %+v", a.Summary)
	}
	if s.internal.Bytes["TLS1.3"] != 3000 || s.internal.Bytes["plaintext"] != 100 || s.internal.Bytes["TLS1.2"] != 0 {
		t.Errorf("internal bytes %v", s.internal.Bytes)
	}
}
