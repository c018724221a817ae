package agent

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
)

// countLog records what a flowCounter did.
type countLog struct {
	verdicts          []ownership
	decided, finished int
}

func newTestCounter(c *identity.Cluster, l *countLog) *flowCounter {
	return newFlowCounter(&Kube{cluster: c}, func(flow.Key) bool { return false },
		func(_ *flow.Record, own ownership) { l.verdicts = append(l.verdicts, own) },
		func(*flow.Record) { l.decided++ }, func(*flow.Record) { l.finished++ })
}

func testRecord(client, server string, first time.Time) *flow.Record {
	c, s := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
	return &flow.Record{Proto: flow.TCP, Client: c, Server: s, FirstSeen: first, Key: flow.KeyBetween(flow.TCP, c, s)}
}

// A flow between two addresses the index does not know yet waits for it: judged at
// once, every agent that sees it would count it.
func TestCountWaitsForUnknownEnds(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	c := identity.NewCluster("node-a")
	var l countLog
	count := newTestCounter(c, &l)

	// Two new pods talk before the informers name them; the server is on node-b.
	r := testRecord("10.1.0.5:40000", "10.1.1.7:8080", t0)
	count.decided(r, ns(0))
	if len(l.verdicts) != 0 || l.decided != 0 {
		t.Fatalf("judged at once: %+v", l)
	}
	c.SetPod(identity.PodInfo{UID: "s", Namespace: "shop", Name: "api-1", Node: "node-b",
		IPs: []netip.Addr{netip.MustParseAddr("10.1.1.7")}, Created: t0.Add(-time.Second)})
	count.tick(ns(time.Second), true)
	if len(l.verdicts) != 0 {
		t.Fatalf("judged before the grace: %+v", l.verdicts)
	}
	count.tick(ns(identityGrace), true)
	if len(l.verdicts) != 1 || l.verdicts[0].counted || l.verdicts[0].why != "server_on_node-b" || l.decided != 0 {
		t.Fatalf("after the grace: %+v, want one line, left to node-b", l)
	}
	count.finished(r)
	if l.finished != 0 {
		t.Errorf("a flow another node counts was finished in the exporter")
	}

	// Still unknown after the grace: the flow is outside the cluster and counted;
	// it ended while it waited, so it is finished in the exporter too.
	l = countLog{}
	r2 := testRecord("192.168.9.1:40000", "192.168.9.2:5432", t0)
	count.decided(r2, ns(0))
	count.finished(r2)
	count.tick(ns(time.Minute/2), false) // not synced: keep waiting
	if len(l.verdicts) != 0 {
		t.Fatalf("judged while the index is not synced: %+v", l.verdicts)
	}
	count.tick(ns(identityMaxWait), false) // the deadline passes
	if len(l.verdicts) != 1 || !l.verdicts[0].counted || l.verdicts[0].why != identity.NeitherEndKnown || l.decided != 1 || l.finished != 1 {
		t.Fatalf("after the deadline: %+v, want counted, decided and finished once", l)
	}

	// A flow with a known end is judged at once.
	l = countLog{}
	count.decided(testRecord("10.1.1.7:40000", "192.0.2.9:443", t0), ns(0))
	if len(l.verdicts) != 1 || l.verdicts[0].counted || l.verdicts[0].why != "client_on_node-b" {
		t.Fatalf("a pod of node-b to a server outside the cluster: %+v, want left to node-b at once", l)
	}

	// The wait is bounded.
	l = countLog{}
	for i := range maxPending + 1 {
		count.decided(testRecord("192.168.9.1:"+strconv.Itoa(1000+i), "192.168.9.2:5432", t0), ns(0))
	}
	if len(l.verdicts) != 1 || len(count.pending) != maxPending {
		t.Errorf("%d judged at once, %d waiting; want 1 and %d", len(l.verdicts), len(count.pending), maxPending)
	}
	count.flush(ns(time.Second))
	if len(count.pending) != 0 || len(l.verdicts) != maxPending+1 {
		t.Errorf("flush left %d waiting, judged %d", len(count.pending), len(l.verdicts))
	}
}

func itoa(i int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(i)).String()[len("0.0.0.0:"):]
}
