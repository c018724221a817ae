// Package flow tracks bidirectional TCP and UDP flows, reassembles the first bytes of
// each direction (surviving reordering, retransmission and overlap), asks package
// classify for a verdict as bytes arrive, and once the verdict is reached only counts
// the flow's packets and bytes.
//
// Every structure is bounded: the number of flows, the bytes kept per direction and the
// bytes kept by all flows together. Hitting a bound is counted in Stats, never silent;
// a flow that loses its bytes to a bound is classified with what it has, which may be
// unknown, never a guess.
//
// A Table belongs to one goroutine. Packet payloads are borrowed for the duration of
// Add; finished flows are handed to the sink as Records, valid during the call.
package flow
