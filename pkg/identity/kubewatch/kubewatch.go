// Package kubewatch keeps an identity.Cluster current from the Kubernetes API with
// client-go informers, for the node agent. It is the only part of identity that
// needs client-go, so the command line without the agent links none of it.
package kubewatch

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsaudit/tlsaudit/pkg/identity"
)

// Resources the informers watch, as the metrics' resource label names them. They
// are exactly what deploy/helm/tlsaudit/files/clusterrole-rules.yaml grants.
var Resources = []string{"pods", "services", "endpointslices", "nodes", "replicasets", "jobs"}

// ClientConfig is the API server connection: from a kubeconfig file, or the pod's
// service account when path is empty.
func ClientConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config (give --kubeconfig outside a pod): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// Watcher keeps a Cluster index current with shared informers. It never blocks the
// agent: while the API server is unreachable the index keeps what it had, names
// that are not in it fall back to the static file or addresses, and Status says why.
type Watcher struct {
	cluster     *identity.Cluster
	log         zerolog.Logger
	synced      map[string]cache.InformerSynced
	watchErrors atomic.Uint64
	mu          sync.Mutex
	reachable   bool
	lastErr     string
	probe       func(context.Context) error
}

// Watch starts informers for Resources through cfg feeding c, and a probe of the
// API server every probeEvery. It returns at once; everything stops with ctx.
func Watch(ctx context.Context, cfg *rest.Config, c *identity.Cluster, probeEvery time.Duration, log zerolog.Logger) (*Watcher, error) {
	w := &Watcher{cluster: c, log: log.With().Str("component", "kube").Logger(), synced: map[string]cache.InformerSynced{}}
	cfg = rest.CopyConfig(cfg)
	// Every failed list or watch call is counted here: the reflectors retry them
	// quietly, so their own error hook does not see a server that refuses connections.
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countErrors{rt, &w.watchErrors} })
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	w.probe = func(ctx context.Context) error {
		return cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(strip))
	add := func(resource string, inf cache.SharedIndexInformer, h cache.ResourceEventHandlerFuncs) {
		_, _ = inf.AddEventHandler(h)
		w.synced[resource] = inf.HasSynced
	}
	add("pods", f.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { onPod(c, o) },
		UpdateFunc: func(_, o any) { onPod(c, o) },
		DeleteFunc: func(o any) {
			if p, ok := tombstone(o).(*podEntry); ok {
				c.DeletePod(p.info.UID)
			}
		},
	})
	add("services", f.Core().V1().Services().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { onService(c, o) },
		UpdateFunc: func(_, o any) { onService(c, o) },
		DeleteFunc: func(o any) {
			if s, ok := tombstone(o).(*corev1.Service); ok {
				c.DeleteService(s.Namespace, s.Name)
			}
		},
	})
	add("endpointslices", f.Discovery().V1().EndpointSlices().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { onSlice(c, o) },
		UpdateFunc: func(_, o any) { onSlice(c, o) },
		DeleteFunc: func(o any) {
			if s, ok := tombstone(o).(*discoveryv1.EndpointSlice); ok {
				c.DeleteSlice(s.Namespace, s.Name)
			}
		},
	})
	add("nodes", f.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { onNode(c, o) },
		UpdateFunc: func(_, o any) { onNode(c, o) },
		DeleteFunc: func(o any) {
			if n, ok := tombstone(o).(*corev1.Node); ok {
				c.DeleteNode(n.Name)
			}
		},
	})
	add("replicasets", f.Apps().V1().ReplicaSets().Informer(), ownerHandler(c, identity.KindReplicaSet))
	add("jobs", f.Batch().V1().Jobs().Informer(), ownerHandler(c, identity.KindJob))
	f.Start(ctx.Done())
	go w.probeLoop(ctx, probeEvery)
	return w, nil
}

// countErrors counts list and watch requests that fail: no answer, or an error
// status.
type countErrors struct {
	next   http.RoundTripper
	errors *atomic.Uint64
}

func (c countErrors) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api") && (err != nil || resp.StatusCode >= 400) {
		c.errors.Add(1)
	}
	return resp, err
}

func onPod(c *identity.Cluster, o any) {
	if p, ok := o.(*podEntry); ok {
		c.SetPod(p.info)
	}
}

// podEntry is what the pod informer's cache holds of a pod: its PodInfo, and the
// metadata the informer itself reads (key and resource version). Pods are most of
// a cluster's objects, and a corev1.Pod, even stripped to a few fields, is a
// 1.2 KB struct of mostly empty ones; this is about a third of that.
type podEntry struct {
	metav1.ObjectMeta
	info identity.PodInfo
}

func newPodEntry(p *corev1.Pod) *podEntry {
	return &podEntry{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion},
		info:       identity.PodInfoOf(kubePod(p)),
	}
}

