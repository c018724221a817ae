package classify

import (
	"testing"
)

// rec is the length of a TLS 1.3 record holding content bytes of a suite with an
// AEAD tag of tag bytes: content, the inner content type, the tag.
func rec(content, tag int) uint16 { return uint16(content + 1 + tag) }

// TestClientAuthTLS13 checks the size arithmetic for every suite, each case built
// from the message sizes of RFC 8446 §4.4 rather than from observed numbers.
func TestClientAuthTLS13(t *testing.T) {
	suites := []struct {
		name         string
		id           uint16
		hashLen, tag int
	}{
		{"TLS_AES_128_GCM_SHA256", 0x1301, 32, 16},
		{"TLS_AES_256_GCM_SHA384", 0x1302, 48, 16},
		{"TLS_CHACHA20_POLY1305_SHA256", 0x1303, 32, 16},
		{"TLS_AES_128_CCM_8_SHA256", 0x1305, 32, 8},
	}
	const (
		y, n, u = AnswerYes, AnswerNo, AnswerUnknown
		// Sizes of a client certificate flight: a 600-byte chain, an ECDSA P-256
		// CertificateVerify (72-byte signature), some application data.
		certMsg = 4 + 1 + 3 + 3 + 600 + 2
		verify  = 4 + 2 + 2 + 72
		data    = 100
	)
	for _, s := range suites {
		fin := 4 + s.hashLen
		r := func(content int) uint16 { return rec(content, s.tag) }
		tests := []struct {
			name          string
			records       []uint16
			ended         bool
			cert, request Answer
			done          bool
		}{
			{"nothing yet", nil, false, u, u, false},
			{"nothing ever", nil, true, u, u, true},
			{"finished then data", []uint16{r(fin), r(data)}, false, n, n, true},
			{"finished alone, more may come", []uint16{r(fin)}, false, n, u, false},
			{"finished alone, direction over", []uint16{r(fin)}, true, n, n, true},
			{"finished then data of a finished's size", []uint16{r(fin), r(fin)}, false, n, u, true},
			{"empty certificate then finished", []uint16{r(emptyCertificateLen), r(fin)}, false, n, y, true},
			{"empty certificate, handshake refused", []uint16{r(emptyCertificateLen)}, true, n, y, true},
			{"padded empty certificate", []uint16{r(fin - 1), r(fin)}, false, n, y, true},
			{"padded, then exact finished", []uint16{r(fin + 3), r(fin)}, false, n, y, true},
			{"certificate, verify, finished", []uint16{r(certMsg), r(verify), r(fin), r(data)}, false, y, y, true},
			{"certificate, verify, finished, nothing after", []uint16{r(certMsg), r(verify), r(fin)}, true, y, y, true},
			{"certificate over two full records", []uint16{r(maxInnerPlaintext), r(900), r(verify), r(fin)}, false, y, y, true},
			{"certificate, verify, more to come", []uint16{r(certMsg), r(verify)}, false, u, u, false},
			{"certificate, more to come", []uint16{r(certMsg)}, false, u, u, false},
			{"certificate, cut off", []uint16{r(certMsg)}, true, u, u, true},
			{"one record for the whole flight", []uint16{r(certMsg + verify + fin), r(data), r(data)}, false, u, u, true},
			{"certificate and verify coalesced", []uint16{r(certMsg + verify), r(fin)}, false, u, u, true},
			{"verify and finished coalesced", []uint16{r(certMsg), r(verify + fin), r(data)}, false, u, u, true},
			{"padded: no finished where due", []uint16{r(certMsg), r(verify), r(fin + 16)}, false, u, u, true},
			{"encrypted alert", []uint16{r(2)}, false, u, u, true},
			{"shorter than a tag", []uint16{5}, false, u, u, true},
		}
		// An empty Certificate and the Finished in one record fit no certificate
		// with SHA-256; with SHA-384 they are as large as the smallest Certificate
		// message, so only what follows could tell, and here nothing does.
		coalesced := []uint16{r(emptyCertificateLen + fin), r(data)}
		if emptyCertificateLen+fin < minCertificateLen {
			tests = append(tests, struct {
				name          string
				records       []uint16
				ended         bool
				cert, request Answer
				done          bool
			}{"empty certificate and finished in one record", coalesced, false, n, u, true})
		} else {
			tests = append(tests, struct {
				name          string
				records       []uint16
				ended         bool
				cert, request Answer
				done          bool
			}{"empty certificate and finished in one record", append(coalesced, r(data)), false, u, u, true})
		}
		for _, tt := range tests {
			t.Run(s.name+"/"+tt.name, func(t *testing.T) {
				cert, req, done := ClientAuthTLS13(s.id, tt.records, tt.ended)
				if cert != tt.cert || req != tt.request || done != tt.done {
					t.Errorf("records %v ended %v: cert %v requested %v done %v, want %v %v %v",
						tt.records, tt.ended, cert, req, done, tt.cert, tt.request, tt.done)
				}
			})
		}
	}
	t.Run("unknown suite", func(t *testing.T) {
		if cert, req, done := ClientAuthTLS13(0xc02f, []uint16{53}, false); cert.Known() || req.Known() || !done {
			t.Errorf("a TLS 1.2 suite: %v %v %v, want unknown, unknown, done", cert, req, done)
		}
	})
}

// FuzzClientAuthTLS13 feeds arbitrary record sizes: never a panic, the same answer
// twice, done whenever the direction ended, and a certificate claimed only with a
// request.
func FuzzClientAuthTLS13(f *testing.F) {
	for _, name := range tlsStreamNames(f) {
		client, server := tlsStreams(f, name)
		var h Handshake
		h.ScanServer(server)
		h.ScanClient(client)
		if h.ServerHelloSeen {
			f.Add(h.ServerHello.CipherSuite, flightBytes(h.ClientFlight()), false)
		}
	}
	f.Fuzz(func(t *testing.T, suite uint16, b []byte, ended bool) {
		var records []uint16
		for i := 0; i+1 < len(b) && len(records) < maxFlightRecords; i += 2 {
			records = append(records, uint16(b[i])<<8|uint16(b[i+1]))
		}
		cert, req, done := ClientAuthTLS13(suite, records, ended)
		c2, r2, d2 := ClientAuthTLS13(suite, records, ended)
		if cert != c2 || req != r2 || done != d2 {
			t.Fatal("not deterministic")
		}
		if ended && !done {
			t.Fatal("not done with the direction over")
		}
		if cert == AnswerYes && req != AnswerYes {
			t.Fatal("a certificate without a request")
		}
	})
}

// flightBytes spells record lengths as the fuzz target reads them.
func flightBytes(lens []uint16) []byte {
	b := make([]byte, 0, 2*len(lens))
	for _, n := range lens {
		b = append(b, byte(n>>8), byte(n))
	}
	return b
}
