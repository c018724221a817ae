package classify

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// testExtension is one extension of a synthetic hello.
type testExtension struct {
	typ  uint16
	data []byte
}

// chFields are the fixed fields of a synthetic ClientHello.
type chFields struct {
	version     uint16
	sessionID   []byte
	suites      []byte // raw cipher_suites vector contents
	compression []byte
	exts        []testExtension
	noExts      bool   // omit the extensions block
	extsRaw     []byte // replaces the extensions block contents when set
	trailing    []byte // bytes after the extensions block, inside the body
	dtls        bool   // a DTLS hello: the cookie follows the session ID
	cookie      []byte
}

// buildClientHello builds a ClientHello handshake message.
func buildClientHello(f chFields) []byte {
	var b cryptobyte.Builder
	b.AddUint8(handshakeTypeClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(f.version)
		b.AddBytes(make([]byte, helloRandomLen))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.sessionID) })
		if f.dtls {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.cookie) })
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.suites) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.compression) })
		if !f.noExts {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				if f.extsRaw != nil {
					b.AddBytes(f.extsRaw)
					return
				}
				for _, e := range f.exts {
					b.AddUint16(e.typ)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
				}
			})
		}
		b.AddBytes(f.trailing)
	})
	return b.BytesOrPanic()
}

// validCH returns the fields of a valid TLS 1.3 ClientHello with every parsed
// extension.
func validCH() chFields {
	return chFields{
		version:     0x0303,
		sessionID:   make([]byte, 32),
		suites:      []byte{0x0a, 0x0a, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b},
		compression: []byte{0},
		exts: []testExtension{
			{0x0a0a, nil},
			{extensionServerName, []byte{0, 14, 0, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'}},
			{extensionSupportedGroups, []byte{0, 6, 0x1a, 0x1a, 0x11, 0xec, 0x00, 0x1d}},
			{extensionECPointFormats, []byte{1, 0}},
			{extensionSignatureAlgorithms, []byte{0, 4, 0x04, 0x03, 0x08, 0x04}},
			{extensionALPN, []byte{0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}},
			{extensionExtendedMasterSecret, nil},
			{extensionSessionTicket, nil},
			{extensionEarlyData, nil},
			{extensionSupportedVersions, []byte{4, 0x2a, 0x2a, 0x03, 0x04}},
			{extensionPSKKeyExchangeModes, []byte{1, 1}},
			{extensionKeyShare, []byte{0, 11, 0x11, 0xec, 0, 2, 1, 2, 0x00, 0x1d, 0, 1, 3}},
			{extensionRenegotiationInfo, []byte{0}},
			{extensionEncryptedClientHello, []byte{1, 2, 3}},
			{0x1234, []byte{9, 9}},
			{extensionPSK, pskData(1, 32)},
		},
	}
}

// pskData builds an OfferedPsks with n identities and binders of binderLen bytes.
func pskData(n, binderLen int) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for range n {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("ticket")) })
			b.AddUint32(0)
		}
	})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for range n {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, binderLen)) })
		}
	})
	return b.BytesOrPanic()
}

// withExtension returns f with extension typ's data replaced (or added).
func withExtension(f chFields, typ uint16, data []byte) chFields {
	f.exts = slices.Clone(f.exts)
	for i := range f.exts {
		if f.exts[i].typ == typ {
			f.exts[i].data = data
			return f
		}
	}
	f.exts = append(f.exts, testExtension{typ, data})
	return f
}

func TestClientHelloValid(t *testing.T) {
	var m ClientHello
	if err := m.Unmarshal(buildClientHello(validCH())); err != nil {
		t.Fatal(err)
	}
	if string(m.ServerName) != "example.com" || len(m.ALPN) != 2 || string(m.ALPN[1]) != "http/1.1" {
		t.Errorf("SNI %q ALPN %q", m.ServerName, m.ALPN)
	}
	if !slices.Equal(m.CipherSuites, []uint16{0x0a0a, 0x1301, 0x1302, 0xc02b}) ||
		!slices.Equal(m.SupportedGroups, []uint16{0x1a1a, 0x11ec, 0x001d}) ||
		!slices.Equal(m.KeyShareGroups, []uint16{0x11ec, 0x001d}) ||
		!slices.Equal(m.SignatureAlgorithms, []uint16{0x0403, 0x0804}) ||
		!slices.Equal(m.SupportedVersions, []uint16{0x2a2a, 0x0304}) {
		t.Errorf("lists: %+v", m)
	}
	if !m.PSK || !m.EarlyData || m.SessionTicket || !m.ECH || !m.HasPQKeyShare() || m.MaxVersion() != VersionTLS13 {
		t.Errorf("flags: %+v", m)
	}
	if len(m.Extensions) != 16 || m.Extensions[0] != 0x0a0a || m.Extensions[15] != extensionPSK {
		t.Errorf("extensions %x", m.Extensions)
	}
	// A hello without extensions is valid before TLS 1.3.
	f := validCH()
	f.noExts = true
	if err := m.Unmarshal(buildClientHello(f)); err != nil || len(m.Extensions) != 0 || m.MaxVersion() != VersionTLS12 {
		t.Errorf("no extensions: %v %+v", err, m)
	}
}

