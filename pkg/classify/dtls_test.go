package classify

import (
	"errors"
	"testing"
)

// TestDTLSRecorded classifies DTLS flows of the reference corpus (testdata/dtls, see
// testdata/quic/README.md for where each comes from and which tool's output each
// expected value matches).
func TestDTLSRecorded(t *testing.T) {
	tests := []struct {
		name    string
		sni     string
		version Version
		ja3     string
		ja3s    string
		ja4     string
		cipher  uint16
		hrr     bool
		cert    bool
		atCount int
	}{
		{"dtls10-zeek", "", VersionDTLS10, "0dab7dadc76b31d578cb41b8c2838cd9", "2066c878accbcb34c1b9ef82aad90709", "dd1i550400_26d3f80692a9_282f11336259", 0xc014, false, true, 6},
		{"dtls10-openssl-0100", "", versionDTLS10OpenSSL, "af322fd164d4c667145802d082cca779", "8f48e117ae3543615168a2b087cda528", "d00i270000_fd1a708466c1_000000000000", 0x0035, false, true, 4},
		{"dtls12-zeek", "", VersionDTLS12, "3c3d129780d0066cd8936a6291a8d44f", "953c1507994f72697446de4eff6e300b", "dd2i800500_9cedc1f1428b_a1e935682795", 0xc030, false, true, 10},
		{"dtls12-cert-fragments", "", VersionDTLS10, "3c3d129780d0066cd8936a6291a8d44f", "d45798bc098cd930de7eb2f5f866e994", "dd2i800500_9cedc1f1428b_a1e935682795", 0x0035, false, true, 5},
		{"dtls12-cookie-session-id", "", VersionDTLS12, "e15c510766789ed8f49de0e37951c1da", "a1d48eca741e476d8ee735578a26bdbd", "dd2i010000_653ffb6f323e_000000000000", 0xc02c, false, false, 4},
		{"dtls12-ipv6", "", VersionDTLS12, "b873950d512f587035f617fb93b988ac", "6070981cae5ee8ae4e5db0c2b23115f3", "dd2i030300_f7e428980f70_6c817ce3d217", 0xc0ff, false, false, 6},
		// After a HelloRetryRequest JA3 and JA4 are the first ClientHello's (tshark's
		// first row; nDPI's JA3), JA3S the real ServerHello's.
		{"dtls13-hrr", "", VersionDTLS13, "320d2222212f652e923c3458b463c5b4", "c2c89a8b10ca74ec5a350a59fb762fb6", "dd3i270600_991e33d7eb74_10f9deb96590", 0x1301, true, false, 4},
		{"dtls13-wolfssl", "", VersionDTLS13, "ab7ea25b30fb7a01b2705f9286cdca5b", "c2c89a8b10ca74ec5a350a59fb762fb6", "dd3i270500_991e33d7eb74_06a427f2011b", 0x1301, true, false, 4},
		{"openssl3-dtls10", "dtls.example.test", VersionDTLS10, "433c7899c15ff2fb595d12853c53be68", "e3e0a2ca395d2aefb0de956e2dacb58a", "dd1d0907tt_c491f621fb4c_195413a0cc0f", 0xc00a, false, true, 6},
		{"openssl3-dtls12", "dtls.example.test", VersionDTLS12, "096df697a18c538158d6a52abc65a0db", "eff0655f7bb8bb065a13f7242867ed33", "dd2d2808tt_d943125447b4_3c5a66c06c35", 0xc02c, false, true, 6},
		{"dtls-webrtc-stun", "", VersionDTLS10, "69b4c10438dd27f06b1a694c67e63ba1", "1cfcbe58451407e23669f1dd08565519", "dd1i730400_4a43a1544aeb_dbc12469f409", 0xc00a, false, true, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Classifier
			v, n := replay(&c, readDatagrams(t, "dtls", tt.name))
			if v.Class != ClassTLS || v.AppOther != "dtls" || v.SNI != tt.sni || v.Version != tt.version || v.JA3 != tt.ja3 ||
				v.JA3S != tt.ja3s || v.JA4 != tt.ja4 || v.Cipher != tt.cipher || v.HRR != tt.hrr ||
				(v.ServerCert != nil) != tt.cert || v.ParseError != "" {
				t.Errorf("got %v %q sni %q %v ja3 %s ja3s %s ja4 %s cipher %#04x hrr %v cert %v parse %q",
					v.Class, v.AppOther, v.SNI, v.Version, v.JA3, v.JA3S, v.JA4, v.Cipher, v.HRR, v.ServerCert != nil, v.ParseError)
			}
			if n != tt.atCount {
				t.Errorf("verdict after datagram %d, want %d", n, tt.atCount)
			}
		})
	}
}

