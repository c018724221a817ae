package classify

// Recognisers of the web family: HTTP/1.x and HTTP/2 over cleartext TCP.

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
