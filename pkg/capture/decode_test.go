package capture

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// frame serializes layers into a frame, computing lengths and checksums.
func frame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	var network gopacket.NetworkLayer
	for _, l := range ls {
		switch l := l.(type) {
		case gopacket.NetworkLayer:
			network = l
		case *layers.TCP:
			l.SetNetworkLayerForChecksum(network)
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(network)
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	ip4a = net.IP{10, 0, 0, 1}
	ip4b = net.IP{10, 0, 0, 2}
	ip6a = net.ParseIP("fd00::1")
	ip6b = net.ParseIP("fd00::2")
	mac  = net.HardwareAddr{2, 0, 0, 0, 0, 1}
)

func ipv4() *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip4a, DstIP: ip4b}
}

// outerIPv4 is a tunnel's outer header, between addresses the inner packet does not use.
func outerIPv4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
}

func ipv6() *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: ip6a, DstIP: ip6b}
}

func tcp() *layers.TCP {
	return &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1000, PSH: true, ACK: true, Window: 100, DataOffset: 5}
}

func TestDecodeLinkTypes(t *testing.T) {
	payload := gopacket.Payload("hello")
	tests := []struct {
		name  string
		lt    layers.LinkType
		frame []byte
		v6    bool
	}{
		{"ethernet", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), payload), false},
		{"vlan", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4}, ipv4(), tcp(), payload), false},
		{"qinq", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv6}, ipv6(), tcp(), payload), true},
		{"sll", layers.LinkTypeLinuxSLL, append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, frame(t, ipv4(), tcp(), payload)...), false},
		{"sll2", layers.LinkTypeLinuxSLL2, append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, frame(t, ipv6(), tcp(), payload)...), true},
		{"loopback", layers.LinkTypeNull, append([]byte{2, 0, 0, 0}, frame(t, ipv4(), tcp(), payload)...), false},
		{"raw v4", layers.LinkTypeRaw, frame(t, ipv4(), tcp(), payload), false},
		{"raw v6", layers.LinkTypeRaw, frame(t, ipv6(), tcp(), payload), true},
		{"ipv6 linktype", layers.LinkTypeIPv6, frame(t, ipv6(), tcp(), payload), true},
		{"vxlan", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4},
			outerIPv4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 55555, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true, VNI: 42},
			&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), payload), false},
		{"gre", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4},
			outerIPv4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ipv4(), tcp(), payload), false},
		{"pppoe", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypePPPoESession},
			&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 7}, &layers.PPP{PPPType: layers.PPPTypeIPv4}, ipv4(), tcp(), payload), false},
		{"ppp linktype", layers.LinkTypePPP, append([]byte{0xff, 0x03, 0x00, 0x57}, frame(t, ipv6(), tcp(), payload)...), true},
		{"gtp-u", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4},
			outerIPv4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 2152, DstPort: 2152}, &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 9},
			ipv4(), tcp(), payload), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			var p flow.Packet
			if !d.Decode(tt.lt, tt.frame, 1, len(tt.frame), &p) {
				t.Fatalf("not decoded: %+v", d.Stats())
			}
			if string(p.Payload) != "hello" || p.PayloadLen != 5 {
				t.Errorf("payload %q (len %d), want hello (5)", p.Payload, p.PayloadLen)
			}
			if p.Proto != flow.TCP || p.SrcPort != 40000 || p.DstPort != 443 || p.Seq != 1000 || p.IPv6 != tt.v6 {
				t.Errorf("packet %+v", p)
			}
			want := "10.0.0.1:40000"
			if tt.v6 {
				want = "[fd00::1]:40000"
			}
			if got := flow.Endpoint(p.Src, p.SrcPort, p.IPv6); got != netip.MustParseAddrPort(want) {
				t.Errorf("src = %v, want %s", got, want)
			}
		})
	}
}

func TestDecodeSnappedAndPadded(t *testing.T) {
	full := frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), gopacket.Payload("0123456789"))
	d := NewDecoder()
	var p flow.Packet
	if !d.Decode(layers.LinkTypeEthernet, full[:len(full)-4], 1, len(full), &p) {
		t.Fatal("snapped frame not decoded")
	}
	if string(p.Payload) != "012345" || p.PayloadLen != 10 {
		t.Errorf("snapped: payload %q len %d, want 012345 and 10", p.Payload, p.PayloadLen)
	}
	padded := append(append([]byte{}, full...), 0, 0, 0, 0)
	if !d.Decode(layers.LinkTypeEthernet, padded, 1, len(padded), &p) {
		t.Fatal("padded frame not decoded")
	}
	if string(p.Payload) != "0123456789" {
		t.Errorf("padded: payload %q", p.Payload)
	}
}

