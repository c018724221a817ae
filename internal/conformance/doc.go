// Package conformance measures tlsaudit's verdicts against the reference corpus: public
// captures, each with the expected output of Zeek, Suricata, Arkime, nDPI, the FoxIO
// JA4 and salesforce JA3 test suites, and an independent tshark extraction (see the
// corpus README, ../shared/peer-corpus beside the repository).
//
// Run reads MANIFEST.tsv, runs tlsaudit's offline pipeline (pkg/capture into pkg/flow,
// as `tlsaudit analyze` does) over every capture, parses every reference file into
// Records (one reference's statements about one connection, with values normalised
// across spellings), matches each Record to tlsaudit's flows by transport and
// endpoints in either direction, and tallies agree / disagree / not stated per source
// and Field. Every disagreement gets a category naming the gap behind it, found with
// an independent look at the packets (gopacket's full decoder: tunnels, link types)
// and with what the references say about the connection (QUIC, DTLS).
//
// TestConformance writes docs/conformance.md and testdata/baseline.json with -update,
// and otherwise fails when an agree count drops below the baseline (a ratchet).
//
// The parsers are pure functions over file contents. Run uses one goroutine per CPU
// for the captures and is safe to call concurrently with itself; its Result is not
// shared.
package conformance
