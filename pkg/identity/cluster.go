package identity

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Workload kinds as kubectl names them. A pod with no controller is its own
// workload (KindPod); node addresses and hostNetwork pods are KindNode.
const (
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindJob         = "Job"
	KindCronJob     = "CronJob"
	KindPod         = "Pod"
	KindNode        = "Node"
	KindService     = "Service"
)

// maxSpansPerIP bounds the pod lifetimes remembered for one address: an address
// reused faster than this is rare, and the oldest lifetimes matter least.
const maxSpansPerIP = 8

// DefaultRetention is how long a deleted pod's lifetime stays in the index, so that
// flows first seen before the deletion, and decided or finished later, keep its name.
const DefaultRetention = 15 * time.Minute

// Owner is a controller reference as the index keeps it.
type Owner struct {
	Kind, Name string
}

// PodInfo is what the index needs of a pod.
type PodInfo struct {
	UID, Namespace, Name, Node string
	Owner                      Owner // zero: no controller
	IPs                        []netip.Addr
	HostNetwork                bool
	Created                    time.Time
}

// ServiceInfo is what the index needs of a service.
type ServiceInfo struct {
	Namespace, Name string
	ClusterIPs      []netip.Addr
}

// SliceInfo is what the index needs of an EndpointSlice: the service it belongs to
// and the addresses and ports of its endpoints.
type SliceInfo struct {
	Namespace, Name, Service string
	Addrs                    []netip.Addr
	Ports                    []uint16
	// Ready is whether at least one endpoint is ready (or its readiness unknown).
	Ready bool
}

// podSpan is one pod's hold on an address: [created, deleted); deleted zero while
// the pod lives.
type podSpan struct {
	uid              string
	namespace, name  string
	node             string
	owner            Owner
	hostNetwork      bool
	created, deleted time.Time
}

type nsName struct{ namespace, name string }

// ownedKey names a ReplicaSet or Job.
type ownedKey struct{ namespace, kind, name string }

type endpointKey struct {
	addr netip.Addr
	port uint16
}

// Cluster is an index of a Kubernetes cluster's addresses, fed by informers (Watch)
// or by a kubectl dump (LoadSnapshot). It resolves an address as it was at a time:
// each pod's lifetime is kept per address, so an address reused by a new pod does
// not rename flows first seen before the old pod died. Safe for concurrent use:
// updates take a write lock, lookups a read lock.
type Cluster struct {
	mu        sync.RWMutex
	node      string // this agent's node; "" offline
	retention time.Duration
	pods      map[netip.Addr][]podSpan
	podIPs    map[string][]netip.Addr // uid → addresses, to end spans on delete
	owners    map[ownedKey]Owner      // ReplicaSet or Job → its controller
	services  map[netip.Addr]nsName   // ClusterIP → service
	slices    map[nsName]SliceInfo    // EndpointSlice → what it holds
	endpoints map[endpointKey][]string
	backends  map[nsName]int // service → EndpointSlices with a ready endpoint
	nodes     map[netip.Addr]string
	now       func() time.Time
}

// NewCluster returns an empty index for the agent on node (NODE_NAME; "" offline).
func NewCluster(node string) *Cluster {
	return &Cluster{
		node: node, retention: DefaultRetention, now: time.Now,
		pods: map[netip.Addr][]podSpan{}, podIPs: map[string][]netip.Addr{},
		owners: map[ownedKey]Owner{}, services: map[netip.Addr]nsName{},
		slices: map[nsName]SliceInfo{}, endpoints: map[endpointKey][]string{},
		backends: map[nsName]int{}, nodes: map[netip.Addr]string{},
	}
}

// Node is the node this index was built for.
func (c *Cluster) Node() string { return c.node }

