package identity

import (
	"net/netip"
	"time"
)

// This file turns Kubernetes objects into what the Cluster index keeps. The objects
// are the few fields the index reads, under the API's JSON names, so that a kubectl
// dump (snapshot.go) decodes straight into them without the API's Go types, whose
// initialisation alone costs the offline analyzer megabytes; the agent's informers
// (package kubewatch) copy the same fields out of the API's types. Both name ends alike.

// ObjectMeta is the metadata the index reads.
type ObjectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	UID               string            `json:"uid"`
	Labels            map[string]string `json:"labels"`
	OwnerReferences   []OwnerReference  `json:"ownerReferences"`
	CreationTimestamp time.Time         `json:"creationTimestamp"`
}

// OwnerReference is one entry of an object's ownerReferences.
type OwnerReference struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Controller *bool  `json:"controller"`
}

// KubePod is what the index reads of a pod.
type KubePod struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		NodeName    string `json:"nodeName"`
		HostNetwork bool   `json:"hostNetwork"`
	} `json:"spec"`
	Status struct {
		Phase  string      `json:"phase"`
		PodIP  string      `json:"podIP"`
		PodIPs []KubePodIP `json:"podIPs"`
	} `json:"status"`
}

// KubePodIP is one entry of a pod's status.podIPs.
type KubePodIP struct {
	IP string `json:"ip"`
}

// KubeService is what the index reads of a service.
type KubeService struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		ClusterIP  string   `json:"clusterIP"`
		ClusterIPs []string `json:"clusterIPs"`
	} `json:"spec"`
}

// KubeEndpointSlice is what the index reads of an EndpointSlice.
type KubeEndpointSlice struct {
	Metadata  ObjectMeta         `json:"metadata"`
	Endpoints []KubeEndpoint     `json:"endpoints"`
	Ports     []KubeEndpointPort `json:"ports"`
}

// KubeEndpointPort is one port of an EndpointSlice.
type KubeEndpointPort struct {
	Port *int32 `json:"port"`
}

// KubeEndpoint is one endpoint of an EndpointSlice.
type KubeEndpoint struct {
	Addresses  []string `json:"addresses"`
	Conditions struct {
		Ready *bool `json:"ready"`
	} `json:"conditions"`
}

// KubeNode is what the index reads of a node.
type KubeNode struct {
	Metadata ObjectMeta `json:"metadata"`
	Status   struct {
		Addresses []KubeNodeAddress `json:"addresses"`
	} `json:"status"`
}

// KubeNodeAddress is one of a node's status addresses.
type KubeNodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// KubeOwned is a ReplicaSet or a Job: only whose it is matters.
type KubeOwned struct {
	Metadata ObjectMeta `json:"metadata"`
}

// The values of the API fields read here (k8s.io/api's constants).
const (
	podSucceeded         = "Succeeded"
	podFailed            = "Failed"
	nodeInternalIP       = "InternalIP"
	nodeExternalIP       = "ExternalIP"
	endpointSliceService = "kubernetes.io/service-name"
)

// PodInfoOf is what the index keeps of a pod.
func PodInfoOf(p *KubePod) PodInfo {
	m := &p.Metadata
	info := PodInfo{
		UID: m.UID, Namespace: m.Namespace, Name: m.Name, Node: p.Spec.NodeName,
		Owner: ControllerOf(m.OwnerReferences), HostNetwork: p.Spec.HostNetwork,
		Created: m.CreationTimestamp,
	}
	if info.UID == "" {
		info.UID = m.Namespace + "/" + m.Name
	}
	seen := map[netip.Addr]bool{}
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil && !seen[a.Unmap()] {
			seen[a.Unmap()] = true
			info.IPs = append(info.IPs, a.Unmap())
		}
	}
	add(p.Status.PodIP)
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	// A finished pod gives its address back.
	if p.Status.Phase == podSucceeded || p.Status.Phase == podFailed {
		info.IPs = nil
	}
	return info
}

// ControllerOf is the owner reference marked as controller, else the first one.
func ControllerOf(refs []OwnerReference) Owner {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return Owner{Kind: r.Kind, Name: r.Name}
		}
	}
	if len(refs) > 0 {
		return Owner{Kind: refs[0].Kind, Name: refs[0].Name}
	}
	return Owner{}
}

// ServiceInfoOf is what the index keeps of a service: its cluster IPs (none for a
// headless service, whose names come from its EndpointSlices).
func ServiceInfoOf(s *KubeService) ServiceInfo {
	info := ServiceInfo{Namespace: s.Metadata.Namespace, Name: s.Metadata.Name}
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil {
			info.ClusterIPs = append(info.ClusterIPs, a.Unmap())
		}
	}
	return info
}

// SliceInfoOf is what the index keeps of an EndpointSlice.
func SliceInfoOf(s *KubeEndpointSlice) SliceInfo {
	m := &s.Metadata
	info := SliceInfo{Namespace: m.Namespace, Name: m.Name, Service: m.Labels[endpointSliceService]}
	for _, ep := range s.Endpoints {
		if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
			info.Ready = true
		}
		for _, a := range ep.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil {
				info.Addrs = append(info.Addrs, ip.Unmap())
			}
		}
	}
	for _, p := range s.Ports {
		if p.Port != nil && *p.Port > 0 && *p.Port < 65536 {
			info.Ports = append(info.Ports, uint16(*p.Port))
		}
	}
	return info
}

// NodeAddrsOf is a node's internal and external addresses.
func NodeAddrsOf(addrs []KubeNodeAddress) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if a.Type != nodeInternalIP && a.Type != nodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}
