package probe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// slapdPath is where Debian's slapd package puts the server, outside a non-root PATH.
const slapdPath = "/usr/sbin/slapd"

// startSlapd runs OpenLDAP's slapd in the foreground on 127.0.0.1 with a
// configuration file of its own (no database: StartTLS needs none) and the given
// extra settings, and returns its address.
func startSlapd(t *testing.T, settings string) string {
	t.Helper()
	if _, err := os.Stat(slapdPath); err != nil || os.Geteuid() != 0 {
		t.Skip("needs slapd (.ci/run installs it) and root")
	}
	dir := t.TempDir()
	cert, key := opensslCert(t, dir, "directory.internal")
	conf := filepath.Join(dir, "slapd.conf")
	if err := writeFile(conf, fmt.Sprintf("pidfile %[1]s/slapd.pid\nargsfile %[1]s/slapd.args\n%[2]s",
		dir, strings.NewReplacer("CERT", cert, "KEY", key).Replace(settings))); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	// -d keeps slapd in the foreground; level 0 logs nothing but startup errors.
	runServer(t, exec.Command(slapdPath, "-d", "0", "-h", "ldap://"+addr+"/", "-f", conf), "")
	waitListen(t, addr)
	return addr
}

// TestProbeSlapd: slapd with a certificate and a GnuTLS priority string allowing TLS
// 1.3 and 1.2 accepts those two after StartTLS (TLSProtocolMin 3.3 in slapd.conf left
// TLS 1.0 and 1.1 accepted here); TLSVerifyClient never, allow and demand are
// not_requested, optional and required (with demand slapd closes the connection
// without an alert); without a certificate slapd refuses StartTLS, an error on the
// target.
func TestProbeSlapd(t *testing.T) {
	// Debian's slapd uses GnuTLS, which takes the versions from its priority string.
	const tlsConf = "TLSCertificateFile CERT\nTLSCertificateKeyFile KEY\nTLSCACertificateFile CERT\n" +
		"TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n"
	tests := []struct {
		name, verify string
		clientCert   string
	}{
		{"TLSVerifyClient never", "never", ClientCertNotRequested},
		{"TLSVerifyClient allow", "allow", ClientCertOptional},
		{"TLSVerifyClient demand", "demand", ClientCertRequired},
	}
	var targets []string
	for _, tt := range tests {
		targets = append(targets, "ldap://"+startSlapd(t, tlsConf+"TLSVerifyClient "+tt.verify+"\n"))
	}
	noTLS := "ldap://" + startSlapd(t, "")
	r := Run(context.Background(), append(targets, noTLS), Options{Timeout: 20 * time.Second, Concurrency: 2})
	for i, tt := range tests {
		res := r[i]
		if got := accepted(res); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || res.Error != "" || res.ClientCert != tt.clientCert ||
			res.Leaf == nil || !slices.Equal(res.Leaf.DNSNames, []string{"directory.internal"}) {
			t.Errorf("%s: accepted %v client cert %s error %q leaf %+v, want TLS1.3 TLS1.2 %s (%+v)",
				tt.name, got, res.ClientCert, res.Error, res.Leaf, tt.clientCert, res.Versions)
		}
		// slapd, after the StartTLS operation, closes without an alert.
		wantFallbackRejected(t, res, "TLS1.2", closedAnswer)
	}
	if res := r[len(tests)]; len(accepted(res)) != 0 || !strings.Contains(res.Error, "ldap: starttls: result") {
		t.Errorf("no certificate: %+v", res)
	}
}

// ldapResponse builds an LDAPMessage around an ExtendedResponse, lengths in short
// form.
func ldapResponse(id, code byte, diagnostic string) []byte {
	op := append([]byte{0x0a, 1, code, 0x04, 0, 0x04, byte(len(diagnostic))}, diagnostic...)
	body := append([]byte{0x02, 1, id, ldapTagExtendedResponse, byte(len(op))}, op...)
	return append([]byte{ldapTagSequence, byte(len(body))}, body...)
}

