package probe

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProbeSMTPStartTLS probes test/tlspeer's SMTP server, which upgrades after
// STARTTLS and speaks TLS 1.2 and 1.3 only.
func TestProbeSMTPStartTLS(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tlspeer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../test/tlspeer").CombinedOutput(); err != nil {
		t.Fatalf("build tlspeer: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(bin, "-listen", addr, "-starttls", "smtp", "-n", "0", "-min-version", "1.2", "-timeout", "5s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListen(t, addr)
	r := Run(context.Background(), []string{"smtp://" + addr, addr}, Options{Timeout: 20 * time.Second})
	if got := accepted(r[0]); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || r[0].Error != "" || r[0].Leaf == nil {
		t.Errorf("smtp://: accepted %v error %q leaf %v (%+v)", got, r[0].Error, r[0].Leaf, r[0].Versions)
	}
	// The fallback hello goes through the same upgrade; Go's server rejects it.
	wantFallbackRejected(t, r[0], "TLS1.2", alertAnswer)
	// Without the upgrade the server's greeting is no TLS.
	if len(accepted(r[1])) != 0 || !strings.Contains(r[1].Error, "no TLS version accepted") {
		t.Errorf("without smtp://: %+v", r[1])
	}
}

// TestProbePostgresStartTLS probes a real PostgreSQL server with ssl=on, started
// from the Debian packages' binaries as the postgres user.
func TestProbePostgresStartTLS(t *testing.T) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 || os.Geteuid() != 0 {
		t.Skip("needs PostgreSQL (.ci/run installs it) and root to run it as the postgres user")
	}
	binDir := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "tlsaudit-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	as := func(name string, args ...string) *exec.Cmd {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	if out, err := as(filepath.Join(binDir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	cert, key := filepath.Join(data, "server.crt"), filepath.Join(data, "server.key")
	if out, err := as("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=db.internal").CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	port := freePort(t)
	// Started as the postgres user directly (not through runuser, which would not
	// pass the stop signal on).
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	pg := exec.Command(filepath.Join(binDir, "postgres"), "-D", data, "-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "ssl=on", "-c", "ssl_min_protocol_version=TLSv1.2")
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	runServer(t, pg, "") // SIGTERM: with no client connected, a quick shutdown
	waitListen(t, "127.0.0.1:"+port)
	r := Run(context.Background(), []string{"postgres://127.0.0.1:" + port}, Options{Timeout: 20 * time.Second})[0]
	if got := accepted(r); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || r.Error != "" ||
		r.Leaf == nil || r.Leaf.Subject != "CN=db.internal" {
		t.Errorf("accepted %v error %q leaf %+v (%+v)", got, r.Error, r.Leaf, r.Versions)
	}
	// PostgreSQL's OpenSSL rejects the fallback hello sent after an SSLRequest.
	wantFallbackRejected(t, r, "TLS1.2", alertAnswer)
}

// TestProbePostgresRefusal: a server that answers the SSLRequest with 'N' (what
// PostgreSQL with ssl=off says, played here by a listener that answers so) is a
// per-target error saying so.
func TestProbePostgresRefusal(t *testing.T) {
	addr := serveRaw(t, func(c net.Conn) {
		c.Read(make([]byte, 8))
		c.Write([]byte("N"))
	})
	r := Run(context.Background(), []string{"postgres://" + addr, "xmpp://" + addr}, Options{Timeout: 5 * time.Second})
	if !strings.Contains(r[0].Error, "server does not offer TLS") {
		t.Errorf("refusal: %+v", r[0])
	}
	if !strings.Contains(r[1].Error, "unknown protocol") {
		t.Errorf("unsupported protocol: %+v", r[1])
	}
}

// FuzzSMTPReply reads arbitrary server bytes as an SMTP reply: never a panic, never
// more than maxReplyLines lines, and a reply accepted only when every line carries
// the expected code.
func FuzzSMTPReply(f *testing.F) {
	f.Add([]byte("220 mail.internal ESMTP tlspeer\r\n"))
	f.Add([]byte("250-mail.internal\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS\r\n"))
	f.Add([]byte("502 command not implemented\r\n"))
	f.Add([]byte("250-"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reply, err := smtpReply(bufio.NewReaderSize(bytes.NewReader(b), 512), "250")
		if err != nil {
			return
		}
		lines := strings.SplitAfter(reply, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) > maxReplyLines || len(reply) > maxReplyLines*512 {
			t.Fatalf("%d lines, %d bytes", len(lines), len(reply))
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "250") {
				t.Fatalf("line %q accepted", l)
			}
		}
	})
}
