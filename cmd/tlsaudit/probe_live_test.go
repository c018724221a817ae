package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLiveAgentProbes runs the agent with --probe-interval in the server namespace
// of a veth pair, three real Go crypto/tls servers there (tlspeer: TLS 1.2 and 1.3;
// TLS 1.0 to 1.3; SMTP STARTTLS with TLS 1.2 and 1.3) and one real client connection
// to each from the client namespace. The agent must probe each server it saw, with the
// names of --names, and export the versions each accepts; and once a round passes
// without a client, the servers' series must be gone. The agent also watches
// loopback, where its own probes to the servers go: they must neither become flows
// (verdicts, counts) nor keep the servers "seen".
func TestLiveAgentProbes(t *testing.T) {
	needLive(t)
	agentBin, peerBin := binaries(t)
	tn := newTestNet(t, true)
	dir := t.TempDir()
	cert, key := certs(t, dir)
	names := filepath.Join(dir, "names.yaml")
	if err := os.WriteFile(names, []byte("- ip: "+tn.serverIP+"\n  namespace: shop\n  workload: api\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	servers := []struct {
		port, min string
		starttls  bool
	}{{"4471", "1.2", false}, {"4472", "1.0", false}, {"4473", "1.2", true}}
	for _, s := range servers {
		args := []string{"-listen", tn.serverIP + ":" + s.port, "-cert", cert, "-key", key, "-min-version", s.min, "-n", "0", "-timeout", "5s"}
		if s.starttls {
			args = append(args, "-starttls", "smtp")
		}
		background(t, tn.server, peerBin, args...)
		waitPort(t, tn.server, s.port)
	}
	agent := startAgent(t, tn.server, agentBin, "--engine", "ebpf", "--interface", tn.serverIf, "--interface", "lo", "--exclude-interface", "none", "--metrics-addr", "127.0.0.1:19809",
		"--names", names, "--probe-interval", "2s", "--probe-rate", "0")

	client := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", tn.client, name}, args...)...)
		cmd.Stdin = strings.NewReader("QUIT\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%s %v: %v\n%s", name, args, err, out) // the series decide
		}
	}
	client(peerBin, "-connect", tn.serverIP+":4471", "-insecure", "-timeout", "3s")
	client(peerBin, "-connect", tn.serverIP+":4472", "-insecure", "-timeout", "3s")
	client("timeout", "3", "openssl", "s_client", "-connect", tn.serverIP+":4473", "-starttls", "smtp", "-quiet")

	series := func(port, version string) string {
		return `tlsaudit_probe_version_accepted{server="` + tn.serverIP + ":" + port + `",server_namespace="shop",server_workload="api",version="` + version + `"}`
	}
	legacy := func(port string) string {
		return `tlsaudit_probe_legacy_version_accepted{server="` + tn.serverIP + ":" + port + `",server_namespace="shop",server_workload="api"}`
	}
	fallback := func(port, state string) string {
		return `tlsaudit_probe_fallback_scsv{server="` + tn.serverIP + ":" + port + `",server_namespace="shop",server_workload="api",state="` + state + `"}`
	}
	want := map[string]float64{
		series("4471", "TLS1.3"): 1, series("4471", "TLS1.2"): 1, series("4471", "TLS1.1"): 0, series("4471", "TLS1.0"): 0,
		series("4472", "TLS1.3"): 1, series("4472", "TLS1.2"): 1, series("4472", "TLS1.1"): 1, series("4472", "TLS1.0"): 1,
		series("4473", "TLS1.3"): 1, series("4473", "TLS1.2"): 1, series("4473", "TLS1.1"): 0, series("4473", "TLS1.0"): 0,
		legacy("4471"): 0, legacy("4472"): 1, legacy("4473"): 0,
		`tlsaudit_probe_client_cert{mode="not_requested",server="` + tn.serverIP + `:4471",server_namespace="shop",server_workload="api"}`: 1,
		// Go's crypto/tls servers refuse a fallback hello carrying the signal.
		fallback("4471", "rejected"): 1, fallback("4471", "accepted"): 0, fallback("4472", "rejected"): 1,
	}
	// The three flows may be decided in different rounds (a round probes only the
	// servers seen since the previous one): keep each series as first scraped.
	got := map[string]float64{}
	missing := func() bool {
		for k := range want {
			if _, ok := got[k]; !ok {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	for ; missing() && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for k, v := range scrape(t, tn.server) {
			if _, ok := got[k]; !ok && strings.HasPrefix(k, "tlsaudit_probe_") {
				got[k] = v
			}
		}
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || v != w {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, w)
		}
	}
	if t.Failed() {
		t.Fatalf("scrape:\n%s\nagent log:\n%s", dumpProbeSeries(got), agent.log.String())
	}
	// certs writes a certificate valid for two days.
	expiry := got[`tlsaudit_probe_leaf_expiry_timestamp_seconds{server="`+tn.serverIP+`:4471",server_namespace="shop",server_workload="api"}`]
	if days := (expiry - float64(time.Now().Unix())) / 86400; days < 1.9 || days > 2.1 {
		t.Errorf("leaf of port 4471 expires in %.2f days, want 2:\n%s", days, dumpProbeSeries(got))
	}

	// No client since: the next round probes nothing, and the servers' series go.
	deadline = time.Now().Add(20 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = scrape(t, tn.server); got["tlsaudit_probe_targets"] == 0 {
			break
		}
	}
	if got["tlsaudit_probe_targets"] != 0 {
		t.Errorf("tlsaudit_probe_targets = %v after a round without clients, want 0", got["tlsaudit_probe_targets"])
	}
	for k := range got {
		if strings.Contains(k, tn.serverIP) {
			t.Errorf("%s still exported after a round that did not probe it", k)
		}
	}
	// Only the three client flows were flows: none of the probes' (on loopback).
	agent.stop(t)
	sc := bufio.NewScanner(bytes.NewReader(agent.log.Bytes()))
	var seen []string
	for sc.Scan() {
		var v verdictLine
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Event == "verdict" && strings.HasPrefix(v.Server, tn.serverIP+":") {
			seen = append(seen, v.Server)
		}
	}
	if len(seen) != 3 {
		t.Errorf("verdicts for the servers %v, want one for each client flow\n%s", seen, agent.log.String())
	}
}

// dumpProbeSeries lists the tlsaudit_probe_ series of a scrape, for failure messages.
func dumpProbeSeries(m map[string]float64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(k, "tlsaudit_probe_") {
			b.WriteString(k + " " + strconv.FormatFloat(m[k], 'g', -1, 64) + "\n")
		}
	}
	return b.String()
}
