package probe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Protocols a target may name to be upgraded to TLS before the handshake:
// "smtp://host:port" (SMTP STARTTLS, RFC 3207) and "postgres://host:port"
// (PostgreSQL SSLRequest).
const (
	StartTLSSMTP     = "smtp"
	StartTLSPostgres = "postgres"
)

// parseTarget splits "[proto://]host:port" into the STARTTLS protocol ("" for TLS
// from the first byte) and the address.
func parseTarget(t string) (proto, addr string, err error) {
	proto, addr, found := strings.Cut(t, "://")
	if !found {
		proto, addr = "", t
	}
	switch proto {
	case "", StartTLSSMTP, StartTLSPostgres:
	default:
		return "", "", fmt.Errorf("unknown protocol %q (want smtp or postgres, or none)", proto)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", "", err
	}
	return proto, addr, nil
}

// errNoStartTLS is the server declining to upgrade.
var errNoStartTLS = errors.New("server does not offer TLS")

// startTLS speaks proto's clear-text opening on c up to the point where TLS begins.
func startTLS(c net.Conn, proto string) error {
	switch proto {
	case StartTLSSMTP:
		return smtpStartTLS(c)
	case StartTLSPostgres:
		return postgresStartTLS(c)
	}
	return nil
}

// smtpStartTLS reads the greeting, says EHLO and STARTTLS (RFC 3207 §4), and
// expects 220 before the handshake.
func smtpStartTLS(c net.Conn) error {
	r := bufio.NewReaderSize(c, 512)
	if _, err := smtpReply(r, "220"); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if _, err := io.WriteString(c, "EHLO tlsaudit.probe\r\n"); err != nil {
		return err
	}
	caps, err := smtpReply(r, "250")
	if err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if !strings.Contains(strings.ToUpper(caps), "STARTTLS") {
		return errNoStartTLS
	}
	if _, err := io.WriteString(c, "STARTTLS\r\n"); err != nil {
		return err
	}
	if _, err := smtpReply(r, "220"); err != nil {
		return fmt.Errorf("starttls: %w", err)
	}
	if r.Buffered() > 0 {
		return errors.New("starttls: bytes after the 220 reply") // would be read as TLS
	}
	return nil
}

// maxReplyLines bounds a multi-line SMTP reply.
const maxReplyLines = 64

// smtpReply reads one reply, all its lines, and checks its code. A line longer than
// r's buffer is an error, so a hostile server cannot make it grow (RFC 5321 §4.5.3.1.5
// allows 512 bytes).
func smtpReply(r *bufio.Reader, code string) (string, error) {
	var all strings.Builder
	for range maxReplyLines {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("reply line too long")
		}
		if err != nil {
			return "", err
		}
		line := string(b)
		all.WriteString(line)
		if len(line) < 4 || line[:3] != code {
			return "", fmt.Errorf("reply %q, want %s", strings.TrimSpace(line), code)
		}
		if line[3] != '-' {
			return all.String(), nil
		}
	}
	return "", errors.New("reply too long")
}

// postgresSSLRequest is the SSLRequest message: length 8, code 80877103.
var postgresSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// postgresStartTLS sends an SSLRequest; 'S' means TLS follows, 'N' refusal.
func postgresStartTLS(c net.Conn) error {
	if _, err := c.Write(postgresSSLRequest); err != nil {
		return err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	switch {
	case bytes.Equal(b[:], []byte("S")):
		return nil
	case bytes.Equal(b[:], []byte("N")):
		return errNoStartTLS
	}
	return fmt.Errorf("answer %q to SSLRequest", b[:])
}
