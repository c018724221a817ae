package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/internal/nginxtest"
)

// These tests run the real agent (`tlsaudit run`) inside a network namespace on one
// end of a veth pair, drive real clients and servers across it (openssl s_server and
// s_client, nginx and curl, a Go crypto/tls client whose post-quantum ClientHello spans
// two segments) and assert the verdicts the agent logs, for each engine, with
// segmentation offloads on and off. They need root; CI runs as root.

func needLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and loads eBPF programs (CI runs as root)")
	}
	for _, tool := range []string{"ip", "openssl", "nginx", "curl", "ethtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/run installs it)", tool)
		}
	}
}

var nsSeq atomic.Int32

// testNet is a pair of network namespaces joined by a veth pair: the client side and
// the server side, where the agent runs.
type testNet struct {
	client, server     string // namespace names
	clientIP, serverIP string
	clientIf, serverIf string
}

func newTestNet(t testing.TB, offloads bool) *testNet {
	t.Helper()
	n := nsSeq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%10000, n)
	tn := &testNet{
		client: "tac" + id, server: "tas" + id,
		clientIP: fmt.Sprintf("10.213.%d.1", n), serverIP: fmt.Sprintf("10.213.%d.2", n),
		clientIf: "tac" + id, serverIf: "tas" + id,
	}
	sh(t, "ip", "netns", "add", tn.client)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", tn.client).Run() })
	sh(t, "ip", "netns", "add", tn.server)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", tn.server).Run() })
	sh(t, "ip", "link", "add", tn.clientIf, "netns", tn.client, "type", "veth", "peer", "name", tn.serverIf, "netns", tn.server)
	for _, s := range []struct{ ns, ifc, ip string }{{tn.client, tn.clientIf, tn.clientIP}, {tn.server, tn.serverIf, tn.serverIP}} {
		sh(t, "ip", "-n", s.ns, "addr", "add", s.ip+"/24", "dev", s.ifc)
		sh(t, "ip", "-n", s.ns, "link", "set", s.ifc, "up")
		sh(t, "ip", "-n", s.ns, "link", "set", "lo", "up")
		state := "on"
		if !offloads {
			state = "off"
		}
		sh(t, "ip", "netns", "exec", s.ns, "ethtool", "-K", s.ifc, "tso", state, "gso", state, "gro", state)
	}
	return tn
}

func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildOnce builds the tlsaudit and tlspeer binaries for every live test.
var built struct {
	dir string
	err error
}

func binaries(t testing.TB) (tlsaudit, tlspeer string) {
	t.Helper()
	if built.dir == "" && built.err == nil {
		dir, err := os.MkdirTemp("", "tlsaudit-live")
		if err == nil {
			for _, b := range [][2]string{{"tlsaudit", "."}, {"tlspeer", "../../test/tlspeer"}} {
				if out, e := exec.Command("go", "build", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput(); e != nil {
					err = fmt.Errorf("build %s: %v\n%s", b[0], e, out)
					break
				}
			}
		}
		built.dir, built.err = dir, err
	}
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "tlsaudit"), filepath.Join(built.dir, "tlspeer")
}

// background starts a command in a namespace and stops it when the test ends.
func background(t *testing.T, ns string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
		}
	})
	return cmd
}

// certs writes a throwaway CA-less self-signed certificate for api.internal.
func certs(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	sh(t, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=api.internal", "-addext", "subjectAltName=DNS:api.internal")
	return cert, key
}

// nginxServers are the servers of the live tests' nginx (nginxtest.Config):
// %[1]s the address, %[2]s and %[3]s the certificate and key.
const nginxServers = `  server { listen %[1]s:8080; location / { return 200 "plain\n"; } }
  server {
    listen %[1]s:8443 ssl http2;
    ssl_certificate %[2]s;
    ssl_certificate_key %[3]s;
    ssl_protocols TLSv1.3;
    location / { return 200 "secret\n"; }
  }
`

// waitHTTP polls url inside ns until it answers 200.
func waitHTTP(t *testing.T, ns, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := exec.Command("ip", "netns", "exec", ns, "curl", "-sf", url).Output(); err == nil && len(out) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s in %s never answered", url, ns)
}

// waitPort polls until something listens on addr:port inside ns.
func waitPort(t *testing.T, ns, port string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :"+port).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %s in %s", port, ns)
}

