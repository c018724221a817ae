package classify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// testCertificate creates a self-signed certificate.
func testCertificate(t *testing.T, tmpl *x509.Certificate) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// certificateMessage builds a TLS 1.2 Certificate message body.
func certificateMessage(certs ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range certs {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
		}
	})
	return b.BytesOrPanic()
}

func TestCertInfoParse(t *testing.T) {
	notBefore := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	notAfter := time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC) // GeneralizedTime
	der := testCertificate(t, &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "leaf.example.test", Organization: []string{"Example, Inc."}, Country: []string{"DE"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		DNSNames:     []string{"leaf.example.test", "*.example.test"},
	})
	var c CertInfo
	if err := c.parse(der); err != nil {
		t.Fatal(err)
	}
	want := CertInfo{
		Subject:   `CN=leaf.example.test,O=Example\, Inc.,C=DE`,
		Issuer:    `CN=leaf.example.test,O=Example\, Inc.,C=DE`,
		NotBefore: notBefore,
		NotAfter:  notAfter,
		DNSNames:  []string{"leaf.example.test", "*.example.test"},
	}
	if c.Subject != want.Subject || c.Issuer != want.Issuer || !c.NotBefore.Equal(want.NotBefore) ||
		!c.NotAfter.Equal(want.NotAfter) || !slices.Equal(c.DNSNames, want.DNSNames) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestCertInfoInvalid(t *testing.T) {
	der := testCertificate(t, &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "x"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(1<<31, 0),
	})
	tests := []struct {
		name    string
		der     []byte
		subject string
	}{
		{"empty", nil, ""},
		{"not a sequence", []byte{0x02, 0x01, 0x00}, ""},
		{"bad key after names", withoutPublicKey(t, der), "CN=x"},
		{"cut inside tbs", der[:40], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c CertInfo
			if err := c.parse(tt.der); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
			if c.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", c.Subject, tt.subject)
			}
		})
	}
}

// withoutPublicKey rebuilds der with a NULL where subjectPublicKeyInfo belongs.
func withoutPublicKey(t *testing.T, der []byte) []byte {
	t.Helper()
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		t.Fatal("bad test certificate")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			// version, serialNumber, signature, issuer, validity, subject
			for range 6 {
				var elem cryptobyte.String
				var tag cbasn1.Tag
				if !tbs.ReadAnyASN1Element(&elem, &tag) {
					t.Fatal("bad test certificate")
				}
				b.AddBytes(elem)
			}
			b.AddASN1NULL()
		})
	})
	return b.BytesOrPanic()
}

func TestLeafCertificate(t *testing.T) {
	a, b := []byte{0x30, 0x00}, []byte{0x30, 0x01, 0x00}
	tests := []struct {
		name string
		body []byte
		leaf []byte
		err  error
	}{
		{"chain", certificateMessage(a, b), a, nil},
		{"empty list", certificateMessage(), nil, nil},
		{"empty certificate", certificateMessage(a, nil), nil, ErrMalformed},
		{"list truncated", certificateMessage(a)[:4], nil, ErrTruncated},
		{"entry beyond list", []byte{0, 0, 4, 0, 0, 9, 0}, nil, ErrTruncated},
		{"trailing", append(certificateMessage(a), 0), nil, ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf, err := leafCertificate(tt.body)
			if !errors.Is(err, tt.err) || string(leaf) != string(tt.leaf) {
				t.Errorf("leaf %x err %v, want %x %v", leaf, err, tt.leaf, tt.err)
			}
		})
	}
}

// TestServerCertificateInHandshake checks the certificate path of the scanner,
// including a malformed certificate.
func TestServerCertificateInHandshake(t *testing.T) {
	der := testCertificate(t, &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "scan.example.test"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(1<<31, 0),
		DNSNames:     []string{"scan.example.test"},
	})
	sh := buildServerHello(shFields{version: 0x0303, suite: 0xc02f, noExts: true})
	stream := func(cert []byte) []byte {
		msgs := append(slices.Clone(sh), handshakeMessage(handshakeTypeCertificate, certificateMessage(cert))...)
		msgs = append(msgs, handshakeMessage(handshakeTypeCertificateRequest, []byte{1, 1, 0, 0, 0, 0})...)
		return tlsRecord(recordTypeHandshake, 0x0303, msgs)
	}
	var h Handshake
	h.ScanServer(stream(der))
	if h.ServerErr != nil || !h.ServerCertSeen || h.ServerCert.Subject != "CN=scan.example.test" || !h.ClientCertRequested {
		t.Errorf("good certificate: err %v seen %v %+v", h.ServerErr, h.ServerCertSeen, h.ServerCert)
	}
	// A chain too long to reassemble still shows its leaf.
	big := handshakeMessage(handshakeTypeCertificate, certificateMessage(der, make([]byte, 70000)))
	var records []byte
	for msg := append(slices.Clone(sh), big...); len(msg) > 0; {
		n := min(len(msg), recordMaxPlaintext)
		records = append(records, tlsRecord(recordTypeHandshake, 0x0303, msg[:n])...)
		msg = msg[n:]
	}
	h.ScanServer(records)
	if !errors.Is(h.ServerErr, ErrTruncated) || !h.ServerCertSeen || h.ServerCert.Subject != "CN=scan.example.test" {
		t.Errorf("long chain: err %v seen %v %+v", h.ServerErr, h.ServerCertSeen, h.ServerCert)
	}
	h.ScanServer(stream([]byte{0x30, 0x03, 0x02, 0x01, 0x00}))
	if !errors.Is(h.ServerErr, ErrMalformed) || !h.ServerCertSeen || h.ServerCert.Subject != "" || !h.ClientCertRequested {
		t.Errorf("bad certificate: err %v seen %v %+v", h.ServerErr, h.ServerCertSeen, h.ServerCert)
	}
}
