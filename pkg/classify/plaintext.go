package classify

// Helpers of the clear-text recognisers, which live one file per protocol
// family (mail.go, db.go, bus.go, …) behind the table in registry.go. Each
// recogniser judges both directions of a flow and returns a result. They
// read their input in place, allocate nothing and never index past the end
// of a slice: every read is preceded by a length check.

// Limits that keep the line scanners bounded.
const (
	maxLine        = 1024 // longest text line looked at (SMTP allows 1000)
	maxReplyLines  = 32   // longest multi-line banner followed
	maxMethodLen   = 20   // longest HTTP method token accepted
	maxTargetLen   = 8192 // longest HTTP request-target accepted
	maxIMAPTagLen  = 64   // longest IMAP tag accepted
	maxPreSSHLines = 8    // lines a server may send before its SSH identification
)

// Byte helpers.

// hasPrefix reports whether b starts with s, without converting either.
func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// upper maps an ASCII lower-case letter to upper case.
func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// matchLit compares the start of b with s: 1 when b starts with s, 0 when b
// is a proper prefix of s (an empty b included), -1 otherwise. fold makes
// the comparison ASCII case-insensitive; s must then be upper case.
func matchLit(b []byte, s string, fold bool) int {
	n := len(s)
	if len(b) < n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		c := b[i]
		if fold {
			c = upper(c)
		}
		if c != s[i] {
			return -1
		}
	}
	if len(b) >= len(s) {
		return 1
	}
	return 0
}

