package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/rs/zerolog"
)

// TestProgressOnTerminalOnly runs analyze over two captures twice: with stderr on a
// pseudo-terminal the progress bar is drawn there (file, bytes, packets/s, 100%), with
// stderr on a pipe nothing is written to it; the report on stdout is the same.
func TestProgressOnTerminalOnly(t *testing.T) {
	args := []string{"--format", "json", filepath.Join(pcapDir, "demo-mix.pcapng"), filepath.Join(pcapDir, "https-nginx-curl.pcap")}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	drawn := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx) // until tty is closed (EIO)
		drawn <- string(b)
	}()
	var termOut bytes.Buffer
	code := analyze(args, &termOut, tty, zerolog.Nop())
	tty.Close()
	onTerminal := <-drawn
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, onTerminal)
	}
	for _, want := range []string{"https-nginx-curl.pcap (2/2)", "pkt/s", "100%", "B/s)"} {
		if !strings.Contains(onTerminal, want) {
			t.Errorf("terminal lacks %q: %q", want, onTerminal)
		}
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	piped := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		piped <- string(b)
	}()
	var pipeOut bytes.Buffer
	code = analyze(args, &pipeOut, w, zerolog.Nop())
	w.Close()
	if got := <-piped; code != exitOK || got != "" {
		t.Errorf("exit %d; a pipe got %q, want nothing", code, got)
	}
	if termOut.Len() == 0 || !bytes.Equal(termOut.Bytes(), pipeOut.Bytes()) {
		t.Error("the report on stdout differs between a terminal and a pipe on stderr")
	}
}
