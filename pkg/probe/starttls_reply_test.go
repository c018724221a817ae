package probe

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
)

// Replies as Dovecot 2.3 and vsftpd 3.0 send them, seeds for the tests and fuzz
// targets below.
const (
	dovecotIMAPGreeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"
	dovecotCapability   = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED\r\nP1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	dovecotPOP3Greeting = "+OK Dovecot (Debian) ready.\r\n"
	vsftpdGreeting      = "220 (vsFTPd 3.0.3)\r\n"
)

func TestIMAPResponse(t *testing.T) {
	tests := []struct {
		name, in, untagged, err string
	}{
		{"capability", dovecotCapability, strings.SplitAfter(dovecotCapability, "\n")[0], ""},
		{"lower-case ok", "p1 ok done\r\n", "", "want * or P1"},
		{"tag compared exactly, status folded", "P1 ok done\r\n", "", ""},
		{"NO", "P1 NO not now\r\n", "", "want P1 OK"},
		{"BAD", "* CAPABILITY IMAP4rev1\r\nP1 BAD unknown\r\n", "", "want P1 OK"},
		{"BYE", "* BYE shutting down\r\n", "", "server closing"},
		{"another tag", "P2 OK done\r\n", "", "want * or P1"},
		{"tag without separator", "P1OK\r\n", "", "want * or P1"},
		{"continuation request", "+ go ahead\r\n", "", "want * or P1"},
		{"no completion", "* CAPABILITY IMAP4rev1\r\n", "", "EOF"},
		{"line too long", "* " + strings.Repeat("A", textLineMax) + "\r\nP1 OK\r\n", "", "reply line too long"},
		{"too many lines", strings.Repeat("* OK\r\n", maxReplyLines) + "P1 OK\r\n", "", "reply too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := imapResponse(bufio.NewReaderSize(strings.NewReader(tt.in), textLineMax), "P1")
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if err == nil && got != tt.untagged {
				t.Errorf("untagged %q, want %q", got, tt.untagged)
			}
		})
	}
}

func TestIMAPHasCapability(t *testing.T) {
	tests := []struct {
		untagged string
		want     bool
	}{
		{strings.SplitAfter(dovecotCapability, "\n")[0], true},
		{"* capability imap4rev1 starttls\r\n", true},
		{"* CAPABILITY IMAP4rev1 XSTARTTLS STARTTLSX\r\n", false},
		{"* OK STARTTLS\r\n", false}, // not a CAPABILITY response
		{"* CAPABILITY\r\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := imapHasCapability(tt.untagged, "STARTTLS"); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.untagged, got, tt.want)
		}
	}
}

func TestPOP3Reply(t *testing.T) {
	tests := []struct {
		name, in, text, err string
	}{
		{"greeting", dovecotPOP3Greeting, "Dovecot (Debian) ready.", ""},
		{"bare +OK", "+OK\r\n", "", ""},
		{"bare +OK, LF only", "+OK\n", "", ""},
		{"-ERR", "-ERR Unknown command: STLS\r\n", "", `reply "-ERR Unknown command: STLS"`},
		{"lower case", "+ok ready\r\n", "", "want +OK"},
		{"+OK run into text", "+OKAY\r\n", "", "want +OK"},
		{"no line end", "+OK ready", "", "EOF"},
		{"empty", "", "", "EOF"},
		{"line too long", "+OK " + strings.Repeat("x", textLineMax) + "\r\n", "", "reply line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pop3Reply(bufio.NewReaderSize(strings.NewReader(tt.in), textLineMax))
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if err == nil && got != tt.text {
				t.Errorf("text %q, want %q", got, tt.text)
			}
		})
	}
}

func TestFTPReply(t *testing.T) {
	multi := "220-files.internal\r\n Welcome: lines between need no code\r\n220-this one is text too\r\n220 ready\r\n"
	tests := []struct {
		name, in, reply, err string
	}{
		{"single line", vsftpdGreeting, vsftpdGreeting, ""},
		{"multi-line (RFC 959 §4.2)", multi, multi, ""},
		{"other code", "421 too many connections\r\n", "", `reply "421 too many connections", want 220`},
		{"code without separator", "220ready\r\n", "", "want 220"},
		{"short line", "220\r\n", "", "want 220"},
		{"multi-line ended by another code", "220-a\r\n221 b\r\n", "", "EOF"},
		{"unterminated multi-line", "220-a\r\nb\r\n", "", "EOF"},
		{"line too long", "220 " + strings.Repeat("x", textLineMax) + "\r\n", "", "reply line too long"},
		{"too many lines", "220-a\r\n" + strings.Repeat("x\r\n", maxReplyLines) + "220 b\r\n", "", "reply too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ftpReply(bufio.NewReaderSize(strings.NewReader(tt.in), textLineMax), "220")
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if err == nil && got != tt.reply {
				t.Errorf("reply %q, want %q", got, tt.reply)
			}
		})
	}
}

