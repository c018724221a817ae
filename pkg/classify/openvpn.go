package classify

import "encoding/binary"

// OpenVPN's control channel carries a TLS handshake inside its own reliable
// transport (openvpn src/openvpn/ssl_pkt.h, reliable.c; the openvpn-rfc draft,
// "Control channel"). Over UDP every datagram is one packet; over TCP every packet
// has a 2-byte big-endian length in front, the same framing NextDatagram reads.
//
// A control packet: one byte of opcode (high 5 bits) and key ID (low 3), the
// sender's 8-byte session ID, with --tls-auth an HMAC of 16 to 64 bytes and an
// 8-byte replay ID and time, the acknowledgement array (a count of up to 8, their
// 4-byte packet IDs, then the peer's session ID when the count is not 0), the
// packet's own 4-byte ID, and TLS bytes. The HMAC's length depends on the
// configured digest and is not written anywhere, so it is found by trying each
// length against the two opening resets: the server's must acknowledge packet 0
// and name the client's session ID.
//
// With --tls-crypt the whole control channel is encrypted and nothing here
// matches; such flows stay unknown.
const (
	ovpnOpHardResetClientV1 = 1
	ovpnOpHardResetServerV1 = 2
	ovpnOpControlV1         = 4
	ovpnOpAckV1             = 5
	ovpnOpHardResetClientV2 = 7
	ovpnOpHardResetServerV2 = 8
	ovpnSessionIDLen        = 8
	ovpnReplayLen           = 8 // packet ID and time, after the HMAC
	ovpnMaxAcks             = 8 // RELIABLE_ACK_SIZE
	ovpnMaxPackets          = 32
	ovpnMaxTLSBytes         = 64 << 10
)

// ovpnHMACLens are the HMAC lengths of --auth digests: none, MD5, SHA-1, SHA-256,
// SHA-384, SHA-512.
var ovpnHMACLens = [...]int{0, 16, 20, 32, 48, 64}

// ovpnPacket is one control-channel packet; its slices point into the flow's bytes.
type ovpnPacket struct {
	op, keyID uint8
	session   []byte
	acks      int
	firstAck  uint32
	peer      []byte // the acknowledged peer's session ID, when acks > 0
	id        uint32 // the packet's own ID (not in P_ACK_V1)
	payload   []byte
}

// parseOVPN reads a control packet with an HMAC of hmacLen bytes. ok is false when b
// is too short for the fields or the acknowledgement count is impossible.
func parseOVPN(b []byte, hmacLen int) (p ovpnPacket, ok bool) {
	off := 1 + ovpnSessionIDLen
	if hmacLen > 0 {
		off += hmacLen + ovpnReplayLen
	}
	if len(b) < off+1 {
		return p, false
	}
	p.op, p.keyID, p.session = b[0]>>3, b[0]&7, b[1:1+ovpnSessionIDLen]
	p.acks = int(b[off])
	off++
	if p.acks > ovpnMaxAcks {
		return p, false
	}
	if p.acks > 0 {
		if len(b) < off+4*p.acks+ovpnSessionIDLen {
			return p, false
		}
		p.firstAck = binary.BigEndian.Uint32(b[off:])
		off += 4 * p.acks
		p.peer = b[off : off+ovpnSessionIDLen]
		off += ovpnSessionIDLen
	}
	if p.op == ovpnOpAckV1 {
		return p, off == len(b)
	}
	if len(b) < off+4 {
		return p, false
	}
	p.id = binary.BigEndian.Uint32(b[off:])
	p.payload = b[off+4:]
	return p, true
}

// openVPNAuth recognises the opening of an OpenVPN session in the first packets of
// each direction (framed as NextDatagram reads them) and returns the HMAC length
// that makes both resets parse. The client's hard reset carries packet ID 0 and no
// acknowledgement; the server's acknowledges packet 0 and names the client's session
// ID, eight bytes that do not match by chance.
func openVPNAuth(client, server []byte) (hmacLen int, ok bool) {
	c, _, okc := NextDatagram(client)
	s, _, oks := NextDatagram(server)
	if !okc || !oks || len(c) == 0 || len(s) == 0 {
		return 0, false
	}
	switch {
	case c[0]>>3 == ovpnOpHardResetClientV2 && s[0]>>3 == ovpnOpHardResetServerV2:
	case c[0]>>3 == ovpnOpHardResetClientV1 && s[0]>>3 == ovpnOpHardResetServerV1:
	default:
		return 0, false
	}
	for _, h := range ovpnHMACLens {
		pc, okc := parseOVPN(c, h)
		ps, oks := parseOVPN(s, h)
		if okc && oks && pc.acks == 0 && pc.id == 0 && ps.acks >= 1 && ps.firstAck == 0 &&
			string(ps.peer) == string(pc.session) && ps.id == 0 {
			return h, true
		}
	}
	return 0, false
}

// openVPNTLS appends to dst the TLS bytes of one direction's control packets of the
// first key (key ID 0), in packet ID order from 1 (0 is the reset), and stops at the
// first missing packet: bytes after a gap cannot be placed.
func openVPNTLS(dst, dir []byte, hmacLen int) []byte {
	for next := uint32(1); next <= ovpnMaxPackets; next++ {
		found := false
		n := 0
		for d, rest, ok := NextDatagram(dir); ok && n < ovpnMaxPackets; d, rest, ok = NextDatagram(rest) {
			n++
			if len(d) == 0 || d[0]>>3 != ovpnOpControlV1 || d[0]&7 != 0 {
				continue
			}
			p, ok := parseOVPN(d, hmacLen)
			if !ok || p.id != next {
				continue
			}
			if len(dst)+len(p.payload) > ovpnMaxTLSBytes {
				return dst
			}
			dst = append(dst, p.payload...)
			found = true
			break
		}
		if !found {
			break
		}
	}
	return dst
}

// openVPN classifies an OpenVPN session by the TLS handshake of its control channel.
// ok is false when the flow does not open like OpenVPN.
func (c *Classifier) openVPN(in *Input, noMore bool) (v Verdict, done, ok bool) {
	h, ok := openVPNAuth(in.Client, in.Server)
	if !ok {
		return Verdict{}, false, false
	}
	c.ovpn[0] = openVPNTLS(c.ovpn[0][:0], in.Client, h)
	c.ovpn[1] = openVPNTLS(c.ovpn[1][:0], in.Server, h)
	cl, sv := c.ovpn[0], c.ovpn[1]
	switch {
	case LooksLikeTLS(cl) || LooksLikeTLS(sv):
		v, done = c.tls(in, cl, sv, noMore, AppNone)
	case len(cl) > 0 || len(sv) > 0:
		// Control bytes that are not TLS: key method 1, or something else.
		v, done = Verdict{Reason: ReasonBinary}, true
	case noMore:
		v, done = Verdict{Reason: ReasonStartTLSPending}, true
	}
	v.AppOther = "openvpn"
	return v, done, true
}
