package flow

import (
	"net/netip"
)

// Transport protocol numbers as in the IP header.
const (
	TCP uint8 = 6
	UDP uint8 = 17
)

// TCP header flags as in the TCP header's flags byte.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagACK uint8 = 0x10
)

// Packet is one decoded TCP or UDP packet, as a capture source hands it to a Table.
// Payload is borrowed: it is valid only during Table.Add and is copied only into a
// bounded stream-prefix buffer. Addresses are 16 bytes, IPv4 in IPv4-mapped form, so
// that keys are fixed-size and hashing them allocates nothing.
type Packet struct {
	Timestamp int64 // Unix nanoseconds
	Src, Dst  [16]byte
	IPv6      bool
	SrcPort   uint16
	DstPort   uint16
	Proto     uint8  // TCP or UDP
	Flags     uint8  // TCP flags
	Seq       uint32 // TCP sequence number
	Ack       uint32 // TCP acknowledgment number, valid with FlagACK (0 when the source does not give it)
	Payload   []byte // borrowed, possibly shorter than PayloadLen when the capture snapped it
	// PayloadLen is the transport payload length on the wire, from the IP header.
	PayloadLen int
	// WireLen is the IP packet length on the wire, counted into flow bytes.
	WireLen int
	// Ifindex is the interface the packet was seen on (live sources), 0 if unknown.
	Ifindex int
}

// Key identifies a bidirectional flow. A and B are ordered so that both directions of
// one connection map to the same key.
type Key struct {
	A, B         [16]byte
	PortA, PortB uint16
	Proto        uint8
}

// KeyOf returns the key of the flow p belongs to, the same for both directions.
func KeyOf(p *Packet) Key {
	k, _ := keyOf(p)
	return k
}

// KeyBetween returns the key of the flow between two ends (in either order), as
// KeyOf gives it for the flow's packets; IPv4 ends are keyed IPv4-mapped.
func KeyBetween(proto uint8, x, y netip.AddrPort) Key {
	return KeyOf(&Packet{Proto: proto, Src: x.Addr().As16(), SrcPort: x.Port(), Dst: y.Addr().As16(), DstPort: y.Port()})
}

// keyOf returns the canonical key of p and whether p travels from A to B.
func keyOf(p *Packet) (k Key, fromA bool) {
	k.Proto = p.Proto
	if less(p.Src, p.SrcPort, p.Dst, p.DstPort) {
		k.A, k.PortA, k.B, k.PortB = p.Src, p.SrcPort, p.Dst, p.DstPort
		return k, true
	}
	k.A, k.PortA, k.B, k.PortB = p.Dst, p.DstPort, p.Src, p.SrcPort
	return k, false
}

func less(a [16]byte, pa uint16, b [16]byte, pb uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return pa < pb
}

// Endpoint builds a netip.AddrPort from a 16-byte address; v6 false unmaps IPv4.
func Endpoint(addr [16]byte, port uint16, v6 bool) netip.AddrPort {
	a := netip.AddrFrom16(addr)
	if !v6 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, port)
}