// GetObjectKind implements runtime.Object; the cache never asks a pod its kind.
func (p *podEntry) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (p *podEntry) DeepCopyObject() runtime.Object {
	c := &podEntry{info: p.info}
	p.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	c.info.IPs = slices.Clone(p.info.IPs)
	return c
}

func onService(c *identity.Cluster, o any) {
	if s, ok := o.(*corev1.Service); ok {
		c.SetService(identity.ServiceInfoOf(kubeService(s)))
	}
}

func onSlice(c *identity.Cluster, o any) {
	if s, ok := o.(*discoveryv1.EndpointSlice); ok {
		c.SetSlice(identity.SliceInfoOf(kubeSlice(s)))
	}
}

func onNode(c *identity.Cluster, o any) {
	if n, ok := o.(*corev1.Node); ok {
		c.SetNode(n.Name, identity.NodeAddrsOf(nodeAddresses(n)))
	}
}

// ownerHandler keeps the controller of ReplicaSets or Jobs (kind).
func ownerHandler(c *identity.Cluster, kind string) cache.ResourceEventHandlerFuncs {
	set := func(o any) {
		if m, ok := o.(metav1.Object); ok {
			c.SetOwner(m.GetNamespace(), kind, m.GetName(), identity.ControllerOf(ownerRefs(m.GetOwnerReferences())))
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, o any) { set(o) },
		DeleteFunc: func(o any) {
			if m, ok := tombstone(o).(metav1.Object); ok {
				c.DeleteOwner(m.GetNamespace(), kind, m.GetName())
			}
		},
	}
}

// The API's objects as identity reads them: the same fields a kubectl dump gives
// identity.LoadSnapshot, copied out of the API's Go types.

func objectMeta(m *metav1.ObjectMeta) identity.ObjectMeta {
	return identity.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: string(m.UID), Labels: m.Labels,
		OwnerReferences: ownerRefs(m.OwnerReferences), CreationTimestamp: m.CreationTimestamp.Time}
}

func ownerRefs(refs []metav1.OwnerReference) []identity.OwnerReference {
	out := make([]identity.OwnerReference, len(refs))
	for i, r := range refs {
		out[i] = identity.OwnerReference{Kind: r.Kind, Name: r.Name, Controller: r.Controller}
	}
	return out
}

func kubePod(p *corev1.Pod) *identity.KubePod {
	k := &identity.KubePod{Metadata: objectMeta(&p.ObjectMeta)}
	k.Spec.NodeName, k.Spec.HostNetwork = p.Spec.NodeName, p.Spec.HostNetwork
	k.Status.Phase, k.Status.PodIP = string(p.Status.Phase), p.Status.PodIP
	for _, ip := range p.Status.PodIPs {
		k.Status.PodIPs = append(k.Status.PodIPs, identity.KubePodIP{IP: ip.IP})
	}
	return k
}

func kubeService(s *corev1.Service) *identity.KubeService {
	k := &identity.KubeService{Metadata: objectMeta(&s.ObjectMeta)}
	k.Spec.ClusterIP, k.Spec.ClusterIPs = s.Spec.ClusterIP, s.Spec.ClusterIPs
	return k
}

func kubeSlice(s *discoveryv1.EndpointSlice) *identity.KubeEndpointSlice {
	k := &identity.KubeEndpointSlice{Metadata: objectMeta(&s.ObjectMeta)}
	for _, ep := range s.Endpoints {
		e := identity.KubeEndpoint{Addresses: ep.Addresses}
		e.Conditions.Ready = ep.Conditions.Ready
		k.Endpoints = append(k.Endpoints, e)
	}
	for _, p := range s.Ports {
		k.Ports = append(k.Ports, identity.KubeEndpointPort{Port: p.Port})
	}
	return k
}

func nodeAddresses(n *corev1.Node) []identity.KubeNodeAddress {
	out := make([]identity.KubeNodeAddress, len(n.Status.Addresses))
	for i, a := range n.Status.Addresses {
		out[i] = identity.KubeNodeAddress{Type: string(a.Type), Address: a.Address}
	}
	return out
}

// tombstone unwraps the final state of an object whose deletion a re-list found.
func tombstone(o any) any {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return o
}

