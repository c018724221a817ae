package classify

import "golang.org/x/crypto/cryptobyte"

// Answer is a yes/no fact that the bytes of a flow may or may not settle. The zero
// value is AnswerUnknown, so a verdict that never looked says nothing.
type Answer uint8

// Answers.
const (
	AnswerUnknown Answer = iota
	AnswerNo
	AnswerYes
)

// Known reports whether the bytes settled the question.
func (a Answer) Known() bool { return a != AnswerUnknown }

// Yes reports whether the answer is a proven yes.
func (a Answer) Yes() bool { return a == AnswerYes }

// String spells the answer as "true", "false" or "unknown".
func (a Answer) String() string {
	switch a {
	case AnswerYes:
		return "true"
	case AnswerNo:
		return "false"
	}
	return "unknown"
}

// How a client-certificate answer was reached: the Verdict's ClientAuthEvidence.
const (
	// EvidenceCertificateMessage: the client's Certificate message, or its absence
	// from a client flight seen in clear (TLS 1.2 and earlier).
	EvidenceCertificateMessage = "certificate_message"
	// EvidenceTLS13FlightSize: the sizes of the client's encrypted records after the
	// ServerHello (TLS 1.3), see ClientAuthTLS13.
	EvidenceTLS13FlightSize = "tls13_flight_size"
)

// Sizes in the client's second TLS 1.3 flight (RFC 8446 §4.4). Every size below is
// of a handshake message with its 4-byte header, the content of one record.
const (
	// handshakeHeaderLen is msg_type (1) and length (3).
	handshakeHeaderLen = 4
	// emptyCertificateLen is a Certificate with an empty certificate_request_context
	// and an empty certificate_list (§4.4.2): what a client that has no certificate
	// answers a CertificateRequest with.
	emptyCertificateLen = handshakeHeaderLen + 1 + 3
	// minCertificateLen is the smallest Certificate message carrying one entry that
	// a client could use: a raw Ed25519 public key (RFC 7250; a 44-byte
	// SubjectPublicKeyInfo) in an entry of 3-byte length and 2-byte extensions.
	// Every X.509 certificate is larger. Content below this cannot hold a
	// certificate, however it is padded or coalesced.
	minCertificateLen = emptyCertificateLen + 3 + 44 + 2
	// minCertificateVerifyLen and maxCertificateVerifyLen bound a CertificateVerify
	// (§4.4.3): algorithm (2), signature length (2), signature. The shortest
	// signature taken is 48 bytes (ECDSA P-256 in DER is 70–72 bytes, shorter than
	// 48 with negligible probability; Ed25519 is 64), the longest 2048 (RSA-16384).
	// The lower bound also keeps a CertificateVerify larger than any Finished.
	minCertificateVerifyLen = handshakeHeaderLen + 2 + 2 + 48
	maxCertificateVerifyLen = handshakeHeaderLen + 2 + 2 + 2048
	// innerContentTypeLen is TLSInnerPlaintext.type (§5.2), inside the encryption.
	innerContentTypeLen = 1
	// maxInnerPlaintext is the largest TLSInnerPlaintext content and padding of one
	// record (§5.2: 2^14 + 1 with the content type): a full record of a message
	// that continues in the next one.
	maxInnerPlaintext = recordMaxPlaintext
)

// maxFlightRecords is how many of the client's encrypted records the scan keeps
// sizes of: a Certificate split into several full records, CertificateVerify and
// Finished, and one more to tell.
const maxFlightRecords = 8

// tls13Suite gives the hash length (the Finished size) and AEAD tag length of a TLS
// 1.3 cipher suite; ok is false for a suite whose sizes are not known here.
func tls13Suite(suite uint16) (hashLen, tagLen int, ok bool) {
	switch suite {
	case 0x1301, 0x1303, 0x1304: // TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256 (RFC 8446 §B.4)
		return 32, 16, true
	case 0x1302: // TLS_AES_256_GCM_SHA384
		return 48, 16, true
	case 0x1305: // TLS_AES_128_CCM_8_SHA256: an 8-byte tag
		return 32, 8, true
	case 0x00c6: // TLS_SM4_GCM_SM3 (RFC 8998): SM3 is 32 bytes, GCM's tag 16
		return 32, 16, true
	}
	return 0, 0, false
}

