// Package agent runs the live pipeline as a library: engine → flow table → identity →
// policy → exporter, alerter, verdict log; beside it, interface watching, the
// /healthz, /readyz and /metrics endpoints, Alertmanager pushes and config reloads on
// SIGHUP.
//
// Lifetime: the caller opens the capture engine (OpenEngine), loads the first config
// (ConfigSource.Load), optionally starts the Kubernetes identity (StartKube), builds
// the Agent with New and calls Run once. Run returns when its context ends or a part
// fails; the caller then closes the engine. An Agent is not reused after Run.
//
// Concurrency: one goroutine, the capture loop, owns the flow table and is the only
// reader of the engine; every flow callback (verdict line, metrics, kernel map
// updates) runs on it. The config is swapped whole through an atomic pointer, so a
// reload (SIGHUP or Reload, from any goroutine) never shows a half-applied config:
// a failed load keeps the previous one. The exporter and alerter lock for
// themselves; the HTTP handlers read only atomics, the engine's attachments and the
// Kubernetes watcher's status.
package agent
