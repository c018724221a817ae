package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLiveClientAuthVerdict runs the eBPF agent beside an OpenSSL server that
// requires a client certificate and an s_client that sends one and then stays
// connected: the verdict must be logged while the connection is still open, with
// client_cert true when the kernel's copy budget holds the client's whole flight,
// and unknown (never false) when the budget ends inside its Certificate (the kernel
// copies part of that segment and says it was cut, so the direction brings no more).
func TestLiveClientAuthVerdict(t *testing.T) {
	needLive(t)
	for _, tc := range []struct {
		name   string
		budget string
		want   string
	}{
		{"whole flight", "4096", "true"},
		{"budget ends in the certificate", "700", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agentBin, _ := binaries(t)
			tn := newTestNet(t, false)
			cert, key := certs(t, t.TempDir())
			agent := startAgent(t, tn.server, agentBin, "--engine", "ebpf", "--budget", tc.budget, "--interface", tn.serverIf)
			background(t, tn.server, "openssl", "s_server", "-accept", tn.serverIP+":4414", "-cert", cert, "-key", key,
				"-tls1_3", "-Verify", "1", "-quiet")
			waitPort(t, tn.server, "4414")
			// The client sends its certificate and a line, then keeps the connection
			// open until the test ends.
			stdin, w := io.Pipe()
			client := exec.Command("ip", "netns", "exec", tn.client, "openssl", "s_client", "-connect", tn.serverIP+":4414",
				"-servername", "api.internal", "-tls1_3", "-cert", cert, "-key", key, "-quiet")
			client.Stdin = stdin
			if err := client.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { w.Close(); client.Process.Kill(); client.Wait() }()
			w.Write([]byte("hello\n"))
			var got string
			for deadline := time.Now().Add(10 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				got = clientCertVerdict(agent.log.Bytes(), "4414")
			}
			if got != tc.want {
				t.Errorf("client_cert %q while the connection is open, want %q\n%s", got, tc.want, agent.log.String())
			}
		})
	}
}

// clientCertVerdict returns the client_cert of the first verdict line for a flow to
// port, "" when there is none yet.
func clientCertVerdict(log []byte, port string) string {
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		var v verdictLine
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Event == "verdict" && strings.HasSuffix(v.Server, ":"+port) {
			return v.ClientCert
		}
	}
	return ""
}
