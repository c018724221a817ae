package conformance

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Conn says which connection(s) of a capture a reference record is about. Every part
// is optional: a Zeek ssl.log row names the full 4-tuple but not the transport, a
// Suricata check may name only a destination port, a Zeek .cut file nothing at all.
// Endpoints match in either direction.
type Conn struct {
	Transport string // "tcp", "udp" or "" for either
	A, B      netip.Addr
	PortA     uint16
	PortB     uint16
}

// Full reports whether c names both addresses and both ports.
func (c Conn) Full() bool {
	return c.A.IsValid() && c.B.IsValid() && c.PortA != 0 && c.PortB != 0
}

// Any reports whether c constrains nothing but maybe the transport.
func (c Conn) Any() bool {
	return !c.A.IsValid() && !c.B.IsValid() && c.PortA == 0 && c.PortB == 0
}

// String writes c as "tcp 10.0.0.1:1234 ↔ 10.0.0.2:443", with "*" for what it leaves
// open, in a stable order.
func (c Conn) String() string {
	ep := func(a netip.Addr, p uint16) string {
		as, ps := "*", "*"
		if a.IsValid() {
			as = a.String()
			if a.Is6() {
				as = "[" + as + "]"
			}
		}
		if p != 0 {
			ps = fmt.Sprint(p)
		}
		return as + ":" + ps
	}
	t := c.Transport
	if t == "" {
		t = "tcp/udp"
	}
	if c.Any() {
		return "any " + t + " connection"
	}
	return t + " " + ep(c.A, c.PortA) + " ↔ " + ep(c.B, c.PortB)
}

// matchesEndpoints reports whether client and server fit c in either direction.
func (c Conn) matchesEndpoints(transport string, client, server netip.AddrPort) bool {
	if c.Transport != "" && c.Transport != transport {
		return false
	}
	fit := func(a netip.Addr, p uint16, ap netip.AddrPort) bool {
		return (!a.IsValid() || a == ap.Addr()) && (p == 0 || p == ap.Port())
	}
	return (fit(c.A, c.PortA, client) && fit(c.B, c.PortB, server)) ||
		(fit(c.A, c.PortA, server) && fit(c.B, c.PortB, client))
}

// tupleKey is the direction-free key of a full Conn, without the transport.
func tupleKey(a netip.AddrPort, b netip.AddrPort) string {
	x, y := a.String(), b.String()
	if a.Addr().Less(b.Addr()) || (a.Addr() == b.Addr() && a.Port() < b.Port()) {
		return x + " " + y
	}
	return y + " " + x
}

// Record is one statement of one reference file about one connection: the values it
// gives for some fields. Hints carry what the reference says about the connection
// beyond the compared fields (that it is QUIC or DTLS), used to explain
// disagreements.
type Record struct {
	Source  string // reference source, see Sources
	File    string // reference file, relative to the corpus
	Capture string // capture path, relative to the corpus
	Conn    Conn
	Values  map[Field]Value
	Hints   Hints
}

// Hints are facts a reference states about a connection that explain tlsaudit's
// disagreements without being compared themselves.
type Hints struct {
	QUIC        bool   // the reference saw QUIC
	QUICVersion string // canonical, when stated
	DTLS        bool   // the reference saw DTLS
}

func (h *Hints) merge(o Hints) {
	h.QUIC = h.QUIC || o.QUIC
	h.DTLS = h.DTLS || o.DTLS
	if h.QUICVersion == "" {
		h.QUICVersion = o.QUICVersion
	}
}

// set records value s for field f; an empty s states nothing.
func (r *Record) set(f Field, s string) {
	if s == "" {
		return
	}
	if r.Values == nil {
		r.Values = make(map[Field]Value)
	}
	v := r.Values[f]
	v.add(s)
	r.Values[f] = v
}

// setPrefix records an ALPN list of which only the first entries are known.
func (r *Record) setPrefix(f Field, s string) {
	if s == "" {
		return
	}
	r.set(f, s+PrefixMark)
}

// stated lists the fields r gives a value for, in report order.
func (r *Record) stated() []Field {
	var fs []Field
	for _, f := range Fields {
		if _, ok := r.Values[f]; ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// Sources lists the reference sources in report order, with what each one is.
var Sources = []struct{ Name, What string }{
	{"zeek", "Zeek btest baselines: ssl.log, conn.log, quic.log and their .cut subsets"},
	{"suricata", "suricata-verify test.yaml checks on EVE tls/quic/alert records"},
	{"arkime", "Arkime .test session JSON"},
	{"ndpi", "nDPI ndpiReader .out flow lines"},
	{"ja4-rust", "FoxIO JA4 Rust insta snapshots (.snap)"},
	{"ja4-python", "FoxIO JA4 Python test JSON"},
	{"ja4-zeek", "Zeek logs of the FoxIO JA4 Zeek package"},
	{"ja3", "salesforce/ja3 Zeek ssl.log baselines with a ja3 column"},
	{"tshark", "tshark 4.0 ClientHello/ServerHello rows (<capture>.tshark.tsv, decode-as variant when present)"},
}

// sortRecords orders records by capture, source, file and connection for stable output.
func sortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Capture != b.Capture {
			return a.Capture < b.Capture
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Conn.String() < b.Conn.String()
	})
}

// splitList splits a comma-joined tshark or Zeek field.
func splitList(s string) []string {
	if s == "" || s == "-" || s == "(empty)" {
		return nil
	}
	return strings.Split(s, ",")
}
