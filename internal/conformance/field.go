package conformance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// Field names one property of a connection that a reference states and tlsaudit's
// verdict can be compared with.
type Field string

// The compared fields. Their string values are the column names in the report and
// the keys of the baseline.
const (
	// FieldClass is the top-level verdict: tls, plaintext, ssh or encrypted.
	FieldClass Field = "class"
	// FieldVersion is the negotiated TLS/DTLS version (ServerHello), canonical
	// spelling as written by CanonicalVersion.
	FieldVersion Field = "version"
	// FieldSNI is the server_name the client sent (lower case).
	FieldSNI Field = "sni"
	// FieldALPN is the ALPN list the client offered, comma-joined in order.
	FieldALPN Field = "alpn"
	// FieldALPNServer is the protocol the server selected.
	FieldALPNServer Field = "alpn_server"
	// FieldJA3 is the JA3 MD5 of the ClientHello.
	FieldJA3 Field = "ja3"
	// FieldJA3S is the JA3S MD5 of the ServerHello.
	FieldJA3S Field = "ja3s"
	// FieldJA4 is the JA4 (client) fingerprint.
	FieldJA4 Field = "ja4"
	// FieldStartTLS is "true" when a clear-text protocol upgraded to TLS, "false"
	// when TLS started directly.
	FieldStartTLS Field = "starttls"
	// FieldQUICVersion is the QUIC version as CanonicalQUICVersion spells it.
	FieldQUICVersion Field = "quic_version"
)

// Fields lists every compared field in report order.
var Fields = []Field{
	FieldClass, FieldVersion, FieldSNI, FieldALPN, FieldALPNServer,
	FieldJA3, FieldJA3S, FieldJA4, FieldStartTLS, FieldQUICVersion,
}

// Value is what a reference states for one field of one connection: any of Any is
// acceptable (a connection with two handshakes, or two reference files, may state two
// values). An ALPN value ending in PrefixMark pins only the first entries of the list.
type Value struct {
	Any []string
}

// PrefixMark ends an ALPN value of which only the first entries are known (Zeek's
// quic.log names the first protocol, Suricata checks list indexes).
const PrefixMark = ",…"

// add appends s to v.Any unless it is empty or already there.
func (v *Value) add(s string) {
	if s == "" {
		return
	}
	for _, x := range v.Any {
		if x == s {
			return
		}
	}
	v.Any = append(v.Any, s)
}

// String joins the alternatives with " | ".
func (v Value) String() string { return strings.Join(v.Any, " | ") }

// Matches reports whether tlsaudit's value ours satisfies v for field f.
func (v Value) Matches(f Field, ours string) bool {
	for _, ref := range v.Any {
		if matchOne(f, ref, ours) {
			return true
		}
	}
	return false
}

// matchOne compares one canonical reference value with a canonical value that is
// not a prefix (tlsaudit's, or another reference's).
func matchOne(f Field, ref string, ours string) bool {
	switch f {
	case FieldVersion:
		return versionsMatch(ref, ours)
	case FieldALPN:
		if p, ok := strings.CutSuffix(ref, PrefixMark); ok {
			return ours == p || strings.HasPrefix(ours, p+",")
		}
	}
	return ref == ours
}

// valuesConflict reports whether two references' values for f cannot both be right.
func valuesConflict(f Field, a, b Value) bool {
	for _, x := range a.Any {
		for _, y := range b.Any {
			px, xp := strings.CutSuffix(x, PrefixMark)
			py, yp := strings.CutSuffix(y, PrefixMark)
			switch {
			case xp && yp:
				if px == py || strings.HasPrefix(px, py+",") || strings.HasPrefix(py, px+",") {
					return false
				}
			case matchOne(f, x, y), matchOne(f, y, x):
				return false
			}
		}
	}
	return true
}

// versionsMatch compares canonical versions: the families must be equal, and the
// TLS 1.3 pre-standard variants too when both sides name one.
func versionsMatch(a, b string) bool {
	fa, va, _ := strings.Cut(a, "-")
	fb, vb, _ := strings.Cut(b, "-")
	if fa != fb {
		return false
	}
	return va == "" || vb == "" || va == vb
}

