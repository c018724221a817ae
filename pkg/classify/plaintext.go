package classify

// Recognisers of clear-text protocols, used by DetectStream. Each one
// judges both directions of a TCP connection and returns a result. They
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// SSH (RFC 4253 §4.2).

func detectSSH(client, server []byte) result {
	return combine(sshIdent(client), sshServerSide(server))
}

// sshIdent judges an SSH identification string at the start of b:
// "SSH-2.0-", "SSH-1.99-" (a server that also speaks SSH 1) or "SSH-1.5-"
// (SSH 1), then at least one character of the software version.
func sshIdent(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "SSH-", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	rest := b[4:]
	for _, v := range [...]string{"2.0-", "1.99-", "1.5-"} {
		switch matchLit(rest, v, false) {
		case 0:
			return sidePrefix
		case 1:
			sw := rest[len(v):]
			if len(sw) == 0 {
				return sidePrefix
			}
			if sw[0] > 0x20 && sw[0] < 0x7f && sw[0] != '-' {
				return sideStrong
			}
			return sideNo
		}
	}
	return sideNo
}

// sshServerSide is sshIdent, after the other text lines a server may send
// before its identification.
func sshServerSide(b []byte) side {
	for i := 0; i <= maxPreSSHLines; i++ {
		s := sshIdent(b)
		if s != sideNo {
			return s
		}
		ln, rest, st := nextLine(b, maxLine)
		if st != lineOK || len(rest) == 0 || !isTextLine(ln) {
			return sideNo
		}
		b = rest
	}
	return sideNo
}

// ---------------------------------------------------------------------------
// HTTP/2 with prior knowledge (RFC 9113 §3.3, §3.4).

// h2Preface is the client connection preface of HTTP/2.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func detectH2C(client, server []byte) result {
	c := sideEmpty
	if len(client) > 0 {
		switch matchLit(client, h2Preface, false) {
		case -1:
			c = sideNo
		case 0:
			c = sidePrefix
		default:
			c = sideStrong
		}
	}
	return combine(c, h2ServerSide(server))
}

// h2ServerSide accepts the server's first HTTP/2 frame: SETTINGS (type 4)
// or GOAWAY (type 7) on stream 0.
func h2ServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	// The 24-bit frame length of a SETTINGS or GOAWAY frame is small.
	if b[0] != 0 || (len(b) > 1 && b[1] > 0x40) || (len(b) >= 4 && b[3] != 4 && b[3] != 7) {
		return sideNo
	}
	if len(b) < 9 {
		return sidePrefix
	}
	if b[5]&0x7f != 0 || b[6] != 0 || b[7] != 0 || b[8] != 0 {
		return sideNo
	}
	return sideWeak
}

// ---------------------------------------------------------------------------
// HTTP/1.x (RFC 9112 §3, §4).

// httpMethods are the request methods recognised: RFC 9110 §9, PATCH
// (RFC 5789), WebDAV (RFC 4918, RFC 3253) and PURGE of HTTP caches.
var httpMethods = [...]string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
	"PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
	"UNLOCK", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "SEARCH", "PURGE",
}

func detectHTTP(client, server []byte) result {
	return combine(httpRequestSide(client), httpResponseSide(server))
}

// httpRequestSide accepts a request line: a method, SP, a request-target
// of visible characters, SP, "HTTP/1." and a digit. A known method makes
// it conclusive; another upper-case token (an extension method such as
// RPC_IN_DATA) only consistent, so the server's status line must agree.
func httpRequestSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	sp := -1
	for i := 0; i < len(b) && i <= maxMethodLen; i++ {
		c := b[i]
		if c == ' ' && i > 0 {
			sp = i
			break
		}
		if !isMethodChar(c) {
			return sideNo
		}
	}
	if sp < 0 {
		if len(b) > maxMethodLen {
			return sideNo
		}
		return sidePrefix
	}
	ev := sideWeak
	for _, m := range httpMethods {
		if string(b[:sp]) == m {
			ev = sideStrong
			break
		}
	}
	t := b[sp+1:]
	end := -1
	for i := 0; i < len(t) && i <= maxTargetLen; i++ {
		c := t[i]
		if c == ' ' {
			end = i
			break
		}
		if c <= 0x20 || c == 0x7f {
			return sideNo
		}
	}
	switch {
	case end == 0:
		return sideNo
	case end < 0 && len(t) > maxTargetLen:
		return sideNo
	case end < 0:
		return sidePrefix
	}
	v := t[end+1:]
	switch matchLit(v, "HTTP/1.", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(v) < 8 {
		return sidePrefix
	}
	if !isDigit(v[7]) || (len(v) > 8 && v[8] != '\r' && v[8] != '\n') {
		return sideNo
	}
	return ev
}

// isMethodChar reports whether c may appear in a method accepted by
// httpRequestSide: upper-case letters, digits, '_' and '-' (a subset of
// the tchar of RFC 9110 §5.6.2 that real methods use).
func isMethodChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' || c == '-'
}

