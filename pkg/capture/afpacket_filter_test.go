package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// frameSpec describes one crafted frame for the filter tests.
type frameSpec struct {
	src, dst       string // addr:port
	udp            bool
	flags          uint8 // TCP flags (flow.Flag*)
	ipOptions      bool  // an IPv4 header with options (IHL 7)
	fragment       bool  // IPv4 more-fragments
	hopByHop       bool  // an IPv6 hop-by-hop extension header
	vlan           bool  // an 802.1Q tag in the frame
	payload        int
	truncateToIPHd bool // cut the frame right after the IP header
}

func (s frameSpec) build(t *testing.T) []byte {
	t.Helper()
	src, dst := netip.MustParseAddrPort(s.src), netip.MustParseAddrPort(s.dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ls []gopacket.SerializableLayer
	ls = append(ls, eth)
	var ipType layers.EthernetType
	var netLayer gopacket.NetworkLayer
	proto := layers.IPProtocolTCP
	if s.udp {
		proto = layers.IPProtocolUDP
	}
	var ipLayers []gopacket.SerializableLayer
	if src.Addr().Is4() {
		ipType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if s.ipOptions {
			ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1},
				{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		if s.fragment {
			ip.Flags = layers.IPv4MoreFragments
		}
		netLayer, ipLayers = ip, []gopacket.SerializableLayer{ip}
	} else {
		ipType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		netLayer, ipLayers = ip, []gopacket.SerializableLayer{ip}
		if s.hopByHop {
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			hop := &layers.IPv6HopByHop{}
			hop.NextHeader = proto
			hop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
			ipLayers = append(ipLayers, hop)
		}
	}
	if s.vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 7, Type: ipType})
	} else {
		eth.EthernetType = ipType
	}
	ls = append(ls, ipLayers...)
	pay := gopacket.Payload(make([]byte, s.payload))
	if s.udp {
		u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		u.SetNetworkLayerForChecksum(netLayer)
		ls = append(ls, u, pay)
	} else {
		tc := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: 1, Window: 1000,
			FIN: s.flags&flow.FlagFIN != 0, SYN: s.flags&flow.FlagSYN != 0, RST: s.flags&flow.FlagRST != 0, ACK: s.flags&flow.FlagACK != 0}
		tc.SetNetworkLayerForChecksum(netLayer)
		ls = append(ls, tc, pay)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if s.truncateToIPHd {
		n := 14 + 20
		if s.ipOptions {
			n += 8
		}
		if !src.Addr().Is4() {
			n = 14 + 40
		}
		b = b[:n]
	}
	return b
}

// vmEnv is what the kernel would give the filter's extension loads.
type vmEnv struct {
	ifindex int
	hatype  uint32
	random  uint32
}

// runFilter runs prog on frame in x/net/bpf's VM, which knows no kernel extension but
// the length: each other extension load is replaced by the constant the kernel would
// load (the ethertype for SKF_AD_PROTOCOL is read from the frame, as for an untagged
// or a non-accelerated tagged frame).
func runFilter(t *testing.T, prog []bpf.Instruction, frame []byte, env vmEnv) bool {
	t.Helper()
	p := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		p[i] = ins
		le, ok := ins.(bpf.LoadExtension)
		if !ok {
			continue
		}
		var v uint32
		switch le.Num {
		case bpf.ExtLen:
			continue
		case bpf.ExtInterfaceIndex:
			v = uint32(env.ifindex)
		case bpf.ExtProto:
			v = uint32(binary.BigEndian.Uint16(frame[12:]))
		case bpf.ExtLinkLayerType:
			v = env.hatype
		case bpf.ExtRand:
			v = env.random
		default:
			t.Fatalf("instruction %d: unexpected extension %v", i, le.Num)
		}
		p[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: v}
	}
	vm, err := bpf.NewVM(p)
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return n > 0
}

func keyOf(t *testing.T, src, dst string, udp bool) flow.Key {
	t.Helper()
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	p := flow.Packet{Src: s.Addr().As16(), Dst: d.Addr().As16(), SrcPort: s.Port(), DstPort: d.Port(), Proto: flow.TCP}
	if udp {
		p.Proto = flow.UDP
	}
	return flow.KeyOf(&p)
}

