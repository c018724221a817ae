package capture

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// DecodeStats counts frames the decoder did not turn into flow packets, by why.
type DecodeStats struct {
	Frames      uint64 // frames offered
	Decoded     uint64 // TCP or UDP packets produced
	NotIP       uint64 // ARP, LLDP, … or an unsupported link type
	OtherProto  uint64 // IP, but neither TCP nor UDP (ICMP, ESP, …)
	Fragments   uint64 // IP fragments: not reassembled, so not classified
	Malformed   uint64 // headers that did not decode
	UnknownLink uint64 // frames of a link type this decoder does not know
}

// Decoder turns link-layer frames into flow.Packets with gopacket's DecodingLayerParser
// and preallocated layers, so decoding allocates nothing per frame. One Decoder per
// goroutine.
type Decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	loop   layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext layers.IPv6ExtensionSkipper
	frag6  ipv6Fragment
	ah     layers.IPSecAH
	tcp    layers.TCP
	udp    layers.UDP
	// Tunnels: the inner packet's layers overwrite the outer ones as they decode, so
	// the flow is the inner connection's.
	gre     layers.GRE
	vxlan   layers.VXLAN
	geneve  layers.Geneve
	gtp     layers.GTPv1U
	pppoe   pppoe
	ppp     ppp
	payload gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	// layerTypes are the layers the parsers decode, for decodeFast to know where
	// they would go on past TCP or UDP.
	layerTypes gopacket.LayerClassSlice
	stats      DecodeStats
}

// NewDecoder returns a decoder for every supported link type.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	d.parsers = make(map[gopacket.LayerType]*gopacket.DecodingLayerParser)
	// frag6 after ip6ext: it takes the Fragment header over from the skipper.
	decoders := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.ip6ext, &d.frag6, &d.ah, &d.tcp, &d.udp, &d.payload,
		&d.gre, &d.vxlan, &d.geneve, &d.gtp, &d.pppoe, &d.ppp}
	var types []gopacket.LayerType
	for _, dl := range decoders {
		types = append(types, dl.CanDecode().LayerTypes()...)
	}
	d.layerTypes = gopacket.NewLayerClassSlice(types)
	for _, first := range []gopacket.LayerType{
		layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
		layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypePPP,
	} {
		p := gopacket.NewDecodingLayerParser(first, decoders...)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return d
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() DecodeStats { return d.stats }

// firstLayer maps a pcap link type to the layer its frames start with; for raw IP the
// version nibble decides.
func firstLayer(lt layers.LinkType, frame []byte) (gopacket.LayerType, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return layers.LayerTypePPP, true
	case layers.LinkTypeRaw, 12, 14: // LINKTYPE_RAW, and the DLT_RAW values some systems write
		if len(frame) > 0 {
			switch frame[0] >> 4 {
			case 4:
				return layers.LayerTypeIPv4, true
			case 6:
				return layers.LayerTypeIPv6, true
			}
		}
	}
	return 0, false
}

// Decode fills p from frame, a frame of link type lt captured at ts (Unix ns) with
// wireLen bytes on the wire. It reports false when the frame carries no TCP or UDP
// packet worth tracking; the reason is counted. p.Payload aliases frame.
func (d *Decoder) Decode(lt layers.LinkType, frame []byte, ts int64, wireLen int, p *flow.Packet) bool {
	d.stats.Frames++
	if d.decodeFast(lt, frame, ts, p) {
		return true
	}
	return d.decodeGeneral(lt, frame, ts, wireLen, p)
}