// httpResponseSide accepts a status line: "HTTP/1.", a digit, SP and a
// three-digit status code followed by SP or the line end. An HTTP/2
// SETTINGS frame is consistent too: servers such as nghttpd answer a
// request with "Upgrade: h2c" in HTTP/2 at once.
func httpResponseSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "HTTP/1.", false) {
	case -1:
		return h2ServerSide(b)
	case 0:
		return sidePrefix
	}
	// "HTTP/1.1 200 OK": version digit at 7, SP at 8, status at 9-11.
	for i := 7; i < 12; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		c := b[i]
		switch {
		case i == 8 && c != ' ', i != 8 && !isDigit(c):
			return sideNo
		}
	}
	if len(b) > 12 && b[12] != ' ' && b[12] != '\r' && b[12] != '\n' {
		return sideNo
	}
	if b[9] < '1' || b[9] > '5' {
		return sideNo
	}
	return sideStrong
}

// ---------------------------------------------------------------------------
// PostgreSQL (protocol 3, "Message Formats" of the PostgreSQL manual).

// PostgreSQL request codes in the version field of the first message.
const (
	pgCancelRequest = 80877102
	pgSSLRequest    = 80877103
	pgGSSENCRequest = 80877104
	pgProtocol30    = 3 << 16 // 196608
	pgProtocol32    = 3<<16 | 2
	pgMaxStartup    = 10000 // libpq and the server cap the startup packet
)

func detectPostgreSQL(client, server []byte) result {
	return combine(pgClientSide(client), pgServerSide(server, 0))
}

// pgClientSide accepts the first frontend message: SSLRequest,
// GSSENCRequest, CancelRequest, or a StartupMessage of protocol 3.0-3.2
// whose NUL-terminated parameter pairs include "user".
func pgClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) < 8 {
		// Every first message is shorter than 64 KiB and its code starts
		// with 0x00 0x03 or 0x04 0xd2.
		if b[0] != 0 || (len(b) > 1 && b[1] != 0) {
			return sideNo
		}
		if len(b) > 4 && b[4] != 0 && b[4] != 0x04 {
			return sideNo
		}
		return sidePrefix
	}
	n := be32(b)
	switch code := be32(b[4:]); {
	case code == pgSSLRequest || code == pgGSSENCRequest:
		if n == 8 {
			return sideStrong
		}
		return sideNo
	case code == pgCancelRequest:
		// 16 bytes; protocol 3.2 allows secret keys up to 256 bytes.
		if n >= 16 && n <= 12+256 {
			return sideStrong
		}
		return sideNo
	case code >= pgProtocol30 && code <= pgProtocol32:
		if n < 8+5+1 || n > pgMaxStartup {
			return sideNo
		}
	default:
		return sideNo
	}
	end := int(n)
	complete := len(b) >= end
	if !complete {
		end = len(b)
	}
	params := b[8:end]
	user := false
	for key := true; ; key = !key {
		if len(params) == 0 {
			if complete {
				return sideNo // the terminating NUL is missing
			}
			return sidePrefix
		}
		if key && params[0] == 0 {
			// The terminator: it must be the last byte of the message.
			if !complete || len(params) != 1 || !user {
				if !complete && len(params) == 1 {
					return sidePrefix
				}
				return sideNo
			}
			return sideStrong
		}
		i := 0
		for i < len(params) && params[i] != 0 {
			c := params[i]
			if key && !(isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '-') {
				return sideNo
			}
			if !key && c < 0x20 && c != '\t' {
				return sideNo
			}
			i++
		}
		if i == len(params) {
			if complete {
				return sideNo
			}
			return sidePrefix
		}
		if key && string(params[:i]) == "user" {
			user = true
		}
		params = params[i+1:]
	}
}

// pgServerSide accepts the first backend bytes: the one-byte answer to
// SSLRequest or GSSENCRequest ('S', 'N', 'G'), an authentication request
// ('R') or an ErrorResponse ('E'). An ErrorResponse whose first field is a
// severity is conclusive alone; depth stops the recursion after an 'N'.
func pgServerSide(b []byte, depth int) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch b[0] {
	case 'S', 'G':
		// TLS or GSSAPI follows; nothing more to check in clear text.
		return sideWeak
	case 'N':
		if depth > 0 {
			return sideNo
		}
		if len(b) == 1 {
			return sideWeak
		}
		return pgServerSide(b[1:], depth+1)
	case 'R', 'E':
	default:
		return sideNo
	}
	if len(b) < 5 {
		return sidePrefix
	}
	n := be32(b[1:])
	if b[0] == 'R' {
		if n < 8 || n > 2048 {
			return sideNo
		}
		if len(b) < 9 {
			return sidePrefix
		}
		// AuthenticationOk (0) up to SASLFinal (12); 1, 4 and 6 are gone.
		switch be32(b[5:]) {
		case 0, 2, 3, 5, 7, 8, 9, 10, 11, 12:
			return sideWeak
		}
		return sideNo
	}
	if n < 5 || n > 8192 {
		return sideNo
	}
	// ErrorResponse: fields of a type byte and a C string; the first one is
	// S (localised severity) or, from 9.6, usually S as well.
	f := b[5:]
	if len(f) == 0 {
		return sidePrefix
	}
	if f[0] != 'S' && f[0] != 'V' {
		return sideNo
	}
	for _, sev := range [...]string{"ERROR\x00", "FATAL\x00", "PANIC\x00"} {
		switch matchLit(f[1:], sev, false) {
		case 1:
			return sideStrong
		case 0:
			return sidePrefix
		}
	}
	// A localised severity: printable text up to the NUL.
	for i := 1; i < len(f) && i < 64; i++ {
		if f[i] == 0 {
			return sideWeak
		}
		if f[i] < 0x20 {
			return sideNo
		}
	}
	if len(f) < 64 {
		return sidePrefix
	}
	return sideNo
}

