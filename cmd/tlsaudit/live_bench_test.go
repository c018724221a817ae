package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// iperf3Gbps runs one iperf3 TCP test from the client namespace to the server's iperf3
// and returns the received throughput in Gbit/s. The first second is omitted (-O 1):
// it is slow start, and it is where run-to-run noise is largest.
func iperf3Gbps(b *testing.B, tn *testNet, seconds string) float64 {
	b.Helper()
	out, err := exec.Command("ip", "netns", "exec", tn.client, "iperf3", "-c", tn.serverIP, "-t", seconds, "-O", "1", "-J").Output()
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
// watches: iperf3 across a veth pair with nothing attached ("bare"), with an empty TCX
// program on ingress and egress of the server's interface ("empty-tcx"), with the eBPF
// engine, and with the AF_PACKET engine. Each iteration is one round that runs every
// configuration once, in an order rotated from round to round, so that drift on a
// shared machine spreads over all of them; run with -benchtime 5x or more.
//
// It reports each configuration's median throughput and its loss against bare: the
// median over rounds of 1 - rate/bare-of-the-same-round. The empty-TCX row is there
// because merely having a TCX program on the hook costs throughput (the skb goes
// through tcx_run and the BPF dispatcher on each packet, and with offloads off every
// MTU-sized segment is a packet), so %loss-empty-tcx is the floor no program can go
// below, and %loss-ebpf minus it is the share of tlsaudit's own program and agent. The
// eBPF agent's own CPU time during iperf3 is reported as a percentage of one core: on
// a decided bulk flow it should be about zero, since no packet reaches userspace.
func BenchmarkAgentThroughputOverhead(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: network namespaces and eBPF")
	}
	if _, err := exec.LookPath("iperf3"); err != nil {
		b.Skip("iperf3 not installed")
	}
	// With offloads on, the stack hands TC 64 KB GSO packets; with them off, every
	// MTU-sized segment is a packet: the per-packet cost shows.
	b.Run("offloads-on", func(b *testing.B) { throughputOverhead(b, true, overheadConfigs) })
	b.Run("offloads-off", func(b *testing.B) { throughputOverhead(b, false, overheadConfigs) })
}

// BenchmarkTCXHookCost splits the cost of an empty TCX program by hook (offloads off):
// on the server's interface, ingress carries iperf3's data segments and egress its
// ACKs. Set TLSAUDIT_BENCH_HOOKS=1 to run it; it takes a few minutes.
func BenchmarkTCXHookCost(b *testing.B) {
	if os.Getenv("TLSAUDIT_BENCH_HOOKS") == "" {
		b.Skip("set TLSAUDIT_BENCH_HOOKS=1 to run")
	}
	if os.Geteuid() != 0 {
		b.Skip("needs root: network namespaces and eBPF")
	}
	throughputOverhead(b, false, []string{"empty-tcx", "empty-tcx-ingress", "empty-tcx-egress", "ebpf"})
}

// overheadConfigs are what BenchmarkAgentThroughputOverhead compares with bare.
// "afpacket-noskip" is the AF_PACKET engine without its skip list (--skip-flows 0),
// which copies every packet of a decided flow to userspace.
var overheadConfigs = []string{"empty-tcx", "ebpf", "afpacket", "afpacket-noskip"}

