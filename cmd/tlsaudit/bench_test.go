package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// benchCapture generates (once, then reuses) a multi-hundred-MB capture of many TLS
// 1.3, TLS 1.2, HTTP and Redis connections with bulk data, interleaved 64 at a time.
// TLSAUDIT_BENCH_MB sets its approximate size (default 300).
var benchCapture = sync.OnceValues(func() (string, error) {
	mb := 300
	if s := os.Getenv("TLSAUDIT_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			mb = n
		}
	}
	dir := filepath.Join("..", "..", "testdata", "gen")
	path := filepath.Join(dir, "bench-"+strconv.Itoa(mb)+"mb.pcap")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmpl, err := pcapgen.Templates()
	if err != nil {
		return "", err
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	// About 24 packets and 26 KB per connection with 8 bulk segments each way.
	flows := mb << 20 / (26 << 10)
	if _, err := pcapgen.Write(w, tmpl, pcapgen.Options{Flows: flows, DataSegments: 8, Concurrent: 64}); err != nil {
		f.Close()
		return "", err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(path+".tmp", path)
})

// BenchmarkAnalyze runs the offline pipeline (read, decode, flow table, classify) over
// the generated capture and reports packets per second and heap allocations per packet.
func BenchmarkAnalyze(b *testing.B) { benchAnalyze(b, nil) }

// BenchmarkAnalyzeProgress is BenchmarkAnalyze with the progress bar drawn (to a
// discarding writer), for the cost of the bar in the same run.
func BenchmarkAnalyzeProgress(b *testing.B) {
	benchAnalyze(b, func(path string) func(int64, uint64) {
		return newProgressTo(io.Discard, []string{path}).next(path)
	})
}

// benchAnalyze runs the pipeline over the generated capture; progress, when not nil,
// gives each run's progress callback.
func benchAnalyze(b *testing.B, progress func(path string) func(int64, uint64)) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	var packets, flows uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		flows = 0
		table := flow.New(flow.Config{}, func(*flow.Record) { flows++ })
		dec := capture.NewDecoder()
		var pkt flow.Packet
		var onRead func(int64, uint64)
		if progress != nil {
			onRead = progress(path)
		}
		if err := capture.ReadFileProgress(path, dec, &pkt, table.Add, onRead); err != nil {
			b.Fatal(err)
		}
		table.Flush()
		packets += dec.Stats().Decoded
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	// Allocations happen per flow (the verdict's strings, a certificate's names), not
	// per packet: both ratios are reported.
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(packets), "allocs/packet")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(flows*uint64(b.N)), "allocs/flow")
	b.ReportMetric(float64(flows), "flows")
}

// BenchmarkTshark runs tshark over the same file, extracting the handshake fields a
// TLS audit needs, for a ratio against BenchmarkAnalyze in the same run.
func BenchmarkTshark(b *testing.B) {
	if _, err := exec.LookPath("tshark"); err != nil {
		b.Skip("tshark not installed")
	}
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	for b.Loop() {
		cmd := exec.Command("tshark", "-n", "-r", path, "-Y", "tls.handshake.type==1 || tls.handshake.type==2",
			"-T", "fields", "-e", "tcp.stream", "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.extensions_server_name")
		if out, err := cmd.Output(); err != nil {
			b.Fatalf("tshark: %v %s", err, out)
		}
	}
}

// BenchmarkAnalyzeWorkers runs the whole analyze command in the process (no process
// start) over the generated capture, table format, with one and with two workers:
// what --workers gains where reading the file is shared and the report is written
// once.
func BenchmarkAnalyzeWorkers(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	for _, workers := range []string{"1", "2"} {
		b.Run("workers="+workers, func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				if code := analyze([]string{"--workers", workers, path}, io.Discard, io.Discard, zerolog.Nop()); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
