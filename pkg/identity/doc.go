// Package identity names the ends of flows: it maps IP addresses to the Kubernetes
// namespace, workload and service behind them, so that reports, metrics and alerts
// speak of "shop/checkout" instead of 10.42.3.17.
//
// The source here is a static mapping file (Load, Parse); informers watching a
// cluster are a later source behind the same Map type. A Map is immutable once built
// and safe for concurrent use; a reload builds a new one. A nil *Map names nothing.
package identity
