package classify

// UpgradeState tells how far an in-band upgrade from a plaintext protocol
// to TLS has got; see FindStartTLS.
type UpgradeState uint8

// The states of a plaintext-to-TLS upgrade.
const (
	// UpgradeNone means no upgrade was requested (yet), or the protocol has
	// none, or the bytes after an accepted upgrade are not TLS.
	UpgradeNone UpgradeState = iota
	// UpgradePending means the upgrade was requested and the answer, or the
	// first TLS byte, has not arrived yet.
	UpgradePending
	// UpgradeRefused means the server refused the upgrade (PostgreSQL 'N',
	// SMTP 454, IMAP NO, ...); the connection goes on in clear.
	UpgradeRefused
	// UpgradeDone means both TLS starting offsets were found and TLS bytes
	// start at one of them at least.
	UpgradeDone
)

// String returns "none", "pending", "refused" or "done".
func (s UpgradeState) String() string {
	switch s {
	case UpgradeNone:
		return "none"
	case UpgradePending:
		return "pending"
	case UpgradeRefused:
		return "refused"
	case UpgradeDone:
		return "done"
	}
	return "invalid"
}

// Limits that keep the upgrade scanners bounded.
const (
	maxPreUpgradeCommands = 32   // client commands looked at before the upgrade request
	maxXMLScan            = 8192 // bytes of an XMPP stream searched for an element
)

// The object identifier of the LDAP StartTLS extended operation (RFC 4511
// §4.14.1).
const ldapStartTLSOID = "1.3.6.1.4.1.1466.20037"

// FindStartTLS locates where TLS begins in each direction after an in-band
// upgrade of app (as DetectStream recognised it). client and server are the
// first bytes of each direction of the TCP connection; they are only read.
//
// The upgrades known are: SMTP/LMTP STARTTLS and its 220 reply (RFC 3207),
// IMAP STARTTLS and its tagged OK (RFC 3501 §6.2.1, RFC 9051), POP3 STLS
// and +OK (RFC 2595 §4), FTP AUTH TLS or AUTH SSL and 234 (RFC 4217 §4),
// LDAP's StartTLS extended operation and a successful extendedResp
// (RFC 4511 §4.14), XMPP <starttls/> and <proceed/> (RFC 6120 §5.4), IRC
// STARTTLS and numeric 670 (IRCv3 tls extension), PostgreSQL's SSLRequest
// and 'S' (a GSSENCRequest answered 'G' is GSSAPI encryption, not TLS), and
// MySQL's SSL request after a greeting offering CLIENT_SSL, AMQP 1.0's TLS
// protocol header echoed by the server (OASIS AMQP 1.0 §5.2), and a NATS
// client answering an INFO with tls_required with a TLS handshake. Replies are
// matched to requests by counting, so pipelined commands are handled. An
// HTTP CONNECT tunnel (RFC 9110 §9.3.6) that carries TLS counts as an
// upgrade too: TLS starts after the request's and the 2xx response's
// header blocks.
//
// clientOff and serverOff are the offsets into client and server where the
// TLS records start; an offset may equal the length of its slice when no
// TLS byte has arrived in that direction yet. They are -1 when unknown, and
// always -1 unless st is UpgradeDone or UpgradePending. UpgradeDone needs
// TLS bytes (LooksLikeTLS) at one offset at least, and bytes that are not
// TLS at neither.
//
// FindStartTLS allocates nothing and is safe for concurrent use.
func FindStartTLS(app App, client, server []byte) (clientOff, serverOff int, st UpgradeState) {
	var c, s int
	switch app {
	case AppSMTP:
		c, s, st = lineReplyStartTLS(client, server, false)
	case AppFTP:
		c, s, st = lineReplyStartTLS(client, server, true)
	case AppIMAP:
		c, s, st = imapStartTLS(client, server)
	case AppPOP3:
		c, s, st = pop3StartTLS(client, server)
	case AppLDAP:
		c, s, st = ldapStartTLS(client, server)
	case AppXMPP:
		c, s, st = xmppStartTLS(client, server)
	case AppIRC:
		c, s, st = ircStartTLS(client, server)
	case AppPostgreSQL:
		c, s, st = pgStartTLS(client, server)
	case AppMySQL:
		c, s, st = mysqlStartTLS(client, server)
	case AppHTTP:
		c, s, st = httpConnectTLS(client, server)
	case AppRDP:
		c, s, st = rdpStartTLS(client, server)
	case AppADB:
		c, s, st = adbStartTLS(client, server)
	case AppAMQP:
		c, s, st = amqpStartTLS(client, server)
	case AppNATS:
		c, s, st = natsStartTLS(client, server)
	default:
		return -1, -1, UpgradeNone
	}
	switch st {
	case UpgradePending:
		return c, s, st
	case UpgradeDone:
		return checkTLSAt(client, server, c, s)
	}
	return -1, -1, st
}

