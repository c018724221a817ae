package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// decodeFast decodes the frames nearly every capture is made of without gopacket's
// layer machinery: Ethernet (with at most one 802.1Q tag), Linux cooked (SLL) or raw
// IP, then IPv4 without options or IPv6 without extension headers, then TCP or UDP on
// ports that lead to no tunnel. It does no more than read the fixed header fields, so
// it costs a fraction of the general path, which parses every TCP option.
//
// It reports false, having changed neither p nor the counters, for every frame of
// another shape and for every frame the general path would not turn into a packet
// (fragments, malformed headers, IPv4 total length 0, …): Decode then takes the
// general path, which counts why. On the frames it takes it gives exactly what the
// general path gives; FuzzDecodeFastMatchesGeneral holds it to that.
func (d *Decoder) decodeFast(lt layers.LinkType, frame []byte, ts int64, p *flow.Packet) bool {
	var ip []byte
	var v6 bool
	switch lt {
	case layers.LinkTypeEthernet:
		if len(frame) < 14 {
			return false
		}
		et, off := binary.BigEndian.Uint16(frame[12:14]), 14
		if et == uint16(layers.EthernetTypeDot1Q) {
			if len(frame) < 18 {
				return false
			}
			et, off = binary.BigEndian.Uint16(frame[16:18]), 18
		}
		switch layers.EthernetType(et) {
		case layers.EthernetTypeIPv4:
		case layers.EthernetTypeIPv6:
			v6 = true
		default:
			return false
		}
		ip = frame[off:]
	case layers.LinkTypeLinuxSLL:
		if len(frame) < 16 || binary.BigEndian.Uint16(frame[4:6]) > 8 {
			return false
		}
		switch layers.EthernetType(binary.BigEndian.Uint16(frame[14:16])) {
		case layers.EthernetTypeIPv4:
		case layers.EthernetTypeIPv6:
			v6 = true
		default:
			return false
		}
		ip = frame[16:]
	case layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		// Raw IP: firstLayer's choice, by link type or version nibble.
		first, ok := firstLayer(lt, frame)
		if !ok {
			return false
		}
		v6, ip = first == layers.LayerTypeIPv6, frame
	default:
		return false
	}

	var src, dst []byte
	var proto uint8
	var ipPayload []byte
	var ipPayloadWire, wire int
	if v6 {
		if len(ip) < 40 {
			return false
		}
		length := int(binary.BigEndian.Uint16(ip[4:6]))
		proto = ip[6]
		if length == 0 || (proto != flow.TCP && proto != flow.UDP) {
			return false // jumbogram or extension headers: the general path
		}
		src, dst = ip[8:24], ip[24:40]
		ipPayload = ip[40:]
		if len(ipPayload) > length {
			ipPayload = ipPayload[:length]
		}
		ipPayloadWire, wire = length, length+40
	} else {
		if len(ip) < 20 || ip[0]&0x0f != 5 {
			return false // short, or options the general path validates
		}
		length := int(binary.BigEndian.Uint16(ip[2:4]))
		frag := binary.BigEndian.Uint16(ip[6:8])
		proto = ip[9]
		if length < 20 || frag&0x3fff != 0 || (proto != flow.TCP && proto != flow.UDP) {
			return false // TSO's length 0, malformed, a fragment, or not TCP/UDP
		}
		if len(ip) > length {
			ip = ip[:length]
		}
		src, dst = ip[12:16], ip[16:20]
		ipPayload = ip[20:]
		ipPayloadWire, wire = length-20, length
	}

	t := ipPayload
	var payload []byte
	var sport, dport uint16
	var next gopacket.LayerType
	if proto == flow.TCP {
		if len(t) < 20 {
			return false
		}
		start := int(t[12]>>4) * 4
		if start < 20 || start > len(t) {
			return false
		}
		sport, dport = binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4])
		if next = layers.TCPPort(dport).LayerType(); next == gopacket.LayerTypePayload {
			next = layers.TCPPort(sport).LayerType()
		}
		payload = t[start:]
	} else {
		if len(t) < 8 {
			return false
		}
		sport, dport = binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4])
		switch ulen := int(binary.BigEndian.Uint16(t[4:6])); {
		case ulen >= 8:
			payload = t[8:min(ulen, len(t))]
		case ulen == 0:
			payload = t[8:]
		default:
			return false
		}
		if next = layers.UDPPort(dport).LayerType(); next == gopacket.LayerTypePayload {
			next = layers.UDPPort(sport).LayerType()
		}
	}
	if d.decodesFurther(next) {
		return false // a tunnel or another layer the general parser goes into
	}
	payloadLen, ok := wirePayload(ipPayload, ipPayloadWire, payload)
	if !ok {
		return false
	}

	*p = flow.Packet{Timestamp: ts, IPv6: v6, Proto: proto, SrcPort: sport, DstPort: dport, WireLen: wire}
	if v6 {
		copy(p.Src[:], src)
		copy(p.Dst[:], dst)
	} else {
		copy(p.Src[:], v4mapped)
		copy(p.Src[12:], src)
		copy(p.Dst[:], v4mapped)
		copy(p.Dst[12:], dst)
	}
	if proto == flow.TCP {
		p.Seq = binary.BigEndian.Uint32(t[4:8])
		p.Ack = binary.BigEndian.Uint32(t[8:12])
		p.Flags = t[13] & (flow.FlagFIN | flow.FlagSYN | flow.FlagRST | flow.FlagACK)
	}
	p.Payload, p.PayloadLen = payload[:min(len(payload), payloadLen)], payloadLen
	d.stats.Decoded++
	return true
}

// decodesFurther reports whether the general parser would decode a layer of type lt
// after TCP or UDP (a tunnel's), rather than stop or take the rest as payload.
func (d *Decoder) decodesFurther(lt gopacket.LayerType) bool {
	return lt != gopacket.LayerTypePayload && d.layerTypes[lt]
}

// wirePayload returns the transport payload's length on the wire, given what follows
// the IP header as captured (ipPayload), its length on the wire from the IP header
// (ipPayloadWire, -1 when the header does not say) and the captured payload. Headers
// between the IP header and the payload, as captured, are whole; only the payload's
// tail can be missing (snapped) or extra (Ethernet padding). It reports false when the
// IP header leaves no room for the headers that were read.
func wirePayload(ipPayload []byte, ipPayloadWire int, payload []byte) (int, bool) {
	if ipPayloadWire < 0 {
		return len(payload), true
	}
	n := ipPayloadWire - (len(ipPayload) - len(payload))
	return n, n >= 0
}