// TestClientHelloInvalid has one case per rule Unmarshal enforces.
func TestClientHelloInvalid(t *testing.T) {
	valid := buildClientHello(validCH())
	mod := func(fn func(*chFields)) []byte {
		f := validCH()
		fn(&f)
		return buildClientHello(f)
	}
	ext := func(typ uint16, data []byte) []byte { return buildClientHello(withExtension(validCH(), typ, data)) }
	manyHigh := validCH()
	for i := range maxHighExtensions + 1 {
		manyHigh.exts = append(manyHigh.exts, testExtension{uint16(0x8000 + i), nil})
	}
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"header only", valid[:3], ErrTruncated},
		{"length beyond input", valid[:len(valid)-1], ErrTruncated},
		{"wrong type", append([]byte{handshakeTypeServerHello}, valid[1:]...), ErrMalformed},
		{"trailing after message", append(slices.Clone(valid), 0), ErrTrailingData},
		{"no random", handshakeMessage(handshakeTypeClientHello, []byte{3, 3, 1, 2}), ErrTruncated},
		{"no version", handshakeMessage(handshakeTypeClientHello, []byte{3}), ErrTruncated},
		{"session id over 32", mod(func(f *chFields) { f.sessionID = make([]byte, 33) }), ErrMalformed},
		{"session id truncated", handshakeMessage(handshakeTypeClientHello, append(append([]byte{3, 3}, make([]byte, 32)...), 5, 1)), ErrTruncated},
		{"cipher suites empty", mod(func(f *chFields) { f.suites = nil }), ErrMalformed},
		{"cipher suites odd", mod(func(f *chFields) { f.suites = []byte{0x13, 0x01, 0x13} }), ErrMalformed},
		{"cipher suites truncated", handshakeMessage(handshakeTypeClientHello, append(append([]byte{3, 3}, make([]byte, 32)...), 0, 0, 4, 0x13)), ErrTruncated},
		{"compression empty", mod(func(f *chFields) { f.compression = nil }), ErrMalformed},
		{"compression truncated", handshakeMessage(handshakeTypeClientHello, append(append([]byte{3, 3}, make([]byte, 32)...), 0, 0, 2, 0x13, 1, 2)), ErrTruncated},
		{"extensions block truncated", mod(func(f *chFields) { f.noExts, f.trailing = true, []byte{0, 9, 0} }), ErrTruncated},
		{"bytes after extensions", mod(func(f *chFields) { f.trailing = []byte{0} }), ErrTrailingData},
		{"extension header truncated", mod(func(f *chFields) { f.extsRaw = []byte{0, 10, 0} }), ErrTruncated},
		{"extension data truncated", mod(func(f *chFields) { f.extsRaw = []byte{0, 10, 0, 4, 0, 2} }), ErrTruncated},
		{"duplicate extension", mod(func(f *chFields) { f.exts = append(f.exts, testExtension{extensionExtendedMasterSecret, nil}) }), ErrDuplicateExtension},
		{"duplicate high extension", mod(func(f *chFields) { f.exts = append(f.exts, testExtension{0x1234, nil}) }), ErrDuplicateExtension},
		{"duplicate GREASE extension", mod(func(f *chFields) { f.exts = append(f.exts, testExtension{0x0a0a, []byte{0}}) }), ErrDuplicateExtension},
		{"too many high extensions", buildClientHello(manyHigh), ErrMalformed},
		{"server_name empty", ext(extensionServerName, nil), ErrMalformed},
		{"server_name empty list", ext(extensionServerName, []byte{0, 0}), ErrMalformed},
		{"server_name empty host", ext(extensionServerName, []byte{0, 3, 0, 0, 0}), ErrMalformed},
		{"server_name two hosts", ext(extensionServerName, []byte{0, 8, 0, 0, 1, 'a', 0, 0, 1, 'b'}), ErrMalformed},
		{"server_name truncated entry", ext(extensionServerName, []byte{0, 3, 0, 0, 5}), ErrMalformed},
		{"server_name trailing", ext(extensionServerName, []byte{0, 4, 0, 0, 1, 'a', 0}), ErrTrailingData},
		{"supported_groups empty", ext(extensionSupportedGroups, []byte{0, 0}), ErrMalformed},
		{"supported_groups odd", ext(extensionSupportedGroups, []byte{0, 3, 0, 0x1d, 0}), ErrMalformed},
		{"supported_groups trailing", ext(extensionSupportedGroups, []byte{0, 2, 0, 0x1d, 0}), ErrTrailingData},
		{"ec_point_formats empty", ext(extensionECPointFormats, []byte{0}), ErrMalformed},
		{"ec_point_formats trailing", ext(extensionECPointFormats, []byte{1, 0, 0}), ErrTrailingData},
		{"signature_algorithms odd", ext(extensionSignatureAlgorithms, []byte{0, 1, 4}), ErrMalformed},
		{"signature_algorithms empty", ext(extensionSignatureAlgorithms, nil), ErrMalformed},
		{"alpn empty list", ext(extensionALPN, []byte{0, 0}), ErrMalformed},
		{"alpn empty name", ext(extensionALPN, []byte{0, 3, 0, 1, 'a'}), ErrMalformed},
		{"alpn truncated name", ext(extensionALPN, []byte{0, 2, 5, 'a'}), ErrMalformed},
		{"alpn trailing", ext(extensionALPN, []byte{0, 2, 1, 'a', 0}), ErrTrailingData},
		{"extended_master_secret not empty", ext(extensionExtendedMasterSecret, []byte{0}), ErrMalformed},
		{"pre_shared_key no binders", ext(extensionPSK, pskData(1, 32)[:12]), ErrMalformed},
		{"pre_shared_key short binder", ext(extensionPSK, pskData(1, 31)), ErrMalformed},
		{"pre_shared_key empty identity", ext(extensionPSK, []byte{0, 6, 0, 0, 0, 0, 0, 0, 0, 33, 32}), ErrMalformed},
		{"pre_shared_key trailing", ext(extensionPSK, append(pskData(1, 32), 0)), ErrTrailingData},
		{"early_data not empty", ext(extensionEarlyData, []byte{0}), ErrMalformed},
		{"supported_versions empty", ext(extensionSupportedVersions, []byte{0}), ErrMalformed},
		{"supported_versions odd", ext(extensionSupportedVersions, []byte{3, 3, 4, 3}), ErrMalformed},
		{"supported_versions trailing", ext(extensionSupportedVersions, []byte{2, 3, 4, 0}), ErrTrailingData},
		{"psk_key_exchange_modes empty", ext(extensionPSKKeyExchangeModes, []byte{0}), ErrMalformed},
		{"key_share empty key", ext(extensionKeyShare, []byte{0, 4, 0, 0x1d, 0, 0}), ErrMalformed},
		{"key_share truncated entry", ext(extensionKeyShare, []byte{0, 3, 0, 0x1d, 0}), ErrMalformed},
		{"key_share trailing", ext(extensionKeyShare, []byte{0, 0, 0}), ErrTrailingData},
		{"draft key_share empty key", ext(extensionKeyShareDraft, []byte{0, 4, 0, 0x1d, 0, 0}), ErrMalformed},
		{"renegotiation_info truncated", ext(extensionRenegotiationInfo, []byte{2, 0}), ErrMalformed},
		{"renegotiation_info trailing", ext(extensionRenegotiationInfo, []byte{0, 0}), ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ClientHello
			m.Unmarshal(valid) // leave state behind: Unmarshal must reset it
			err := m.Unmarshal(tt.msg)
			if err == nil {
				// A broken rule inside a well-framed extension: the hello is kept,
				// with the rule as its Violation.
				if !errors.Is(m.Violation, tt.err) {
					t.Fatalf("err = nil, Violation = %v, want %v", m.Violation, tt.err)
				}
				if m.LegacyVersion == 0 || len(m.CipherSuites) == 0 {
					t.Errorf("hello with a violation not kept: %+v", m)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if m.LegacyVersion != 0 || m.Random != nil || len(m.CipherSuites) != 0 || len(m.Extensions) != 0 ||
				m.ServerName != nil || len(m.ALPN) != 0 || m.PSK || m.ECH || m.Violation != nil {
				t.Errorf("not reset after error: %+v", m)
			}
		})
	}
}

