package export

import (
	"maps"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// Reasons of tlsaudit_capture_drops_total.
const (
	DropRingBufferFull = "ring_buffer_full" // eBPF: the ring buffer had no room for a packet's bytes
	DropMapFull        = "map_full"         // eBPF: the flow map refused a new flow
	DropSocket         = "socket"           // AF_PACKET: the kernel dropped packets for the socket
)

// DropReasons are always exported, zero where the engine has no such drop, so that
// rules and dashboards see the same series whatever the engine.
var DropReasons = []string{DropRingBufferFull, DropMapFull, DropSocket}

// Health is the engine's own state: what it saw and what it missed. Counters are
// totals since start.
type Health struct {
	Packets        uint64            // packets seen by the capture
	Drops          map[string]uint64 // packets missed, by reason (Drop*)
	FlowTableFlows int               // flows tracked now
	Evictions      uint64            // flows finished early because the table was full
	ClassifyErrors map[string]uint64 // parse errors met while classifying, by reason
	EventsLost     uint64            // packet copies that never reached the classifier
}

// TableHealth fills what a flow table knows: packets added, flows tracked,
// evictions and classification errors. The capture source adds its drops.
func TableHealth(s flow.Stats) Health {
	return Health{
		Packets:        s.Packets,
		Drops:          map[string]uint64{},
		FlowTableFlows: s.Active,
		Evictions:      s.Evicted,
		ClassifyErrors: maps.Clone(s.ClassifyByReason),
	}
}

func (h Health) clone() Health {
	h.Drops = maps.Clone(h.Drops)
	h.ClassifyErrors = maps.Clone(h.ClassifyErrors)
	return h
}
