package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// pair is a service pair from 10.0.0.1 to server:port with the class, TLS versions and
// violation kinds given.
func pair(server string, port uint16, class string, versions []string, violations ...string) Pair {
	p := Pair{Transport: "tcp", Client: "10.0.0.1", Server: server, Port: port, Class: class,
		Classes: Counts{{Name: class, N: 1}}, Violations: violations, Flows: 1}
	for _, v := range versions {
		p.Versions.Add(v, 1)
	}
	if p.Violations == nil {
		p.Violations = []string{}
	}
	return p
}

func TestCompare(t *testing.T) {
	tls := func(v ...string) Pair { return pair("10.0.0.2", 443, "tls", v) }
	tests := []struct {
		name        string
		old, new    []Pair
		section     string // where the pair lands: worse, improved, new, vanished, or unchanged
		changes     []string
		violation   bool
		failed      bool
		wantVersion string
	}{
		{name: "unchanged, flows and versions above the weakest may differ",
			old: []Pair{tls("TLS1.2")}, new: []Pair{tls("TLS1.2", "TLS1.3")}, section: "unchanged"},
		{name: "became plaintext",
			old: []Pair{tls("TLS1.3")}, new: []Pair{pair("10.0.0.2", 443, "plaintext", nil, "plaintext")},
			section: "worse", changes: []string{"class tls -> plaintext", "violation +plaintext"}, violation: true, failed: true},
		{name: "weakest TLS version lower",
			old: []Pair{tls("TLS1.3")}, new: []Pair{tls("TLS1.3", "TLS1.2")},
			section: "worse", changes: []string{"tls TLS1.3 -> TLS1.2"}, failed: true},
		{name: "DTLS 1.0 is weaker than TLS 1.2",
			old: []Pair{tls("TLS1.2")}, new: []Pair{tls("DTLS1.0")},
			section: "worse", changes: []string{"tls TLS1.2 -> DTLS1.0"}, failed: true},
		{name: "gained a violation kind, as under a higher minimum",
			old: []Pair{tls("TLS1.2")}, new: []Pair{pair("10.0.0.2", 443, "tls", []string{"TLS1.2"}, "legacy_tls")},
			section: "worse", changes: []string{"violation +legacy_tls"}, violation: true, failed: true},
		{name: "worse wins over better on one pair",
			old: []Pair{tls("TLS1.2")}, new: []Pair{pair("10.0.0.2", 443, "plaintext", []string{"TLS1.3"}, "plaintext")},
			section: "worse", changes: []string{"class tls -> plaintext", "violation +plaintext", "tls TLS1.2 -> TLS1.3"}, violation: true, failed: true},
		{name: "became TLS",
			old: []Pair{pair("10.0.0.2", 443, "plaintext", nil, "plaintext")}, new: []Pair{tls("TLS1.3")},
			section: "improved", changes: []string{"class plaintext -> tls", "violation -plaintext"}},
		{name: "weakest TLS version higher",
			old: []Pair{tls("TLS1.0", "TLS1.3")}, new: []Pair{tls("TLS1.3")},
			section: "improved", changes: []string{"tls TLS1.0 -> TLS1.3"}},
		{name: "new pair within the policy",
			new: []Pair{tls("TLS1.3")}, section: "new"},
		{name: "new pair in violation",
			new: []Pair{pair("10.0.0.2", 6379, "plaintext", nil, "plaintext")}, section: "new", violation: true, failed: true},
		{name: "vanished, even in violation, does not fail",
			old: []Pair{pair("10.0.0.2", 6379, "plaintext", nil, "plaintext")}, section: "vanished"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(&Audit{Pairs: tt.old}, &Audit{Pairs: tt.new})
			sections := map[string][]PairChange{"worse": d.Worse, "improved": d.Improved, "new": d.Added, "vanished": d.Vanished}
			total := d.Unchanged
			for _, s := range sections {
				total += len(s)
			}
			if total != 1 {
				t.Fatalf("want one pair in the diff, got %+v", d)
			}
			if tt.section == "unchanged" {
				if d.Unchanged != 1 {
					t.Fatalf("want unchanged, got %+v", d)
				}
			} else {
				s := sections[tt.section]
				if len(s) != 1 {
					t.Fatalf("want the pair in %s, got %+v", tt.section, d)
				}
				c := s[0]
				if want := cmpOr(tt.changes); !slices.Equal(c.Changes, want) {
					t.Errorf("changes %q, want %q", c.Changes, want)
				}
				if c.Violation != tt.violation {
					t.Errorf("violation %v, want %v", c.Violation, tt.violation)
				}
				if (c.Old == nil) != (tt.section == "new") || (c.New == nil) != (tt.section == "vanished") {
					t.Errorf("old %v, new %v in section %s", c.Old, c.New, tt.section)
				}
			}
			if d.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", d.Failed(), tt.failed)
			}
		})
	}
}

