package classify

// Recognisers of network-management protocols carried in UDP datagrams:
// SNMP, NTP and NetFlow/IPFIX export.

// SNMP (RFC 1157 §4, RFC 3416 §3, RFC 3412 §6).

// SNMP message versions (RFC 3584 §2.1: 0 is SNMPv1, 1 is SNMPv2c, 3 is SNMPv3).
const (
	snmpV1  = 0
	snmpV2c = 1
	snmpV3  = 3
)

// snmpV3Priv is the privFlag of msgFlags (RFC 3412 §6.4): the scopedPDU is
// encrypted.
const snmpV3Priv = 0x02

// snmpSide judges one SNMP message filling the datagram b: a SEQUENCE of
// version, then for v1/v2c a community string and a PDU (tags 0xa0-0xa8,
// starting with its INTEGER request-id), for v3 msgGlobalData and
// msgSecurityParameters. cls is ClassEncrypted for a v3 message with the
// privFlag set (its scopedPDU is ciphertext), else ClassPlaintext: the
// community string and every varbind cross in clear. The community is read,
// never kept.
func snmpSide(b []byte) (s side, cls Class) {
	if len(b) == 0 {
		return sideEmpty, ClassUnknown
	}
	tag, body, rest, st := berNext(b)
	if st != berOK || tag != 0x30 || len(rest) != 0 {
		return sideNo, ClassUnknown
	}
	v, r, s := ldapInt(body, 0x02, false)
	if s != sideStrong {
		return sideNo, ClassUnknown
	}
	switch v {
	case snmpV1, snmpV2c:
		community, r, s := ldapField(r, 0x04, false)
		if s != sideStrong || !isTextLine(community) {
			return sideNo, ClassUnknown
		}
		tag, pdu, after, st := berNext(r)
		if st != berOK || len(after) != 0 || tag < 0xa0 || tag > 0xa8 {
			return sideNo, ClassUnknown
		}
		if tag == 0xa4 { // SNMPv1 Trap-PDU starts with the enterprise OID
			if len(pdu) == 0 || pdu[0] != 0x06 {
				return sideNo, ClassUnknown
			}
			return sideStrong, ClassPlaintext
		}
		if _, _, s := ldapField(pdu, 0x02, false); s != sideStrong { // request-id
			return sideNo, ClassUnknown
		}
		return sideStrong, ClassPlaintext
	case snmpV3:
		global, r, s := ldapField(r, 0x30, false)
		if s != sideStrong {
			return sideNo, ClassUnknown
		}
		g := global
		for i := 0; i < 2; i++ { // msgID, msgMaxSize
			if _, g, s = ldapInt(g, 0x02, false); s != sideStrong {
				return sideNo, ClassUnknown
			}
		}
		flags, g, s := ldapField(g, 0x04, false)
		if s != sideStrong || len(flags) != 1 || flags[0]&^0x07 != 0 || flags[0]&0x03 == snmpV3Priv {
			return sideNo, ClassUnknown // privacy without authentication is invalid (§6.4)
		}
		model, g, s := ldapInt(g, 0x02, false)
		if s != sideStrong || len(g) != 0 || model < 1 {
			return sideNo, ClassUnknown
		}
		secParams, r, s := ldapField(r, 0x04, false)
		if s != sideStrong {
			return sideNo, ClassUnknown
		}
		want := byte(0x30) // a clear scopedPDU
		cls = ClassPlaintext
		if flags[0]&0x03 == 0 && model == snmpUSM && usmUserName(secParams) == 0 {
			// Engine discovery (RFC 3414 §4): no user, nothing but an empty
			// request and a Report; the messages after it decide.
			cls = ClassUnknown
		}
		if flags[0]&snmpV3Priv != 0 {
			want, cls = 0x04, ClassEncrypted // encryptedPDU OCTET STRING
		}
		if _, after, s := ldapField(r, want, false); s != sideStrong || len(after) != 0 {
			return sideNo, ClassUnknown
		}
		return sideStrong, cls
	}
	return sideNo, ClassUnknown
}

