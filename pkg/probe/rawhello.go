package probe

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// A hand-built ClientHello does what Go's crypto/tls client cannot: offer SSL 3.0
// and send TLS_FALLBACK_SCSV. Only the server's first record is read back, so
// nothing here needs keys or a handshake state.

// Wire values, RFC 5246 and RFC 8446 names.
const (
	recordTypeAlert     = 21 // RFC 5246 §6.2.1 ContentType alert
	recordTypeHandshake = 22 // RFC 5246 §6.2.1 ContentType handshake

	typeClientHello = 1 // RFC 5246 §7.4 HandshakeType client_hello
	typeServerHello = 2 // RFC 5246 §7.4 HandshakeType server_hello

	extensionServerName           = 0      // RFC 6066 §3
	extensionSupportedGroups      = 10     // RFC 8422 §5.1.1
	extensionECPointFormats       = 11     // RFC 8422 §5.1.2
	extensionSignatureAlgorithms  = 13     // RFC 5246 §7.4.1.4.1
	extensionExtendedMasterSecret = 23     // RFC 7627 §5.1
	extensionSupportedVersions    = 43     // RFC 8446 §4.2.1
	extensionRenegotiationInfo    = 0xff01 // RFC 5746 §3.2

	alertInappropriateFallback = 86 // RFC 7507 §2

	versionSSL30 = uint16(classify.VersionSSL3)

	// maxRecordLength is the longest record plaintext (2^14, RFC 5246 §6.2.1) plus
	// the 2048 bytes a compressed or protected record may add; a longer length field
	// is refused before anything is allocated.
	maxRecordLength = 1<<14 + 2048
)

// ssl3Suites are the cipher suites an SSL 3.0 client offers: RSA and DHE key
// exchange with AES, 3DES and RC4, the ones SSL 3.0 servers still configured.
var ssl3Suites = []uint16{
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	0x0033, 0x0039, // TLS_DHE_RSA_WITH_AES_128_CBC_SHA, TLS_DHE_RSA_WITH_AES_256_CBC_SHA
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_RC4_128_SHA,
	0x0004, // TLS_RSA_WITH_RC4_128_MD5
}

// emptyRenegotiationInfoSCSV stands for the renegotiation_info extension where a
// ClientHello has no extensions (RFC 5746 §3.3).
const emptyRenegotiationInfoSCSV = 0x00ff

// clientHello returns one handshake record carrying a ClientHello whose highest
// version is version, with suites offered in order. Up from TLS 1.0 it has the
// extensions a TLS 1.2 server needs to pick an ECDHE suite and a signature (server
// name when serverName is not empty, groups, point formats, signature algorithms from
// TLS 1.2, extended master secret, renegotiation info) and never supported_versions,
// so the version field is the client's last word. For SSL 3.0 it has no extensions.
func clientHello(version uint16, suites []uint16, serverName string) ([]byte, error) {
	var random [32]byte
	rand.Read(random[:])
	recordVersion := uint16(tls.VersionTLS10)
	if version < recordVersion {
		recordVersion = version
	}
	var b cryptobyte.Builder
	b.AddUint8(recordTypeHandshake)
	b.AddUint16(recordVersion)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(typeClientHello)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(version)
			b.AddBytes(random[:])
			b.AddUint8(0) // no session ID
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range suites {
					b.AddUint16(s)
				}
			})
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // null compression
			if version >= tls.VersionTLS10 {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addExtensions(b, version, serverName) })
			}
		})
	})
	return b.Bytes()
}

// addExtensions writes the extensions of a TLS 1.0 to 1.2 ClientHello.
func addExtensions(b *cryptobyte.Builder, version uint16, serverName string) {
	if serverName != "" {
		b.AddUint16(extensionServerName)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0) // host_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(serverName)) })
			})
		})
	}
	b.AddUint16(extensionSupportedGroups)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, g := range []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521} {
				b.AddUint16(uint16(g))
			}
		})
	})
	b.AddUint16(extensionECPointFormats)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // uncompressed
	})
	if version >= tls.VersionTLS12 { // RFC 5246 §7.4.1.4.1: not sent below TLS 1.2
		b.AddUint16(extensionSignatureAlgorithms)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384,
					tls.ECDSAWithP521AndSHA512, tls.Ed25519, tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512,
					tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512, tls.ECDSAWithSHA1, tls.PKCS1WithSHA1} {
					b.AddUint16(uint16(s))
				}
			})
		})
	}
	b.AddUint16(extensionExtendedMasterSecret)
	b.AddUint16(0)
	b.AddUint16(extensionRenegotiationInfo)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // empty renegotiated_connection
}

