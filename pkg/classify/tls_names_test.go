package classify

import (
	"crypto/tls"
	"slices"
	"testing"
)

func TestVersionNames(t *testing.T) {
	tests := []struct {
		v          Version
		str        string
		detail     string
		normalized Version
	}{
		{0, "", "", 0},
		{VersionSSL2, "SSL2", "SSL2", VersionSSL2},
		{VersionSSL3, "SSL3", "SSL3", VersionSSL3},
		{VersionTLS10, "TLS1.0", "TLS1.0", VersionTLS10},
		{VersionTLS11, "TLS1.1", "TLS1.1", VersionTLS11},
		{VersionTLS12, "TLS1.2", "TLS1.2", VersionTLS12},
		{VersionTLS13, "TLS1.3", "TLS1.3", VersionTLS13},
		{0x7f17, "TLS1.3", "TLS1.3-draft23", VersionTLS13},
		{0x7f0e, "TLS1.3", "TLS1.3-draft14", VersionTLS13},
		{0xfb1a, "TLS1.3", "TLS1.3-fb-draft26", VersionTLS13},
		{0x7e01, "TLS1.3", "TLS1.3-exp-0x7e01", VersionTLS13},
		{0x7a12, "TLS1.3", "TLS1.3-exp-0x7a12", VersionTLS13},
		{VersionDTLS10, "DTLS1.0", "DTLS1.0", VersionTLS11},
		{VersionDTLS12, "DTLS1.2", "DTLS1.2", VersionTLS12},
		{VersionDTLS13, "DTLS1.3", "DTLS1.3", VersionTLS13},
		{0x0100, "DTLS1.0", "DTLS1.0-0x0100", VersionTLS11},
		{0xfefe, "0xfefe", "0xfefe", 0xfefe},
		{0x0a0a, "0x0a0a", "0x0a0a", 0x0a0a},
		{0x7e04, "0x7e04", "0x7e04", 0x7e04},
	}
	for _, tt := range tests {
		t.Run(tt.detail, func(t *testing.T) {
			if tt.v.String() != tt.str || tt.v.Detail() != tt.detail || tt.v.Normalized() != tt.normalized {
				t.Errorf("%#04x: %q %q %#04x", uint16(tt.v), tt.v.String(), tt.v.Detail(), uint16(tt.v.Normalized()))
			}
		})
	}
}

func TestIsGREASE(t *testing.T) {
	var n int
	for v := range 1 << 16 {
		if IsGREASE(uint16(v)) {
			n++
			if v&0xff != v>>8 || v&0x0f != 0x0a {
				t.Errorf("%#04x is not GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

func TestCipherSuiteNames(t *testing.T) {
	if len(cipherSuiteNames) != 352 {
		t.Errorf("%d cipher suites, want the 352 IANA assignments", len(cipherSuiteNames))
	}
	if !slices.IsSortedFunc(cipherSuiteNames[:], func(a, b namedValue) int { return int(a.id) - int(b.id) }) ||
		!slices.IsSortedFunc(groupNames[:], func(a, b namedValue) int { return int(a.id) - int(b.id) }) {
		t.Fatal("name tables not sorted")
	}
	// Everything crypto/tls knows uses the IANA name.
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := CipherSuiteName(s.ID); got != s.Name {
			t.Errorf("%#04x: %q, crypto/tls says %q", s.ID, got, s.Name)
		}
	}
	tests := map[uint16]string{
		0x0000: "TLS_NULL_WITH_NULL_NULL",
		0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
		0x1301: "TLS_AES_128_GCM_SHA256",
		0x1307: "TLS_AEGIS_128L_SHA256",
		0x5600: "TLS_FALLBACK_SCSV",
		0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		0xc0b5: "TLS_SHA384_SHA384",
		0xc106: "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S",
		0xccae: "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
		0xd005: "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",
		0xd004: "0xd004",
		0x0a0a: "0x0a0a",
		0xff85: "0xff85",
	}
	for id, want := range tests {
		if got := CipherSuiteName(id); got != want {
			t.Errorf("%#04x: %q, want %q", id, got, want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	tests := map[uint16]string{
		0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001d: "x25519", 0x001e: "x448",
		0x0100: "ffdhe2048", 0x0104: "ffdhe8192", 0x11ec: "X25519MLKEM768", 0x11eb: "SecP256r1MLKEM768",
		0x11ed: "SecP384r1MLKEM1024", 0x6399: "X25519Kyber768Draft00", 0x0201: "MLKEM768",
		0x0a0a: "0x0a0a", 0x1234: "0x1234",
	}
	for id, want := range tests {
		if got := GroupName(id); got != want {
			t.Errorf("%#04x: %q, want %q", id, got, want)
		}
	}
	// crypto/tls's names for the groups it implements.
	for _, id := range []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024} {
		if got := GroupName(uint16(id)); got != id.String() {
			t.Errorf("%#04x: %q, crypto/tls says %q", uint16(id), got, id.String())
		}
	}
	for _, g := range []uint16{0x11ec, 0x11eb, 0x11ed, 0x6399, 0x0200} {
		if !isPQGroup(g) {
			t.Errorf("%s not post-quantum", GroupName(g))
		}
	}
	if isPQGroup(0x001d) {
		t.Errorf("x25519 taken for post-quantum")
	}
}

func TestLooksLikeTLS(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"handshake record", []byte{22, 3, 1, 0, 200}, true},
		{"tls13 app data", []byte{23, 3, 3, 0x40, 0x11}, true},
		{"heartbeat", []byte{24, 3, 3, 0, 3}, true},
		{"ccs ssl3", []byte{20, 3, 0, 0, 1}, true},
		{"max length", []byte{23, 3, 3, 0x48, 0x00}, true},
		{"over max length", []byte{23, 3, 3, 0x48, 0x01}, false},
		{"type 25", []byte{25, 3, 3, 0, 1}, false},
		{"type 19", []byte{19, 3, 3, 0, 1}, false},
		{"minor 5", []byte{22, 3, 5, 0, 1}, false},
		{"major 2", []byte{22, 2, 0, 0, 1}, false},
		{"four bytes", []byte{22, 3, 1, 0}, false},
		{"http", []byte("GET / HTTP/1.1\r\n"), false},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.6\r\n"), false},
		{"sslv2 hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, true},
		{"sslv2 hello of sslv2", []byte{0x80, 0x2e, 0x01, 0x00, 0x02}, true},
		{"sslv2 three bytes", []byte{0x80, 0x2e, 0x01}, true},
		{"sslv2 bad version", []byte{0x80, 0x2e, 0x01, 0x04, 0x00}, false},
		{"sslv2 server hello", []byte{0x80, 0x2e, 0x04, 0x00, 0x02}, false},
		{"sslv2 too short", []byte{0x80, 0x05, 0x01, 0x03, 0x01}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksLikeTLS(tt.b); got != tt.want {
				t.Errorf("LooksLikeTLS(%x) = %v, want %v", tt.b, got, tt.want)
			}
		})
	}
}
