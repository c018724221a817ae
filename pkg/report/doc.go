// Package report turns finished flow records into an offline audit — flows, service
// pairs, policy violations and a summary — and renders it as a table for people, as
// JSON / NDJSON / CSV for scripts (field names are a stable contract, see DESIGN.md)
// or as one self-contained HTML page with a service map (WriteHTML, fed a bounded
// sample of flows per pair by a Sampler). Decode reads such a JSON audit back, Compare
// diffs two of them by service pair, and FromCounters builds an audit from counters
// (the agents' metrics) instead of flows.
//
// The formats that list flows are written by a Stream while the capture is read: a
// Builder given one with StreamTo hands it each flow and keeps none, so a report's
// memory grows with its service pairs (bounded by PairLimit), never with its flows.
//
// A Builder, a Sampler and a Stream belong to one goroutine; a built Audit is read-only.
package report
