package report

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// generatedAudit builds, through the Builder and a names file as analyze does, an audit
// of workloads named across 25 namespaces with four service pairs per workload (so
// 4*workloads pairs), of every grade, each of one to three flows; the sampler was fed
// every flow.
func generatedAudit(t testing.TB, workloads int) (*Audit, *Sampler) {
	t.Helper()
	var names strings.Builder
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 100, byte(i >> 8), byte(i)}) }
	for i := range workloads {
		fmt.Fprintf(&names, "- ip: %s\n  namespace: ns%02d\n  workload: svc-%03d\n", addr(i), i%25, i)
	}
	m, err := identity.Parse([]byte(names.String()), "generated")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(policy.Default(), m)
	s := NewSampler()
	b.OnFlow = s.Add
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	verdicts := []classify.Verdict{
		{Class: classify.ClassTLS, Version: classify.VersionTLS13, SNI: "api.internal", ALPN: []string{"h2"}, Cipher: 0x1301, Group: 0x001d, JA4: "t13d1516h2_8daaf6152771_02713d6af862"},
		{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: "db.internal", Cipher: 0xc02f},
		{Class: classify.ClassSSH},
		{Class: classify.ClassTLS, Version: classify.VersionTLS13},
	}
	for i := range workloads {
		for k, v := range verdicts {
			switch {
			case k == 1 && i%10 == 0:
				v = classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}
			case k == 2 && i%17 == 0:
				v = classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS10, ClientCert: classify.AnswerYes}
			case k == 3 && i%13 == 0:
				v = classify.Verdict{Reason: classify.ReasonMidstream}
			}
			server := netip.AddrPortFrom(addr((i*13+k*101+1)%workloads), uint16(8000+k))
			for n := range 1 + (i+k)%3 {
				first := t0.Add(time.Duration(i*4+k) * time.Second)
				b.Add(&flow.Record{
					Proto: flow.TCP, Client: netip.AddrPortFrom(addr(i), uint16(40000+n)), Server: server,
					FirstSeen: first, LastSeen: first.Add(time.Second), PacketsToServer: 10, PacketsToClient: 10,
					BytesToServer: uint64(500 * (1 + i%50)), BytesToClient: uint64(2000 * (1 + k)), Verdict: v,
				})
			}
		}
	}
	return b.Build([]string{"generated.pcap"}, 0, nil, nil), s
}

func nsName(i int) string { return fmt.Sprintf("ns%02d", i%25) }
