// Command pcapgen writes a synthetic capture for benchmarks (internal/pcapgen): many
// internal TCP connections, each opened with a real TLS 1.3 or 1.2 handshake (Go's
// post-quantum ClientHello spans two segments), plain HTTP or Redis, then bulk data,
// then closed. It prints the number of packets written.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
)

func main() { os.Exit(run()) }

func run() int {
	out := flag.String("o", "", "capture file to write")
	flows := flag.Int("flows", 3300, "connections")
	segments := flag.Int("segments", 30, "full-size data segments each way after the opening (long-lived flows dominate when large)")
	concurrent := flag.Int("concurrent", 64, "connections open at once (interleaved packets)")
	flag.Parse()
	if *out == "" || *flows <= 0 || *segments < 0 {
		fmt.Fprintln(os.Stderr, "usage: pcapgen -o FILE [-flows N] [-segments K] [-concurrent C]")
		return 2
	}
	tmpl, err := pcapgen.Templates()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		return 1
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		return 1
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := pcapgen.Write(w, tmpl, pcapgen.Options{Flows: *flows, DataSegments: *segments, Concurrent: *concurrent})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		return 1
	}
	fmt.Println(n)
	return 0
}