// TestStartTLSDialogs plays servers whose answers no well-behaved server gives (a
// scripted peer over net.Pipe: the point is the misbehaviour): every one must end in
// an error before any TLS byte is read, and the well-formed dialogs in none.
func TestStartTLSDialogs(t *testing.T) {
	tests := []struct {
		name, proto, server, err string
	}{
		{"imap", StartTLSIMAP, dovecotIMAPGreeting + dovecotCapability + "P2 OK Begin TLS negotiation now.\r\n", ""},
		{"imap PREAUTH", StartTLSIMAP, "* PREAUTH logged in\r\n", "greeting"},
		{"imap BYE", StartTLSIMAP, "* BYE too busy\r\n", "greeting"},
		{"imap no STARTTLS", StartTLSIMAP, dovecotIMAPGreeting + "* CAPABILITY IMAP4rev1\r\nP1 OK\r\n", errNoStartTLS.Error()},
		{"imap STARTTLS refused", StartTLSIMAP, dovecotIMAPGreeting + dovecotCapability + "P2 NO later\r\n", "starttls: reply"},
		{"imap bytes after OK", StartTLSIMAP, dovecotIMAPGreeting + dovecotCapability + "P2 OK go\r\n* injected\r\n", "bytes after the reply"},
		{"pop3", StartTLSPOP3, dovecotPOP3Greeting + "+OK Begin TLS negotiation now.\r\n", ""},
		{"pop3 STLS refused", StartTLSPOP3, dovecotPOP3Greeting + "-ERR Unknown command.\r\n", "stls: reply"},
		{"pop3 bad greeting", StartTLSPOP3, "-ERR go away\r\n", "greeting"},
		{"pop3 bytes after +OK", StartTLSPOP3, dovecotPOP3Greeting + "+OK\r\n+OK\r\n", "bytes after the reply"},
		{"ftp", StartTLSFTP, vsftpdGreeting + "234 Proceed with negotiation.\r\n", ""},
		{"ftp AUTH TLS refused", StartTLSFTP, vsftpdGreeting + "530 Please login with USER and PASS.\r\n", "auth tls: reply"},
		{"ftp not ready", StartTLSFTP, "120 in 5 minutes\r\n", "greeting"},
		{"ftp bytes after 234", StartTLSFTP, vsftpdGreeting + "234 go\r\n230 logged in\r\n", "bytes after the reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()           // ends both goroutines
			go io.Copy(io.Discard, server) // the client's commands
			go server.Write([]byte(tt.server))
			err := startTLS(client, tt.proto)
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// replyLines splits a reply into its lines, CRLF kept.
func replyLines(reply string) []string {
	return slices.Collect(strings.Lines(reply))
}

// checkBounded fails when a reply accepted by a parser is over the bounds: more than
// maxReplyLines lines, or a line longer than textLineMax.
func checkBounded(t *testing.T, reply string) {
	t.Helper()
	lines := replyLines(reply)
	if len(lines) > maxReplyLines {
		t.Fatalf("%d lines accepted", len(lines))
	}
	for _, l := range lines {
		if len(l) > textLineMax {
			t.Fatalf("line of %d bytes accepted", len(l))
		}
	}
}

// FuzzIMAPResponse reads arbitrary server bytes as the response to a tagged command:
// never a panic, bounded, and what it accepts is untagged lines only.
func FuzzIMAPResponse(f *testing.F) {
	f.Add([]byte(dovecotCapability))
	f.Add([]byte(dovecotIMAPGreeting + "P1 OK\r\n"))
	f.Add([]byte("P1 NO [UNAVAILABLE] not now\r\n"))
	f.Add([]byte("* BYE\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		untagged, err := imapResponse(bufio.NewReaderSize(bytes.NewReader(b), textLineMax), "P1")
		if err != nil {
			if untagged != "" {
				t.Fatalf("error %v with untagged %q", err, untagged)
			}
			return
		}
		checkBounded(t, untagged)
		for _, l := range replyLines(untagged) {
			if !strings.HasPrefix(l, "* ") {
				t.Fatalf("line %q accepted as untagged", l)
			}
		}
	})
}

// FuzzPOP3Reply reads arbitrary server bytes as one POP3 reply: never a panic, and
// accepted only when the input starts with +OK and a separator.
func FuzzPOP3Reply(f *testing.F) {
	f.Add([]byte(dovecotPOP3Greeting))
	f.Add([]byte("+OK\r\n"))
	f.Add([]byte("-ERR Unknown command: STLS\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		text, err := pop3Reply(bufio.NewReaderSize(bytes.NewReader(b), textLineMax))
		if err != nil {
			if text != "" {
				t.Fatalf("error %v with text %q", err, text)
			}
			return
		}
		if !bytes.HasPrefix(b, []byte("+OK")) || len(text) > textLineMax || strings.Contains(text, "\n") {
			t.Fatalf("%q accepted with text %q", b, text)
		}
	})
}

// FuzzFTPReply reads arbitrary server bytes as a 220 reply: never a panic, bounded,
// and accepted only when it starts with the code and its last line is "220 ".
func FuzzFTPReply(f *testing.F) {
	f.Add([]byte(vsftpdGreeting))
	f.Add([]byte("220-files.internal\r\n text\r\n220 ready\r\n"))
	f.Add([]byte("530 Please login with USER and PASS.\r\n"))
	f.Add([]byte("220-"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reply, err := ftpReply(bufio.NewReaderSize(bytes.NewReader(b), textLineMax), "220")
		if err != nil {
			if reply != "" {
				t.Fatalf("error %v with reply %q", err, reply)
			}
			return
		}
		checkBounded(t, reply)
		lines := replyLines(reply)
		if !strings.HasPrefix(lines[0], "220") || !strings.HasPrefix(lines[len(lines)-1], "220 ") {
			t.Fatalf("reply %q accepted", reply)
		}
	})
}
