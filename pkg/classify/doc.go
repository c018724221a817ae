// Package classify decides, from the first bytes of each direction of a flow, what the
// flow is: plaintext (and which protocol), TLS (and which version, with the handshake's
// clear-text details and JA3/JA4 fingerprints), SSH, other encryption, or unknown.
//
// Everything here is a pure function over borrowed []byte: no I/O, no logging, no
// globals that change. Parsers never panic on any input and report failures as the
// sentinel errors below. A Classifier and a Handshake keep scratch space between calls
// so that steady-state parsing allocates nothing; neither is safe for concurrent use.
// Values returned in a Verdict are owned by the caller.
//
// The rule that matters most: a flow is plaintext only on positive evidence. When the
// bytes prove nothing, the verdict is unknown and its Reason says why.
package classify