// CanonicalVersion maps any reference's spelling of a TLS, SSL or DTLS version to
// one form: SSL2, SSL3, TLS1.0 … TLS1.3, DTLS1.0, DTLS1.2, DTLS1.3, with TLS 1.3
// pre-standard code points as TLS1.3-draftNN, TLS1.3-fb-draftNN or TLS1.3-exp-0xNNNN
// (the spelling of classify.Version.Detail). It returns "" for values that state no
// version ("-", "UNDETERMINED", "") and the input prefixed with "?" when the spelling
// is not understood, so that it never silently agrees.
//
// Spellings understood: Zeek (SSLv2, TLSv12, TLSv13-draft23, DTLSv12, unknown-32257),
// Suricata (TLSv1, TLS 1.2, TLS 1.3 draft-23, TLS 1.3 draft-<16), Arkime (TLSv1.2,
// TLSv1.3-draft-18), nDPI (TLSv1.2, TLSv1.3 (Fizz), DTLSv1.2), tshark and Zeek's
// numeric columns (0x0303, 0x7f17, 771).
func CanonicalVersion(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "", "-", "UNDETERMINED", "(EMPTY)":
		return ""
	}
	if n, ok := parseVersionNumber(s); ok {
		return VersionName(n)
	}
	if rest, ok := strings.CutPrefix(s, "unknown-"); ok { // Zeek: decimal code point
		if n, err := strconv.ParseUint(rest, 10, 16); err == nil {
			return VersionName(uint16(n))
		}
	}
	u := strings.ToUpper(s)
	// Vendor suffixes that do not change the version: nDPI's "TLSv1.3 (Fizz)".
	if i := strings.Index(u, " ("); i > 0 {
		u = u[:i]
	}
	family, variant := "", ""
	var rest string
	switch {
	case strings.HasPrefix(u, "DTLS"):
		family, rest = "DTLS", u[4:]
	case strings.HasPrefix(u, "TLS"):
		family, rest = "TLS", u[3:]
	case strings.HasPrefix(u, "SSL"):
		family, rest = "SSL", u[3:]
	default:
		return "?" + s
	}
	rest = strings.TrimLeft(rest, "V ")
	// Draft suffixes: "-DRAFT23" (Zeek), "-DRAFT-18" (Arkime), " DRAFT-23" (Suricata).
	if i := strings.Index(rest, "DRAFT"); i >= 0 {
		d := strings.TrimLeft(rest[i+5:], "- ")
		rest = strings.TrimRight(rest[:i], "- ")
		if n, err := strconv.Atoi(d); err == nil {
			variant = "draft" + strconv.Itoa(n)
		}
		// "draft-<16" names no single draft: the family alone.
	}
	num := ""
	switch rest {
	case "1", "10", "1.0":
		num = "1.0"
	case "11", "1.1":
		num = "1.1"
	case "12", "1.2":
		num = "1.2"
	case "13", "1.3":
		num = "1.3"
	case "2", "2.0":
		num = "2"
	case "3", "3.0":
		num = "3"
	default:
		return "?" + s
	}
	switch {
	case family == "SSL" && (num == "2" || num == "3"):
		return "SSL" + num
	case family == "SSL":
		return "?" + s
	case family == "DTLS" && (num == "1.0" || num == "1.2" || num == "1.3"):
		return "DTLS" + num
	case family == "DTLS":
		return "?" + s
	case num == "2" || num == "3":
		return "?" + s
	}
	if variant != "" {
		return "TLS" + num + "-" + variant
	}
	return "TLS" + num
}

// parseVersionNumber reads "0x0303" or a bare decimal such as Zeek's "771".
func parseVersionNumber(s string) (uint16, bool) {
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 16)
		return uint16(n), err == nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err == nil && n > 0
}

