package main

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/netnstest"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// attachInNetns attaches e to the interface called ifname inside network namespace ns.
// Attachments outlive the thread's switch back: they hold the interface, not the
// namespace.
func attachInNetns(t testing.TB, e *capture.EBPF, ns, ifname string) {
	t.Helper()
	netnstest.Do(t, ns, func() {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Attach(ifc.Index, ifname); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEBPFBurstAccounting floods the eBPF engine with 100k new flows at 100k/s (one UDP
// datagram each) while the real userspace loop drains the ring buffer into the flow
// table. Some events may be lost when userspace falls behind; the test asserts that
// every loss is counted: each datagram that reached the program either became an event
// or a counted ring-buffer/map loss. It logs the figures.
func TestEBPFBurstAccounting(t *testing.T) {
	needLive(t)
	// With a 4 MiB ring and userspace draining, nothing should be lost; with a 64 KiB
	// ring that userspace drains only after the burst, most events must be lost, and
	// counted.
	t.Run("drained", func(t *testing.T) { burstAccounting(t, 4<<20, true) })
	t.Run("ring-too-small", func(t *testing.T) { burstAccounting(t, 64<<10, false) })
}

func burstAccounting(t *testing.T, ringBytes uint32, drainDuring bool) {
	_, _ = binaries(t)
	tn := newTestNet(t, false)
	burst := udpburstBinary(t)
	e, err := capture.LoadEBPF(capture.EBPFConfig{RingBytes: ringBytes}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	attachInNetns(t, e, tn.server, tn.serverIf)

	table := flow.New(flow.Config{OnDecide: func(r *flow.Record) { e.MarkDecided(r.Key) }}, func(*flow.Record) {})
	stop := make(chan struct{})
	start := make(chan struct{})
	drained := make(chan uint64)
	go func() {
		<-start
		var p flow.Packet
		var n uint64
		now := func() int64 { return time.Now().UnixNano() }
		for {
			select {
			case <-stop:
				drained <- n
				return
			default:
			}
			switch err := e.Next(&p, now); err {
			case nil:
				n++
				table.Add(&p)
			case capture.ErrTimeout:
			default:
				drained <- n
				return
			}
		}
	}()
	if drainDuring {
		close(start)
	}
	before, _ := e.KernelStats()
	out, err := exec.Command("ip", "netns", "exec", tn.client, burst, "-dst", tn.serverIP, "-n", "100000", "-rate", "100000").CombinedOutput()
	if err != nil {
		t.Fatalf("udpburst: %v\n%s", err, out)
	}
	if !drainDuring {
		close(start)
	}
	time.Sleep(time.Second) // let userspace drain what was queued
	close(stop)
	read := <-drained
	after, _ := e.KernelStats()
	d := func(k string) uint64 { return after[k] - before[k] }
	t.Logf("%s; kernel: packets %d, events %d, ringbuf_full %d, map_full %d, fast_path %d; userspace read %d events",
		strings.TrimSpace(string(out)), d("packets"), d("events"), d("ringbuf_full"), d("map_full"), d("fast_path"), read)
	// Every packet the program saw ended in exactly one counted outcome: nothing is
	// lost silently.
	var accounted uint64
	for _, k := range capture.KernelOutcomes {
		accounted += d(k)
	}
	if d("packets") < 100000 {
		t.Fatalf("program saw %d packets, want at least the 100000 sent", d("packets"))
	}
	if accounted != d("packets") {
		t.Errorf("kernel saw %d packets, its outcome counters sum to %d", d("packets"), accounted)
	}
	if d("events") != read {
		t.Errorf("kernel wrote %d events, userspace read %d", d("events"), read)
	}
	if !drainDuring && d("ringbuf_full") == 0 {
		t.Errorf("a 64 KiB ring undrained during a burst of 100000 events lost nothing: the loss counter is not working")
	}
}

// udpburstBinary builds test/udpburst and returns its path.
func udpburstBinary(t *testing.T) string {
	t.Helper()
	p := built.dir + "/udpburst"
	if out, err := exec.Command("go", "build", "-o", p, "../../test/udpburst").CombinedOutput(); err != nil {
		t.Fatalf("build udpburst: %v\n%s", err, out)
	}
	return p
}
