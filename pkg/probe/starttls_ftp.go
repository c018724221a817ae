package probe

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
)

// ftpStartTLS reads the greeting and sends AUTH TLS (RFC 4217 §4); 234 means TLS
// follows. A server that refuses (500, 502, 504, 530, …) is the error on the target.
func ftpStartTLS(c net.Conn) error {
	r := bufio.NewReaderSize(c, textLineMax)
	if _, err := ftpReply(r, "220"); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if _, err := command(c, "auth tls", "AUTH TLS", func() (string, error) { return ftpReply(r, "234") }); err != nil {
		return err
	}
	return nothingBuffered(r)
}

// ftpReply reads one reply with the given code and returns its text. A multi-line
// reply starts "ddd-" and ends at the first line starting "ddd " with the same code;
// the lines between may be any text (RFC 959 §4.2). At most maxReplyLines lines.
func ftpReply(r *bufio.Reader, code string) (string, error) {
	first, err := readLine(r)
	if err != nil {
		return "", err
	}
	if len(first) < 4 || first[:3] != code || (first[3] != ' ' && first[3] != '-') {
		return "", fmt.Errorf("reply %q, want %s", strings.TrimSpace(first), code)
	}
	var all strings.Builder
	all.WriteString(first)
	if first[3] == ' ' {
		return all.String(), nil
	}
	for range maxReplyLines - 1 {
		line, err := readLine(r)
		if err != nil {
			return "", err
		}
		all.WriteString(line)
		if strings.HasPrefix(line, code+" ") {
			return all.String(), nil
		}
	}
	return "", errors.New("reply too long")
}
