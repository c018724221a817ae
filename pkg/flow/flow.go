package flow

import (
	"net/netip"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// Flow is the state of one bidirectional connection. Direction 0 is client to server.
type Flow struct {
	key        Key
	clientIsA  bool
	ipv6       bool
	ifindex    int  // interface of the first packet
	midstream  bool // the connection's opening was not seen
	synSeen    bool
	clientISN  uint32
	first      int64
	last       int64
	packets    [2]uint64
	bytes      [2]uint64
	reported   uint64 // packets[0]+packets[1] when Table.Recent last visited the flow
	dir        [2]stream
	fin        [2]bool
	rst        bool
	decided    bool
	verdict    classify.Verdict
	prev, next *Flow
}

// direction maps a packet's travel (A to B or back) to 0 (client to server) or 1.
func (f *Flow) direction(fromA bool) int {
	if fromA == f.clientIsA {
		return 0
	}
	return 1
}

// closed reports whether the connection has ended: reset, or FIN both ways.
func (f *Flow) closed() bool { return f.rst || (f.fin[0] && f.fin[1]) }

// more reports whether direction d may still bring bytes that would extend its prefix.
func (f *Flow) more(d int) bool {
	s := &f.dir[d]
	if f.key.Proto == UDP {
		return s.datagrams < maxDatagrams && !s.full && !s.gap
	}
	return !(s.full || s.gap || f.fin[d] || f.rst)
}

// isNewConnection reports whether a SYN from the A side (fromA) or the B side starts
// a new connection on this flow's 5-tuple instead of retransmitting the first SYN.
func (f *Flow) isNewConnection(p *Packet, fromA bool) bool {
	if f.closed() {
		return true
	}
	if f.direction(fromA) != 0 {
		return f.synSeen // the old server now opens: a different connection
	}
	return f.synSeen && p.Seq != f.clientISN
}

// endpoints returns the client and server addresses and ports.
func (f *Flow) endpoints() (client [16]byte, clientPort uint16, server [16]byte, serverPort uint16) {
	if f.clientIsA {
		return f.key.A, f.key.PortA, f.key.B, f.key.PortB
	}
	return f.key.B, f.key.PortB, f.key.A, f.key.PortA
}

func (f *Flow) record() Record {
	c, cp, s, sp := f.endpoints()
	return Record{
		Key:             f.key,
		Proto:           f.key.Proto,
		Client:          Endpoint(c, cp, f.ipv6),
		Server:          Endpoint(s, sp, f.ipv6),
		FirstSeen:       time.Unix(0, f.first).UTC(),
		LastSeen:        time.Unix(0, f.last).UTC(),
		PacketsToServer: f.packets[0],
		PacketsToClient: f.packets[1],
		BytesToServer:   f.bytes[0],
		BytesToClient:   f.bytes[1],
		Midstream:       f.midstream,
		Ifindex:         f.ifindex,
		Verdict:         f.verdict,
	}
}

// Record is a finished flow: its endpoints, counters and verdict.
type Record struct {
	Key             Key
	Proto           uint8
	Client, Server  netip.AddrPort
	FirstSeen       time.Time
	LastSeen        time.Time
	PacketsToServer uint64
	PacketsToClient uint64
	BytesToServer   uint64
	BytesToClient   uint64
	// Midstream is true when the capture missed the connection's opening, so client
	// and server were guessed from the ports.
	Midstream bool
	// Ifindex is the interface the flow\'s first packet was seen on (live sources),
	// for debugging double sightings; 0 if unknown.
	Ifindex int
	Verdict classify.Verdict
}

// Packets is the total in both directions.
func (r *Record) Packets() uint64 { return r.PacketsToServer + r.PacketsToClient }

// Bytes is the total IP bytes in both directions.
func (r *Record) Bytes() uint64 { return r.BytesToServer + r.BytesToClient }

// Transport names the transport protocol: "tcp" or "udp".
func (r *Record) Transport() string {
	if r.Proto == TCP {
		return "tcp"
	}
	return "udp"
}
