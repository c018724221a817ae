package probe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests upgrade real mail and file servers started on loopback: Dovecot's IMAP
// and POP3 (STARTTLS and STLS) and vsftpd (AUTH TLS), each once with TLS on and once
// with it off, which must be an error on the target.

// startDovecot runs Dovecot in the foreground with a configuration of its own (no
// system configuration, its own base_dir) serving IMAP and POP3 on 127.0.0.1, with
// the given ssl setting and ssl_min_protocol TLSv1.2. It returns the IMAP and POP3
// addresses.
func startDovecot(t *testing.T, ssl string) (imap, pop3 string) {
	t.Helper()
	if _, err := exec.LookPath("dovecot"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs dovecot (.ci/run installs dovecot-imapd and dovecot-pop3d) and root")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // the login processes run as dovenull
		t.Fatal(err)
	}
	cert, key := opensslCert(t, dir, "mail.internal")
	imap, pop3 = "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	_, imapPort, _ := strings.Cut(imap, ":")
	_, pop3Port, _ := strings.Cut(pop3, ":")
	conf := filepath.Join(dir, "dovecot.conf")
	if err := writeFile(conf, fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = %[2]s
ssl_cert = <%[3]s
ssl_key = <%[4]s
ssl_min_protocol = TLSv1.2
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%[1]s/home
}
service imap-login {
  inet_listener imap {
    port = %[5]s
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[6]s
  }
  inet_listener pop3s {
    port = 0
  }
}
`, dir, ssl, cert, key, imapPort, pop3Port)); err != nil {
		t.Fatal(err)
	}
	runServer(t, exec.Command("dovecot", "-F", "-c", conf), filepath.Join(dir, "dovecot.log"))
	waitListen(t, imap)
	waitListen(t, pop3)
	return imap, pop3
}

// TestProbeDovecot: with ssl = required and ssl_min_protocol = TLSv1.2, IMAP STARTTLS
// and POP3 STLS both lead to TLS 1.3 and 1.2 only, no client certificate asked for;
// with ssl = no, Dovecot does not list STARTTLS and refuses STLS, an error on each
// target.
func TestProbeDovecot(t *testing.T) {
	imap, pop3 := startDovecot(t, "required")
	imapOff, pop3Off := startDovecot(t, "no")
	r := Run(context.Background(), []string{"imap://" + imap, "pop3://" + pop3, imap, "imap://" + imapOff, "pop3://" + pop3Off},
		Options{Timeout: 20 * time.Second, Concurrency: 2})
	for _, res := range r[:2] {
		if got := accepted(res); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || res.Error != "" ||
			res.ClientCert != ClientCertNotRequested || res.Leaf == nil || res.Leaf.Subject != "CN=mail.internal" {
			t.Errorf("%s: accepted %v error %q client cert %s leaf %+v (%+v)", res.Target, got, res.Error, res.ClientCert, res.Leaf, res.Versions)
		}
		// Dovecot, after STARTTLS and STLS, closes without sending its OpenSSL's alert.
		wantFallbackRejected(t, res, "TLS1.2", closedAnswer)
	}
	if len(accepted(r[2])) != 0 || !strings.Contains(r[2].Error, "no TLS version accepted") {
		t.Errorf("IMAP without the upgrade: %+v", r[2])
	}
	if len(accepted(r[3])) != 0 || !strings.Contains(r[3].Error, "server does not offer TLS") {
		t.Errorf("IMAP with ssl = no: %+v", r[3])
	}
	if len(accepted(r[4])) != 0 || !strings.Contains(r[4].Error, "stls: reply \"-ERR") {
		t.Errorf("POP3 with ssl = no: %+v", r[4])
	}
}

// startVsftpd runs vsftpd in the foreground on 127.0.0.1 with the given extra
// settings and returns its address.
func startVsftpd(t *testing.T, settings string) string {
	t.Helper()
	if _, err := exec.LookPath("vsftpd"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs vsftpd (.ci/run installs it) and root")
	}
	dir := t.TempDir()
	cert, key := opensslCert(t, dir, "files.internal")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	_, port, _ := strings.Cut(addr, ":")
	conf := filepath.Join(dir, "vsftpd.conf")
	// Network and PID isolation and the seccomp sandbox are off: the test needs none
	// of them, and a container may not allow them.
	if err := writeFile(conf, fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%s
background=NO
anonymous_enable=NO
local_enable=YES
secure_chroot_dir=%s
isolate=NO
isolate_network=NO
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file=%s
rsa_cert_file=%s
rsa_private_key_file=%s
%s`, port, empty, filepath.Join(dir, "vsftpd.log"), cert, key, settings)); err != nil {
		t.Fatal(err)
	}
	runServer(t, exec.Command("vsftpd", conf), filepath.Join(dir, "vsftpd.log"))
	waitListen(t, addr)
	return addr
}

