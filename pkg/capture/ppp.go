package capture

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// PPP protocol numbers (RFC 1332, RFC 5072).
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

var errShortPPP = errors.New("ppp: short header")

// pppoe decodes a PPPoE session header (RFC 2516 §4) and the PPP protocol field after
// it, as a DecodingLayer: gopacket's own PPPoE and PPP layers allocate per packet and
// cannot sit in a DecodingLayerParser.
type pppoe struct {
	layers.BaseLayer
	next gopacket.LayerType
}

func (p *pppoe) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (p *pppoe) NextLayerType() gopacket.LayerType { return p.next }

func (p *pppoe) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	const hdr = 6 + 2 // PPPoE header, then the PPP protocol
	if len(data) < hdr {
		return errShortPPP
	}
	p.next = pppNext(binary.BigEndian.Uint16(data[6:8]))
	p.BaseLayer = layers.BaseLayer{Contents: data[:hdr], Payload: data[hdr:]}
	return nil
}

// ppp decodes a bare PPP frame (link types PPP and PPP_HDLC, and GTP-U payloads): an
// optional address/control pair 0xff 0x03 (RFC 1662), then the protocol, one or two
// bytes (RFC 1661 §2).
type ppp struct {
	layers.BaseLayer
	next gopacket.LayerType
}

func (p *ppp) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPP }
func (p *ppp) NextLayerType() gopacket.LayerType { return p.next }

func (p *ppp) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		off = 2
	}
	if len(data) < off+1 {
		return errShortPPP
	}
	var proto uint16
	if data[off]&1 == 1 { // compressed one-byte protocol field
		proto = uint16(data[off])
		off++
	} else {
		if len(data) < off+2 {
			return errShortPPP
		}
		proto = binary.BigEndian.Uint16(data[off:])
		off += 2
	}
	p.next = pppNext(proto)
	p.BaseLayer = layers.BaseLayer{Contents: data[:off], Payload: data[off:]}
	return nil
}

func pppNext(proto uint16) gopacket.LayerType {
	switch proto {
	case pppIPv4:
		return layers.LayerTypeIPv4
	case pppIPv6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}
