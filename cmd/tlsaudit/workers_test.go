package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
)

// TestWorkersSameReport: analyze with several workers gives the report one worker
// gives: the same table, Markdown and OpenMetrics byte for byte, and the same JSON and CSV once
// the flows, which workers finish in another order, are put in one order. Over every
// recorded capture one at a time, all of them in one run (files of different days:
// timeouts measured across them), and a generated capture of 3,000 connections.
func TestWorkersSameReport(t *testing.T) {
	recorded, _ := filepath.Glob(filepath.Join(pcapDir, "*.pcap*"))
	if len(recorded) < 40 {
		t.Fatalf("%d recorded captures", len(recorded))
	}
	generated := filepath.Join(t.TempDir(), "gen.pcap")
	f, err := os.Create(generated)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := pcapgen.Templates()
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := pcapgen.Write(w, tmpl, pcapgen.Options{Flows: 3000, DataSegments: 4, Concurrent: 64}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	runs := [][]string{recorded, {generated}}
	for _, p := range recorded {
		runs = append(runs, []string{p})
	}
	for _, files := range runs {
		for _, format := range []string{"table", "markdown", "openmetrics", "json", "csv"} {
			one := analyzeOutput(t, format, 1, files)
			for _, workers := range []int{2, 4} {
				many := analyzeOutput(t, format, workers, files)
				if one != many {
					t.Errorf("%s, --format %s: --workers %d differs from one worker:\n%s\n---\n%s",
						strings.Join(files, " "), format, workers, one, many)
				}
			}
		}
	}
}

// analyzeOutput runs analyze and returns its output with the flows in one order.
func analyzeOutput(t *testing.T, format string, workers int, files []string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{"--format", format, "--workers", strconv.Itoa(workers)}, files...)
	if code := analyze(args, &out, &errOut, zerolog.Nop()); code == exitError {
		t.Fatalf("analyze %v: exit %d: %s", args, code, errOut.String())
	}
	switch format {
	case "json":
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		flows, _ := doc["flows"].([]any)
		lines := make([]string, len(flows))
		for i, f := range flows {
			b, _ := json.Marshal(f)
			lines[i] = string(b)
		}
		slices.Sort(lines)
		doc["flows"] = lines
		b, _ := json.MarshalIndent(doc, "", " ")
		return string(b)
	case "csv":
		lines := strings.Split(out.String(), "\n")
		slices.Sort(lines[1:])
		return strings.Join(lines, "\n")
	}
	return out.String()
}
