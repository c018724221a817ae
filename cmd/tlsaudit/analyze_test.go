package main

import (
	"bytes"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/report"
)

const pcapDir = "../../testdata/pcaps"

// analyzeJSON runs `tlsaudit analyze --format json args...` and decodes the document.
func analyzeJSON(t *testing.T, args ...string) (*report.Audit, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := analyze(append([]string{"--format", "json"}, args...), &out, &errOut, zerolog.Nop())
	var a report.Audit
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &a); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.String())
		}
	}
	return &a, code, errOut.String()
}

// recordedFlows analyzes one capture of testdata/pcaps and returns its flows keyed by
// "transport client server".
func recordedFlows(t *testing.T, file string) map[string]report.Flow {
	t.Helper()
	a, code, stderr := analyzeJSON(t, filepath.Join(pcapDir, file))
	if code == exitError {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := map[string]report.Flow{}
	for _, f := range a.Flows {
		got[f.Transport+" "+f.Client+" "+f.Server] = f
	}
	return got
}

// expectedFlow is one row of testdata/pcaps/expected.tsv: the verdict a flow recorded
// from real software must get.
type expectedFlow struct {
	file, transport, client, server, class, version, app, starttls, sni, alpn string
}

func readExpected(t *testing.T) []expectedFlow {
	t.Helper()
	f, err := os.Open(filepath.Join(pcapDir, "expected.tsv"))
	if err != nil {
		t.Fatalf("expected verdicts: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.FieldsPerRecord = 10
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []expectedFlow
	for _, row := range rows[1:] {
		out = append(out, expectedFlow{row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9]})
	}
	return out
}

// TestRecordedCaptures asserts the exact verdict of every flow in testdata/pcaps,
// captures recorded from real openssl, nginx/curl, PostgreSQL, Redis, OpenSSH, OpenVPN,
// Go crypto/tls, and the clear-text protocol servers and clients of
// scripts/testdata/protocols.sh (syslog, SNMP, NTP, MQTT, NATS, memcached, TFTP,
// RADIUS, SIP, NetFlow), and the STARTTLS servers and clients of
// scripts/testdata/starttls.sh (Dovecot, vsftpd, slapd and MariaDB with curl, openssl
// s_client, ldapsearch and mariadb; see testdata/pcaps/README.md).
func TestRecordedCaptures(t *testing.T) {
	want := readExpected(t)
	byFile := map[string][]expectedFlow{}
	for _, e := range want {
		byFile[e.file] = append(byFile[e.file], e)
	}
	for file, flows := range byFile {
		t.Run(file, func(t *testing.T) {
			got := recordedFlows(t, file)
			if len(got) != len(flows) {
				t.Errorf("%d flows, want %d", len(got), len(flows))
			}
			for _, e := range flows {
				f, ok := got[e.transport+" "+e.client+" "+e.server]
				if !ok {
					t.Errorf("flow %s %s -> %s missing", e.transport, e.client, e.server)
					continue
				}
				check := func(field, g, w string) {
					if g != w {
						t.Errorf("%s -> %s: %s = %q, want %q", e.client, e.server, field, g, w)
					}
				}
				check("class", f.Class, e.class)
				check("tls_version", f.TLSVersion, e.version)
				check("app_protocol", f.AppProtocol, e.app)
				check("starttls", boolString(f.StartTLS), e.starttls)
				check("sni", f.SNI, e.sni)
				check("alpn_selected", f.ALPNSelected, e.alpn)
			}
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestExitCodes(t *testing.T) {
	demo := filepath.Join(pcapDir, "demo-mix.pcapng")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"report only", []string{demo}, exitOK},
		{"fail on plaintext", []string{"--fail-on", "plaintext", demo}, exitViolation},
		{"fail on legacy", []string{"--fail-on", "legacy", demo}, exitViolation},
		{"nothing internal", []string{"--fail-on", "legacy", "--internal-cidr", "192.0.2.0/24", demo}, exitOK},
		{"no files", nil, exitError},
		{"bad fail-on", []string{"--fail-on", "sometimes", demo}, exitError},
		{"bad cidr", []string{"--internal-cidr", "10.0.0.0/33", demo}, exitError},
		{"bad min-tls", []string{"--min-tls", "TLS9", demo}, exitError},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.pcap")}, exitError},
		{"raised bounds", []string{"--max-flows", "1000000", "--max-pairs", "100000", "--max-buffered-bytes", "1073741824", demo}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := analyze(tt.args, io.Discard, io.Discard, zerolog.Nop())
			if code != tt.want {
				t.Errorf("exit %d, want %d", code, tt.want)
			}
		})
	}
}

// TestDamagedFileKeepsFlows cuts the demo capture in half: the report must still list
// the flows read before the damage, name the file and offset, and exit 2.
func TestDamagedFileKeepsFlows(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(pcapDir, "demo-mix.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(path, data[:len(data)/2+3], 0o644); err != nil {
		t.Fatal(err)
	}
	a, code, _ := analyzeJSON(t, path)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if len(a.Flows) == 0 {
		t.Error("no flows reported from the intact half")
	}
	if len(a.Summary.Errors) != 1 || !strings.Contains(a.Summary.Errors[0], path+": offset ") {
		t.Errorf("errors %q, want one naming %s and an offset", a.Summary.Errors, path)
	}
}

func TestUnknownFormatFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte("not a capture, just some notes\n"), 0o644)
	a, code, _ := analyzeJSON(t, path)
	if code != exitError || len(a.Summary.Errors) != 1 || !strings.Contains(a.Summary.Errors[0], "unknown capture format") {
		t.Errorf("exit %d errors %q", code, a.Summary.Errors)
	}
}

func TestFormats(t *testing.T) {
	demo := filepath.Join(pcapDir, "demo-mix.pcapng")
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			if code := analyze([]string{"--format", format, demo}, &out, io.Discard, zerolog.Nop()); code != exitOK {
				t.Fatalf("exit %d", code)
			}
			switch format {
			case "ndjson":
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				for _, l := range lines {
					var f map[string]any
					if err := json.Unmarshal([]byte(l), &f); err != nil {
						t.Fatalf("line is not JSON: %v", err)
					}
					for _, k := range []string{"transport", "client", "server", "first_seen", "last_seen", "packets", "bytes", "class",
						"tls_version", "app_protocol", "starttls", "sni", "alpn", "cipher", "group", "ja3", "ja3s", "ja4",
						"resumed", "hrr", "client_cert", "internal", "client_name", "server_name"} {
						if _, ok := f[k]; !ok {
							t.Errorf("flow lacks field %q", k)
						}
					}
				}
			case "table":
				for _, s := range []string{"VIOLATIONS", "SERVICE PAIRS", "plaintext"} {
					if !strings.Contains(out.String(), s) {
						t.Errorf("table lacks %q", s)
					}
				}
			}
		})
	}
}