// ClientAuthTLS13 tells from sizes alone whether a TLS 1.3 client sent a certificate
// and whether the server asked for one. suite is the cipher suite of the
// ServerHello; records are the lengths (record header field) of the client's
// encrypted records after its last ClientHello, in order, ChangeCipherSpec and
// clear alerts left out; ended is true when the client can send no more of them.
// done is false while more records are needed to answer; with ended set it is true.
//
// Each record holds content, padding, the inner content type and the AEAD tag
// (RFC 8446 §5.2). The client's flight after the server's is, in order, Certificate
// and CertificateVerify when the server sent a CertificateRequest (an empty
// Certificate and no CertificateVerify when the client has none), then Finished,
// whose content is the hash length plus its header (§4.4.4). So:
//
//   - a first record of exactly a Finished: no certificate;
//   - a first record too small for any certificate: an empty Certificate (or a
//     padded Finished): no certificate;
//   - a large first record (or several full ones), then a CertificateVerify-sized
//     record and an exact Finished: a certificate;
//   - anything else (padding, messages coalesced into one record, a record of
//     unexpected size) is unknown: a padded Finished may be of any size.
//
// Whether the server requested a certificate is yes when the client sent a
// Certificate message (empty or not), no only when the first record is an exact
// Finished and the next is not another one (a padded empty Certificate of exactly
// that size is followed by the Finished), and unknown otherwise. Early data, PSK
// resumption (the session keeps the first handshake's identity) and
// post-handshake authentication are the caller's to rule out.
func ClientAuthTLS13(suite uint16, records []uint16, ended bool) (cert, requested Answer, done bool) {
	hashLen, tagLen, ok := tls13Suite(suite)
	if !ok {
		return AnswerUnknown, AnswerUnknown, true
	}
	finished := handshakeHeaderLen + hashLen
	content := func(i int) int { return int(records[i]) - tagLen - innerContentTypeLen }
	wait := func() (Answer, Answer, bool) { return AnswerUnknown, AnswerUnknown, ended }
	if len(records) == 0 {
		return wait()
	}
	first := content(0)
	switch {
	case first < emptyCertificateLen:
		// Too small for any handshake message the client may send here: an
		// encrypted alert (the client gave up on the server), or garbage.
		return AnswerUnknown, AnswerUnknown, true
	case first < finished:
		// Only an empty Certificate, possibly padded, fits.
		return AnswerNo, AnswerYes, true
	case first == finished:
		if len(records) < 2 {
			if ended {
				return AnswerNo, AnswerNo, true
			}
			return AnswerNo, AnswerUnknown, false
		}
		if content(1) == finished {
			return AnswerNo, AnswerUnknown, true // Finished then data of its size, or a padded empty Certificate then Finished
		}
		return AnswerNo, AnswerNo, true
	case first < minCertificateLen:
		// No certificate fits: a padded Finished, or an empty Certificate coalesced
		// with the Finished or padded; only a following exact Finished tells which.
		if len(records) < 2 {
			if ended {
				return AnswerNo, AnswerUnknown, true
			}
			return AnswerNo, AnswerUnknown, false
		}
		if content(1) == finished {
			return AnswerNo, AnswerYes, true
		}
		return AnswerNo, AnswerUnknown, true
	}
	// A record large enough for a certificate: find where the Certificate ends (full
	// records continue it), then expect a CertificateVerify record and an exact
	// Finished. A Certificate coalesced with what follows is left unknown: a padded
	// Finished may have any size.
	i := 0
	for i < len(records) && content(i) >= maxInnerPlaintext {
		i++
	}
	verify, fin := i+1, i+2
	if verify < len(records) {
		if n := content(verify); n < minCertificateVerifyLen || n > maxCertificateVerifyLen {
			return AnswerUnknown, AnswerUnknown, true
		}
	}
	if fin >= len(records) {
		return wait()
	}
	if content(fin) == finished {
		return AnswerYes, AnswerYes, true
	}
	return AnswerUnknown, AnswerUnknown, true
}

// addFlightRecord keeps the length of one application_data record.
func (d *direction) addFlightRecord(n int) {
	if d.nflight < len(d.flight) {
		d.flight[d.nflight] = uint16(n)
		d.nflight++
	}
}

// partialFlightRecord keeps the length of an application_data record whose header is
// all there but whose body is not (yet): the prefix may end inside a long
// Certificate, and only the header matters here.
func (d *direction) partialFlightRecord(s cryptobyte.String) {
	var typ uint8
	var version, length uint16
	if d.needMore && s.ReadUint8(&typ) && typ == recordTypeApplicationData && s.ReadUint16(&version) && s.ReadUint16(&length) {
		d.addFlightRecord(int(length))
	}
}

// ClientFlight returns the lengths of the client's application_data records after its
// last clear handshake record, in order: in TLS 1.3 the encrypted flight that
// follows the server's, then application data. The last one may be incomplete. The
// slice aliases h until the next scan of the client direction.
func (h *Handshake) ClientFlight() []uint16 { return h.client.flight[:h.client.nflight] }

// ClientAuth answers whether the client sent a certificate and whether the server
// asked for one, and how it knows (EvidenceCertificateMessage or
// EvidenceTLS13FlightSize, "" when the answer is unknown). ended is true when the
// client direction can bring no more bytes. done is false while the client's TLS 1.3
// flight is still to come; before TLS 1.3 the clear handshake says all it will once
// Complete is true.
//
// A resumed session keeps the identity its first handshake proved, so a resumption
// without a certificate proves nothing: unknown. So does early data, whose records
// come before the flight.
func (h *Handshake) ClientAuth(ended bool) (cert, requested Answer, evidence string, done bool) {
	if !h.ServerHelloSeen {
		return AnswerUnknown, AnswerUnknown, "", true
	}
	sh := &h.ServerHello
	switch v := sh.Version(); {
	case v == VersionSSL2:
		return AnswerUnknown, AnswerUnknown, "", true
	case v.Normalized() == VersionTLS13:
		if resumed(h) || (h.ClientHellos > 0 && h.ClientHello.EarlyData) {
			return AnswerUnknown, AnswerUnknown, "", true
		}
		cert, requested, done = ClientAuthTLS13(sh.CipherSuite, h.ClientFlight(), ended || h.client.alertFatal || h.server.alertFatal)
		if cert.Known() {
			evidence = EvidenceTLS13FlightSize
		}
		return cert, requested, evidence, done
	}
	if resumed(h) {
		return AnswerUnknown, AnswerUnknown, "", true
	}
	switch {
	case h.ClientCertRequested:
		requested = AnswerYes
	case h.ServerHelloDoneSeen:
		requested = AnswerNo
	}
	switch {
	case h.ClientCertSent:
		// A client sends a Certificate only when asked (RFC 5246 §7.4.6), even
		// when the capture missed the CertificateRequest.
		cert, requested = AnswerYes, AnswerYes
	case h.ClientKeyExchangeSeen:
		cert = AnswerNo
	}
	if cert.Known() {
		evidence = EvidenceCertificateMessage
	}
	return cert, requested, evidence, true
}
