package classify

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
)

// JA3String returns the JA3 fingerprint input of the hello (salesforce/ja3):
// SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats, each list in
// wire order as decimal values joined with '-', GREASE values (RFC 8701) left out of
// every list. SSLVersion is LegacyVersion. It allocates.
func (m *ClientHello) JA3String() string {
	b := make([]byte, 0, 256)
	b = strconv.AppendUint(b, uint64(m.LegacyVersion), 10)
	b = append(b, ',')
	b = appendJA3List(b, m.CipherSuites)
	b = append(b, ',')
	b = appendJA3List(b, m.Extensions)
	b = append(b, ',')
	b = appendJA3List(b, m.SupportedGroups)
	b = append(b, ',')
	for i, f := range m.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return string(b)
}

// JA3 returns the lowercase hex MD5 of JA3String.
func (m *ClientHello) JA3() string {
	return md5Hex(m.JA3String())
}

// JA3SString returns the JA3S fingerprint input of the hello (salesforce/ja3):
// SSLVersion,Cipher,Extensions with LegacyVersion, the selected cipher suite and the
// extension types in wire order (GREASE left out), in decimal. It allocates.
func (m *ServerHello) JA3SString() string {
	b := make([]byte, 0, 64)
	b = strconv.AppendUint(b, uint64(m.LegacyVersion), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(m.CipherSuite), 10)
	b = append(b, ',')
	b = appendJA3List(b, m.Extensions)
	return string(b)
}

// JA3S returns the lowercase hex MD5 of JA3SString.
func (m *ServerHello) JA3S() string {
	return md5Hex(m.JA3SString())
}

// appendJA3List appends the non-GREASE values of l in decimal, joined with '-'.
func appendJA3List(b []byte, l []uint16) []byte {
	first := true
	for _, v := range l {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