// SetPod adds a pod or updates it. Addresses it no longer holds end their span now.
func (c *Cluster) SetPod(p PodInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, old := range c.podIPs[p.UID] {
		if !slices.Contains(p.IPs, old) {
			c.endSpan(old, p.UID, now)
		}
	}
	for _, ip := range p.IPs {
		ip = ip.Unmap()
		spans := c.pods[ip]
		i := slices.IndexFunc(spans, func(s podSpan) bool { return s.uid == p.UID && s.deleted.IsZero() })
		s := podSpan{uid: p.UID, namespace: p.Namespace, name: p.Name, node: p.Node, owner: p.Owner,
			hostNetwork: p.HostNetwork, created: p.Created}
		if i >= 0 {
			spans[i] = s
			continue
		}
		if len(spans) >= maxSpansPerIP {
			spans = slices.Delete(spans, 0, 1)
		}
		c.pods[ip] = append(spans, s)
	}
	c.podIPs[p.UID] = slices.Clone(p.IPs)
	c.pruneLocked(now)
}

// DeletePod ends the lifetime of a pod's addresses now.
func (c *Cluster) DeletePod(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, ip := range c.podIPs[uid] {
		c.endSpan(ip, uid, now)
	}
	delete(c.podIPs, uid)
}

func (c *Cluster) endSpan(ip netip.Addr, uid string, at time.Time) {
	for i := range c.pods[ip] {
		if s := &c.pods[ip][i]; s.uid == uid && s.deleted.IsZero() {
			s.deleted = at
		}
	}
}

// pruneLocked forgets deleted spans older than the retention. It looks at a few
// addresses only: every update pays a little, none pays for the whole index.
func (c *Cluster) pruneLocked(now time.Time) {
	n := 0
	for ip, spans := range c.pods {
		if n++; n > 4 {
			return
		}
		spans = slices.DeleteFunc(spans, func(s podSpan) bool {
			return !s.deleted.IsZero() && now.Sub(s.deleted) > c.retention
		})
		if len(spans) == 0 {
			delete(c.pods, ip)
		} else {
			c.pods[ip] = spans
		}
	}
}

// SetOwner records the controller of a ReplicaSet or Job (zero Owner: none).
func (c *Cluster) SetOwner(namespace, kind, name string, owner Owner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := ownedKey{namespace, kind, name}
	if owner == (Owner{}) {
		delete(c.owners, k)
		return
	}
	c.owners[k] = owner
}

// DeleteOwner forgets a ReplicaSet's or Job's controller.
func (c *Cluster) DeleteOwner(namespace, kind, name string) {
	c.SetOwner(namespace, kind, name, Owner{})
}

// SetService adds or updates a service's cluster IPs.
func (c *Cluster) SetService(s ServiceInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := nsName{s.Namespace, s.Name}
	for ip, n := range c.services {
		if n == k {
			delete(c.services, ip)
		}
	}
	for _, ip := range s.ClusterIPs {
		c.services[ip.Unmap()] = k
	}
}

// DeleteService forgets a service's cluster IPs.
func (c *Cluster) DeleteService(namespace, name string) {
	c.SetService(ServiceInfo{Namespace: namespace, Name: name})
}

// SetSlice adds or replaces an EndpointSlice.
func (c *Cluster) SetSlice(s SliceInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleteSliceLocked(nsName{s.Namespace, s.Name})
	if s.Service == "" {
		return
	}
	c.slices[nsName{s.Namespace, s.Name}] = s
	svc := s.Namespace + "/" + s.Service
	for _, a := range s.Addrs {
		for _, p := range s.Ports {
			k := endpointKey{a.Unmap(), p}
			if !slices.Contains(c.endpoints[k], svc) {
				c.endpoints[k] = append(c.endpoints[k], svc)
				slices.Sort(c.endpoints[k])
			}
		}
	}
	if s.Ready && len(s.Addrs) > 0 {
		c.backends[nsName{s.Namespace, s.Service}]++
	}
}

// DeleteSlice forgets an EndpointSlice.
func (c *Cluster) DeleteSlice(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleteSliceLocked(nsName{namespace, name})
}