// ---------------------------------------------------------------------------
// MySQL / MariaDB (client/server protocol, "Connection Phase").

// MySQL capability flags.
const (
	mysqlClientProtocol41 = 0x0200
	mysqlClientSSL        = 0x0800
)

func detectMySQL(client, server []byte) result {
	return combine(mysqlClientSide(client), mysqlServerSide(server))
}

// mysqlGreeting parses the server's Protocol::HandshakeV10 packet. st is
// sideStrong for a full valid greeting; end is the offset after the packet
// and caps the lower capability flags.
func mysqlGreeting(b []byte) (st side, end int, caps int) {
	if len(b) == 0 {
		return sideEmpty, 0, 0
	}
	if len(b) < 4 {
		if len(b) > 2 && b[2] != 0 {
			return sideNo, 0, 0
		}
		return sidePrefix, 0, 0
	}
	n := le24(b)
	if b[3] != 0 || n < 1+2+4+8+1+2 || n > 1024 {
		return sideNo, 0, 0
	}
	end = 4 + n
	p := b[4:]
	if len(p) > n {
		p = p[:n]
	}
	if len(p) == 0 {
		return sidePrefix, 0, 0
	}
	if p[0] != 10 {
		return sideNo, 0, 0
	}
	// server_version: a NUL-terminated printable string that starts with
	// a digit ("8.0.36", "5.5.5-10.11.6-MariaDB").
	i := 1
	for ; i < len(p) && p[i] != 0; i++ {
		if !isPrintable(p[i]) || (i == 1 && !isDigit(p[i])) || i > 64 {
			return sideNo, 0, 0
		}
	}
	if i >= len(p) {
		return sidePrefix, 0, 0
	}
	if i == 1 {
		return sideNo, 0, 0
	}
	// thread id (4), auth-plugin-data-part-1 (8), filler 0x00,
	// capability_flags_1 (2).
	f := i + 1 + 4 + 8
	if f+3 > len(p) {
		if len(p) == n {
			return sideNo, 0, 0
		}
		if f < len(p) && p[f] != 0 {
			return sideNo, 0, 0
		}
		return sidePrefix, 0, 0
	}
	if p[f] != 0 {
		return sideNo, 0, 0
	}
	return sideStrong, end, le16(p[f+1:])
}

// mysqlServerSide accepts a HandshakeV10 greeting.
func mysqlServerSide(b []byte) side {
	st, _, _ := mysqlGreeting(b)
	return st
}

// mysqlClientSide accepts the client's first packet, a HandshakeResponse41
// or SSLRequest: sequence 1, CLIENT_PROTOCOL_41 and a zero filler. The
// filler is 23 bytes; MariaDB puts its extended capabilities in the last 4,
// so only the first 19 must be zero.
func mysqlClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if len(b) >= 4 && (le24(b) < 32 || le24(b) > 1<<16 || b[3] != 1) {
		return sideNo
	}
	if len(b) >= 6 && le16(b[4:])&mysqlClientProtocol41 == 0 {
		return sideNo
	}
	// payload: capability flags (4), max packet size (4), character set
	// (1), filler (23 bytes).
	for i := 4 + 9; i < 4+28; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if b[i] != 0 {
			return sideNo
		}
	}
	return sideStrong
}

// ---------------------------------------------------------------------------
// Redis (RESP, https://redis.io/docs/latest/develop/reference/protocol-spec/).

// redisInline are the inline commands accepted, each only with a reply in
// RESP; they prove nothing alone.
var redisInline = [...]command{
	{"PING", argAny, sideWeak},
	{"INFO", argAny, sideWeak},
	{"HELLO", argAny, sideWeak},
	{"ECHO", argYes, sideWeak},
	{"SELECT", argYes, sideWeak},
	{"DBSIZE", argNo, sideWeak},
	{"MONITOR", argNo, sideWeak},
	{"KEYS", argYes, sideWeak},
	{"SCAN", argYes, sideWeak},
	{"CLIENT", argYes, sideWeak},
	{"CONFIG", argYes, sideWeak},
	{"CLUSTER", argYes, sideWeak},
	{"COMMAND", argAny, sideWeak},
	{"ROLE", argNo, sideWeak},
	{"FLUSHALL", argAny, sideWeak},
	{"SUBSCRIBE", argYes, sideWeak},
	{"PSUBSCRIBE", argYes, sideWeak},
	{"GET", argYes, sideWeak},
	{"SET", argYes, sideWeak},
	{"DEL", argYes, sideWeak},
}

func detectRedis(client, server []byte) result {
	return combine(redisClientSide(client), redisServerSide(server))
}