type verdictLine struct {
	Event      string `json:"event"`
	Client     string `json:"client"`
	Server     string `json:"server"`
	Class      string `json:"class"`
	TLSVersion string `json:"tls_version"`
	App        string `json:"app_protocol"`
	SNI        string `json:"sni"`
	Violation  string `json:"violation"`
	Internal   bool   `json:"internal"`
	ClientCert string `json:"client_cert"`
}

func TestLiveAgent(t *testing.T) {
	needLive(t)
	cases := []struct {
		name     string
		args     []string
		offloads bool
	}{
		{"ebpf-tcx-offloads-on", []string{"--engine", "ebpf"}, true},
		{"ebpf-tcx-offloads-off", []string{"--engine", "ebpf"}, false},
		{"ebpf-clsact", []string{"--engine", "ebpf", "--force-tc"}, false},
		{"afpacket-offloads-on", []string{"--engine", "afpacket"}, true},
		{"afpacket-offloads-off", []string{"--engine", "afpacket"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { liveCase(t, tc.args, tc.offloads) })
	}
}

func liveCase(t *testing.T, engineArgs []string, offloads bool) {
	agentBin, peerBin := binaries(t)
	tn := newTestNet(t, offloads)
	dir := t.TempDir()
	cert, key := certs(t, dir)

	agent := startAgent(t, tn.server, agentBin, append(engineArgs, "--interface", tn.serverIf)...)
	logBuf := &agent.log

	// Servers.
	background(t, tn.server, "openssl", "s_server", "-accept", tn.serverIP+":4412", "-cert", cert, "-key", key, "-tls1_2", "-quiet")
	background(t, tn.server, "openssl", "s_server", "-accept", tn.serverIP+":4413", "-cert", cert, "-key", key, "-tls1_3", "-quiet")
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(nginxtest.Config(dir, fmt.Sprintf(nginxServers, tn.serverIP, cert, key))), 0o644)
	background(t, tn.server, "nginx", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	for _, p := range []string{"4412", "4413", "8080", "8443"} {
		waitPort(t, tn.server, p)
	}

	// Clients.
	client := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", tn.client, name}, args...)...)
		cmd.Stdin = strings.NewReader("hello\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%s %v: %v\n%s", name, args, err, out) // s_client exits non-zero when the server hangs up; verdicts decide
		}
	}
	client("timeout", "3", "openssl", "s_client", "-connect", tn.serverIP+":4412", "-servername", "api.internal", "-tls1_2", "-quiet")
	client("timeout", "3", "openssl", "s_client", "-connect", tn.serverIP+":4413", "-servername", "api.internal", "-tls1_3", "-quiet")
	client("curl", "-sf", "http://"+tn.serverIP+":8080/")
	client("curl", "-skf", "--resolve", "api.internal:8443:"+tn.serverIP, "https://api.internal:8443/")
	client(peerBin, "-connect", tn.serverIP+":4413", "-sni", "pq.internal", "-insecure", "-timeout", "3s")

	time.Sleep(500 * time.Millisecond)
	agent.stop(t)
	want := map[string]verdictLine{
		"4412": {Class: "tls", TLSVersion: "TLS1.2", SNI: "api.internal", ClientCert: "false"},
		"4413": {Class: "tls", TLSVersion: "TLS1.3", SNI: "api.internal", ClientCert: "false"},
		"8080": {Class: "plaintext", App: "http", Violation: "plaintext"},
		"8443": {Class: "tls", TLSVersion: "TLS1.3", SNI: "api.internal", ClientCert: "false"},
	}
	got := map[string][]verdictLine{}
	sc := bufio.NewScanner(bytes.NewReader(logBuf.Bytes()))
	for sc.Scan() {
		var v verdictLine
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Event == "verdict" {
			port := v.Server[strings.LastIndex(v.Server, ":")+1:]
			got[port] = append(got[port], v)
		}
	}
	for port, w := range want {
		vs := got[port]
		if len(vs) == 0 {
			t.Errorf("no verdict for the flow to port %s\n%s", port, logBuf.String())
			continue
		}
		v := vs[0]
		if v.Class != w.Class || v.TLSVersion != w.TLSVersion || v.App != w.App || v.Violation != w.Violation || !v.Internal ||
			v.ClientCert != w.ClientCert {
			t.Errorf("port %s: got %+v, want %+v", port, v, w)
		}
		if port != "4413" && v.SNI != w.SNI {
			t.Errorf("port %s: sni %q, want %q", port, v.SNI, w.SNI)
		}
	}
	// Port 4413 saw two clients: openssl's and the Go client's two-segment
	// post-quantum ClientHello.
	var sawPQ bool
	for _, v := range got["4413"] {
		if v.SNI == "pq.internal" && v.Class == "tls" && v.TLSVersion == "TLS1.3" {
			sawPQ = true
		}
	}
	if !sawPQ {
		t.Errorf("the Go client's post-quantum ClientHello was not classified: %+v", got["4413"])
	}
	// Nothing may stay attached after the agent exits. TCX links die with the
	// process's file descriptors; tc filters would not, so the agent must remove them.
	for _, hook := range []string{"ingress", "egress"} {
		out, _ := exec.Command("ip", "netns", "exec", tn.server, "tc", "filter", "show", "dev", tn.serverIf, hook).Output()
		if bytes.Contains(out, []byte("tlsaudit")) {
			t.Errorf("tc %s filter left attached after exit:\n%s", hook, out)
		}
	}
}

