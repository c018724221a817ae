package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLiveIPv6ExtensionHeaders runs the agent on the server end of the veth pair
// while a Go crypto/tls client (test/tlspeer) talks TLS 1.3 over IPv6 to an echoing
// tlspeer server, its socket putting a Destination Options header, or a Hop-by-Hop
// and a Destination Options header, on every segment it sends. The agent must log
// the verdict of each flow: TLS 1.3 with the client's SNI. Real segments on veth are
// not linear the way BPF_PROG_TEST_RUN's frames are, so this is where the eBPF
// program's pull-and-reparse path meets the extension headers. A packet socket on
// the server's interface checks that the client's payload segments really carried
// the headers.
func TestLiveIPv6ExtensionHeaders(t *testing.T) {
	needLive(t)
	for _, tc := range []struct {
		name     string
		engine   string
		offloads bool
	}{
		{"ebpf-offloads-on", "ebpf", true},
		{"ebpf-offloads-off", "ebpf", false},
		{"afpacket-offloads-on", "afpacket", true},
		{"afpacket-offloads-off", "afpacket", false},
	} {
		t.Run(tc.name, func(t *testing.T) { ipv6ExtCase(t, tc.engine, tc.offloads) })
	}
}

const ipv6ExtServerPort = 4433

func ipv6ExtCase(t *testing.T, engine string, offloads bool) {
	agentBin, peerBin := binaries(t)
	tn := newTestNet(t, offloads)
	clientIP, serverIP := netip.MustParseAddr("fd00:77::1"), netip.MustParseAddr("fd00:77::2")
	for _, s := range []struct {
		ns, ifc string
		ip      netip.Addr
	}{{tn.client, tn.clientIf, clientIP}, {tn.server, tn.serverIf, serverIP}} {
		sh(t, "ip", "-n", s.ns, "addr", "add", s.ip.String()+"/64", "dev", s.ifc, "nodad")
	}
	server := netip.AddrPortFrom(serverIP, ipv6ExtServerPort).String()

	agent := startAgent(t, tn.server, agentBin, "--engine", engine, "--interface", tn.serverIf, "--metrics-addr", "127.0.0.1:19809")
	background(t, tn.server, peerBin, "-listen", server, "-n", "0")
	waitPort(t, tn.server, "4433")
	wire := watchExtHeaders(t, tn.server, tn.serverIf, clientIP, ipv6ExtServerPort)

	flows := []struct {
		sni   string
		flags []string
		chain string // the extension headers on the client's payload segments
	}{
		{"dstopts.internal", []string{"-ipv6-dstopts"}, "dst"},
		{"hopopts.internal", []string{"-ipv6-hopopts", "-ipv6-dstopts"}, "hop,dst"},
	}
	for _, f := range flows {
		args := append([]string{"netns", "exec", tn.client, peerBin, "-connect", server, "-sni", f.sni, "-insecure",
			"-timeout", "5s", "-send", "hello"}, f.flags...)
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tlspeer client %v: %v\n%s", f.flags, err, out)
		}
		if string(out) != "ok hello\r\n" {
			t.Fatalf("tlspeer client %v: got %q, want the server's echo", f.flags, out)
		}
	}

	time.Sleep(500 * time.Millisecond)
	lost := scrape(t, tn.server)["tlsaudit_events_lost_total"]
	agent.stop(t)
	segments := wire.stop()

	var got []verdictLine
	sc := bufio.NewScanner(bytes.NewReader(agent.log.Bytes()))
	for sc.Scan() {
		var v verdictLine
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Event == "verdict" && v.Server == server {
			got = append(got, v)
		}
	}
	for _, f := range flows {
		i := slices.IndexFunc(got, func(v verdictLine) bool { return v.SNI == f.sni })
		if i < 0 {
			t.Errorf("%s (%s): no verdict with this SNI; verdicts for %s: %+v; events lost: %v; client payload segments by port and headers: %v\n%s",
				f.sni, f.chain, server, got, lost, segments, agent.log.String())
			continue
		}
		v := got[i]
		if v.Class != "tls" || v.TLSVersion != "TLS1.3" || !v.Internal {
			t.Errorf("%s (%s): got %+v, want class tls, TLS1.3, internal", f.sni, f.chain, v)
		}
		client, err := netip.ParseAddrPort(v.Client)
		if err != nil || client.Addr() != clientIP {
			t.Errorf("%s: client %q, want %s and a port", f.sni, v.Client, clientIP)
			continue
		}
		// Every payload segment of this flow from the client carried the headers.
		seen := segments[client.Port()]
		if len(seen) != 1 || seen[f.chain] == 0 {
			t.Errorf("%s from port %d: client payload segments by extension headers %v, want all with %q",
				f.sni, client.Port(), seen, f.chain)
		}
		t.Logf("%s from port %d: %v; client payload segments by extension headers: %v", f.sni, client.Port(), v.TLSVersion, seen)
	}
}

