package report

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The appenders below write JSON values exactly as encoding/json's Encoder spells them
// (HTML-safe escapes, invalid UTF-8 as U+FFFD, times as RFC 3339 with nanoseconds), so
// that a flow written without reflection reads and compares byte for byte like one
// written by encoding/json. FuzzAppendJSONString and TestAppendFlowMatchesEncodingJSON
// hold them to it.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Capture data (SNI, names, certificate
// subjects) reaches it, so every byte is escaped as encoding/json would escape it.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default: // other control bytes and the HTML-significant <, > and &
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // line separators that break JavaScript
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONTime appends t as time.Time.MarshalJSON spells it.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// layout is how a JSON object is spread over lines: compact, or indented by two
// spaces a level as encoding/json's Indent lays it out, with members at depth.
type layout struct {
	indented bool
	depth    int
}

var (
	// compactLayout writes one object on one line, as json.Marshal does.
	compactLayout = layout{}
	// documentFlowLayout writes a flow as an element of the json document's flows list:
	// the object at depth 2, its members at depth 3.
	documentFlowLayout = layout{indented: true, depth: 3}
)

// newlineAndSpaces holds every indentation a report's objects need.
const newlineAndSpaces = "\n                "

// nl is what goes before a member: a newline and its indentation, or nothing.
func (l layout) nl() string {
	if !l.indented {
		return ""
	}
	return newlineAndSpaces[:1+2*l.depth]
}

func (l layout) colon() string {
	if l.indented {
		return ": "
	}
	return ":"
}

func (l layout) deeper() layout { return layout{indented: l.indented, depth: l.depth + 1} }

// objectWriter appends the members of one JSON object.
type objectWriter struct {
	b     []byte
	empty bool
	l     layout
}

func openObject(b []byte, l layout) objectWriter {
	return objectWriter{b: append(b, '{'), empty: true, l: l}
}

// close ends the object, on a line of its own indented one level less than its
// members, when it has any.
func (o *objectWriter) close() []byte {
	if !o.empty && o.l.indented {
		o.b = append(o.b, layout{indented: true, depth: o.l.depth - 1}.nl()...)
	}
	return append(o.b, '}')
}

func (o *objectWriter) key(k string) {
	if !o.empty {
		o.b = append(o.b, ',')
	}
	o.empty = false
	o.b = append(o.b, o.l.nl()...)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...) // keys are constants of this package: nothing to escape
	o.b = append(o.b, '"')
	o.b = append(o.b, o.l.colon()...)
}

func (o *objectWriter) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

// strOmit writes a member tagged omitempty: nothing when v is empty.
func (o *objectWriter) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *objectWriter) boolean(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *objectWriter) boolOmit(k string, v bool) {
	if v {
		o.boolean(k, v)
	}
}

// optBool writes a *bool member: null when nil.
func (o *objectWriter) optBool(k string, v *bool) {
	if v == nil {
		o.key(k)
		o.b = append(o.b, "null"...)
		return
	}
	o.boolean(k, *v)
}

func (o *objectWriter) uint(k string, v uint64) {
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

func (o *objectWriter) time(k string, t time.Time) {
	o.key(k)
	o.b = appendJSONTime(o.b, t)
}

// strings writes a list of strings; nil is null, as encoding/json writes it.
func (o *objectWriter) strings(k string, list []string) {
	o.key(k)
	switch {
	case list == nil:
		o.b = append(o.b, "null"...)
		return
	case len(list) == 0:
		o.b = append(o.b, "[]"...)
		return
	}
	o.b = append(o.b, '[')
	for i, s := range list {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, o.l.deeper().nl()...)
		o.b = appendJSONString(o.b, s)
	}
	o.b = append(o.b, o.l.nl()...)
	o.b = append(o.b, ']')
}

// object starts a member whose value is an object, laid out one level deeper; the
// caller fills it and hands back what its close returns.
func (o *objectWriter) object(k string) objectWriter {
	o.key(k)
	return openObject(o.b, o.l.deeper())
}

// appendFlowJSON appends f as one JSON object laid out by l, with the members, order
// and omissions of Flow's struct tags.
func appendFlowJSON(b []byte, f *Flow, l layout) []byte {
	o := openObject(b, l)
	o.str("transport", f.Transport)
	o.str("client", f.Client)
	o.str("server", f.Server)
	o.time("first_seen", f.FirstSeen)
	o.time("last_seen", f.LastSeen)
	o.uint("packets", f.Packets)
	o.uint("bytes", f.Bytes)
	o.str("class", f.Class)
	o.str("tls_version", f.TLSVersion)
	o.strOmit("tls_version_detail", f.TLSVersionDetail)
	o.str("app_protocol", f.AppProtocol)
	o.boolean("starttls", f.StartTLS)
	o.str("sni", f.SNI)
	o.strings("alpn", f.ALPN)
	o.str("alpn_selected", f.ALPNSelected)
	o.str("cipher", f.Cipher)
	o.str("group", f.Group)
	o.str("ja3", f.JA3)
	o.str("ja3s", f.JA3S)
	o.str("ja4", f.JA4)
	o.strOmit("ja3_string", f.JA3String)
	o.strOmit("ja3s_string", f.JA3SString)
	o.strOmit("ja4_r", f.JA4Raw)
	o.boolean("resumed", f.Resumed)
	o.boolean("hrr", f.HRR)
	o.optBool("client_cert", f.ClientCert)
	o.boolean("ech", f.ECH)
	o.boolean("post_quantum", f.PostQuantum)
	o.boolOmit("heartbeat", f.Heartbeat)
	o.boolOmit("heartbeat_accepted", f.HeartbeatAccepted)
	if c := f.ServerCert; c != nil {
		cert := o.object("server_cert")
		cert.str("subject", c.Subject)
		cert.str("issuer", c.Issuer)
		cert.time("not_after", c.NotAfter)
		o.b = cert.close()
	}
	o.boolean("internal", f.Internal)
	o.str("client_name", f.ClientName)
	o.str("server_name", f.ServerName)
	o.strOmit("client_namespace", f.ClientNamespace)
	o.strOmit("client_workload", f.ClientWorkload)
	o.strOmit("client_kind", f.ClientKind)
	o.strOmit("client_pod", f.ClientPod)
	o.strOmit("server_namespace", f.ServerNamespace)
	o.strOmit("server_workload", f.ServerWorkload)
	o.strOmit("server_kind", f.ServerKind)
	o.strOmit("server_pod", f.ServerPod)
	o.strOmit("server_service", f.ServerService)
	o.boolean("midstream", f.Midstream)
	o.strOmit("via", f.Via)
	o.strOmit("quic_version", f.QUICVersion)
	o.strOmit("reason", f.Reason)
	o.strOmit("parse_error", f.ParseError)
	o.strOmit("violation", f.Violation)
	o.strOmit("exempt", f.Exempt)
	o.optBool("client_cert_requested", f.ClientCertRequested)
	o.str("client_auth_evidence", f.ClientAuthEvidence)
	o.strings("offered_versions", f.OfferedVersions)
	o.optBool("client_allows_legacy", f.ClientAllowsLegacy)
	o.boolean("server_lacks_tls13", f.ServerLacksTLS13)
	o.boolean("fallback_scsv", f.FallbackSCSV)
	o.str("mesh", f.Mesh)
	return o.close()
}
