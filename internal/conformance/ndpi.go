package conformance

import (
	"bufio"
	"io"
	"net/netip"
	"regexp"
	"strings"
)

var (
	ndpiFlowLine   = regexp.MustCompile(`^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+(<->|->)\s+(\S+)\s+(.*)$`)
	ndpiVersionTag = regexp.MustCompile(`^(TLS|DTLS|SSL)v[0-9.]+( \(.*\))?$`)
)

// ndpiTLSMasters are nDPI master protocols that are TLS, DTLS or QUIC.
var ndpiTLSMasters = map[string]bool{
	"TLS": true, "DTLS": true, "QUIC": true, "IMAPS": true, "SMTPS": true, "POPS": true,
	"FTPS": true, "LDAPS": true,
}

// ndpiPlaintextMasters are nDPI master protocols that are clear text in tlsaudit's
// vocabulary.
var ndpiPlaintextMasters = map[string]bool{
	"HTTP": true, "DNS": true, "POP3": true, "IMAP": true, "SMTP": true, "FTP_CONTROL": true,
	"IRC": true, "PostgreSQL": true, "MySQL": true, "Redis": true, "LDAP": true, "Telnet": true,
}

// ParseNDPI reads the flow lines of an ndpiReader .out file.
//
// The version tag ([TLSv1.2], …) is taken only for bidirectional flows ("<->"): for a
// flow with one direction nDPI prints the ClientHello's version, not a negotiated one.
// The class is taken only when nDPI's confidence is "DPI" (not a port or IP guess).
func ParseNDPI(r io.Reader, file string) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 4<<20)
	for sc.Scan() {
		m := ndpiFlowLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		rec := Record{Source: "ndpi", File: file, Conn: Conn{Transport: strings.ToLower(m[1])}}
		a, errA := parseEndpoint(m[2])
		b, errB := parseEndpoint(m[4])
		if errA != nil || errB != nil {
			continue
		}
		rec.Conn.A, rec.Conn.PortA = a.Addr(), a.Port()
		rec.Conn.B, rec.Conn.PortB = b.Addr(), b.Port()
		bidir := m[3] == "<->"
		attrs := ndpiAttrs(m[5])
		master := ""
		if p, ok := attrs["proto"]; ok {
			// "91.220/TLS.Cloudflare", "GTP:30/DTLS": the name after "/", before ".".
			if _, name, ok := strings.Cut(p, "/"); ok {
				master, _, _ = strings.Cut(name, ".")
			}
		}
		version := attrs["\x00version"]
		quicVer := CanonicalQUICVersion(attrs["QUIC ver"])
		tlsish := ndpiTLSMasters[master] || version != "" || attrs["JA3C"] != "" || attrs["JA4"] != "" || quicVer != ""
		if master == "QUIC" || quicVer != "" {
			rec.Hints.QUIC, rec.Hints.QUICVersion = true, quicVer
		}
		if master == "DTLS" || strings.HasPrefix(version, "DTLS") {
			rec.Hints.DTLS = true
		}
		if bidir {
			rec.set(FieldVersion, CanonicalVersion(version))
		}
		rec.set(FieldQUICVersion, quicVer)
		if tlsish {
			rec.set(FieldSNI, canonicalHost(attrs["Hostname/SNI"]))
		}
		rec.set(FieldALPN, canonicalALPN(attrs["(Advertised) ALPNs"], ";"))
		rec.set(FieldALPNServer, strings.TrimSpace(attrs["(Negotiated) ALPN"]))
		rec.set(FieldJA3, canonicalHash(attrs["JA3C"]))
		rec.set(FieldJA3S, canonicalHash(attrs["JA3S"]))
		rec.set(FieldJA4, strings.TrimSpace(attrs["JA4"]))
		if attrs["Confidence"] == "DPI" {
			switch {
			case master == "QUIC" && isGoogleQUIC(quicVer):
				rec.set(FieldClass, "encrypted")
			case ndpiTLSMasters[master]:
				rec.set(FieldClass, "tls")
			case master == "SSH":
				rec.set(FieldClass, "ssh")
			case ndpiPlaintextMasters[master]:
				rec.set(FieldClass, "plaintext")
			}
		}
		if len(rec.Values) > 0 {
			out = append(out, rec)
		}
	}
	return out, sc.Err()
}

// ndpiAttrs splits "[k: v][Tag]…" into a map; bare tags that are a TLS version go
// under the key "\x00version".
func ndpiAttrs(s string) map[string]string {
	out := map[string]string{}
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth == 0 {
				start = i + 1
			}
			depth++
		case ']':
			if depth == 0 {
				continue
			}
			depth--
			if depth == 0 && start >= 0 {
				item := s[start:i]
				if k, v, ok := strings.Cut(item, ": "); ok {
					if _, dup := out[k]; !dup {
						out[k] = v
					}
				} else if ndpiVersionTag.MatchString(item) {
					out["\x00version"] = item
				}
				start = -1
			}
		}
	}
	return out
}

// parseEndpoint reads "1.2.3.4:443" or "[2001:db8::1]:443".
func parseEndpoint(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
