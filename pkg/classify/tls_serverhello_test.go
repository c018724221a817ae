package classify

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// shFields are the fields of a synthetic ServerHello.
type shFields struct {
	version   uint16
	random    []byte
	sessionID []byte
	suite     uint16
	exts      []testExtension
	noExts    bool
	trailing  []byte
	short     bool // draft layout: no session id, no compression
}

func buildServerHello(f shFields) []byte {
	var b cryptobyte.Builder
	b.AddUint8(handshakeTypeServerHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(f.version)
		random := f.random
		if random == nil {
			random = make([]byte, helloRandomLen)
		}
		b.AddBytes(random)
		if !f.short {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.sessionID) })
		}
		b.AddUint16(f.suite)
		if !f.short {
			b.AddUint8(0)
		}
		if !f.noExts {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
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

func validSH() shFields {
	return shFields{
		version:   0x0303,
		sessionID: make([]byte, 32),
		suite:     0x1301,
		exts: []testExtension{
			{extensionSupportedVersions, []byte{3, 4}},
			{extensionKeyShare, []byte{0x11, 0xec, 0, 2, 1, 2}},
			{extensionALPN, []byte{0, 3, 2, 'h', '2'}},
			{extensionExtendedMasterSecret, nil},
			{extensionPSK, []byte{0, 0}},
			{extensionRenegotiationInfo, []byte{0}},
		},
	}
}

func TestServerHelloValid(t *testing.T) {
	tests := []struct {
		name    string
		f       shFields
		version Version
		group   uint16
		hrr     bool
	}{
		{"tls13", validSH(), VersionTLS13, groupX25519MLKEM768, false},
		{"tls12 no extensions", shFields{version: 0x0303, suite: 0xc02f, noExts: true}, VersionTLS12, 0, false},
		{"hello retry request", shFields{version: 0x0303, random: helloRetryRequestRandom[:], suite: 0x1301,
			exts: []testExtension{{extensionSupportedVersions, []byte{3, 4}}, {extensionKeyShare, []byte{0, 0x17}}}},
			VersionTLS13, 0x0017, true},
		{"draft 18 layout", shFields{version: 0x7f12, suite: 0x1301, short: true,
			exts: []testExtension{{extensionKeyShareDraft, []byte{0, 0x1d, 0, 1, 9}}}}, 0x7f12, 0x001d, false},
		{"draft 14 layout", shFields{version: 0x0304, suite: 0xc02b, short: true,
			exts: []testExtension{{extensionKeyShareDraft, []byte{0, 0x17, 0, 1, 9}}}}, VersionTLS13, 0x0017, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ServerHello
			if err := m.Unmarshal(buildServerHello(tt.f)); err != nil {
				t.Fatal(err)
			}
			if m.Version() != tt.version || m.SelectedGroup != tt.group || m.HRR != tt.hrr || m.CipherSuite != tt.f.suite {
				t.Errorf("got %+v", m)
			}
		})
	}
	var m ServerHello
	m.Unmarshal(buildServerHello(validSH()))
	if string(m.ALPN) != "h2" || !m.ExtendedMasterSecret || len(m.SessionID) != 32 ||
		!slices.Equal(m.Extensions, []uint16{43, 51, 16, 23, 41, 0xff01}) {
		t.Errorf("fields: %+v", m)
	}
	if got := m.JA3SString(); got != "771,4865,43-51-16-23-41-65281" {
		t.Errorf("JA3SString = %q", got)
	}
}

