package classify

// Recognisers of chat protocols: IRC and XMPP.

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
