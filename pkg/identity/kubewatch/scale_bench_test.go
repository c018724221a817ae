package kubewatch_test

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tlsaudit/tlsaudit/internal/kubetest"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"
)

const (
	scalePods     = 10000
	scaleServices = 2000
)

func podAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 100, byte(i >> 8), byte(i)}) }

// BenchmarkClusterScale fills a real API server with 10,000 pods, 2,000 services and
// their EndpointSlices, then measures the agent's informer sync time, the heap the
// identity (informer caches and index) holds per pod, and lookups per second on one
// core. Run with: go test -run '^$' -bench ClusterScale -benchtime 1x ./pkg/identity
func BenchmarkClusterScale(b *testing.B) {
	cp := kubetest.Start(b)
	cfg := cp.AdminConfig()
	cfg.QPS, cfg.Burst = 2000, 2000
	admin := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	fill(b, admin)
	agentCfg := rest.CopyConfig(cp.AgentConfig(b))
	agentCfg.QPS, agentCfg.Burst = 200, 200
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		wctx, cancel := context.WithCancel(ctx)
		c := identity.NewCluster("node-0")
		start := time.Now()
		w, err := kubewatch.Watch(wctx, agentCfg, c, time.Minute, zerolog.Nop())
		if err != nil {
			b.Fatal(err)
		}
		if !w.WaitForSync(wctx) {
			b.Fatal("no sync")
		}
		// Handlers run after the caches fill: wait for the index too.
		for c.Stats().PodAddrs < scalePods {
			time.Sleep(10 * time.Millisecond)
		}
		sync := time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(sync.Seconds(), "sync_s")
		b.ReportMetric(heap/scalePods, "heap_B/pod")
		now := time.Now()
		const n = 5_000_000
		t0 := time.Now()
		for i := range n {
			c.Resolve(netip.AddrPortFrom(podAddr(i%scalePods), 8080), now)
		}
		b.ReportMetric(n/time.Since(t0).Seconds(), "lookups/s")
		runtime.KeepAlive(w)
		cancel()
	}
}

func fill(b *testing.B, cs kubernetes.Interface) {
	ctx := context.Background()
	kubetest.EnsureNamespace(b, cs, "scale")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createScaleObjects(ctx, cs, i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range scalePods {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// createScaleObjects creates pod i with its address set, and for every fifth pod a
// service and an EndpointSlice holding it and the four after it.
func createScaleObjects(ctx context.Context, cs kubernetes.Interface, i int) error {
	yes := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d-x", i), Namespace: "scale",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("app-%d", i/5), UID: "u", Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%50), Containers: []corev1.Container{{Name: "c", Image: "example.test/app:1"}}}}
	p, err := cs.CoreV1().Pods("scale").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	ip := podAddr(i).String()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if _, err := cs.CoreV1().Pods("scale").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		return err
	}
	if i%5 != 0 || i/5 >= scaleServices {
		return nil
	}
	name := fmt.Sprintf("svc-%d", i/5)
	if _, err := cs.CoreV1().Services("scale").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	port := int32(8080)
	var addrs []string
	for j := i; j < i+5; j++ {
		addrs = append(addrs, podAddr(j).String())
	}
	_, err = cs.DiscoveryV1().EndpointSlices("scale").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: addrs, Conditions: discoveryv1.EndpointConditions{Ready: &yes}}},
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}, metav1.CreateOptions{})
	return err
}

// BenchmarkResolve is the lookup alone, on an index of 10,000 pods and 2,000 services.
func BenchmarkResolve(b *testing.B) {
	c := identity.NewCluster("node-0")
	now := time.Now()
	for i := range scalePods {
		c.SetPod(identity.PodInfo{UID: fmt.Sprint(i), Namespace: "scale", Name: fmt.Sprintf("app-%d-x", i), Node: "node-0",
			Owner: identity.Owner{Kind: identity.KindReplicaSet, Name: fmt.Sprintf("app-%d", i/5)}, IPs: []netip.Addr{podAddr(i)}, Created: now.Add(-time.Hour)})
	}
	for s := range scaleServices {
		var addrs []netip.Addr
		for j := s * 5; j < s*5+5; j++ {
			addrs = append(addrs, podAddr(j))
		}
		c.SetSlice(identity.SliceInfo{Namespace: "scale", Name: fmt.Sprintf("svc-%d-1", s), Service: fmt.Sprintf("svc-%d", s), Addrs: addrs, Ports: []uint16{8080}, Ready: true})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := c.Resolve(netip.AddrPortFrom(podAddr(i%scalePods), 8080), now); !ok {
			b.Fatal("unknown")
		}
	}
}