// sslv2Hello builds an SSLv2 CLIENT-HELLO record.
func sslv2Hello(version uint16, specs []byte, sessionID, challenge []byte, msgType uint8, extra []byte) []byte {
	var body cryptobyte.Builder
	body.AddUint8(msgType)
	body.AddUint16(version)
	body.AddUint16(uint16(len(specs)))
	body.AddUint16(uint16(len(sessionID)))
	body.AddUint16(uint16(len(challenge)))
	body.AddBytes(specs)
	body.AddBytes(sessionID)
	body.AddBytes(challenge)
	body.AddBytes(extra)
	b := body.BytesOrPanic()
	var r cryptobyte.Builder
	r.AddUint16(uint16(len(b)) | sslv2HeaderLongBit<<8)
	r.AddBytes(b)
	return r.BytesOrPanic()
}

func TestClientHelloSSLv2(t *testing.T) {
	specs := []byte{0x07, 0x00, 0xc0, 0x00, 0x00, 0x39, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff}
	challenge := make([]byte, 16)
	valid := sslv2Hello(0x0301, specs, nil, challenge, sslv2MsgClientHello, nil)
	var m ClientHello
	if err := m.Unmarshal(valid); err != nil {
		t.Fatal(err)
	}
	if !m.SSLv2 || m.LegacyVersion != 0x0301 || !slices.Equal(m.CipherSuites, []uint16{0x0039, 0x00ff}) || len(m.Random) != 16 {
		t.Errorf("parsed %+v", m)
	}
	if got := m.JA3String(); got != "769,57-255,,," {
		t.Errorf("JA3String = %q", got)
	}
	if !LooksLikeTLS(valid) || !LooksLikeTLS(valid[:3]) {
		t.Errorf("LooksLikeTLS(sslv2 hello) = false")
	}
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{"header only", valid[:1], ErrTruncated},
		{"record truncated", valid[:len(valid)-1], ErrTruncated},
		{"trailing after record", append(slices.Clone(valid), 0), ErrTrailingData},
		{"wrong message type", sslv2Hello(0x0301, specs, nil, challenge, 2, nil), ErrMalformed},
		{"specs not multiple of 3", sslv2Hello(0x0301, specs[:4], nil, challenge, sslv2MsgClientHello, nil), ErrMalformed},
		{"no specs", sslv2Hello(0x0301, nil, nil, challenge, sslv2MsgClientHello, nil), ErrMalformed},
		{"session id of 8", sslv2Hello(0x0301, specs, make([]byte, 8), challenge, sslv2MsgClientHello, nil), ErrMalformed},
		{"challenge of 15", sslv2Hello(0x0301, specs, nil, make([]byte, 15), sslv2MsgClientHello, nil), ErrMalformed},
		{"challenge of 33", sslv2Hello(0x0301, specs, nil, make([]byte, 33), sslv2MsgClientHello, nil), ErrMalformed},
		{"bytes after challenge", sslv2Hello(0x0301, specs, nil, challenge, sslv2MsgClientHello, []byte{0}), ErrTrailingData},
		{"lengths beyond body", []byte{0x80, 0x09, 1, 3, 1, 0, 3, 0, 0, 0, 16}, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Unmarshal(tt.msg)
			if !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
			if m.SSLv2 || m.LegacyVersion != 0 {
				t.Errorf("not reset after error")
			}
		})
	}
}

