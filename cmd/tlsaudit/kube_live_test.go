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
	"k8s.io/client-go/kubernetes"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
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

func startKubeAgent(t *testing.T, bin, kubeconfig string, k *kubeNode, port int) *kubeAgent {
	t.Helper()
	a := &kubeAgent{node: k, listen: "127.0.0.1:" + strconv.Itoa(port), metrics: "127.0.0.1:" + strconv.Itoa(port+1)}
	a.cmd = exec.Command(bin, "run", "--log-format", "json", "--listen", a.listen, "--metrics-addr", a.metrics,
		"--interface", k.hostIf, "--kubeconfig", kubeconfig)
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
	Server          string `json:"server"`
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
// namespaces' addresses, real TLS 1.3 and plain HTTP between them: both agents name
// both ends, only the server's node counts each flow, so the sum over the agents is
// the number of connections; an API server outage leaves capture running and says
// so in /readyz and the metrics; names return after it.
func TestLiveKubernetesTwoNodes(t *testing.T) {
	needLive(t)
	cp := kubetest.Start(t)
	agentBin, _ := binaries(t)
	admin := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	ctx := context.Background()

	nodeA, nodeB := newKubeNode(t, "node-a", 1), newKubeNode(t, "node-b", 2)
	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	sh(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	t.Cleanup(func() { exec.Command("sysctl", "-qw", "net.ipv4.ip_forward="+strings.TrimSpace(string(forward))).Run() })

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
	if _, err := admin.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}, {Name: "https", Port: 8443}, {Name: "tls", Port: 4413}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ready := true
	var ports []discoveryv1.EndpointPort
	for _, p := range []struct {
		name string
		port int32
	}{{"http", 8080}, {"https", 8443}, {"tls", 4413}} {
		ports = append(ports, discoveryv1.EndpointPort{Name: &p.name, Port: &p.port})
	}
	if _, err := admin.DiscoveryV1().EndpointSlices("shop").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "api-1", Labels: map[string]string{discoveryv1.LabelServiceName: "api"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{nodeB.podIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       ports,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cp.WriteKubeconfig(t, kubeconfig, cp.AgentConfig(t))
	agentA := startKubeAgent(t, agentBin, kubeconfig, nodeA, 19820)
	agentB := startKubeAgent(t, agentBin, kubeconfig, nodeB, 19830)
	for _, a := range []*kubeAgent{agentA, agentB} {
		if ok, last := a.ready(t, 30*time.Second); !ok {
			t.Fatalf("agent of %s not ready: %s\n%s", a.node.name, last, a.log.String())
		}
	}

	dir := t.TempDir()
	cert, key := certs(t, dir)
	background(t, nodeB.ns, "openssl", "s_server", "-accept", nodeB.podIP+":4413", "-cert", cert, "-key", key, "-tls1_3", "-quiet")
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(fmt.Sprintf(nginxConf, dir, nodeB.podIP, cert, key)), 0o644)
	background(t, nodeB.ns, "nginx", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	for _, p := range []string{"4413", "8080", "8443"} {
		waitPort(t, nodeB.ns, p)
	}
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
	if n := sumSeries(mA, "tlsaudit_flows_total"); n != 0 {
		t.Errorf("the client's node counted %v flows to a server on another node", n)
	}
	if !strings.Contains(mB, `tlsaudit_flows_total{class="plaintext",dst_namespace="shop",dst_port="8080",dst_workload="api",src_namespace="shop",src_workload="web",tls_version=""} 2`) {
		t.Errorf("node-b metrics do not name shop/web -> shop/api for the plain flows:\n%s", grepLines(mB, "tlsaudit_flows_total{"))
	}

	// Both agents log both ends by name; only node-b's lines count.
	for _, a := range []*kubeAgent{agentA, agentB} {
		vs := verdicts(a.log.Bytes())
		if len(vs) < connections {
			t.Errorf("%s logged %d verdicts, want %d\n%s", a.node.name, len(vs), connections, a.log.String())
		}
		for _, v := range vs {
			if v.ClientNamespace != "shop" || v.ClientWorkload != "web" || v.ClientKind != "Deployment" ||
				v.ServerNamespace != "shop" || v.ServerWorkload != "api" || v.ServerKind != "StatefulSet" || v.ServerService != "api" {
				t.Errorf("%s: verdict names %+v", a.node.name, v)
			}
			if v.Counted != (a == agentB) {
				t.Errorf("%s: counted=%v (%s) for %s", a.node.name, v.Counted, v.CountedBy, v.Server)
			}
		}
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
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && sumSeries(agentB.scrape(t), "tlsaudit_flows_total") < float64(connections) {
		time.Sleep(200 * time.Millisecond)
	}
	mB = agentB.scrape(t)
	if got := sumSeries(mB, "tlsaudit_flows_total"); got != float64(connections) {
		t.Errorf("during the outage node-b counted %v flows in all, want %d", got, connections)
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

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
