package conformance

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// ParseJA4Snapshot reads a FoxIO JA4 Rust insta snapshot: YAML after the "---"
// header, a list with one entry per stream. It uses transport, src, dst, src_port,
// dst_port, tls_server_name and ja4 (JA4S and the other JA4+ methods have no
// counterpart in tlsaudit).
func ParseJA4Snapshot(src, file string) ([]Record, error) {
	// The insta header is a YAML document of its own: skip to the second "---".
	body := src
	if strings.HasPrefix(body, "---") {
		if i := strings.Index(body[3:], "\n---"); i >= 0 {
			body = body[3+i+4:]
		}
	}
	root, err := parseYAML(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if root.kind != 'l' {
		return nil, nil // an empty snapshot
	}
	var out []Record
	for _, st := range root.List {
		r := Record{Source: "ja4-rust", File: file}
		switch t := st.get("transport").str(); t {
		case "tcp":
			r.Conn.Transport = "tcp"
		case "udp":
			r.Conn.Transport = "udp"
		case "quic":
			r.Conn.Transport, r.Hints.QUIC = "udp", true
		}
		r.Conn.A, _ = netip.ParseAddr(st.get("src").str())
		r.Conn.B, _ = netip.ParseAddr(st.get("dst").str())
		r.Conn.PortA = parsePort(st.get("src_port").str())
		r.Conn.PortB = parsePort(st.get("dst_port").str())
		r.set(FieldSNI, canonicalHost(st.get("tls_server_name").str()))
		ja4 := st.get("ja4").str()
		r.set(FieldJA4, ja4)
		ja4Hints(&r, ja4)
		if len(r.Values) > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

// ParseJA4Python reads the JSON the FoxIO JA4 Python implementation writes for a
// capture: one object per stream, with JA4.1, JA4.2, … for successive handshakes and
// domain for the SNI. The transport is not given; a JA4 starting with q or d means
// UDP, t means TCP.
func ParseJA4Python(data []byte, file string) ([]Record, error) {
	var streams []map[string]any
	if err := json.Unmarshal(data, &streams); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []Record
	for _, st := range streams {
		str := func(k string) string {
			switch v := st[k].(type) {
			case string:
				return v
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			}
			return ""
		}
		r := Record{Source: "ja4-python", File: file}
		r.Conn.A, _ = netip.ParseAddr(str("src"))
		r.Conn.B, _ = netip.ParseAddr(str("dst"))
		r.Conn.PortA = parsePort(str("srcport"))
		r.Conn.PortB = parsePort(str("dstport"))
		var keys []string
		for k := range st {
			if strings.HasPrefix(k, "JA4.") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			ja4 := str(k)
			r.set(FieldJA4, ja4)
			ja4Hints(&r, ja4)
		}
		if len(keys) > 0 {
			r.set(FieldSNI, canonicalHost(str("domain")))
		}
		if len(r.Values) > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

// ja4Hints sets the transport and hints a JA4's protocol letter implies.
func ja4Hints(r *Record, ja4 string) {
	switch {
	case strings.HasPrefix(ja4, "q"):
		r.Conn.Transport, r.Hints.QUIC = "udp", true
	case strings.HasPrefix(ja4, "d"):
		r.Conn.Transport, r.Hints.DTLS = "udp", true
	case strings.HasPrefix(ja4, "t") && r.Conn.Transport == "":
		r.Conn.Transport = "tcp"
	}
}

func parsePort(s string) uint16 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}
