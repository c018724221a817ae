package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

const (
	chartDir  = "helm/tlsaudit"
	namespace = "tlsaudit"
)

var engines = []string{"ebpf", "afpacket", "auto"}

// allOptional turns on every optional object of the chart.
var allOptional = []string{"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "dashboard.enabled=true"}

// helmBin is the helm that scripts/helm.sh builds (TLSAUDIT_HELM, or its cache).
// The test does not build it: .ci/run and `make helm` do.
func helmBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TLSAUDIT_HELM"); p != "" {
		return p
	}
	p := "/var/cache/tlsaudit/helm-v4.3.2/helm"
	if _, err := os.Stat(p); err != nil {
		t.Skipf("helm v4.3.2 not built (%v): run make helm (scripts/helm.sh)", err)
	}
	return p
}

func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// render is helm template of the chart as release tlsaudit in namespace tlsaudit.
func render(t *testing.T, set ...string) []byte {
	t.Helper()
	return helm(t, append([]string{"template", "tlsaudit", chartDir, "--namespace", namespace}, set...)...)
}

// objects are the decoded documents of a render, by kind.
type objects struct {
	daemonSet       []*appsv1.DaemonSet
	configMaps      []*corev1.ConfigMap
	services        []*corev1.Service
	serviceAccounts []*corev1.ServiceAccount
	namespaces      []*corev1.Namespace
	clusterRoles    []*rbacv1.ClusterRole
	bindings        []*rbacv1.ClusterRoleBinding
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	kinds           []string
}

// documents splits a multi-document YAML stream, dropping empty documents.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(d []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(d, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// add appends a new, empty object to list and returns it to be decoded into.
func add[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

// decodeStrict decodes every document into its Kubernetes (or Prometheus
// Operator) type; an unknown field or kind fails the test.
func decodeStrict(t *testing.T, data []byte) objects {
	t.Helper()
	var o objects
	for _, doc := range documents(data) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("document: %v\n%s", err, doc)
		}
		var into any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 DaemonSet":
			into = add(&o.daemonSet)
		case "v1 ConfigMap":
			into = add(&o.configMaps)
		case "v1 Service":
			into = add(&o.services)
		case "v1 ServiceAccount":
			into = add(&o.serviceAccounts)
		case "v1 Namespace":
			into = add(&o.namespaces)
		case "rbac.authorization.k8s.io/v1 ClusterRole":
			into = add(&o.clusterRoles)
		case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
			into = add(&o.bindings)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			into = add(&o.serviceMonitors)
		case "monitoring.coreos.com/v1 PrometheusRule":
			into = add(&o.rules)
		default:
			t.Fatalf("unexpected object %s %s", meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			t.Fatalf("%s: strict decode: %v\n%s", meta.Kind, err, doc)
		}
		o.kinds = append(o.kinds, meta.Kind)
	}
	slices.Sort(o.kinds)
	return o
}

func TestChartLint(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			out := helm(t, append([]string{"lint", "--strict", chartDir, "--namespace", namespace, "--set", "engine=" + engine}, allOptional...)...)
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestChartSchemaRejects: values.schema.json refuses what the chart cannot render
// correctly, rather than rendering it.
func TestChartSchemaRejects(t *testing.T) {
	for _, set := range []string{"engine=pcap", "bogus=1", "ports.metrics=0", "resources.limits=null", "image.digest=latest", "configWatchInterval=10",
		"probe.interval=0s", "probe.interval=5", "probe.maxTargets=0", "probe.concurrency=0", "probe.rate=-1"} {
		cmd := exec.Command(helmBin(t), "template", "tlsaudit", chartDir, "--set", set)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("--set %s rendered:\n%.300s", set, out)
		}
	}
}

// TestChartObjects renders each engine with every optional object and decodes each
// one strictly; the set of objects is what the chart promises.
func TestChartObjects(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			o := decodeStrict(t, render(t, append([]string{"--set", "engine=" + engine}, allOptional...)...))
			want := []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", "ConfigMap", "DaemonSet", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}
			if !slices.Equal(o.kinds, want) {
				t.Fatalf("objects %v, want %v", o.kinds, want)
			}
			for _, obj := range []interface{ GetLabels() map[string]string }{o.daemonSet[0], o.services[0], o.serviceAccounts[0], o.clusterRoles[0], o.rules[0], o.serviceMonitors[0]} {
				for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
					if obj.GetLabels()[l] == "" {
						t.Errorf("%T has no label %s", obj, l)
					}
				}
			}
		})
	}
	o := decodeStrict(t, render(t))
	want := []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Service", "ServiceAccount"}
	if !slices.Equal(o.kinds, want) {
		t.Errorf("default objects %v, want %v", o.kinds, want)
	}
	o = decodeStrict(t, render(t, "--set", "kubernetes.enabled=false"))
	if len(o.clusterRoles) != 0 || *o.daemonSet[0].Spec.Template.Spec.AutomountServiceAccountToken || slices.Contains(o.daemonSet[0].Spec.Template.Spec.Containers[0].Args, "--kubernetes") {
		t.Error("kubernetes.enabled=false still grants or mounts API access")
	}
}

