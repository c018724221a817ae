package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/agent"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// prefixList is a repeatable CIDR flag.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return err
		}
		*p = append(*p, pfx.Masked())
	}
	return nil
}

// failOnKinds maps --fail-on to the violation kinds that fail the run. "legacy" includes
// plaintext: what is worse than legacy TLS fails too.
var failOnKinds = map[string][]string{
	"none":      nil,
	"plaintext": {policy.KindPlaintext},
	"legacy":    {policy.KindPlaintext, policy.KindLegacyTLS},
	"any":       policy.Kinds,
}

func analyze(args []string, stdout, stderr io.Writer, log zerolog.Logger) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output format: "+strings.Join(report.Formats, ", ")+", or "+export.FormatOpenMetrics+" (the agent's metric families over the capture)")
	failOn := fs.String("fail-on", "none", "exit 1 when internal pairs are: plaintext, legacy (plaintext or TLS below --min-tls), any (every violation kind, require_tls13 and require_mtls of --config included), or none")
	minTLS := fs.String("min-tls", "TLS1.2", "lowest acceptable TLS version")
	var internal prefixList
	fs.Var(&internal, "internal-cidr", "internal (east-west) range, repeatable or comma-separated (default: RFC 1918, 100.64.0.0/10, fc00::/7)")
	prefix := fs.Int("prefix-bytes", flow.DefaultConfig.PrefixBytes, "bytes of each direction kept for classification")
	maxFlows := fs.Int("max-flows", flow.DefaultConfig.MaxFlows, "most flows tracked at once; the oldest is finished early past it")
	maxBuf := fs.Int("max-buffered-bytes", flow.DefaultConfig.MaxBufferedBytes, "most bytes buffered by all flows together")
	rawFingerprints := fs.Bool("raw-fingerprints", false, "add the strings behind the fingerprints to json/ndjson/csv flows: ja3_string, ja3s_string, ja4_r")
	maxReportFlows := fs.Int("max-report-flows", report.DefaultFlowLimit, "most flows listed in json/ndjson/csv output; the rest are counted in summary.flows_omitted (pairs and violations always count every flow)")
	configPath := fs.String("config", "", "policy config file, as for tlsaudit run (--internal-cidr and --min-tls override it when given)")
	namesPath := fs.String("names", "", "static names file (YAML: ip or cidr -> namespace, workload, service)")
	snapshotPath := fs.String("k8s-snapshot", "", "kubectl get pods,services,endpointslices,replicasets,jobs,nodes -A -o json output: names ends by pod, workload and service (the --names file applies on top)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tlsaudit analyze [flags] FILE...\n\nExit codes: 0 ok, 1 violations of the --fail-on kind found, 2 usage or input error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	kinds, ok := failOnKinds[*failOn]
	if !ok {
		fmt.Fprintf(stderr, "tlsaudit analyze: --fail-on must be plaintext, legacy, any or none, not %q\n", *failOn)
		return exitError
	}
	openMetrics := *format == export.FormatOpenMetrics
	if !openMetrics && !validFormat(*format) {
		fmt.Fprintf(stderr, "tlsaudit analyze: --format must be one of %s, %s, not %q\n", strings.Join(report.Formats, ", "), export.FormatOpenMetrics, *format)
		return exitError
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return exitError
	}
	minSet := false
	fs.Visit(func(f *flag.Flag) { minSet = minSet || f.Name == "min-tls" })
	cfgSrc := agent.ConfigSource{Path: *configPath, Names: *namesPath, Internal: internal}
	if minSet || *configPath == "" {
		v, err := policy.ParseVersion(*minTLS)
		if err != nil {
			fmt.Fprintf(stderr, "tlsaudit analyze: --min-tls: %v\n", err)
			return exitError
		}
		cfgSrc.MinVersion = v
	}
	cfg, err := cfgSrc.Load()
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit analyze: %v\n", err)
		return exitError
	}
	pol := cfg.Policy

	names := identity.Layered{cfg.Names}
	if *snapshotPath != "" {
		cluster, err := identity.LoadSnapshot(*snapshotPath)
		if err != nil {
			fmt.Fprintf(stderr, "tlsaudit analyze: %v\n", err)
			return exitError
		}
		names = append(names, cluster)
	}
	b := report.NewBuilder(pol, names)
	switch *format {
	case "json", "ndjson", "csv":
		b.FlowLimit = *maxReportFlows
	default:
		b.FlowLimit = 0 // the table lists pairs; flows are only counted
	}
	tcfg := flow.Config{PrefixBytes: *prefix, MaxFlows: *maxFlows, MaxBufferedBytes: *maxBuf, RawFingerprints: *rawFingerprints}
	sink := b.Add
	var exp *export.Exporter
	if openMetrics {
		ver, rev := buildVersion()
		exp = export.New(export.Options{Policy: pol, Names: names, Version: ver, Revision: rev})
		tcfg.OnDecide = exp.Decided
		sink = func(r *flow.Record) {
			exp.Finished(r)
			b.Add(r)
		}
	}
	table := flow.New(tcfg, sink)
	dec := capture.NewDecoder()
	var errs []string
	var pkt flow.Packet
	for _, path := range files {
		if err := capture.ReadFile(path, dec, &pkt, table.Add); err != nil {
			log.Error().Err(err).Str("file", path).Msg("read capture")
			errs = append(errs, err.Error())
		}
	}
	table.Flush()
	ts, ds := table.Stats(), dec.Stats()
	audit := b.Build(files, ds.Decoded, limitsHit(ts, ds), errs)
	if openMetrics {
		h := export.TableHealth(ts)
		h.Packets = ds.Decoded
		exp.SetHealth(h)
		reg := prometheus.NewRegistry()
		reg.MustRegister(exp)
		err = export.WriteMetrics(stdout, reg, export.FormatOpenMetrics)
	} else {
		err = report.Write(stdout, audit, *format)
	}
	if err != nil {
		log.Error().Err(err).Msg("write report")
		return exitError
	}
	switch {
	case len(errs) > 0:
		return exitError
	case audit.HasViolation(kinds...):
		return exitViolation
	}
	return exitOK
}

func validFormat(f string) bool {
	for _, x := range report.Formats {
		if x == f {
			return true
		}
	}
	return false
}

// limitsHit lists every bound that was reached, so that a report never hides what it
// could not see.
func limitsHit(ts flow.Stats, ds capture.DecodeStats) map[string]uint64 {
	m := map[string]uint64{}
	add := func(k string, v uint64) {
		if v > 0 {
			m[k] = v
		}
	}
	add("flows_evicted", ts.Evicted)
	add("buffer_refused", ts.BufferRefused)
	add("out_of_order_dropped", ts.OutOfOrderDrops)
	add("snapped_payloads", ts.SnappedPayloads)
	add("ip_fragments_skipped", ds.Fragments)
	add("malformed_frames", ds.Malformed)
	add("unknown_link_frames", ds.UnknownLink)
	return m
}
