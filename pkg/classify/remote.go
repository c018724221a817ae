package classify

// Recognisers of remote-shell protocols: SSH's clear identification exchange and Telnet.

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
