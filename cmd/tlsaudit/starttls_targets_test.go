package main

import (
	"bytes"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rs/zerolog"
)

// startTLSCaptures are the recorded IMAP, POP3, FTP, LDAP and MySQL captures of
// scripts/testdata/starttls.sh: each protocol in clear and upgraded, and FTP and LDAP
// servers refusing the upgrade, and Pure-FTPd, which refuses curl's AUTH SSL and
// accepts the AUTH TLS that follows.
var startTLSCaptures = []string{
	"imap-plain-dovecot-curl.pcap", "imap-starttls-dovecot-curl.pcap", "imap-starttls-dovecot-openssl.pcap",
	"pop3-plain-dovecot-curl.pcap", "pop3-stls-dovecot-curl.pcap", "pop3-stls-tls12-dovecot-openssl.pcap",
	"ftp-plain-vsftpd-curl.pcap", "ftp-authtls-vsftpd-curl.pcap", "ftp-authtls-tls12-vsftpd-openssl.pcap",
	"ftp-authtls-refused-vsftpd-curl.pcap", "ftp-authtls-pureftpd-curl.pcap",
	"ldap-plain-slapd-ldapsearch.pcap", "ldap-starttls-slapd-ldapsearch.pcap", "ldap-starttls-slapd-openssl.pcap",
	"ldap-starttls-refused-slapd-ldapsearch.pcap",
	"mysql-plain-mariadb.pcap", "mysql-ssl-mariadb.pcap", "mysql-ssl-tls12-mariadb-openssl.pcap",
}

// TestProbeTargetsFromStartTLSReport writes the report of `analyze --format json` over
// the recorded STARTTLS captures to a file and reads it back as `probe --from-report`
// does (readReport, then probeTarget for every flow, each target once): every server
// that upgraded becomes one target with the scheme of its protocol, the TLS data
// connection of the FTP transfer (TLS from its first byte) a target without a scheme,
// and the flows that stayed in clear, refused upgrades included, none.
func TestProbeTargetsFromStartTLSReport(t *testing.T) {
	report := filepath.Join(t.TempDir(), "audit.json")
	args := []string{"--format", "json", "--output", report}
	for _, f := range startTLSCaptures {
		args = append(args, filepath.Join(pcapDir, f))
	}
	var stderr bytes.Buffer
	if code := analyze(args, io.Discard, &stderr, zerolog.Nop()); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr.String())
	}
	a, err := readReport(report)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range a.Flows {
		if target := probeTarget(&f); target != "" && !slices.Contains(got, target) {
			got = append(got, target)
		}
	}
	want := []string{
		"imap://10.77.0.20:143",
		"pop3://10.77.0.20:110",
		"ftp://10.77.0.20:21",
		"10.77.0.20:30021", // the passive data connection of ftp-authtls-vsftpd-curl.pcap
		"ftp://10.77.0.21:21",
		"10.77.0.21:30021", // and of ftp-authtls-pureftpd-curl.pcap
		"ldap://10.77.0.50:389",
		"mysql://10.77.0.30:3306",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("targets %q, want %q", got, want)
	}
	recorded := 0
	for _, e := range readExpected(t) {
		if slices.Contains(startTLSCaptures, e.file) {
			recorded++
		}
	}
	if len(a.Flows) != recorded {
		t.Errorf("%d flows in the report, want the %d of expected.tsv", len(a.Flows), recorded)
	}
}
