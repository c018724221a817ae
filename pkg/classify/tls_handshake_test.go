package classify

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// tlsTestdataDir holds the recorded streams (see testdata/tls/README.md).
const tlsTestdataDir = "testdata/tls"

// readTLSHex reads testdata/tls/<name>, hex with any whitespace.
func readTLSHex(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(tlsTestdataDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return b
}

// tlsStreams returns the recorded client and server bytes of a connection.
func tlsStreams(tb testing.TB, name string) (client, server []byte) {
	tb.Helper()
	return readTLSHex(tb, name+".client.hex"), readTLSHex(tb, name+".server.hex")
}

// tlsStreamNames lists the recorded connections.
func tlsStreamNames(tb testing.TB) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(tlsTestdataDir, "*.client.hex"))
	if err != nil || len(matches) == 0 {
		tb.Fatalf("no recorded streams: %v", err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".client.hex"))
	}
	return names
}

// scanBoth scans a recorded connection the way a caller with both directions does.
func scanBoth(h *Handshake, client, server []byte) {
	h.Reset()
	h.ScanServer(server)
	h.ScanClient(client)
}

// tlsRecord builds one TLS record.
func tlsRecord(typ uint8, version uint16, payload []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typ)
	b.AddUint16(version)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(payload) })
	return b.BytesOrPanic()
}

// handshakeMessage builds a handshake message with its 4-byte header.
func handshakeMessage(typ uint8, body []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typ)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	return b.BytesOrPanic()
}

// recordBoundaries returns the end offsets of the whole TLS records of stream (after
// an SSLv2 first record if there is one).
func recordBoundaries(stream []byte) []int {
	s := cryptobyte.String(stream)
	var ends []int
	if isSSLv2Record(stream) {
		var record, body []byte
		if !readSSLv2Record(&s, &record, &body) {
			return nil
		}
		ends = append(ends, len(stream)-len(s))
	}
	for !s.Empty() {
		var typ uint8
		var version uint16
		var payload cryptobyte.String
		if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16LengthPrefixed(&payload) {
			break
		}
		ends = append(ends, len(stream)-len(s))
	}
	return ends
}

// handshakeWant is what a recorded connection must show.
type handshakeWant struct {
	version        Version
	sni            string
	alpn           string // first offered
	serverALPN     string
	cipher         uint16
	clientHellos   int
	hrr            bool
	hrrGroup       uint16
	pq             bool
	ech            bool
	psk            bool
	sslv2          bool
	certSubject    string // prefix of ServerCert.Subject; "" = no certificate in clear
	certDNS        string // one of ServerCert.DNSNames
	clientCert     bool
	certRequested  bool
	complete       bool
	clientCCS      bool
	serverCCS      bool
	noServerStream bool
}

