package classify

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readConn loads a recorded connection from testdata/tls: the first bytes of each
// direction, starting at the first TLS byte.
func readConn(t testing.TB, name string) (client, server []byte) {
	t.Helper()
	load := func(side string) []byte {
		raw, err := os.ReadFile(filepath.Join("testdata", "tls", name+"."+side+".hex"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return load("client"), load("server")
}

func TestClassifyRecordedTLS(t *testing.T) {
	tests := []struct {
		conn       string
		version    Version
		sni        string
		hrr        bool
		resumed    bool
		clientCert Answer // a client certificate, from its message or the TLS 1.3 flight
		requested  Answer // the server asked for one
		cert       bool   // server certificate in clear
	}{
		{"go126-tls13", VersionTLS13, "", false, false, AnswerNo, AnswerNo, false},
		{"go126-tls12", VersionTLS12, "", false, false, AnswerNo, AnswerNo, true},
		{"go126-tls12-mtls", VersionTLS12, "", false, false, AnswerYes, AnswerYes, true},
		{"go126-tls12-resume", VersionTLS12, "", false, true, AnswerUnknown, AnswerUnknown, false},
		{"go126-tls13-resume", VersionTLS13, "", false, true, AnswerUnknown, AnswerUnknown, false},
		{"go126-hrr", VersionTLS13, "", true, false, AnswerNo, AnswerNo, false},
		{"openssl3-hrr", VersionTLS13, "", true, false, AnswerNo, AnswerNo, false},
		{"chrome-hrr", VersionTLS13, "", true, false, AnswerUnknown, AnswerUnknown, false},
		{"openssl-tls1", VersionTLS10, "", false, false, AnswerNo, AnswerNo, true},
		{"openssl-tls1_1", VersionTLS11, "", false, false, AnswerNo, AnswerNo, true},
		{"openssl-ssl3", VersionSSL3, "", false, false, AnswerNo, AnswerNo, true},
		{"curl-tls13", VersionTLS13, "", false, false, AnswerNo, AnswerNo, false},
	}
	for _, tt := range tests {
		t.Run(tt.conn, func(t *testing.T) {
			cl, sv := readConn(t, tt.conn)
			var c Classifier
			v, done := c.Classify(&Input{Proto: 6, Client: cl, Server: sv, ClientMore: true, ServerMore: true})
			if !done {
				v, _ = c.Classify(&Input{Proto: 6, Client: cl, Server: sv, Final: true})
			}
			if v.Class != ClassTLS || v.Version.Normalized() != tt.version {
				t.Fatalf("class %v version %v, want tls %v (reason %q, parse error %q)", v.Class, v.Version, tt.version, v.Reason, v.ParseError)
			}
			if v.HRR != tt.hrr || v.Resumed != tt.resumed || v.ClientCert != tt.clientCert || v.ClientCertRequested != tt.requested ||
				(v.ServerCert != nil) != tt.cert {
				t.Errorf("hrr %v resumed %v client cert %v requested %v server cert %v; want %v %v %v %v %v",
					v.HRR, v.Resumed, v.ClientCert, v.ClientCertRequested, v.ServerCert != nil,
					tt.hrr, tt.resumed, tt.clientCert, tt.requested, tt.cert)
			}
			if v.JA3 == "" || v.JA4 == "" || v.JA3S == "" || v.Cipher == 0 {
				t.Errorf("fingerprints missing: ja3 %q ja4 %q ja3s %q cipher %#x", v.JA3, v.JA4, v.JA3S, v.Cipher)
			}
		})
	}
}

// TestClassifyWaitsThroughHRR: a TLS 1.3 HelloRetryRequest with the middlebox
// compatibility ChangeCipherSpec both ways must not end the handshake; the verdict
// waits for the real ServerHello.
func TestClassifyWaitsThroughHRR(t *testing.T) {
	cl, sv := readConn(t, "go126-hrr")
	var h Handshake
	h.ScanClient(cl)
	h.ScanServer(sv)
	if !h.HRR || !h.ServerHelloSeen || h.HRRVersion.Normalized() != VersionTLS13 {
		t.Fatalf("hrr %v server hello %v hrr version %v", h.HRR, h.ServerHelloSeen, h.HRRVersion)
	}
	// Cut the server's bytes just after the HelloRetryRequest (and its CCS).
	for n := 1; n < len(sv); n++ {
		var p Handshake
		p.ScanClient(cl)
		p.ScanServer(sv[:n])
		if p.HRR && !p.ServerHelloSeen && p.Complete() {
			t.Fatalf("complete after %d server bytes with only a HelloRetryRequest", n)
		}
	}
}

func TestClassifyStreams(t *testing.T) {
	tlsHello, _ := readConn(t, "go126-tls13")
	tests := []struct {
		name     string
		in       Input
		done     bool
		class    Class
		app      App
		reason   string
		starttls bool
	}{
		{"http request", Input{Client: []byte("GET /orders HTTP/1.1\r\nHost: orders\r\n\r\n"), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppHTTP, "", false},
		{"redis", Input{Client: []byte("*1\r\n$4\r\nPING\r\n"), Server: []byte("+PONG\r\n"), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppRedis, "", false},
		{"ssh banner", Input{Server: []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), ClientMore: true, ServerMore: true}, true, ClassSSH, AppSSH, "", false},
		{"client hello alone waits", Input{Client: tlsHello[:300], ClientMore: true, ServerMore: true}, false, 0, 0, "", false},
		{"client hello only, final", Input{Client: tlsHello, Final: true}, true, ClassTLS, AppNone, "", false},
		{"nothing", Input{Final: true}, true, ClassUnknown, AppNone, ReasonNoPayload, false},
		{"short binary waits", Input{Client: []byte{0, 1, 2, 3}, ClientMore: true, ServerMore: true}, false, 0, 0, "", false},
		{"short binary final", Input{Client: []byte{0, 1, 2, 3}, Final: true}, true, ClassUnknown, AppNone, ReasonTooFewBytes, false},
		{"binary", Input{Client: make([]byte, 600), ClientMore: true, ServerMore: true}, true, ClassUnknown, AppNone, ReasonBinary, false},
		{"readable text", Input{Client: []byte(strings.Repeat("hello there, this is text. ", 20)), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppNone, "", false},
		{"midstream binary", Input{Client: make([]byte, 600), Midstream: true, Final: true}, true, ClassUnknown, AppNone, ReasonMidstream, false},
		{"midstream tls records", Input{Client: append(append([]byte{23, 3, 3, 0, 4, 1, 2, 3, 4}, 23, 3, 3, 0, 2, 9), 9), Midstream: true, ClientMore: true, ServerMore: true}, true, ClassTLS, AppNone, ReasonMidstream, false},
		{"postgres startup is plaintext at once", Input{Client: pgStartup(), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppPostgreSQL, "", false},
		{"postgres sslrequest waits", Input{Client: []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}, ClientMore: true, ServerMore: true}, false, 0, 0, "", false},
		{"postgres sslrequest then tls", Input{Client: append([]byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}, tlsHello...), Server: []byte("S"), Final: true}, true, ClassTLS, AppPostgreSQL, "", true},
		{"postgres sslrequest refused", Input{Client: []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}, Server: []byte("N"), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppPostgreSQL, "", false},
		{"smtp before starttls waits", Input{Client: []byte("EHLO client\r\n"), Server: []byte("220 mail ESMTP\r\n250-mail\r\n250 STARTTLS\r\n"), ClientMore: true, ServerMore: true}, false, 0, 0, "", false},
		{"smtp never upgraded", Input{Client: []byte("EHLO client\r\nMAIL FROM:<a@b>\r\n"), Server: []byte("220 mail ESMTP\r\n250 ok\r\n"), Final: true}, true, ClassPlaintext, AppSMTP, "", false},
		{"smtp starttls unfinished", Input{Client: []byte("EHLO client\r\nSTARTTLS\r\n"), Server: []byte("220 mail ESMTP\r\n250 ok\r\n"), Final: true}, true, ClassUnknown, AppSMTP, ReasonStartTLSPending, false},
		{"socks5 then tls", Input{Client: append([]byte("\x05\x01\x00\x05\x01\x00\x03\x0capi.internal\x01\xbb"), tlsHello...), Server: []byte("\x05\x00\x05\x00\x00\x01\x0a\x00\x00\x02\x01\xbb"), Final: true}, true, ClassTLS, AppNone, "", false},
		{"socks4 then http", Input{Client: []byte("\x04\x01\x00\x50\x0a\x00\x00\x02app\x00GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Server: []byte("\x00\x5a\x00\x00\x00\x00\x00\x00"), ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppHTTP, "", false},
		{"socks5 refused", Input{Client: []byte("\x05\x01\x00"), Server: []byte("\x05\xff"), Final: true}, true, ClassPlaintext, AppSOCKS, "", false},
		{"rdp then tls", Input{Client: append(rdpCR(1), tlsHello...), Server: rdpCC(1), Final: true}, true, ClassTLS, AppRDP, "", true},
		{"rdp standard security", Input{Client: rdpCR(0), Server: rdpCC(0), ClientMore: true, ServerMore: true}, true, ClassUnknown, AppRDP, ReasonRDPSecurity, false},
		{"dns datagram", Input{Proto: 17, Client: framed(dnsQuery()), ClientPort: 40000, ServerPort: 53, ClientMore: true, ServerMore: true}, true, ClassPlaintext, AppDNS, "", false},
		{"unknown datagram", Input{Proto: 17, Client: framed([]byte{1, 2, 3}), Final: true}, true, ClassUnknown, AppNone, ReasonDatagram, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Proto == 0 {
				tt.in.Proto = 6
			}
			var c Classifier
			v, done := c.Classify(&tt.in)
			if done != tt.done {
				t.Fatalf("done = %v, want %v (verdict %+v)", done, tt.done, v)
			}
			if !done {
				return
			}
			if v.Class != tt.class || v.App != tt.app || v.Reason != tt.reason || v.StartTLS != tt.starttls {
				t.Errorf("got %v/%v reason %q starttls %v; want %v/%v reason %q starttls %v",
					v.Class, v.App, v.Reason, v.StartTLS, tt.class, tt.app, tt.reason, tt.starttls)
			}
		})
	}
}

// TestClassifyNeverPlaintextForTLS: no prefix of a recorded TLS connection may ever
// be called plaintext.
func TestClassifyNeverPlaintextForTLS(t *testing.T) {
	for _, name := range []string{"go126-tls13", "openssl-tls1", "chrome-grease", "openssl-ssl3"} {
		cl, sv := readConn(t, name)
		var c Classifier
		for n := 0; n <= len(cl); n += 7 {
			for _, m := range []int{0, len(sv) / 3, len(sv)} {
				v, done := c.Classify(&Input{Proto: 6, Client: cl[:n], Server: sv[:m], Final: true})
				if done && v.Class == ClassPlaintext {
					t.Fatalf("%s: %d client and %d server bytes called plaintext", name, n, m)
				}
			}
		}
	}
}

// rdpCR is an X.224 Connection Request asking for the given RDP security protocols.
func rdpCR(protocols byte) []byte {
	return []byte{3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, protocols, 0, 0, 0}
}

// rdpCC is an X.224 Connection Confirm selecting protocol.
func rdpCC(protocol byte) []byte {
	return []byte{3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, protocol, 0, 0, 0}
}

func pgStartup() []byte {
	body := "\x00\x03\x00\x00user\x00app\x00database\x00orders\x00\x00"
	n := len(body) + 4
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func dnsQuery() []byte {
	return []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03api\x08internal\x00\x00\x01\x00\x01")
}

func framed(d []byte) []byte { return append([]byte{byte(len(d) >> 8), byte(len(d))}, d...) }

func TestQUICAndWireGuard(t *testing.T) {
	initial := make([]byte, 1200)
	initial[0] = 0xc0 // long header, Initial
	copy(initial[1:5], []byte{0, 0, 0, 1})
	initial[5] = 8 // DCID length
	initial[14] = 0
	wg := make([]byte, 148)
	wg[0] = 1
	var c Classifier
	for _, tt := range []struct {
		name  string
		dgram []byte
		class Class
		other string
	}{
		{"quic v1 initial", initial, ClassTLS, "quic"},
		{"wireguard initiation", wg, ClassEncrypted, "wireguard"},
	} {
		v, done := c.Classify(&Input{Proto: 17, Client: framed(tt.dgram), ClientMore: true, ServerMore: true})
		if !done || v.Class != tt.class || v.AppOther != tt.other {
			t.Errorf("%s: done %v class %v other %q", tt.name, done, v.Class, v.AppOther)
		}
	}
	short := initial[:1100]
	if v, _ := c.Classify(&Input{Proto: 17, Client: framed(short), Final: true}); v.Class != ClassUnknown {
		t.Errorf("an Initial shorter than 1200 bytes was called %v", v.Class)
	}
}

func BenchmarkClassifyTLS13(b *testing.B) {
	cl, sv := readConn(b, "go126-tls13")
	var c Classifier
	in := Input{Proto: 6, Client: cl, Server: sv, ClientMore: true, ServerMore: true}
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

func BenchmarkClassifyUndecided(b *testing.B) {
	cl, _ := readConn(b, "go126-tls13")
	var c Classifier
	in := Input{Proto: 6, Client: cl[:600], ClientMore: true, ServerMore: true}
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(&in)
	}
}

// FuzzClassify: any bytes, either transport, must give a verdict when final, without
// panicking; a verdict that is not final must come back as not done.
func FuzzClassify(f *testing.F) {
	cl, sv := readConn(f, "go126-tls12")
	f.Add(cl, sv, false)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"), false)
	f.Add(framed(dnsQuery()), []byte{}, true)
	ovc, ovs := framedDirections(readDatagrams(f, "openvpn", "udp-hmac-sha1-arkime"))
	f.Add(ovc, ovs, true)
	f.Add(ovc, ovs, false)
	for name := range recordedDatagrams {
		e := loadExchange(f, name)
		f.Add(framedAll(e.client), framedAll(e.server), true)
	}
	for _, name := range []string{"starttls-nats", "mqtt5-mosquitto", "syslog-tcp-octet-logger"} {
		e := loadExchange(f, name)
		f.Add(e.client, e.server, false)
	}
	f.Fuzz(func(t *testing.T, client, server []byte, udp bool) {
		in := Input{Proto: 6, Client: client, Server: server, ClientMore: true, ServerMore: true}
		if udp {
			in.Proto = 17
		}
		var c Classifier
		c.Classify(&in)
		in.Final = true
		v, done := c.Classify(&in)
		if !done {
			t.Fatal("final classification not done")
		}
		if v.Class == ClassUnknown && v.Reason == "" {
			t.Fatalf("unknown without a reason: %+v", v)
		}
	})
}

// TestRawFingerprints: the strings behind JA3, JA3S and JA4 are in the verdict only
// when asked for, and hash to the fingerprints beside them.
func TestRawFingerprints(t *testing.T) {
	cl, sv := readConn(t, "curl-tls13")
	in := Input{Proto: 6, Client: cl, Server: sv, Final: true}
	var c Classifier
	v, _ := c.Classify(&in)
	if v.JA3 == "" || v.JA3String != "" || v.JA3SString != "" || v.JA4Raw != "" {
		t.Fatalf("without RawFingerprints: ja3 %q, strings %q %q %q", v.JA3, v.JA3String, v.JA3SString, v.JA4Raw)
	}
	in.RawFingerprints = true
	v, _ = c.Classify(&in)
	if md5Hex(v.JA3String) != v.JA3 || md5Hex(v.JA3SString) != v.JA3S || !strings.HasPrefix(v.JA4Raw, v.JA4[:11]) {
		t.Errorf("JA3 %s of %q, JA3S %s of %q, JA4 %s of %q", v.JA3, v.JA3String, v.JA3S, v.JA3SString, v.JA4, v.JA4Raw)
	}
}