func cmpOr(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestComparePairKey checks that pairs match by the key the builder aggregates by:
// another port is another pair, and each section is sorted by that key.
func TestComparePairKey(t *testing.T) {
	d := Compare(&Audit{Pairs: []Pair{pair("10.0.0.2", 443, "tls", nil)}}, &Audit{Pairs: []Pair{
		pair("10.0.0.3", 80, "tls", nil), pair("10.0.0.2", 8443, "tls", nil), pair("10.0.0.2", 80, "tls", nil),
	}})
	var got []string
	for _, c := range d.Added {
		got = append(got, fmt.Sprintf("%s:%d", c.Server, c.Port))
	}
	if want := []string{"10.0.0.2:80", "10.0.0.2:8443", "10.0.0.3:80"}; !slices.Equal(got, want) {
		t.Errorf("new %q, want %q", got, want)
	}
	if len(d.Vanished) != 1 || d.Vanished[0].Port != 443 || d.Unchanged != 0 {
		t.Errorf("vanished %+v, unchanged %d", d.Vanished, d.Unchanged)
	}
}

func TestDecode(t *testing.T) {
	a := &Audit{Summary: Summary{Files: []string{"x.pcap"}}, Flows: []Flow{}, Pairs: []Pair{pair("10.0.0.2", 443, "tls", []string{"TLS1.3"})}, Violations: []Violation{}}
	var buf bytes.Buffer
	if err := Write(&buf, a, "json"); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Decode of Write's json: %v", err)
	}
	if len(got.Pairs) != 1 || got.Pairs[0].key() != a.Pairs[0].key() {
		t.Errorf("pairs %+v", got.Pairs)
	}
	// A field a newer version may add is not an error.
	newer := strings.Replace(buf.String(), `"summary": {`, `"summary": {"added_later": 1,`, 1)
	if _, err := Decode(strings.NewReader(newer)); err != nil {
		t.Errorf("unknown field: %v", err)
	}

	var ndjson bytes.Buffer
	one := &Audit{Flows: []Flow{{Transport: "tcp", Client: "10.0.0.1:1", Server: "10.0.0.2:443"}, {Transport: "tcp"}}}
	if err := Write(&ndjson, one, "ndjson"); err != nil {
		t.Fatal(err)
	}
	dup, _ := json.Marshal(&Audit{Summary: Summary{}, Pairs: []Pair{a.Pairs[0], a.Pairs[0]}, Violations: []Violation{}})
	bad := map[string]string{
		"empty":            "",
		"not JSON":         "module example.com/x\n",
		"array":            "[]",
		"other JSON":       `{"a": 1}`,
		"ndjson flows":     ndjson.String(),
		"null pairs":       `{"summary": {}, "pairs": null, "violations": []}`,
		"pair without key": `{"summary": {}, "pairs": [{"port": 1}], "violations": []}`,
		"pair twice":       string(dup),
		"two reports":      buf.String() + buf.String(),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(strings.NewReader(in)); !errors.Is(err, ErrNotReport) {
				t.Errorf("err %v, want ErrNotReport", err)
			}
		})
	}
}

func TestWriteDiff(t *testing.T) {
	d := Compare(&Audit{Pairs: []Pair{pair("10.0.0.2", 443, "tls", []string{"TLS1.3"})}},
		&Audit{Pairs: []Pair{pair("10.0.0.2", 443, "plaintext", nil, "plaintext"), pair("a|b", 80, "tls", nil)}})
	d.OldFile, d.NewFile = "old.json", "new.json"
	for format, want := range map[string][]string{
		"table":    {"1 worse, 0 improved, 1 new (0 in violation), 0 vanished, 0 unchanged", "\nWORSE\n", "tls -> plaintext", "class tls -> plaintext; violation +plaintext", "\nIMPROVED\nnone\n"},
		"markdown": {"### Worse", "| tls -&gt; plaintext |", `a\|b`, "### Improved\n\nNone."},
		"json":     {`"old_file": "old.json"`, `"worse": [`, `"improved": []`, `"changes": [`},
	} {
		var buf bytes.Buffer
		if err := WriteDiff(&buf, d, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", format, w, buf.String())
			}
		}
	}
	if err := WriteDiff(&bytes.Buffer{}, d, "csv"); err == nil {
		t.Error("unknown format accepted")
	}
}
