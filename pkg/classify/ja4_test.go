package classify

import (
	"testing"
)

func TestJA4ALPN(t *testing.T) {
	// The examples of the JA4 specification (technical_details/JA4.md, "ALPN
	// Extension Value").
	tests := []struct {
		name string
		alpn [][]byte
		want string
	}{
		{"none", nil, "00"},
		{"h2", [][]byte{[]byte("h2"), []byte("http/1.1")}, "h2"},
		{"http/1.1", [][]byte{[]byte("http/1.1")}, "h1"},
		{"single character", [][]byte{[]byte("z")}, "zz"},
		{"empty first value", [][]byte{{}}, "00"},
		{"0xAB", [][]byte{{0xab}}, "ab"},
		{"0xAB 0xCD", [][]byte{{0xab, 0xcd}}, "ad"},
		{"0x30 0xAB", [][]byte{{0x30, 0xab}}, "3b"},
		{"0x30 0x31 0xAB 0xCD", [][]byte{{0x30, 0x31, 0xab, 0xcd}}, "3d"},
		{"0x30 0xAB 0xCD 0x31", [][]byte{{0x30, 0xab, 0xcd, 0x31}}, "01"},
		{"underscore", [][]byte{[]byte("_x")}, "58"},
		{"upper case kept", [][]byte{[]byte("H2")}, "H2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ja4ALPN(tt.alpn)
			if string(got[:]) != tt.want {
				t.Errorf("got %q, want %q", got[:], tt.want)
			}
		})
	}
}

// TestJA4SpecExample rebuilds the worked example of the JA4 specification.
func TestJA4SpecExample(t *testing.T) {
	m := ClientHello{
		LegacyVersion: 0x0303,
		CipherSuites: []uint16{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
			0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
			0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015},
		ALPN:                [][]byte{[]byte("h2"), []byte("http/1.1")},
		SupportedVersions:   []uint16{0x2a2a, 0x0304, 0x0303},
		SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
	}
	if got, want := m.JA4('t'), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
	want := "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
	if got := m.JA4Raw('t'); got != want {
		t.Errorf("JA4Raw = %s\nwant %s", got, want)
	}
	// Without signature algorithms the hash covers the extensions alone.
	m.SignatureAlgorithms = nil
	if got := m.JA4('t'); got[len(got)-12:] != "6d807ffa2a79" {
		t.Errorf("JA4 without signature algorithms = %s, want ..._6d807ffa2a79", got)
	}
	if got := m.JA4('q'); got[0] != 'q' {
		t.Errorf("QUIC JA4 = %s", got)
	}
}

func TestJA4Parts(t *testing.T) {
	many := make([]uint16, 120)
	for i := range many {
		many[i] = uint16(0x0100 + i)
	}
	tests := []struct {
		name string
		m    ClientHello
		tr   byte
		want string
	}{
		{"empty hello", ClientHello{LegacyVersion: 0x0303}, 't', "t12i000000_000000000000_000000000000"},
		{"only SNI and ALPN", ClientHello{LegacyVersion: 0x0301, CipherSuites: []uint16{0x002f}, Extensions: []uint16{0, 16},
			ALPN: [][]byte{[]byte("h2")}}, 't', "t10d0102h2_" + ja4Hash("002f") + "_000000000000"},
		{"counts capped at 99", ClientHello{LegacyVersion: 0x0303, CipherSuites: many, Extensions: many}, 'd',
			"d12i9999"},
		{"SSLv3", ClientHello{LegacyVersion: 0x0300}, 't', "ts3i"},
		{"SSLv2", ClientHello{LegacyVersion: 0x0002}, 't', "ts2i"},
		{"draft version is unknown", ClientHello{LegacyVersion: 0x0303, SupportedVersions: []uint16{0x7f17}}, 't', "t00i"},
		{"highest supported version wins", ClientHello{LegacyVersion: 0x0303, SupportedVersions: []uint16{0x0302, 0x0a0a, 0x0304, 0x0303}}, 't', "t13i"},
		{"DTLS 1.2", ClientHello{LegacyVersion: 0xfefd}, 'd', "dd2i"},
		{"unknown transport is TCP", ClientHello{LegacyVersion: 0x0303}, 'x', "t12i"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.JA4(tt.tr)
			if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("JA4 = %s, want prefix %s", got, tt.want)
			}
		})
	}
}

func ja4Hash(s string) string {
	return string(appendJA4Hash(nil, []byte(s)))
}

// TestJA4DTLSVersions: DTLS versions are "d1", "d2", "d3" after the transport 'd';
// OpenSSL's pre-standard 0x0100 is "00" (as Arkime writes it).
func TestJA4DTLSVersions(t *testing.T) {
	for _, tt := range []struct {
		v    Version
		want string
	}{
		{VersionDTLS10, "dd1"}, {VersionDTLS12, "dd2"}, {VersionDTLS13, "dd3"}, {versionDTLS10OpenSSL, "d00"},
	} {
		m := ClientHello{LegacyVersion: uint16(tt.v), DTLS: true, CipherSuites: []uint16{0xc02b}}
		if got := m.JA4('d'); got[:3] != tt.want {
			t.Errorf("%v: %s", tt.v, got)
		}
	}
}