func TestLDAPStartTLSResponse(t *testing.T) {
	success := ldapResponse(1, 0, "")
	longForm := append([]byte{ldapTagSequence, 0x84, 0, 0, 0, byte(len(success) - 2)}, success[2:]...)
	tests := []struct {
		name string
		in   []byte
		err  string
	}{
		{"success", success, ""},
		{"success, long-form length", longForm, ""},
		{"success with a response name", func() []byte {
			m := ldapResponse(1, 0, "")
			m = append(m, 0x8a, 3, '1', '.', '3')
			m[1] += 5
			m[6] += 5
			return m
		}(), ""},
		{"protocolError", ldapResponse(1, 2, "unsupported extended operation"), `result 2: "unsupported extended operation"`},
		{"notice of disconnection", ldapResponse(0, 52, "shutting down"), "server disconnected (result 52)"},
		{"other message", ldapResponse(7, 0, ""), "response to message 7"},
		{"not a sequence", []byte{0x31, 0}, "want an LDAPMessage"},
		{"indefinite length", []byte{ldapTagSequence, 0x80, 0, 0}, "length of 0 bytes"},
		{"five length bytes", []byte{ldapTagSequence, 0x85, 0, 0, 0, 0, 1}, "length of 5 bytes"},
		{"too long", []byte{ldapTagSequence, 0x82, 0x10, 0x01}, "message of 4097 bytes"},
		{"truncated", success[:len(success)-1], "EOF"},
		{"empty", nil, "EOF"},
		{"bind response instead", []byte{ldapTagSequence, 10, 0x02, 1, 1, 0x61, 7, 0x0a, 1, 0, 0x04, 0, 0x04, 0}, "malformed"},
		{"no diagnostic message", []byte{ldapTagSequence, 8, 0x02, 1, 1, 0x78, 3, 0x0a, 1, 0}, "malformed"},
		{"empty messageID", []byte{ldapTagSequence, 4, 0x02, 0, 0x78, 0}, "malformed"},
		{"element longer than its sequence", []byte{ldapTagSequence, 5, 0x02, 1, 1, 0x78, 9}, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := readLDAPMessage(bytes.NewReader(tt.in))
			if err == nil {
				err = ldapStartTLSResult(msg)
			}
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// TestLDAPStartTLSRequest checks the request against RFC 4511 §4.14.1 byte by byte:
// message 1, [APPLICATION 23] holding only [0] with the StartTLS OID.
func TestLDAPStartTLSRequest(t *testing.T) {
	want := append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)
	if !bytes.Equal(ldapStartTLSRequest, want) {
		t.Errorf("% x, want % x", ldapStartTLSRequest, want)
	}
}

// FuzzLDAPStartTLSResponse reads arbitrary server bytes as the answer to StartTLS:
// never a panic, never more than ldapMessageMax bytes kept, and success only for
// message 1 carrying an ExtendedResponse.
func FuzzLDAPStartTLSResponse(f *testing.F) {
	f.Add(ldapResponse(1, 0, ""))
	f.Add(ldapResponse(1, 2, "unsupported extended operation"))
	f.Add(ldapResponse(0, 52, ""))
	f.Add([]byte{ldapTagSequence, 0x84, 0, 0, 0, 10, 0x02, 1, 1, 0x78, 0x84, 0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := readFuzzed(t, readLDAPMessage, b, ldapMessageMax)
		if msg == nil {
			return
		}
		if ldapStartTLSResult(msg) == nil && !bytes.Contains(msg, []byte{ldapTagExtendedResponse}) {
			t.Fatalf("success without an ExtendedResponse: % x", msg)
		}
	})
}

// readFuzzed reads one message from fuzzed bytes with read and checks the bound: no
// message with an error, none longer than max. It returns nil when read failed.
func readFuzzed(t *testing.T, read func(io.Reader) ([]byte, error), b []byte, max int) []byte {
	t.Helper()
	msg, err := read(bytes.NewReader(b))
	if err != nil {
		if msg != nil {
			t.Fatalf("error %v with a message", err)
		}
		return nil
	}
	if len(msg) > max {
		t.Fatalf("message of %d bytes kept", len(msg))
	}
	return msg
}
