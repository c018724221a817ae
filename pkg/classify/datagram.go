package classify

import "encoding/binary"

// NextDatagram splits the first datagram off a UDP direction's bytes, where each
// datagram is kept behind its 2-byte big-endian length. ok is false at the end.
func NextDatagram(b []byte) (dgram, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// datagram classifies a UDP flow from the first datagrams of each direction.
func (c *Classifier) datagram(in *Input) (Verdict, bool) {
	cl, _, _ := NextDatagram(in.Client)
	sv, _, _ := NextDatagram(in.Server)
	if app := DetectDatagram(cl, sv, in.ClientPort, in.ServerPort); app != AppNone {
		return Verdict{Class: ClassPlaintext, App: app}, true
	}
	if quicInitial(cl) {
		// QUIC v1 and v2 carry their handshake in TLS 1.3 and nothing else (RFC 9001 §4,
		// RFC 9369 §3): a client Initial is positive evidence of TLS 1.3.
		return Verdict{Class: ClassTLS, Version: VersionTLS13, AppOther: "quic"}, true
	}
	if wireGuard(cl) || wireGuard(sv) {
		return Verdict{Class: ClassEncrypted, AppOther: "wireguard"}, true
	}
	if in.Final || (!in.ClientMore && !in.ServerMore) {
		if len(cl) == 0 && len(sv) == 0 {
			return Verdict{Reason: ReasonNoPayload}, true
		}
		return Verdict{Reason: ReasonDatagram}, true
	}
	return Verdict{}, false
}

// QUIC long-header fields (RFC 9000 §17.2).
const (
	quicLongHeader    = 0x80
	quicFixedBit      = 0x40
	quicVersion1      = 0x00000001
	quicVersion2      = 0x6b3343cf // RFC 9369 §3.1
	quicMaxCIDLen     = 20
	quicMinInitialLen = 1200 // a client Initial datagram is padded to at least this (RFC 9000 §14.1)
)

// quicInitial reports whether b is a client Initial packet of QUIC version 1 or 2.
func quicInitial(b []byte) bool {
	if len(b) < quicMinInitialLen || b[0]&(quicLongHeader|quicFixedBit) != quicLongHeader|quicFixedBit {
		return false
	}
	typ := (b[0] >> 4) & 0x03
	switch binary.BigEndian.Uint32(b[1:5]) {
	case quicVersion1:
		if typ != 0 {
			return false
		}
	case quicVersion2:
		if typ != 1 { // RFC 9369 §3.2: Initial is type 0b01 in v2
			return false
		}
	default:
		return false
	}
	dcid := int(b[5])
	if dcid > quicMaxCIDLen || len(b) < 7+dcid {
		return false
	}
	scid := int(b[6+dcid])
	return scid <= quicMaxCIDLen && len(b) >= 7+dcid+scid
}

// WireGuard message sizes (WireGuard whitepaper §5.4).
const (
	wgInitiation    = 1
	wgResponse      = 2
	wgInitiationLen = 148
	wgResponseLen   = 92
)

// wireGuard reports whether b is a WireGuard handshake initiation or response: a type
// byte, three reserved zero bytes, and the message's fixed length.
func wireGuard(b []byte) bool {
	if len(b) < 4 || b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return false
	}
	return (b[0] == wgInitiation && len(b) == wgInitiationLen) || (b[0] == wgResponse && len(b) == wgResponseLen)
}

// TLS record-layer limits used to recognise records joined midstream (RFC 8446 §5.1,
// RFC 5246 §6.2.3: ciphertext may exceed 2^14 by up to 2048 bytes).
const (
	recordHeaderLen    = 5
	maxCiphertextLen   = 1<<14 + 2048
	contentTypeCCS     = 20
	contentTypeAppData = 23
)

// midstreamTLS reports whether b, the first bytes seen of a direction joined after the
// connection's opening, is a chain of TLS records: at least two well-formed record
// headers back to back from the first byte, the last one possibly cut off. One header
// alone is not enough: five bytes are too easily matched by chance.
func midstreamTLS(b []byte) bool {
	n := 0
	for len(b) >= recordHeaderLen {
		typ, major, minor := b[0], b[1], b[2]
		l := int(binary.BigEndian.Uint16(b[3:5]))
		if typ < contentTypeCCS || typ > contentTypeAppData || major != 3 || minor < 1 || minor > 4 || l == 0 || l > maxCiphertextLen {
			return false
		}
		n++
		if len(b) < recordHeaderLen+l {
			break
		}
		b = b[recordHeaderLen+l:]
	}
	return n >= 2
}