func throughputOverhead(b *testing.B, offloads bool, configs []string) {
	agentBin, _ := binaries(b)
	tn := newTestNet(b, offloads)
	srv := exec.Command("ip", "netns", "exec", tn.server, "iperf3", "-s", "-B", tn.serverIP)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	time.Sleep(300 * time.Millisecond)
	const seconds = "3"

	// run measures one configuration once; cpu is the agent's CPU time in percent of
	// one core while iperf3 ran, or -1 without an agent.
	run := func(config string) (gbps, cpu float64) {
		switch config {
		case "bare":
			return iperf3Gbps(b, tn, seconds), -1
		case "empty-tcx", "empty-tcx-ingress", "empty-tcx-egress":
			var hooks []ebpf.AttachType
			if config != "empty-tcx-egress" {
				hooks = append(hooks, ebpf.AttachTCXIngress)
			}
			if config != "empty-tcx-ingress" {
				hooks = append(hooks, ebpf.AttachTCXEgress)
			}
			detach := attachEmptyTCX(b, tn.server, tn.serverIf, hooks...)
			defer detach()
			return iperf3Gbps(b, tn, seconds), -1
		}
		engine, extra := config, []string(nil)
		if config == "afpacket-noskip" {
			engine, extra = "afpacket", []string{"--skip-flows", "0"}
		}
		args := append([]string{"netns", "exec", tn.server, agentBin, "run", "--engine", engine, "--log-format", "json",
			"--listen", "127.0.0.1:19808", "--interface", tn.serverIf}, extra...)
		var log bytes.Buffer
		agent := exec.Command("ip", args...)
		agent.Stderr = &log
		if err := agent.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { agent.Process.Signal(syscall.SIGTERM); agent.Wait() }()
		deadline := time.Now().Add(10 * time.Second)
		for !bytes.Contains(log.Bytes(), []byte(`"running"`)) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		// `ip netns exec` execs the agent, so the process is the agent itself.
		cpu0, t0 := procCPU(b, agent.Process.Pid), time.Now()
		gbps = iperf3Gbps(b, tn, seconds)
		cpu = 100 * (procCPU(b, agent.Process.Pid) - cpu0).Seconds() / time.Since(t0).Seconds()
		return gbps, cpu
	}

	all := append([]string{"bare"}, configs...)
	rates := map[string][]float64{}
	losses := map[string][]float64{}
	cpus := map[string][]float64{}
	round := 0
	for b.Loop() {
		got := map[string]float64{}
		for i := range all {
			c := all[(i+round)%len(all)]
			g, cpu := run(c)
			got[c] = g
			rates[c] = append(rates[c], g)
			if cpu >= 0 {
				cpus[c] = append(cpus[c], cpu)
			}
		}
		for _, c := range configs {
			losses[c] = append(losses[c], 100*(1-got[c]/got["bare"]))
		}
		round++
	}
	for _, c := range all {
		b.ReportMetric(median(rates[c]), "Gbit/s-"+c)
		b.Logf("%-18s Gbit/s median %.2f, range %.2f–%.2f, rounds %s", c, median(rates[c]), slices.Min(rates[c]), slices.Max(rates[c]), fmtList(rates[c]))
	}
	for _, c := range configs {
		b.ReportMetric(median(losses[c]), "%loss-"+c)
		b.Logf("%-18s %%loss median %.1f, range %.1f–%.1f, rounds %s", c, median(losses[c]), slices.Min(losses[c]), slices.Max(losses[c]), fmtList(losses[c]))
		if len(cpus[c]) > 0 {
			b.ReportMetric(median(cpus[c]), "%cpu-agent-"+c)
		}
	}
}

// attachEmptyTCX attaches a program that only returns TCX_NEXT to the given TCX hooks
// of an interface in a network namespace, and returns the function that detaches it.
func attachEmptyTCX(b *testing.B, netns, ifname string, hooks ...ebpf.AttachType) (detach func()) {
	b.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.SchedCLS, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()}, // TCX_NEXT
	})
	if err != nil {
		b.Fatal(err)
	}
	var links []link.Link
	err = inNetns(netns, func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			l, err := link.AttachTCX(link.TCXOptions{Interface: ifc.Index, Program: prog, Attach: h})
			if err != nil {
				return fmt.Errorf("attach tcx %s: %w", ifname, err)
			}
			links = append(links, l)
		}
		return nil
	})
	detach = func() {
		for _, l := range links {
			l.Close()
		}
		prog.Close()
	}
	if err != nil {
		detach()
		b.Fatal(err)
	}
	return detach
}

// inNetns runs f on a thread switched into the named network namespace. The thread is
// switched back before it is released; if that fails, it stays locked and dies with
// the goroutine.
func inNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/var/run/netns", name))
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns back: %w", err)
			return // the thread stays locked: the runtime ends it with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// procCPU returns the user and system CPU time a process has used.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces; the fields after it are numbers.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	// After the name: state(3) ... utime(14) stime(15), counted from 1 over the line.
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}
