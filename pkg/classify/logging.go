package classify

// Recognisers of logging and metrics protocols: syslog (UDP and TCP) and
// statsd/DogStatsD.

// Syslog (RFC 5424 §6, RFC 3164 §4.1; over TCP RFC 6587 §3.4).

// Limits of the syslog recogniser.
const (
	maxSyslogPri    = 191  // facility 23, severity 7 (RFC 5424 §6.2.1)
	maxSyslogFrame  = 8192 // longest octet-counted frame accepted (RFC 6587 §3.4.1 leaves it open)
	syslogTextCheck = 64   // bytes after the header that must be text
)

// syslogMonths are the month names of an RFC 3164 TIMESTAMP (§4.1.2).
var syslogMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// syslogMessage judges one syslog message at the start of b: a PRI of 0-191
// without leading zeros, then either an RFC 5424 header (VERSION 1, SP, a
// NILVALUE or a full-date TIMESTAMP) or an RFC 3164 TIMESTAMP ("Mmm dd
// hh:mm:ss"), then text. Messages that relays pass on without a timestamp
// are not taken: a PRI alone is too little.
func syslogMessage(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] != '<' {
		return sideNo
	}
	pri, i := 0, 1
	for ; i < len(b) && i <= 4 && isDigit(b[i]); i++ {
		pri = pri*10 + int(b[i]-'0')
	}
	switch {
	case i == len(b) && i <= 4:
		return sidePrefix
	case i == 1 || i > 4 || b[i] != '>' || pri > maxSyslogPri || (b[1] == '0' && i > 2):
		return sideNo
	}
	h := b[i+1:]
	var st side
	if len(h) > 0 && h[0] == '1' {
		st = syslog5424Header(h)
	} else {
		st = syslog3164Header(h)
	}
	if st != sideStrong {
		return st
	}
	if !isTextBlock(h[:min(len(h), syslogTextCheck)]) {
		return sideNo
	}
	return sideStrong
}

// syslog5424Header checks "1 " and a TIMESTAMP: "-" or "YYYY-MM-DDT".
func syslog5424Header(h []byte) side {
	const shape = "1 dddd-dd-ddT"
	if len(h) >= 3 && h[1] == ' ' && h[2] == '-' {
		if len(h) > 3 && h[3] != ' ' {
			return sideNo
		}
		return sideStrong
	}
	return matchShape(h, shape)
}

// syslog3164Header checks a TIMESTAMP "Mmm dd hh:mm:ss " (the day padded
// with a space, not a zero).
func syslog3164Header(h []byte) side {
	if len(h) < 3 {
		for _, m := range syslogMonths {
			if matchLit(h, m, false) >= 0 {
				return sidePrefix
			}
		}
		return sideNo
	}
	month := false
	for _, m := range syslogMonths {
		if string(h[:3]) == m {
			month = true
			break
		}
	}
	if !month {
		return sideNo
	}
	if len(h) > 4 && h[4] == ' ' {
		return matchShape(h[3:], "  d dd:dd:dd ")
	}
	return matchShape(h[3:], " dd dd:dd:dd ")
}

// matchShape compares b with a pattern where 'd' stands for a digit and
// every other byte for itself.
func matchShape(b []byte, shape string) side {
	for i := 0; i < len(shape); i++ {
		if i >= len(b) {
			return sidePrefix
		}
		if shape[i] == 'd' {
			if !isDigit(b[i]) {
				return sideNo
			}
		} else if b[i] != shape[i] {
			return sideNo
		}
	}
	return sideStrong
}

// syslogStreamSide judges the client side of syslog over TCP: a message
// framed by octet counting ("MSG-LEN SP SYSLOG-MSG", RFC 6587 §3.4.1) or by
// a trailing LF (§3.4.2, which starts with the PRI directly).
func syslogStreamSide(b []byte) side {
	if len(b) == 0 {
		return sideEmpty
	}
	if b[0] == '<' {
		return syslogMessage(b)
	}
	n, i := 0, 0
	for ; i < len(b) && i < 6 && isDigit(b[i]); i++ {
		n = n*10 + int(b[i]-'0')
	}
	switch {
	case i == 0 || b[0] == '0' || i == 6:
		return sideNo
	case i == len(b):
		return sidePrefix
	case b[i] != ' ' || n > maxSyslogFrame || n < 4:
		return sideNo
	}
	msg := b[i+1:]
	return syslogMessage(msg[:min(len(msg), n)])
}

// detectSyslogStream recognises syslog over TCP: the sender's messages and
// nothing from the receiver, which never answers.
func detectSyslogStream(client, server []byte) result {
	if len(server) > 0 {
		return resNo
	}
	return combine(syslogStreamSide(client), sideEmpty)
}

// detectSyslogDatagram recognises a syslog datagram; receivers send nothing
// back.
func detectSyslogDatagram(client, server []byte) (result, Class) {
	return oneWay(syslogMessage(client), server)
}

// statsd (github.com/statsd/statsd docs/metric_types.md) and DogStatsD
// (docs.datadoghq.com "Datagram Format").

// statsdTypes are the metric types after the '|' of a statsd line.
var statsdTypes = [...]string{"c", "g", "ms", "h", "s", "d", "t"}

