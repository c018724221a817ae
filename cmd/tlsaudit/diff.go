package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// diff compares two reports of `tlsaudit analyze --format json` by service pair, so
// that a CI job can fail on what got worse since a baseline, not on what was known.
func diff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output format: "+strings.Join(report.DiffFormats, ", "))
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tlsaudit diff [flags] OLD.json NEW.json\n\n"+
			"Compares two reports of tlsaudit analyze --format json by service pair.\n\n"+
			"Exit codes: 0 nothing worse, 1 a pair got worse (weaker class or TLS version, or a new\n"+
			"violation kind) or a new pair is in violation, 2 usage or input error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if !slices.Contains(report.DiffFormats, *format) {
		fmt.Fprintf(stderr, "tlsaudit diff: --format must be one of %s, not %q\n", strings.Join(report.DiffFormats, ", "), *format)
		return exitError
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return exitError
	}
	oldPath, newPath := fs.Arg(0), fs.Arg(1)
	before, err := readReport(oldPath)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit diff: %v\n", err)
		return exitError
	}
	after, err := readReport(newPath)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit diff: %v\n", err)
		return exitError
	}
	d := report.Compare(before, after)
	d.OldFile, d.NewFile = oldPath, newPath
	if err := report.WriteDiff(stdout, d, *format); err != nil {
		fmt.Fprintf(stderr, "tlsaudit diff: write: %v\n", err)
		return exitError
	}
	if d.Failed() {
		return exitViolation
	}
	return exitOK
}

func readReport(path string) (*report.Audit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := report.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