func TestHandshakeRecorded(t *testing.T) {
	tests := []struct {
		name string
		want handshakeWant
	}{
		{"go126-tls13", handshakeWant{version: VersionTLS13, sni: "server.example.test", alpn: "h2",
			cipher: 0x1301, clientHellos: 1, pq: true, complete: true, clientCCS: true, serverCCS: true}},
		{"go126-tls12", handshakeWant{version: VersionTLS12, sni: "server.example.test", alpn: "h2", serverALPN: "h2",
			cipher: 0xc02b, clientHellos: 1, certSubject: "CN=server.example.test", certDNS: "www.example.test",
			complete: true, clientCCS: true, serverCCS: true}},
		{"go126-hrr", handshakeWant{version: VersionTLS13, sni: "server.example.test", alpn: "h2",
			cipher: 0x1301, clientHellos: 2, hrr: true, hrrGroup: 0x0017, complete: true, clientCCS: true, serverCCS: true}},
		{"go126-tls12-mtls", handshakeWant{version: VersionTLS12, sni: "server.example.test", alpn: "h2", serverALPN: "h2",
			cipher: 0xc02b, clientHellos: 1, certSubject: "CN=server.example.test", clientCert: true, certRequested: true,
			complete: true, clientCCS: true, serverCCS: true}},
		{"go126-tls13-resume", handshakeWant{version: VersionTLS13, sni: "server.example.test", alpn: "h2",
			cipher: 0x1301, clientHellos: 1, pq: true, psk: true, complete: true, clientCCS: true, serverCCS: true}},
		{"go126-tls12-resume", handshakeWant{version: VersionTLS12, sni: "server.example.test", alpn: "h2", serverALPN: "h2",
			cipher: 0xc02b, clientHellos: 1, complete: true, clientCCS: true, serverCCS: true}},
		{"openssl3-tls13", handshakeWant{version: VersionTLS13, sni: "openssl.example.test", alpn: "h2",
			cipher: 0x1302, clientHellos: 1, complete: true, clientCCS: true, serverCCS: true}},
		{"openssl3-tls12", handshakeWant{version: VersionTLS12, sni: "openssl.example.test", cipher: 0xc030, clientHellos: 1,
			certSubject: "CN=openssl.example.test", certDNS: "alt.example.test", complete: true, clientCCS: true, serverCCS: true}},
		{"openssl3-tls11", handshakeWant{version: VersionTLS11, sni: "openssl.example.test", cipher: 0xc014, clientHellos: 1,
			certSubject: "CN=openssl.example.test", complete: true, clientCCS: true, serverCCS: true}},
		{"openssl3-tls10", handshakeWant{version: VersionTLS10, cipher: 0xc014, clientHellos: 1,
			certSubject: "CN=openssl.example.test", complete: true, clientCCS: true, serverCCS: true}},
		{"openssl3-hrr", handshakeWant{version: VersionTLS13, sni: "openssl.example.test", cipher: 0x1302, clientHellos: 2,
			hrr: true, hrrGroup: 0x0018, complete: true, clientCCS: true, serverCCS: true}},
		{"chrome-hrr", handshakeWant{version: VersionTLS13, sni: "mem.gfx.ms", alpn: "h2", cipher: 0x1302, clientHellos: 2,
			hrr: true, hrrGroup: 0x0017, complete: true, clientCCS: true, serverCCS: true}},
		{"chrome-kyber", handshakeWant{version: VersionTLS13, sni: "lh3.google.com", alpn: "h2", cipher: 0x1301,
			clientHellos: 1, pq: true, ech: true, complete: true, clientCCS: true, serverCCS: true}},
		{"chrome-ech", handshakeWant{version: VersionTLS13, sni: "cloudflare-ech.com", alpn: "h2", cipher: 0x1301,
			clientHellos: 1, ech: true, complete: true, clientCCS: true, serverCCS: true}},
		{"chrome-draft23", handshakeWant{version: 0x7f17, sni: "tls13.crypto.mozilla.org", alpn: "h2", cipher: 0x1301,
			clientHellos: 1, complete: true, clientCCS: true, serverCCS: true}},
		{"draft18-arkime", handshakeWant{version: 0x7f12, sni: "blog.cloudflare.com", alpn: "h2", cipher: 0x1301,
			clientHellos: 1, complete: true}},
		{"draft14-nss", handshakeWant{version: VersionTLS13, sni: "tls13.crypto.mozilla.org", alpn: "h2", cipher: 0xc02b,
			clientHellos: 1, complete: true}},
		{"openssl-ssl3", handshakeWant{version: VersionSSL3, cipher: 0xc011, clientHellos: 1, certSubject: "CN=",
			complete: true, clientCCS: true, serverCCS: true}},
		{"sslv2-pure", handshakeWant{version: VersionSSL2, clientHellos: 1, sslv2: true, certSubject: "CN=plesk",
			complete: true}},
		{"sslv2-upgrade", handshakeWant{version: VersionTLS10, cipher: 0x0039, clientHellos: 1, sslv2: true,
			certSubject: "CN=sigdb.secteam.netscreen.com", complete: true, clientCCS: true, serverCCS: true}},
		{"split-client-hello", handshakeWant{version: VersionTLS13, sni: "clients2.google.com", alpn: "h2", cipher: 0x1301,
			clientHellos: 1, pq: true, ech: true, complete: true, clientCCS: true, serverCCS: true}},
		{"firefox-tls13", handshakeWant{sni: "contile.services.mozilla.com", alpn: "h2", clientHellos: 1, noServerStream: true}},
	}
	var h Handshake
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tlsStreams(t, tt.name)
			scanBoth(&h, client, server)
			w := tt.want
			if h.ClientErr != nil || h.ServerErr != nil {
				t.Errorf("errors: client %v, server %v", h.ClientErr, h.ServerErr)
			}
			if h.ClientHellos != w.clientHellos {
				t.Errorf("ClientHellos = %d, want %d", h.ClientHellos, w.clientHellos)
			}
			ch := &h.ClientHello
			if string(ch.ServerName) != w.sni {
				t.Errorf("SNI = %q, want %q", ch.ServerName, w.sni)
			}
			if got := firstALPN(ch); got != w.alpn {
				t.Errorf("ALPN = %q, want %q", got, w.alpn)
			}
			if ch.SSLv2 != w.sslv2 || ch.ECH != w.ech || ch.PSK != w.psk || ch.HasPQKeyShare() != w.pq {
				t.Errorf("SSLv2/ECH/PSK/PQ = %v/%v/%v/%v, want %v/%v/%v/%v", ch.SSLv2, ch.ECH, ch.PSK, ch.HasPQKeyShare(),
					w.sslv2, w.ech, w.psk, w.pq)
			}
			if w.noServerStream {
				if h.ServerHelloSeen || h.Complete() {
					t.Errorf("server state without server bytes")
				}
				return
			}
			if !h.ServerHelloSeen || h.Version() != w.version {
				t.Errorf("Version = %v (seen %v), want %v", h.Version().Detail(), h.ServerHelloSeen, w.version.Detail())
			}
			if h.ServerHello.CipherSuite != w.cipher {
				t.Errorf("cipher = %s, want %s", CipherSuiteName(h.ServerHello.CipherSuite), CipherSuiteName(w.cipher))
			}
			if w.serverALPN != "" && string(h.ServerHello.ALPN) != w.serverALPN {
				t.Errorf("server ALPN = %q, want %q", h.ServerHello.ALPN, w.serverALPN)
			}
			if h.HRR != w.hrr || h.HRRGroup != w.hrrGroup {
				t.Errorf("HRR = %v/%s, want %v/%s", h.HRR, GroupName(h.HRRGroup), w.hrr, GroupName(w.hrrGroup))
			}
			if h.ServerCertSeen != (w.certSubject != "") || !strings.HasPrefix(h.ServerCert.Subject, w.certSubject) {
				t.Errorf("cert = %v %q, want prefix %q", h.ServerCertSeen, h.ServerCert.Subject, w.certSubject)
			}
			if w.certDNS != "" && !containsString(h.ServerCert.DNSNames, w.certDNS) {
				t.Errorf("cert DNS names %q lack %q", h.ServerCert.DNSNames, w.certDNS)
			}
			if h.ClientCertSent != w.clientCert || h.ClientCertRequested != w.certRequested {
				t.Errorf("client cert sent/requested = %v/%v, want %v/%v", h.ClientCertSent, h.ClientCertRequested,
					w.clientCert, w.certRequested)
			}
			if h.Complete() != w.complete {
				t.Errorf("Complete = %v, want %v", h.Complete(), w.complete)
			}
			if h.ClientCCS != w.clientCCS || h.ServerCCS != w.serverCCS {
				t.Errorf("CCS client/server = %v/%v, want %v/%v", h.ClientCCS, h.ServerCCS, w.clientCCS, w.serverCCS)
			}
		})
	}
}

