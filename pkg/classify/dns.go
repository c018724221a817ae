package classify

// Recognisers of DNS messages, over TCP here and over UDP in DetectDatagram.

// DNS (RFC 1035 §4.1; over TCP §4.2.2 and RFC 7766).

// dnsMsg is what parseDNS learnt from a message.
type dnsMsg struct {
	id           uint16
	response     bool
	strictQuery  bool // a query whose every record parsed, with nothing left over
	answerParsed bool // a response whose every record parsed, with nothing left over
}

// parseDNS checks a DNS message header and its single question; ok is
// false for an invalid or cut-off message.
func parseDNS(b []byte) (m dnsMsg, ok bool) {
	m, st := parseDNSPrefix(b)
	return m, st == berOK
}

// parseDNSPrefix is parseDNS that tells a cut-off message (berShort) from
// an invalid one.
func parseDNSPrefix(b []byte) (m dnsMsg, st berStatus) {
	if len(b) < 4 {
		return m, berShort
	}
	m.id = uint16(be16(b))
	flags := be16(b[2:])
	m.response = flags&0x8000 != 0
	opcode := (flags >> 11) & 0xf
	rcode := flags & 0xf
	if flags&0x0040 != 0 { // Z
		return m, berBad
	}
	switch opcode {
	case 0, 4, 5: // QUERY, NOTIFY, UPDATE
	default:
		return m, berBad
	}
	if !m.response {
		if rcode != 0 || flags&0x0200 != 0 || flags&0x0080 != 0 { // RCODE, TC, RA
			return m, berBad
		}
		if opcode == 0 && flags&0x0400 != 0 { // AA
			return m, berBad
		}
	} else if rcode > 10 {
		return m, berBad
	}
	if len(b) < 12 {
		return m, berShort
	}
	qd, an, ns, ar := be16(b[4:]), be16(b[6:]), be16(b[8:]), be16(b[10:])
	if qd != 1 || an > 512 || ns > 512 || ar > 512 {
		return m, berBad
	}
	if !m.response && opcode == 0 && (an != 0 || ns != 0 || ar > 2) {
		return m, berBad
	}
	off, st := dnsName(b, 12, false)
	if st != berOK {
		return m, st
	}
	if off+4 > len(b) {
		return m, berShort
	}
	qtype, qclass := be16(b[off:]), be16(b[off+2:])&0x7fff // mDNS unicast bit
	if qtype == 0 {
		return m, berBad
	}
	switch qclass {
	case 1, 3, 4, 254, 255: // IN, CH, HS, NONE, ANY
	default:
		return m, berBad
	}
	off += 4
	all := true
	for i := 0; i < an+ns+ar && all; i++ {
		off, all = dnsRR(b, off)
	}
	all = all && off == len(b)
	m.strictQuery = !m.response && all
	m.answerParsed = m.response && all
	return m, berOK
}

// dnsName checks the domain name at b[off:] and returns the offset after
// it. Labels are 1-63 printable characters and the name at most 255 bytes;
// a compression pointer (RFC 1035 §4.1.4) must point backwards and is only
// allowed when ptrOK.
func dnsName(b []byte, off int, ptrOK bool) (int, berStatus) {
	total := 0
	for {
		if off >= len(b) {
			return off, berShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, berOK
		case l&0xc0 == 0xc0:
			if !ptrOK {
				return off, berBad
			}
			if off+2 > len(b) {
				return off, berShort
			}
			if ((l&0x3f)<<8 | int(b[off+1])) >= off {
				return off, berBad
			}
			return off + 2, berOK
		case l > 63:
			return off, berBad
		}
		total += l + 1
		if total > 255 {
			return off, berBad
		}
		for i := off + 1; i <= off+l; i++ {
			if i >= len(b) {
				return off, berShort
			}
			if b[i] <= 0x20 || b[i] >= 0x7f {
				return off, berBad
			}
		}
		off += l + 1
	}
}

// dnsRR checks one resource record at b[off:] and returns the offset after
// it.
func dnsRR(b []byte, off int) (int, bool) {
	off, st := dnsName(b, off, true)
	if st != berOK || off+10 > len(b) {
		return off, false
	}
	rdlen := be16(b[off+8:])
	off += 10 + rdlen
	return off, off <= len(b)
}

// maxDNSQuery is the longest DNS query accepted over TCP: a name of 255
// bytes with EDNS options, even padded (RFC 8467), stays far below it.
const maxDNSQuery = 4096

// dnsTCPSide accepts a length-prefixed DNS message whose header and
// question parse: a query from the client, a response from the server.
func dnsTCPSide(b []byte, response bool) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 2 {
		return sidePrefix
	}
	n := be16(b)
	if n < 12+5 || (!response && n > maxDNSQuery) {
		return sideNo
	}
	msg := b[2:]
	if len(msg) > n {
		msg = msg[:n]
	}
	if len(msg) >= 3 && (msg[2]&0x80 != 0) != response {
		return sideNo
	}
	m, st := parseDNSPrefix(msg)
	switch {
	case st == berBad:
		return sideNo
	case st == berShort && len(msg) < n:
		return sidePrefix
	case st == berShort:
		return sideNo
	case m.response != response:
		return sideNo
	}
	return sideStrong
}

func detectDNSStream(client, server []byte) result {
	return combine(dnsTCPSide(client, false), dnsTCPSide(server, true))
}

// detectDNSDatagram recognises DNS over UDP without the ports' help (the
// classifier tries DetectDatagram, with them, first).
func detectDNSDatagram(client, server []byte) (result, Class) {
	if DetectDatagram(client, server, 0, 0) == AppDNS {
		return resYes, ClassPlaintext
	}
	return resNo, ClassUnknown
}

// NetBIOS name service (RFC 1002 §4.2), DNS-format messages about NetBIOS
// names.

// Question types of the NetBIOS name service (RFC 1002 §4.2.1.3).
const (
	nbnsTypeNB     = 0x0020
	nbnsTypeNBSTAT = 0x0021
	nbnsNameLen    = 32 // a 16-byte NetBIOS name in first-level encoding (RFC 1001 §14.1)
)

// netbiosQuestion reports whether the DNS-format message b asks about a
// NetBIOS name: a first label of 32 letters A-P (each half-byte of the name
// plus 'A') and a question of type NB or NBSTAT.
func netbiosQuestion(b []byte) bool {
	if len(b) < 12+1+nbnsNameLen || b[12] != nbnsNameLen {
		return false
	}
	for _, c := range b[13 : 13+nbnsNameLen] {
		if c < 'A' || c > 'P' {
			return false
		}
	}
	off, st := dnsName(b, 12, false)
	if st != berOK || off+4 > len(b) {
		return false
	}
	t := be16(b[off:])
	return t == nbnsTypeNB || t == nbnsTypeNBSTAT
}

// dnsFlavour names a DNS-format exchange: NetBIOS name service when its
// question is about a NetBIOS name, else DNS (mDNS and LLMNR included).
func dnsFlavour(client, server []byte) App {
	if netbiosQuestion(client) || (len(client) == 0 && netbiosQuestion(server)) {
		return AppNetBIOSNS
	}
	return AppDNS
}

// detectNetBIOSNS recognises a NetBIOS name-service exchange that DNS's
// checks accept.
func detectNetBIOSNS(client, server []byte) (result, Class) {
	if r, c := detectDNSDatagram(client, server); r == resYes && dnsFlavour(client, server) == AppNetBIOSNS {
		return r, c
	}
	return resNo, ClassUnknown
}