// dtlsFragment encodes a handshake fragment (RFC 6347 §4.2.2).
func dtlsFragment(msgType uint8, length int, seq uint16, off int, data []byte) []byte {
	b := []byte{msgType, byte(length >> 16), byte(length >> 8), byte(length), byte(seq >> 8), byte(seq),
		byte(off >> 16), byte(off >> 8), byte(off), byte(len(data) >> 16), byte(len(data) >> 8), byte(len(data))}
	return append(b, data...)
}

// dtlsRecord encodes a record (RFC 6347 §4.1).
func dtlsRecord(typ uint8, version uint16, epoch uint16, seq uint64, payload []byte) []byte {
	b := []byte{typ, byte(version >> 8), byte(version), byte(epoch >> 8), byte(epoch),
		byte(seq >> 40), byte(seq >> 32), byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq),
		byte(len(payload) >> 8), byte(len(payload))}
	return append(b, payload...)
}

// dtlsHello returns the body of a DTLS ClientHello and of a DTLS 1.2 ServerHello.
func dtlsHellos(cookie []byte) (ch, sh []byte) {
	f := validCH()
	f.version = uint16(VersionDTLS12)
	f.dtls, f.cookie = true, cookie
	f = withExtension(f, extensionSupportedVersions, []byte{2, 0xfe, 0xfd})
	ch = buildClientHello(f)[4:]
	sh = append([]byte{0xfe, 0xfd}, make([]byte, helloRandomLen)...)
	sh = append(sh, 0, 0xc0, 0x2b, 0) // no session ID, the suite, no compression
	return ch, sh
}

// TestDTLSHandshake: fragments in any order, the HelloVerifyRequest round trip and
// when the verdict comes.
func TestDTLSHandshake(t *testing.T) {
	ch, sh := dtlsHellos(nil)
	ch2, _ := dtlsHellos([]byte{7, 7, 7, 7})
	hvr := []byte{0xfe, 0xff, 4, 7, 7, 7, 7}
	n := len(ch)
	hs := func(seq uint64, frags ...[]byte) []byte {
		var p []byte
		for _, f := range frags {
			p = append(p, f...)
		}
		return dtlsRecord(recordTypeHandshake, uint16(VersionDTLS10), 0, seq, p)
	}
	client := [][]byte{
		// The first hello in three fragments, the last first, two in one record.
		hs(0, dtlsFragment(handshakeTypeClientHello, n, 0, 20, ch[20:])),
		hs(1, dtlsFragment(handshakeTypeClientHello, n, 0, 0, ch[:10]), dtlsFragment(handshakeTypeClientHello, n, 0, 10, ch[10:20])),
		hs(2, dtlsFragment(handshakeTypeClientHello, len(ch2), 1, 0, ch2)),
	}
	server := [][]byte{
		hs(0, dtlsFragment(handshakeTypeHelloVerifyRequest, len(hvr), 0, 0, hvr)),
		append(hs(1, dtlsFragment(handshakeTypeServerHello, len(sh), 1, 0, sh)),
			hs(2, dtlsFragment(handshakeTypeServerHelloDone, 0, 2, 0, nil))...),
	}
	h, err := ParseDTLS(frame(client...), frame(server...))
	if err != nil {
		t.Fatal(err)
	}
	if h.ClientHellos != 2 || string(h.ClientHello.Cookie) != "\x07\x07\x07\x07" || !h.HelloVerifyRequest ||
		!h.ServerHelloSeen || !h.ServerHelloDone || h.ServerHello.CipherSuite != 0xc02b || h.Swapped {
		t.Fatalf("%+v", h)
	}
	// Either direction may be the client (WebRTC).
	if h, err := ParseDTLS(frame(server...), frame(client...)); err != nil || !h.Swapped || h.ClientHellos != 2 {
		t.Fatalf("swapped: %v %+v", err, h)
	}

	// The verdict waits for the server's answer, and after a HelloVerifyRequest
	// for the second hello.
	var c Classifier
	in := Input{Proto: 17, Client: frame(client[:2]...), ClientMore: true, ServerMore: true}
	if _, done := c.Classify(&in); done {
		t.Fatal("decided on the first hello")
	}
	in.Server = frame(server[0])
	if _, done := c.Classify(&in); done {
		t.Fatal("decided on the HelloVerifyRequest")
	}
	in.Client = frame(client...)
	if _, done := c.Classify(&in); done {
		t.Fatal("decided before the ServerHello")
	}
	in.Server = frame(server...)
	v, done := c.Classify(&in)
	if !done || v.Version != VersionDTLS12 || v.AppOther != "dtls" || v.SNI != "example.com" || v.JA4[:4] != "dd2d" {
		t.Fatalf("done %v: %+v", done, v)
	}
	// Without the server, the end of the flow decides.
	in.Server, in.Final = nil, true
	if v, done := c.Classify(&in); !done || v.Class != ClassTLS || v.Version != 0 || v.SNI != "example.com" {
		t.Fatalf("client only: %+v", v)
	}
}