// snmpUSM is the User-based Security Model (RFC 3414).
const snmpUSM = 3

// usmUserName returns the length of msgUserName in USM security parameters
// (RFC 3414 §2.4: engine ID, boots, time, user name, …), or -1 when they
// do not parse.
func usmUserName(p []byte) int {
	seq, _, s := ldapField(p, 0x30, false)
	if s != sideStrong {
		return -1
	}
	if _, seq, s = ldapField(seq, 0x04, false); s != sideStrong { // msgAuthoritativeEngineID
		return -1
	}
	for i := 0; i < 2; i++ { // msgAuthoritativeEngineBoots, msgAuthoritativeEngineTime
		if _, seq, s = ldapInt(seq, 0x02, false); s != sideStrong {
			return -1
		}
	}
	user, _, s := ldapField(seq, 0x04, false)
	if s != sideStrong {
		return -1
	}
	return len(user)
}

// snmpLaterClass is the class of an SNMPv3 exchange that opened with engine
// discovery: that of the first client message after it that is not
// discovery, ClassUnknown while there is none. client holds the client's
// datagrams, each behind its length (see NextDatagram).
func snmpLaterClass(client []byte) Class {
	for d, rest, ok := NextDatagram(client); ok; d, rest, ok = NextDatagram(rest) {
		if s, cls := snmpSide(d); s == sideStrong && cls != ClassUnknown {
			return cls
		}
	}
	return ClassUnknown
}

// detectSNMP recognises an SNMP request, response or notification. When the
// two directions disagree on protection, the stronger protection is not
// claimed: the flow is plaintext if either direction is clear. An SNMPv3
// engine discovery from the client gives ClassUnknown: the class then comes
// from the messages after it (snmpLaterClass).
func detectSNMP(client, server []byte) (result, Class) {
	c, cc := snmpSide(client)
	s, sc := snmpSide(server)
	r := combine(c, s)
	switch {
	case cc == ClassUnknown && c == sideStrong:
		return r, ClassUnknown // discovery: see snmpLaterClass
	case cc == ClassPlaintext || sc == ClassPlaintext:
		return r, ClassPlaintext
	case cc == ClassEncrypted || sc == ClassEncrypted:
		return r, ClassEncrypted
	}
	return r, ClassUnknown
}

// NTP (RFC 5905 §7.3; extension fields RFC 7822; NTS RFC 8915 §5).

// NTP header layout and limits.
const (
	ntpHeaderLen     = 48
	ntpMaxStratum    = 16
	ntpModeSymActive = 1
	ntpModeClient    = 3
	ntpModeServer    = 4
	ntpModeBroadcast = 5
	// ntsAuthenticator is the NTS Authenticator and Encrypted Extension
	// Fields extension field (RFC 8915 §5.6).
	ntsAuthenticator = 0x0404
	ntpMinExtension  = 16 // RFC 7822 §3
	ntpMaxExtensions = 16 // extension fields walked at most
)

// ntpPacket is what ntpHeader learnt from a packet.
type ntpPacket struct {
	mode    byte
	version byte
	nts     bool // carries an NTS authenticator: its extension fields are encrypted
}