// respInt reads "<digits>\r\n" at the start of b, at most maxDigits digits.
// It returns the value, the bytes after it, and sidePrefix/sideNo/sideWeak.
func respInt(b []byte, maxDigits int) (v int, rest []byte, st side) {
	i := 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if i >= maxDigits {
			return 0, nil, sideNo
		}
		v = v*10 + int(b[i]-'0')
	}
	switch {
	case i == len(b):
		return 0, nil, sidePrefix
	case i == 0 || b[i] != '\r':
		return 0, nil, sideNo
	case i+1 == len(b):
		return 0, nil, sidePrefix
	case b[i+1] != '\n':
		return 0, nil, sideNo
	}
	return v, b[i+2:], sideWeak
}

// redisClientSide accepts a RESP array of bulk strings whose first element
// is a command name ("*1\r\n$4\r\nPING\r\n"), which proves Redis alone, or
// a known inline command.
func redisClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != '*' {
		return commandSide(b, redisInline[:])
	}
	n, rest, st := respInt(b[1:], 7)
	if st != sideWeak {
		return st
	}
	if n == 0 {
		return sideNo
	}
	if len(rest) == 0 {
		return sidePrefix
	}
	if rest[0] != '$' {
		return sideNo
	}
	l, rest, st := respInt(rest[1:], 2)
	if st != sideWeak {
		return st
	}
	if l == 0 || l > 32 {
		return sideNo
	}
	for i := 0; i < l+2; i++ {
		if i >= len(rest) {
			return sidePrefix
		}
		c := rest[i]
		switch {
		case i == l && c != '\r', i == l+1 && c != '\n':
			return sideNo
		case i == 0 && !isAlpha(c):
			return sideNo
		case i > 0 && i < l && !isAlpha(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' && c != '|':
			return sideNo
		}
	}
	return sideStrong
}

// redisServerSide accepts a first RESP reply line. Errors that only Redis
// sends unasked ("-DENIED Redis is running in protected mode", "-NOAUTH")
// prove Redis alone.
func redisServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch b[0] {
	case '+', '-', ':', '$', '*', '_', '%', '#', ',', '(', '=', '~', '>', '|', '!':
	default:
		return sideNo
	}
	for _, s := range [...]string{"-DENIED Redis ", "-NOAUTH ", "-WRONGPASS "} {
		if hasPrefix(b, s) {
			return sideStrong
		}
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	if st == lineShort {
		return sidePrefix
	}
	// RESP lines end in CRLF.
	if len(b) <= len(ln)+1 || b[len(ln)] != '\r' {
		return sideNo
	}
	body := ln[1:]
	switch b[0] {
	case ':', '$', '*', '%', '~', '>', '|', '(':
		if len(body) > 0 && body[0] == '-' {
			body = body[1:]
		}
		if len(body) == 0 || len(body) > 20 {
			return sideNo
		}
		for _, c := range body {
			if !isDigit(c) {
				return sideNo
			}
		}
	case '+', '-':
		// "+OK", "+PONG", "-ERR unknown command": a status word first.
		if len(body) == 0 || !isAlpha(body[0]) {
			return sideNo
		}
		// POP3 says "+OK " followed by a text; Redis's "+OK" stands alone.
		if hasPrefix(body, "OK ") {
			return sideNo
		}
	case '_':
		if len(body) != 0 {
			return sideNo
		}
	}
	return sideWeak
}

// ---------------------------------------------------------------------------
// SMTP (RFC 5321) and LMTP (RFC 2033).

var smtpCommands = [...]command{
	{"EHLO", argYes, sideStrong},
	{"HELO", argYes, sideStrong},
	{"LHLO", argYes, sideStrong},
}

func detectSMTP(client, server []byte) result {
	s := sideEmpty
	if len(server) > 0 {
		r := replySide(server, "220")
		s = r.st
		switch {
		case r.st == sideNo:
		case r.hasFTP && !r.hasSMTP:
			s = sideNo
		case (r.hasSMTP || r.hasLMTP) && !r.hasFTP:
			s = sideStrong
		}
	}
	return combine(commandSide(client, smtpCommands[:]), s)
}

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// IMAP (RFC 3501, RFC 9051).

var imapCommands = [...]command{
	{"CAPABILITY", argNo, sideStrong},
	{"STARTTLS", argNo, sideStrong},
	{"LOGIN", argYes, sideStrong},
	{"AUTHENTICATE", argYes, sideStrong},
	{"ID", argYes, sideStrong},
	{"NOOP", argNo, sideStrong},
	{"LOGOUT", argNo, sideStrong},
	{"ENABLE", argYes, sideStrong},
	{"COMPRESS", argYes, sideStrong},
	// Valid first commands after a PREAUTH greeting, or pipelined: they
	// need the server's greeting to agree.
	{"SELECT", argYes, sideWeak},
	{"EXAMINE", argYes, sideWeak},
	{"LIST", argYes, sideWeak},
	{"LSUB", argYes, sideWeak},
	{"STATUS", argYes, sideWeak},
	{"NAMESPACE", argNo, sideWeak},
	{"CREATE", argYes, sideWeak},
	{"DELETE", argYes, sideWeak},
	{"RENAME", argYes, sideWeak},
	{"SUBSCRIBE", argYes, sideWeak},
	{"APPEND", argYes, sideWeak},
	{"FETCH", argYes, sideWeak},
	{"UID", argYes, sideWeak},
	{"SEARCH", argYes, sideWeak},
	{"STORE", argYes, sideWeak},
	{"IDLE", argNo, sideWeak},
}