// TestDTLSInvalid has one case per rule the DTLS parser enforces.
func TestDTLSInvalid(t *testing.T) {
	ch, _ := dtlsHellos(nil)
	n := len(ch)
	rec := func(payload []byte) []byte {
		return dtlsRecord(recordTypeHandshake, uint16(VersionDTLS12), 0, 0, payload)
	}
	whole := rec(dtlsFragment(handshakeTypeClientHello, n, 0, 0, ch))
	tests := []struct {
		name string
		a    [][]byte
		err  error
	}{
		{"truncated record header", [][]byte{whole[:10]}, errDTLSRecordHeader},
		{"record length beyond the datagram", [][]byte{whole[:len(whole)-1]}, errDTLSRecordLength},
		{"TLS record version", [][]byte{dtlsRecord(recordTypeHandshake, 0x0303, 0, 0, whole[13:])}, errDTLSRecordVersion},
		{"unknown content type", [][]byte{dtlsRecord(30, uint16(VersionDTLS12), 0, 0, whole[13:])}, errDTLSRecordType},
		{"fragment beyond its record", [][]byte{rec(dtlsFragment(handshakeTypeClientHello, n, 0, 0, ch)[:40])}, errDTLSFragment},
		{"fragment overrun", [][]byte{rec(dtlsFragment(handshakeTypeClientHello, n, 0, n-5, ch[:10]))}, errDTLSOverrun},
		{"fragments disagree on the length", [][]byte{rec(append(dtlsFragment(handshakeTypeClientHello, n, 0, 0, ch[:10]),
			dtlsFragment(handshakeTypeClientHello, n+1, 0, 10, ch[10:])...))}, errSpanConflict},
		{"fragments disagree on the bytes", [][]byte{rec(append(dtlsFragment(handshakeTypeClientHello, n, 0, 0, ch[:10]),
			dtlsFragment(handshakeTypeClientHello, n, 0, 5, flipFirst(ch[5:]))...))}, errSpanConflict},
		{"message over 64 KiB", [][]byte{rec(dtlsFragment(handshakeTypeClientHello, 1<<20, 0, 0, ch))}, errHandshakeLen},
		{"hello cut short", [][]byte{rec(dtlsFragment(handshakeTypeClientHello, 30, 0, 0, ch[:30]))}, ErrTruncated},
		{"hello missing a fragment", [][]byte{rec(dtlsFragment(handshakeTypeClientHello, n, 0, 10, ch[10:]))}, errDTLSNoHello},
		{"not DTLS at all", [][]byte{{0x80, 1, 2}}, errDTLSNoHello},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseDTLS(frame(tt.a...), nil)
			if h != nil || err == nil {
				t.Fatalf("result %v, error %v", h != nil, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}
	// A bad HelloVerifyRequest is the server's error; the hello still counts.
	bad := dtlsRecord(recordTypeHandshake, uint16(VersionDTLS10), 0, 0,
		dtlsFragment(handshakeTypeHelloVerifyRequest, 4, 0, 0, []byte{0xfe, 0xff, 9, 1}))
	h, err := ParseDTLS(frame(whole), frame(bad))
	if err != nil || !errors.Is(h.ServerErr, errDTLSHVR) || h.HelloVerifyRequest {
		t.Fatalf("%v %+v", err, h)
	}
	// A malformed hello makes the flow unknown, as for TCP.
	var c Classifier
	v, done := c.Classify(&Input{Proto: 17, Client: frame(rec(dtlsFragment(handshakeTypeClientHello, 30, 0, 0, ch[:30]))), Final: true})
	if !done || v.Class != ClassUnknown || v.Reason != ReasonTLSMalformed || v.ParseError != "truncated" {
		t.Fatalf("malformed hello: %+v", v)
	}
}

// TestDTLSUnifiedHeader: DTLS 1.3 ciphertext records are recognised and skipped
// when their length is there, and end the datagram when it is not.
func TestDTLSUnifiedHeader(t *testing.T) {
	var d dtlsDir
	d.reset()
	// 001CSLEE: no CID, 16-bit sequence, length present, then a clear alert.
	alert := dtlsRecord(recordTypeAlert, uint16(VersionDTLS12), 0, 1, []byte{alertLevelFatal, 40})
	d.datagram(append([]byte{0x2e, 0, 1, 0, 3, 0xaa, 0xbb, 0xcc}, alert...))
	if !d.encrypted || !d.alertSeen || d.alert != 40 || !d.fatal || d.err != nil {
		t.Errorf("%+v", d.dtlsDirState)
	}
	d.reset()
	d.datagram([]byte{0x3e, 0, 1, 2, 0, 3, 0xaa, 0xbb, 0xcc}) // with a CID: cannot be delimited
	if !d.encrypted || d.err != nil {
		t.Errorf("%+v", d.dtlsDirState)
	}
	d.reset()
	d.datagram([]byte{0x2c, 0, 1, 0, 9, 0xaa}) // length past the datagram
	if !errors.Is(d.err, errDTLSRecordLength) {
		t.Errorf("%v", d.err)
	}
}

// BenchmarkClassifyDTLSUndecided is a DTLS client waiting for the server: nothing is
// allocated.
func BenchmarkClassifyDTLSUndecided(b *testing.B) {
	dgrams := readDatagrams(b, "dtls", "dtls12-zeek")
	var c Classifier
	in := Input{Proto: 17, Client: frame(dgrams[0].b), ClientMore: true, ServerMore: true}
	c.Classify(&in)
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

// FuzzDTLS: ParseDTLS never panics and returns an error exactly when it returns no
// result; the classifier always decides when asked for a final verdict.
func FuzzDTLS(f *testing.F) {
	// The first datagrams only: small inputs keep the fuzzer's minimisation short.
	for _, name := range []string{"dtls12-zeek", "dtls13-hrr", "dtls-webrtc-stun", "dtls12-cert-fragments", "dtls10-openssl-0100"} {
		dgrams := readDatagrams(f, "dtls", name)
		cl, sv := framedDirections(dgrams[:min(len(dgrams), 4)])
		f.Add(cl, sv)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		h, err := ParseDTLS(a, b)
		if (h == nil) != (err != nil) {
			t.Fatalf("result %v, error %v", h != nil, err)
		}
		if h != nil && h.ClientHellos == 0 && !h.ServerHelloSeen {
			t.Fatal("a result without a hello")
		}
		var c Classifier
		in := Input{Proto: 17, Client: a, Server: b, ClientMore: true, ServerMore: true}
		c.Classify(&in)
		in.Final = true
		if v, done := c.Classify(&in); !done || (v.Class == ClassUnknown && v.Reason == "") {
			t.Fatalf("final: done %v %+v", done, v)
		}
	})
}
