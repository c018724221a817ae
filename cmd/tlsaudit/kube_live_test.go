package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
	"github.com/tlsaudit/tlsaudit/internal/nginxtest"
	"github.com/tlsaudit/tlsaudit/internal/promtest"
)

// kubeNode is a network namespace standing for a node with one pod: a veth pair
// joins it to the root namespace, which routes between nodes. The node's agent runs
// in the root namespace on the root end of the veth, as a DaemonSet agent on the
// host watches its pods' veths.
type kubeNode struct {
	name, ns, hostIf, podIP, gateway string
}

func newKubeNode(t *testing.T, name string, n int) *kubeNode {
	t.Helper()
	id := fmt.Sprintf("%d%d", os.Getpid()%10000, n)
	k := &kubeNode{name: name, ns: "tkn" + id, hostIf: "tkh" + id,
		podIP: fmt.Sprintf("10.214.%d.2", n), gateway: fmt.Sprintf("10.214.%d.1", n)}
	sh(t, "ip", "netns", "add", k.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", k.ns).Run() })
	sh(t, "ip", "link", "add", k.hostIf, "type", "veth", "peer", "name", "eth0", "netns", k.ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", k.hostIf).Run() })
	sh(t, "ip", "addr", "add", k.gateway+"/24", "dev", k.hostIf)
	sh(t, "ip", "link", "set", k.hostIf, "up")
	sh(t, "ip", "-n", k.ns, "addr", "add", k.podIP+"/24", "dev", "eth0")
	sh(t, "ip", "-n", k.ns, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", k.ns, "link", "set", "lo", "up")
	sh(t, "ip", "-n", k.ns, "route", "add", "default", "via", k.gateway)
	// No IPv6 chatter (neighbour discovery, MLD) on the links: every flow is the test's.
	sh(t, "sysctl", "-qw", "net.ipv6.conf."+k.hostIf+".disable_ipv6=1")
	sh(t, "ip", "netns", "exec", k.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	return k
}

// kubeAgent is one node's agent process.
type kubeAgent struct {
	node            *kubeNode
	cmd             *exec.Cmd
	log             syncBuffer
	listen, metrics string
}

// startKubeAgent runs node k's agent on k's pod interface and the uplinks named.
func startKubeAgent(t *testing.T, bin, kubeconfig string, k *kubeNode, port int, uplinks ...string) *kubeAgent {
	t.Helper()
	a := &kubeAgent{node: k, listen: "127.0.0.1:" + strconv.Itoa(port), metrics: "127.0.0.1:" + strconv.Itoa(port+1)}
	args := []string{"run", "--log-format", "json", "--listen", a.listen, "--metrics-addr", a.metrics,
		"--interface", k.hostIf, "--kubeconfig", kubeconfig}
	for _, u := range uplinks {
		args = append(args, "--interface", u)
	}
	a.cmd = exec.Command(bin, args...)
	a.cmd.Env = append(os.Environ(), "NODE_NAME="+k.name)
	a.cmd.Stderr = &a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		a.cmd.Wait()
	})
	return a
}

// ready polls /readyz until it answers 200, or returns its last answer.
func (a *kubeAgent) ready(t *testing.T, timeout time.Duration) (bool, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		out, err := exec.Command("curl", "-s", "-w", " %{http_code}", "http://"+a.listen+"/readyz").Output()
		last = strings.TrimSpace(string(out))
		if err == nil && strings.HasSuffix(last, " 200") {
			return true, last
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false, last
}

// scrape reads the agent's /metrics.
func (a *kubeAgent) scrape(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("curl", "-sf", "http://"+a.metrics+"/metrics").Output()
	if err != nil {
		t.Fatalf("scrape %s: %v", a.node.name, err)
	}
	return string(out)
}

// sumSeries sums every series of a metric in a scrape.
func sumSeries(metrics, name string) float64 {
	var sum float64
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}

type kubeVerdict struct {
	Event           string `json:"event"`
	Client          string `json:"client"`
	Server          string `json:"server"`
	DNATBackend     string `json:"dnat_backend"`
	Class           string `json:"class"`
	TLSVersion      string `json:"tls_version"`
	Counted         bool   `json:"counted"`
	CountedBy       string `json:"counted_by"`
	ClientNamespace string `json:"client_namespace"`
	ClientWorkload  string `json:"client_workload"`
	ClientKind      string `json:"client_kind"`
	ServerNamespace string `json:"server_namespace"`
	ServerWorkload  string `json:"server_workload"`
	ServerKind      string `json:"server_kind"`
	ServerService   string `json:"server_service"`
	Node            string `json:"node"`
}

func verdicts(log []byte) []kubeVerdict {
	var out []kubeVerdict
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		var v kubeVerdict
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Event == "verdict" {
			out = append(out, v)
		}
	}
	return out
}

// Two nodes, each with its agent, pods registered in a real API server with the
// namespaces' addresses, real TLS 1.3 and plain HTTP between them, directly and
// through services' cluster IPs with real iptables DNAT rules on the client's node
// (one service backed by the pod on the other node, one by a database outside the
// cluster that node-a reaches through an uplink its agent also watches): both agents
// name both ends, each connection is counted once — by the server's node, or by the
// client's node for the server outside the cluster, whose two sightings (before and
// after DNAT) the connection tracker joins — so the sum over the agents, as the real
// Prometheus scrapes them, is the number of connections; an API server outage leaves
// capture running and says so in /readyz and the metrics; names return after it.
func TestLiveKubernetesTwoNodes(t *testing.T) {
	needLive(t)
	for _, tool := range []string{"iptables", "redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
	cp := kubetest.Start(t)
	agentBin, _ := binaries(t)
	admin := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	ctx := context.Background()

	nodeA, nodeB := newKubeNode(t, "node-a", 1), newKubeNode(t, "node-b", 2)
	// A host outside the cluster (no pod, no node): node-a's uplink leads to it.
	outside := newKubeNode(t, "outside", 3)
	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	sh(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	t.Cleanup(func() { exec.Command("sysctl", "-qw", "net.ipv4.ip_forward="+strings.TrimSpace(string(forward))).Run() })

	const apiClusterIP, ledgerClusterIP = "10.96.10.10", "10.96.10.20"
	// kube-proxy's rules, as iptables mode writes them in spirit: DNAT in PREROUTING.
	for _, r := range [][3]string{
		{apiClusterIP, "80", nodeB.podIP + ":8080"},
		{ledgerClusterIP, "80", outside.podIP + ":8080"},
		{ledgerClusterIP, "443", outside.podIP + ":8443"},
	} {
		rule := []string{"PREROUTING", "-t", "nat", "-d", r[0] + "/32", "-p", "tcp", "--dport", r[1], "-j", "DNAT", "--to-destination", r[2]}
		sh(t, "iptables", append([]string{"-A"}, rule...)...)
		t.Cleanup(func() { exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	}

	kubetest.EnsureNamespace(t, admin, "shop")
	if _, err := admin.AppsV1().ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7c9", OwnerReferences: []metav1.OwnerReference{*kubetest.Controller("apps/v1", "Deployment", "web")}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.test/web:1"}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "shop", Name: "web-7c9-a", IP: nodeA.podIP, Node: "node-a",
		Owner: kubetest.Controller("apps/v1", "ReplicaSet", "web-7c9")})
	kubetest.CreatePod(t, admin, kubetest.Pod{Namespace: "shop", Name: "api-0", IP: nodeB.podIP, Node: "node-b",
		Owner: kubetest.Controller("apps/v1", "StatefulSet", "api")})
	createService(t, admin, "api", apiClusterIP, []servicePort{{"web", 80, 8080}, {"http", 8080, 8080}, {"https", 8443, 8443}, {"tls", 4413, 4413}, {"redis", 6379, 6379}})
	createEndpointSlice(t, admin, "api", nodeB.podIP, 8080, 8443, 4413, 6379)
	// A database outside the cluster behind a selector-less service and a hand-written
	// EndpointSlice.
	createService(t, admin, "ledger", ledgerClusterIP, []servicePort{{"web", 80, 8080}, {"tls", 443, 8443}})
	createEndpointSlice(t, admin, "ledger", outside.podIP, 8080, 8443)

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cp.WriteKubeconfig(t, kubeconfig, cp.AgentConfig(t))
	agentA := startKubeAgent(t, agentBin, kubeconfig, nodeA, 19820, outside.hostIf)
	agentB := startKubeAgent(t, agentBin, kubeconfig, nodeB, 19830)
	for _, a := range []*kubeAgent{agentA, agentB} {
		if ok, last := a.ready(t, 30*time.Second); !ok {
			t.Fatalf("agent of %s not ready: %s\n%s", a.node.name, last, a.log.String())
		}
	}
	// The real Prometheus scrapes both agents.
	promURL := promtest.StartPrometheus(t, t.TempDir(), fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: tlsaudit
    static_configs:
      - targets: [%q]
        labels: {node: node-a}
      - targets: [%q]
        labels: {node: node-b}
`, agentA.metrics, agentB.metrics))

	dir := t.TempDir()
	cert, key := certs(t, dir)
	background(t, nodeB.ns, "openssl", "s_server", "-accept", nodeB.podIP+":4413", "-cert", cert, "-key", key, "-tls1_3", "-quiet")
	for _, host := range []*kubeNode{nodeB, outside} {
		hostDir := filepath.Join(dir, host.name)
		os.MkdirAll(hostDir, 0o755)
		os.WriteFile(filepath.Join(hostDir, "nginx.conf"), []byte(nginxtest.Config(hostDir, fmt.Sprintf(nginxServers, host.podIP, cert, key))), 0o644)
		background(t, host.ns, "nginx", "-c", filepath.Join(hostDir, "nginx.conf"), "-p", hostDir)
		for _, p := range []string{"8080", "8443"} {
			waitPort(t, host.ns, p)
		}
	}
	background(t, nodeB.ns, "redis-server", "--bind", nodeB.podIP, "--port", "6379", "--save", "", "--appendonly", "no")
	waitPort(t, nodeB.ns, "4413")
	waitPort(t, nodeB.ns, "6379")
	connections := 0
	client := func(args ...string) {
		t.Helper()
		connections++
		cmd := exec.Command("ip", append([]string{"netns", "exec", nodeA.ns}, args...)...)
		cmd.Stdin = strings.NewReader("hello\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%v: %v\n%s", args, err, out)
		}
	}
	client("curl", "-sf", "http://"+nodeB.podIP+":8080/")
	client("curl", "-sf", "http://"+nodeB.podIP+":8080/again")
	client("curl", "-skf", "--resolve", "api.internal:8443:"+nodeB.podIP, "https://api.internal:8443/")
	client("timeout", "3", "openssl", "s_client", "-connect", nodeB.podIP+":4413", "-servername", "api.internal", "-tls1_3", "-quiet")
	client("redis-cli", "-h", nodeB.podIP, "-p", "6379", "SET", "greeting", "hello")
	client("curl", "-sf", "http://"+apiClusterIP+"/via-service")
	client("curl", "-sf", "http://"+ledgerClusterIP+"/")
	client("curl", "-skf", "https://"+ledgerClusterIP+"/")
	const countedByA = 2 // the two connections to the ledger, outside the cluster

	// Every connection decided and counted once, over both agents.
	var total float64
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		total = sumSeries(agentA.scrape(t), "tlsaudit_flows_total") + sumSeries(agentB.scrape(t), "tlsaudit_flows_total")
		if total >= float64(connections) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	mA, mB := agentA.scrape(t), agentB.scrape(t)
	total = sumSeries(mA, "tlsaudit_flows_total") + sumSeries(mB, "tlsaudit_flows_total")
	if total != float64(connections) {
		t.Errorf("flows counted over both agents = %v, want %d connections\nnode-a:\n%s\nnode-b:\n%s", total, connections,
			grepLines(mA, "tlsaudit_flows_total{"), grepLines(mB, "tlsaudit_flows_total{"))
	}
	if n := sumSeries(mA, "tlsaudit_flows_total"); n != countedByA {
		t.Errorf("the client's node counted %v flows, want the %d to the server outside the cluster:\n%s", n, countedByA, grepLines(mA, "tlsaudit_flows_total{"))
	}
	if !strings.Contains(mB, `tlsaudit_flows_total{class="plaintext",dst_namespace="shop",dst_port="8080",dst_service="api",dst_workload="api",src_namespace="shop",src_workload="web",tls_version=""} 3`) {
		t.Errorf("node-b metrics do not name shop/web -> shop/api (service api) for the three plain flows:\n%s", grepLines(mB, "tlsaudit_flows_total{"))
	}
	for _, want := range []string{
		`tlsaudit_flows_total{class="plaintext",dst_namespace="shop",dst_port="8080",dst_service="ledger",dst_workload="ledger",src_namespace="shop",src_workload="web",tls_version=""} 1`,
		`tlsaudit_flows_total{class="tls",dst_namespace="shop",dst_port="8443",dst_service="ledger",dst_workload="ledger",src_namespace="shop",src_workload="web",tls_version="TLS1.3"} 1`,
	} {
		if !strings.Contains(mA, want) {
			t.Errorf("node-a metrics lack %s:\n%s", want, grepLines(mA, "tlsaudit_flows_total{"))
		}
	}
	promtest.Eventually(t, 30*time.Second, "Prometheus to scrape both agents' counts", func() string {
		byNode, err := promtest.Query(promURL, `sum by (node) (tlsaudit_flows_total)`)
		if err != nil {
			return err.Error()
		}
		got := map[string]float64{}
		for _, s := range byNode {
			got[s.Labels["node"]] = s.Value
		}
		if got["node-a"]+got["node-b"] != float64(connections) || got["node-a"] != countedByA {
			return fmt.Sprintf("sum by node %v, want %d in all, %d on node-a", got, connections, countedByA)
		}
		return ""
	})

	// Both agents log both ends by name; the server's node counts each pod-to-pod
	// flow, the client's node the flows to the ledger.
	vA, vB := verdicts(agentA.log.Bytes()), verdicts(agentB.log.Bytes())
	apiServer := func(v kubeVerdict) bool { return strings.HasPrefix(v.Server, nodeB.podIP+":") }
	for _, c := range []struct {
		a    *kubeAgent
		vs   []kubeVerdict
		want int
	}{{agentA, vA, 5}, {agentB, vB, 6}} {
		n := 0
		for _, v := range c.vs {
			if !apiServer(v) {
				continue
			}
			n++
			if v.ClientNamespace != "shop" || v.ClientWorkload != "web" || v.ClientKind != "Deployment" ||
				v.ServerNamespace != "shop" || v.ServerWorkload != "api" || v.ServerKind != "StatefulSet" || v.ServerService != "api" {
				t.Errorf("%s: verdict names %+v", c.a.node.name, v)
			}
			if v.Counted != (c.a == agentB) {
				t.Errorf("%s: counted=%v (%s) for %s", c.a.node.name, v.Counted, v.CountedBy, v.Server)
			}
		}
		// node-a sees the flow to the cluster IP before DNAT only: five direct flows
		// and none after DNAT; node-b all six after DNAT.
		if n != c.want {
			t.Errorf("%s logged %d verdicts with the api pod as server, want %d\n%s", c.a.node.name, n, c.want, c.a.log.String())
		}
	}
	// The flow to the api's cluster IP, before DNAT, on node-a: named as the service,
	// its backend known from conntrack, left to node-b.
	checkOne(t, vA, func(v kubeVerdict) bool { return v.Server == apiClusterIP+":80" }, func(v kubeVerdict) string {
		if v.ServerKind != "Service" || v.ServerWorkload != "api" || v.ServerService != "api" || v.Counted ||
			v.CountedBy != "server_on_node-b" || v.DNATBackend != nodeB.podIP+":8080" {
			return "want the service api, not counted (server_on_node-b), DNAT backend " + nodeB.podIP + ":8080"
		}
		return ""
	})
	// Each connection to the ledger is seen twice on node-a and counted once.
	for _, port := range [][2]string{{"80", "8080"}, {"443", "8443"}} {
		backend := outside.podIP + ":" + port[1]
		var before, after []kubeVerdict
		for _, v := range vA {
			switch v.Server {
			case ledgerClusterIP + ":" + port[0]:
				before = append(before, v)
			case backend:
				after = append(after, v)
			}
		}
		if len(before) != 1 || len(after) != 1 {
			t.Errorf("ledger port %s: %d sightings before DNAT, %d after, want one each\n%s", port[0], len(before), len(after), agentA.log.String())
			continue
		}
		b, a := before[0], after[0]
		if b.Counted == a.Counted {
			t.Errorf("ledger port %s: counted before DNAT %v, after %v: want exactly one", port[0], b.Counted, a.Counted)
		}
		uncounted := b
		if !a.Counted {
			uncounted = a
		}
		if uncounted.CountedBy != "dnat_same_connection" {
			t.Errorf("ledger port %s: the uncounted sighting says %q, want dnat_same_connection", port[0], uncounted.CountedBy)
		}
		if b.DNATBackend != backend {
			t.Errorf("ledger port %s: DNAT backend %q, want %s", port[0], b.DNATBackend, backend)
		}
		for _, v := range []kubeVerdict{b, a} {
			if v.ServerNamespace != "shop" || v.ServerWorkload != "ledger" || v.ServerService != "ledger" || v.ClientWorkload != "web" {
				t.Errorf("ledger port %s: names %+v", port[0], v)
			}
		}
	}
	if len(vB) != 6 {
		t.Errorf("node-b logged %d verdicts, want the 6 flows to its pod", len(vB))
	}
	if !strings.Contains(mB, `tlsaudit_flows_total{class="plaintext",dst_namespace="shop",dst_port="6379",dst_service="api",dst_workload="api",src_namespace="shop",src_workload="web",tls_version=""} 1`) {
		t.Errorf("node-b metrics lack the Redis flow:\n%s", grepLines(mB, "tlsaudit_flows_total{"))
	}

	// The API server goes away: capture goes on, readiness and metrics say why.
	cp.Stop()
	deadline = time.Now().Add(20 * time.Second)
	var readyz string
	for time.Now().Before(deadline) {
		out, _ := exec.Command("curl", "-s", "http://"+agentB.listen+"/readyz").Output()
		if readyz = string(out); strings.Contains(readyz, "kubernetes") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(readyz, "kubernetes") || !strings.Contains(readyz, "capturing") {
		t.Errorf("/readyz during the outage: %q", readyz)
	}
	client("curl", "-sf", "http://"+nodeB.podIP+":8080/outage")
	countedByB := float64(connections - countedByA)
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && sumSeries(agentB.scrape(t), "tlsaudit_flows_total") < countedByB {
		time.Sleep(200 * time.Millisecond)
	}
	mB = agentB.scrape(t)
	if got := sumSeries(mB, "tlsaudit_flows_total"); got != countedByB {
		t.Errorf("during the outage node-b counted %v flows in all, want %v", got, countedByB)
	}
	// The reflectors notice when their watch breaks and the re-list fails.
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && sumSeries(mB, "tlsaudit_kube_watch_errors_total") == 0 {
		time.Sleep(200 * time.Millisecond)
		mB = agentB.scrape(t)
	}
	if sumSeries(mB, "tlsaudit_kube_api_reachable") != 0 || sumSeries(mB, "tlsaudit_kube_watch_errors_total") == 0 {
		t.Errorf("metrics during the outage:\n%s", grepLines(mB, "tlsaudit_kube_"))
	}
	cp.Restart(t)
	if ok, last := agentB.ready(t, 30*time.Second); !ok {
		t.Errorf("node-b not ready after the API server came back: %s", last)
	}
	mB = agentB.scrape(t)
	if sumSeries(mB, "tlsaudit_kube_api_reachable") != 1 || sumSeries(mB, "tlsaudit_kube_informer_synced") != 6 {
		t.Errorf("metrics after the outage:\n%s", grepLines(mB, "tlsaudit_kube_"))
	}
}

// checkOne finds the one verdict that match selects and reports what check says is
// wrong with it.
func checkOne(t *testing.T, vs []kubeVerdict, match func(kubeVerdict) bool, check func(kubeVerdict) string) {
	t.Helper()
	var found []kubeVerdict
	for _, v := range vs {
		if match(v) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Errorf("%d verdicts match, want 1: %+v", len(found), found)
		return
	}
	if msg := check(found[0]); msg != "" {
		t.Errorf("%+v: %s", found[0], msg)
	}
}

type servicePort struct {
	name         string
	port, target int32
}

// createService creates a ClusterIP service with the cluster IP given (in the test
// API server's --service-cluster-ip-range).
func createService(t *testing.T, cs kubernetes.Interface, name, clusterIP string, ports []servicePort) {
	t.Helper()
	var sp []corev1.ServicePort
	for _, p := range ports {
		sp = append(sp, corev1.ServicePort{Name: p.name, Port: p.port, TargetPort: intstr.FromInt32(p.target)})
	}
	if _, err := cs.CoreV1().Services("shop").Create(context.Background(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: clusterIP, Ports: sp}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createEndpointSlice creates service name's slice: one ready endpoint at addr.
func createEndpointSlice(t *testing.T, cs kubernetes.Interface, name, addr string, ports ...int32) {
	t.Helper()
	ready := true
	var eps []discoveryv1.EndpointPort
	for _, p := range ports {
		n := "p" + strconv.Itoa(int(p))
		eps = append(eps, discoveryv1.EndpointPort{Name: &n, Port: &p})
	}
	if _, err := cs.DiscoveryV1().EndpointSlices("shop").Create(context.Background(), &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       eps,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
