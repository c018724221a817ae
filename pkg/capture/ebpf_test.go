package capture

import (
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to load eBPF programs (CI runs as root)")
	}
}

func loadForTest(tb testing.TB, cfg EBPFConfig) *EBPF {
	tb.Helper()
	needRoot(tb)
	e, err := LoadEBPF(cfg, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// testFrame builds an Ethernet/IPv4/TCP frame from 10.0.0.1:40000 to 10.0.0.2:443.
func testFrame(tb testing.TB, flags func(*layers.TCP), payload []byte) []byte {
	tb.Helper()
	t := tcp()
	t.PSH, t.ACK = len(payload) > 0, true
	if flags != nil {
		flags(t)
	}
	return frame(tb, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), t, gopacket.Payload(payload))
}

// TestEBPFProgram runs the program on packets with BPF_PROG_TEST_RUN: a payload packet
// of a new flow must reach the ring buffer with its bytes and sequence number; once the
// flow is marked decided, its packets must only be counted.
func TestEBPFProgram(t *testing.T) {
	e := loadForTest(t, EBPFConfig{RingBytes: 1 << 20})
	hello := []byte("\x16\x03\x01\x00\x05hello")
	if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: testFrame(t, nil, hello)}); err != nil {
		t.Fatal(err)
	}
	var p flow.Packet
	if err := e.Next(&p, func() int64 { return 1 }); err != nil {
		t.Fatalf("no event: %v", err)
	}
	if string(p.Payload) != string(hello) || p.Seq != 1000 || p.SrcPort != 40000 || p.DstPort != 443 || p.Proto != flow.TCP {
		t.Fatalf("event %+v", p)
	}
	k := flow.Key{A: p.Src, B: p.Dst, PortA: 40000, PortB: 443, Proto: flow.TCP}
	if err := e.MarkDecided(k); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.objs.TlsauditEgress.Run(&ebpf.RunOptions{Data: testFrame(t, nil, []byte("more data"))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Next(&p, func() int64 { return 1 }); err != ErrTimeout {
		t.Fatalf("decided flow produced an event (err %v, payload %q)", err, p.Payload)
	}
	packets, _, ok := e.FlowCounters(k)
	st, _ := e.KernelStats()
	if !ok || packets != 4 || st["fast_path"] != 3 || st["events"] != 1 {
		t.Errorf("flow packets %d (ok %v), stats %v; want 4 packets, 3 fast path, 1 event", packets, ok, st)
	}
	// A forgotten flow's later packets start over instead of hiding in the slot.
	e.Forget(k)
	if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: testFrame(t, nil, []byte("after forget"))}); err != nil {
		t.Fatal(err)
	}
	if err := e.Next(&p, func() int64 { return 1 }); err != nil || string(p.Payload) != "after forget" {
		t.Fatalf("packet after Forget: err %v payload %q", err, p.Payload)
	}
	if err := e.MarkDecided(k); err != nil {
		t.Fatal(err)
	}
	// A new SYN on the same 5-tuple starts over: its packets go to userspace again.
	syn := testFrame(t, func(t *layers.TCP) { t.SYN, t.ACK, t.PSH = true, false, false }, nil)
	if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: syn}); err != nil {
		t.Fatal(err)
	}
	if err := e.Next(&p, func() int64 { return 1 }); err != nil || p.Flags&flow.FlagSYN == 0 {
		t.Fatalf("SYN of a reused 5-tuple: err %v flags %#x", err, p.Flags)
	}
	// Its data must reach userspace too, not the cache slot the old flow left behind.
	if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: testFrame(t, nil, []byte("new connection"))}); err != nil {
		t.Fatal(err)
	}
	if err := e.Next(&p, func() int64 { return 1 }); err != nil || string(p.Payload) != "new connection" {
		t.Fatalf("data of a reused 5-tuple: err %v payload %q", err, p.Payload)
	}
}

// ipv6Opts builds a Hop-by-Hop or Destination Options header of size bytes (a
// multiple of 8) whose options are one PadN.
func ipv6Opts(next layers.IPProtocol, size int) gopacket.Payload {
	b := make([]byte, size)
	b[0], b[1] = byte(next), byte(size/8-1)
	b[2], b[3] = 1, byte(size-4) // PadN over the rest
	return b
}

// ipv6AH builds an Authentication Header with a 12-byte ICV (24 bytes in all).
func ipv6AH(next layers.IPProtocol) gopacket.Payload {
	b := make([]byte, 24)
	b[0], b[1] = byte(next), 24/4-2
	b[7] = 1  // SPI
	b[11] = 1 // sequence number
	return b
}

func ipv6Routing(next layers.IPProtocol) *layers.IPv6Routing {
	r := &layers.IPv6Routing{SourceRoutingIPs: []net.IP{ip6b}} // 24 bytes
	r.NextHeader = next
	return r
}