func detectIMAP(client, server []byte) result {
	return combine(imapClientSide(client), imapServerSide(server))
}

// isIMAPTagChar reports whether c may appear in an IMAP tag (RFC 9051 §9:
// ASTRING-CHAR except "+").
func isIMAPTagChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', '+':
		return false
	}
	return true
}

// imapTag splits a tag off ln. It returns the tag, the command after the
// space, and whether a space was found.
func imapTag(ln []byte) (tag, cmd []byte, ok bool) {
	for i := 0; i < len(ln) && i <= maxIMAPTagLen; i++ {
		c := ln[i]
		if c == ' ' && i > 0 {
			return ln[:i], ln[i+1:], true
		}
		if !isIMAPTagChar(c) {
			return nil, nil, false
		}
	}
	return ln, nil, false
}

// imapClientSide accepts a tagged command ("a001 CAPABILITY").
func imapClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad {
		return sideNo
	}
	_, cmd, ok := imapTag(ln)
	if !ok {
		if st == lineShort && len(ln) <= maxIMAPTagLen {
			for _, c := range ln {
				if !isIMAPTagChar(c) {
					return sideNo
				}
			}
			return sidePrefix
		}
		return sideNo
	}
	// commandSide on the rest of the line; it must keep the line end.
	rest := b[len(ln)-len(cmd):]
	return commandSide(rest, imapCommands[:])
}

// imapServerSide accepts an untagged greeting: "* OK", "* PREAUTH" or
// "* BYE". One that names IMAP or starts with a CAPABILITY response code is
// conclusive alone.
func imapServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	for _, g := range [...]string{"* OK", "* PREAUTH", "* BYE"} {
		m := matchLit(ln, g, true)
		if m < 0 {
			continue
		}
		if m == 0 {
			if st == lineShort {
				return sidePrefix
			}
			continue
		}
		text := ln[len(g):]
		if len(text) > 0 && text[0] != ' ' {
			continue
		}
		if st == lineShort {
			return sidePrefix
		}
		if containsFold(text, "IMAP") || matchLit(trimSpace(text), "[CAPABILITY ", true) == 1 {
			return sideStrong
		}
		return sideWeak
	}
	return sideNo
}

// trimSpace drops leading spaces.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// ---------------------------------------------------------------------------
// POP3 (RFC 1939, RFC 2449, RFC 2595, RFC 5034).

var pop3Commands = [...]command{
	{"CAPA", argNo, sideStrong},
	{"STLS", argNo, sideStrong},
	{"APOP", argYes, sideStrong},
	{"USER", argYes, sideWeak},
	{"AUTH", argAny, sideWeak},
	{"UTF8", argNo, sideWeak},
	{"QUIT", argNo, sideWeak},
}

func detectPOP3(client, server []byte) result {
	return combine(commandSide(client, pop3Commands[:]), pop3ServerSide(server))
}

// pop3ServerSide accepts a "+OK" greeting; one that names POP is
// conclusive alone.
func pop3ServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	switch matchLit(ln, "+OK", false) {
	case -1:
		return sideNo
	case 0:
		if st == lineShort {
			return sidePrefix
		}
		return sideNo
	}
	if len(ln) > 3 && ln[3] != ' ' {
		return sideNo
	}
	if st == lineShort {
		return sidePrefix
	}
	if containsFold(ln, "POP") {
		return sideStrong
	}
	return sideWeak
}

// ---------------------------------------------------------------------------
// IRC (RFC 1459, RFC 2812, IRCv3 capability negotiation and STARTTLS).

var ircCommands = [...]command{
	{"CAP LS", argAny, sideStrong},
	{"CAP REQ", argYes, sideStrong},
	{"NICK", argYes, sideStrong},
	{"USER", argYes, sideWeak}, // checked for its four parameters below
	{"STARTTLS", argNo, sideWeak},
}

func detectIRC(client, server []byte) result {
	return combine(ircClientSide(client), ircServerSide(server))
}

// ircClientSide accepts the registration commands: an optional PASS line,
// then NICK, USER (with its four parameters), CAP LS/REQ or STARTTLS.
func ircClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if m := matchLit(b, "PASS ", true); m >= 0 {
		ln, rest, st := nextLine(b, maxLine)
		switch {
		case st == lineBad || !isTextLine(ln):
			return sideNo
		case st == lineShort || len(rest) == 0:
			return sidePrefix
		}
		b = rest
	}
	s := commandSide(b, ircCommands[:])
	if s == sideWeak && matchLit(b, "USER ", true) == 1 {
		// USER <user> <mode> <unused> :<realname>
		ln, _, _ := nextLine(b, maxLine)
		spaces := 0
		for i := 0; i < len(ln); i++ {
			if ln[i] == ' ' {
				spaces++
				if spaces == 4 {
					if i+1 < len(ln) && ln[i+1] == ':' {
						return sideStrong
					}
					break
				}
			}
		}
		return sideNo
	}
	return s
}

