package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// TestOutputFile: --output writes what stdout would get, with a file's usual mode,
// leaves no temporary file beside it, and a directory that does not exist is a usage
// error that creates nothing.
func TestOutputFile(t *testing.T) {
	demo := filepath.Join(pcapDir, "demo-mix.pcapng")
	var stdout bytes.Buffer
	if code := analyze([]string{"--format", "json", demo}, &stdout, io.Discard, zerolog.Nop()); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.json")
	var none bytes.Buffer
	if code := analyze([]string{"--format", "json", "--output", path, demo}, &none, io.Discard, zerolog.Nop()); code != exitOK {
		t.Fatalf("--output: exit %d", code)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Two runs over one capture give the same JSON, byte for byte.
	if !bytes.Equal(got, stdout.Bytes()) || none.Len() != 0 {
		t.Errorf("file (%d bytes) differs from stdout (%d bytes), or stdout got %d bytes", len(got), stdout.Len(), none.Len())
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want only the report", len(entries))
	}
	missing := filepath.Join(dir, "no-such-dir", "audit.json")
	if code := analyze([]string{"--format", "json", "--output", missing, demo}, io.Discard, io.Discard, zerolog.Nop()); code != exitError {
		t.Errorf("--output into a missing directory: exit %d, want %d", code, exitError)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("the missing directory was created: %v", err)
	}
}