// TestEBPFIPv6Extensions runs the program on IPv6 packets with extension headers: the
// TCP or UDP packet behind Hop-by-Hop, Routing, Destination Options and
// Authentication headers must reach the ring buffer like a plain IPv6 one (right ports,
// payload and lengths) and its flow must be tracked; a fragment must be counted as one,
// like IPv4 fragments; more extension headers than the program follows, ESP or No Next
// Header must be counted as not TCP/UDP. Each packet ends in exactly one outcome.
func TestEBPFIPv6Extensions(t *testing.T) {
	needRoot(t)
	hello := []byte("\x16\x03\x01\x00\x05hello")
	eth := func() *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv6}
	}
	// v6 builds Ethernet/IPv6/exts.../TCP or UDP/hello, with first as the IPv6 next
	// header; exts carry their own next headers.
	v6 := func(first layers.IPProtocol, exts []gopacket.SerializableLayer, l4 gopacket.SerializableLayer) []byte {
		ip := ipv6()
		ip.NextHeader = first
		ls := append([]gopacket.SerializableLayer{eth(), ip}, exts...)
		if l4 != nil {
			ls = append(ls, l4)
		}
		return frame(t, append(ls, gopacket.Payload(hello))...)
	}
	const (
		hop   = layers.IPProtocolIPv6HopByHop
		dst   = layers.IPProtocolIPv6Destination
		rt    = layers.IPProtocolIPv6Routing
		frag  = layers.IPProtocolIPv6Fragment
		ah    = layers.IPProtocolAH
		tcpP  = layers.IPProtocolTCP
		udpP  = layers.IPProtocolUDP
		esp   = layers.IPProtocolESP
		noNxt = layers.IPProtocolNoNextHeader
	)
	udp := &layers.UDP{SrcPort: 40000, DstPort: 443}
	type exts = []gopacket.SerializableLayer
	tests := []struct {
		name  string
		frame []byte
		want  string // the outcome counter; "events" also checks the event and the flow
		proto uint8
	}{
		{"plain", v6(tcpP, nil, tcp()), "events", flow.TCP},
		{"hop-by-hop", v6(hop, exts{ipv6Opts(tcpP, 8)}, tcp()), "events", flow.TCP},
		{"hop-by-hop and destination options", v6(hop, exts{ipv6Opts(dst, 16), ipv6Opts(tcpP, 8)}, tcp()), "events", flow.TCP},
		{"routing", v6(rt, exts{ipv6Routing(tcpP)}, tcp()), "events", flow.TCP},
		{"authentication header", v6(ah, exts{ipv6AH(tcpP)}, tcp()), "events", flow.TCP},
		{"four headers", v6(hop, exts{ipv6Opts(dst, 8), ipv6Opts(rt, 8), ipv6Routing(dst), ipv6Opts(tcpP, 8)}, tcp()), "events", flow.TCP},
		{"udp after hop-by-hop", v6(hop, exts{ipv6Opts(udpP, 8)}, udp), "events", flow.UDP},
		{"atomic fragment", v6(frag, exts{&layers.IPv6Fragment{NextHeader: tcpP, Identification: 7}}, tcp()), "events", flow.TCP},
		{"first fragment", v6(frag, exts{&layers.IPv6Fragment{NextHeader: tcpP, MoreFragments: true, Identification: 7}}, tcp()), "fragments", 0},
		{"later fragment", v6(hop, exts{ipv6Opts(frag, 8), &layers.IPv6Fragment{NextHeader: tcpP, FragmentOffset: 185, Identification: 7}}, nil), "fragments", 0},
		{"five headers", v6(hop, exts{ipv6Opts(dst, 8), ipv6Opts(rt, 8), ipv6Routing(ah), ipv6AH(dst), ipv6Opts(tcpP, 8)}, tcp()), "not_tcp_udp", 0},
		{"esp", v6(hop, exts{ipv6Opts(esp, 8)}, nil), "not_tcp_udp", 0},
		{"no next header", v6(dst, exts{ipv6Opts(noNxt, 8)}, nil), "not_tcp_udp", 0},
		// Headers are read only within the first PULL_MAX (128) bytes.
		{"transport header too deep", v6(hop, exts{ipv6Opts(tcpP, 80)}, tcp()), "load_errors", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadForTest(t, EBPFConfig{RingBytes: 1 << 20})
			if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: tt.frame}); err != nil {
				t.Fatal(err)
			}
			st, err := e.KernelStats()
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range KernelOutcomes {
				want := uint64(0)
				if o == tt.want {
					want = 1
				}
				if st[o] != want {
					t.Fatalf("stats %v; want only %s", st, tt.want)
				}
			}
			var p flow.Packet
			if tt.want != "events" {
				if err := e.Next(&p, func() int64 { return 1 }); err != ErrTimeout {
					t.Fatalf("an event (err %v, %+v) for a packet counted as %s", err, p, tt.want)
				}
				return
			}
			if err := e.Next(&p, func() int64 { return 1 }); err != nil {
				t.Fatalf("no event: %v", err)
			}
			wire := len(tt.frame) - 14
			if string(p.Payload) != string(hello) || p.PayloadLen != len(hello) || p.WireLen != wire ||
				p.SrcPort != 40000 || p.DstPort != 443 || p.Proto != tt.proto || !p.IPv6 ||
				netip.AddrFrom16(p.Src) != netip.MustParseAddr("fd00::1") || netip.AddrFrom16(p.Dst) != netip.MustParseAddr("fd00::2") {
				t.Fatalf("event %+v; want %q from [fd00::1]:40000 to [fd00::2]:443, proto %d, wire length %d", p, hello, tt.proto, wire)
			}
			if tt.proto == flow.TCP && p.Seq != 1000 {
				t.Fatalf("event seq %d, want 1000", p.Seq)
			}
			// The flow is tracked under the 5-tuple: decided, its next packet only counts.
			k := flow.Key{A: p.Src, B: p.Dst, PortA: 40000, PortB: 443, Proto: tt.proto}
			if err := e.MarkDecided(k); err != nil {
				t.Fatal(err)
			}
			if _, err := e.objs.TlsauditEgress.Run(&ebpf.RunOptions{Data: tt.frame}); err != nil {
				t.Fatal(err)
			}
			if err := e.Next(&p, func() int64 { return 1 }); err != ErrTimeout {
				t.Fatalf("decided flow produced an event (err %v, payload %q)", err, p.Payload)
			}
			packets, _, ok := e.FlowCounters(k)
			st, _ = e.KernelStats()
			if !ok || packets != 2 || st["fast_path"] != 1 || st["events"] != 1 || st["packets"] != 2 {
				t.Errorf("flow packets %d (ok %v), stats %v; want 2 packets, 1 fast path, 1 event", packets, ok, st)
			}
		})
	}
}

