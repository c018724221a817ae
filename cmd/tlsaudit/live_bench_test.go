package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// iperf3Gbps runs one iperf3 TCP test from the client namespace to the server's iperf3
// and returns the received throughput in Gbit/s.
func iperf3Gbps(b *testing.B, tn *testNet, seconds string) float64 {
	b.Helper()
	out, err := exec.Command("ip", "netns", "exec", tn.client, "iperf3", "-c", tn.serverIP, "-t", seconds, "-J").Output()
	if err != nil {
		b.Fatalf("iperf3: %v\n%s", err, out)
	}
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatal(err)
	}
	return r.End.SumReceived.BitsPerSecond / 1e9
}

// BenchmarkAgentThroughputOverhead measures what the agent costs the traffic it
// watches: iperf3 across a veth pair without the agent, with the eBPF engine attached,
// and with the AF_PACKET engine, alternating in the same run; it reports each
// throughput and the loss ratio against the runs without the agent. Run with
// -benchtime 1x; each iteration is a few iperf3 runs of 3 s.
func BenchmarkAgentThroughputOverhead(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: network namespaces and eBPF")
	}
	if _, err := exec.LookPath("iperf3"); err != nil {
		b.Skip("iperf3 not installed")
	}
	// With offloads on, the stack hands TC 64 KB GSO packets; with them off, every
	// MTU-sized segment is a packet: the per-packet cost shows.
	b.Run("offloads-on", func(b *testing.B) { throughputOverhead(b, true) })
	b.Run("offloads-off", func(b *testing.B) { throughputOverhead(b, false) })
}

func throughputOverhead(b *testing.B, offloads bool) {
	agentBin, _ := binaries(b)
	tn := newTestNet(b, offloads)
	srv := exec.Command("ip", "netns", "exec", tn.server, "iperf3", "-s", "-B", tn.serverIP)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	time.Sleep(300 * time.Millisecond)

	withAgent := func(engine string) float64 {
		var log bytes.Buffer
		agent := exec.Command("ip", "netns", "exec", tn.server, agentBin, "run", "--engine", engine, "--log-format", "json",
			"--listen", "127.0.0.1:19808", "--interface", tn.serverIf)
		agent.Stderr = &log
		if err := agent.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { agent.Process.Signal(syscall.SIGTERM); agent.Wait() }()
		deadline := time.Now().Add(10 * time.Second)
		for !bytes.Contains(log.Bytes(), []byte(`"running"`)) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		return iperf3Gbps(b, tn, "3")
	}
	var base, ebpfRate, afp float64
	for b.Loop() {
		base += iperf3Gbps(b, tn, "3")
		ebpfRate += withAgent("ebpf")
		afp += withAgent("afpacket")
		base += iperf3Gbps(b, tn, "3")
	}
	base /= 2
	b.ReportMetric(base/float64(b.N), "Gbit/s-bare")
	b.ReportMetric(ebpfRate/float64(b.N), "Gbit/s-ebpf")
	b.ReportMetric(afp/float64(b.N), "Gbit/s-afpacket")
	b.ReportMetric(100*(1-ebpfRate/base), "%loss-ebpf")
	b.ReportMetric(100*(1-afp/base), "%loss-afpacket")
}