// containsFold reports whether b contains s, ignoring ASCII case; s must
// be upper case.
func containsFold(b []byte, s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i+len(s) <= len(b); i++ {
		if upper(b[i]) == s[0] && matchLit(b[i:], s, true) == 1 {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// isPrintable reports whether c is printable ASCII (space included).
func isPrintable(c byte) bool { return c >= 0x20 && c < 0x7f }

func be16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func le16(b []byte) int { return int(b[0]) | int(b[1])<<8 }

func le24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

// lineStatus tells how nextLine found the next line.
type lineStatus uint8

const (
	lineOK    lineStatus = iota // a complete line
	lineShort                   // b ends before the line does
	lineBad                     // no line end within max bytes
)

// nextLine splits the first line off b. The line excludes its "\n" and a
// "\r" before it; rest starts after the "\n". A line longer than max bytes
// is lineBad; a line that b ends inside of is lineShort and ln holds its
// start.
func nextLine(b []byte, max int) (ln, rest []byte, st lineStatus) {
	n := len(b)
	if n > max {
		n = max
	}
	for i := 0; i < n; i++ {
		if b[i] == '\n' {
			ln = b[:i]
			if len(ln) > 0 && ln[len(ln)-1] == '\r' {
				ln = ln[:len(ln)-1]
			}
			return ln, b[i+1:], lineOK
		}
	}
	if len(b) > max {
		return nil, nil, lineBad
	}
	ln = b
	if len(ln) > 0 && ln[len(ln)-1] == '\r' {
		ln = ln[:len(ln)-1]
	}
	return ln, nil, lineShort
}

// isTextLine reports whether ln holds no control characters but TAB.
// Bytes from 0x80 up are allowed: greetings may carry UTF-8.
func isTextLine(ln []byte) bool {
	for _, c := range ln {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isTextBlock is isTextLine that also allows CR and LF.
func isTextBlock(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f {
			return false
		}
	}
	return true
}

// startsLikeTLS reports whether b starts like TLS rather than plaintext:
// a record header (content type 20-24, major version 3, minor version
// 0-4; RFC 8446 §5.1) or an SSLv2-format CLIENT-HELLO (RFC 6101 E.2).
// Two bytes are enough to exclude plaintext.
func startsLikeTLS(b []byte) bool {
	if len(b) >= 2 && b[0] >= 20 && b[0] <= 24 && b[1] == 3 {
		return len(b) < 3 || b[2] <= 4
	}
	// SSLv2 record: 2-byte header with the high bit set, message type 1
	// (CLIENT-HELLO), version 0x0002 or 0x03xx.
	return len(b) >= 5 && b[0]&0x80 != 0 && b[2] == 1 &&
		((b[3] == 0 && b[4] == 2) || (b[3] == 3 && b[4] <= 4))
}

// Line-oriented commands.

// argRule tells whether a command takes arguments.
type argRule uint8

const (
	argNo  argRule = iota // the line ends after the command
	argYes                // at least one argument follows
	argAny                // either
)

// command is a client command of a line-oriented protocol and how much it
// proves. name is upper case and may contain a space ("AUTH TLS").
type command struct {
	name string
	arg  argRule
	ev   side
}

// commandSide judges the first line of b against cmds (compared without
// regard to case). The first command that matches gives the result, but a
// conclusive command not written in upper case only counts as consistent;
// a line that b ends inside of is a prefix while it can still become a
// command.
func commandSide(b []byte, cmds []command) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	for i := range cmds {
		c := &cmds[i]
		m := matchLit(ln, c.name, true)
		if m < 0 {
			continue
		}
		if m == 0 { // ln is a proper prefix of the name
			if st == lineShort {
				return sidePrefix
			}
			continue
		}
		rest := ln[len(c.name):]
		if len(rest) > 0 && rest[0] != ' ' {
			continue // a longer word
		}
		hasArg := false
		for _, ch := range rest {
			if ch != ' ' {
				hasArg = true
				break
			}
		}
		if st == lineShort {
			if c.arg == argNo && hasArg {
				continue
			}
			return sidePrefix
		}
		switch {
		case c.arg == argNo && hasArg, c.arg == argYes && !hasArg:
			continue
		}
		if c.ev == sideStrong && !isUpper(ln[:len(c.name)]) {
			// Clients send commands in upper case; "the id is 5" is text.
			return sideWeak
		}
		return c.ev
	}
	return sideNo
}

// isUpper reports whether b holds no lower-case ASCII letter.
func isUpper(b []byte) bool {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			return false
		}
	}
	return true
}

// reply is what replySide learnt from an SMTP/FTP style reply.
type reply struct {
	st      side // sideNo, sidePrefix or sideWeak (a complete reply)
	hasSMTP bool // the text mentions SMTP (or ESMTP)
	hasFTP  bool // the text mentions FTP
	hasLMTP bool // the text mentions LMTP
}

// replySide reads the first reply of b in the SMTP/FTP format: "ddd text"
// or a multi-line "ddd-text" ... "ddd text" (RFC 5321 §4.2, RFC 959 §4.2),
// where ddd must be code. It notes which protocol names the text mentions.
func replySide(b []byte, code string) reply {
	var r reply
	for n := 0; n < maxReplyLines; n++ {
		ln, rest, st := nextLine(b, maxLine)
		if st == lineBad || !isTextLine(ln) {
			return reply{st: sideNo}
		}
		r.hasSMTP = r.hasSMTP || containsFold(ln, "SMTP")
		r.hasFTP = r.hasFTP || containsFold(ln, "FTP")
		r.hasLMTP = r.hasLMTP || containsFold(ln, "LMTP")
		m := matchLit(ln, code, false)
		switch {
		case n == 0 && m < 0:
			return reply{st: sideNo}
		case n == 0 && m == 0:
			r.st = sidePrefix
			return r
		case m == 1 && len(ln) > 3 && ln[3] != ' ' && ln[3] != '-':
			if n == 0 {
				return reply{st: sideNo}
			}
		case m == 1 && (len(ln) == 3 || ln[3] == ' '):
			if st == lineShort {
				r.st = sidePrefix
				return r
			}
			r.st = sideWeak
			return r
		}
		if st == lineShort {
			r.st = sidePrefix
			return r
		}
		b = rest
		if len(b) == 0 {
			r.st = sidePrefix
			return r
		}
	}
	return reply{st: sideNo}
}
