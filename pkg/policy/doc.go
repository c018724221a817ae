// Package policy says which flows matter and which are violations: what counts as
// internal (east-west) traffic, the lowest TLS version that is acceptable, which pairs
// are exempt and until when, and how violations become alerts (which kinds alert,
// their static labels, how long a pair must be clean before its alert resolves, how
// many metric series the exporter may create).
//
// A Policy comes from Default or from a YAML config file (Load, Parse). Parsing is
// strict: unknown fields are errors, and every error names the field and its line.
// A Policy is immutable once built and safe for concurrent use; a reload builds a new
// one and swaps the pointer, it never changes one in place.
package policy
