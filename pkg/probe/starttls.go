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
// "smtp://host:port" (SMTP STARTTLS, RFC 3207), "postgres://host:port"
// (PostgreSQL SSLRequest), "imap://host:port" (IMAP STARTTLS, RFC 3501 §6.2.1),
// "pop3://host:port" (POP3 STLS, RFC 2595 §4) and "ftp://host:port" (FTP AUTH TLS,
// RFC 4217 §4); StartTLSLDAP and StartTLSMySQL are beside their binary protocols.
const (
	StartTLSSMTP     = "smtp"
	StartTLSPostgres = "postgres"
	StartTLSIMAP     = "imap"
	StartTLSPOP3     = "pop3"
	StartTLSFTP      = "ftp"
)

// parseTarget splits "[proto://]host:port" into the STARTTLS protocol ("" for TLS
// from the first byte) and the address.
func parseTarget(t string) (proto, addr string, err error) {
	proto, addr, found := strings.Cut(t, "://")
	if !found {
		proto, addr = "", t
	}
	switch proto {
	case "", StartTLSSMTP, StartTLSPostgres, StartTLSIMAP, StartTLSPOP3, StartTLSFTP, StartTLSLDAP, StartTLSMySQL:
	default:
		return "", "", fmt.Errorf("unknown protocol %q (want smtp, imap, pop3, ftp, ldap, mysql or postgres, or none)", proto)
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
	case StartTLSIMAP:
		return imapStartTLS(c)
	case StartTLSPOP3:
		return pop3StartTLS(c)
	case StartTLSFTP:
		return ftpStartTLS(c)
	case StartTLSLDAP:
		return ldapStartTLS(c)
	case StartTLSMySQL:
		return mysqlStartTLS(c)
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
	caps, err := command(c, "ehlo", "EHLO tlsaudit.probe", func() (string, error) { return smtpReply(r, "250") })
	if err != nil {
		return err
	}
	if !strings.Contains(strings.ToUpper(caps), "STARTTLS") {
		return errNoStartTLS
	}
	if _, err := command(c, "starttls", "STARTTLS", func() (string, error) { return smtpReply(r, "220") }); err != nil {
		return err
	}
	return nothingBuffered(r)
}

// command sends line (CRLF added) and reads its reply with read; a bad reply is an
// error naming what was sent.
func command(c net.Conn, name, line string, read func() (string, error)) (string, error) {
	if _, err := io.WriteString(c, line+"\r\n"); err != nil {
		return "", err
	}
	reply, err := read()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return reply, nil
}

// nothingBuffered checks that the server sent nothing after its go-ahead: those bytes
// would be read as the start of TLS, or, sent by a man in the middle, injected into
// the protected session (the STARTTLS command injection of CVE-2011-0411).
func nothingBuffered(r *bufio.Reader) error {
	if r.Buffered() > 0 {
		return errors.New("bytes after the reply that starts TLS")
	}
	return nil
}

// readBounded reads the n bytes a server announced, refusing more than max before
// allocating anything.
func readBounded(r io.Reader, n, max int) ([]byte, error) {
	if n > max {
		return nil, fmt.Errorf("message of %d bytes, more than %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// readLine reads one line, its CRLF included. A line longer than r's buffer is an
// error, so a hostile server cannot make the buffer grow.
func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("reply line too long")
	}
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// maxReplyLines bounds a multi-line reply of SMTP, IMAP or FTP.
const maxReplyLines = 64

// smtpReply reads one reply, all its lines, and checks its code. A line longer than
// r's buffer is an error, so a hostile server cannot make it grow (RFC 5321 §4.5.3.1.5
// allows 512 bytes).
func smtpReply(r *bufio.Reader, code string) (string, error) {
	var all strings.Builder
	for range maxReplyLines {
		line, err := readLine(r)
		if err != nil {
			return "", err
		}
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
