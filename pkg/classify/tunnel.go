package classify

// RDP's connection sequence and SOCKS proxies put a short clear-text exchange in
// front of what is often TLS. Both are recognised here and followed by FindStartTLS,
// like STARTTLS.

// RDP negotiation (MS-RDPBCGR §2.2.1.1, §2.2.1.2) inside X.224 (ITU-T X.224 §13.3,
// §13.4) inside TPKT (RFC 1006 §6).
const (
	tpktVersion     = 3
	tpktHeaderLen   = 4
	x224CR          = 0xe0 // Connection Request, credit 0
	x224CC          = 0xd0 // Connection Confirm
	rdpNegReq       = 0x01
	rdpNegRsp       = 0x02
	rdpNegFailure   = 0x03
	rdpNegLen       = 8
	rdpProtoRDP     = 0 // standard RDP security: RC4 of its own, not TLS
	maxTPKTOpenings = 1024
)

// tpkt returns the TPKT packet at the start of b and its length, ok false when b does
// not start with one, short true when b holds only part of it.
func tpkt(b []byte) (pkt []byte, short, ok bool) {
	if len(b) < tpktHeaderLen {
		if len(b) > 0 && b[0] != tpktVersion || len(b) > 1 && b[1] != 0 {
			return nil, false, false
		}
		return nil, true, true
	}
	n := be16(b[2:])
	if b[0] != tpktVersion || b[1] != 0 || n < tpktHeaderLen+3 || n > maxTPKTOpenings {
		return nil, false, false
	}
	if len(b) < n {
		return nil, true, true
	}
	return b[:n], false, true
}

// x224 checks a TPKT packet's X.224 header of the given code: a length indicator
// covering the fixed part, then the code. It returns the variable part after the
// 7-byte fixed header (the RDP cookie and negotiation structure).
func x224(pkt []byte, code byte) ([]byte, bool) {
	body := pkt[tpktHeaderLen:]
	if len(body) < 7 || int(body[0]) != len(body)-1 || body[1] != code {
		return nil, false
	}
	return body[7:], true
}

// rdpNeg finds the RDP negotiation structure of a given type at the end of an X.224
// variable part and returns its protocol field.
func rdpNeg(v []byte, typ byte) (proto uint32, ok bool) {
	if len(v) < rdpNegLen {
		return 0, false
	}
	n := v[len(v)-rdpNegLen:]
	if n[0] != typ || le16(n[2:]) != rdpNegLen {
		return 0, false
	}
	return uint32(n[4]) | uint32(n[5])<<8 | uint32(n[6])<<16 | uint32(n[7])<<24, true
}

// rdpSide recognises one direction's first X.224 packet: a Connection Request from
// the client, a Connection Confirm from the server.
func rdpSide(b []byte, code byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	pkt, short, ok := tpkt(b)
	switch {
	case !ok:
		return sideNo
	case short:
		return sidePrefix
	}
	if _, ok := x224(pkt, code); !ok {
		return sideNo
	}
	return sideStrong
}

func detectRDP(client, server []byte) result {
	return combine(rdpSide(client, x224CR), rdpSide(server, x224CC))
}

// rdpStartTLS follows RDP's security negotiation: when the server's Connection Confirm
// selects any protocol but standard RDP security (TLS, CredSSP, RDSTLS all start with
// a TLS handshake), TLS starts right after the two X.224 packets. Standard RDP
// security, or a negotiation failure, is UpgradeRefused: the session is not in TLS
// (see Verdict handling of AppRDP: it is not called plaintext either).
func rdpStartTLS(client, server []byte) (int, int, UpgradeState) {
	cpkt, short, ok := tpkt(client)
	if !ok {
		return -1, -1, UpgradeNone
	}
	if short {
		return -1, -1, UpgradePending
	}
	if _, ok := x224(cpkt, x224CR); !ok {
		return -1, -1, UpgradeNone
	}
	spkt, short, ok := tpkt(server)
	switch {
	case !ok:
		return -1, -1, UpgradeNone
	case short:
		return len(cpkt), -1, UpgradePending
	}
	v, ok := x224(spkt, x224CC)
	if !ok {
		return -1, -1, UpgradeNone
	}
	if _, failed := rdpNeg(v, rdpNegFailure); failed {
		return -1, -1, UpgradeRefused
	}
	proto, ok := rdpNeg(v, rdpNegRsp)
	if !ok || proto == rdpProtoRDP {
		return -1, -1, UpgradeRefused
	}
	return len(cpkt), len(spkt), UpgradeDone
}