func firstALPN(m *ClientHello) string {
	if len(m.ALPN) == 0 {
		return ""
	}
	return string(m.ALPN[0])
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// TestHandshakeAllRecordedClean checks that every recorded connection scans without
// an error and that scanning is independent of the order of the two directions
// except for what the documentation says.
func TestHandshakeAllRecordedClean(t *testing.T) {
	var h Handshake
	for _, name := range tlsStreamNames(t) {
		t.Run(name, func(t *testing.T) {
			client, server := tlsStreams(t, name)
			scanBoth(&h, client, server)
			if h.ClientErr != nil || h.ServerErr != nil {
				t.Errorf("errors: client %v, server %v", h.ClientErr, h.ServerErr)
			}
			if h.ClientHellos == 0 {
				t.Errorf("no ClientHello")
			}
			if len(server) > 0 && !h.ServerHelloSeen {
				t.Errorf("no ServerHello")
			}
			if !LooksLikeTLS(client) {
				t.Errorf("LooksLikeTLS(client) = false")
			}
		})
	}
}

// TestHandshakeIncremental feeds each direction one byte more at a time (at every
// record boundary and in between) and checks that the result only grows and ends
// where a single scan ends.
func TestHandshakeIncremental(t *testing.T) {
	for _, name := range []string{"go126-hrr", "go126-tls12-mtls", "split-client-hello", "sslv2-upgrade", "openssl3-hrr"} {
		t.Run(name, func(t *testing.T) {
			client, server := tlsStreams(t, name)
			var full, inc Handshake
			scanBoth(&full, client, server)
			step := max(1, len(server)/97)
			for n := 0; n <= len(server); n += step {
				inc.ScanServer(server[:n])
				if inc.ServerErr != nil {
					t.Fatalf("server prefix %d: %v", n, inc.ServerErr)
				}
			}
			inc.ScanServer(server)
			step = max(1, len(client)/89)
			for n := 0; n <= len(client); n += step {
				inc.ScanClient(client[:n])
				if inc.ClientErr != nil {
					t.Fatalf("client prefix %d: %v", n, inc.ClientErr)
				}
				if n < len(client) && inc.ClientHellos > full.ClientHellos {
					t.Fatalf("client prefix %d: %d hellos > %d", n, inc.ClientHellos, full.ClientHellos)
				}
			}
			inc.ScanClient(client)
			if inc.ClientHello.JA3() != full.ClientHello.JA3() || inc.ServerHello.JA3S() != full.ServerHello.JA3S() ||
				inc.Complete() != full.Complete() || inc.ClientHellos != full.ClientHellos {
				t.Errorf("incremental result differs from a single scan")
			}
		})
	}
}

// TestHandshakeNeedMore checks that a stream cut inside a record or a handshake
// message asks for more bytes and reports no error.
func TestHandshakeNeedMore(t *testing.T) {
	client, server := tlsStreams(t, "go126-tls13")
	// The ClientHello message cut in two records.
	msg := buildClientHello(validCH())
	client = append(tlsRecord(recordTypeHandshake, 0x0301, msg[:100]), tlsRecord(recordTypeHandshake, 0x0301, msg[100:])...)
	ends := recordBoundaries(client)
	tests := []struct {
		name     string
		stream   []byte
		needMore bool
		hellos   int
	}{
		{"inside header", client[:3], true, 0},
		{"inside first record", client[:ends[0]-1], true, 0},
		{"message spans records", client[:ends[0]], true, 0},
		{"whole hello", client[:ends[1]], false, 1},
		{"empty", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handshake
			h.ScanClient(tt.stream)
			if h.ClientNeedMore != tt.needMore || h.ClientHellos != tt.hellos || h.ClientErr != nil {
				t.Errorf("NeedMore/hellos/err = %v/%d/%v, want %v/%d/nil", h.ClientNeedMore, h.ClientHellos, h.ClientErr,
					tt.needMore, tt.hellos)
			}
		})
	}
	var h Handshake
	h.ScanServer(server[:len(server)-1])
	if !h.ServerNeedMore || h.ServerErr != nil {
		t.Errorf("server cut short: NeedMore %v err %v", h.ServerNeedMore, h.ServerErr)
	}
}