// TestLiveInterfaceChurn: interfaces that appear after the agent started are attached
// when they match, and detached when they vanish (pod veths come and go).
func TestLiveInterfaceChurn(t *testing.T) {
	needLive(t)
	agentBin, _ := binaries(t)
	tn := newTestNet(t, true)
	agent := startAgent(t, tn.server, agentBin, "--engine", "ebpf", "--interface", "churn*")
	logBuf := &agent.log
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(logBuf.String(), what) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("agent never logged %q:\n%s", what, logBuf.String())
	}
	sh(t, "ip", "-n", tn.server, "link", "add", "churn0", "type", "veth", "peer", "name", "other0")
	sh(t, "ip", "-n", tn.server, "link", "set", "churn0", "up")
	sh(t, "ip", "-n", tn.server, "link", "set", "other0", "up")
	waitLog(`"iface":"churn0"`)
	if strings.Contains(logBuf.String(), `"iface":"other0"`) {
		t.Error("attached to other0, which does not match churn*")
	}
	sh(t, "ip", "-n", tn.server, "link", "del", "churn0")
	waitLog("detached")
}

// TestRunNamesMissingCapabilities: without privileges the agent must say which
// capability is missing, not print a raw errno.
func TestRunNamesMissingCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to an unprivileged user")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	agentBin, _ := binaries(t)
	os.Chmod(filepath.Dir(agentBin), 0o755)
	for _, tc := range []struct{ engine, want string }{
		{"ebpf", "CAP_BPF"},
		{"afpacket", "CAP_NET_RAW"},
		{"auto", "CAP_NET_RAW"}, // eBPF impossible, and so is the fallback: both say why
	} {
		t.Run(tc.engine, func(t *testing.T) {
			out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
				agentBin, "run", "--engine", tc.engine, "--log-format", "json", "--listen", "127.0.0.1:0").CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError {
				t.Fatalf("exit %v, want %d\n%s", err, exitError, out)
			}
			if !bytes.Contains(out, []byte(tc.want)) {
				t.Errorf("output does not name %s:\n%s", tc.want, out)
			}
		})
	}
}

// liveAgent is `tlsaudit run` started in a test's network namespace, with its log
// collected.
type liveAgent struct {
	cmd     *exec.Cmd
	log     syncBuffer
	stopped bool
}

// startAgent starts the agent in namespace ns with JSON logs, the health endpoint on
// 127.0.0.1:19808 and args, and waits until it is ready. The agent is killed when the
// test ends unless stop ended it first.
func startAgent(t *testing.T, ns, agentBin string, args ...string) *liveAgent {
	t.Helper()
	a := &liveAgent{}
	a.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, agentBin, "run", "--log-format", "json",
		"--listen", "127.0.0.1:19808"}, args...)...)
	a.cmd.Stderr = &a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !a.stopped {
			a.cmd.Process.Kill()
			a.cmd.Wait()
		}
	})
	waitHTTP(t, ns, "http://127.0.0.1:19808/readyz")
	return a
}

// stop ends the agent the way an orchestrator does, with SIGTERM, and fails the test
// unless it exits cleanly.
func (a *liveAgent) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	err := a.cmd.Wait()
	a.stopped = true
	if err != nil {
		t.Fatalf("agent exit: %v\n%s", err, a.log.String())
	}
}

// syncBuffer is a bytes.Buffer the agent's stderr copier and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
