// Package report turns finished flow records into an offline audit — flows, service
// pairs, policy violations and a summary — and renders it as a table for people or as
// JSON / NDJSON / CSV for scripts (field names are a stable contract, see DESIGN.md).
// Decode reads such a JSON audit back, and Compare diffs two of them by service pair.
//
// A Builder belongs to one goroutine; a built Audit is read-only.
package report
