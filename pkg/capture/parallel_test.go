package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// packetLine is what a test keeps of a packet: enough to tell any two apart and to
// see a payload that was overwritten.
func packetLine(p *flow.Packet) string {
	return fmt.Sprintf("%x %d %x %d %d %d %d %d %x", p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto, p.Seq, p.Timestamp, p.PayloadLen, p.Payload)
}

// TestReadFileParallel: for pcap (spanning many read blocks), pcapng (whose records
// are copied into blocks) and gzip-compressed pcap, every worker gets exactly the
// packets of the flows Shard gives it, in file order, with their payloads intact, and
// both directions of a connection reach the same worker.
func TestReadFileParallel(t *testing.T) {
	pcap := generatedPcap(t, 400)
	for name, data := range map[string][]byte{"x.pcap": pcap, "x.pcapng": toPcapng(t, pcap), "x.pcap.gz": gzipped(t, pcap)} {
		for _, workers := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d", name, workers), func(t *testing.T) {
				path := writeTemp(t, name, data)
				want := make([][]string, workers)
				var p flow.Packet
				serial := 0
				if err := ReadFile(path, NewDecoder(), &p, func(p *flow.Packet) {
					i := Shard(p, workers)
					want[i] = append(want[i], packetLine(p))
					serial++
				}); err != nil {
					t.Fatal(err)
				}
				got := make([][]string, workers)
				owner := sync.Map{} // flow key -> worker
				add := make([]func(*flow.Packet), workers)
				for i := range add {
					add[i] = func(p *flow.Packet) {
						if w, loaded := owner.LoadOrStore(flow.KeyOf(p), i); loaded && w != i {
							t.Errorf("flow %v reached workers %d and %d", flow.KeyOf(p), w, i)
						}
						got[i] = append(got[i], packetLine(p))
					}
				}
				var reported uint64
				if err := ReadFileParallel(path, NewDecoder(), add, func(_ int64, n uint64) { reported = n }); err != nil {
					t.Fatal(err)
				}
				if reported != uint64(serial) {
					t.Errorf("progress ended at %d packets, want %d", reported, serial)
				}
				for i := range workers {
					if len(got[i]) == 0 || len(got[i]) != len(want[i]) {
						t.Fatalf("worker %d got %d packets, want %d (of %d)", i, len(got[i]), len(want[i]), serial)
					}
					for j := range got[i] {
						if got[i][j] != want[i][j] {
							t.Fatalf("worker %d packet %d:\n%s\nwant\n%s", i, j, got[i][j], want[i][j])
						}
					}
				}
			})
		}
	}
}

// TestReadFileParallelDamage: a file cut inside a record gives the same error, after
// the same packets, as the serial reader.
func TestReadFileParallelDamage(t *testing.T) {
	pcap := generatedPcap(t, 50)
	path := writeTemp(t, "cut.pcap", pcap[:len(pcap)-7])
	var p flow.Packet
	serial := 0
	errSerial := ReadFile(path, NewDecoder(), &p, func(*flow.Packet) { serial++ })
	var mu sync.Mutex
	parallel := 0
	count := func(*flow.Packet) { mu.Lock(); parallel++; mu.Unlock() }
	errParallel := ReadFileParallel(path, NewDecoder(), []func(*flow.Packet){count, count}, nil)
	if errSerial == nil || errParallel == nil || errSerial.Error() != errParallel.Error() || serial != parallel {
		t.Fatalf("serial: %d packets, %v; parallel: %d packets, %v", serial, errSerial, parallel, errParallel)
	}
}

// TestShardSymmetric: both directions of a connection have one shard, and shards are
// used about evenly over many connections.
func TestShardSymmetric(t *testing.T) {
	counts := make([]int, 4)
	for i := range 4000 {
		a := flow.Packet{Proto: flow.TCP, SrcPort: uint16(30000 + i), DstPort: 443}
		a.Src[15], a.Dst[15] = byte(i), 9
		b := a
		b.Src, b.Dst, b.SrcPort, b.DstPort = a.Dst, a.Src, a.DstPort, a.SrcPort
		if Shard(&a, 4) != Shard(&b, 4) {
			t.Fatalf("directions of %+v differ", a)
		}
		counts[Shard(&a, 4)]++
	}
	for i, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d has %d of 4000 connections: %v", i, c, counts)
		}
	}
}

// BenchmarkReadOnly is the reading side alone, over a 100 MB generated capture, with
// nothing done with the packets: one goroutine reading and decoding (serial), and
// ReadFileParallel's reader with two workers that decode every record (parallel).
// The parallel figure bounds what --workers can gain while one goroutine reads.
func BenchmarkReadOnly(b *testing.B) {
	pcap := generatedPcap(b, 20000)
	path := filepath.Join(b.TempDir(), "read.pcap")
	if err := os.WriteFile(path, pcap, 0o644); err != nil {
		b.Fatal(err)
	}
	nop := func(*flow.Packet) {}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(pcap)))
		var p flow.Packet
		for b.Loop() {
			if err := ReadFile(path, NewDecoder(), &p, nop); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(int64(len(pcap)))
		for b.Loop() {
			if err := ReadFileParallel(path, NewDecoder(), []func(*flow.Packet){nop, nop}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
