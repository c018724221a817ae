package classify

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// These tests run real Go crypto/tls clients and servers against each other over a
// loopback TCP connection, keep the bytes each side wrote, and classify them: the
// client-certificate verdict must match what the two were configured to do, for
// every server ClientAuth mode, with and without a client certificate, at TLS 1.2
// and 1.3.

// recordingConn keeps a copy of everything written through it (out) and read from
// it (in).
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	in, out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// written and read return copies of the bytes written and read so far.
func (c *recordingConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (c *recordingConn) read() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.in.Bytes())
}

// testPKI is a throwaway CA with a server certificate and client certificates of
// several key types.
type testPKI struct {
	pool    *x509.CertPool
	server  tls.Certificate
	clients map[string]tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool(), clients: map[string]tls.Certificate{}}
	p.pool.AddCert(ca)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, key crypto.Signer) tls.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.server = issue(2, "api.internal", x509.ExtKeyUsageServerAuth, ecKey)
	clientEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.clients["ecdsa-p256"] = issue(3, "batch.internal", x509.ExtKeyUsageClientAuth, clientEC)
	_, clientEd, _ := ed25519.GenerateKey(rand.Reader)
	p.clients["ed25519"] = issue(4, "batch.internal", x509.ExtKeyUsageClientAuth, clientEd)
	clientRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.clients["rsa-2048"] = issue(5, "batch.internal", x509.ExtKeyUsageClientAuth, clientRSA)
	return p
}

// goHandshake runs one connection: the client sends a line, the server answers it,
// both close. It returns the bytes each direction carried.
func goHandshake(t *testing.T, p *testPKI, version uint16, auth tls.ClientAuthType, clientCert string) (client, server []byte) {
	t.Helper()
	srvCfg := &tls.Config{
		Certificates: []tls.Certificate{p.server}, ClientAuth: auth, ClientCAs: p.pool,
		MinVersion: version, MaxVersion: version, SessionTicketsDisabled: true,
	}
	cliCfg := &tls.Config{ServerName: "api.internal", RootCAs: p.pool, MinVersion: version, MaxVersion: version}
	if clientCert != "" {
		cliCfg.Certificates = []tls.Certificate{p.clients[clientCert]}
	}
	return goHandshakeConfig(t, srvCfg, cliCfg)
}

// goHandshakeConfig runs one connection between a Go server and client so
// configured: the client sends a line, the server answers it, both close.
func goHandshakeConfig(t *testing.T, srvCfg, cliCfg *tls.Config) (client, server []byte) {
	t.Helper()
	// Loopback TCP rather than net.Pipe: a server that refuses the client's
	// certificate writes its alert while the client writes data, which an
	// unbuffered pipe would deadlock on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cEnd, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sEnd, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	cEnd.SetDeadline(deadline)
	sEnd.SetDeadline(deadline)
	cRec, sRec := &recordingConn{Conn: cEnd}, &recordingConn{Conn: sEnd}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sRec.Close()
		s := tls.Server(sRec, srvCfg)
		buf := make([]byte, 64)
		if n, err := s.Read(buf); err == nil {
			s.Write(buf[:n])
		}
		s.Close()
	}()
	c := tls.Client(cRec, cliCfg)
	if err := c.Handshake(); err == nil {
		if _, err := c.Write([]byte("ping\n")); err == nil {
			io.ReadAll(c)
		}
	}
	c.Close()
	cEnd.Close()
	<-done
	return cRec.written(), sRec.written()
}

func TestClientAuthGoTLS(t *testing.T) {
	p := newTestPKI(t)
	const y, n = AnswerYes, AnswerNo
	tests := []struct {
		auth          tls.ClientAuthType
		clientCert    string
		cert, request Answer
	}{
		{tls.NoClientCert, "", n, n},
		{tls.NoClientCert, "ecdsa-p256", n, n}, // not asked, so not sent
		{tls.RequestClientCert, "", n, y},
		{tls.RequestClientCert, "ecdsa-p256", y, y},
		{tls.RequireAnyClientCert, "", n, y}, // the server refuses the handshake
		{tls.RequireAnyClientCert, "ed25519", y, y},
		{tls.VerifyClientCertIfGiven, "", n, y},
		{tls.VerifyClientCertIfGiven, "rsa-2048", y, y},
		{tls.RequireAndVerifyClientCert, "", n, y},
		{tls.RequireAndVerifyClientCert, "ecdsa-p256", y, y},
		{tls.RequireAndVerifyClientCert, "ed25519", y, y},
		{tls.RequireAndVerifyClientCert, "rsa-2048", y, y},
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		evidence := EvidenceCertificateMessage
		if version == tls.VersionTLS13 {
			evidence = EvidenceTLS13FlightSize
		}
		for _, tt := range tests {
			name := tls.VersionName(version) + "/" + tt.auth.String() + "/" + cmp.Or(tt.clientCert, "no-cert")
			t.Run(name, func(t *testing.T) {
				client, server := goHandshake(t, p, version, tt.auth, tt.clientCert)
				var c Classifier
				v, done := c.Classify(&Input{Proto: 6, Client: client, Server: server, ServerMore: true, ClientMore: true})
				if !done {
					t.Fatalf("no verdict from the whole connection (client flight %v)", c.hs.ClientFlight())
				}
				if v.Class != ClassTLS || v.Version.Normalized() != Version(version) {
					t.Fatalf("class %v version %v", v.Class, v.Version)
				}
				if v.ClientCert != tt.cert || v.ClientCertRequested != tt.request || v.ClientAuthEvidence != evidence {
					t.Errorf("client cert %v requested %v evidence %q; want %v %v %q (client flight %v)",
						v.ClientCert, v.ClientCertRequested, v.ClientAuthEvidence, tt.cert, tt.request, evidence,
						c.hs.ClientFlight())
				}
				// Byte by byte from the client's first encrypted record on, the
				// first verdict reached says what the whole connection does.
				var inc Classifier
				for i := firstAppData(client); i <= len(client); i++ {
					w, done := inc.Classify(&Input{Proto: 6, Client: client[:i], Server: server, ServerMore: true, ClientMore: true})
					if !done {
						continue
					}
					if w.ClientCert != v.ClientCert || w.ClientCertRequested != v.ClientCertRequested {
						t.Errorf("after %d of %d client bytes: client cert %v requested %v, whole: %v %v",
							i, len(client), w.ClientCert, w.ClientCertRequested, v.ClientCert, v.ClientCertRequested)
					}
					break
				}
			})
		}
	}
}

// firstAppData returns the offset of the first application_data record of a TLS
// stream (the end of the stream when there is none).
func firstAppData(stream []byte) int {
	off := 0
	for off+5 <= len(stream) && stream[off] != recordTypeApplicationData {
		off += 5 + (int(stream[off+3])<<8 | int(stream[off+4]))
	}
	return min(off, len(stream))
}
