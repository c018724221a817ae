// Command tlsaudit finds internal traffic that is not encrypted. `tlsaudit analyze`
// classifies the flows of pcap/pcapng files and prints a report with an exit code a CI
// job can gate on.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// Exit codes. They are part of the command-line interface: CI jobs test them.
const (
	exitOK        = 0 // ran; no violation of the --fail-on kind
	exitViolation = 1 // ran; violations of the --fail-on kind were found
	exitError     = 2 // bad usage, unreadable or damaged input (what was read is still reported)
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage: tlsaudit <command> [flags]

commands:
  analyze FILE...   classify the flows of pcap/pcapng files and print a report
  diff OLD NEW      compare two analyze --format json reports by service pair
  probe HOST:PORT.. shake hands with TLS servers at each version: versions, ciphers, client certificates
  report            the same report for a live cluster, from the agents' metrics in Prometheus
  run               the node agent: capture live traffic (eBPF, or AF_PACKET) and log verdicts
  version           print the version

Run 'tlsaudit analyze -h', 'tlsaudit diff -h', 'tlsaudit probe -h' or 'tlsaudit report -h' for their flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	log := newLogger(stderr)
	switch args[0] {
	case "analyze":
		return analyze(args[1:], stdout, stderr, log)
	case "diff":
		return diff(args[1:], stdout, stderr)
	case "probe":
		return probeCmd(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "run":
		return runAgent(args[1:], stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "tlsaudit", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tlsaudit: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

// newLogger logs JSON, or human-readable lines when stderr is a terminal.
func newLogger(w io.Writer) zerolog.Logger {
	if isTerminal(w) {
		w = zerolog.ConsoleWriter{Out: w}
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return bi.Main.Version + " " + s.Value[:12]
			}
		}
		return bi.Main.Version
	}
	return "(unknown)"
}

// buildVersion is the module version and VCS revision, for tlsaudit_build_info.
func buildVersion() (version, revision string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)", ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return bi.Main.Version, revision
}
