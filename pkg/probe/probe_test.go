package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/internal/nginxtest"
	"github.com/tlsaudit/tlsaudit/internal/tlstest"
)

// These tests probe real servers on loopback: Go crypto/tls servers with each client
// authentication mode, OpenSSL's s_server limited to one version each, a closed port
// and a service that does not speak TLS.

func accepted(r Result) []string {
	var out []string
	for _, v := range r.Versions {
		if v.Accepted {
			out = append(out, v.Version)
		}
	}
	return out
}

func TestProbeGoServers(t *testing.T) {
	cert := tlstest.SelfSigned(t)
	tests := []struct {
		name       string
		cfg        *tls.Config
		versions   []string
		clientCert string
	}{
		{"default", &tls.Config{}, []string{"TLS1.3", "TLS1.2"}, ClientCertNotRequested},
		{"TLS 1.2 only, client certificate required", &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()}, []string{"TLS1.2"}, ClientCertRequired},
		{"TLS 1.3 only, client certificate requested", &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequestClientCert},
			[]string{"TLS1.3"}, ClientCertOptional},
		{"TLS 1.3 only, client certificate required", &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert},
			[]string{"TLS1.3"}, ClientCertRequired},
		{"TLS 1.0 to 1.2", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12}, []string{"TLS1.2", "TLS1.1", "TLS1.0"}, ClientCertNotRequested},
	}
	var targets []string
	for _, tt := range tests {
		tt.cfg.Certificates = []tls.Certificate{cert}
		targets = append(targets, tlstest.Serve(t, tt.cfg))
	}
	results := Run(context.Background(), targets, Options{Timeout: 10 * time.Second, Concurrency: 2})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := results[i]
			if r.Target != targets[i] || r.Error != "" {
				t.Fatalf("target %s error %q", r.Target, r.Error)
			}
			if got := accepted(r); !slices.Equal(got, tt.versions) || r.ClientCert != tt.clientCert {
				t.Errorf("accepted %v client cert %s, want %v %s (%+v)", got, r.ClientCert, tt.versions, tt.clientCert, r.Versions)
			}
			if r.Leaf == nil || !slices.Equal(r.Leaf.DNSNames, []string{"api.internal"}) || r.Leaf.Expired {
				t.Errorf("leaf %+v", r.Leaf)
			}
			for _, v := range r.Versions {
				if v.Accepted && v.Cipher == "" {
					t.Errorf("%s accepted without a cipher", v.Version)
				}
			}
		})
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestProbeOpenSSLOneVersionEach(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	certFile, keyFile := opensslCert(t, dir, "api.internal")
	flags := map[string][]string{
		"TLS1.0": {"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"},
		"TLS1.1": {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"},
		"TLS1.2": {"-tls1_2"},
		"TLS1.3": {"-tls1_3"},
	}
	var names, targets []string
	for _, name := range []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"} {
		port := freePort(t)
		args := append([]string{"s_server", "-accept", "127.0.0.1:" + port, "-cert", certFile, "-key", keyFile, "-quiet"}, flags[name]...)
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = strings.NewReader("") // s_server keeps serving when stdin ends
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitListen(t, "127.0.0.1:"+port)
		names, targets = append(names, name), append(targets, "127.0.0.1:"+port)
	}
	results := Run(context.Background(), targets, Options{Timeout: 15 * time.Second, Concurrency: 4, Rate: 50})
	for i, name := range names {
		r := results[i]
		if got := accepted(r); !slices.Equal(got, []string{name}) || r.Error != "" {
			t.Errorf("s_server %s: accepted %v, error %q (%+v)", name, got, r.Error, r.Versions)
		}
		if r.ClientCert != ClientCertNotRequested {
			t.Errorf("s_server %s: client cert %s", name, r.ClientCert)
		}
		if r.FallbackSCSV != FallbackNotApplicable {
			t.Errorf("s_server %s: fallback %s (%s), want not_applicable with one version", name, r.FallbackSCSV, r.FallbackAnswer)
		}
	}
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

// serveRaw answers every connection to a loopback port with answer, then closes it,
// until the test ends; it returns the address.
func serveRaw(t *testing.T, answer func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			answer(c)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestProbeTargetErrors: a closed port and a server speaking SSH each get their own
// error; the run goes on.
func TestProbeTargetErrors(t *testing.T) {
	closed := "127.0.0.1:" + freePort(t)
	ssh := serveRaw(t, func(c net.Conn) { fmt.Fprint(c, "SSH-2.0-OpenSSH_9.2p1\r\n") })
	good := tlstest.Serve(t, &tls.Config{})
	results := Run(context.Background(), []string{closed, ssh, "no-port", good}, Options{Timeout: 5 * time.Second})
	if !strings.Contains(results[0].Error, "connect:") || !strings.Contains(results[0].Error, "refused") {
		t.Errorf("closed port: %q", results[0].Error)
	}
	if !strings.Contains(results[1].Error, "no TLS version accepted") || len(accepted(results[1])) != 0 {
		t.Errorf("ssh service: %q %+v", results[1].Error, results[1].Versions)
	}
	// Unreachable: nothing known; no TLS version: nothing to fall back from.
	if results[0].FallbackSCSV != FallbackUnknown || results[1].FallbackSCSV != FallbackNotApplicable {
		t.Errorf("fallback: closed port %s, ssh service %s", results[0].FallbackSCSV, results[1].FallbackSCSV)
	}
	if !strings.Contains(results[2].Error, "bad target") {
		t.Errorf("target without a port: %q", results[2].Error)
	}
	if results[3].Error != "" || len(accepted(results[3])) == 0 {
		t.Errorf("the good target after the bad ones: %+v", results[3])
	}
}

// TestProbeNginx probes nginx configured as a service usually is: ssl_protocols
// TLSv1.2 TLSv1.3, and with ssl_verify_client optional and on. The accepted versions
// must be those two, and the fallback hello at TLS 1.2 rejected. nginx asks for a
// certificate in both modes and, with "on", still completes the handshake without one
// and refuses the request at the HTTP layer (400): at the TLS layer, which is what the
// probe sees, both are optional.
func TestProbeNginx(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx not installed (.ci/run installs nginx-light)")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	certFile, keyFile := opensslCert(t, dir, "api.internal")
	tests := []struct {
		name, verify string
		clientCert   string
	}{
		{"no client verification", "off", ClientCertNotRequested},
		{"ssl_verify_client optional", "optional", ClientCertOptional},
		{"ssl_verify_client on", "on", ClientCertOptional},
	}
	// A port freePort found may be taken again before nginx binds it (other packages'
	// tests listen on loopback too); nginx then exits, and whatever took the port would
	// answer the probe. So nginx is only used once it has written its pid file, which
	// it does after binding every port, and is started again on new ports otherwise.
	var targets []string
	for attempt := 1; ; attempt++ {
		var servers strings.Builder
		targets = targets[:0]
		for _, tt := range tests {
			port := freePort(t)
			targets = append(targets, "127.0.0.1:"+port)
			fmt.Fprintf(&servers, `  server {
    listen 127.0.0.1:%s ssl;
    ssl_certificate %s;
    ssl_certificate_key %s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate %s;
    ssl_verify_client %s;
    location / { return 200 "ok\n"; }
  }
`, port, certFile, keyFile, certFile, tt.verify)
		}
		run := filepath.Join(dir, fmt.Sprintf("nginx-%d", attempt))
		if err := os.MkdirAll(run, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(run, "nginx.conf")
		if err := writeFile(conf, nginxtest.Config(run, servers.String())); err != nil {
			t.Fatal(err)
		}
		if startNginx(t, conf, run) {
			break
		}
		if attempt == 3 {
			errLog, _ := os.ReadFile(filepath.Join(run, "error.log"))
			t.Fatalf("nginx did not start three times; its last error log:\n%s", errLog)
		}
	}
	for _, target := range targets {
		waitListen(t, target)
	}
	results := Run(context.Background(), targets, Options{Timeout: 10 * time.Second, Concurrency: 3})
	for i, tt := range tests {
		r := results[i]
		if got := accepted(r); !slices.Equal(got, []string{"TLS1.3", "TLS1.2"}) || r.Error != "" {
			t.Errorf("%s: accepted %v, error %q, want TLS1.3 and TLS1.2 only (%+v)", tt.name, got, r.Error, r.Versions)
		}
		if r.ClientCert != tt.clientCert {
			t.Errorf("%s: client cert %s, want %s", tt.name, r.ClientCert, tt.clientCert)
		}
		wantFallbackRejected(t, r, "TLS1.2", alertAnswer)
	}
}

// startNginx runs nginx with conf until the test ends and reports whether it came up:
// its pid file written in dir (after it has bound every port), and not exited.
func startNginx(t *testing.T, conf, dir string) bool {
	t.Helper()
	cmd := exec.Command("nginx", "-c", conf, "-p", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return false
		default:
		}
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return true
		}
	}
	return false
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// opensslCert writes a self-signed P-256 certificate for name (CN and DNS SAN) and its
// key into dir and returns their paths.
func opensslCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (.ci/run installs it)")
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN="+name,
		"-addext", "subjectAltName=DNS:"+name).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	return certFile, keyFile
}

// runServer starts a server that stays in the foreground and stops it when the test
// ends: SIGTERM, then SIGKILL after 10 s. When the test failed, the server's log file
// (if any) is printed.
func runServer(t *testing.T, cmd *exec.Cmd, logFile string) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("%s output:\n%s%s", filepath.Base(cmd.Path), out.String(), log)
		}
	})
}
