package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// probeFormats are the output formats of tlsaudit probe.
var probeFormats = []string{"table", "json"}

// probeCmd actively checks TLS servers: which versions they accept, the cipher at
// each, client-certificate requests and the leaf certificate.
func probeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output format: "+strings.Join(probeFormats, ", "))
	fromReport := fs.String("from-report", "", "also probe every TLS server of this analyze --format json report (STARTTLS ones of SMTP, IMAP, POP3, FTP, LDAP, MySQL and PostgreSQL with their scheme)")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed for all the handshakes of one target")
	concurrency := fs.Int("concurrency", 8, "targets probed at once")
	rate := fs.Float64("rate", 0, "most handshakes started per second over the run (0: no limit)")
	failOn := fs.String("fail-on", "none", "exit 1 when a target accepts: legacy (a version below --min-tls), or none")
	minTLS := fs.String("min-tls", "TLS1.2", "lowest acceptable TLS version")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tlsaudit probe [flags] [smtp|imap|pop3|ftp|ldap|mysql|postgres://]HOST:PORT...\n\n"+
			"Shakes hands with each target at TLS 1.3, 1.2, 1.1 and 1.0 separately and reports the versions\n"+
			"accepted, the cipher at each, whether a client certificate is asked for or required, and the\n"+
			"leaf certificate. A target that cannot be reached or does not speak TLS gets its own error.\n\n"+
			"Exit codes: 0 ran, 1 a target accepts what --fail-on names, 2 usage or input error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	minVersion, err := policy.ParseVersion(*minTLS)
	switch {
	case !slices.Contains(probeFormats, *format):
		fmt.Fprintf(stderr, "tlsaudit probe: --format must be one of %s, not %q\n", strings.Join(probeFormats, ", "), *format)
		return exitError
	case *failOn != "none" && *failOn != "legacy":
		fmt.Fprintf(stderr, "tlsaudit probe: --fail-on must be legacy or none, not %q\n", *failOn)
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "tlsaudit probe: --min-tls: %v\n", err)
		return exitError
	}
	targets := fs.Args()
	if *fromReport != "" {
		a, err := readReport(*fromReport)
		if err != nil {
			fmt.Fprintf(stderr, "tlsaudit probe: %v\n", err)
			return exitError
		}
		for _, f := range a.Flows {
			if t := probeTarget(&f); t != "" && !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
	}
	if len(targets) == 0 {
		fs.Usage()
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results := probe.Run(ctx, targets, probe.Options{Timeout: *timeout, Concurrency: *concurrency, Rate: *rate})
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Targets []probe.Result `json:"targets"`
		}{results}); err != nil {
			return exitError
		}
	} else {
		writeProbeTable(stdout, results)
	}
	if *failOn == "legacy" && acceptsBelow(results, minVersion.String()) {
		return exitViolation
	}
	return exitOK
}

// probeTarget names the probe target of a flow of an analyze report: its server when
// it spoke TLS over TCP, with the scheme that upgrades it when it did so by STARTTLS;
// "" when the probe cannot reach its TLS (another STARTTLS protocol, UDP, no TLS).
func probeTarget(f *report.Flow) string {
	if f.Class != "tls" || f.Transport != "tcp" {
		return ""
	}
	return probe.TargetFor(f.Server, f.StartTLS, f.AppProtocol)
}

// acceptsBelow reports whether a target accepted a version older than min.
func acceptsBelow(results []probe.Result, min string) bool {
	order := []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"}
	floor := slices.Index(order, min)
	for _, r := range results {
		for _, v := range r.Versions {
			if v.Accepted && slices.Index(order, v.Version) < floor {
				return true
			}
		}
	}
	return false
}

func writeProbeTable(w io.Writer, results []probe.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tACCEPTED\tCIPHERS\tCLIENT CERT\tLEAF EXPIRES\tERROR")
	for _, r := range results {
		var acc, ciphers []string
		for _, v := range r.Versions {
			if v.Accepted {
				acc = append(acc, v.Version)
				ciphers = append(ciphers, v.Version+"="+v.Cipher)
			}
		}
		expires := ""
		if r.Leaf != nil {
			expires = r.Leaf.NotAfter.Format(time.DateOnly)
			if r.Leaf.Expired {
				expires += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Target, strings.Join(acc, ","), strings.Join(ciphers, " "),
			r.ClientCert, expires, r.Error)
	}
	tw.Flush()
}