// ircServerSide accepts a first message with a server prefix and a NOTICE,
// CAP or numeric reply (":irc.example.net NOTICE * :*** Looking up your
// hostname"), or the prefix-less "NOTICE AUTH :" of older servers. A PING
// cookie is only consistent with IRC.
func ircServerSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	if len(ln) == 0 {
		return sideNo
	}
	if m := matchLit(ln, "NOTICE AUTH :", false); m >= 0 {
		if m == 0 {
			if st == lineShort {
				return sidePrefix
			}
			return sideNo
		}
		return sideStrong
	}
	if m := matchLit(ln, "PING :", false); m >= 0 {
		if m == 0 || st == lineShort {
			return sidePrefix
		}
		return sideWeak
	}
	if len(ln) == 0 || ln[0] != ':' {
		return sideNo
	}
	// :prefix SP command SP params
	i := 1
	for ; i < len(ln) && ln[i] != ' '; i++ {
		if !isPrintable(ln[i]) {
			return sideNo
		}
	}
	switch {
	case i == len(ln) && st == lineShort:
		return sidePrefix
	case i == 1 || i == len(ln):
		return sideNo
	}
	cmd := ln[i+1:]
	for _, c := range [...]string{"NOTICE ", "CAP "} {
		if m := matchLit(cmd, c, false); m >= 0 {
			if m == 0 {
				if st == lineShort {
					return sidePrefix
				}
				return sideNo
			}
			return sideStrong
		}
	}
	for j := 0; j < 4; j++ {
		if j == len(cmd) {
			if st == lineShort {
				return sidePrefix
			}
			return sideNo
		}
		if (j < 3 && !isDigit(cmd[j])) || (j == 3 && cmd[j] != ' ') {
			return sideNo
		}
	}
	return sideStrong
}

// ---------------------------------------------------------------------------
// XMPP (RFC 6120 §4.2).

func detectXMPP(client, server []byte) result {
	return combine(xmppSide(client), xmppSide(server))
}

// xmppSide accepts an opening stream header, after an optional XML
// declaration: "<?xml version='1.0'?><stream:stream ...".
func xmppSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	switch matchLit(b, "<?xml", false) {
	case 0:
		return sidePrefix
	case 1:
		// Skip the declaration: it ends at "?>" within 256 bytes.
		i := 5
		for ; i+1 < len(b) && i < 256; i++ {
			if b[i] == '?' && b[i+1] == '>' {
				break
			}
			if b[i] < 0x20 && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
				return sideNo
			}
		}
		if i+1 >= len(b) {
			if i < 256 {
				return sidePrefix
			}
			return sideNo
		}
		b = b[i+2:]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if len(b) == 0 {
		return sidePrefix
	}
	switch matchLit(b, "<stream:stream", false) {
	case -1:
		return sideNo
	case 0:
		return sidePrefix
	}
	if len(b) == len("<stream:stream") {
		return sidePrefix
	}
	switch b[len("<stream:stream")] {
	case ' ', '\t', '\r', '\n', '>':
		return sideStrong
	}
	return sideNo
}

// ---------------------------------------------------------------------------
// BER (X.690 §8.1) as LDAP uses it: definite lengths only (RFC 4511 §5.1).

// berStatus tells how berNext found the next element.
type berStatus uint8

const (
	berOK    berStatus = iota // a complete element
	berShort                  // b ends inside the element (content is clipped)
	berBad                    // not a valid element
)

// berNext reads the element at the start of b: its one-byte tag, its
// content (clipped to b when b ends early) and the bytes after it.
func berNext(b []byte) (tag byte, content, rest []byte, st berStatus) {
	if len(b) < 2 {
		return 0, nil, nil, berShort
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, berBad // multi-byte tags: not in LDAP
	}
	n, h := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, nil, nil, berBad // indefinite or absurd
		}
		if len(b) < 2+k {
			return tag, nil, nil, berShort
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		if n < 0x80 && k == 1 || n > 1<<24 {
			return 0, nil, nil, berBad // not minimal, or too big
		}
		h += k
	}
	if len(b)-h < n {
		return tag, b[h:], nil, berShort
	}
	return tag, b[h : h+n], b[h+n:], berOK
}

// ldapField reads the next element of b, which must carry tag want. s is
// sideStrong when the element is complete, sidePrefix when b ends inside it
// and partial says the enclosing message was cut short, else sideNo.
func ldapField(b []byte, want byte, partial bool) (content, rest []byte, s side) {
	if len(b) > 0 && b[0] != want {
		return nil, nil, sideNo
	}
	_, content, rest, st := berNext(b)
	switch {
	case st == berOK:
		return content, rest, sideStrong
	case st == berShort && partial:
		return nil, nil, sidePrefix
	}
	return nil, nil, sideNo
}

// ldapInt reads a non-negative INTEGER or ENUMERATED (tag want) of 1 to 4
// content bytes.
func ldapInt(b []byte, want byte, partial bool) (v int, rest []byte, s side) {
	c, rest, s := ldapField(b, want, partial)
	if s != sideStrong {
		return 0, nil, s
	}
	if len(c) == 0 || len(c) > 4 || c[0]&0x80 != 0 {
		return 0, nil, sideNo
	}
	for _, x := range c {
		v = v<<8 | int(x)
	}
	return v, rest, sideStrong
}