// TestHandshakeRecordRules covers every record-layer rule the scanner enforces.
func TestHandshakeRecordRules(t *testing.T) {
	hello := readTLSHex(t, "go126-tls12.client.hex")
	first := hello[:recordBoundaries(hello)[0]]
	bigCert := make([]byte, 0, 70000)
	tests := []struct {
		name    string
		stream  []byte
		err     error
		records int
		hellos  int
	}{
		{"unknown content type", tlsRecord(25, 0x0303, []byte{1}), ErrNotTLS, 0, 0},
		{"content type 19", []byte{19}, ErrNotTLS, 0, 0},
		{"bad major version", tlsRecord(recordTypeHandshake, 0x0203, []byte{1}), ErrNotTLS, 0, 0},
		{"bad minor version", tlsRecord(recordTypeHandshake, 0x0305, []byte{1}), ErrNotTLS, 0, 0},
		{"bad version after hello", append(append([]byte{}, first...), tlsRecord(recordTypeAlert, 0xffff, []byte{2, 40})...), ErrNotTLS, 1, 1},
		{"oversized length", []byte{recordTypeApplicationData, 3, 3, 0x48, 0x01}, ErrMalformed, 0, 0},
		{"empty handshake fragment", tlsRecord(recordTypeHandshake, 0x0303, nil), ErrMalformed, 1, 0},
		{"odd alert", tlsRecord(recordTypeAlert, 0x0303, []byte{2}), ErrMalformed, 1, 0},
		{"handshake message over 64 KiB", tlsRecord(recordTypeHandshake, 0x0303, []byte{11, 0x01, 0x00, 0x01}), ErrTruncated, 1, 0},
		{"handshake over 64 KiB in clear", oversizedHandshake(bigCert), ErrTruncated, 5, 0},
		{"malformed hello", tlsRecord(recordTypeHandshake, 0x0301, handshakeMessage(handshakeTypeClientHello, []byte{3, 3})), ErrTruncated, 1, 0},
		{"sslv2 wrong message", []byte{0x80, 0x03, 0x07, 0x00, 0x00}, ErrNotTLS, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handshake
			h.ScanClient(tt.stream)
			if !errors.Is(h.ClientErr, tt.err) {
				t.Errorf("err = %v, want %v", h.ClientErr, tt.err)
			}
			if h.ClientRecords != tt.records || h.ClientHellos != tt.hellos {
				t.Errorf("records/hellos = %d/%d, want %d/%d", h.ClientRecords, h.ClientHellos, tt.records, tt.hellos)
			}
			if h.ClientNeedMore {
				t.Errorf("NeedMore set on a hard error")
			}
		})
	}
}

