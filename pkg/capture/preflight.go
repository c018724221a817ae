package capture

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Capabilities each engine needs (capability(7) numbers).
const (
	capNetAdmin = 12
	capNetRaw   = 13
	capPerfmon  = 38
	capBPF      = 39
)

var capNames = map[int]string{capNetAdmin: "CAP_NET_ADMIN", capNetRaw: "CAP_NET_RAW", capPerfmon: "CAP_PERFMON", capBPF: "CAP_BPF"}

// engineCaps are the capabilities each engine checks for at start-up: eBPF loads
// programs and maps (BPF, PERFMON) and attaches them to TC (NET_ADMIN); AF_PACKET
// opens raw sockets (NET_RAW).
var engineCaps = map[string][]int{
	"ebpf":     {capBPF, capNetAdmin, capPerfmon},
	"afpacket": {capNetRaw},
}

// EngineCapabilities names, as Kubernetes spells them (no CAP_ prefix), the
// capabilities an engine ("ebpf", "afpacket", or "auto": either) needs and nothing
// more; the Helm chart's DaemonSet is tested against this list.
func EngineCapabilities(engine string) []string {
	caps := engineCaps[engine]
	if engine == "auto" {
		caps = append(slices.Clone(engineCaps["ebpf"]), engineCaps["afpacket"]...)
	}
	names := make([]string, 0, len(caps))
	for _, c := range caps {
		names = append(names, strings.TrimPrefix(capNames[c], "CAP_"))
	}
	return names
}

// MissingForEBPF lists what this process lacks to run the eBPF engine: capabilities,
// the bpf() syscall, TC attach support. An empty list means go.
func MissingForEBPF() []string {
	missing := missingCaps(engineCaps["ebpf"]...)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		// The program does not need BTF (it reads only __sk_buff fields and packet
		// bytes), but its absence marks kernels too old for the rest, so say so.
		missing = append(missing, "kernel BTF (/sys/kernel/btf/vmlinux): kernel older than 5.4 or built without CONFIG_DEBUG_INFO_BTF")
	}
	return missing
}

// MissingForAFPacket lists what this process lacks to open AF_PACKET sockets.
func MissingForAFPacket() []string { return missingCaps(engineCaps["afpacket"]...) }

func missingCaps(caps ...int) []string {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return []string{fmt.Sprintf("capget: %v", err)}
	}
	var out []string
	for _, c := range caps {
		if data[c/32].Effective&(1<<(c%32)) == 0 {
			out = append(out, capNames[c])
		}
	}
	return out
}

// Explain turns a list of missing things into one sentence.
func Explain(engine string, missing []string) string {
	return fmt.Sprintf("the %s engine needs %s (run as root, or grant these capabilities)", engine, strings.Join(missing, ", "))
}
