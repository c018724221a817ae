// Package agent runs the live pipeline as a library: engine → flow table → identity →
// policy → exporter, alerter, verdict log; beside it, interface watching, the
// /healthz, /readyz and /metrics endpoints, Alertmanager pushes and config reloads on
// SIGHUP; and, when Options.Probe sets an interval, rounds of active probes of the
// internal TLS servers the agent counted flows to.
//
// Lifetime: the caller opens the capture engine (OpenEngine), loads the first config
// (config.Source.Load), optionally starts the Kubernetes identity (StartKube), builds
// the Agent with New and calls Run once. Run returns when its context ends or a part
// fails; the caller then closes the engine. An Agent is not reused after Run.
//
// Concurrency: one goroutine, the capture loop, owns the flow table and is the only
// reader of the engine; every flow callback (verdict line, metrics, kernel map
// updates) runs on it. The config is swapped whole through an atomic pointer, so a
// reload (SIGHUP or Reload, from any goroutine) never shows a half-applied config:
// a failed load keeps the previous one. The exporter and alerter lock for
// themselves; the HTTP handlers read only atomics, the engine's attachments and the
// Kubernetes watcher's status. The probe loop runs on its own goroutine; the servers
// to probe and the addresses of its own connections (whose flows the capture loop
// drops) sit behind one mutex, touched once per decided flow, never per packet.
package agent
