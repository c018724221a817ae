package conformance

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// referenceRule names the documented behaviour of a reference (docs/conformance.md,
// "Decisions") that turns tlsaudit's value into the reference's, when one does: the
// rule is applied to tlsaudit's own verdict for the flow and must give the
// reference's value exactly, every other part agreeing. It returns "" when no rule
// explains the difference. An explained disagreement still counts as one; the report
// shows how many are explained, so that what is left is what needs work.
func referenceRule(source string, f Field, ref, ours string, fr *flow.Record) string {
	if fr == nil || ours == "" && f != FieldVersion {
		return ""
	}
	v := &fr.Verdict
	switch {
	case f == FieldJA4 && source == "ndpi":
		for _, alt := range ndpiJA4(ours, v) {
			if alt == ref {
				return "nDPI's JA4 variant"
			}
		}
	case f == FieldJA4 && (source == "ja4-python" || source == "ja4-rust"):
		if withALPNChars(ours, "99") == ref && len(v.ALPN) > 0 && !alnumEnds(v.ALPN[0]) {
			return "FoxIO's ALPN \"99\" from before the hex rule"
		}
	case f == FieldJA4 && source == "suricata":
		if suricataJA4(ours, v.JA4Raw) == ref {
			return "Suricata's JA4 hashes a trailing _ without signature algorithms"
		}
	case f == FieldJA3 && source == "tshark":
		if tsharkJA3Stub(v.JA3String) == ref {
			return "tshark's JA3 stops after the ciphers of a hello it cannot read past (decision 13)"
		}
	case f == FieldVersion && source == "arkime":
		if ours == "" && v.ParseError != "" && ja3Version(v.JA3SString) == ref {
			return "Arkime's version is the ServerHello's legacy_version when supported_versions is unreadable"
		}
	case f == FieldJA4 && source == "arkime":
		if fr.Proto == flow.UDP && v.AppOther == "openvpn" && strings.HasPrefix(ours, "t") && "q"+ours[1:] == ref {
			return "Arkime's JA4 protocol q for any UDP"
		}
	case f == FieldVersion && (source == "ndpi" || source == "suricata"):
		if ours == "" && v.Class == classify.ClassTLS && ja4Version(v.JA4) == ref {
			return "the ClientHello's version where no ServerHello came"
		}
		if source == "ndpi" && ours != "" && (ja4Version(v.JA4) == ref || ja3Version(v.JA3String) == ref) {
			return "nDPI's version is the ClientHello's"
		}
	}
	return ""
}

// ndpiJA4 rewrites a JA4 the ways nDPI writes it (docs/conformance.md, decision 3):
// "d" whether or not there is an SNI; the ALPN's first two characters instead of its
// first and last, and in some nDPI versions "h0" for a QUIC ALPN of exactly "h3";
// sha256("")[:12] for an empty extension hash; for DTLS 1.3 the legacy version DTLS
// 1.2. Each rewrite is applied only where the verdict says its condition holds.
func ndpiJA4(ja4 string, v *classify.Verdict) []string {
	a, bc, ok := strings.Cut(ja4, "_")
	if !ok || len(a) != 10 {
		return nil
	}
	b := []byte(a)
	b[3] = 'd'
	if b[0] == 'd' && a[1:3] == "d3" {
		b[2] = '2'
	}
	bHash, cHash, _ := strings.Cut(bc, "_")
	if cHash == "000000000000" {
		cHash = "e3b0c44298fc" // sha256 of nothing
	}
	alts := []string{string(b) + "_" + bHash + "_" + cHash}
	if len(v.ALPN) > 0 && len(v.ALPN[0]) >= 2 {
		p := v.ALPN[0]
		b[8], b[9] = p[0], p[1]
		alts = append(alts, string(b)+"_"+bHash+"_"+cHash)
		if b[0] == 'q' && p == "h3" {
			b[9] = '0'
			alts = append(alts, string(b)+"_"+bHash+"_"+cHash)
		}
	}
	return alts
}

// withALPNChars replaces a JA4's two ALPN characters.
func withALPNChars(ja4, chars string) string {
	if len(ja4) < 10 {
		return ""
	}
	return ja4[:8] + chars + ja4[10:]
}

// alnumEnds reports whether s starts and ends with an ASCII letter or digit.
func alnumEnds(s string) bool {
	alnum := func(c byte) bool {
		return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	return s != "" && alnum(s[0]) && alnum(s[len(s)-1])
}

// ja4Version reads the client's highest offered version from a JA4's first part, in
// CanonicalVersion's spelling.
func ja4Version(ja4 string) string {
	if len(ja4) < 3 {
		return ""
	}
	switch ja4[1:3] {
	case "10":
		return "TLS1.0"
	case "11":
		return "TLS1.1"
	case "12":
		return "TLS1.2"
	case "13":
		return "TLS1.3"
	case "s3":
		return "SSL3"
	case "d1":
		return "DTLS1.0"
	case "d2":
		return "DTLS1.2"
	case "d3":
		return "DTLS1.3"
	}
	return ""
}

// suricataJA4 rewrites a JA4 the way Suricata 7 writes it for a hello without
// signature algorithms (docs/conformance.md, decision 4): the extension list is hashed
// with a trailing "_". raw is the JA4_r; "" when there are signature algorithms.
func suricataJA4(ja4, raw string) string {
	parts := strings.Split(raw, "_")
	if len(parts) != 3 || len(ja4) < 24 {
		return "" // signature algorithms present, or no raw string
	}
	sum := sha256.Sum256([]byte(parts[2] + "_"))
	return ja4[:24] + hex.EncodeToString(sum[:])[:12]
}

// tsharkJA3Stub is the JA3 tshark 4.0 computes for a ClientHello without an
// extensions block (docs/conformance.md, decision 13): its string stops after the
// cipher list, "769,4-5-…,". ja3String is tlsaudit's full string, "769,4-5-…,,,".
func tsharkJA3Stub(ja3String string) string {
	if !strings.HasSuffix(ja3String, ",,,") {
		return ""
	}
	sum := md5.Sum([]byte(strings.TrimSuffix(ja3String, ",,")))
	return hex.EncodeToString(sum[:])
}

// ja3Version reads the version a JA3 or JA3S string starts with (the hello's
// legacy_version, in decimal), in CanonicalVersion's spelling.
func ja3Version(s string) string {
	first, _, ok := strings.Cut(s, ",")
	if !ok {
		return ""
	}
	v, err := strconv.ParseUint(first, 10, 16)
	if err != nil {
		return ""
	}
	return CanonicalVersion("0x" + strconv.FormatUint(v, 16))
}
