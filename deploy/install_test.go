package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"
)

// warnings collects the API server's warning headers (Pod Security among them).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// apply creates every object of the files for real, as kubectl apply would on an
// empty cluster, with strict server-side field validation.
func apply(t *testing.T, cfg *rest.Config, files ...string) {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, doc := range documents(mustRead(t, f)) {
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Fatalf("%s: %s: %v", f, gvk, err)
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
			}
			if _, err := ri.Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("%s: create %s %s/%s: %v", f, gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
			}
		}
	}
}

// TestManifestsInstall applies the rendered manifests to a real kube-apiserver with
// RBAC on, then runs the agent as the chart's ServiceAccount: its informers must
// sync, so a rule missing from the chart's ClusterRole fails here.
func TestManifestsInstall(t *testing.T) {
	cp := kubetest.Start(t)
	admin := cp.AdminConfig()
	var warned warnings
	admin.WarningHandler = &warned
	apply(t, admin, "kubernetes/namespace.yaml", "kubernetes/tlsaudit.yaml")
	if len(warned.list) > 0 {
		t.Errorf("the API server warned: %q", warned.list)
	}
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := cs.AppsV1().DaemonSets(namespace).Get(context.Background(), "tlsaudit", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the DaemonSet is not there: %v", err)
	}
	agentSA := cp.ServiceAccountConfig(t, namespace, ds.Spec.Template.Spec.ServiceAccountName)

	t.Run("informers", func(t *testing.T) {
		if ok, status := syncs(t, agentSA, 60*time.Second); !ok {
			t.Fatalf("informers did not sync with the chart's ServiceAccount: %s", status)
		}
	})
	t.Run("agent", func(t *testing.T) { runAgent(t, cp, agentSA, ds.Spec.Template.Spec.Containers[0].Args) })

	// Proof that the sync above depends on the chart's rules: without the jobs rule
	// the same account's informers never sync.
	t.Run("missing rule fails", func(t *testing.T) {
		role, err := cs.RbacV1().ClusterRoles().Get(context.Background(), "tlsaudit", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var kept = role.Rules[:0]
		for _, r := range role.Rules {
			if len(r.Resources) != 1 || r.Resources[0] != "jobs" {
				kept = append(kept, r)
			}
		}
		role.Rules = kept
		if _, err := cs.RbacV1().ClusterRoles().Update(context.Background(), role, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := syncs(t, agentSA, 8*time.Second); ok {
			t.Fatal("the informers synced without the rule for jobs")
		}
	})
}

// syncs starts the identity informers with cfg and says whether they synced in time.
func syncs(t *testing.T, cfg *rest.Config, within time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	w, err := kubewatch.Watch(ctx, rest.CopyConfig(cfg), identity.NewCluster("node-a"), time.Second, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ok := w.WaitForSync(ctx)
	return ok, w.Status().Reason
}

// runAgent runs the tlsaudit binary with the DaemonSet's own arguments — only the
// addresses, the mounted files and in-cluster credentials swapped for local ones,
// and no interface matched — until /readyz answers 200 and every informer reports
// synced in /metrics.
func runAgent(t *testing.T, cp *kubetest.ControlPlane, cfg *rest.Config, dsArgs []string) {
	if os.Geteuid() != 0 {
		t.Skip("the agent's capture engine needs root (CI runs as root)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tlsaudit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tlsaudit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	o := decodeStrict(t, mustRead(t, "kubernetes/tlsaudit.yaml"))
	for name, data := range o.configMaps[0].Data {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cp.WriteKubeconfig(t, kubeconfig, cfg)
	listen, metrics := freeAddr(t), freeAddr(t)
	var args []string
	for _, a := range dsArgs {
		switch {
		case strings.HasPrefix(a, "--interface="), strings.HasPrefix(a, "--exclude-interface="):
		case strings.HasPrefix(a, "--listen="):
			args = append(args, "--listen="+listen)
		case strings.HasPrefix(a, "--metrics-addr="):
			args = append(args, "--metrics-addr="+metrics)
		case strings.HasPrefix(a, "--config=/etc/tlsaudit/"), strings.HasPrefix(a, "--names=/etc/tlsaudit/"):
			args = append(args, strings.Replace(a, "/etc/tlsaudit", dir, 1))
		case a == "--kubernetes":
			args = append(args, "--kubeconfig="+kubeconfig)
		default:
			args = append(args, a)
		}
	}
	args = append(args, "--interface=tlsaudit-test-none")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "NODE_NAME=node-a")
	logs, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel()
		<-exited
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("agent %v:\n%s", args, out)
		}
	}()

	deadline := time.Now().Add(60 * time.Second)
	var last string
	for {
		code, body := get("http://" + listen + "/readyz")
		if code == http.StatusOK {
			break
		}
		last = fmt.Sprint(code, " ", body)
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the agent exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after 60s: %s", last)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, scrape := get("http://" + metrics + "/metrics")
	for _, r := range kubewatch.Resources {
		if want := fmt.Sprintf("tlsaudit_kube_informer_synced{resource=%q} 1", r); !strings.Contains(scrape, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(scrape, "tlsaudit_kube_api_reachable 1") {
		t.Error("metrics do not say the API server is reachable")
	}
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
