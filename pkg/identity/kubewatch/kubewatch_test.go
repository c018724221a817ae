package kubewatch_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"
)

// Informers on a real API server, with the agent's ServiceAccount and RBAC rules,
// name pods through their owner chain, services by cluster IP and endpoints, nodes
// and hostNetwork pods; a reused address keeps the old name for older flows; an
// outage shows in Status and metrics, and names return after it.
func TestInformersRealAPIServer(t *testing.T) {
	cp := kubetest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	mustCreate := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	kubetest.EnsureNamespace(t, admin, "shop")
	kubetest.EnsureNamespace(t, admin, "batch")
	_, err := admin.AppsV1().ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", OwnerReferences: []metav1.OwnerReference{*kubetest.Controller("apps/v1", "Deployment", "web")}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.test/web:1"}}}}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = admin.BatchV1().Jobs("batch").Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "report-1", OwnerReferences: []metav1.OwnerReference{*kubetest.Controller("batch/v1", "CronJob", "report")}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "app", Image: "example.test/report:1"}}}}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "shop", Name: "web-5d8f-a", IP: "10.42.1.10", Node: "node-a", Owner: kubetest.Controller("apps/v1", "ReplicaSet", "web-5d8f")})
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "shop", Name: "db-0", IP: "10.42.2.20", Node: "node-b", Owner: kubetest.Controller("apps/v1", "StatefulSet", "db")})
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "batch", Name: "report-1-x", IP: "10.42.2.30", Node: "node-b", Owner: kubetest.Controller("batch/v1", "Job", "report-1")})
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "kube-system", Name: "proxy-q", IP: "10.42.1.40", Node: "node-a", Owner: kubetest.Controller("apps/v1", "DaemonSet", "kube-proxy")})
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "kube-system", Name: "exporter-q", IP: "192.168.50.1", Node: "node-a", HostNetwork: true, Owner: kubetest.Controller("apps/v1", "DaemonSet", "node-exporter")})
	_, err = admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b"}}, metav1.CreateOptions{})
	mustCreate(err)
	node, _ := admin.CoreV1().Nodes().Get(ctx, "node-b", metav1.GetOptions{})
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.50.2"}}
	_, err = admin.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	mustCreate(err)
	svc, err := admin.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}, metav1.CreateOptions{})
	mustCreate(err)
	port, ready := int32(5432), true
	_, err = admin.DiscoveryV1().EndpointSlices("shop").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "db-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.42.2.20"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}, metav1.CreateOptions{})
	mustCreate(err)

	c := identity.NewCluster("node-a")
	w, err := kubewatch.Watch(ctx, cp.AgentConfig(t), c, 500*time.Millisecond, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	syncCtx, syncCancel := context.WithTimeout(ctx, 20*time.Second)
	defer syncCancel()
	if !w.WaitForSync(syncCtx) {
		t.Fatalf("informers did not sync with the agent's RBAC: %+v", w.Status())
	}
	now := time.Now()
	want := func(ap string, at time.Time, ns, workload, kind, service string) {
		t.Helper()
		var id identity.Identity
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			id, _ = c.Resolve(netip.MustParseAddrPort(ap), at)
			if id.Namespace == ns && id.Workload == workload && id.Kind == kind && id.Service == service {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("%s = %+v, want %s/%s %s service %q", ap, id, ns, workload, kind, service)
	}
	want("10.42.1.10:8080", now, "shop", "web", identity.KindDeployment, "")
	want("10.42.2.20:5432", now, "shop", "db", identity.KindStatefulSet, "db")
	want("10.42.2.30:1", now, "batch", "report", identity.KindCronJob, "")
	want("10.42.1.40:1", now, "kube-system", "kube-proxy", identity.KindDaemonSet, "")
	want("192.168.50.1:9100", now, "", "node-a", identity.KindNode, "")
	want("192.168.50.2:22", now, "", "node-b", identity.KindNode, "")
	want(svc.Spec.ClusterIP+":5432", now, "shop", "db", identity.KindService, "db")
	if ok, why := c.Ownership(netip.MustParseAddrPort("10.42.1.10:40000"), netip.MustParseAddrPort("10.42.2.20:5432"), now); ok {
		t.Errorf("node-a counts a flow to a server on node-b (%s)", why)
	}

	// A kubectl-style dump of the same objects, read as analyze --k8s-snapshot reads
	// it (without the API's Go types), names every end as the informers do.
	dump := filepath.Join(t.TempDir(), "dump.json")
	if err := os.WriteFile(dump, kubectlDump(ctx, t, admin), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := identity.LoadSnapshot(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, ap := range []string{"10.42.1.10:8080", "10.42.2.20:5432", "10.42.2.30:1", "10.42.1.40:1", "192.168.50.1:9100", "192.168.50.2:22", svc.Spec.ClusterIP + ":5432", "10.9.9.9:1"} {
		got, gotOK := snap.Resolve(netip.MustParseAddrPort(ap), now)
		want, wantOK := c.Resolve(netip.MustParseAddrPort(ap), now)
		if got != want || gotOK != wantOK {
			t.Errorf("%s: the dump names it %+v (%v), the informers %+v (%v)", ap, got, gotOK, want, wantOK)
		}
	}

	// The web pod dies and its address goes to a new pod of another workload.
	before := time.Now()
	time.Sleep(1100 * time.Millisecond) // creation timestamps have second precision
	mustCreate(admin.CoreV1().Pods("shop").Delete(ctx, "web-5d8f-a", metav1.DeleteOptions{}))
	time.Sleep(200 * time.Millisecond)
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "batch", Name: "intruder", IP: "10.42.1.10", Node: "node-a"})
	want("10.42.1.10:8080", time.Now().Add(time.Second), "batch", "intruder", identity.KindPod, "")
	want("10.42.1.10:8080", before, "shop", "web", identity.KindDeployment, "")

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(w)
	if !w.Status().Ready() {
		t.Fatalf("not ready while the API server runs: %+v", w.Status())
	}
	cp.Stop()
	deadline := time.Now().Add(15 * time.Second)
	for w.Status().Ready() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if st := w.Status(); st.Ready() || st.Reachable {
		t.Fatalf("API server stopped, status still %+v", st)
	}
	if got := testutil.ToFloat64(collectorGauge(t, reg, "tlsaudit_kube_api_reachable")); got != 0 {
		t.Errorf("tlsaudit_kube_api_reachable = %v during the outage", got)
	}
	// What was known is still known.
	want("10.42.2.20:5432", time.Now(), "shop", "db", identity.KindStatefulSet, "db")
	cp.Restart(t)
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "shop", Name: "late", IP: "10.42.1.99", Node: "node-a"})
	want("10.42.1.99:1", time.Now().Add(time.Second), "shop", "late", identity.KindPod, "")
	deadline = time.Now().Add(15 * time.Second)
	for !w.Status().Ready() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if st := w.Status(); !st.Ready() {
		t.Errorf("after restart: %+v", st)
	}
	if n, err := testutil.GatherAndCount(reg, "tlsaudit_kube_informer_synced"); err != nil || n != len(kubewatch.Resources) {
		t.Errorf("tlsaudit_kube_informer_synced series: %d %v", n, err)
	}
}

