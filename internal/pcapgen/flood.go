package pcapgen

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Flood is a kind of hostile capture: many flows that each cost the analyzer state
// and give it little to decide on.
type Flood int

const (
	// FloodSYN is one TCP SYN per flow, nothing after it.
	FloodSYN Flood = iota
	// FloodUDP is one UDP datagram of random bytes per flow.
	FloodUDP
	// FloodPayload is a TCP handshake, then PayloadBytes of random bytes from the
	// client, and no FIN: every flow stays open and wants buffer space.
	FloodPayload
)

// String names the flood for file names and benchmark names.
func (k Flood) String() string {
	switch k {
	case FloodSYN:
		return "syn"
	case FloodUDP:
		return "udp"
	case FloodPayload:
		return "payload"
	}
	return fmt.Sprintf("flood%d", int(k))
}

// FloodOptions shape a flood capture.
type FloodOptions struct {
	Kind  Flood
	Flows int
	// PayloadBytes is what each FloodPayload flow sends (default 16 KiB) and the size of
	// each FloodUDP datagram (default 64).
	PayloadBytes int
	// Concurrent FloodPayload flows send their segments interleaved (default 64), so that
	// the flow table holds that many half-sent flows at once.
	Concurrent int
}

// udpDatagram is the default FloodUDP datagram size.
const udpDatagram = 64

// WriteFlood writes a pcap of opts.Flows flood flows and returns the number of
// packets written. Every flow has its own client address (10.16.0.0/12 and up), so
// that each is also a new service pair; the payload is random but the same for the
// same options.
func WriteFlood(w io.Writer, opts FloodOptions) (int, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	g := &gen{pw: pw, ts: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), frame: make([]byte, 0, 1600)}
	rnd := rand.New(rand.NewPCG(uint64(opts.Kind), uint64(opts.Flows)))
	switch opts.Kind {
	case FloodSYN:
		for i := range opts.Flows {
			g.tcp(floodClient(i), floodServer, floodPort(i), 443, uint32(i)*7919, 0, 0x02, nil)
		}
	case FloodUDP:
		payload := make([]byte, cmp.Or(opts.PayloadBytes, udpDatagram))
		for i := range opts.Flows {
			fillRandom(rnd, payload)
			g.udp(floodClient(i), floodServer, floodPort(i), 5000, payload)
		}
	case FloodPayload:
		writePayloadFlood(g, rnd, opts)
	default:
		return 0, fmt.Errorf("unknown flood kind %d", int(opts.Kind))
	}
	return g.packets, g.err
}

// floodServer is the one server every flood flow goes to.
var floodServer = [4]byte{10, 2, 0, 10}

// floodClient gives flow i its own internal client address.
func floodClient(i int) [4]byte {
	n := uint32(i) + 16<<16 // 10.16.0.0 and up: past the addresses Write uses
	return [4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}
}

func floodPort(i int) uint16 { return uint16(32768 + i%28000) }

func fillRandom(rnd *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rnd.Uint64())
		copy(b[i:], w[:])
	}
}

// writePayloadFlood opens Concurrent connections at a time and sends each one's
// random bytes in MSS segments, round-robin, without ever closing them.
func writePayloadFlood(g *gen, rnd *rand.Rand, opts FloodOptions) {
	size := cmp.Or(opts.PayloadBytes, 16<<10)
	conc := cmp.Or(opts.Concurrent, 64)
	seg := make([]byte, mss)
	for start := 0; start < opts.Flows && g.err == nil; start += conc {
		n := min(conc, opts.Flows-start)
		for i := start; i < start+n; i++ {
			c := floodClient(i)
			g.tcp(c, floodServer, floodPort(i), 443, uint32(i), 0, 0x02, nil)
			g.tcp(floodServer, c, 443, floodPort(i), uint32(i)*3, uint32(i)+1, 0x12, nil)
		}
		for off := 0; off < size; off += mss {
			k := min(mss, size-off)
			for i := start; i < start+n; i++ {
				fillRandom(rnd, seg[:k])
				g.tcp(floodClient(i), floodServer, floodPort(i), 443, uint32(i)+1+uint32(off), uint32(i)*3+1, 0x18, seg[:k])
			}
		}
	}
}

// udp writes one Ethernet/IPv4/UDP frame.
func (g *gen) udp(src, dst [4]byte, sp, dp uint16, payload []byte) {
	if g.err != nil {
		return
	}
	f := g.ipv4(src, dst, 17, 8+len(payload))
	f = binary.BigEndian.AppendUint16(f, sp)
	f = binary.BigEndian.AppendUint16(f, dp)
	f = binary.BigEndian.AppendUint16(f, uint16(8+len(payload)))
	f = append(f, 0, 0) // no checksum (allowed over IPv4)
	g.write(append(f, payload...))
}