// oversizedHandshake builds five records of 15000-byte handshake messages of an
// unknown type: each message is fine, together they pass the 64 KiB bound.
func oversizedHandshake(buf []byte) []byte {
	for range 5 {
		buf = append(buf, tlsRecord(recordTypeHandshake, 0x0303, handshakeMessage(0x63, make([]byte, 15000)))...)
	}
	return buf
}

// TestHandshakeAlerts checks clear and encrypted alerts and Complete on a fatal one.
func TestHandshakeAlerts(t *testing.T) {
	client := readTLSHex(t, "go126-tls12.client.hex")
	hello := client[:recordBoundaries(client)[0]]
	tests := []struct {
		name      string
		server    []byte
		alertSeen bool
		alert     uint8
		complete  bool
	}{
		{"fatal handshake_failure", tlsRecord(recordTypeAlert, 0x0303, []byte{2, 40}), true, 40, true},
		{"warning then fatal", tlsRecord(recordTypeAlert, 0x0303, []byte{1, 0, 2, 70}), true, 70, true},
		{"close_notify warning", tlsRecord(recordTypeAlert, 0x0303, []byte{1, 0}), true, 0, false},
		{"encrypted alert after CCS", append(tlsRecord(recordTypeChangeCipherSpec, 0x0303, []byte{1}),
			tlsRecord(recordTypeAlert, 0x0303, make([]byte, 26))...), false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handshake
			scanBoth(&h, hello, tt.server)
			if h.AlertSeen != tt.alertSeen || h.Alert != tt.alert || h.Complete() != tt.complete || h.ServerErr != nil {
				t.Errorf("alert %v/%d complete %v err %v, want %v/%d complete %v", h.AlertSeen, h.Alert, h.Complete(),
					h.ServerErr, tt.alertSeen, tt.alert, tt.complete)
			}
		})
	}
}