// TestDaemonSetSecurity is the security lint of the rendered DaemonSet, per engine:
// exactly the capabilities pkg/capture checks for, nothing privileged.
func TestDaemonSetSecurity(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ds := decodeStrict(t, render(t, "--set", "engine="+engine)).daemonSet[0]
			pod := ds.Spec.Template.Spec
			if pod.HostPID || pod.HostIPC {
				t.Error("hostPID or hostIPC")
			}
			if !pod.HostNetwork {
				t.Error("not on the host network: the agent would see only its own pod")
			}
			if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Error("pod seccomp profile is not RuntimeDefault")
			}
			for _, v := range pod.Volumes {
				if v.HostPath != nil {
					t.Errorf("hostPath volume %s", v.Name)
				}
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("%d containers, %d init containers", len(pod.Containers), len(pod.InitContainers))
			}
			c := pod.Containers[0]
			sc := c.SecurityContext
			if sc == nil {
				t.Fatal("no container securityContext")
			}
			if sc.Privileged == nil || *sc.Privileged {
				t.Error("privileged not set false")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("allowPrivilegeEscalation not false")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("root filesystem not read-only")
			}
			if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Error("capabilities do not drop ALL")
			}
			var added []string
			for _, c := range sc.Capabilities.Add {
				added = append(added, string(c))
			}
			want := capture.EngineCapabilities(engine)
			slices.Sort(added)
			slices.Sort(want)
			if !slices.Equal(added, want) {
				t.Errorf("capabilities %v, the %s engine needs exactly %v", added, engine, want)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Limits[r]; !ok || q.IsZero() {
					t.Errorf("no %s limit", r)
				}
				if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
					t.Errorf("no %s request", r)
				}
			}
			var node bool
			for _, e := range c.Env {
				node = node || e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName"
			}
			if !node {
				t.Error("NODE_NAME does not come from spec.nodeName")
			}
			if !slices.Contains(c.Args, "--engine="+engine) {
				t.Errorf("args %v do not choose engine %s", c.Args, engine)
			}
			var everywhere bool
			for _, tol := range pod.Tolerations {
				everywhere = everywhere || tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == ""
			}
			if !everywhere {
				t.Errorf("tolerations %v do not reach every node", pod.Tolerations)
			}
			if u := ds.Spec.UpdateStrategy; u.Type != appsv1.RollingUpdateDaemonSetStrategyType || u.RollingUpdate == nil || u.RollingUpdate.MaxUnavailable == nil {
				t.Errorf("update strategy %+v has no rolling maxUnavailable", u)
			}
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Error("no liveness or readiness probe")
			}
		})
	}
	ds := decodeStrict(t, render(t, "--set", "priorityClassName=system-node-critical")).daemonSet[0]
	if ds.Spec.Template.Spec.PriorityClassName != "system-node-critical" {
		t.Error("priorityClassName not applied")
	}
}

// TestChartConfigLoads: the ConfigMap the chart renders is a policy and a names
// file the agent accepts, with values given through the chart too.
func TestChartConfigLoads(t *testing.T) {
	o := decodeStrict(t, render(t, "--set", "names[0].cidr=10.9.0.0/16", "--set", "names[0].namespace=legacy", "--set", "names[0].workload=mainframe"))
	cm := o.configMaps[0]
	pol, err := policy.Parse([]byte(cm.Data["config.yaml"]), "config.yaml")
	if err != nil {
		t.Fatalf("rendered policy: %v\n%s", err, cm.Data["config.yaml"])
	}
	if len(pol.Exemptions) != 1 || pol.MinVersion.String() != "TLS1.2" {
		t.Errorf("policy %+v", pol)
	}
	names, err := identity.Parse([]byte(cm.Data["names.yaml"]), "names.yaml")
	if err != nil {
		t.Fatalf("rendered names: %v\n%s", err, cm.Data["names.yaml"])
	}
	if names.Len() != 1 {
		t.Errorf("%d names, want 1", names.Len())
	}
	c := o.daemonSet[0].Spec.Template.Spec.Containers[0]
	for _, arg := range []string{"--config=/etc/tlsaudit/config.yaml", "--names=/etc/tlsaudit/names.yaml", "--watch-config=10s", "--kubernetes"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/tlsaudit" || o.daemonSet[0].Spec.Template.Spec.Volumes[0].ConfigMap.Name != cm.Name {
		t.Error("the ConfigMap is not mounted at /etc/tlsaudit")
	}
}