// strip is the informers' transform: it keeps only the fields the index reads, so
// the informer caches hold a few hundred bytes per object, not whole specs with
// managedFields.
func strip(o any) (any, error) {
	meta := func(m metav1.ObjectMeta, labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
			OwnerReferences: m.OwnerReferences, Labels: labels}
	}
	switch v := o.(type) {
	case *corev1.Pod:
		return newPodEntry(v), nil
	case *corev1.Service:
		return &corev1.Service{ObjectMeta: meta(v.ObjectMeta, nil),
			Spec: corev1.ServiceSpec{ClusterIP: v.Spec.ClusterIP, ClusterIPs: v.Spec.ClusterIPs}}, nil
	case *discoveryv1.EndpointSlice:
		var labels map[string]string
		if n, ok := v.Labels[discoveryv1.LabelServiceName]; ok {
			labels = map[string]string{discoveryv1.LabelServiceName: n}
		}
		eps := make([]discoveryv1.Endpoint, len(v.Endpoints))
		for i, ep := range v.Endpoints {
			eps[i] = discoveryv1.Endpoint{Addresses: ep.Addresses, Conditions: discoveryv1.EndpointConditions{Ready: ep.Conditions.Ready}}
		}
		ports := make([]discoveryv1.EndpointPort, len(v.Ports))
		for i, p := range v.Ports {
			ports[i] = discoveryv1.EndpointPort{Port: p.Port}
		}
		return &discoveryv1.EndpointSlice{ObjectMeta: meta(v.ObjectMeta, labels), AddressType: v.AddressType, Endpoints: eps, Ports: ports}, nil
	case *corev1.Node:
		return &corev1.Node{ObjectMeta: meta(v.ObjectMeta, nil), Status: corev1.NodeStatus{Addresses: v.Status.Addresses}}, nil
	case *appsv1.ReplicaSet:
		return &appsv1.ReplicaSet{ObjectMeta: meta(v.ObjectMeta, nil)}, nil
	case *batchv1.Job:
		return &batchv1.Job{ObjectMeta: meta(v.ObjectMeta, nil)}, nil
	}
	return o, nil
}

func (w *Watcher) probeLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, every)
		err := w.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.setReachable(false, fmt.Sprintf("api server: %v", err))
		} else {
			w.setReachable(true, "")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) setReachable(ok bool, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ok != w.reachable {
		if ok {
			w.log.Info().Msg("api server reachable; names come from the cluster again")
		} else {
			w.log.Warn().Str("reason", why).Msg("api server unreachable; names fall back to the static file and addresses")
		}
	}
	w.reachable = ok
	if !ok {
		w.lastErr = why
	}
}

// Status is the watcher's state now: which informers have synced, whether the API
// server answers, and why not.
type Status struct {
	Synced    map[string]bool
	Reachable bool
	Reason    string // "" when ready
}

// Ready reports whether every informer synced and the API server answers.
func (s Status) Ready() bool { return s.Reason == "" }

// Status reports the watcher's state.
func (w *Watcher) Status() Status {
	s := Status{Synced: map[string]bool{}}
	var unsynced []string
	for _, r := range Resources {
		s.Synced[r] = w.synced[r]()
		if !s.Synced[r] {
			unsynced = append(unsynced, r)
		}
	}
	w.mu.Lock()
	s.Reachable = w.reachable
	lastErr := w.lastErr
	w.mu.Unlock()
	switch {
	case !s.Reachable && lastErr != "":
		s.Reason = "kubernetes " + lastErr
	case !s.Reachable:
		s.Reason = "kubernetes api server not reached yet"
	case len(unsynced) > 0:
		s.Reason = fmt.Sprintf("kubernetes informers not synced: %v", unsynced)
	}
	return s
}

// WaitForSync waits until every informer synced or ctx ends; it reports which.
func (w *Watcher) WaitForSync(ctx context.Context) bool {
	fns := make([]cache.InformerSynced, 0, len(w.synced))
	for _, f := range w.synced {
		fns = append(fns, f)
	}
	return cache.WaitForCacheSync(ctx.Done(), fns...)
}

var (
	descSynced = prometheus.NewDesc("tlsaudit_kube_informer_synced",
		"Whether the informer of a Kubernetes resource has synced (1) or not (0).", []string{"resource"}, nil)
	descWatchErrors = prometheus.NewDesc("tlsaudit_kube_watch_errors_total",
		"Errors of the Kubernetes list/watch calls; names fall back to the static file and addresses meanwhile.", nil, nil)
	descReachable = prometheus.NewDesc("tlsaudit_kube_api_reachable",
		"Whether the Kubernetes API server answered the last probe (1) or not (0).", nil, nil)
	descPodAddrs = prometheus.NewDesc("tlsaudit_kube_pod_addresses",
		"Pod addresses the identity index holds, with the lifetimes of recently deleted pods.", nil, nil)
)

// Describe implements prometheus.Collector.
func (w *Watcher) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSynced
	ch <- descWatchErrors
	ch <- descReachable
	ch <- descPodAddrs
}

// Collect implements prometheus.Collector.
func (w *Watcher) Collect(ch chan<- prometheus.Metric) {
	s := w.Status()
	for _, r := range Resources {
		ch <- prometheus.MustNewConstMetric(descSynced, prometheus.GaugeValue, b2f(s.Synced[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descWatchErrors, prometheus.CounterValue, float64(w.watchErrors.Load()))
	ch <- prometheus.MustNewConstMetric(descReachable, prometheus.GaugeValue, b2f(s.Reachable))
	ch <- prometheus.MustNewConstMetric(descPodAddrs, prometheus.GaugeValue, float64(w.cluster.Stats().PodAddrs))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