// SOCKS (RFC 1928 version 5, with RFC 1929 username/password; version 4 and 4a).
const (
	socks4             = 4
	socks5             = 5
	socksConnect       = 1
	socks4Granted      = 0x5a
	socks4ReplyLen     = 8
	socks5Succeeded    = 0
	socks5UserPass     = 2
	socks5NoAcceptable = 0xff
	socksAtypIPv4      = 1
	socksAtypDomain    = 3
	socksAtypIPv6      = 4
	socksMaxField      = 255
)

// socks4Request returns the length of a SOCKS4/4a CONNECT request at the start of b.
func socks4Request(b []byte) (n int, short, ok bool) {
	if len(b) < 8 {
		if len(b) > 0 && b[0] != socks4 || len(b) > 1 && b[1] != socksConnect {
			return 0, false, false
		}
		return 0, true, true
	}
	if b[0] != socks4 || b[1] != socksConnect {
		return 0, false, false
	}
	end := 8
	nuls := 1
	// SOCKS4a: address 0.0.0.x (x != 0) means a host name follows the user id.
	if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 {
		nuls = 2
	}
	for ; nuls > 0; nuls-- {
		i := end
		for i < len(b) && b[i] != 0 && i-end < socksMaxField {
			if b[i] < 0x20 || b[i] > 0x7e {
				return 0, false, false
			}
			i++
		}
		if i == len(b) {
			return 0, true, true
		}
		if b[i] != 0 {
			return 0, false, false
		}
		end = i + 1
	}
	return end, false, true
}

// socks5Address returns the length of an ATYP-prefixed address and port.
func socks5Address(b []byte) (n int, short, ok bool) {
	if len(b) < 1 {
		return 0, true, true
	}
	switch b[0] {
	case socksAtypIPv4:
		n = 1 + 4 + 2
	case socksAtypIPv6:
		n = 1 + 16 + 2
	case socksAtypDomain:
		if len(b) < 2 {
			return 0, true, true
		}
		n = 2 + int(b[1]) + 2
	default:
		return 0, false, false
	}
	if len(b) < n {
		return 0, true, true
	}
	return n, false, true
}

// socksTunnel walks a SOCKS handshake in both directions and returns where the
// tunnelled bytes start on each side.
func socksTunnel(client, server []byte) (c, s int, st UpgradeState) {
	if len(client) == 0 {
		return -1, -1, UpgradeNone
	}
	switch client[0] {
	case socks4:
		n, short, ok := socks4Request(client)
		switch {
		case !ok:
			return -1, -1, UpgradeNone
		case short:
			return -1, -1, UpgradePending
		case len(server) < socks4ReplyLen:
			if len(server) > 0 && server[0] != 0 {
				return -1, -1, UpgradeNone
			}
			return n, -1, UpgradePending
		case server[0] != 0:
			return -1, -1, UpgradeNone
		case server[1] != socks4Granted:
			return -1, -1, UpgradeRefused
		}
		return n, socks4ReplyLen, UpgradeDone
	case socks5:
		return socks5Tunnel(client, server)
	}
	return -1, -1, UpgradeNone
}

