package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
)

// TestAnalyzeFloodBounds runs analyze over a SYN flood a little larger than its default
// flow table and pair cap: every flow is still listed and counted, and the summary says
// that flows were evicted and folded; flags raise both bounds.
func TestAnalyzeFloodBounds(t *testing.T) {
	const flows = analyzeMaxFlows + 4000
	path := filepath.Join(t.TempDir(), "syn-flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := pcapgen.WriteFlood(w, pcapgen.FloodOptions{Kind: pcapgen.FloodSYN, Flows: flows}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	a, code, stderr := analyzeJSON(t, path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := a.Summary
	if len(a.Flows) != flows || s.Flows != flows || s.FlowsOmitted != 0 {
		t.Errorf("%d flows listed, %d counted, %d omitted; want %d, %d, 0", len(a.Flows), s.Flows, s.FlowsOmitted, flows, flows)
	}
	// A SYN-only flow never ends: past the table's size the oldest are evicted.
	if got := s.Limits["flows_evicted"]; got < flows-analyzeMaxFlows {
		t.Errorf("limits_hit.flows_evicted = %d, want at least %d", got, flows-analyzeMaxFlows)
	}
	// Every flow has its own client: past the cap they fold into (other).
	if s.Pairs != analyzeMaxPairs+1 || s.FlowsFolded != flows-analyzeMaxPairs {
		t.Errorf("%d pairs, %d folded; want %d, %d", s.Pairs, s.FlowsFolded, analyzeMaxPairs+1, flows-analyzeMaxPairs)
	}

	a, code, stderr = analyzeJSON(t, "--max-flows", strconv.Itoa(flows), "--max-pairs", strconv.Itoa(flows), path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if s := a.Summary; s.Limits["flows_evicted"] != 0 || s.FlowsFolded != 0 || s.Pairs != flows {
		t.Errorf("with raised bounds: evicted %d, folded %d, %d pairs", s.Limits["flows_evicted"], s.FlowsFolded, s.Pairs)
	}

	// ndjson has no summary: the log says what the bounds cost.
	var logs bytes.Buffer
	if code := analyze([]string{"--format", "ndjson", path}, io.Discard, io.Discard, zerolog.New(&logs)); code != exitOK {
		t.Fatalf("ndjson: exit %d", code)
	}
	var warning struct {
		Level        string `json:"level"`
		FlowsEvicted uint64 `json:"flows_evicted"`
		FlowsFolded  int    `json:"flows_folded"`
	}
	if err := json.Unmarshal(logs.Bytes(), &warning); err != nil || warning.Level != "warn" ||
		warning.FlowsEvicted < flows-analyzeMaxFlows || warning.FlowsFolded != flows-analyzeMaxPairs {
		t.Errorf("log %q (%v), want one warning with the evictions and folded flows", logs.String(), err)
	}

	// Zero means the default, as it did before analyze had its own defaults.
	a, _, _ = analyzeJSON(t, "--max-flows", "0", "--max-pairs", "0", "--max-buffered-bytes", "0", path)
	if s := a.Summary; s.Limits["flows_evicted"] < flows-analyzeMaxFlows || s.Pairs != analyzeMaxPairs+1 {
		t.Errorf("with zero bounds: evicted %d, %d pairs; want the defaults' %d+ and %d", s.Limits["flows_evicted"], s.Pairs, flows-analyzeMaxFlows, analyzeMaxPairs+1)
	}
}

// TestAnalyzeRuntimeSettings: the memory limit analyze derives from its default bounds
// fits the 256 MiB the floods must stay under, grows with the flags, leaves room for
// the executable's resident pages, and analyze puts the process's collector settings
// back when it returns (tests call it in-process).
func TestAnalyzeRuntimeSettings(t *testing.T) {
	def := analyzeMemoryLimit(analyzeMaxFlows, analyzeMaxBuffered, analyzeMaxPairs, 0)
	if def > 224<<20 {
		t.Errorf("default memory limit %d MiB leaves under 32 MiB below 256 MiB", def>>20)
	}
	if raised := analyzeMemoryLimit(4*analyzeMaxFlows, analyzeMaxBuffered, analyzeMaxPairs, 0); raised <= def {
		t.Errorf("limit %d for 4x the flows, %d by default", raised, def)
	}
	resident := residentFileBytes()
	if resident <= 0 {
		t.Errorf("RssFile of this test binary read as %d bytes", resident)
	}
	if got := analyzeMemoryLimit(analyzeMaxFlows, analyzeMaxBuffered, analyzeMaxPairs, 16<<20); got != def-16<<20 {
		t.Errorf("limit %d MiB with 16 MiB of the executable resident, want %d MiB", got>>20, (def-16<<20)>>20)
	}
	if got := analyzeMemoryLimit(analyzeMaxFlows, analyzeMaxBuffered, analyzeMaxPairs, 1<<30); got != def-runtimeOverheadBytes/2 {
		t.Errorf("limit %d MiB with 1 GiB resident, want the bounds plus half the overhead, %d MiB", got>>20, (def-runtimeOverheadBytes/2)>>20)
	}
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: analyze leaves the collector alone")
	}
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	limit := debug.SetMemoryLimit(-1) // a negative value only reads it
	analyze([]string{filepath.Join(pcapDir, "tls12-openssl.pcap")}, io.Discard, io.Discard, zerolog.Nop())
	if got := debug.SetGCPercent(gc); got != gc {
		t.Errorf("GC percent %d after analyze, want %d", got, gc)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit %d after analyze, want %d", got, limit)
	}
}