func (c *Cluster) deleteSliceLocked(k nsName) {
	old, ok := c.slices[k]
	if !ok {
		return
	}
	delete(c.slices, k)
	svc := old.Namespace + "/" + old.Service
	for _, a := range old.Addrs {
		for _, p := range old.Ports {
			ek := endpointKey{a.Unmap(), p}
			// Another slice of the same service may hold the same endpoint.
			if c.heldByOtherSliceLocked(ek, old) {
				continue
			}
			if l := slices.DeleteFunc(c.endpoints[ek], func(s string) bool { return s == svc }); len(l) == 0 {
				delete(c.endpoints, ek)
			} else {
				c.endpoints[ek] = l
			}
		}
	}
	if old.Ready && len(old.Addrs) > 0 {
		sk := nsName{old.Namespace, old.Service}
		if c.backends[sk]--; c.backends[sk] <= 0 {
			delete(c.backends, sk)
		}
	}
}

func (c *Cluster) heldByOtherSliceLocked(ek endpointKey, old SliceInfo) bool {
	for _, s := range c.slices {
		if s.Namespace == old.Namespace && s.Service == old.Service &&
			slices.Contains(s.Addrs, ek.addr) && slices.Contains(s.Ports, ek.port) {
			return true
		}
	}
	return false
}

// SetNode records a node's addresses.
func (c *Cluster) SetNode(name string, addrs []netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleteNodeLocked(name)
	for _, a := range addrs {
		c.nodes[a.Unmap()] = name
	}
}

// DeleteNode forgets a node's addresses.
func (c *Cluster) DeleteNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleteNodeLocked(name)
}

func (c *Cluster) deleteNodeLocked(name string) {
	for a, n := range c.nodes {
		if n == name {
			delete(c.nodes, a)
		}
	}
}

// Resolve names the end ap as it was at time at: a pod alive then (its workload
// through the owner chain, and for a server end the services whose EndpointSlices
// hold ap), a service's cluster IP, or a node (node addresses and hostNetwork pods).
// ok is false for an address the cluster does not know.
func (c *Cluster) Resolve(ap netip.AddrPort, at time.Time) (Identity, bool) {
	if c == nil {
		return Identity{}, false
	}
	addr := ap.Addr().Unmap()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s, ok := c.spanAtLocked(addr, at); ok {
		if s.hostNetwork {
			return Identity{Workload: s.node, Kind: KindNode, Node: s.node, Pod: s.name}, true
		}
		kind, name := c.workloadLocked(s)
		id := Identity{Namespace: s.namespace, Workload: name, Kind: kind, Pod: s.name, Node: s.node}
		if svcs := c.endpoints[endpointKey{addr, ap.Port()}]; len(svcs) > 0 {
			id.Service = serviceNames(svcs, s.namespace)
		}
		return id, true
	}
	if svc, ok := c.services[addr]; ok {
		return Identity{Namespace: svc.namespace, Workload: svc.name, Kind: KindService, Service: svc.name}, true
	}
	if n, ok := c.nodes[addr]; ok {
		return Identity{Workload: n, Kind: KindNode, Node: n}, true
	}
	// An endpoint that is no pod (an EndpointSlice written by hand for a database
	// outside the cluster, say) is known only as its service.
	if svcs := c.endpoints[endpointKey{addr, ap.Port()}]; len(svcs) > 0 {
		ns, name, _ := strings.Cut(svcs[0], "/")
		return Identity{Namespace: ns, Workload: name, Kind: KindService, Service: serviceNames(svcs, ns)}, true
	}
	return Identity{}, false
}

// IsServiceIP reports whether addr is a service's cluster IP: a flow to it was seen
// before kube-proxy's DNAT chose a backend.
func (c *Cluster) IsServiceIP(addr netip.Addr) bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.services[addr.Unmap()]
	return ok
}