// collectorGauge picks one metric family from reg as a collector of its value.
func collectorGauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name})
			g.Set(mf.Metric[0].GetGauge().GetValue())
			return g
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

// kubectlDump is what `kubectl get pods,services,endpointslices,replicasets,jobs,nodes
// -A -o json` prints for the API server's objects: one List, each item with its kind.
func kubectlDump(ctx context.Context, t *testing.T, cs kubernetes.Interface) []byte {
	t.Helper()
	var items []any
	add := func(kind string, list any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Items []map[string]any }
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Items {
			it["kind"] = kind
			items = append(items, it)
		}
	}
	all := metav1.ListOptions{}
	pods, err := cs.CoreV1().Pods("").List(ctx, all)
	add("Pod", pods, err)
	svcs, err := cs.CoreV1().Services("").List(ctx, all)
	add("Service", svcs, err)
	slices, err := cs.DiscoveryV1().EndpointSlices("").List(ctx, all)
	add("EndpointSlice", slices, err)
	rss, err := cs.AppsV1().ReplicaSets("").List(ctx, all)
	add("ReplicaSet", rss, err)
	jobs, err := cs.BatchV1().Jobs("").List(ctx, all)
	add("Job", jobs, err)
	nodes, err := cs.CoreV1().Nodes().List(ctx, all)
	add("Node", nodes, err)
	out, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