// TestServerHelloInvalid has one case per rule Unmarshal enforces.
func TestServerHelloInvalid(t *testing.T) {
	valid := buildServerHello(validSH())
	ext := func(typ uint16, data []byte) []byte {
		f := validSH()
		f.exts = slices.Clone(f.exts)
		for i := range f.exts {
			if f.exts[i].typ == typ {
				f.exts[i].data = data
			}
		}
		return buildServerHello(f)
	}
	mod := func(fn func(*shFields)) []byte {
		f := validSH()
		fn(&f)
		return buildServerHello(f)
	}
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"length beyond input", valid[:len(valid)-1], ErrTruncated},
		{"wrong type", append([]byte{handshakeTypeClientHello}, valid[1:]...), ErrMalformed},
		{"trailing after message", append(slices.Clone(valid), 0), ErrTrailingData},
		{"no cipher suite", handshakeMessage(handshakeTypeServerHello, append(append([]byte{3, 3}, make([]byte, 32)...), 0, 0x13)), ErrTruncated},
		{"session id over 32", mod(func(f *shFields) { f.sessionID = make([]byte, 33) }), ErrMalformed},
		{"extensions truncated", mod(func(f *shFields) { f.noExts, f.trailing = true, []byte{0, 5, 0} }), ErrTruncated},
		{"bytes after extensions", mod(func(f *shFields) { f.trailing = []byte{0} }), ErrTrailingData},
		{"duplicate extension", mod(func(f *shFields) { f.exts = append(f.exts, testExtension{extensionSupportedVersions, []byte{3, 4}}) }), ErrDuplicateExtension},
		{"supported_versions short", ext(extensionSupportedVersions, []byte{3}), ErrMalformed},
		{"supported_versions trailing", ext(extensionSupportedVersions, []byte{3, 4, 0}), ErrTrailingData},
		{"key_share empty key", ext(extensionKeyShare, []byte{0, 0x1d, 0, 0}), ErrMalformed},
		{"key_share no group", ext(extensionKeyShare, []byte{0}), ErrMalformed},
		{"alpn two names", ext(extensionALPN, []byte{0, 6, 2, 'h', '2', 2, 'h', '3'}), ErrMalformed},
		{"alpn empty name", ext(extensionALPN, []byte{0, 1, 0}), ErrMalformed},
		{"extended_master_secret not empty", ext(extensionExtendedMasterSecret, []byte{0}), ErrMalformed},
		{"pre_shared_key short", ext(extensionPSK, []byte{0}), ErrMalformed},
		{"pre_shared_key trailing", ext(extensionPSK, []byte{0, 0, 0}), ErrTrailingData},
		{"sslv2 wrong type", []byte{0x80, 0x0b, 2, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0}, ErrMalformed},
		{"sslv2 truncated", []byte{0x80, 0x0b, 4, 0, 1, 0, 2, 0, 5, 0, 0, 0, 0}, ErrTruncated},
		{"sslv2 trailing", []byte{0x80, 0x0c, 4, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 9}, ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ServerHello
			m.Unmarshal(valid)
			err := m.Unmarshal(tt.msg)
			if err == nil {
				// A broken rule inside a well-framed extension: the hello is kept,
				// with the rule as its Violation.
				if !errors.Is(m.Violation, tt.err) {
					t.Fatalf("err = nil, Violation = %v, want %v", m.Violation, tt.err)
				}
				if m.LegacyVersion == 0 || m.CipherSuite == 0 {
					t.Errorf("hello with a violation not kept: %+v", m)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if m.LegacyVersion != 0 || m.CipherSuite != 0 || len(m.Extensions) != 0 || m.ALPN != nil || m.Violation != nil {
				t.Errorf("not reset after error: %+v", m)
			}
		})
	}
}

func TestServerHelloSSLv2(t *testing.T) {
	var h Handshake
	h.ScanServer(readTLSHex(t, "sslv2-pure.server.hex"))
	m := &h.ServerHello
	if h.ServerErr != nil || !h.ServerHelloSeen || m.Version() != VersionSSL2 || m.Version().String() != "SSL2" {
		t.Fatalf("err %v seen %v version %v", h.ServerErr, h.ServerHelloSeen, m.Version())
	}
	if len(m.Random) != 16 || !h.Complete() {
		t.Errorf("connection id %d bytes, complete %v", len(m.Random), h.Complete())
	}
}

func FuzzServerHello(f *testing.F) {
	f.Add(buildServerHello(validSH()))
	f.Add([]byte{0x80, 0x0b, 4, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0})
	for _, name := range tlsStreamNames(f) {
		server := readTLSHex(f, name+".server.hex")
		if isSSLv2Record(server) {
			f.Add(server)
			continue
		}
		s := cryptobyte.String(server)
		var typ uint8
		var version uint16
		var payload cryptobyte.String
		if s.ReadUint8(&typ) && s.ReadUint16(&version) && s.ReadUint16LengthPrefixed(&payload) {
			var msgType uint8
			var body cryptobyte.String
			if payload.ReadUint8(&msgType) && payload.ReadUint24LengthPrefixed(&body) {
				f.Add(handshakeMessage(msgType, body))
			}
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var m ServerHello
		err := m.Unmarshal(msg)
		parsed := m.LegacyVersion != 0 || m.Random != nil
		if (err != nil) == parsed {
			t.Fatalf("err %v but parsed %v", err, parsed)
		}
		if err == nil {
			_, _ = m.JA3S(), m.Version().Detail()
		}
	})
}

