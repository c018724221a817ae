// Package dashboard builds the tlsaudit Grafana dashboard as code, with the Grafana
// Foundation SDK, and renders it as the JSON committed at
// deploy/grafana/tlsaudit-dashboard.json.
//
// The dashboard is code rather than hand-edited JSON so that its PromQL sits beside
// the rules that explain it and can be checked: the package's tests regenerate the
// JSON and compare it with the committed file (`make dashboard` rewrites it), run
// every expression through promtool, and check every metric it names against the
// families the agent's collectors really describe. A metric renamed in pkg/export
// therefore breaks the build instead of leaving an empty panel.
//
// The output is deterministic: the same source gives the same bytes, so the
// committed file changes only when the dashboard does. JSON has no state and may be
// called from any goroutine.
package dashboard
