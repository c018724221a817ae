package probe

import (
	"bufio"
	"fmt"
	"net"
	"strings"
)

// pop3StartTLS reads the greeting and sends STLS (RFC 2595 §4); +OK means TLS
// follows. A server without STLS answers -ERR, which is the error on the target.
func pop3StartTLS(c net.Conn) error {
	r := bufio.NewReaderSize(c, textLineMax)
	if _, err := pop3Reply(r); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if _, err := command(c, "stls", "STLS", func() (string, error) { return pop3Reply(r) }); err != nil {
		return err
	}
	return nothingBuffered(r)
}

// pop3Reply reads one single-line reply and returns its text after "+OK"; "-ERR"
// or anything else is an error. The status indicators are upper case (RFC 1939 §3).
func pop3Reply(r *bufio.Reader) (string, error) {
	line, err := readLine(r)
	if err != nil {
		return "", err
	}
	text, ok := strings.CutPrefix(line, "+OK")
	if !ok || (text[0] != ' ' && text[0] != '\r' && text[0] != '\n') {
		return "", fmt.Errorf("reply %q, want +OK", strings.TrimSpace(line))
	}
	return strings.TrimSpace(text), nil
}