// serviceNames joins "namespace/name" service keys, dropping the namespace the pod
// shares with them.
func serviceNames(svcs []string, ns string) string {
	if len(svcs) == 1 {
		return inNamespace(svcs[0], ns)
	}
	out := make([]string, len(svcs))
	for i, s := range svcs {
		out[i] = inNamespace(s, ns)
	}
	return strings.Join(out, ",")
}

// inNamespace is key ("namespace/name") without its namespace when that is ns. It
// builds no string: lookups stay free of allocations.
func inNamespace(key, ns string) string {
	if len(key) > len(ns) && key[len(ns)] == '/' && key[:len(ns)] == ns {
		return key[len(ns)+1:]
	}
	return key
}

// spanAtLocked finds the pod that held addr at time at: of the lifetimes that
// contain at, the one that began last.
func (c *Cluster) spanAtLocked(addr netip.Addr, at time.Time) (podSpan, bool) {
	var best podSpan
	found := false
	for _, s := range c.pods[addr] {
		if at.Before(s.created) || (!s.deleted.IsZero() && !at.Before(s.deleted)) {
			continue
		}
		if !found || s.created.After(best.created) {
			best, found = s, true
		}
	}
	return best, found
}

// workloadLocked follows a pod's controller up: ReplicaSet → Deployment, Job →
// CronJob; StatefulSet and DaemonSet own pods directly.
func (c *Cluster) workloadLocked(s podSpan) (kind, name string) {
	if s.owner == (Owner{}) {
		return KindPod, s.name
	}
	if s.owner.Kind == KindReplicaSet || s.owner.Kind == KindJob {
		if up, ok := c.owners[ownedKey{s.namespace, s.owner.Kind, s.owner.Name}]; ok {
			return up.Kind, up.Name
		}
	}
	return s.owner.Kind, s.owner.Name
}

// NeitherEndKnown is the Ownership reason for a flow between two addresses the index
// does not know: every agent that sees it would count it. Before trusting it a caller
// may wait for the index to catch up (a pod that just started) and ask again.
const NeitherEndKnown = "outside_cluster"

// Ownership says which agent counts a flow, by the rule that one agent in the
// cluster counts each flow: the agent on the server's node; the client's agent when
// the server is outside the cluster; for a service's cluster IP seen before DNAT,
// the backend's agent (which sees the flow after DNAT), or the client's when the
// service has no ready in-cluster backend.
func (c *Cluster) Ownership(client, server netip.AddrPort, at time.Time) (counted bool, why string) {
	if c == nil || c.node == "" {
		return true, "no_cluster"
	}
	caddr, saddr := client.Addr().Unmap(), server.Addr().Unmap()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if n, ok := c.nodeOfLocked(saddr, at); ok {
		if n == c.node {
			return true, "server_local"
		}
		return false, "server_on_" + n
	}
	if svc, ok := c.services[saddr]; ok {
		if c.backends[svc] > 0 {
			return false, "service_backend_counts"
		}
		if n, ok := c.nodeOfLocked(caddr, at); ok && n == c.node {
			return true, "service_without_backend"
		}
		return false, "service_without_backend_client_elsewhere"
	}
	if n, ok := c.nodeOfLocked(caddr, at); ok {
		if n == c.node {
			return true, "server_outside_cluster"
		}
		return false, "client_on_" + n
	}
	// Neither end is known to the cluster: no other agent owns it either.
	return true, NeitherEndKnown
}

func (c *Cluster) nodeOfLocked(addr netip.Addr, at time.Time) (string, bool) {
	if s, ok := c.spanAtLocked(addr, at); ok {
		return s.node, s.node != ""
	}
	n, ok := c.nodes[addr]
	return n, ok
}

// Stats is the size of the index.
type Stats struct {
	PodAddrs, Services, Slices, Nodes, Owners int
}

// Stats counts what the index holds now.
func (c *Cluster) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{PodAddrs: len(c.pods), Services: len(c.services), Slices: len(c.slices), Nodes: len(c.nodes), Owners: len(c.owners)}
}
