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
// 1.2 and at TLS 1.3 with each of its cipher suites, and Go crypto/tls, each server
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
	if len(byFile) < 5 {
		t.Fatalf("%d captures in client-auth.tsv, want the 5 recorded", len(byFile))
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