// TestProbeVsftpd: vsftpd answers AUTH TLS with 234, then accepts the versions its
// settings allow and asks for a client certificate as configured:
//   - ssl_ciphers=HIGH at OpenSSL's default security level: TLS 1.3 and 1.2 only
//     (OpenSSL 3 allows no SHA-1 signatures at level 1 and above, and TLS 1.0 and
//     1.1 need them), and vsftpd's default ssl_request_cert=YES: optional;
//   - @SECLEVEL=0 and ssl_request_cert=NO: TLS 1.0 to 1.3, not requested;
//   - @SECLEVEL=0 and ssl_tlsv1=NO: TLS 1.0 gone;
//   - require_cert=YES: required.
//
// With ssl_enable=NO it refuses AUTH TLS, an error on the target.
func TestProbeVsftpd(t *testing.T) {
	tests := []struct {
		name, settings string
		versions       []string
		clientCert     string
	}{
		{"default security level", "ssl_ciphers=HIGH\n", []string{"TLS1.3", "TLS1.2"}, ClientCertOptional},
		{"security level 0, no certificate request", "ssl_ciphers=HIGH:@SECLEVEL=0\nssl_request_cert=NO\n",
			[]string{"TLS1.3", "TLS1.2", "TLS1.1", "TLS1.0"}, ClientCertNotRequested},
		{"security level 0, ssl_tlsv1=NO", "ssl_ciphers=HIGH:@SECLEVEL=0\nssl_tlsv1=NO\n",
			[]string{"TLS1.3", "TLS1.2", "TLS1.1"}, ClientCertOptional},
		{"require_cert=YES", "ssl_ciphers=HIGH\nrequire_cert=YES\n", []string{"TLS1.3", "TLS1.2"}, ClientCertRequired},
	}
	var targets []string
	for _, tt := range tests {
		targets = append(targets, "ftp://"+startVsftpd(t, "ssl_enable=YES\n"+tt.settings))
	}
	off := "ftp://" + startVsftpd(t, "ssl_enable=NO\n")
	r := Run(context.Background(), append(targets, off), Options{Timeout: 20 * time.Second, Concurrency: 2})
	for i, tt := range tests {
		res := r[i]
		if got := accepted(res); !slices.Equal(got, tt.versions) || res.Error != "" || res.ClientCert != tt.clientCert ||
			res.Leaf == nil || !slices.Equal(res.Leaf.DNSNames, []string{"files.internal"}) {
			t.Errorf("%s: accepted %v client cert %s error %q leaf %+v, want %v %s (%+v)",
				tt.name, got, res.ClientCert, res.Error, res.Leaf, tt.versions, tt.clientCert, res.Versions)
		}
		if len(tt.versions) > 1 {
			wantFallbackRejected(t, res, tt.versions[1], alertAnswer) // vsftpd's OpenSSL, after AUTH TLS
		} else if res.FallbackSCSV != FallbackNotApplicable {
			t.Errorf("%s: fallback %s with one version", tt.name, res.FallbackSCSV)
		}
	}
	if res := r[len(tests)]; len(accepted(res)) != 0 || !strings.Contains(res.Error, `auth tls: reply "530`) {
		t.Errorf("ssl_enable=NO: %+v", res)
	}
}
