package identity

import (
	"net/netip"
	"testing"
	"time"
)

func TestSnapshotResolve(t *testing.T) {
	c, err := LoadSnapshot("testdata/k8s-snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		ap                      string
		at                      time.Time
		ns, workload, kind, svc string
		ok                      bool
	}{
		{"10.42.0.10:8080", at, "shop", "checkout", KindDeployment, "", true},
		{"[fd00:42::10]:8080", at, "shop", "checkout", KindDeployment, "", true},
		{"10.42.1.20:6379", at, "data", "redis", KindStatefulSet, "redis", true},
		{"10.42.1.20:9121", at, "data", "redis", KindStatefulSet, "", true}, // no slice holds this port
		{"10.42.1.30:80", at, "", "", "", "", false},                        // Succeeded: gave its address back
		{"10.42.1.31:80", at, "", "", "", "", false},                        // before the pod was created
		{"10.42.1.31:80", at.Add(2 * time.Hour), "batch", "report-29160", KindJob, "", true},
		{"10.0.0.1:9100", at, "", "node-a", KindNode, "", true}, // hostNetwork pod
		{"10.0.0.2:22", at, "", "node-b", KindNode, "", true},
		{"10.42.0.99:1", at, "default", "debug", KindPod, "", true},
		{"10.96.0.50:6379", at, "data", "redis", KindService, "redis", true},
		{"192.0.2.1:443", at, "", "", "", "", false},
	}
	for _, tt := range tests {
		id, ok := c.Resolve(netip.MustParseAddrPort(tt.ap), tt.at)
		if ok != tt.ok || id.Namespace != tt.ns || id.Workload != tt.workload || id.Kind != tt.kind || id.Service != tt.svc {
			t.Errorf("Resolve(%s, %s) = %+v %v, want %s/%s %s svc %q %v", tt.ap, tt.at.Format(time.TimeOnly), id, ok, tt.ns, tt.workload, tt.kind, tt.svc, tt.ok)
		}
	}
	// An endpoint that is no pod is named by its service; the cluster IP is the service.
	c.SetService(ServiceInfo{Namespace: "data", Name: "ledger-db", ClusterIPs: []netip.Addr{netip.MustParseAddr("10.96.0.70")}})
	c.SetSlice(SliceInfo{Namespace: "data", Name: "ledger-db-1", Service: "ledger-db", Ready: true,
		Addrs: []netip.Addr{netip.MustParseAddr("192.168.50.5")}, Ports: []uint16{5432}})
	if id, ok := c.Resolve(netip.MustParseAddrPort("192.168.50.5:5432"), at); !ok || id.Namespace != "data" || id.Workload != "ledger-db" || id.Kind != KindService || id.Service != "ledger-db" {
		t.Errorf("endpoint outside the cluster = %+v %v, want the service data/ledger-db", id, ok)
	}
	if _, ok := c.Resolve(netip.MustParseAddrPort("192.168.50.5:22"), at); ok {
		t.Error("a port the EndpointSlice does not hold is named")
	}
	if !c.IsServiceIP(netip.MustParseAddr("10.96.0.70")) || c.IsServiceIP(netip.MustParseAddr("192.168.50.5")) {
		t.Error("IsServiceIP")
	}
	// Job → CronJob through the owner chain.
	c.SetPod(PodInfo{UID: "p9", Namespace: "batch", Name: "report-29100-b", Node: "node-b",
		Owner: Owner{KindJob, "report-29100"}, IPs: []netip.Addr{netip.MustParseAddr("10.42.1.40")}, Created: at})
	if id, _ := c.Resolve(netip.MustParseAddrPort("10.42.1.40:1"), at); id.Kind != KindCronJob || id.Workload != "report" {
		t.Errorf("job pod = %+v, want CronJob report", id)
	}
}

func TestSnapshotErrors(t *testing.T) {
	c := NewCluster("")
	for _, doc := range []string{"", "{", `{"kind":"Pod","metadata":{"name":1}}`} {
		if err := c.addSnapshot([]byte(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
	// Several documents one after another.
	if err := c.addSnapshot([]byte(`{"kind":"Node","metadata":{"name":"n"},"status":{"addresses":[{"type":"InternalIP","address":"10.1.1.1"}]}}
{"kind":"PodList","items":[{"kind":"Pod","metadata":{"name":"p","namespace":"x","uid":"u","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n"},"status":{"podIP":"10.1.2.3"}}]}`)); err != nil {
		t.Fatal(err)
	}
	if id, ok := c.Resolve(netip.MustParseAddrPort("10.1.2.3:1"), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)); !ok || id.Workload != "p" || id.Node != "n" {
		t.Errorf("multi-document: %+v %v", id, ok)
	}
}

// An address given to a new pod keeps the old pod's name for flows first seen
// before the old pod was deleted.
func TestClusterReusedAddress(t *testing.T) {
	c := NewCluster("node-a")
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	ip := netip.MustParseAddr("10.42.0.7")
	c.SetPod(PodInfo{UID: "old", Namespace: "a", Name: "old-pod", Node: "node-a", IPs: []netip.Addr{ip}, Created: clock.Add(-time.Hour)})
	before := clock.Add(-time.Minute)
	clock = clock.Add(time.Minute)
	c.DeletePod("old")
	c.SetPod(PodInfo{UID: "new", Namespace: "b", Name: "new-pod", Node: "node-b", IPs: []netip.Addr{ip}, Created: clock})
	ap := netip.AddrPortFrom(ip, 80)
	if id, _ := c.Resolve(ap, before); id.Pod != "old-pod" {
		t.Errorf("before deletion: %+v, want old-pod", id)
	}
	if id, _ := c.Resolve(ap, clock.Add(time.Second)); id.Pod != "new-pod" {
		t.Errorf("after: %+v, want new-pod", id)
	}
	// After the retention the old lifetime is forgotten.
	clock = clock.Add(DefaultRetention + time.Minute)
	c.SetPod(PodInfo{UID: "new", Namespace: "b", Name: "new-pod", Node: "node-b", IPs: []netip.Addr{ip}, Created: clock.Add(-DefaultRetention)})
	if n := len(c.pods[ip]); n != 1 {
		t.Errorf("%d lifetimes kept after retention, want 1", n)
	}
}

func TestOwnership(t *testing.T) {
	c, err := LoadSnapshot("testdata/k8s-snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	checkout := netip.MustParseAddrPort("10.42.0.10:40000")
	tests := []struct {
		node, server string
		client       netip.AddrPort
		want         bool
	}{
		{"node-b", "10.42.1.20:6379", checkout, true},  // server's node
		{"node-a", "10.42.1.20:6379", checkout, false}, // client's node, server elsewhere
		{"node-a", "10.96.0.50:6379", checkout, false}, // ClusterIP with a backend: the backend's node counts
		{"node-a", "10.96.0.60:80", checkout, true},    // ClusterIP without backend: the client's node
		{"node-b", "10.96.0.60:80", checkout, false},
		{"node-a", "192.0.2.1:443", checkout, true}, // outside the cluster: the client's node
		{"node-b", "192.0.2.1:443", checkout, false},
	}
	for _, tt := range tests {
		c.node = tt.node
		if got, why := c.Ownership(tt.client, netip.MustParseAddrPort(tt.server), at); got != tt.want {
			t.Errorf("node %s: %s -> %s counted %v (%s), want %v", tt.node, tt.client, tt.server, got, why, tt.want)
		}
	}
}