// tlsAt is what checkTLSAt found at an offset.
type tlsAt uint8

const (
	tlsAbsent  tlsAt = iota // no bytes there yet
	tlsPartial              // fewer than 5 bytes, a valid start of a record header
	tlsYes                  // a TLS record header
	tlsNo                   // something else
)

// tlsAtOffset checks the bytes of b from off. The client's first record
// must be a handshake record (its ClientHello); the server's may also be
// an alert.
func tlsAtOffset(b []byte, off int, client bool) tlsAt {
	if off < 0 || off > len(b) {
		return tlsNo
	}
	r := b[off:]
	switch {
	case len(r) == 0:
		return tlsAbsent
	case len(r) >= 5:
		if looksLikeTLSRecordHeader(r) || (!client && LooksLikeTLS(r)) {
			return tlsYes
		}
		return tlsNo
	case r[0] != recordTypeHandshake && (client || r[0] != recordTypeAlert),
		len(r) > 1 && r[1] != 3, len(r) > 2 && r[2] > 4:
		return tlsNo
	}
	return tlsPartial
}

// maxTLSRecord is the largest TLS record length: 2^14 plus 2048 bytes of
// expansion (RFC 5246 §6.2.3).
const maxTLSRecord = 18432

// looksLikeTLSRecordHeader reports whether b starts with the header of a
// TLS handshake record: content type 22, major version 3, minor version at
// most 4, and a length of 1 to 18432 bytes (RFC 8446 §5.1, RFC 5246 §6.2).
func looksLikeTLSRecordHeader(b []byte) bool {
	if len(b) < 5 || b[0] != recordTypeHandshake || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := be16(b[3:])
	return n > 0 && n <= maxTLSRecord
}

// checkTLSAt turns two found offsets into UpgradeDone when TLS starts at
// one of them at least and neither holds other bytes.
func checkTLSAt(client, server []byte, c, s int) (int, int, UpgradeState) {
	ct, stt := tlsAtOffset(client, c, true), tlsAtOffset(server, s, false)
	switch {
	case ct == tlsNo || stt == tlsNo:
		return -1, -1, UpgradeNone
	case ct == tlsYes || stt == tlsYes:
		return c, s, UpgradeDone
	}
	return c, s, UpgradePending
}

// lineEnd returns the offset just after the line that rest follows in b.
func lineEnd(b, rest []byte) int { return len(b) - len(rest) }

