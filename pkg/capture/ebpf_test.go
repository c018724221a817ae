package capture

import (
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
