package probe

import (
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// StartTLSLDAP names LDAP targets, "ldap://host:port", upgraded with the StartTLS
// extended operation (RFC 4511 §4.14).
const StartTLSLDAP = "ldap"

// BER tags of the LDAP messages the probe reads and writes (RFC 4511 §4.2, §4.12,
// §4.14).
const (
	ldapTagSequence         = 0x30
	ldapTagExtendedRequest  = 0x77 // [APPLICATION 23], constructed
	ldapTagExtendedResponse = 0x78 // [APPLICATION 24], constructed
	ldapTagRequestName      = 0x80 // [0], primitive
	ldapStartTLSOID         = "1.3.6.1.4.1.1466.20037"
	// ldapMessageMax bounds the response read: an ExtendedResponse to StartTLS
	// is a result code, a DN and a diagnostic message, far below this.
	ldapMessageMax = 4096
)

// ldapStartTLSRequest is message 1, an ExtendedRequest naming StartTLS and carrying
// no value.
var ldapStartTLSRequest = func() []byte {
	var b cryptobyte.Builder
	b.AddASN1(ldapTagSequence, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1) // messageID
		b.AddASN1(ldapTagExtendedRequest, func(b *cryptobyte.Builder) {
			b.AddASN1(ldapTagRequestName, func(b *cryptobyte.Builder) { b.AddBytes([]byte(ldapStartTLSOID)) })
		})
	})
	return b.BytesOrPanic()
}()

// ldapStartTLS sends the StartTLS request and expects its response to say success;
// TLS follows.
func ldapStartTLS(c net.Conn) error {
	if _, err := c.Write(ldapStartTLSRequest); err != nil {
		return err
	}
	msg, err := readLDAPMessage(c)
	if err != nil {
		return fmt.Errorf("starttls response: %w", err)
	}
	if err := ldapStartTLSResult(msg); err != nil {
		return fmt.Errorf("starttls: %w", err)
	}
	return nil
}

// readLDAPMessage reads one LDAPMessage (a BER SEQUENCE) from r and returns its
// contents. The length may be in long form with leading zero bytes, as some servers
// send it, but the message may not exceed ldapMessageMax; nothing past it is read.
func readLDAPMessage(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != ldapTagSequence {
		return nil, fmt.Errorf("tag %#x, want an LDAPMessage", hdr[0])
	}
	length := int(hdr[1])
	if hdr[1]&0x80 != 0 {
		n := int(hdr[1] & 0x7f)
		if n == 0 || n > 4 {
			return nil, fmt.Errorf("length of %d bytes", n) // 0: indefinite, not allowed (RFC 4511 §5.1)
		}
		var lb [4]byte
		if _, err := io.ReadFull(r, lb[:n]); err != nil {
			return nil, err
		}
		length = 0
		for _, b := range lb[:n] {
			length = length<<8 | int(b)
		}
	}
	return readBounded(r, length, ldapMessageMax)
}

// errLDAPMalformed is a response that is not the ExtendedResponse it should be.
var errLDAPMalformed = errors.New("malformed LDAP response")

// ldapStartTLSResult checks the contents of the LDAPMessage answering StartTLS: message
// 1, an ExtendedResponse whose resultCode is success (0). Any other code is the
// server's refusal, reported with its diagnostic message; message 0 is the Notice of
// Disconnection (RFC 4511 §4.4.1).
func ldapStartTLSResult(msg []byte) error {
	s := cryptobyte.String(msg)
	var id int64
	var op cryptobyte.String
	if !readBERInt(&s, asn1.INTEGER, &id) || !readBER(&s, ldapTagExtendedResponse, &op) {
		return errLDAPMalformed
	}
	var code int64
	var matchedDN, diagnostic cryptobyte.String
	if !readBERInt(&op, asn1.ENUM, &code) || !readBER(&op, uint8(asn1.OCTET_STRING), &matchedDN) ||
		!readBER(&op, uint8(asn1.OCTET_STRING), &diagnostic) {
		return errLDAPMalformed
	}
	switch {
	case id == 0:
		return fmt.Errorf("server disconnected (result %d): %q", code, diagnostic)
	case id != 1:
		return fmt.Errorf("response to message %d, want 1", id)
	case code != 0:
		return fmt.Errorf("result %d: %q", code, diagnostic)
	}
	return nil
}

// readBER reads one element with the given one-byte tag into out. Unlike
// cryptobyte's DER reader it accepts BER's non-minimal long-form lengths (up to four
// length bytes), which LDAP servers send.
func readBER(s *cryptobyte.String, tag uint8, out *cryptobyte.String) bool {
	var t, l uint8
	if !s.ReadUint8(&t) || t != tag || !s.ReadUint8(&l) {
		return false
	}
	length := uint32(l)
	if l&0x80 != 0 {
		n := int(l & 0x7f)
		var lb cryptobyte.String
		if n == 0 || n > 4 || !s.ReadBytes((*[]byte)(&lb), n) {
			return false
		}
		length = 0
		for _, b := range lb {
			length = length<<8 | uint32(b)
		}
	}
	return s.ReadBytes((*[]byte)(out), int(length))
}

// readBERInt reads an INTEGER or ENUMERATED (tag) of one to four bytes.
func readBERInt(s *cryptobyte.String, tag asn1.Tag, out *int64) bool {
	var v cryptobyte.String
	if !readBER(s, uint8(tag), &v) || len(v) == 0 || len(v) > 4 {
		return false
	}
	n := int64(int8(v[0])) // the sign comes from the first byte
	for _, b := range v[1:] {
		n = n<<8 | int64(b)
	}
	*out = n
	return true
}