// isCommand reports whether ln is the command name (case-insensitive, upper
// case name), alone but for trailing spaces.
func isCommand(ln []byte, name string) bool {
	if matchLit(ln, name, true) != 1 {
		return false
	}
	for _, c := range ln[len(name):] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// replyStatus tells how textReply found the next reply.
type replyStatus uint8

const (
	replyOK replyStatus = iota
	replyShort
	replyBad
)

// textReply reads one SMTP/FTP reply at the start of b: "ddd text", or a
// multi-line reply that starts "ddd-" and ends with a line "ddd text" of the
// same code (RFC 5321 §4.2.1, RFC 959 §4.2). It returns the code and the
// offset just after the reply.
func textReply(b []byte) (code, end int, st replyStatus) {
	off := 0
	for n := 0; ; n++ {
		ln, rest, ls := nextLine(b[off:], maxLine)
		switch {
		case ls == lineBad:
			return 0, 0, replyBad
		case ls == lineShort:
			if n == 0 && len(ln) >= 3 && !replyCode(ln) {
				return 0, 0, replyBad
			}
			return 0, 0, replyShort
		}
		if n == 0 {
			if !replyCode(ln) || (len(ln) > 3 && ln[3] != ' ' && ln[3] != '-') {
				return 0, 0, replyBad
			}
			code = int(ln[0]-'0')*100 + int(ln[1]-'0')*10 + int(ln[2]-'0')
		}
		off = lineEnd(b, rest)
		if len(ln) >= 3 && replyCode(ln) && string(ln[:3]) == string(b[:3]) &&
			(len(ln) == 3 || ln[3] == ' ') {
			return code, off, replyOK
		}
		if n >= 4*maxReplyLines {
			return 0, 0, replyBad
		}
	}
}

// replyCode reports whether ln starts with three digits.
func replyCode(ln []byte) bool {
	return len(ln) >= 3 && isDigit(ln[0]) && isDigit(ln[1]) && isDigit(ln[2])
}

// isFTPAuthTLS reports whether ln asks an FTP server for TLS: AUTH TLS, or
// the older AUTH SSL, AUTH TLS-C and AUTH TLS-P (RFC 4217 §6).
func isFTPAuthTLS(ln []byte) bool {
	return isCommand(ln, "AUTH TLS") || isFTPAuthAlias(ln)
}

// isFTPAuthAlias reports whether ln is one of the older names of AUTH TLS. A
// server may know AUTH TLS alone (Pure-FTPd answers the others 500), and a
// client may ask with an older name first: curl sends AUTH SSL, then AUTH TLS
// when that is refused.
func isFTPAuthAlias(ln []byte) bool {
	return isCommand(ln, "AUTH SSL") || isCommand(ln, "AUTH TLS-C") || isCommand(ln, "AUTH TLS-P")
}

// replyCursor reads the final replies of an SMTP or FTP server in order.
type replyCursor struct {
	b   []byte
	off int // just after the last reply read
	n   int // final replies read, the greeting included
}

// upTo reads final replies (preliminary 1yz ones are skipped) up to the one
// numbered i, the greeting being 0, and returns its code. A greeting other
// than 220 refuses service: replyBad.
func (r *replyCursor) upTo(i int) (code int, st replyStatus) {
	for r.n <= i {
		c, end, st := textReply(r.b[r.off:])
		if st != replyOK {
			return 0, st
		}
		r.off += end
		if c < 200 {
			continue
		}
		if r.n == 0 && c != 220 {
			return 0, replyBad
		}
		r.n++
		code = c
	}
	return code, replyOK
}

// lineReplyStartTLS finds STARTTLS in SMTP (ftp false) or AUTH TLS in FTP
// (ftp true). Every client command gets one reply after the server's 220
// greeting, so the reply to the n-th command (from 0) is the reply numbered
// n+1. An FTP client refused an older name of AUTH TLS may ask again with
// another (isFTPAuthAlias), so such a refusal is final only once the client
// goes on with a command of another kind.
func lineReplyStartTLS(client, server []byte, ftp bool) (int, int, UpgradeState) {
	replies := replyCursor{b: server}
	refused := false
	for n, off := 0, 0; n <= maxPreUpgradeCommands; n++ {
		ln, rest, ls := nextLine(client[off:], maxLine)
		if ls != lineOK {
			return -1, -1, UpgradeNone
		}
		off = lineEnd(client, rest)
		if (ftp && !isFTPAuthTLS(ln)) || (!ftp && !isCommand(ln, "STARTTLS")) {
			if refused {
				return -1, -1, UpgradeRefused
			}
			continue
		}
		code, rs := replies.upTo(n + 1)
		switch {
		case rs == replyShort && ftp && isFTPAuthAlias(ln):
			// TLS starts after this request only if it is not refused.
			return -1, -1, UpgradePending
		case rs == replyShort:
			return off, -1, UpgradePending
		case rs == replyBad:
			return -1, -1, UpgradeNone
		case !ftp && code == 220, ftp && code == 234:
			return off, replies.off, UpgradeDone
		case code < 400:
			return -1, -1, UpgradeNone
		case !ftp || !isFTPAuthAlias(ln):
			return -1, -1, UpgradeRefused
		}
		refused = true
	}
	return -1, -1, UpgradeNone
}

// imapStartTLS finds a tagged STARTTLS and the tagged response with the
// same tag; untagged responses are skipped. Clients may reuse a tag, so the
// responses to earlier commands with that tag are skipped too.
func imapStartTLS(client, server []byte) (int, int, UpgradeState) {
	var tag []byte
	c := -1
	for off, n := 0, 0; c < 0; n++ {
		ln, rest, ls := nextLine(client[off:], maxLine)
		if ls != lineOK || n > maxPreUpgradeCommands {
			return -1, -1, UpgradeNone
		}
		off = lineEnd(client, rest)
		if t, cmd, ok := imapTag(ln); ok && isCommand(cmd, "STARTTLS") {
			tag, c = t, off
		}
	}
	// Earlier commands with the same tag.
	same := 0
	for off := 0; off < c; {
		ln, rest, _ := nextLine(client[off:], maxLine)
		off = lineEnd(client, rest)
		if t, _, ok := imapTag(ln); ok && off < c && string(t) == string(tag) {
			same++
		}
	}
	for off := 0; ; {
		ln, rest, ls := nextLine(server[off:], maxLine)
		switch ls {
		case lineShort:
			return c, -1, UpgradePending
		case lineBad:
			return -1, -1, UpgradeNone
		}
		off = lineEnd(server, rest)
		if len(ln) <= len(tag) || string(ln[:len(tag)]) != string(tag) || ln[len(tag)] != ' ' {
			continue
		}
		if same > 0 {
			same--
			continue
		}
		status := ln[len(tag)+1:]
		switch {
		case matchLit(status, "OK", true) == 1:
			return c, off, UpgradeDone
		case matchLit(status, "NO", true) == 1, matchLit(status, "BAD", true) == 1:
			return -1, -1, UpgradeRefused
		}
		return -1, -1, UpgradeNone
	}
}

// pop3Multiline reports whether a +OK answer to the POP3 command ln goes on
// for several lines, up to a line holding only "." (RFC 1939 §3, RFC 2449
// CAPA, RFC 5034 AUTH without a mechanism).
func pop3Multiline(ln []byte) bool {
	return isCommand(ln, "CAPA") || isCommand(ln, "AUTH") || isCommand(ln, "LIST") ||
		isCommand(ln, "UIDL") || matchLit(ln, "RETR ", true) == 1 || matchLit(ln, "TOP ", true) == 1
}

// pop3Reply reads one POP3 reply at the start of b; multi is whether a +OK
// reply carries a multi-line body. ok is true for +OK.
func pop3Reply(b []byte, multi bool) (end int, ok bool, st replyStatus) {
	ln, rest, ls := nextLine(b, maxLine)
	switch {
	case ls == lineBad:
		return 0, false, replyBad
	case ls == lineShort:
		return 0, false, replyShort
	case matchLit(ln, "-ERR", false) == 1:
		return lineEnd(b, rest), false, replyOK
	case matchLit(ln, "+OK", false) != 1:
		return 0, false, replyBad
	}
	end = lineEnd(b, rest)
	if !multi {
		return end, true, replyOK
	}
	for {
		ln, rest, ls := nextLine(b[end:], maxLine)
		switch ls {
		case lineBad:
			return 0, false, replyBad
		case lineShort:
			return 0, false, replyShort
		}
		end = lineEnd(b, rest)
		if len(ln) == 1 && ln[0] == '.' {
			return end, true, replyOK
		}
	}
}

// pop3StartTLS finds STLS and its +OK. The replies are matched to the
// commands before it one by one, since some of them have multi-line
// answers.
func pop3StartTLS(client, server []byte) (int, int, UpgradeState) {
	c := -1
	for off, n := 0, 0; c < 0; n++ {
		ln, rest, ls := nextLine(client[off:], maxLine)
		if ls != lineOK || n > maxPreUpgradeCommands {
			return -1, -1, UpgradeNone
		}
		off = lineEnd(client, rest)
		if isCommand(ln, "STLS") {
			c = off
		}
	}
	// The greeting.
	soff, ok, rs := pop3Reply(server, false)
	switch {
	case rs == replyShort:
		return c, -1, UpgradePending
	case rs == replyBad || !ok:
		return -1, -1, UpgradeNone
	}
	for coff := 0; ; {
		ln, rest, _ := nextLine(client[coff:], maxLine)
		coff = lineEnd(client, rest)
		stls := coff == c
		end, ok, rs := pop3Reply(server[soff:], !stls && pop3Multiline(ln))
		switch rs {
		case replyShort:
			return c, -1, UpgradePending
		case replyBad:
			return -1, -1, UpgradeNone
		}
		soff += end
		if stls {
			if ok {
				return c, soff, UpgradeDone
			}
			return -1, -1, UpgradeRefused
		}
	}
}

// ldapStartTLS finds the StartTLS extendedReq and the extendedResp with its
// message ID: resultCode success (0) starts TLS, any other refuses it.
func ldapStartTLS(client, server []byte) (int, int, UpgradeState) {
	id, c := -1, -1
	for off, n := 0, 0; c < 0; n++ {
		mid, op, body, rest, partial, s := ldapMessage(client[off:])
		if s != sideStrong || partial || n > maxPreUpgradeCommands {
			return -1, -1, UpgradeNone
		}
		off = lineEnd(client, rest)
		if op != 0x77 {
			continue
		}
		oid, _, s := ldapField(body, 0x80, false)
		if s == sideStrong && string(oid) == ldapStartTLSOID {
			id, c = mid, off
		}
	}
	for off := 0; ; {
		mid, op, body, rest, partial, s := ldapMessage(server[off:])
		switch {
		case s == sideEmpty, s == sidePrefix, s == sideStrong && partial:
			return c, -1, UpgradePending
		case s != sideStrong:
			return -1, -1, UpgradeNone
		}
		off = lineEnd(server, rest)
		if mid != id || op != 0x78 {
			continue
		}
		code, _, s := ldapInt(body, 0x0a, false)
		switch {
		case s != sideStrong:
			return -1, -1, UpgradeNone
		case code == 0:
			return c, off, UpgradeDone
		}
		return -1, -1, UpgradeRefused
	}
}

// xmlElement finds the first element named name (with its '<') in b whose
// start tag mentions ns, within maxXMLScan bytes. It returns the offset
// after the element (after "/>" or the end tag "</name>"), or -1 when it
// is not there (yet); short reports that b ends inside the element.
func xmlElement(b []byte, name, ns string) (end int, short bool) {
	n := len(b)
	if n > maxXMLScan {
		n = maxXMLScan
	}
	for i := 0; i < n; i++ {
		if b[i] != '<' {
			continue
		}
		switch matchLit(b[i:], name, false) {
		case -1:
			continue
		case 0:
			return -1, true
		}
		j := i + len(name)
		if j >= len(b) {
			return -1, true
		}
		if c := b[j]; c != ' ' && c != '/' && c != '>' && c != '\t' && c != '\r' && c != '\n' {
			continue
		}
		// The start tag runs to the first '>'.
		k := j
		for k < len(b) && b[k] != '>' {
			k++
		}
		if k == len(b) {
			return -1, true
		}
		if !containsFold(b[j:k], ns) {
			continue
		}
		if b[k-1] == '/' {
			return k + 1, false
		}
		// <name ...></name>, possibly with whitespace or children between.
		for m := k + 1; m < len(b); m++ {
			if b[m] == '<' && matchLit(b[m:], "</", false) == 1 {
				close := b[m+2:]
				switch matchLit(close, name[1:], false) {
				case 0:
					return -1, true
				case 1:
					r := close[len(name)-1:]
					if len(r) == 0 {
						return -1, true
					}
					if r[0] == '>' {
						return m + 2 + len(name) - 1 + 1, false
					}
				}
			}
		}
		return -1, true
	}
	return -1, len(b) < maxXMLScan
}

// skipXMLSpace moves off past XML white space.
func skipXMLSpace(b []byte, off int) int {
	for off < len(b) && (b[off] == ' ' || b[off] == '\t' || b[off] == '\r' || b[off] == '\n') {
		off++
	}
	return off
}

// xmppTLSNS is the namespace of the XMPP STARTTLS elements, upper case for
// containsFold.
const xmppTLSNS = "URN:IETF:PARAMS:XML:NS:XMPP-TLS"

// xmppStartTLS finds <starttls/> from the client and <proceed/> (or
// <failure/>) from the server in the xmpp-tls namespace.
func xmppStartTLS(client, server []byte) (int, int, UpgradeState) {
	c, _ := xmlElement(client, "<starttls", xmppTLSNS)
	if c < 0 {
		return -1, -1, UpgradeNone
	}
	c = skipXMLSpace(client, c)
	s, sShort := xmlElement(server, "<proceed", xmppTLSNS)
	f, fShort := xmlElement(server, "<failure", xmppTLSNS)
	switch {
	case f >= 0 && (s < 0 || f < s):
		return -1, -1, UpgradeRefused
	case s >= 0:
		return c, skipXMLSpace(server, s), UpgradeDone
	case sShort || fShort:
		return c, -1, UpgradePending
	}
	return -1, -1, UpgradeNone
}

// ircStartTLS finds STARTTLS and the server's numeric 670 RPL_STARTTLS
// (691 ERR_STARTTLS, or 421 unknown command, refuse it).
func ircStartTLS(client, server []byte) (int, int, UpgradeState) {
	c := -1
	for off, n := 0, 0; c < 0; n++ {
		ln, rest, ls := nextLine(client[off:], maxLine)
		if ls != lineOK || n > maxPreUpgradeCommands {
			return -1, -1, UpgradeNone
		}
		off = lineEnd(client, rest)
		if isCommand(ln, "STARTTLS") {
			c = off
		}
	}
	for off := 0; ; {
		ln, rest, ls := nextLine(server[off:], maxLine)
		switch ls {
		case lineShort:
			return c, -1, UpgradePending
		case lineBad:
			return -1, -1, UpgradeNone
		}
		off = lineEnd(server, rest)
		// ":prefix NNN ..." or "NNN ..." without a prefix.
		cmd := ln
		if len(cmd) > 0 && cmd[0] == ':' {
			i := 0
			for i < len(cmd) && cmd[i] != ' ' {
				i++
			}
			cmd = trimSpace(cmd[i:])
		}
		if len(cmd) < 3 || !replyCode(cmd) || (len(cmd) > 3 && cmd[3] != ' ') {
			continue
		}
		switch string(cmd[:3]) {
		case "670":
			return c, off, UpgradeDone
		case "691":
			return -1, -1, UpgradeRefused
		case "421":
			if containsFold(cmd, "STARTTLS") {
				return -1, -1, UpgradeRefused
			}
		}
	}
}

// The 8-byte PostgreSQL requests, as they appear on the wire.
const (
	pgSSLRequestBytes    = "\x00\x00\x00\x08\x04\xd2\x16\x2f"
	pgGSSENCRequestBytes = "\x00\x00\x00\x08\x04\xd2\x16\x30"
)

// pgStartTLS follows PostgreSQL's encryption negotiation: an SSLRequest
// answered 'S' starts TLS right after both; 'N' refuses. A GSSENCRequest
// answered 'N' may be followed by an SSLRequest (libpq's gssencmode=prefer);
// one answered 'G' starts GSSAPI encryption instead, which is not TLS.
func pgStartTLS(client, server []byte) (int, int, UpgradeState) {
	c, s := 0, 0
	for i := 0; i < 2; i++ {
		switch matchLit(client[c:], pgSSLRequestBytes, false) {
		case 0:
			return -1, -1, UpgradeNone
		case 1:
			c += len(pgSSLRequestBytes)
			if s >= len(server) {
				return c, -1, UpgradePending
			}
			switch server[s] {
			case 'S':
				return c, s + 1, UpgradeDone
			case 'N', 'E':
				// 'E': servers before 7.0 answered with an error.
				return -1, -1, UpgradeRefused
			}
			return -1, -1, UpgradeNone
		}
		if matchLit(client[c:], pgGSSENCRequestBytes, false) != 1 {
			return -1, -1, UpgradeNone
		}
		c += len(pgGSSENCRequestBytes)
		if s >= len(server) || server[s] != 'N' {
			return -1, -1, UpgradeNone
		}
		s++
	}
	return -1, -1, UpgradeNone
}

// mysqlStartTLS finds a server greeting offering CLIENT_SSL and the
// client's SSL request: a 32-byte packet with sequence 1 and CLIENT_SSL set
// (a HandshakeResponse41 cut short before the user name). TLS starts right
// after the greeting on the server side and after the request on the
// client side.
func mysqlStartTLS(client, server []byte) (int, int, UpgradeState) {
	gst, s, caps := mysqlGreeting(server)
	if gst != sideStrong || caps&mysqlClientSSL == 0 || len(server) < s {
		return -1, -1, UpgradeNone
	}
	if mysqlClientSide(client) != sideStrong || len(client) < 4 || le24(client) != 32 {
		return -1, -1, UpgradeNone
	}
	if le16(client[4:])&mysqlClientSSL == 0 {
		return -1, -1, UpgradeNone
	}
	return 4 + 32, s, UpgradeDone
}

// maxHTTPHeader bounds the header block searched for its end.
const maxHTTPHeader = 16384

// httpHeaderEnd returns the offset after the blank line that ends the
// header block at the start of b, or -1 when b ends before it (or it is
// longer than maxHTTPHeader). bad reports a block that cannot end.
func httpHeaderEnd(b []byte) (end int, bad bool) {
	n := len(b)
	if n > maxHTTPHeader {
		n = maxHTTPHeader
	}
	for i := 0; i < n; i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2, false
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3, false
		}
	}
	return -1, len(b) >= maxHTTPHeader
}