// statsdLine checks one line "name:value|type[|@rate][|#tags][|c:id]"; a
// DogStatsD event ("_e{") or service check ("_sc|") counts too.
func statsdLine(ln []byte) bool {
	if hasPrefix(ln, "_e{") || hasPrefix(ln, "_sc|") {
		return isTextLine(ln)
	}
	colon := -1
	for i, c := range ln {
		if c == ':' {
			colon = i
			break
		}
		if !isStatsdNameChar(c) {
			return false
		}
	}
	if colon < 1 {
		return false
	}
	v := ln[colon+1:]
	bar := -1
	for i, c := range v {
		if c == '|' {
			bar = i
			break
		}
	}
	if bar < 1 {
		return false
	}
	t := v[bar+1:]
	end := len(t)
	for i, c := range t {
		if c == '|' {
			end = i
			break
		}
	}
	known := false
	for _, s := range statsdTypes {
		if string(t[:end]) == s {
			known = true
			break
		}
	}
	if !known || !isTextLine(t[end:]) {
		return false
	}
	if string(t[:end]) == "s" {
		return isTextLine(v[:bar]) // sets count any value
	}
	return isStatsdNumber(v[:bar])
}

// isStatsdNameChar reports whether c may appear in a metric name.
func isStatsdNameChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '-' || c == '/'
}

// isStatsdNumber reports whether v is a decimal number, with an optional
// sign (gauge deltas) and fraction.
func isStatsdNumber(v []byte) bool {
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		v = v[1:]
	}
	digits, dot := 0, false
	for _, c := range v {
		switch {
		case isDigit(c):
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// everyLine accepts a datagram whose lines (the first maxDatagramLines of
// them) line accepts.
func everyLine(b []byte, line func([]byte) bool) side {
	if len(b) == 0 {
		return sideEmpty
	}
	for n := 0; len(b) > 0 && n < maxDatagramLines; n++ {
		ln, rest, st := nextLine(b, maxLine)
		if st == lineBad || !line(ln) {
			return sideNo
		}
		b = rest
	}
	return sideStrong
}

// maxDatagramLines bounds the lines of a datagram that everyLine checks.
const maxDatagramLines = 64

// oneWay is the result for a protocol whose receiver never answers: the
// sender's evidence c, and any reply contradicts it.
func oneWay(c side, server []byte) (result, Class) {
	if len(server) > 0 {
		return resNo, ClassUnknown
	}
	return combine(c, sideEmpty), ClassPlaintext
}

// detectStatsd recognises a statsd datagram; the daemon never answers.
func detectStatsd(client, server []byte) (result, Class) {
	return oneWay(everyLine(client, statsdLine), server)
}

// InfluxDB line protocol (docs.influxdata.com, "Line protocol"), as
// Telegraf and InfluxDB 1.x's UDP listener speak it.

// influxLine checks "measurement[,tag=value...] field=value[,field=value...]
// [timestamp]": a measurement name, key=value tag and field sets without
// unescaped spaces, field values that are numbers (with an i or u suffix),
// booleans or quoted strings, and a decimal timestamp.
func influxLine(ln []byte) bool {
	// Split off the three space-separated parts; a backslash escapes a space
	// and a quoted field value may hold spaces.
	var parts [3][]byte
	n, start, quoted := 0, 0, false
	for i := 0; i <= len(ln); i++ {
		if i < len(ln) {
			c := ln[i]
			switch {
			case c == '\\' && !quoted:
				i++
				continue
			case c == '"':
				quoted = !quoted
				continue
			case c != ' ' || quoted:
				continue
			}
		}
		if n == len(parts) {
			return false
		}
		parts[n], n, start = ln[start:i], n+1, i+1
	}
	if n < 2 || quoted {
		return false
	}
	head, fields, ts := parts[0], parts[1], parts[2]
	if len(head) == 0 || head[0] == ',' || head[0] == '#' || !isTextLine(head) {
		return false
	}
	for i, c := range head {
		if c == ',' && i > 0 && head[i-1] != '\\' && !influxPairs(head[i+1:], false) {
			return false
		}
		if c == ',' {
			break
		}
	}
	if !influxPairs(fields, true) {
		return false
	}
	for _, c := range ts {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// influxPairs checks a comma-separated list of key=value pairs; field
// values must be typed.
func influxPairs(b []byte, field bool) bool {
	for len(b) > 0 {
		end := len(b)
		quoted := false
		for i := 0; i < len(b); i++ {
			if b[i] == '"' {
				quoted = !quoted
			} else if b[i] == ',' && !quoted && (i == 0 || b[i-1] != '\\') {
				end = i
				break
			}
		}
		pair := b[:end]
		eq := -1
		for i, c := range pair {
			if c == '=' && (i == 0 || pair[i-1] != '\\') {
				eq = i
				break
			}
		}
		if eq < 1 || eq == len(pair)-1 {
			return false
		}
		if field && !influxValue(pair[eq+1:]) {
			return false
		}
		if end == len(b) {
			break
		}
		b = b[end+1:]
	}
	return true
}

// influxValue reports whether v is a typed field value: a float, an
// integer with i or u, a boolean, or a double-quoted string.
func influxValue(v []byte) bool {
	switch string(v) {
	case "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE":
		return true
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return true
	}
	if last := v[len(v)-1]; last == 'i' || last == 'u' {
		v = v[:len(v)-1]
	}
	return isStatsdNumber(v)
}

// detectInflux recognises line protocol datagrams; the listener never
// answers.
func detectInflux(client, server []byte) (result, Class) {
	return oneWay(everyLine(client, influxLine), server)
}
