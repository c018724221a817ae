package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestRecordedClientAuth checks client_cert, client_cert_requested and
// client_auth_evidence of every flow in testdata/pcaps/client-auth.tsv: OpenSSL at TLS
// 1.2 and at TLS 1.3 with each of its cipher suites, nginx with curl, and Go crypto/tls, each server
// not asking, asking, and requiring a client certificate, each client with and
// without one. The expected answers are what the handshake messages say, read in
// clear or decrypted with the recording's key log (see the README there), never
// tlsaudit's own output; every flow must be answered, none left unknown.
func TestRecordedClientAuth(t *testing.T) {
	f, err := os.Open(filepath.Join(pcapDir, "client-auth.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.FieldsPerRecord = 6
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][][]string{}
	for _, row := range rows[1:] {
		byFile[row[0]] = append(byFile[row[0]], row)
	}
	if len(byFile) < 6 {
		t.Fatalf("%d captures in client-auth.tsv, want the 6 recorded", len(byFile))
	}
	for file, want := range byFile {
		t.Run(file, func(t *testing.T) {
			got := recordedFlows(t, file)
			for _, w := range want {
				f, ok := got[w[1]+" "+w[2]+" "+w[3]]
				if !ok {
					t.Errorf("flow %s -> %s missing", w[2], w[3])
					continue
				}
				evidence := "certificate_message"
				if f.TLSVersion == "TLS1.3" {
					evidence = "tls13_flight_size"
				}
				if answer(f.ClientCert) != w[4] || answer(f.ClientCertRequested) != w[5] || f.ClientAuthEvidence != evidence {
					t.Errorf("%s -> %s (%s %s): client_cert %s requested %s evidence %q, want %s %s %q",
						w[2], w[3], f.TLSVersion, f.Cipher, answer(f.ClientCert), answer(f.ClientCertRequested),
						f.ClientAuthEvidence, w[4], w[5], evidence)
				}
			}
		})
	}
}

// answer spells a JSON true/false/null as client-auth.tsv does, null as "null".
func answer(b *bool) string {
	if b == nil {
		return "null"
	}
	return strconv.FormatBool(*b)
}

// TestRequireMTLSAndTLS13 judges the recorded client-auth captures against a policy
// that requires TLS 1.3 and mutual TLS towards their server: only the flows whose
// client sent no certificate break require_mtls, every TLS 1.2 flow breaks
// require_tls13 (the more severe kind, so it is the one reported), and --fail-on
// any fails the run.
func TestRequireMTLSAndTLS13(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(cfg, []byte("require_tls13:\n  - server_cidr: 10.77.0.20/32\nrequire_mtls:\n  - server_cidr: 10.77.0.20/32\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{ // server -> violation
		"tls13-clientauth-aes128gcm-openssl.pcap": {"10.77.0.20:4441": "no_mtls", "10.77.0.20:4442": "no_mtls", "10.77.0.20:4443": "", "10.77.0.20:4444": ""},
		"tls13-clientauth-chacha20-openssl.pcap":  {"10.77.0.20:4441": "no_mtls", "10.77.0.20:4442": "no_mtls", "10.77.0.20:4443": "", "10.77.0.20:4444": ""},
		"tls12-clientauth-openssl.pcap":           {"10.77.0.20:4441": "not_tls13", "10.77.0.20:4442": "not_tls13", "10.77.0.20:4443": "not_tls13", "10.77.0.20:4444": "not_tls13"},
		"tls13-mtls-go.pcap":                      {"10.77.0.20:4441": ""},
	}
	for file, servers := range want {
		t.Run(file, func(t *testing.T) {
			a, code, stderr := analyzeJSON(t, "--config", cfg, "--fail-on", "any", filepath.Join(pcapDir, file))
			if len(a.Flows) != len(servers) {
				t.Fatalf("%d flows, want %d (%s)", len(a.Flows), len(servers), stderr)
			}
			violations := 0
			for _, f := range a.Flows {
				if f.Violation != servers[f.Server] {
					t.Errorf("%s: violation %q, want %q", f.Server, f.Violation, servers[f.Server])
				}
				if f.Violation != "" {
					violations++
				}
			}
			if wantCode := map[bool]int{true: exitViolation, false: exitOK}[violations > 0]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
		})
	}
}
