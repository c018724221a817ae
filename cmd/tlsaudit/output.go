package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// reportOutput is where a report goes: stdout, or a file named by --output that
// appears whole or not at all (written beside it, then renamed), so that a failed run
// never leaves half a report where the last good one was. Writes are buffered: the
// table format alone writes every cell of thousands of rows separately.
type reportOutput struct {
	w    *bufio.Writer
	path string
	tmp  *os.File
}

// outputBuffer is how much of a report is gathered before it is written.
const outputBuffer = 64 << 10

// openOutput opens path for a report, or returns stdout when path is empty.
func openOutput(path string, stdout io.Writer) (*reportOutput, error) {
	if path == "" {
		return &reportOutput{w: bufio.NewWriterSize(stdout, outputBuffer)}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	return &reportOutput{w: bufio.NewWriterSize(tmp, outputBuffer), path: path, tmp: tmp}, nil
}

// Write writes to the report's destination.
func (o *reportOutput) Write(p []byte) (int, error) { return o.w.Write(p) }

// finish writes what is buffered, then puts a file in place when ok, and removes the
// partial one otherwise.
func (o *reportOutput) finish(ok bool) error {
	ferr := o.w.Flush()
	if o.tmp == nil {
		return ferr
	}
	ok = ok && ferr == nil
	err := o.tmp.Close()
	if err == nil {
		err = ferr
	}
	if ok && err == nil {
		if err = os.Chmod(o.tmp.Name(), 0o644); err == nil {
			err = os.Rename(o.tmp.Name(), o.path)
		}
	}
	if !ok || err != nil {
		os.Remove(o.tmp.Name())
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}