// extWatch counts the TCP segments with payload that a client sends to a server port,
// by client port and by the chain of IPv6 extension headers before the TCP header
// ("hop,dst"; "" for none), as a packet socket on an interface sees them.
type extWatch struct {
	fd       int
	client   netip.Addr
	port     uint16
	mu       sync.Mutex
	segments map[uint16]map[string]int
	quit     chan struct{}
	done     chan struct{}
}

// watchExtHeaders opens a packet socket on ifname in namespace ns and counts what
// client sends to port until stop.
func watchExtHeaders(t *testing.T, ns, ifname string, client netip.Addr, port uint16) *extWatch {
	t.Helper()
	w := &extWatch{fd: -1, client: client, port: port, segments: map[uint16]map[string]int{},
		quit: make(chan struct{}), done: make(chan struct{})}
	proto := int(htons(unix.ETH_P_IPV6))
	err := inNetns(ns, func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		w.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifc.Index}); err != nil {
			return err
		}
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000})
	})
	if err != nil {
		if w.fd >= 0 {
			unix.Close(w.fd)
		}
		t.Fatalf("packet socket on %s: %v", ifname, err)
	}
	go w.run()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *extWatch) run() {
	defer close(w.done)
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-w.quit:
			return
		default:
		}
		n, _, err := unix.Recvfrom(w.fd, buf, 0)
		if err != nil {
			continue // the receive timeout: look at quit again
		}
		if sport, chain, ok := w.clientSegment(buf[:n]); ok {
			w.mu.Lock()
			if w.segments[sport] == nil {
				w.segments[sport] = map[string]int{}
			}
			w.segments[sport][chain]++
			w.mu.Unlock()
		}
	}
}

// IPv6 header and extension header names (RFC 8200 section 4, RFC 4302).
var extNames = map[byte]string{0: "hop", 43: "routing", 44: "fragment", 51: "ah", 60: "dst"}

// clientSegment reports the client port and extension header chain of an Ethernet
// frame holding a TCP segment with payload from the watched client to the port.
func (w *extWatch) clientSegment(f []byte) (sport uint16, chain string, ok bool) {
	const eth, ip6 = 14, 40
	if len(f) < eth+ip6 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_IPV6 {
		return 0, "", false
	}
	if src, _ := netip.AddrFromSlice(f[eth+8 : eth+24]); src != w.client {
		return 0, "", false
	}
	end := eth + ip6 + int(binary.BigEndian.Uint16(f[eth+4:]))
	next, off := f[eth+6], eth+ip6
	var names []string
	for {
		name, ext := extNames[next]
		if !ext {
			break
		}
		if off+8 > len(f) {
			return 0, "", false
		}
		names = append(names, name)
		if next == 51 {
			next, off = f[off], off+(int(f[off+1])+2)*4
		} else {
			next, off = f[off], off+(int(f[off+1])+1)*8
		}
	}
	if next != unix.IPPROTO_TCP || off+20 > len(f) || binary.BigEndian.Uint16(f[off+2:]) != w.port {
		return 0, "", false
	}
	if end-(off+int(f[off+12]>>4)*4) <= 0 {
		return 0, "", false
	}
	return binary.BigEndian.Uint16(f[off:]), strings.Join(names, ","), true
}

// stop ends the watch and returns the counts. It may be called more than once.
func (w *extWatch) stop() map[uint16]map[string]int {
	select {
	case <-w.quit:
	default:
		close(w.quit)
		<-w.done
		unix.Close(w.fd)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[uint16]map[string]int, len(w.segments))
	for p, m := range w.segments {
		out[p] = maps.Clone(m)
	}
	return out
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
