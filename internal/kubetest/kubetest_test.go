package kubetest

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The agent's token may list and watch what the informers read, and nothing else.
func TestAgentRBAC(t *testing.T) {
	cp := Start(t)
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(cp.AdminConfig())
	agent := kubernetes.NewForConfigOrDie(cp.AgentConfig(t))
	pod := CreatePod(t, admin, Pod{Namespace: "shop", Name: "api-0", IP: "10.42.0.5", Node: "node-a"})
	if pod.Status.PodIP != "10.42.0.5" {
		t.Fatalf("pod IP %q", pod.Status.PodIP)
	}
	all := metav1.ListOptions{}
	allowed := map[string]func() error{
		"pods":           func() error { _, err := agent.CoreV1().Pods("").List(ctx, all); return err },
		"services":       func() error { _, err := agent.CoreV1().Services("").List(ctx, all); return err },
		"nodes":          func() error { _, err := agent.CoreV1().Nodes().List(ctx, all); return err },
		"endpointslices": func() error { _, err := agent.DiscoveryV1().EndpointSlices("").List(ctx, all); return err },
		"replicasets":    func() error { _, err := agent.AppsV1().ReplicaSets("").List(ctx, all); return err },
		"jobs":           func() error { _, err := agent.BatchV1().Jobs("").List(ctx, all); return err },
		"watch pods": func() error {
			w, err := agent.CoreV1().Pods("").Watch(ctx, all)
			if err == nil {
				w.Stop()
			}
			return err
		},
	}
	for name, f := range allowed {
		if err := f(); err != nil {
			t.Errorf("agent cannot %s: %v", name, err)
		}
	}
	denied := map[string]func() error{
		"list secrets": func() error { _, err := agent.CoreV1().Secrets("").List(ctx, all); return err },
		"get configmap": func() error {
			_, err := agent.CoreV1().ConfigMaps("shop").Get(ctx, "x", metav1.GetOptions{})
			return err
		},
		"get pod":    func() error { _, err := agent.CoreV1().Pods("shop").Get(ctx, "api-0", metav1.GetOptions{}); return err },
		"delete pod": func() error { return agent.CoreV1().Pods("shop").Delete(ctx, "api-0", metav1.DeleteOptions{}) },
	}
	for name, f := range denied {
		if err := f(); !apierrors.IsForbidden(err) {
			t.Errorf("agent may %s: %v", name, err)
		}
	}
	cp.Stop()
	if _, err := admin.CoreV1().Pods("shop").List(ctx, all); err == nil {
		t.Error("the API server answers after Stop")
	}
	cp.Restart(t)
	if p, err := admin.CoreV1().Pods("shop").Get(ctx, "api-0", metav1.GetOptions{}); err != nil || p.Status.PodIP != "10.42.0.5" {
		t.Errorf("after restart: %v %v", p, err)
	}
}