// TestHandshakeHeartbeatAndEncrypted checks record counting after encryption starts.
func TestHandshakeHeartbeatAndEncrypted(t *testing.T) {
	client, server := tlsStreams(t, "go126-tls13")
	server = append(append([]byte{}, server...), tlsRecord(recordTypeHeartbeat, 0x0303, []byte{1, 0, 0})...)
	// A handshake record after a TLS 1.3 ServerHello is encrypted: counted, not parsed.
	server = append(server, tlsRecord(recordTypeHandshake, 0x0303, []byte{0xff, 0xff, 0xff, 0xff})...)
	var h Handshake
	scanBoth(&h, client, server)
	if !h.Heartbeat || h.ServerErr != nil || h.ServerNeedMore {
		t.Errorf("heartbeat %v err %v needMore %v", h.Heartbeat, h.ServerErr, h.ServerNeedMore)
	}
	if want := len(recordBoundaries(server)); h.ServerRecords != want {
		t.Errorf("ServerRecords = %d, want %d", h.ServerRecords, want)
	}
	if !h.ServerAppData || !h.ClientAppData {
		t.Errorf("app data client/server = %v/%v", h.ClientAppData, h.ServerAppData)
	}
}

// TestHandshakeClientBeforeServer checks that a second ClientHello after a
// compatibility ChangeCipherSpec is found without the server direction, and that a
// TLS 1.2 Finished after the client's CCS is not taken for a hello.
func TestHandshakeClientBeforeServer(t *testing.T) {
	tests := []struct {
		name   string
		hellos int
	}{
		{"go126-hrr", 2},
		{"chrome-hrr", 2},
		{"openssl3-hrr", 2},
		{"go126-tls12", 1},
		{"go126-tls12-mtls", 1},
		{"openssl3-tls12", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tlsStreams(t, tt.name)
			var h Handshake
			h.ScanClient(client)
			if h.ClientHellos != tt.hellos || h.ClientErr != nil {
				t.Errorf("client alone: hellos %d err %v, want %d", h.ClientHellos, h.ClientErr, tt.hellos)
			}
			h.ScanServer(server)
			h.ScanClient(client)
			if h.ClientHellos != tt.hellos || h.ClientErr != nil {
				t.Errorf("after server: hellos %d err %v, want %d", h.ClientHellos, h.ClientErr, tt.hellos)
			}
		})
	}
}

// TestHandshakeResetKeepsNothing checks that Reset forgets a connection.
func TestHandshakeResetKeepsNothing(t *testing.T) {
	client, server := tlsStreams(t, "go126-tls12-mtls")
	var h Handshake
	scanBoth(&h, client, server)
	h.Reset()
	if h.ClientHellos != 0 || h.ServerHelloSeen || h.ServerCertSeen || h.ClientCertSent || h.Complete() ||
		h.Version() != 0 || len(h.ClientHello.CipherSuites) != 0 || h.ServerHello.CipherSuite != 0 {
		t.Errorf("Reset left state: %+v", h)
	}
}

// TestHandshakeCertCache checks that a rescan reuses the decoded certificate.
func TestHandshakeCertCache(t *testing.T) {
	client, server := tlsStreams(t, "openssl3-tls12")
	var h Handshake
	scanBoth(&h, client, server)
	first := h.ServerCert
	allocs := testing.AllocsPerRun(20, func() { h.ScanServer(server) })
	if allocs != 0 {
		t.Errorf("rescan with a known certificate: %v allocs", allocs)
	}
	if h.ServerCert.Subject != first.Subject || !h.ServerCertSeen {
		t.Errorf("cached certificate differs")
	}
}