// ldapMessage reads the envelope of an LDAPMessage (RFC 4511 §4.1.1):
// SEQUENCE { messageID INTEGER, protocolOp, controls [0] OPTIONAL }. It
// returns the message ID, the protocolOp tag and its content (clipped when
// b ends early, which partial reports) and the bytes after the message. s
// is sideStrong when the envelope is valid so far.
func ldapMessage(b []byte) (id int, op byte, opContent, rest []byte, partial bool, s side) {
	if len(b) == 0 {
		return 0, 0, nil, nil, false, sideEmpty
	}
	if b[0] != 0x30 {
		return 0, 0, nil, nil, false, sideNo
	}
	_, body, rest, st := berNext(b)
	if st == berBad {
		return 0, 0, nil, nil, false, sideNo
	}
	partial = st == berShort
	if partial && len(body) == 0 {
		return 0, 0, nil, nil, true, sidePrefix
	}
	id, after, s := ldapInt(body, 0x02, partial)
	if s != sideStrong {
		return 0, 0, nil, nil, partial, s
	}
	if len(after) == 0 {
		return 0, 0, nil, nil, partial, partialSide(partial)
	}
	op = after[0]
	_, opContent, after2, st := berNext(after)
	switch {
	case st == berBad, st == berShort && !partial:
		return 0, 0, nil, nil, partial, sideNo
	case st == berOK && len(after2) > 0 && after2[0] != 0xa0:
		return 0, 0, nil, nil, partial, sideNo // only controls may follow
	}
	return id, op, opContent, rest, partial, sideStrong
}

func detectLDAP(client, server []byte) result {
	return combine(ldapClientSide(client), ldapServerSide(server))
}

// ldapClientSide accepts a first request: bindRequest, searchRequest or
// extendedReq, with its leading fields checked.
func ldapClientSide(b []byte) side {
	id, op, c, _, partial, s := ldapMessage(b)
	if s != sideStrong {
		return s
	}
	if id == 0 {
		return sideNo // message ID 0 is reserved for notices
	}
	switch op {
	case 0x60: // bindRequest [APPLICATION 0] (§4.2)
		v, r, s := ldapInt(c, 0x02, partial)
		if s != sideStrong {
			return s
		}
		if v < 1 || v > 3 {
			return sideNo
		}
		if _, r, s = ldapField(r, 0x04, partial); s != sideStrong { // name
			return s
		}
		if len(r) == 0 {
			return partialSide(partial)
		}
		if r[0] != 0x80 && r[0] != 0xa3 { // simple [0] or sasl [3]
			return sideNo
		}
		return sideStrong
	case 0x63: // searchRequest [APPLICATION 3] (§4.5.1)
		_, r, s := ldapField(c, 0x04, partial) // baseObject
		if s != sideStrong {
			return s
		}
		for _, limit := range [...]int{2, 3} { // scope, derefAliases
			var v int
			if v, r, s = ldapInt(r, 0x0a, partial); s != sideStrong {
				return s
			}
			if v > limit {
				return sideNo
			}
		}
		for i := 0; i < 2; i++ { // sizeLimit, timeLimit
			if _, r, s = ldapInt(r, 0x02, partial); s != sideStrong {
				return s
			}
		}
		tc, _, s := ldapField(r, 0x01, partial) // typesOnly BOOLEAN
		if s != sideStrong {
			return s
		}
		if len(tc) != 1 {
			return sideNo
		}
		return sideStrong
	case 0x77: // extendedReq [APPLICATION 23] (§4.12)
		oid, _, s := ldapField(c, 0x80, partial) // requestName [0]
		if s != sideStrong {
			return s
		}
		if !isOID(oid) {
			return sideNo
		}
		return sideStrong
	}
	return sideNo
}

// ldapServerSide accepts a first response: bindResponse, searchResEntry,
// searchResDone or extendedResp (also an unsolicited notice of
// disconnection), with the LDAPResult fields checked.
func ldapServerSide(b []byte) side {
	_, op, c, _, partial, s := ldapMessage(b)
	if s != sideStrong {
		return s
	}
	switch op {
	case 0x61, 0x65, 0x78: // LDAPResult: resultCode, matchedDN, diagnosticMessage
		_, r, s := ldapInt(c, 0x0a, partial)
		if s != sideStrong {
			return s
		}
		for i := 0; i < 2; i++ {
			if _, r, s = ldapField(r, 0x04, partial); s != sideStrong {
				return s
			}
		}
		return sideStrong
	case 0x64: // searchResEntry: objectName, attributes SEQUENCE
		_, r, s := ldapField(c, 0x04, partial)
		if s != sideStrong {
			return s
		}
		if len(r) == 0 {
			return partialSide(partial)
		}
		if r[0] != 0x30 {
			return sideNo
		}
		return sideStrong
	}
	return sideNo
}

// partialSide is sidePrefix when the message was cut short, else sideNo.
func partialSide(partial bool) side {
	if partial {
		return sidePrefix
	}
	return sideNo
}