func TestDecodeSkips(t *testing.T) {
	frag := ipv4()
	frag.Flags = layers.IPv4MoreFragments
	icmp := ipv4()
	icmp.Protocol = layers.IPProtocolICMPv4
	tests := []struct {
		name  string
		lt    layers.LinkType
		frame []byte
		count func(DecodeStats) uint64
	}{
		{"fragment", layers.LinkTypeRaw, frame(t, frag, tcp(), gopacket.Payload("x")), func(s DecodeStats) uint64 { return s.Fragments }},
		{"icmp", layers.LinkTypeRaw, frame(t, icmp, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}), func(s DecodeStats) uint64 { return s.OtherProto }},
		{"arp", layers.LinkTypeEthernet, frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
				SourceHwAddress: mac, SourceProtAddress: ip4a, DstHwAddress: mac, DstProtAddress: ip4b}), func(s DecodeStats) uint64 { return s.NotIP }},
		{"unknown link", layers.LinkTypeIEEE802_11, []byte{1, 2, 3}, func(s DecodeStats) uint64 { return s.UnknownLink }},
		{"garbage", layers.LinkTypeRaw, []byte{0x45, 0, 0}, func(s DecodeStats) uint64 { return s.Malformed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			var p flow.Packet
			if d.Decode(tt.lt, tt.frame, 1, len(tt.frame), &p) {
				t.Fatalf("decoded %+v", p)
			}
			if tt.count(d.Stats()) != 1 {
				t.Errorf("stats %+v", d.Stats())
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	f := frame(b, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), gopacket.Payload(make([]byte, 1400)))
	d := NewDecoder()
	var p flow.Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		d.Decode(layers.LinkTypeEthernet, f, 1, len(f), &p)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint16(layers.LinkTypeEthernet), frame(f, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), gopacket.Payload("hello")))
	f.Add(uint16(layers.LinkTypeRaw), frame(f, ipv6(), tcp(), gopacket.Payload("hello")))
	f.Add(uint16(layers.LinkTypeLinuxSLL2), append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, frame(f, ipv6(), tcp(), gopacket.Payload("x"))...))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var p flow.Packet
		if d.Decode(layers.LinkType(lt), data, 1, len(data), &p) {
			if len(p.Payload) > p.PayloadLen || p.Proto != flow.TCP && p.Proto != flow.UDP {
				t.Fatalf("inconsistent packet %+v", p)
			}
		}
	})
}

// withIPv6Ext inserts an extension header of type typ with body (its next-header byte
// is filled in) between the fixed IPv6 header and what follows it, in a raw IPv6 packet.
func withIPv6Ext(pkt []byte, typ layers.IPProtocol, body []byte) []byte {
	ext := append([]byte{pkt[6]}, body...)
	out := append(append(append([]byte{}, pkt[:40]...), ext...), pkt[40:]...)
	out[6] = byte(typ)
	l := int(out[4])<<8 | int(out[5]) + len(ext)
	out[4], out[5] = byte(l>>8), byte(l)
	return out
}

// TestDecodeIPv6Extensions: TCP behind IPv6 extension headers keeps its exact payload
// length (a Hop-by-Hop header is the IPv6 layer's own in gopacket and must not count
// as payload), AH is walked, and fragments are counted as fragments, except an atomic
// fragment, which is a whole packet.
func TestDecodeIPv6Extensions(t *testing.T) {
	base := frame(t, ipv6(), tcp(), gopacket.Payload("0123456789"))
	hbh := []byte{0, 1, 4, 0, 0, 0, 0}                          // length 0 (8 bytes): PadN of 4
	dst := []byte{1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // length 1 (16 bytes)
	ah := append([]byte{4, 0, 0}, make([]byte, 20)...)          // payload length 4: (4+2)*4 = 24 bytes
	fragment := func(offset uint16, more bool) []byte {
		v := offset << 3
		if more {
			v |= 1
		}
		return []byte{0, byte(v >> 8), byte(v), 0, 0, 0, 7}
	}
	for _, tt := range []struct {
		name     string
		pkt      []byte
		decoded  bool
		fragment bool
	}{
		{"hop-by-hop", withIPv6Ext(base, layers.IPProtocolIPv6HopByHop, hbh), true, false},
		{"hop-by-hop and destination options", withIPv6Ext(withIPv6Ext(base, layers.IPProtocolIPv6Destination, dst), layers.IPProtocolIPv6HopByHop, hbh), true, false},
		{"authentication header", withIPv6Ext(base, layers.IPProtocolAH, ah), true, false},
		{"atomic fragment", withIPv6Ext(base, layers.IPProtocolIPv6Fragment, fragment(0, false)), true, false},
		{"first fragment", withIPv6Ext(base, layers.IPProtocolIPv6Fragment, fragment(0, true)), false, true},
		{"later fragment", withIPv6Ext(base, layers.IPProtocolIPv6Fragment, fragment(185, false)), false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder()
			var p flow.Packet
			// Ethernet padding after the packet must not become payload either.
			padded := append(append([]byte{}, tt.pkt...), 0, 0, 0, 0)
			got := d.Decode(layers.LinkTypeRaw, padded, 1, len(padded), &p)
			if got != tt.decoded {
				t.Fatalf("decoded %v, want %v (stats %+v)", got, tt.decoded, d.Stats())
			}
			if tt.fragment && d.Stats().Fragments != 1 {
				t.Errorf("stats %+v, want one fragment", d.Stats())
			}
			if got && (string(p.Payload) != "0123456789" || p.PayloadLen != 10 || p.Proto != flow.TCP || p.DstPort != 443) {
				t.Errorf("payload %q len %d proto %v port %d", p.Payload, p.PayloadLen, p.Proto, p.DstPort)
			}
		})
	}
}
