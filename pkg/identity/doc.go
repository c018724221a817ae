// Package identity names the ends of flows: it maps IP addresses to the Kubernetes
// namespace, workload and service behind them, so that reports, metrics and alerts
// speak of "shop/checkout" instead of 10.42.3.17.
//
// Two sources, both Resolvers: a static mapping file (Load, Parse → *Map), and a
// Cluster index of pods, services, EndpointSlices, nodes and owners, kept by
// client-go informers (package kubewatch, the agent's) or read from a kubectl dump
// (LoadSnapshot). Layered puts the file on top of the cluster. A Map is immutable
// once built and safe for concurrent use; a reload builds a new one. A Cluster is safe for concurrent use and
// changes as the informers report. Nil *Map and *Cluster name nothing.
package identity