// BenchmarkEBPF measures the kernel program per packet with BPF_PROG_TEST_RUN on the
// paths that matter: a decided flow (the fast path every later packet takes), a payload
// packet of an undecided flow (bytes copied to the ring buffer), and a bare ACK of an
// undecided flow (counted, nothing copied).
func BenchmarkEBPF(b *testing.B) {
	payload := make([]byte, 1400)
	k := flow.Key{PortA: 40000, PortB: 443, Proto: flow.TCP}
	copy(k.A[:], v4mapped)
	copy(k.A[12:], ip4a.To4())
	copy(k.B[:], v4mapped)
	copy(k.B[12:], ip4b.To4())
	run := func(b *testing.B, e *EBPF, data []byte) {
		_, per, err := e.objs.TlsauditIngress.Benchmark(data, b.N, b.ResetTimer)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(per.Nanoseconds()), "ns/packet")
	}
	// An empty program measures BPF_PROG_TEST_RUN's own cost per run, to subtract.
	b.Run("empty-program", func(b *testing.B) {
		needRoot(b)
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Type: ebpf.SchedCLS, License: "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
		})
		if err != nil {
			b.Fatal(err)
		}
		defer prog.Close()
		_, per, err := prog.Benchmark(testFrame(b, nil, payload), b.N, b.ResetTimer)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(per.Nanoseconds()), "ns/packet")
	})
	b.Run("decided", func(b *testing.B) {
		e := loadForTest(b, EBPFConfig{RingBytes: 1 << 20})
		if _, err := e.objs.TlsauditIngress.Run(&ebpf.RunOptions{Data: testFrame(b, nil, payload)}); err != nil {
			b.Fatal(err)
		}
		if err := e.MarkDecided(k); err != nil {
			b.Fatal(err)
		}
		run(b, e, testFrame(b, nil, payload))
	})
	b.Run("first-bytes", func(b *testing.B) {
		// An unlimited budget keeps every run on the copy path; a 256 MiB ring holds
		// ~450k events of 512 bytes, past which the run measures a failed reserve.
		e := loadForTest(b, EBPFConfig{RingBytes: 256 << 20, BudgetPerDirection: 1 << 31})
		run(b, e, testFrame(b, nil, payload[:512]))
		if st, _ := e.KernelStats(); st["ringbuf_full"] > 0 {
			b.Logf("ring buffer full for %d of %d runs", st["ringbuf_full"], b.N)
		}
	})
	b.Run("bare-ack", func(b *testing.B) {
		e := loadForTest(b, EBPFConfig{RingBytes: 1 << 20})
		run(b, e, testFrame(b, nil, nil))
	})
}