// serverAnswer is what the first record a server sent back to a ClientHello says:
// a ServerHello's version and cipher suite, or an alert.
type serverAnswer struct {
	isAlert bool
	alert   uint8 // AlertDescription, when isAlert
	version uint16
	cipher  uint16
}

// String names the answer as a report shows it: "alert inappropriate_fallback",
// "ServerHello TLS1.2".
func (a *serverAnswer) String() string {
	if a.isAlert {
		return "alert " + alertName(a.alert)
	}
	return "ServerHello " + versionName(a.version)
}

// Errors of readServerAnswer, for answers that are neither a ServerHello nor an
// alert.
var (
	errNotTLS           = errors.New("answer is not a TLS record")
	errUnexpectedRecord = errors.New("first record is neither a handshake nor an alert")
	errNotServerHello   = errors.New("first handshake message is not a ServerHello")
	errTruncatedAnswer  = errors.New("truncated answer")
)

// readServerAnswer reads the server's first record from r and parses it. The record
// length is checked before anything is allocated; a server may send anything, so
// every field is read with its bounds checked. It returns an error exactly when the
// answer is nil.
func readServerAnswer(r io.Reader) (*serverAnswer, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	s := cryptobyte.String(hdr[:])
	var typ uint8
	var version, length uint16
	s.ReadUint8(&typ)
	s.ReadUint16(&version)
	s.ReadUint16(&length)
	if version>>8 != 3 || typ < 20 || typ > 24 { // RFC 5246 §6.2.1 content types 20 to 24
		return nil, errNotTLS
	}
	if int(length) > maxRecordLength {
		return nil, fmt.Errorf("record of %d bytes: %w", length, errNotTLS)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("record body: %w", err)
	}
	switch typ {
	case recordTypeAlert:
		return parseAlert(body)
	case recordTypeHandshake:
		return parseServerHello(body)
	}
	return nil, fmt.Errorf("content type %d: %w", typ, errUnexpectedRecord)
}

// parseAlert reads the first alert of an alert record (RFC 5246 §7.2).
func parseAlert(body cryptobyte.String) (*serverAnswer, error) {
	var level, desc uint8
	if !body.ReadUint8(&level) || !body.ReadUint8(&desc) {
		return nil, errTruncatedAnswer
	}
	return &serverAnswer{isAlert: true, alert: desc}, nil
}

// parseServerHello reads the ServerHello that must open the first handshake record
// (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3); the messages after it are not read. The
// version is supported_versions' when that extension is there.
func parseServerHello(body cryptobyte.String) (*serverAnswer, error) {
	var typ uint8
	var msg cryptobyte.String
	if !body.ReadUint8(&typ) {
		return nil, errTruncatedAnswer
	}
	if typ != typeServerHello {
		return nil, fmt.Errorf("handshake type %d: %w", typ, errNotServerHello)
	}
	if !body.ReadUint24LengthPrefixed(&msg) {
		return nil, errTruncatedAnswer
	}
	a := &serverAnswer{}
	var sessionID cryptobyte.String
	var compression uint8
	if !msg.ReadUint16(&a.version) || !msg.Skip(32) || !msg.ReadUint8LengthPrefixed(&sessionID) ||
		!msg.ReadUint16(&a.cipher) || !msg.ReadUint8(&compression) {
		return nil, errTruncatedAnswer
	}
	if msg.Empty() { // extensions are optional (RFC 5246 §7.4.1.3)
		return a, nil
	}
	var exts cryptobyte.String
	if !msg.ReadUint16LengthPrefixed(&exts) || !msg.Empty() {
		return nil, errors.New("malformed ServerHello extensions")
	}
	for !exts.Empty() {
		var ext uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&ext) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, errors.New("malformed ServerHello extension")
		}
		if ext == extensionSupportedVersions { // RFC 8446 §4.2.1: selected_version
			if !data.ReadUint16(&a.version) || !data.Empty() {
				return nil, errors.New("malformed supported_versions")
			}
		}
	}
	return a, nil
}

// versionName names a protocol version as the version rows and the policy do.
func versionName(v uint16) string { return classify.Version(v).String() }

// alertName names an alert description as RFC 8446 §6 and RFC 7507 §2 do.
func alertName(d uint8) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("%d", d)
}

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 47: "illegal_parameter", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	alertInappropriateFallback: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
	110: "unsupported_extension", 112: "unrecognized_name", 116: "certificate_required",
	120: "no_application_protocol",
}
