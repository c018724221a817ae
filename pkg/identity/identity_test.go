package identity

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIdentityLookup(t *testing.T) {
	m, err := Load("testdata/names.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ addr, want string }{
		{"10.77.0.21", "shop/api"},
		{"10.77.0.50", "legacy/mainframe-gw"}, // in 10.77.0.48/29
		{"10.77.0.56", ""},
		{"::ffff:10.77.0.40", "data/redis"},
		{"fd00:77::21", "shop/api"}, // the /128 beats the /64
		{"fd00:77::10", "shop/v6-pool"},
		{"8.8.8.8", ""},
		{"not-an-ip", ""},
	}
	for _, tt := range tests {
		if got := m.Name(tt.addr); got != tt.want {
			t.Errorf("Name(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	id, ok := m.Lookup(netip.MustParseAddr("10.77.0.30"))
	if !ok || id.Service != "db" || id.Namespace != "data" || id.Workload != "postgres" {
		t.Errorf("Lookup = %+v %v", id, ok)
	}
	var nilMap *Map
	if _, ok := nilMap.Lookup(netip.MustParseAddr("10.77.0.30")); ok || nilMap.Name("10.77.0.30") != "" || nilMap.Len() != 0 {
		t.Error("a nil Map names something")
	}
}

func TestIdentityBadFiles(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown field", "- ip: 10.0.0.1\n  namespace: a\n  workload: b\n  pod: c\n", "n.yaml: line 4: unknown field pod"},
		{"bad ip", "- ip: 10.0.0.1\n  namespace: a\n  workload: b\n- ip: 10.0.0.300\n  namespace: a\n  workload: b\n", `n.yaml:4: [1].ip: "10.0.0.300" is not an IP address`},
		{"bad cidr", "- cidr: 10.0.0.0/33\n  namespace: a\n  workload: b\n", `n.yaml:1: [0].cidr: "10.0.0.0/33" is not a CIDR`},
		{"both", "- cidr: 10.0.0.0/8\n  ip: 10.0.0.1\n  namespace: a\n  workload: b\n", "n.yaml:1: [0].ip: give ip or cidr, not both"},
		{"neither", "- namespace: a\n  workload: b\n", "n.yaml:1: [0].ip: give ip or cidr"},
		{"no workload", "- ip: 10.0.0.1\n  namespace: a\n", "n.yaml:1: [0].workload: required"},
		{"conflict", "- ip: 10.0.0.1\n  namespace: a\n  workload: b\n- ip: 10.0.0.1\n  namespace: a\n  workload: c\n", "n.yaml:4: [1].ip: 10.0.0.1 is already a/b"},
		{"not a list", "ip: 10.0.0.1\n", "n.yaml: line 1: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "n.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if m, err := Parse(nil, "empty.yaml"); err != nil || m.Len() != 0 {
		t.Errorf("empty file: %v %v", m, err)
	}
}
