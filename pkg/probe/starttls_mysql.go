package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/crypto/cryptobyte"
)

// StartTLSMySQL names MySQL and MariaDB targets, "mysql://host:port", upgraded with
// the SSLRequest of the connection phase.
const StartTLSMySQL = "mysql"

// MySQL client/server protocol, "Connection Phase": the greeting
// (Protocol::HandshakeV10) and the SSLRequest that asks for TLS.
const (
	mysqlProtocolV10      = 10
	mysqlErrPacket        = 0xff
	mysqlClientProtocol41 = 0x0200
	mysqlClientSSL        = 0x0800
	mysqlClientSecureConn = 0x8000
	// mysqlGreetingMax bounds the greeting read: a version string, 20 bytes of
	// salt, flags and a plugin name, or an error message.
	mysqlGreetingMax = 1024
)

// mysqlSSLRequest is packet 1: capability flags with CLIENT_SSL, the largest packet
// (16 MiB), character set 33 (utf8) and 23 reserved zero bytes, all little-endian.
var mysqlSSLRequest = func() []byte {
	caps := uint32(mysqlClientProtocol41 | mysqlClientSSL | mysqlClientSecureConn)
	payload := []byte{byte(caps), byte(caps >> 8), byte(caps >> 16), byte(caps >> 24), 0, 0, 0, 1, 33}
	payload = append(payload, make([]byte, 23)...)
	return append([]byte{byte(len(payload)), 0, 0, 1}, payload...)
}()

// mysqlStartTLS reads the greeting and, when the server offers CLIENT_SSL, sends the
// SSLRequest; TLS follows at once, with no reply.
func mysqlStartTLS(c net.Conn) error {
	pkt, err := readMySQLPacket(c)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	caps, err := mysqlGreetingCaps(pkt)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if caps&mysqlClientSSL == 0 {
		return errNoStartTLS
	}
	_, err = c.Write(mysqlSSLRequest)
	return err
}

// readMySQLPacket reads one packet: a 3-byte little-endian length, a sequence number,
// and that many bytes, at most mysqlGreetingMax.
func readMySQLPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	return readBounded(r, n, mysqlGreetingMax)
}

// errMySQLMalformed is a greeting cut short or not of protocol 10.
var errMySQLMalformed = errors.New("malformed MySQL greeting")

// mysqlGreetingCaps returns the lower two bytes of the capability flags of a
// HandshakeV10 greeting, where CLIENT_SSL is. An error packet (0xff: too many
// connections, host not allowed) is an error carrying the server's message.
func mysqlGreetingCaps(pkt []byte) (uint16, error) {
	s := cryptobyte.String(pkt)
	var proto uint8
	if !s.ReadUint8(&proto) {
		return 0, errMySQLMalformed
	}
	if proto == mysqlErrPacket {
		var code [2]byte
		if !s.CopyBytes(code[:]) {
			return 0, errMySQLMalformed
		}
		return 0, fmt.Errorf("error %d: %q", int(code[0])|int(code[1])<<8, []byte(s))
	}
	if proto != mysqlProtocolV10 {
		return 0, fmt.Errorf("protocol %d, want 10", proto)
	}
	end := bytes.IndexByte(s, 0) // server version, NUL-terminated
	var caps [2]byte
	if end < 0 || !s.Skip(end+1+4+8+1) || !s.CopyBytes(caps[:]) { // version, connection id, salt, filler
		return 0, errMySQLMalformed
	}
	return uint16(caps[0]) | uint16(caps[1])<<8, nil
}
