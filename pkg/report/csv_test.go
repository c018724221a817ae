package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

func TestCSVSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"api.internal", "api.internal"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=b", "a=b"},
		{"2026-11-01T12:00:00Z", "2026-11-01T12:00:00Z"},
	} {
		if got := CSVSafe(tc.in); got != tc.want {
			t.Errorf("CSVSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCSVDefusesFormulas writes flows whose capture-controlled fields (SNI, ALPN) are
// formulas and checks that every such cell is written as text.
func TestCSVDefusesFormulas(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", classify.Verdict{
		Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "=1+1", ALPN: []string{"@h2", "x"},
	}))
	var out bytes.Buffer
	if err := Write(&out, b.Build(nil, 1, nil, nil), "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want header and one flow", len(rows))
	}
	col := func(name string) string { return rows[1][slices.Index(rows[0], name)] }
	if got := col("sni"); got != "'=1+1" {
		t.Errorf("sni cell %q, want '=1+1", got)
	}
	if got := col("alpn"); got != "'@h2,x" {
		t.Errorf("alpn cell %q, want '@h2,x", got)
	}
	if got := col("client"); got != "10.0.0.1:40000" {
		t.Errorf("client cell %q changed", got)
	}
}