// TestChartProbe: the active probe is off unless probe.enabled, and then gets every
// bound the values give.
func TestChartProbe(t *testing.T) {
	hasProbe := func(args []string) bool {
		return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--probe-") })
	}
	if args := decodeStrict(t, render(t)).daemonSet[0].Spec.Template.Spec.Containers[0].Args; hasProbe(args) {
		t.Errorf("probing is on by default: %v", args)
	}
	args := decodeStrict(t, render(t, "--set", "probe.enabled=true", "--set", "probe.interval=10m", "--set", "probe.maxTargets=64",
		"--set-json", "probe.rate=0.5")).daemonSet[0].Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--probe-interval=10m", "--probe-max-targets=64", "--probe-timeout=5s", "--probe-concurrency=2", "--probe-rate=0.5"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
}

// TestChartCopiesCurrent: the chart's files are copies of their one source
// (make manifests copies them), and the rendered objects carry them unchanged.
func TestChartCopiesCurrent(t *testing.T) {
	for copy, src := range map[string]string{
		"helm/tlsaudit/files/tlsaudit-rules.yaml":     "prometheus/tlsaudit-rules.yaml",
		"helm/tlsaudit/files/tlsaudit-dashboard.json": "grafana/tlsaudit-dashboard.json",
	} {
		a, errA := os.ReadFile(copy)
		b, errB := os.ReadFile(src)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: run make manifests", copy, src)
		}
	}
	o := decodeStrict(t, render(t, allOptional...))

	var plain struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	data, _ := os.ReadFile("prometheus/tlsaudit-rules.yaml")
	if err := yaml.UnmarshalStrict(data, &plain); err != nil {
		t.Fatal(err)
	}
	if len(plain.Groups) == 0 || !reflect.DeepEqual(o.rules[0].Spec.Groups, plain.Groups) {
		t.Error("the PrometheusRule's groups are not those of prometheus/tlsaudit-rules.yaml")
	}

	dash, _ := os.ReadFile("grafana/tlsaudit-dashboard.json")
	var board *corev1.ConfigMap
	for _, cm := range o.configMaps {
		if cm.Labels["grafana_dashboard"] == "1" {
			board = cm
		}
	}
	if board == nil || strings.TrimSpace(board.Data["tlsaudit.json"]) != strings.TrimSpace(string(dash)) {
		t.Error("no dashboard ConfigMap labelled grafana_dashboard=1 holding grafana/tlsaudit-dashboard.json")
	}

	rules, err := kubetest.ReadRules("helm/tlsaudit/files/clusterrole-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.clusterRoles[0].Rules, rules) {
		t.Errorf("ClusterRole rules %v, want those of files/clusterrole-rules.yaml", o.clusterRoles[0].Rules)
	}
	sm := o.serviceMonitors[0]
	if sm.Spec.Endpoints[0].Port != o.services[0].Spec.Ports[0].Name || !reflect.DeepEqual(sm.Spec.Selector.MatchLabels, o.services[0].Spec.Selector) {
		t.Error("the ServiceMonitor does not select the metrics Service's port")
	}
}

// TestManifestsCurrent renders the manifests with the script make manifests runs
// and compares them with deploy/kubernetes.
func TestManifestsCurrent(t *testing.T) {
	helmBin(t)
	dir := t.TempDir()
	cmd := exec.Command("bash", "../scripts/render-manifests.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("render-manifests: %v\n%s", err, out)
	}
	rendered, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(rendered) != 3 {
		t.Fatalf("rendered %v", rendered)
	}
	for _, p := range rendered {
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join("kubernetes", filepath.Base(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("kubernetes/%s is not current (%v): run make manifests", filepath.Base(p), err)
		}
		decodeStrict(t, got)
	}
	ns := decodeStrict(t, mustRead(t, "kubernetes/namespace.yaml")).namespaces
	if len(ns) != 1 || ns[0].Name != namespace || ns[0].Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Errorf("kubernetes/namespace.yaml: %+v", ns)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