// TestServerHelloUnreadableVersion: a supported_versions that does not hold one
// version negotiates nothing, and the legacy_version beside it is not taken instead.
func TestServerHelloUnreadableVersion(t *testing.T) {
	f := validSH()
	f.exts = slices.Clone(f.exts)
	for i := range f.exts {
		if f.exts[i].typ == extensionSupportedVersions {
			f.exts[i].data = nil
		}
	}
	var m ServerHello
	if err := m.Unmarshal(buildServerHello(f)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(m.Violation, ErrMalformed) || m.Version() != 0 || m.LegacyVersion != 0x0303 || m.CipherSuite == 0 {
		t.Errorf("Violation %v, Version %v, legacy %#04x, cipher %#04x", m.Violation, m.Version(), m.LegacyVersion, m.CipherSuite)
	}
	if err := m.Unmarshal(buildServerHello(validSH())); err != nil || m.Version() != VersionTLS13 || m.Violation != nil {
		t.Errorf("after a valid hello: err %v, Version %v, Violation %v", err, m.Version(), m.Violation)
	}
}

// TestHeartbeatAccepted: a ServerHello that carries the heartbeat extension agreed to
// heartbeats (RFC 6520 §2), the precondition of Heartbleed.
func TestHeartbeatAccepted(t *testing.T) {
	f := validSH()
	var m ServerHello
	if err := m.Unmarshal(buildServerHello(f)); err != nil {
		t.Fatal(err)
	}
	var v Verdict
	helloVerdict(&v, nil, &m, 't', false)
	if v.HeartbeatAccepted {
		t.Error("heartbeat accepted without the extension")
	}
	f.exts = append(slices.Clone(f.exts), testExtension{extensionHeartbeat, []byte{1}}) // peer_allowed_to_send
	if err := m.Unmarshal(buildServerHello(f)); err != nil {
		t.Fatal(err)
	}
	helloVerdict(&v, nil, &m, 't', false)
	if !v.HeartbeatAccepted {
		t.Error("heartbeat extension in the ServerHello not reported")
	}
}

// TestServerHelloBrokenExtensions: extensions that break off leave the version unknown
// when the unread bytes could have held supported_versions, and the legacy version
// when they are too few to.
func TestServerHelloBrokenExtensions(t *testing.T) {
	for _, tt := range []struct {
		name string
		tail []byte // appended to a valid extension list, inside its length
		want Version
	}{
		{"one stray byte", []byte{0}, VersionTLS12},
		{"five stray bytes", []byte{0, 43, 0, 2, 3}, VersionTLS12},
		{"a cut supported_versions", []byte{0, 43, 0, 4, 3, 4}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := validSH()
			f.exts = []testExtension{{extensionRenegotiationInfo, []byte{0}}}
			msg := buildServerHello(f)
			// Grow the handshake length, the extensions length and the message by tail.
			n := len(tt.tail)
			msg = append(msg, tt.tail...)
			body := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
			body += n
			msg[1], msg[2], msg[3] = byte(body>>16), byte(body>>8), byte(body)
			extLenAt := len(msg) - n - 5 - 2 // the 2-byte list length before the one 5-byte extension
			l := int(msg[extLenAt])<<8 | int(msg[extLenAt+1]) + n
			msg[extLenAt], msg[extLenAt+1] = byte(l>>8), byte(l)
			var m ServerHello
			if err := m.Unmarshal(msg); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(m.Violation, ErrTruncated) || m.Version() != tt.want || m.CipherSuite != 0x1301 {
				t.Errorf("Violation %v, Version %v (want %v), cipher %#04x", m.Violation, m.Version(), tt.want, m.CipherSuite)
			}
		})
	}
}
