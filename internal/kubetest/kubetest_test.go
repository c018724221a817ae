package kubetest

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The chart's rules file is exactly list and watch of what the identity informers
// read: a change to it shows here first.
func TestRulesFile(t *testing.T) {
	rules := RBACRules(t)
	want := map[string][]string{
		"":                 {"nodes", "pods", "services"},
		"discovery.k8s.io": {"endpointslices"},
		"apps":             {"replicasets"},
		"batch":            {"jobs"},
	}
	got := map[string][]string{}
	for _, r := range rules {
		if v := slices.Sorted(slices.Values(r.Verbs)); !slices.Equal(v, []string{"list", "watch"}) {
			t.Errorf("rule %v: verbs %v, want list and watch only", r, r.Verbs)
		}
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %v: resourceNames or nonResourceURLs", r)
		}
		for _, g := range r.APIGroups {
			got[g] = append(got[g], r.Resources...)
		}
	}
	for g := range got {
		slices.Sort(got[g])
	}
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for g, res := range want {
		if !slices.Equal(got[g], res) {
			t.Errorf("group %q: resources %v, want %v", g, got[g], res)
		}
	}
}

// The agent's token may list and watch what the informers read and nothing else; a
// pod made by CreatePod has its address; a kubeconfig file reaches the server as
// the agent; objects outlive a restart of the API server on the same address.
func TestControlPlane(t *testing.T) {
	cp := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	agentCfg := cp.AgentConfig(t)
	agent := kubernetes.NewForConfigOrDie(agentCfg)

	pod, err := CreatePodContext(ctx, admin, "shop", "api-0", "10.42.0.5", "node-a",
		Controller("apps/v1", "ReplicaSet", "api-5d8f"), false)
	if err != nil {
		t.Fatal(err)
	}
	if pod.Status.PodIP != "10.42.0.5" || pod.Status.Phase != "Running" {
		t.Fatalf("created pod: podIP %q phase %q", pod.Status.PodIP, pod.Status.Phase)
	}
	got, err := admin.CoreV1().Pods("shop").Get(ctx, "api-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.PodIP != "10.42.0.5" || len(got.Status.PodIPs) != 1 || got.Spec.NodeName != "node-a" ||
		len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Name != "api-5d8f" {
		t.Fatalf("read back: podIP %q podIPs %v node %q owners %v", got.Status.PodIP, got.Status.PodIPs, got.Spec.NodeName, got.OwnerReferences)
	}
	host := CreatePod(t, admin, Pod{Namespace: "kube-system", Name: "exporter-a", IP: "192.168.50.1", Node: "node-a", HostNetwork: true})
	if host.Status.HostIP != "192.168.50.1" || !host.Spec.HostNetwork {
		t.Errorf("hostNetwork pod: hostIP %q hostNetwork %v", host.Status.HostIP, host.Spec.HostNetwork)
	}

	all := metav1.ListOptions{}
	type access struct {
		list  func() error
		watch func() (watch.Interface, error)
	}
	allowed := map[string]access{
		"pods": {
			func() error { _, err := agent.CoreV1().Pods("").List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.CoreV1().Pods("").Watch(ctx, all) }},
		"services": {
			func() error { _, err := agent.CoreV1().Services("").List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.CoreV1().Services("").Watch(ctx, all) }},
		"nodes": {
			func() error { _, err := agent.CoreV1().Nodes().List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.CoreV1().Nodes().Watch(ctx, all) }},
		"endpointslices": {
			func() error { _, err := agent.DiscoveryV1().EndpointSlices("").List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.DiscoveryV1().EndpointSlices("").Watch(ctx, all) }},
		"replicasets": {
			func() error { _, err := agent.AppsV1().ReplicaSets("").List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.AppsV1().ReplicaSets("").Watch(ctx, all) }},
		"jobs": {
			func() error { _, err := agent.BatchV1().Jobs("").List(ctx, all); return err },
			func() (watch.Interface, error) { return agent.BatchV1().Jobs("").Watch(ctx, all) }},
	}
	for name, a := range allowed {
		if err := a.list(); err != nil {
			t.Errorf("agent cannot list %s: %v", name, err)
		}
		w, err := a.watch()
		if err != nil {
			t.Errorf("agent cannot watch %s: %v", name, err)
			continue
		}
		w.Stop()
	}
	denied := map[string]func() error{
		"list secrets": func() error { _, err := agent.CoreV1().Secrets("").List(ctx, all); return err },
		"get configmap": func() error {
			_, err := agent.CoreV1().ConfigMaps("shop").Get(ctx, "x", metav1.GetOptions{})
			return err
		},
		"list configmaps": func() error { _, err := agent.CoreV1().ConfigMaps("").List(ctx, all); return err },
		"get pod": func() error {
			_, err := agent.CoreV1().Pods("shop").Get(ctx, "api-0", metav1.GetOptions{})
			return err
		},
		"delete pod":      func() error { return agent.CoreV1().Pods("shop").Delete(ctx, "api-0", metav1.DeleteOptions{}) },
		"list namespaces": func() error { _, err := agent.CoreV1().Namespaces().List(ctx, all); return err },
	}
	for name, f := range denied {
		if err := f(); !apierrors.IsForbidden(err) {
			t.Errorf("agent may %s: err %v, want Forbidden", name, err)
		}
	}

	// A separate agent process would read this file.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cp.WriteKubeconfig(t, kubeconfig, agentCfg)
	fromFile, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	viaFile := kubernetes.NewForConfigOrDie(fromFile)
	if pods, err := viaFile.CoreV1().Pods("shop").List(ctx, all); err != nil || len(pods.Items) != 1 {
		t.Errorf("agent through the kubeconfig file: %v, %v", pods, err)
	}
	if _, err := viaFile.CoreV1().Secrets("").List(ctx, all); !apierrors.IsForbidden(err) {
		t.Errorf("kubeconfig file lists secrets: %v", err)
	}

	cp.Stop()
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	_, err = admin.CoreV1().Pods("shop").List(short, all)
	cancelShort()
	if err == nil {
		t.Error("the API server answers after Stop")
	}
	addr := cp.URL()
	cp.Restart(t)
	if cp.URL() != addr {
		t.Errorf("address after restart %s, want %s", cp.URL(), addr)
	}
	p, err := admin.CoreV1().Pods("shop").Get(ctx, "api-0", metav1.GetOptions{})
	if err != nil || p.Status.PodIP != "10.42.0.5" {
		t.Errorf("after restart: pod %v, err %v", p, err)
	}
	if _, err := agent.CoreV1().Pods("").List(ctx, all); err != nil {
		t.Errorf("agent token after restart: %v", err)
	}
}
