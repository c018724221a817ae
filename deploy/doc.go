// Package deploy holds what installs tlsaudit — the Helm chart (helm/tlsaudit), the
// manifests rendered from it (kubernetes/), the Prometheus rules (prometheus/), the
// Grafana dashboard (grafana/) — and, in its tests, the proof that they work: helm
// lint and template for each engine, every rendered object decoded strictly into
// its Kubernetes type, a security lint of the DaemonSet, the copies and renders
// kept current, and the manifests applied to a real kube-apiserver with RBAC on,
// where the agent runs with the chart's ServiceAccount token.
package deploy
