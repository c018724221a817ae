package agent

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// TestProbeTargetSelection: which flows make their server a probe target, and the
// round's order.
func TestProbeTargetSelection(t *testing.T) {
	tlsFlow := func(client, server string, v classify.Verdict) *flow.Record {
		r := testRecord(client, server, time.Time{})
		r.Verdict = v
		return r
	}
	tls := classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13}
	udp := tlsFlow("10.0.0.1:40000", "10.0.0.9:443", tls)
	udp.Proto = flow.UDP
	tests := []struct {
		name string
		r    *flow.Record
		want string // the target, "" for none
	}{
		{"internal TLS server", tlsFlow("10.0.0.1:40000", "10.0.0.9:8443", tls), "10.0.0.9:8443"},
		{"external server", tlsFlow("10.0.0.1:40000", "93.184.216.34:443", tls), ""},
		{"internal server of an external client", tlsFlow("93.184.216.34:40000", "10.0.0.9:443", tls), "10.0.0.9:443"},
		{"plaintext", tlsFlow("10.0.0.1:40000", "10.0.0.9:80", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}), ""},
		{"ssh", tlsFlow("10.0.0.1:40000", "10.0.0.9:22", classify.Verdict{Class: classify.ClassSSH}), ""},
		{"unknown", tlsFlow("10.0.0.1:40000", "10.0.0.9:443", classify.Verdict{Class: classify.ClassUnknown}), ""},
		{"TLS over UDP", udp, ""},
		{"SMTP STARTTLS", tlsFlow("10.0.0.1:40000", "10.0.0.9:25", classify.Verdict{Class: classify.ClassTLS, StartTLS: true, App: classify.AppSMTP}), "smtp://10.0.0.9:25"},
		{"PostgreSQL SSLRequest", tlsFlow("10.0.0.1:40000", "10.0.0.9:5432", classify.Verdict{Class: classify.ClassTLS, StartTLS: true, App: classify.AppPostgreSQL}), "postgres://10.0.0.9:5432"},
		{"STARTTLS the probe cannot upgrade", tlsFlow("10.0.0.1:40000", "10.0.0.9:6379", classify.Verdict{Class: classify.ClassTLS, StartTLS: true, App: classify.AppRedis}), ""},
		{"IPv6 ULA server", tlsFlow("[fd00::1]:40000", "[fd00::9]:443", tls), "[fd00::9]:443"},
	}
	pol := policy.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newProbeTargets(8)
			s.saw(tt.r, pol, 1)
			var got string
			if rt := s.round(0); len(rt) == 1 {
				got = rt[0].target
			} else if len(rt) > 1 {
				t.Fatalf("one flow gave %d targets", len(rt))
			}
			if got != tt.want {
				t.Errorf("target %q, want %q", got, tt.want)
			}
		})
	}

	// Nil (probing off) notes nothing and owns nothing.
	var off *probeTargets
	off.saw(tests[0].r, pol, 1)
	if off.own(tests[0].r) {
		t.Error("nil probeTargets owns a flow")
	}
}

// TestProbeTargetsBounded: past the cap the least recently seen server is
// forgotten; a round holds the servers seen since the previous one, most recent
// first.
func TestProbeTargetsBounded(t *testing.T) {
	pol := policy.Default()
	s := newProbeTargets(3)
	see := func(port int, at int64) {
		r := testRecord("10.0.0.1:40000", "10.0.0.9:"+strconv.Itoa(port), time.Time{})
		r.Verdict = classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12}
		s.saw(r, pol, at)
	}
	see(1001, 10)
	see(1002, 20)
	see(1003, 30)
	see(1001, 40) // seen again: now the most recent
	see(1004, 50) // past the cap: 1002, the least recently seen, goes
	want := []string{"10.0.0.9:1004", "10.0.0.9:1001", "10.0.0.9:1003"}
	if got := targetsOf(s.round(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("round %v, want %v", got, want)
	}
	if got := targetsOf(s.round(40)); !reflect.DeepEqual(got, []string{"10.0.0.9:1004"}) {
		t.Errorf("round since 40: %v, want only the server seen after", got)
	}
	if got := s.round(50); len(got) != 0 {
		t.Errorf("round with nothing seen since: %v", got)
	}
}

// TestProbeOwnConnections: the agent's own probe connections, dialled through
// probeTargets.dial to a real listener, are recognised by their local address for
// two rounds, and then forgotten.
func TestProbeOwnConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newProbeTargets(8)
	c, err := s.dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	local := netip.MustParseAddrPort(c.LocalAddr().String())
	mine := testRecord(local.String(), ln.Addr().String(), time.Time{})
	other := testRecord(netip.AddrPortFrom(local.Addr(), local.Port()+1).String(), ln.Addr().String(), time.Time{})
	for round, want := range []bool{true, true, false} {
		if got := s.own(mine); got != want {
			t.Errorf("after %d more rounds: own = %v, want %v", round, got, want)
		}
		if s.own(other) {
			t.Errorf("another connection from the same address counted as the probe's")
		}
		s.round(0)
	}
}

func targetsOf(rts []roundTarget) []string {
	out := []string{}
	for _, rt := range rts {
		out = append(out, rt.target)
	}
	return out
}

// BenchmarkProbeTargetsSaw is the cost the probe adds to each decided flow of a
// server already known: the common case, which must not allocate.
func BenchmarkProbeTargetsSaw(b *testing.B) {
	pol := policy.Default()
	s := newProbeTargets(DefaultProbeMaxTargets)
	r := testRecord("10.0.0.1:40000", "10.0.0.9:8443", time.Time{})
	r.Verdict = classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13}
	s.saw(r, pol, 1)
	b.ReportAllocs()
	for i := range b.N {
		s.saw(r, pol, int64(i))
		if s.own(r) {
			b.Fatal("a workload's flow taken for the probe's")
		}
	}
}
