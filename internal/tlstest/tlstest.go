// Package tlstest serves TLS on loopback for tests: a throwaway self-signed
// certificate, a server that takes connections until the test ends, and a proxy in
// front of one that makes it ignore TLS_FALLBACK_SCSV.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// SelfSigned returns an ECDSA P-256 certificate for api.internal and 127.0.0.1,
// valid from an hour ago for two days.
func SelfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	return SelfSignedFor(t, "api.internal")
}

// SelfSignedFor is SelfSigned with dnsNames as the DNS names, the first one also
// the common name: a test may give a name no CA would sign, as a hostile server can.
func SelfSignedFor(t testing.TB, dnsNames ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: dnsNames[0]},
		DNSNames: dnsNames, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Serve serves TLS with cfg (given SelfSigned's certificate when it has none) on a
// loopback port until the test ends, and returns its address. Each connection is
// read until the client closes it, for at most 5 seconds.
func Serve(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	if len(cfg.Certificates) == 0 {
		cfg.Certificates = []tls.Certificate{SelfSigned(t)}
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	accept(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c)
	})
	return ln.Addr().String()
}

// accept hands every connection to ln to handle, each on its own goroutine and
// closed when handle returns, until the test ends.
func accept(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}
