package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/promreport"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// promFormats are the formats of `tlsaudit report`: those of analyze that need no
// per-flow records (counters have none).
var promFormats = []string{"table", "markdown", "json", "html"}

// reportCmd builds the offline report of a live cluster from the metrics its agents
// export, through the Prometheus HTTP API.
func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("prometheus", "", "Prometheus base URL, e.g. http://prometheus:9090 (required)")
	window := fs.Duration("range", 24*time.Hour, "the window the report covers, ending at --time")
	at := fs.String("time", "", "end of the window, RFC 3339 (default: now)")
	format := fs.String("format", "table", "output format: "+strings.Join(promFormats, ", "))
	output := fs.String("output", "", "write the report to this file instead of standard output")
	minTLS := fs.String("min-tls", "TLS1.2", "lowest acceptable TLS version, for the html colours")
	failOn := fs.String("fail-on", "none", "exit 1 when internal pairs are: plaintext, legacy (plaintext or TLS below the agents' minimum), or none")
	timeout := fs.Duration("timeout", time.Minute, "give up on Prometheus after this long")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tlsaudit report --prometheus URL [flags]\n\n"+
			"The report of analyze for a live cluster: service pairs, classes, TLS versions and violations\n"+
			"from the agents' tlsaudit_flows_total, tlsaudit_flow_bytes_total and\n"+
			"tlsaudit_violation_flows_total over --range (Prometheus increase(), rounded). Counters carry\n"+
			"no per-flow details: no flows, SNIs, protocols or transports are listed.\n\n"+
			"Exit codes: 0 ok, 1 violations of the --fail-on kind, 2 usage or query error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	kinds, ok := failOnKinds[*failOn]
	q := promreport.Query{URL: *url, Range: *window, MinTLSVersion: *minTLS}
	var problem string
	switch {
	case *url == "" || fs.NArg() > 0:
		fs.Usage()
		return exitError
	case !slices.Contains(promFormats, *format):
		problem = fmt.Sprintf("--format must be one of %s, not %q", strings.Join(promFormats, ", "), *format)
	case !ok:
		problem = fmt.Sprintf("--fail-on must be plaintext, legacy or none, not %q", *failOn)
	case *window <= 0:
		problem = "--range must be positive"
	}
	if _, err := policy.ParseVersion(*minTLS); err != nil && problem == "" {
		problem = "--min-tls: " + err.Error()
	}
	if *at != "" && problem == "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			problem = "--time: " + err.Error()
		}
		q.At = t
	}
	if problem != "" {
		fmt.Fprintf(stderr, "tlsaudit report: %s\n", problem)
		return exitError
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	audit, sampler, err := promreport.Build(ctx, q)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit report: %v\n", err)
		return exitError
	}
	out, err := openOutput(*output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit report: %v\n", err)
		return exitError
	}
	if *format == "html" {
		err = report.WriteHTML(out, audit, sampler)
	} else {
		err = report.Write(out, audit, *format)
	}
	if ferr := out.finish(err == nil); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit report: %v\n", err)
		return exitError
	}
	if audit.HasViolation(kinds...) {
		return exitViolation
	}
	return exitOK
}