func TestClientHelloRecorded(t *testing.T) {
	tests := []struct {
		name       string
		legacy     uint16
		maxVersion Version
		suites     int
		grease     bool
		keyShares  []uint16
	}{
		{"go126-tls13", 0x0303, VersionTLS13, 13, false, []uint16{groupX25519MLKEM768, 0x001d}},
		{"go126-tls12", 0x0303, VersionTLS12, 10, false, nil},
		{"chrome-grease", 0x0303, VersionTLS13, 16, true, []uint16{0x0a0a, 0x001d}},
		{"chrome-kyber", 0x0303, VersionTLS13, 16, true, []uint16{0xcaca, groupX25519Kyber768Draft00, 0x001d}},
		{"split-client-hello", 0x0303, VersionTLS13, 16, true, []uint16{0x3a3a, groupX25519MLKEM768, 0x001d}},
		{"openssl-ssl3", 0x0300, VersionSSL3, 46, false, nil},
		{"draft18-arkime", 0x0303, 0x7f12, 19, true, []uint16{0x5a5a, 0x001d}},
		{"chrome-draft23", 0x0303, 0x7f17, 17, true, []uint16{0x9a9a, 0x001d}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handshake
			h.ScanClient(readTLSHex(t, tt.name+".client.hex"))
			m := &h.ClientHello
			if h.ClientErr != nil || h.ClientHellos != 1 {
				t.Fatalf("err %v hellos %d", h.ClientErr, h.ClientHellos)
			}
			if m.LegacyVersion != tt.legacy || m.MaxVersion() != tt.maxVersion || len(m.CipherSuites) != tt.suites {
				t.Errorf("legacy %#04x max %s suites %d", m.LegacyVersion, m.MaxVersion().Detail(), len(m.CipherSuites))
			}
			if slices.ContainsFunc(m.CipherSuites, IsGREASE) != tt.grease || slices.ContainsFunc(m.Extensions, IsGREASE) != tt.grease {
				t.Errorf("GREASE presence differs from %v", tt.grease)
			}
			if !slices.Equal(m.KeyShareGroups, tt.keyShares) {
				t.Errorf("key shares %x, want %x", m.KeyShareGroups, tt.keyShares)
			}
		})
	}
}

