#!/usr/bin/env bash
# Renders the Helm chart into plain manifests in OUTDIR (default deploy/kubernetes):
# the agent for each engine, and the optional Prometheus Operator and Grafana objects.
# `make manifests` writes them into the tree; the chart's test renders into a
# temporary folder with this same script and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-deploy/kubernetes}
helm=$(bash scripts/helm.sh)
chart=deploy/helm/tlsaudit
mkdir -p "$out"
header() {
  echo "# Rendered from $chart by scripts/render-manifests.sh ($1); do not edit, run make manifests."
}
{ header "engine ebpf"; "$helm" template tlsaudit "$chart" --namespace tlsaudit; } >"$out/tlsaudit.yaml"
{ header "engine afpacket"; "$helm" template tlsaudit "$chart" --namespace tlsaudit --set engine=afpacket; } >"$out/tlsaudit-afpacket.yaml"
{
  header "ServiceMonitor, PrometheusRule, dashboard ConfigMap"
  "$helm" template tlsaudit "$chart" --namespace tlsaudit \
    --set serviceMonitor.enabled=true --set prometheusRule.enabled=true --set dashboard.enabled=true \
    --show-only templates/servicemonitor.yaml --show-only templates/prometheusrule.yaml --show-only templates/dashboard.yaml
} >"$out/tlsaudit-monitoring.yaml"