// VersionName spells a wire version code point canonically (see CanonicalVersion);
// 0 is "".
func VersionName(v uint16) string {
	switch {
	case v == 0:
		return ""
	case v == 0x0002:
		return "SSL2"
	case v == 0x0300:
		return "SSL3"
	case v >= 0x0301 && v <= 0x0304:
		return fmt.Sprintf("TLS1.%d", v-0x0301)
	case v == 0xfeff:
		return "DTLS1.0"
	case v == 0xfefd:
		return "DTLS1.2"
	case v == 0xfefc:
		return "DTLS1.3"
	case v == 0x0100: // pre-standard OpenSSL DTLS (DTLS1_BAD_VER)
		return "DTLS1.0-0x0100"
	case v&0xff00 == 0x7f00:
		return fmt.Sprintf("TLS1.3-draft%d", v&0xff)
	case v&0xff00 == 0xfb00:
		return fmt.Sprintf("TLS1.3-fb-draft%d", v&0xff)
	case v >= 0x7e01 && v <= 0x7e03, v == 0x7a12:
		return fmt.Sprintf("TLS1.3-exp-0x%04x", v)
	}
	return fmt.Sprintf("0x%04x", v)
}

// CanonicalQUICVersion maps a QUIC version as references spell it to one form:
// "1", "2", "draft-29", "mvfst-27", "mvfst-exp", "Q043", "T051", or "0x%08x". It
// accepts numbers (tshark's 0x00000001, Zeek's unknown-<hex>), Zeek's "1" and
// "quicv2", nDPI's "V-1", "Draft-29", "MVFST-27", and Google's "Q043" / "T051".
func CanonicalQUICVersion(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "-", "(empty)":
		return ""
	case "1", "v-1", "v1", "quicv1":
		return "1"
	case "2", "v-2", "v2", "quicv2":
		return "2"
	case "mvfst-exp":
		return "mvfst-exp"
	}
	l := strings.ToLower(s)
	if h, ok := strings.CutPrefix(l, "0x"); ok {
		if n, err := strconv.ParseUint(h, 16, 32); err == nil {
			return QUICVersionName(uint32(n))
		}
	}
	if h, ok := strings.CutPrefix(l, "unknown-"); ok { // Zeek: hexadecimal
		if n, err := strconv.ParseUint(h, 16, 32); err == nil {
			return QUICVersionName(uint32(n))
		}
	}
	if d, ok := strings.CutPrefix(l, "draft-"); ok {
		if n, err := strconv.Atoi(d); err == nil {
			return "draft-" + strconv.Itoa(n)
		}
	}
	if d, ok := strings.CutPrefix(l, "mvfst-"); ok {
		if n, err := strconv.Atoi(d); err == nil {
			return "mvfst-" + strconv.Itoa(n)
		}
	}
	if len(s) == 4 && (s[0] == 'Q' || s[0] == 'T') {
		return s
	}
	return "?" + s
}

// QUICVersionName spells a QUIC version number canonically (see
// CanonicalQUICVersion).
func QUICVersionName(v uint32) string {
	if v == 0 {
		return "0x00000000"
	}
	return classify.QUICVersionName(v)
}

// isGoogleQUIC reports whether a canonical QUIC version is Google QUIC with its own
// crypto handshake (Q0xx), which carries no TLS.
func isGoogleQUIC(v string) bool { return len(v) == 4 && v[0] == 'Q' }

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// canonicalHost lower-cases a server name and drops a trailing dot.
func canonicalHost(s string) string {
	s = strings.TrimSpace(s)
	if s == "-" || s == "(empty)" {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// canonicalHash lower-cases a hex fingerprint and drops what follows it (nDPI
// writes "<md5> (weak)"); "-" and "" are no value.
func canonicalHash(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	if s == "-" || s == "(empty)" {
		return ""
	}
	return strings.ToLower(s)
}

// canonicalALPN joins protocol names split on any of seps with ",".
func canonicalALPN(s string, seps string) string {
	s = strings.TrimSpace(s)
	if s == "-" || s == "(empty)" || s == "" {
		return ""
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ",")
}
