package identity

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// This file turns Kubernetes objects into what the Cluster index keeps. Informers
// (package kubewatch) and kubectl dumps (snapshot.go) share it, so both name ends alike.

// PodInfoOf is what the index keeps of a pod.
func PodInfoOf(p *corev1.Pod) PodInfo {
	info := PodInfo{
		UID: string(p.UID), Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName,
		Owner: ControllerOf(p.OwnerReferences), HostNetwork: p.Spec.HostNetwork,
		Created: p.CreationTimestamp.Time,
	}
	if info.UID == "" {
		info.UID = p.Namespace + "/" + p.Name
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
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		info.IPs = nil
	}
	return info
}

// ControllerOf is the owner reference marked as controller, else the first one.
func ControllerOf(refs []metav1.OwnerReference) Owner {
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
func ServiceInfoOf(s *corev1.Service) ServiceInfo {
	info := ServiceInfo{Namespace: s.Namespace, Name: s.Name}
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
func SliceInfoOf(s *discoveryv1.EndpointSlice) SliceInfo {
	info := SliceInfo{Namespace: s.Namespace, Name: s.Name, Service: s.Labels[discoveryv1.LabelServiceName]}
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
func NodeAddrsOf(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}