// decodeGeneral is Decode through gopacket's layers: every link type, tunnel, IPv6
// extension header and corner case the capture may hold.
func (d *Decoder) decodeGeneral(lt layers.LinkType, frame []byte, ts int64, wireLen int, p *flow.Packet) bool {
	first, ok := firstLayer(lt, frame)
	if !ok {
		d.stats.UnknownLink++
		return false
	}
	parser := d.parsers[first]
	d.decoded = d.decoded[:0]
	if err := parser.DecodeLayers(frame, &d.decoded); err != nil {
		d.stats.Malformed++
		return false
	}
	var isIP, isTransport bool
	var ipPayload []byte // what follows the IP header in the capture
	ipPayloadWire := -1  // its length on the wire, from the IP header
	*p = flow.Packet{Timestamp: ts}
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			isIP = true
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				d.stats.Fragments++
				return false
			}
			copy(p.Src[:], v4mapped)
			copy(p.Src[12:], d.ip4.SrcIP.To4())
			copy(p.Dst[:], v4mapped)
			copy(p.Dst[12:], d.ip4.DstIP.To4())
			p.WireLen = int(d.ip4.Length)
			ipPayload = d.ip4.Payload
			if d.ip4.Length != 0 {
				ipPayloadWire = int(d.ip4.Length) - int(d.ip4.IHL)*4
			}
		case layers.LayerTypeIPv6:
			isIP = true
			p.IPv6 = true
			copy(p.Src[:], d.ip6.SrcIP.To16())
			copy(p.Dst[:], d.ip6.DstIP.To16())
			p.WireLen = int(d.ip6.Length) + 40
			ipPayload = d.ip6.Payload
			if d.ip6.Length != 0 {
				ipPayloadWire = int(d.ip6.Length)
				if d.ip6.HopByHop != nil {
					// The IPv6 layer keeps a Hop-by-Hop header as its own, out of
					// Payload; the payload length counts it.
					ipPayloadWire -= d.ip6.HopByHop.ActualLength
				}
			}
		case layers.LayerTypeIPv6Fragment:
			if d.frag6.fragmented {
				d.stats.Fragments++
				return false
			}
		case layers.LayerTypeTCP:
			isTransport = true
			p.Proto = flow.TCP
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.Seq = d.tcp.Seq
			p.Ack = d.tcp.Ack
			p.Flags = tcpFlags(&d.tcp)
			p.Payload = d.tcp.Payload
		case layers.LayerTypeUDP:
			isTransport = true
			p.Proto = flow.UDP
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.Payload = d.udp.Payload
		}
	}
	switch {
	case !isIP:
		d.stats.NotIP++
		return false
	case !isTransport:
		d.stats.OtherProto++
		return false
	}
	if p.WireLen == 0 { // IPv4 total length 0 (TSO) or a jumbogram: take the frame's word
		p.WireLen = wireLen
	}
	n, ok := wirePayload(ipPayload, ipPayloadWire, p.Payload)
	if !ok {
		d.stats.Malformed++
		return false
	}
	p.Payload, p.PayloadLen = p.Payload[:min(len(p.Payload), n)], n
	d.stats.Decoded++
	return true
}

var v4mapped = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= flow.FlagFIN
	}
	if t.SYN {
		f |= flow.FlagSYN
	}
	if t.RST {
		f |= flow.FlagRST
	}
	if t.ACK {
		f |= flow.FlagACK
	}
	return f
}

// ipv6Fragment decodes an IPv6 Fragment header (RFC 8200 §4.5) as a DecodingLayer, so
// that a fragment is counted as one, like an IPv4 fragment, instead of its first piece
// passing for a whole TCP or UDP packet. An atomic fragment (offset 0, no more
// fragments; RFC 6946) is a whole packet: decoding goes on to the next header.
type ipv6Fragment struct {
	layers.BaseLayer
	next       layers.IPProtocol
	fragmented bool
}

const ipv6FragmentLen = 8

var errShortIPv6Fragment = errors.New("ipv6 fragment header: short")

func (f *ipv6Fragment) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }

func (f *ipv6Fragment) NextLayerType() gopacket.LayerType {
	if f.fragmented {
		return gopacket.LayerTypeZero
	}
	return f.next.LayerType()
}

func (f *ipv6Fragment) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < ipv6FragmentLen {
		return errShortIPv6Fragment
	}
	f.next = layers.IPProtocol(data[0])
	offsetFlags := binary.BigEndian.Uint16(data[2:4])
	f.fragmented = offsetFlags&0xfff8 != 0 || offsetFlags&1 != 0 // offset, or M
	f.BaseLayer = layers.BaseLayer{Contents: data[:ipv6FragmentLen], Payload: data[ipv6FragmentLen:]}
	return nil
}