func TestSkipFilter(t *testing.T) {
	const (
		cli4, srv4 = "10.1.0.1:40000", "10.1.0.2:443"
		cli6, srv6 = "[fd00::1]:40000", "[fd00::2]:443"
		quic6      = "[fd00::1]:50000"
		udpSrv6    = "[fd00::2]:443"
	)
	skip := []flow.Key{
		keyOf(t, cli4, srv4, false),
		keyOf(t, cli6, srv6, false),
		keyOf(t, quic6, udpSrv6, true),
		keyOf(t, "10.1.0.1:5000", "10.1.0.1:5000", true), // both ends the same: one orientation
	}
	prog, err := skipFilter([]int{3, 7}, skip, 64)
	if err != nil {
		t.Fatal(err)
	}
	eth := vmEnv{ifindex: 7, hatype: arphrdEther, random: 5}
	cases := []struct {
		name string
		f    frameSpec
		env  vmEnv
		want bool
	}{
		{"ipv4 data to server", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, payload: 1400}, eth, false},
		{"ipv4 data to client", frameSpec{src: srv4, dst: cli4, flags: flow.FlagACK, payload: 1400}, eth, false},
		{"ipv4 ack", frameSpec{src: srv4, dst: cli4, flags: flow.FlagACK}, eth, false},
		{"ipv4 syn", frameSpec{src: cli4, dst: srv4, flags: flow.FlagSYN}, eth, true},
		{"ipv4 syn-ack", frameSpec{src: srv4, dst: cli4, flags: flow.FlagSYN | flow.FlagACK}, eth, true},
		{"ipv4 fin", frameSpec{src: cli4, dst: srv4, flags: flow.FlagFIN | flow.FlagACK}, eth, true},
		{"ipv4 rst", frameSpec{src: srv4, dst: cli4, flags: flow.FlagRST}, eth, true},
		{"ipv4 sampled", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, payload: 100}, vmEnv{7, arphrdEther, 64 << 8}, true},
		{"ipv4 other client port", frameSpec{src: "10.1.0.1:40001", dst: srv4, flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv4 other client", frameSpec{src: "10.1.0.3:40000", dst: srv4, flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv4 other server", frameSpec{src: cli4, dst: "10.1.0.4:443", flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv4 ports crossed", frameSpec{src: "10.1.0.1:443", dst: "10.1.0.2:40000", flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv4 udp with a listed tcp flow's numbers", frameSpec{src: cli4, dst: srv4, udp: true, payload: 100}, eth, true},
		{"ipv6 tcp with a listed udp flow's numbers", frameSpec{src: quic6, dst: udpSrv6, flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv4 options", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, ipOptions: true, payload: 1000}, eth, false},
		{"ipv4 options fin", frameSpec{src: srv4, dst: cli4, flags: flow.FlagFIN, ipOptions: true}, eth, true},
		{"ipv4 fragment", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, fragment: true, payload: 1000}, eth, true},
		{"ipv4 truncated", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, truncateToIPHd: true}, eth, true},
		{"ipv4 options truncated", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, ipOptions: true, truncateToIPHd: true}, eth, true},
		{"ipv4 self-connection udp", frameSpec{src: "10.1.0.1:5000", dst: "10.1.0.1:5000", udp: true, payload: 10}, eth, false},
		{"ipv6 data to server", frameSpec{src: cli6, dst: srv6, flags: flow.FlagACK, payload: 1400}, eth, false},
		{"ipv6 data to client", frameSpec{src: srv6, dst: cli6, flags: flow.FlagACK, payload: 1400}, eth, false},
		{"ipv6 syn", frameSpec{src: cli6, dst: srv6, flags: flow.FlagSYN}, eth, true},
		{"ipv6 fin", frameSpec{src: srv6, dst: cli6, flags: flow.FlagFIN | flow.FlagACK}, eth, true},
		{"ipv6 rst", frameSpec{src: cli6, dst: srv6, flags: flow.FlagRST}, eth, true},
		{"ipv6 other server", frameSpec{src: cli6, dst: "[fd00::3]:443", flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv6 other client last word", frameSpec{src: "[fd00::1:1]:40000", dst: srv6, flags: flow.FlagACK, payload: 100}, eth, true},
		{"ipv6 hop-by-hop", frameSpec{src: cli6, dst: srv6, flags: flow.FlagACK, hopByHop: true, payload: 100}, eth, true},
		{"ipv6 truncated", frameSpec{src: cli6, dst: srv6, flags: flow.FlagACK, truncateToIPHd: true}, eth, true},
		{"ipv6 udp to server", frameSpec{src: quic6, dst: udpSrv6, udp: true, payload: 1200}, eth, false},
		{"ipv6 udp to client", frameSpec{src: udpSrv6, dst: quic6, udp: true, payload: 1200}, eth, false},
		{"ipv6 udp sampled", frameSpec{src: udpSrv6, dst: quic6, udp: true, payload: 1200}, vmEnv{7, arphrdEther, 0}, true},
		{"802.1Q tagged", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, vlan: true, payload: 1000}, eth, true},
		{"not ethernet", frameSpec{src: cli4, dst: srv4, flags: flow.FlagACK, payload: 1000}, vmEnv{7, 776, 5}, true},
		{"other interface", frameSpec{src: "10.1.0.9:1", dst: srv4, flags: flow.FlagACK, payload: 10}, vmEnv{4, arphrdEther, 5}, false},
		{"first interface", frameSpec{src: "10.1.0.9:1", dst: srv4, flags: flow.FlagACK, payload: 10}, vmEnv{3, arphrdEther, 5}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := runFilter(t, prog, tc.f.build(t), tc.env); got != tc.want {
				t.Errorf("passed %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("not ip", func(t *testing.T) {
		arp := make([]byte, 60)
		arp[12], arp[13] = 0x08, 0x06
		if runFilter(t, prog, arp, eth) {
			t.Error("ARP passed")
		}
	})
}

// TestSkipFilterWithoutSkips: with nothing skipped the filter is the interface and
// ethertype filter alone.
func TestSkipFilterWithoutSkips(t *testing.T) {
	prog, err := skipFilter([]int{2}, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 9 {
		t.Errorf("%d instructions, want 9:\n%v", len(prog), prog)
	}
	data := frameSpec{src: "10.1.0.1:1", dst: "10.1.0.2:2", flags: flow.FlagACK, payload: 10}.build(t)
	if !runFilter(t, prog, data, vmEnv{2, arphrdEther, 1}) || runFilter(t, prog, data, vmEnv{3, arphrdEther, 1}) {
		t.Error("want the frame passed on interface 2 only")
	}
	if prog, _ := skipFilter(nil, nil, 64); runFilter(t, prog, data, vmEnv{2, arphrdEther, 1}) {
		t.Error("a filter without interfaces passed a frame")
	}
}

// TestSkipFilterSize: the longest list the agent builds (DefaultSkipConfig.MaxFlows
// IPv6 flows) on the most interfaces fits classic BPF's 4096 instructions, the kernel
// takes it (in place of an equal one), and each flow, first to last, is matched in both directions.
func TestSkipFilterSize(t *testing.T) {
	n := DefaultSkipConfig.MaxFlows
	var skip []flow.Key
	var addrs [][2]string
	for i := range n {
		c, s := netip.AddrPortFrom(netip.MustParseAddr("fd00::1"), uint16(30000+i)).String(), netip.AddrPortFrom(netip.AddrFrom16([16]byte{0xfd, 15: byte(i)}), 443).String()
		skip = append(skip, keyOf(t, c, s, false))
		addrs = append(addrs, [2]string{c, s})
	}
	ifs := make([]int, maxFilterInterfaces)
	for i := range ifs {
		ifs[i] = i + 1
	}
	prog, err := skipFilter(ifs, skip, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) > maxFilterInsn {
		t.Fatalf("%d instructions", len(prog))
	}
	t.Logf("%d IPv6 flows, %d interfaces: %d instructions", n, len(ifs), len(prog))
	env := vmEnv{maxFilterInterfaces, arphrdEther, 1}
	for i, a := range addrs {
		for _, f := range []frameSpec{{src: a[0], dst: a[1], flags: flow.FlagACK, payload: 100}, {src: a[1], dst: a[0], flags: flow.FlagACK, payload: 100}} {
			if runFilter(t, prog, f.build(t), env) {
				t.Fatalf("flow %d (%s → %s) passed", i, f.src, f.dst)
			}
		}
	}
	if !runFilter(t, prog, frameSpec{src: "[fd00::1]:29999", dst: addrs[0][1], flags: flow.FlagACK, payload: 100}.build(t), env) {
		t.Error("an unlisted flow was dropped")
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to open an AF_PACKET socket and have the kernel check the filter")
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0) // protocol 0: receives nothing
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	// Twice: while one filter replaces another both are charged to the socket.
	for range 2 {
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
			t.Fatalf("the kernel refused the filter: %v", err)
		}
	}
}
