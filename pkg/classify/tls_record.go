package classify

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Sentinel errors of the TLS parsers. Every error returned by Unmarshal and stored in
// Handshake.ClientErr / ServerErr wraps exactly one of them; match with errors.Is.
var (
	// ErrTruncated means the input ended inside a field, or a length prefix claimed
	// more bytes than its enclosing structure holds.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed means a field holds a value the protocol forbids (an empty list
	// that must not be empty, an odd length for a list of 16-bit values, the wrong
	// message type).
	ErrMalformed = errors.New("malformed")
	// ErrNotTLS means the bytes are not a TLS record stream: an unknown content type
	// or a record version that no TLS or SSL version uses.
	ErrNotTLS = errors.New("not tls")
	// ErrDuplicateExtension means a hello carried the same extension type twice
	// (RFC 8446 §4.2, RFC 5246 §7.4.1.4).
	ErrDuplicateExtension = errors.New("duplicate extension")
	// ErrTrailingData means bytes were left over after a structure that must fill its
	// enclosing vector exactly.
	ErrTrailingData = errors.New("trailing data")
)

// parseError is an error with a fixed context, wrapping one of the sentinels. All
// values are package-level and built once, so returning one never allocates.
type parseError struct {
	context string
	err     error
}

func (e *parseError) Error() string { return e.context + ": " + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

func newParseError(context string, sentinel error) error {
	return &parseError{context: context, err: sentinel}
}

// TLS record content types (RFC 8446 §5.1, RFC 6520 §2 for heartbeat).
const (
	recordTypeChangeCipherSpec uint8 = 20
	recordTypeAlert            uint8 = 21
	recordTypeHandshake        uint8 = 22
	recordTypeApplicationData  uint8 = 23
	recordTypeHeartbeat        uint8 = 24
)

// Record-layer limits.
const (
	// recordMaxPlaintext is the largest TLSPlaintext.fragment (RFC 8446 §5.1).
	recordMaxPlaintext = 1 << 14
	// recordMaxLength is the largest record length accepted: TLSCiphertext may
	// exceed 2^14 by up to 2048 bytes (RFC 5246 §6.2.3).
	recordMaxLength = recordMaxPlaintext + 2048
	// recordMajorVersion is the major version byte of every SSL 3.0 / TLS record.
	recordMajorVersion = 3
	// recordMaxMinorVersion is the highest minor version byte accepted in a record
	// header (TLS 1.3 records carry 0x0303, its ClientHello may carry 0x0301).
	recordMaxMinorVersion = 4
)

// SSL 2.0 record and message framing (draft-hickman-netscape-ssl-00, RFC 6101
// App. E, RFC 5246 App. E.2).
const (
	// sslv2HeaderLongBit is set in the first byte of a 2-byte SSLv2 record header.
	sslv2HeaderLongBit = 0x80
	// sslv2MsgError, sslv2MsgClientHello and sslv2MsgServerHello are SSLv2
	// message types.
	sslv2MsgError       = 0
	sslv2MsgClientHello = 1
	sslv2MsgServerHello = 4
	// sslv2MinClientHello is the smallest SSLv2 CLIENT-HELLO body: message type,
	// version and three 16-bit lengths.
	sslv2MinClientHello = 9
	// sslv2LengthMask and sslv2ShortLengthMask select the record length of a
	// 2-byte and a 3-byte header.
	sslv2LengthMask      = 0x7fff
	sslv2ShortLengthMask = 0x3fff
)

// validRecordType reports whether t is a content type this package understands.
func validRecordType(t uint8) bool {
	return t >= recordTypeChangeCipherSpec && t <= recordTypeHeartbeat
}

// LooksLikeTLS reports whether b starts like a TLS connection: a plausible record
// header (content type 20..24, version 3.0..3.4, length at most 2^14+2048) or an
// SSLv2-compatible ClientHello (RFC 5246 App. E.2: a 2-byte header with the high bit
// set, message type 1, version 0x0002 or 0x03xx). It needs 5 bytes for a TLS record
// header and at least 3 for the SSLv2 form; b is only read.
func LooksLikeTLS(b []byte) bool {
	if looksLikeSSLv2ClientHello(b) {
		return true
	}
	s := cryptobyte.String(b)
	var typ, major, minor uint8
	var length uint16
	if !s.ReadUint8(&typ) || !s.ReadUint8(&major) || !s.ReadUint8(&minor) || !s.ReadUint16(&length) {
		return false
	}
	return validRecordType(typ) && major == recordMajorVersion && minor <= recordMaxMinorVersion &&
		length <= recordMaxLength
}

// looksLikeSSLv2ClientHello checks the SSLv2 record header and message type, and the
// client version when the bytes reach that far.
func looksLikeSSLv2ClientHello(b []byte) bool {
	s := cryptobyte.String(b)
	var hdr uint16
	var msgType uint8
	if !s.ReadUint16(&hdr) || !s.ReadUint8(&msgType) {
		return false
	}
	if hdr&(sslv2HeaderLongBit<<8) == 0 || hdr&sslv2LengthMask < sslv2MinClientHello ||
		msgType != sslv2MsgClientHello {
		return false
	}
	var version uint16
	if !s.ReadUint16(&version) {
		return true // only the 3-byte check is possible
	}
	return version == uint16(VersionSSL2) || version>>8 == recordMajorVersion
}

// readSSLv2Record reads one SSLv2 record from s: a 2-byte header (high bit set, 15-bit
// length) or a 3-byte header (14-bit length, then a padding-length byte). record is
// the whole record, body the bytes after the header. It reports false without
// consuming anything when s does not hold the whole record.
func readSSLv2Record(s *cryptobyte.String, record, body *[]byte) bool {
	peek := *s
	var header uint16
	if !peek.ReadUint16(&header) {
		return false
	}
	headerLen, length := 2, int(header&sslv2LengthMask)
	if header&(sslv2HeaderLongBit<<8) == 0 {
		headerLen, length = 3, int(header&sslv2ShortLengthMask)
	}
	var whole []byte
	if !s.ReadBytes(&whole, headerLen+length) {
		return false
	}
	*record, *body = whole, whole[headerLen:]
	return true
}
