package conformance

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Manifest is MANIFEST.tsv of the corpus: the captures and, for each reference file,
// which captures it covers.
type Manifest struct {
	// Captures lists every capture path once, sorted.
	Captures []string
	// Source maps a capture to its folder (zeek, ja4, ja3, suricata-verify, arkime,
	// ndpi).
	Source map[string]string
	// Truth maps a reference file to the captures it covers, in manifest order.
	Truth map[string][]string
	// TruthSource maps a reference file to the folder of the rows that name it.
	TruthSource map[string]string
	// TraceOrder maps a reference file shared by several runs to the capture base
	// names in the order of the runs ("shared baseline; trace order in file: …").
	TraceOrder map[string][]string
	// Notes maps a capture to its what_it_covers text.
	Notes map[string]string
}

// ParseManifest reads MANIFEST.tsv.
func ParseManifest(r io.Reader) (*Manifest, error) {
	m := &Manifest{
		Source:      make(map[string]string),
		Truth:       make(map[string][]string),
		TruthSource: make(map[string]string),
		TraceOrder:  make(map[string][]string),
		Notes:       make(map[string]string),
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			if !strings.HasPrefix(sc.Text(), "source\tpcap\t") {
				return nil, fmt.Errorf("manifest: unexpected header %q", sc.Text())
			}
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 {
			return nil, fmt.Errorf("manifest line %d: %d columns, want 4", line, len(cols))
		}
		src, capture, truth, notes := cols[0], cols[1], cols[2], cols[3]
		if _, ok := m.Source[capture]; !ok {
			m.Captures = append(m.Captures, capture)
			m.Source[capture] = src
			m.Notes[capture] = notes
		}
		if truth == "-" {
			continue
		}
		if !contains(m.Truth[truth], capture) {
			m.Truth[truth] = append(m.Truth[truth], capture)
		}
		m.TruthSource[truth] = src
		if order := traceOrder(notes); order != nil {
			m.TraceOrder[truth] = order
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	sort.Strings(m.Captures)
	return m, nil
}

// TruthFiles lists the reference files, sorted.
func (m *Manifest) TruthFiles() []string {
	fs := make([]string, 0, len(m.Truth))
	for f := range m.Truth {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

// traceOrder extracts the capture names after "trace order in file:".
func traceOrder(notes string) []string {
	_, rest, ok := strings.Cut(notes, "trace order in file:")
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, ";")
	return strings.Fields(rest)
}

// captureByBase finds the capture among cands whose base name is base.
func captureByBase(cands []string, base string) string {
	for _, c := range cands {
		if path.Base(c) == base {
			return c
		}
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