// ntpHeader checks an NTP packet of version 3 or 4 and mode 1-5: the
// stratum and poll in range, then nothing, a legacy MAC (key ID and an MD5
// or SHA-1 digest) or well-formed extension fields up to the end.
func ntpHeader(b []byte) (p ntpPacket, ok bool) {
	if len(b) < ntpHeaderLen {
		return p, false
	}
	p.version, p.mode = (b[0]>>3)&0x7, b[0]&0x7
	stratum, poll := b[1], int8(b[2])
	if p.version < 3 || p.version > 4 || p.mode < ntpModeSymActive || p.mode > ntpModeBroadcast ||
		stratum > ntpMaxStratum || poll < 0 || poll > 17 {
		return p, false
	}
	ext := b[ntpHeaderLen:]
	for n := 0; len(ext) > 0; n++ {
		if len(ext) == 20 || len(ext) == 24 { // MAC: key ID and an MD5 or SHA-1 digest
			return p, true
		}
		if len(ext) < 4 || n == ntpMaxExtensions {
			return p, false
		}
		typ, l := be16(ext), be16(ext[2:])
		if l < ntpMinExtension || l%4 != 0 || l > len(ext) {
			return p, false
		}
		if typ == ntsAuthenticator {
			p.nts = true
		}
		ext = ext[l:]
	}
	return p, true
}

// detectNTP recognises an NTP exchange: a client request answered by a
// server response whose origin timestamp is the request's transmit
// timestamp (RFC 5905 §8) is conclusive; a lone packet that parses is only
// consistent. NTS-protected packets are encrypted, not clear.
func detectNTP(client, server []byte) (result, Class) {
	q, qok := ntpHeader(client)
	r, rok := ntpHeader(server)
	switch {
	case len(client) > 0 && !qok, len(server) > 0 && !rok:
		return resNo, ClassUnknown
	}
	cls := ClassPlaintext
	if q.nts || r.nts {
		cls = ClassEncrypted
	}
	c, s := sideEmpty, sideEmpty
	if qok {
		c = sideWeak
	}
	if rok {
		s = sideWeak
		if qok {
			// The server answers a client, a symmetric peer a peer.
			if q.mode == ntpModeClient && r.mode != ntpModeServer || q.version != r.version {
				return resNo, ClassUnknown
			}
			if string(server[24:32]) == string(client[40:48]) {
				s = sideStrong
			}
		}
	}
	return combine(c, s), cls
}

// NetFlow v5 (Cisco "NetFlow Export Datagram Format"), v9 (RFC 3954 §5)
// and IPFIX (RFC 7011 §3).

// NetFlow/IPFIX header sizes and limits.
const (
	netflow5Header = 24
	netflow5Record = 48
	netflow5Max    = 30 // records per v5 datagram
	netflow9Header = 20
	ipfixHeader    = 16
	maxFlowSets    = 64 // sets walked at most
)

// flowSets walks the FlowSets (v9) or Sets (IPFIX) of b: an ID (0, 1 or
// 2, 3 for templates and options, 256 and up for data) and a length of at
// least 4 covering its header, up to the end of b exactly. minTemplate is
// 0 for v9 and 2 for IPFIX.
func flowSets(b []byte, minTemplate int) bool {
	if len(b) == 0 {
		return false
	}
	for n := 0; len(b) > 0; n++ {
		if len(b) < 4 || n == maxFlowSets {
			return false
		}
		id, l := be16(b), be16(b[2:])
		if (id < minTemplate || id > minTemplate+1) && id < 256 || l < 4 || l > len(b) {
			return false
		}
		b = b[l:]
	}
	return true
}

// netflowSide accepts one export datagram of NetFlow v5, v9 or IPFIX whose
// header and records or sets account for every byte.
func netflowSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 4 {
		return sideNo
	}
	switch be16(b) {
	case 5:
		n := be16(b[2:])
		if n >= 1 && n <= netflow5Max && len(b) == netflow5Header+n*netflow5Record {
			return sideStrong
		}
	case 9:
		if len(b) > netflow9Header && be16(b[2:]) > 0 && flowSets(b[netflow9Header:], 0) {
			return sideStrong
		}
	case 10:
		if len(b) > ipfixHeader && be16(b[2:]) == len(b) && flowSets(b[ipfixHeader:], 2) {
			return sideStrong
		}
	}
	return sideNo
}

// detectNetFlow recognises flow export: datagrams from the exporter, none
// back from the collector.
func detectNetFlow(client, server []byte) (result, Class) {
	return oneWay(netflowSide(client), server)
}
