package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
	"github.com/tlsaudit/tlsaudit/pkg/export"
)

// floods are the hostile captures the flood benchmark runs: a million SYN-only flows, a
// million one-datagram UDP flows, and 200,000 flows each pushing 16 KiB of random
// bytes without FIN, every flow from its own client.
var floods = []pcapgen.FloodOptions{
	{Kind: pcapgen.FloodSYN, Flows: 1_000_000},
	{Kind: pcapgen.FloodUDP, Flows: 1_000_000},
	{Kind: pcapgen.FloodPayload, Flows: 200_000, PayloadBytes: 16 << 10, Concurrent: 1024},
}

// floodCapture generates (once, then reuses) the capture of a flood under testdata/gen.
func floodCapture(opts pcapgen.FloodOptions) (string, error) {
	dir := filepath.Join("..", "..", "testdata", "gen")
	path := filepath.Join(dir, fmt.Sprintf("flood-%s-%d.pcap", opts.Kind, opts.Flows))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = pcapgen.WriteFlood(w, opts)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return path, os.Rename(path+".tmp", path)
}

// maxRSS matches /usr/bin/time -v's peak resident set size line.
var maxRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// BenchmarkFloodRSS runs the built command line (-tags noagent, as make build makes
// bin/tlsaudit), `tlsaudit analyze --format F` with default
// flags, over each flood under /usr/bin/time -v and reports its peak RSS and the size
// of what it wrote. Run it with -benchtime 1x (make bench-flood): each run is one
// process, so more iterations only repeat the same figure.
func BenchmarkFloodRSS(b *testing.B) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Skip("/usr/bin/time not installed (Debian package time)")
	}
	bin := filepath.Join(b.TempDir(), "tlsaudit")
	if out, err := exec.Command("go", "build", "-trimpath", "-tags", "noagent", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	formats := []string{"table", "markdown", "json", "ndjson", "csv", export.FormatOpenMetrics}
	for _, opts := range floods {
		path, err := floodCapture(opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, format := range formats {
			b.Run(opts.Kind.String()+"/"+format, func(b *testing.B) {
				var rssKiB, written int64
				for b.Loop() {
					rssKiB, written = peakRSS(b, bin, "analyze", "--format", format, path)
				}
				b.ReportMetric(float64(rssKiB)/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(written)/1e6, "output-MB")
			})
		}
	}
}

// peakRSS runs bin with args under /usr/bin/time -v and returns its peak resident set
// size in KiB and the bytes it wrote to stdout. Exit 1 (violations found) is a normal
// outcome of analyze; anything else fails the benchmark.
func peakRSS(b *testing.B, bin string, args ...string) (int64, int64) {
	b.Helper()
	var stderr bytes.Buffer
	out := &countingWriter{}
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", bin}, args...)...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitViolation {
			b.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
		}
	}
	m := maxRSS.FindSubmatch(stderr.Bytes())
	if m == nil {
		b.Fatalf("no peak RSS in /usr/bin/time output:\n%s", stderr.String())
	}
	kib, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return kib, out.n
}

// countingWriter counts what is written to it and keeps none of it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
