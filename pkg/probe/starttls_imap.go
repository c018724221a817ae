package probe

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
)

// textLineMax bounds one reply line of IMAP, POP3 and FTP. Their replies before TLS
// are short status and capability lines; a longer line is an error, not a reason to
// grow the buffer.
const textLineMax = 1024

// imapStartTLS reads the greeting, asks for CAPABILITY and, when STARTTLS is among
// them, sends it (RFC 3501 §6.2.1) and expects OK before the handshake.
func imapStartTLS(c net.Conn) error {
	r := bufio.NewReaderSize(c, textLineMax)
	greeting, err := readLine(r)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	// PREAUTH would put the session past the state where STARTTLS is allowed;
	// BYE is a refusal (RFC 3501 §7.1.4, §7.1.5).
	if !hasPrefixFold(greeting, "* OK") {
		return fmt.Errorf("greeting %q, want * OK", strings.TrimSpace(greeting))
	}
	untagged, err := command(c, "capability", "P1 CAPABILITY", func() (string, error) { return imapResponse(r, "P1") })
	if err != nil {
		return err
	}
	if !imapHasCapability(untagged, "STARTTLS") {
		return errNoStartTLS
	}
	if _, err := command(c, "starttls", "P2 STARTTLS", func() (string, error) { return imapResponse(r, "P2") }); err != nil {
		return err
	}
	return nothingBuffered(r)
}

// imapResponse reads the untagged lines ("* ...") up to the tagged completion of
// tag and returns them; the completion must be OK (RFC 3501 §7.1). A continuation
// request, a line of another tag, a BYE or more than maxReplyLines lines is an error.
func imapResponse(r *bufio.Reader, tag string) (string, error) {
	var untagged strings.Builder
	for range maxReplyLines {
		line, err := readLine(r)
		if err != nil {
			return "", err
		}
		switch {
		case hasPrefixFold(line, "* BYE"):
			return "", fmt.Errorf("server closing: %q", strings.TrimSpace(line))
		case strings.HasPrefix(line, "* "):
			untagged.WriteString(line)
		case strings.HasPrefix(line, tag+" "):
			if !hasPrefixFold(line[len(tag)+1:], "OK") {
				return "", fmt.Errorf("reply %q, want %s OK", strings.TrimSpace(line), tag)
			}
			return untagged.String(), nil
		default:
			return "", fmt.Errorf("reply %q, want * or %s", strings.TrimSpace(line), tag)
		}
	}
	return "", errors.New("reply too long")
}

// imapHasCapability reports whether a "* CAPABILITY" line of untagged lists name
// (atoms compare case-insensitively, RFC 3501 §9).
func imapHasCapability(untagged, name string) bool {
	for line := range strings.Lines(untagged) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[1], "CAPABILITY") {
			continue
		}
		for _, c := range f[2:] {
			if strings.EqualFold(c, name) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