func FuzzClientHello(f *testing.F) {
	f.Add(buildClientHello(validCH()))
	f.Add(sslv2Hello(0x0301, []byte{0, 0, 0x39}, nil, make([]byte, 16), sslv2MsgClientHello, nil))
	for _, name := range tlsStreamNames(f) {
		var h Handshake
		h.ScanClient(readTLSHex(f, name+".client.hex"))
		if h.ClientHellos > 0 {
			// The reassembled message, straight from the scanner's buffer.
			f.Add(clientHelloBytes(&h))
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var m ClientHello
		err := m.Unmarshal(msg)
		parsed := m.LegacyVersion != 0 || m.Random != nil || m.SSLv2
		if (err != nil) == parsed {
			t.Fatalf("err %v but parsed %v", err, parsed)
		}
		if err == nil {
			_, _, _, _ = m.JA3(), m.JA4('t'), m.JA4Raw('d'), m.MaxVersion()
			if !slices.Equal(m.Extensions, m.Extensions) || len(m.Random) > len(msg) {
				t.Fatal("impossible")
			}
		}
	})
}

// clientHelloBytes returns the first whole handshake message of the scanner's
// client buffer.
func clientHelloBytes(h *Handshake) []byte {
	if h.ClientHello.SSLv2 {
		return slices.Clone(h.client.hs)
	}
	s := cryptobyte.String(h.client.hs)
	var typ uint8
	var body cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&body) {
		return nil
	}
	return handshakeMessage(typ, body)
}

// TestClientHelloDTLS: the cookie after the session ID (RFC 6347 §4.2.1), and DTLS
// version ordering in MaxVersion (the newest DTLS version is the lowest number).
func TestClientHelloDTLS(t *testing.T) {
	f := validCH()
	f.version = uint16(VersionDTLS12)
	f.dtls, f.cookie = true, []byte{1, 2, 3, 4}
	f = withExtension(f, extensionSupportedVersions, []byte{4, 0xfe, 0xfd, 0xfe, 0xfc})
	var m ClientHello
	if err := m.UnmarshalDTLS(buildClientHello(f)); err != nil {
		t.Fatal(err)
	}
	if !m.DTLS || string(m.Cookie) != "\x01\x02\x03\x04" || string(m.ServerName) != "example.com" {
		t.Errorf("dtls %v cookie %x sni %q", m.DTLS, m.Cookie, m.ServerName)
	}
	if m.MaxVersion() != VersionDTLS13 || m.JA4('d')[:4] != "dd3d" {
		t.Errorf("max version %v, ja4 %s", m.MaxVersion(), m.JA4('d'))
	}
	// Without supported_versions, the legacy version; non-DTLS values are ignored.
	f = withExtension(f, extensionSupportedVersions, []byte{2, 0x03, 0x04})
	if err := m.UnmarshalDTLS(buildClientHello(f)); err != nil || m.MaxVersion() != VersionDTLS12 || m.JA4('d')[:3] != "dd2" {
		t.Errorf("%v: max version %v", err, m.MaxVersion())
	}
	// The same bytes are no TLS ClientHello (the cookie is taken for the suites),
	// and Unmarshal clears DTLS and Cookie.
	if err := m.Unmarshal(buildClientHello(f)); err == nil || m.DTLS || m.Cookie != nil {
		t.Errorf("TLS parse of a DTLS hello: %v %+v", err, m)
	}
	// The cookie length must fit.
	msg := append([]byte{handshakeTypeClientHello, 0, 0, 39, 0xfe, 0xff}, make([]byte, helloRandomLen)...)
	msg = append(msg, 0, 10, 1, 2, 3) // no session ID, a 10-byte cookie of which 3 bytes are there
	if err := m.UnmarshalDTLS(msg); !errors.Is(err, ErrTruncated) || m.DTLS {
		t.Errorf("cookie past the end: %v", err)
	}
}
