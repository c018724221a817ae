package classify

// Recognisers of authentication protocols: RADIUS and Kerberos.

// RADIUS (RFC 2865 §3, §5; accounting RFC 2866 §3; dynamic authorization
// RFC 5176 §2.3; Status-Server RFC 5997).

// RADIUS packet limits (RFC 2865 §3).
const (
	radiusHeader = 20
	radiusMax    = 4096
	maxRADIUSAVP = 128 // attributes walked at most
)

// radiusPacket checks a RADIUS packet at the start of b: its Length within
// the datagram (octets after it are padding, §3) and its attributes (type,
// length of at least 2) filling the packet exactly. It returns the code and
// identifier.
func radiusPacket(b []byte) (code, id byte, ok bool) {
	if len(b) < radiusHeader {
		return 0, 0, false
	}
	n := be16(b[2:])
	if n < radiusHeader || n > radiusMax || n > len(b) {
		return 0, 0, false
	}
	attrs := b[radiusHeader:n]
	for i := 0; len(attrs) > 0; i++ {
		if len(attrs) < 2 || i == maxRADIUSAVP {
			return 0, 0, false
		}
		l := int(attrs[1])
		if attrs[0] == 0 || l < 2 || l > len(attrs) {
			return 0, 0, false
		}
		attrs = attrs[l:]
	}
	return b[0], b[1], true
}

// radiusRequest and radiusReply report whether code is a request (Access-,
// Accounting-, Status-Server, Disconnect-, CoA-Request) or a reply to one.
func radiusRequest(code byte) bool {
	return code == 1 || code == 4 || code == 12 || code == 40 || code == 43
}

func radiusReply(code byte) bool {
	switch code {
	case 2, 3, 5, 11, 41, 42, 44, 45:
		return true
	}
	return false
}

// detectRADIUS recognises a RADIUS request with at least one attribute, and
// a reply carrying its identifier. Its attributes (User-Name,
// NAS-IP-Address, accounting data, …) cross in clear; the MD5 hiding of
// User-Password with the shared secret (§5.2) is not encryption of the flow.
func detectRADIUS(client, server []byte) (result, Class) {
	c, s := sideEmpty, sideEmpty
	qc, qid, qok := radiusPacket(client)
	if len(client) > 0 {
		c = sideNo
		if qok && radiusRequest(qc) {
			c = sideWeak
			if len(client) > radiusHeader {
				c = sideStrong
			}
		}
	}
	if len(server) > 0 {
		rc, rid, rok := radiusPacket(server)
		s = sideNo
		if rok && radiusReply(rc) && (!qok || rid == qid) {
			s = sideWeak
		}
	}
	return combine(c, s), ClassPlaintext
}

// Kerberos (RFC 4120 §5.4.1, §5.4.2, §5.9.1; over TCP §7.2.2).

// Kerberos application tags of the messages a KDC exchange opens with.
const (
	krbASReq  = 0x6a // [APPLICATION 10]
	krbASRep  = 0x6b
	krbTGSReq = 0x6c
	krbTGSRep = 0x6d
	krbError  = 0x7e // [APPLICATION 30]
)

// kerberosMessage checks a Kerberos message filling b: an application tag
// of AS-REQ, AS-REP, TGS-REQ, TGS-REP or KRB-ERROR around a SEQUENCE
// whose first fields are pvno [0]/[1] INTEGER 5 and msg-type [1]/[2]
// INTEGER equal to the application tag's number. request says which side
// is expected.
func kerberosMessage(b []byte, request bool) side {
	if len(b) == 0 {
		return sideEmpty
	}
	tag, body, rest, st := berNext(b)
	if st != berOK || len(rest) != 0 {
		return sideNo
	}
	switch {
	case request && (tag == krbASReq || tag == krbTGSReq):
	case !request && (tag == krbASRep || tag == krbTGSRep || tag == krbError):
	default:
		return sideNo
	}
	seq, _, s := ldapField(body, 0x30, false)
	if s != sideStrong {
		return sideNo
	}
	// KDC-REQ numbers pvno [1] and msg-type [2] (§5.4.1); KDC-REP and
	// KRB-ERROR number them [0] and [1] (§5.4.2, §5.9.1).
	first := byte(0xa0)
	if request {
		first = 0xa1
	}
	for i, want := range [2]int{5, int(tag & 0x1f)} {
		f, r, s := ldapField(seq, first+byte(i), false)
		if s != sideStrong {
			return sideNo
		}
		v, _, s := ldapInt(f, 0x02, false)
		if s != sideStrong || v != want {
			return sideNo
		}
		seq = r
	}
	return sideStrong
}

// detectKerberosDatagram recognises a KDC exchange over UDP. Names, realms
// and times cross in clear, but tickets, authenticators and session keys
// are encrypted with long-term keys: the flow is reported encrypted, with
// app_protocol kerberos.
func detectKerberosDatagram(client, server []byte) (result, Class) {
	return combine(kerberosMessage(client, true), kerberosMessage(server, false)), ClassEncrypted
}

// kerberosTCPSide is kerberosMessage behind the 4-byte length of RFC 4120
// §7.2.2, cut to what has arrived.
func kerberosTCPSide(b []byte, request bool) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 4 {
		return sidePrefix
	}
	n := be32(b)
	if n > radiusMax*16 || n < 16 {
		return sideNo
	}
	if len(b) > 4 && b[4] != krbASReq && b[4] != krbTGSReq && request {
		return sideNo
	}
	if len(b) > 5 && !berLengthIs(b[5:], int(n)-1) {
		return sideNo
	}
	if uint32(len(b)-4) < n {
		return sidePrefix
	}
	return kerberosMessage(b[4:4+n], request)
}

// detectKerberosStream recognises a KDC exchange over TCP.
func detectKerberosStream(client, server []byte) result {
	return combine(kerberosTCPSide(client, true), kerberosTCPSide(server, false))
}

// berLengthIs reports whether the BER length octets at the start of b
// (X.690 §8.1.3) and the content they announce take exactly total bytes,
// as far as b shows them.
func berLengthIs(b []byte, total int) bool {
	switch l := int(b[0]); {
	case l < 0x80:
		return 1+l == total
	case l == 0x81:
		return len(b) < 2 || 2+int(b[1]) == total
	case l == 0x82:
		return len(b) < 3 || 3+be16(b[1:]) == total
	}
	return false
}