// isOID reports whether b is a dotted-decimal object identifier.
func isOID(b []byte) bool {
	if len(b) < 3 || len(b) > 128 {
		return false
	}
	dots := 0
	for i, c := range b {
		switch {
		case isDigit(c):
		case c == '.' && i > 0 && i < len(b)-1 && b[i-1] != '.':
			dots++
		default:
			return false
		}
	}
	return dots > 0
}

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Kafka (https://kafka.apache.org/protocol, "Headers").

const (
	kafkaMaxAPIKey     = 90
	kafkaMaxAPIVersion = 20
	kafkaMaxRequest    = 1 << 20 // a first request is small
)

func detectKafka(client, server []byte) result {
	c := kafkaClientSide(client)
	s := sideEmpty
	if len(server) > 0 {
		s = kafkaServerSide(server, client)
	}
	return combine(c, s)
}

// kafkaClientSide accepts a request header v1/v2: int32 size, int16
// api_key, int16 api_version, int32 correlation_id (non-negative) and a
// nullable string client_id. A printable, non-empty client_id is
// conclusive; a null or empty one only consistent.
func kafkaClientSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	// Check field by field what has arrived.
	if len(b) >= 2 && (b[0] != 0 || int(b[1]) > kafkaMaxRequest>>16) {
		return sideNo
	}
	if len(b) >= 1 && b[0] != 0 {
		return sideNo
	}
	if len(b) >= 4 && (be32(b) < 10 || be32(b) > kafkaMaxRequest) {
		return sideNo
	}
	if len(b) >= 5 && b[4] != 0 || len(b) >= 6 && b[5] > kafkaMaxAPIKey {
		return sideNo
	}
	if len(b) >= 7 && b[6] != 0 || len(b) >= 8 && b[7] > kafkaMaxAPIVersion {
		return sideNo
	}
	if len(b) >= 9 && b[8]&0x80 != 0 {
		return sideNo
	}
	if len(b) < 14 {
		return sidePrefix
	}
	size := int(be32(b))
	l := be16(b[12:])
	if l == 0xffff || l == 0 {
		return sideWeak
	}
	if l > 255 || 10+l > size {
		return sideNo
	}
	for i := 14; i < 14+l; i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if !isPrintable(b[i]) {
			return sideNo
		}
	}
	return sideStrong
}

// kafkaServerSide accepts a response header: int32 size and the
// correlation_id of the client's request.
func kafkaServerSide(b, client []byte) side {
	if len(b) < 8 {
		if b[0] != 0 {
			return sideNo
		}
		return sidePrefix
	}
	if n := be32(b); n < 4 || n > 1<<24 {
		return sideNo
	}
	if len(client) >= 12 {
		if be32(b[4:]) != be32(client[8:]) {
			return sideNo
		}
	}
	return sideWeak
}

// ---------------------------------------------------------------------------
// Telnet (RFC 854, RFC 855).

// Telnet commands that follow IAC (RFC 854, "TELNET COMMAND STRUCTURE").
const (
	telnetIAC      = 0xff
	telnetSE       = 0xf0 // end of subnegotiation
	telnetNOP      = 0xf1 // first of the two-byte commands NOP … GA
	telnetGA       = 0xf9
	telnetSB       = 0xfa // start of subnegotiation
	telnetWILL     = 0xfb // first of WILL, WONT, DO, DONT, which take an option
	maxTelnetSBLen = 512  // longest subnegotiation followed
)

func detectTelnet(client, server []byte) result {
	return combine(telnetSide(client), telnetSide(server))
}

// telnetSide judges the start of one direction of a Telnet session. Both
// ends usually open with option negotiation: IAC DO/DONT/WILL/WONT option,
// IAC SB … IAC SE, or a two-byte command. Two complete commands in a row
// are conclusive; one is consistent with Telnet. What follows the commands
// (the terminal text) is not judged: a Telnet session that negotiates
// nothing reads as clear text anyway.
func telnetSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != telnetIAC {
		return sideNo
	}
	cmds := 0
	for len(b) > 0 && b[0] == telnetIAC {
		n, st := telnetCommand(b)
		switch st {
		case berShort:
			return telnetCount(cmds, true)
		case berBad:
			if cmds == 0 {
				return sideNo
			}
			return telnetCount(cmds, false)
		}
		cmds++
		b = b[n:]
	}
	return telnetCount(cmds, false)
}

// telnetCount turns a number of complete commands into evidence; short says
// that b ended inside the next one.
func telnetCount(cmds int, short bool) side {
	switch {
	case cmds >= 2:
		return sideStrong
	case cmds == 1 && !short:
		return sideWeak
	default:
		return sidePrefix
	}
}

// telnetCommand measures the command at the start of b, which starts with
// IAC: its length, or berShort when b ends inside it, or berBad when it is
// not a command that opens a negotiation.
func telnetCommand(b []byte) (int, berStatus) {
	if len(b) < 2 {
		return 0, berShort
	}
	switch c := b[1]; {
	case c >= telnetWILL:
		if c == telnetIAC { // an escaped 0xff data byte
			return 0, berBad
		}
		if len(b) < 3 {
			return 0, berShort
		}
		return 3, berOK
	case c == telnetSB:
		// IAC SB option data… IAC SE, where data doubles any 0xff.
		for i := 3; i+1 < len(b) && i < maxTelnetSBLen; i++ {
			if b[i] != telnetIAC {
				continue
			}
			if b[i+1] == telnetSE {
				return i + 2, berOK
			}
			if b[i+1] != telnetIAC {
				return 0, berBad
			}
			i++
		}
		if len(b) >= maxTelnetSBLen {
			return 0, berBad
		}
		return 0, berShort
	case c >= telnetNOP && c <= telnetGA:
		return 2, berOK
	default:
		return 0, berBad
	}
}