// TestHandshakeZeroAlloc checks the steady-state allocation promise.
func TestHandshakeZeroAlloc(t *testing.T) {
	for _, name := range []string{"go126-tls13", "go126-hrr", "chrome-grease", "split-client-hello", "sslv2-upgrade", "go126-tls12-mtls"} {
		t.Run(name, func(t *testing.T) {
			client, server := tlsStreams(t, name)
			var h Handshake
			scanBoth(&h, client, server)
			allocs := testing.AllocsPerRun(50, func() {
				h.ScanServer(server)
				h.ScanClient(client)
			})
			if allocs != 0 {
				t.Errorf("%v allocs per rescan", allocs)
			}
		})
	}
}

func BenchmarkScanClientHello(b *testing.B) {
	client := readTLSHex(b, "go126-tls13.client.hex")
	hello := client[:recordBoundaries(client)[0]]
	var h Handshake
	h.ScanClient(hello)
	b.SetBytes(int64(len(hello)))
	b.ReportAllocs()
	for b.Loop() {
		h.ScanClient(hello)
	}
}

func BenchmarkScanServer(b *testing.B) {
	server := readTLSHex(b, "openssl3-tls12.server.hex")
	var h Handshake
	h.ScanServer(server)
	b.SetBytes(int64(len(server)))
	b.ReportAllocs()
	for b.Loop() {
		h.ScanServer(server)
	}
}

func BenchmarkScanConnection(b *testing.B) {
	for _, name := range []string{"chrome-grease", "go126-hrr", "split-client-hello"} {
		b.Run(name, func(b *testing.B) {
			client, server := tlsStreams(b, name)
			var h Handshake
			scanBoth(&h, client, server)
			b.SetBytes(int64(len(client) + len(server)))
			b.ReportAllocs()
			for b.Loop() {
				h.ScanServer(server)
				h.ScanClient(client)
			}
		})
	}
}

// FuzzHandshakeScan scans two arbitrary streams: it must never panic, never grow
// without bound, and give the same answer when run twice.
func FuzzHandshakeScan(f *testing.F) {
	for _, name := range tlsStreamNames(f) {
		client, server := tlsStreams(f, name)
		f.Add(client, server)
		f.Add(client[:len(client)/2], server[:len(server)/3])
	}
	f.Fuzz(func(t *testing.T, client, server []byte) {
		var h Handshake
		h.ScanServer(server)
		h.ScanClient(client)
		ja3, hellos, complete := h.ClientHello.JA3String(), h.ClientHellos, h.Complete()
		h.ScanServer(server)
		h.ScanClient(client)
		if h.ClientHello.JA3String() != ja3 || h.ClientHellos != hellos || h.Complete() != complete {
			t.Fatalf("rescan differs")
		}
		if cap(h.client.hs) > 2*maxHandshakeBuffer || cap(h.server.hs) > 2*maxHandshakeBuffer {
			t.Fatalf("buffers grew to %d / %d", cap(h.client.hs), cap(h.server.hs))
		}
		if cert, req, _, done := h.ClientAuth(true); !done || (cert == AnswerYes && req != AnswerYes) {
			t.Fatalf("client auth with the direction over: cert %v requested %v done %v", cert, req, done)
		}
		if len(h.ClientFlight()) > maxFlightRecords {
			t.Fatalf("%d flight records kept", len(h.ClientFlight()))
		}
		if h.ClientHellos > 0 {
			_ = h.ClientHello.JA4('t')
			_ = h.ClientHello.JA4Raw('q')
		}
		if h.ServerHelloSeen {
			_ = h.ServerHello.JA3S()
			_ = h.Version().Detail()
		}
		if bytes.Equal(client, server) && h.ClientErr == nil && h.ServerErr == nil && h.ClientRecords != h.ServerRecords &&
			!isSSLv2Record(client) {
			t.Fatalf("same bytes, different record counts %d / %d", h.ClientRecords, h.ServerRecords)
		}
	})
}
