package classify

// Recognisers of voice and video signalling: SIP (RFC 3261 §7), over UDP and TCP.

// sipMethods are the SIP request methods: RFC 3261 §7.1 and the extensions
// of RFC 3262 (PRACK), 3311 (UPDATE), 3428 (MESSAGE), 3515 (REFER), 3903
// (PUBLISH), 6086 (INFO) and 6665 (SUBSCRIBE, NOTIFY).
var sipMethods = [...]string{
	"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "UPDATE",
	"MESSAGE", "REFER", "PUBLISH", "INFO", "SUBSCRIBE", "NOTIFY",
}

// sipStartLine judges the first line of a SIP message: a Request-Line
// "METHOD SP Request-URI SP SIP/2.0" (§7.1) with a known method and a sip:,
// sips: or tel: URI, or a Status-Line "SIP/2.0 SP ddd SP reason" (§7.2).
func sipStartLine(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	ln, _, st := nextLine(b, maxLine)
	if st == lineBad || !isTextLine(ln) {
		return sideNo
	}
	if m := matchLit(ln, "SIP/2.0 ", false); m >= 0 {
		if m == 0 || len(ln) < 12 {
			return partialLine(st)
		}
		if !isDigit(ln[8]) || !isDigit(ln[9]) || !isDigit(ln[10]) || ln[8] < '1' || ln[8] > '6' || ln[11] != ' ' {
			return sideNo
		}
		return completeLine(st)
	}
	sp := -1
	for i, c := range ln {
		if c == ' ' {
			sp = i
			break
		}
		if c < 'A' || c > 'Z' {
			return sideNo
		}
	}
	if sp < 0 {
		if len(ln) <= len("SUBSCRIBE") {
			return partialLine(st)
		}
		return sideNo
	}
	known := false
	for _, m := range sipMethods {
		if string(ln[:sp]) == m {
			known = true
			break
		}
	}
	if !known {
		return sideNo
	}
	uri := ln[sp+1:]
	if matchLit(uri, "SIP:", true) != 1 && matchLit(uri, "SIPS:", true) != 1 && matchLit(uri, "TEL:", true) != 1 {
		return partialLine(st)
	}
	end := len(uri) - len(" SIP/2.0")
	if end < 5 || string(uri[end:]) != " SIP/2.0" {
		return partialLine(st)
	}
	return completeLine(st)
}

// partialLine is sidePrefix while the line may still grow, else sideNo.
func partialLine(st lineStatus) side {
	if st == lineShort {
		return sidePrefix
	}
	return sideNo
}

// completeLine is sideStrong for a whole line, sidePrefix for a cut one.
func completeLine(st lineStatus) side {
	if st == lineShort {
		return sidePrefix
	}
	return sideStrong
}

// detectSIPStream recognises SIP over TCP.
func detectSIPStream(client, server []byte) result {
	return combine(sipStartLine(client), sipStartLine(server))
}

// detectSIPDatagram recognises SIP over UDP.
func detectSIPDatagram(client, server []byte) (result, Class) {
	return combine(sipStartLine(client), sipStartLine(server)), ClassPlaintext
}