func socks5Tunnel(client, server []byte) (int, int, UpgradeState) {
	// Greeting: VER NMETHODS METHODS; choice: VER METHOD.
	if len(client) < 2 || len(client) < 2+int(client[1]) {
		return -1, -1, UpgradePending
	}
	if client[1] == 0 {
		return -1, -1, UpgradeNone
	}
	c := 2 + int(client[1])
	if len(server) < 2 {
		return -1, -1, UpgradePending
	}
	if server[0] != socks5 {
		return -1, -1, UpgradeNone
	}
	if server[1] == socks5NoAcceptable {
		return -1, -1, UpgradeRefused
	}
	s := 2
	if server[1] == socks5UserPass {
		// RFC 1929: VER(1) ULEN UNAME PLEN PASSWD, answered VER(1) STATUS.
		r := client[c:]
		if len(r) < 2 || len(r) < 2+int(r[1])+1 || len(r) < 3+int(r[1])+int(r[2+int(r[1])]) {
			return -1, -1, UpgradePending
		}
		if r[0] != 1 {
			return -1, -1, UpgradeNone
		}
		c += 3 + int(r[1]) + int(r[2+int(r[1])])
		if len(server) < s+2 {
			return -1, -1, UpgradePending
		}
		if server[s+1] != 0 {
			return -1, -1, UpgradeRefused
		}
		s += 2
	}
	// Request: VER CMD RSV ADDR; reply: VER REP RSV ADDR.
	r := client[c:]
	if len(r) < 3 {
		return -1, -1, UpgradePending
	}
	if r[0] != socks5 || r[1] != socksConnect || r[2] != 0 {
		return -1, -1, UpgradeNone
	}
	n, short, ok := socks5Address(r[3:])
	switch {
	case !ok:
		return -1, -1, UpgradeNone
	case short:
		return -1, -1, UpgradePending
	}
	c += 3 + n
	rep := server[s:]
	if len(rep) < 3 {
		return c, -1, UpgradePending
	}
	if rep[0] != socks5 || rep[2] != 0 {
		return -1, -1, UpgradeNone
	}
	if rep[1] != socks5Succeeded {
		return -1, -1, UpgradeRefused
	}
	n, short, ok = socks5Address(rep[3:])
	switch {
	case !ok:
		return -1, -1, UpgradeNone
	case short:
		return c, -1, UpgradePending
	}
	return c, s + 3 + n, UpgradeDone
}

// socksClientSide recognises the first SOCKS message from the client.
func socksClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch b[0] {
	case socks4:
		_, short, ok := socks4Request(b)
		switch {
		case !ok:
			return sideNo
		case short:
			return sidePrefix
		}
		return sideWeak
	case socks5:
		if len(b) < 2 {
			return sidePrefix
		}
		n := int(b[1])
		if n == 0 || n > 16 {
			return sideNo
		}
		if len(b) < 2+n {
			return sidePrefix
		}
		for _, m := range b[2 : 2+n] {
			if m > 3 && m < 0x80 { // assigned methods 0-3, private 0x80-0xfe
				return sideNo
			}
		}
		return sideWeak
	}
	return sideNo
}

// socksServerSide recognises the server's first SOCKS reply.
func socksServerSide(b []byte) side {
	switch {
	case len(b) == 0:
		return sideEmpty
	case b[0] == 0: // SOCKS4 reply
		if len(b) < 2 {
			return sidePrefix
		}
		if b[1] < 0x5a || b[1] > 0x5d {
			return sideNo
		}
		return sideWeak
	case b[0] == socks5:
		if len(b) < 2 {
			return sidePrefix
		}
		if b[1] > 3 && b[1] < 0x80 && b[1] != socks5NoAcceptable {
			return sideNo
		}
		return sideWeak
	}
	return sideNo
}

// detectSOCKS needs both sides: a few bytes from one side alone are too weak.
func detectSOCKS(client, server []byte) result {
	return combine(socksClientSide(client), socksServerSide(server))
}
