package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// analyzeTo runs the real analyzer on captures of testdata/pcaps and writes its
// report to a file in dir.
func analyzeTo(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := analyze(args, &out, &errOut, zerolog.Nop()); code == exitError {
		t.Fatalf("analyze %q: exit %d: %s", args, code, errOut.String())
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pcaps(names ...string) []string {
	for i, n := range names {
		names[i] = filepath.Join(pcapDir, n)
	}
	return names
}

// sectionPorts is "section port changes…" for every pair of a diff, to compare as a whole.
func sectionPorts(d *report.Diff) []string {
	var s []string
	for _, sec := range []struct {
		name string
		cs   []report.PairChange
	}{{"worse", d.Worse}, {"improved", d.Improved}, {"new", d.Added}, {"vanished", d.Vanished}} {
		for _, c := range sec.cs {
			line := strings.TrimSpace(strings.Join(append([]string{sec.name, strconv.Itoa(int(c.Port))}, c.Changes...), " "))
			if c.Violation {
				line += " (violation)"
			}
			s = append(s, line)
		}
	}
	return s
}

// TestDiffRecordedCaptures diffs reports the analyzer wrote for recorded captures:
// PostgreSQL over TLS then in clear text, TLS 1.3 then 1.2 on one pair, a new
// plaintext Redis pair, a vanished HTTPS pair; and the same capture judged under a
// higher --min-tls.
func TestDiffRecordedCaptures(t *testing.T) {
	dir := t.TempDir()
	before := analyzeTo(t, dir, "before.json", append([]string{"--format", "json"}, pcaps("pg-ssl-psql.pcap", "tls13-openssl.pcap", "https-nginx-curl.pcap")...)...)
	after := analyzeTo(t, dir, "after.json", append([]string{"--format", "json"}, pcaps("pg-plain-psql.pcap", "tls12-openssl.pcap", "redis-plain.pcap")...)...)
	tls12 := analyzeTo(t, dir, "tls12.json", append([]string{"--format", "json"}, pcaps("tls12-openssl.pcap")...)...)
	tls12Strict := analyzeTo(t, dir, "tls12-min13.json", append([]string{"--format", "json", "--min-tls", "TLS1.3"}, pcaps("tls12-openssl.pcap")...)...)

	tests := []struct {
		name     string
		old, new string
		code     int
		want     []string
	}{
		{"regressions", before, after, exitViolation, []string{
			"worse 4433 tls TLS1.3 -> TLS1.2",
			"worse 5432 class tls -> plaintext violation +plaintext (violation)",
			"new 6379 (violation)",
			"vanished 443",
		}},
		{"fixes", after, before, exitOK, []string{
			"improved 4433 tls TLS1.2 -> TLS1.3",
			"improved 5432 class plaintext -> tls violation -plaintext",
			"new 443",
			"vanished 6379",
		}},
		{"higher minimum version", tls12, tls12Strict, exitViolation, []string{"worse 4433 violation +legacy_tls (violation)"}},
		{"same report", before, before, exitOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"diff", "--format", "json", tt.old, tt.new}, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			var d report.Diff
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			if got := sectionPorts(&d); !slices.Equal(got, tt.want) {
				t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if d.OldFile != tt.old || d.NewFile != tt.new {
				t.Errorf("files %q, %q", d.OldFile, d.NewFile)
			}
		})
	}

	t.Run("table", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run([]string{"diff", before, after}, &out, &errOut); code != exitViolation {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
		for _, w := range []string{"2 worse, 0 improved, 1 new (1 in violation), 1 vanished, 0 unchanged", "tls -> plaintext", "\nVANISHED PAIRS\n"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("table lacks %q:\n%s", w, out.String())
			}
		}
	})
}

func TestDiffBadInput(t *testing.T) {
	dir := t.TempDir()
	good := analyzeTo(t, dir, "good.json", append([]string{"--format", "json"}, pcaps("tls12-openssl.pcap")...)...)
	flows := analyzeTo(t, dir, "flows.ndjson", append([]string{"--format", "ndjson"}, pcaps("tls12-openssl.pcap")...)...)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"ndjson instead of json", []string{good, flows}, flows + ": not a tlsaudit analyze --format json report"},
		{"a pcap", []string{filepath.Join(pcapDir, "tls12-openssl.pcap"), good}, "tls12-openssl.pcap: not a tlsaudit analyze"},
		{"missing file", []string{good, filepath.Join(dir, "nope.json")}, "nope.json"},
		{"one file", []string{good}, "usage: tlsaudit diff"},
		{"unknown format", []string{"--format", "csv", good, good}, "--format must be one of table, markdown, json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(append([]string{"diff"}, tt.args...), &out, &errOut); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.stderr)
			}
		})
	}
}
