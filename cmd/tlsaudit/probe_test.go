package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsaudit/tlsaudit/internal/tlstest"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// TestProbeCommand runs `tlsaudit probe` against Go servers on loopback: exit 1 with
// --fail-on legacy only when a target accepts TLS below --min-tls, with --fail-on
// fallback only when one answers a TLS_FALLBACK_SCSV hello below its best version
// (a Go server behind tlstest.IgnoreFallbackSCSV, since none here ignores it), with
// --fail-on any for either; a closed port is a per-target error, and --from-report
// reads the TLS servers of an analyze report.
func TestProbeCommand(t *testing.T) {
	modern := tlstest.Serve(t, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13})
	legacy := tlstest.Serve(t, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12})
	downgradable := tlstest.IgnoreFallbackSCSV(t, tlstest.Serve(t, &tls.Config{}))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	reportFile := filepath.Join(t.TempDir(), "audit.json")
	doc := `{"summary":{},"pairs":[],"violations":[],"flows":[` +
		`{"transport":"tcp","client":"127.0.0.1:50000","server":"` + legacy + `","class":"tls"},` +
		`{"transport":"tcp","client":"127.0.0.1:50001","server":"127.0.0.1:80","class":"plaintext"},` +
		`{"transport":"tcp","client":"127.0.0.1:50002","server":"` + closed + `","class":"tls","starttls":true,"app_protocol":"imap"}]}`
	if err := os.WriteFile(reportFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		targets []string
	}{
		{"modern passes", []string{"--fail-on", "legacy", modern}, exitOK, []string{modern}},
		{"legacy fails", []string{"--fail-on", "legacy", modern, legacy}, exitViolation, []string{modern, legacy}},
		{"legacy allowed by --min-tls", []string{"--fail-on", "legacy", "--min-tls", "TLS1.0", legacy}, exitOK, []string{legacy}},
		{"closed port is the target's error", []string{"--fail-on", "legacy", closed, modern}, exitOK, []string{closed, modern}},
		{"from a report", []string{"--fail-on", "legacy", "--from-report", reportFile}, exitViolation, []string{legacy, "imap://" + closed}},
		{"fallback rejected passes", []string{"--fail-on", "fallback", modern, legacy}, exitOK, []string{modern, legacy}},
		{"fallback accepted fails", []string{"--fail-on", "fallback", modern, downgradable}, exitViolation, []string{modern, downgradable}},
		{"fallback accepted is no legacy version", []string{"--fail-on", "legacy", downgradable}, exitOK, []string{downgradable}},
		{"any: fallback", []string{"--fail-on", "any", downgradable}, exitViolation, []string{downgradable}},
		{"any: legacy", []string{"--fail-on", "any", legacy}, exitViolation, []string{legacy}},
		{"any: neither", []string{"--fail-on", "any", modern}, exitOK, []string{modern}},
		{"bad --fail-on", []string{"--fail-on", "weak", modern}, exitError, nil},
		{"no targets", nil, exitError, nil},
		{"bad format", []string{"--format", "xml", modern}, exitError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := probeCmd(append([]string{"--format", "json", "--timeout", "5s"}, tt.args...), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut.String())
			}
			if tt.targets == nil {
				return
			}
			var doc struct {
				Targets []probe.Result `json:"targets"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if len(doc.Targets) != len(tt.targets) {
				t.Fatalf("%d targets, want %d", len(doc.Targets), len(tt.targets))
			}
			for i, r := range doc.Targets {
				if r.Target != tt.targets[i] {
					t.Errorf("target %d is %s, want %s", i, r.Target, tt.targets[i])
				}
				if strings.HasSuffix(r.Target, closed) != strings.Contains(r.Error, "refused") {
					t.Errorf("%s: error %q", r.Target, r.Error)
				}
			}
		})
	}
}

// TestProbeTargetsFromRecordedCaptures: the TLS servers of recorded captures become
// probe targets, STARTTLS ones with the scheme that upgrades them.
func TestProbeTargetsFromRecordedCaptures(t *testing.T) {
	for file, want := range map[string]string{
		"smtp-starttls.pcap": "smtp://10.77.0.20:25",
		"pg-ssl-psql.pcap":   "postgres://10.77.0.30:5432",
		"tls13-openssl.pcap": "10.77.0.20:4433",
		"pg-plain-psql.pcap": "",
		"dns-udp-dig.pcap":   "",
	} {
		var got []string
		for _, f := range recordedFlows(t, file) {
			if target := probeTarget(&f); target != "" {
				got = append(got, target)
			}
		}
		if (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
			t.Errorf("%s: targets %v, want %q", file, got, want)
		}
	}
}

// TestProbeTargetOfFlow: a STARTTLS flow becomes a target with the scheme of its
// app_protocol; one the probe cannot upgrade, and flows that are not TLS over TCP,
// become none.
func TestProbeTargetOfFlow(t *testing.T) {
	tests := []struct {
		flow report.Flow
		want string
	}{
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:443", Class: "tls"}, "10.0.0.1:443"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:25", Class: "tls", StartTLS: true, AppProtocol: "smtp"}, "smtp://10.0.0.1:25"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:143", Class: "tls", StartTLS: true, AppProtocol: "imap"}, "imap://10.0.0.1:143"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:110", Class: "tls", StartTLS: true, AppProtocol: "pop3"}, "pop3://10.0.0.1:110"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:21", Class: "tls", StartTLS: true, AppProtocol: "ftp"}, "ftp://10.0.0.1:21"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:389", Class: "tls", StartTLS: true, AppProtocol: "ldap"}, "ldap://10.0.0.1:389"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:3306", Class: "tls", StartTLS: true, AppProtocol: "mysql"}, "mysql://10.0.0.1:3306"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:5432", Class: "tls", StartTLS: true, AppProtocol: "postgresql"}, "postgres://10.0.0.1:5432"},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:5222", Class: "tls", StartTLS: true, AppProtocol: "xmpp"}, ""},
		{report.Flow{Transport: "tcp", Server: "10.0.0.1:143", Class: "plaintext", AppProtocol: "imap"}, ""},
		{report.Flow{Transport: "udp", Server: "10.0.0.1:443", Class: "tls"}, ""},
	}
	for _, tt := range tests {
		if got := probeTarget(&tt.flow); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.flow, got, tt.want)
		}
	}
}
