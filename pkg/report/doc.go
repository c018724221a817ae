// Package report turns finished flow records into an offline audit — flows, service
// pairs, policy violations and a summary — and renders it as a table for people, as
// JSON / NDJSON / CSV for scripts (field names are a stable contract, see DESIGN.md)
// or as one self-contained HTML page with a service map (WriteHTML, fed a bounded
// sample of flows per pair by a Sampler). Decode reads such a JSON audit back, Compare
// diffs two of them by service pair, and FromCounters builds an audit from counters
// (the agents' metrics) instead of flows.
//
// A Builder or a Sampler belongs to one goroutine; a built Audit is read-only.
package report
