package classify

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// JA4 fingerprint parts (FoxIO JA4, technical_details/JA4.md; BSD 3-Clause).
const (
	// ja4MaxCount caps the two-digit cipher and extension counts.
	ja4MaxCount = 99
	// ja4HashLen is how many hex digits of a SHA-256 go into the fingerprint.
	ja4HashLen = 12
	// ja4EmptyHash stands for a hash of an empty list.
	ja4EmptyHash = "000000000000"
)

// JA4 returns the FoxIO JA4 fingerprint of the hello, for example
// "t13d1516h2_8daaf6152771_e5627efa2ab1". transport is 't' for TLS over TCP, 'q' for
// QUIC and 'd' for DTLS; anything else is taken as 't'. It allocates.
//
// The three parts are: ja4_a, the transport, the version (highest non-GREASE
// supported_versions, else LegacyVersion), 'd' with SNI or 'i' without, the number of
// non-GREASE cipher suites and extensions (two digits, at most 99) and the first and
// last characters of the first ALPN value ("00" without); ja4_b, the first 12 hex
// digits of the SHA-256 of the sorted cipher suites; ja4_c, the same of the sorted
// extensions without SNI and ALPN, then '_' and the signature algorithms in wire order.
func (m *ClientHello) JA4(transport byte) string {
	var f ja4Parts
	f.build(m, transport)
	b := make([]byte, 0, 36)
	b = append(b, f.a[:]...)
	b = append(b, '_')
	b = appendJA4Hash(b, f.ciphers)
	b = append(b, '_')
	b = appendJA4Hash(b, f.extensions)
	return string(b)
}

// JA4Raw returns the unhashed JA4 (ja4_r): ja4_a, then the sorted cipher suites, the
// sorted extensions without SNI and ALPN, and the signature algorithms in wire order,
// each as comma-separated 4-digit hex and the parts joined with '_'; the signature
// algorithm part and its '_' are left out when there are none. It allocates.
func (m *ClientHello) JA4Raw(transport byte) string {
	var f ja4Parts
	f.build(m, transport)
	b := make([]byte, 0, 256)
	b = append(b, f.a[:]...)
	b = append(b, '_')
	b = append(b, f.ciphers...)
	b = append(b, '_')
	b = append(b, f.extensions...)
	return string(b)
}

// ja4Parts holds ja4_a and the two unhashed lists.
type ja4Parts struct {
	a          [10]byte
	ciphers    []byte // "002f,0035,…"
	extensions []byte // "0005,000a,…_0403,0804,…", empty when no extension is left
}

func (f *ja4Parts) build(m *ClientHello, transport byte) {
	switch transport {
	case 'q', 'd':
	default:
		transport = 't'
	}
	ciphers := nonGREASE(m.CipherSuites)
	exts := nonGREASE(m.Extensions)
	sni := byte('i')
	if slices.Contains(exts, extensionServerName) {
		sni = 'd'
	}
	version := ja4Version(m.MaxVersion())
	alpn := ja4ALPN(m.ALPN)
	f.a = [10]byte{transport, version[0], version[1], sni}
	putTwoDigits(f.a[4:6], len(ciphers))
	putTwoDigits(f.a[6:8], len(exts))
	f.a[8], f.a[9] = alpn[0], alpn[1]

	slices.Sort(ciphers)
	f.ciphers = appendHexList(make([]byte, 0, 5*len(ciphers)), ciphers)

	hashed := exts[:0]
	for _, e := range exts {
		if e != extensionServerName && e != extensionALPN {
			hashed = append(hashed, e)
		}
	}
	slices.Sort(hashed)
	sigs := nonGREASE(m.SignatureAlgorithms)
	f.extensions = appendHexList(make([]byte, 0, 5*(len(hashed)+len(sigs))), hashed)
	if len(sigs) > 0 && len(hashed) > 0 {
		f.extensions = append(f.extensions, '_')
		f.extensions = appendHexList(f.extensions, sigs)
	}
}

// ja4Version maps a version to its two JA4 characters; unknown ones (TLS 1.3 drafts
// included) are "00".
func ja4Version(v Version) [2]byte {
	switch v {
	case VersionTLS13:
		return [2]byte{'1', '3'}
	case VersionTLS12:
		return [2]byte{'1', '2'}
	case VersionTLS11:
		return [2]byte{'1', '1'}
	case VersionTLS10:
		return [2]byte{'1', '0'}
	case VersionSSL3:
		return [2]byte{'s', '3'}
	case VersionSSL2:
		return [2]byte{'s', '2'}
	case VersionDTLS10:
		return [2]byte{'d', '1'}
	case VersionDTLS12:
		return [2]byte{'d', '2'}
	case VersionDTLS13:
		return [2]byte{'d', '3'}
	}
	return [2]byte{'0', '0'}
}

// ja4ALPN returns the first and last characters of the first ALPN value: "00" when
// there is none; the first and last hex digits of the value when its first or last
// byte is not an ASCII letter or digit.
func ja4ALPN(alpn [][]byte) [2]byte {
	if len(alpn) == 0 || len(alpn[0]) == 0 {
		return [2]byte{'0', '0'}
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isASCIIAlnum(first) && isASCIIAlnum(last) {
		return [2]byte{first, last}
	}
	const digits = "0123456789abcdef"
	return [2]byte{digits[first>>4], digits[last&0xf]}
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// putTwoDigits writes min(n, 99) as two decimal digits.
func putTwoDigits(dst []byte, n int) {
	n = min(n, ja4MaxCount)
	dst[0], dst[1] = byte('0'+n/10), byte('0'+n%10)
}

// nonGREASE returns a copy of l without GREASE values.
func nonGREASE(l []uint16) []uint16 {
	out := make([]uint16, 0, len(l))
	for _, v := range l {
		if !IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

// appendHexList appends l as comma-separated 4-digit lowercase hex.
func appendHexList(b []byte, l []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

// appendJA4Hash appends the first 12 hex digits of SHA-256(s), or "000000000000" when
// s is empty.
func appendJA4Hash(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, ja4EmptyHash...)
	}
	sum := sha256.Sum256(s)
	return hex.AppendEncode(b, sum[:ja4HashLen/2])
}