// httpContentLength returns the value of a Content-Length header in the
// header block h, 0 when there is none, or -1 when the body's length is
// not known that way (chunked, or an unreadable value).
func httpContentLength(h []byte) int {
	for len(h) > 0 {
		ln, rest, _ := nextLine(h, maxLine)
		h = rest
		if matchLit(ln, "TRANSFER-ENCODING:", true) == 1 {
			return -1
		}
		if matchLit(ln, "CONTENT-LENGTH:", true) != 1 {
			continue
		}
		v := trimSpace(ln[len("CONTENT-LENGTH:"):])
		n := 0
		for i, c := range v {
			if c == ' ' || c == '\t' {
				break
			}
			if !isDigit(c) || i > 9 {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	return 0
}

// httpConnectTLS follows HTTP CONNECT requests: each is answered with a
// status line and headers; a 2xx answer opens the tunnel, whose first
// bytes must then be TLS. A 407 (proxy authentication) may be followed by
// another CONNECT on the same connection, so it leaves the upgrade
// pending; another failure refuses the tunnel.
func httpConnectTLS(client, server []byte) (int, int, UpgradeState) {
	c, s := 0, 0
	for i := 0; i < 4; i++ {
		if matchLit(client[c:], "CONNECT ", false) != 1 {
			return -1, -1, UpgradeNone
		}
		ce, _ := httpHeaderEnd(client[c:])
		if ce < 0 {
			return -1, -1, UpgradeNone // not (yet) a complete request
		}
		c += ce
		rest := server[s:]
		if httpResponseSide(rest) != sideStrong || matchLit(rest, "HTTP/1.", false) != 1 {
			if len(rest) < 13 && (len(rest) == 0 || httpResponseSide(rest) == sidePrefix) {
				return c, -1, UpgradePending
			}
			return -1, -1, UpgradeNone
		}
		se, bad := httpHeaderEnd(rest)
		if se < 0 {
			if bad {
				return -1, -1, UpgradeNone
			}
			return c, -1, UpgradePending
		}
		code := int(rest[9]-'0')*100 + int(rest[10]-'0')*10 + int(rest[11]-'0')
		switch {
		case code >= 200 && code < 300:
			return c, s + se, UpgradeDone
		case code != 407:
			return -1, -1, UpgradeRefused
		}
		// 407: skip the body; the client may try again.
		body := httpContentLength(rest[:se])
		if body < 0 {
			return -1, -1, UpgradeRefused
		}
		s += se + body
		if s > len(server) {
			s = len(server)
		}
		if c == len(client) {
			return -1, -1, UpgradePending // a retry with credentials may come
		}
	}
	return -1, -1, UpgradeNone
}