// TestAnalyzeRawFingerprints: --raw-fingerprints adds the strings the hashes are made
// of, and they hash to the fingerprints; without it they are absent.
func TestAnalyzeRawFingerprints(t *testing.T) {
	file := filepath.Join(pcapDir, "tls12-openssl.pcap")
	a, code, stderr := analyzeJSON(t, "--raw-fingerprints", file)
	if code == exitError || len(a.Flows) != 1 {
		t.Fatalf("exit %d, %d flows: %s", code, len(a.Flows), stderr)
	}
	f := a.Flows[0]
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	if f.JA3String == "" || md5hex(f.JA3String) != f.JA3 || md5hex(f.JA3SString) != f.JA3S || !strings.HasPrefix(f.JA4Raw, f.JA4[:11]) {
		t.Errorf("ja3 %s of %q, ja3s %s of %q, ja4 %s of %q", f.JA3, f.JA3String, f.JA3S, f.JA3SString, f.JA4, f.JA4Raw)
	}
	a, _, _ = analyzeJSON(t, file)
	if f := a.Flows[0]; f.JA3String != "" || f.JA3SString != "" || f.JA4Raw != "" {
		t.Errorf("raw strings without the flag: %+v", f)
	}
}

// A kubectl snapshot names the ends by namespace, workload (through the owner
// chain), pod and service.
func TestAnalyzeK8sSnapshot(t *testing.T) {
	a, code, stderr := analyzeJSON(t, "--k8s-snapshot", filepath.Join(pcapDir, "demo-k8s-snapshot.json"), filepath.Join(pcapDir, "demo-mix.pcapng"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	found := false
	for _, f := range a.Flows {
		if f.Client != "10.77.0.12:52706" || f.Server != "10.77.0.21:80" {
			continue
		}
		found = true
		if f.ClientNamespace != "jobs" || f.ClientWorkload != "batch-28861" || f.ClientKind != "Pod" ||
			f.ServerNamespace != "shop" || f.ServerWorkload != "api" || f.ServerKind != "Deployment" ||
			f.ServerPod != "api-5c6d-x1" || f.ServerService != "api" || f.ServerName != "shop/api" {
			t.Errorf("flow named %+v", f)
		}
	}
	if !found {
		t.Fatal("the HTTP flow 10.77.0.12:52706 -> 10.77.0.21:80 is not in the report")
	}
	if _, code, stderr := analyzeJSON(t, "--k8s-snapshot", filepath.Join(pcapDir, "demo-names.yaml"), filepath.Join(pcapDir, "demo-mix.pcapng")); code != exitError || !strings.Contains(stderr, "demo-names.yaml") {
		t.Errorf("a YAML file as snapshot: exit %d, %q", code, stderr)
	}
}
