package classify

// Recognisers of mail protocols: SMTP/LMTP, IMAP and POP3.

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
