package report

import (
	"encoding/json"
	"maps"
	"testing"
)

func countsOf(m map[string]int) Counts {
	var c Counts
	for name, n := range m {
		c.Add(name, n)
	}
	return c
}

// TestCountsJSON: Counts are written as encoding/json writes the map of the same
// counts (keys in order, empty as {}), read back from that, and kept in name order
// however they were added.
func TestCountsJSON(t *testing.T) {
	for _, m := range []map[string]int{
		{},
		{"tls": 1},
		{"tls": 3, "plaintext": 1, "unknown": 7, "ssh": 2},
		{"TLS1.3": 825, "TLS1.2": 825, "SSL3": 1, "DTLS1.0": 2, `odd "name" <&>`: 4},
	} {
		c := countsOf(m)
		got, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(m)
		if string(got) != string(want) {
			t.Errorf("%v: wrote %s, a map %s", m, got, want)
		}
		if nested, _ := json.Marshal(struct{ C Counts }{c}); string(nested) != `{"C":`+string(want)+`}` {
			t.Errorf("%v in a struct: %s", m, nested)
		}
		var back Counts
		if err := json.Unmarshal(got, &back); err != nil || !maps.Equal(back.Map(), m) || len(back) != len(m) {
			t.Errorf("%v: read back %v (%v)", m, back, err)
		}
		for i := 1; i < len(c); i++ {
			if c[i-1].Name >= c[i].Name {
				t.Errorf("%v: out of order: %v", m, c)
			}
		}
		for name, n := range m {
			if c.Get(name) != n {
				t.Errorf("%v: Get(%q) = %d", m, name, c.Get(name))
			}
		}
		if c.Get("absent") != 0 {
			t.Errorf("%v: Get of an absent name = %d", m, c.Get("absent"))
		}
	}
	var nilCounts Counts
	if b, _ := json.Marshal(nilCounts); string(b) != "{}" {
		t.Errorf("nil Counts wrote %s, want {}", b)
	}
}
