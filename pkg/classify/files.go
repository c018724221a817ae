package classify

// Recognisers of file-transfer protocols.

// FTP (RFC 959, RFC 2228, RFC 2389, RFC 4217).

var ftpCommands = [...]command{
	{"AUTH TLS", argAny, sideStrong},
	{"AUTH SSL", argNo, sideStrong},
	{"FEAT", argNo, sideStrong},
	{"SYST", argNo, sideStrong},
	{"OPTS", argYes, sideStrong},
	{"HOST", argYes, sideStrong},
	{"USER", argYes, sideWeak},
}

func detectFTP(client, server []byte) result {
	s := sideEmpty
	if len(server) > 0 {
		r := replySide(server, "220")
		s = r.st
		switch {
		case r.st == sideNo:
		case (r.hasSMTP || r.hasLMTP) && !r.hasFTP:
			s = sideNo
		case r.hasFTP && !r.hasSMTP:
			s = sideStrong
		}
	}
	return combine(commandSide(client, ftpCommands[:]), s)
}

// TFTP (RFC 1350 §5; options RFC 2347 §2).

// TFTP opcodes (RFC 1350 §5, RFC 2347 §2).
const (
	tftpRRQ   = 1
	tftpWRQ   = 2
	tftpDATA  = 3
	tftpACK   = 4
	tftpERROR = 5
	tftpOACK  = 6
	// tftpMaxBlock is the largest DATA payload (RFC 2348 allows up to
	// 65464 bytes with the blksize option).
	tftpMaxBlock  = 65464
	maxTFTPFields = 32 // NUL-terminated strings read at most
)

// tftpStrings checks that b is a sequence of n or more NUL-terminated
// strings of printable characters and nothing else, and returns the first
// two.
func tftpStrings(b []byte, n int) (first, second []byte, ok bool) {
	count := 0
	for len(b) > 0 {
		if count == maxTFTPFields {
			return nil, nil, false
		}
		end := -1
		for i, c := range b {
			if c == 0 {
				end = i
				break
			}
			if !isPrintable(c) {
				return nil, nil, false
			}
		}
		if end < 0 {
			return nil, nil, false
		}
		switch count {
		case 0:
			first = b[:end]
		case 1:
			second = b[:end]
		}
		count++
		b = b[end+1:]
	}
	return first, second, count >= n
}

// tftpRequest accepts a read or write request: filename NUL mode NUL, the
// mode netascii, octet or mail in any case, then option pairs.
func tftpRequest(b []byte) side {
	if len(b) < 4 || b[0] != 0 || (b[1] != tftpRRQ && b[1] != tftpWRQ) {
		return sideNo
	}
	name, mode, ok := tftpStrings(b[2:], 2)
	if !ok || len(name) == 0 {
		return sideNo
	}
	for _, m := range [...]string{"NETASCII", "OCTET", "MAIL"} {
		if len(mode) == len(m) && matchLit(mode, m, true) == 1 {
			return sideStrong
		}
	}
	return sideNo
}

// tftpReply judges the first datagram of a transfer's own flow, which the
// server sends from a new port (RFC 1350 §4): DATA block 1 and ERROR are
// consistent with TFTP, OACK's option pairs are conclusive.
func tftpReply(b []byte) (op byte, s side) {
	if len(b) < 4 || b[0] != 0 {
		return 0, sideNo
	}
	switch op = b[1]; op {
	case tftpDATA:
		if be16(b[2:]) == 1 && len(b)-4 <= tftpMaxBlock {
			return op, sideWeak
		}
	case tftpERROR:
		if be16(b[2:]) <= 8 {
			if msg, _, ok := tftpStrings(b[4:], 1); ok && len(msg) > 0 {
				return op, sideWeak
			}
		}
	case tftpOACK:
		if _, _, ok := tftpStrings(b[2:], 2); ok {
			return op, sideStrong
		}
	}
	return op, sideNo
}

// detectTFTP recognises the request to port 69 (the server answers from
// another port, so that flow has no reply) and the transfer flow: DATA
// acknowledged by ACK of the same block, or an OACK, or an ERROR.
func detectTFTP(client, server []byte) (result, Class) {
	if len(client) == 0 {
		return resMore, ClassPlaintext
	}
	if c := tftpRequest(client); c == sideStrong {
		if len(server) > 0 {
			// Only an error can come back from port 69 itself.
			if op, s := tftpReply(server); op != tftpERROR || s == sideNo {
				return resNo, ClassUnknown
			}
		}
		return resYes, ClassPlaintext
	}
	op, c := tftpReply(client)
	if c == sideNo {
		return resNo, ClassUnknown
	}
	s := sideEmpty
	if len(server) > 0 {
		s = sideNo
		ackFor := 1
		if op == tftpOACK {
			ackFor = 0
		}
		if len(server) == 4 && server[0] == 0 && server[1] == tftpACK && be16(server[2:]) == ackFor {
			s = sideWeak
		}
	}
	return combine(c, s), ClassPlaintext
}
