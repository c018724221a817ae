package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/config"
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

// Bounds of analyze. They are lower than the live agent's (flow.DefaultConfig), which
// has a node's memory to itself: a capture a user or a CI job hands over may be a
// flood, and with these bounds a million-flow flood stays under 256 MiB of peak RSS in
// every format (README, Bounds). Each has a flag that raises it.
const (
	analyzeMaxFlows    = 1 << 16  // ≈ 1 KiB of table state each
	analyzeMaxBuffered = 32 << 20 // handshake prefixes of all flows together
	analyzeMaxPairs    = 10_000   // ≈ 1 KiB of aggregates each
	// analyzeGCPercent lets the heap grow by half its live size between collections
	// instead of doubling (GOGC=100): the flow table and buffers are long-lived, so
	// the default would double the peak for garbage. An explicit GOGC wins.
	analyzeGCPercent = 50
	// flowStateBytes and pairStateBytes are what one tracked flow and one aggregated
	// pair may hold, with room to spare: about 900 bytes each were measured live
	// (GODEBUG=gctrace=1 over a SYN flood: 73 MB for 65,536 flows and 10,000 pairs).
	flowStateBytes = 1536
	pairStateBytes = 1536
	// runtimeOverheadBytes is the fixed part of analyze's memory: the runtime, the
	// decoder's and the report's buffers, what the garbage collector has not returned.
	runtimeOverheadBytes = 64 << 20
)

// analyzeMemoryLimit is the Go runtime's soft memory limit for analyze's bounds: what
// the flow table, the buffers and the pairs can hold at most, plus a fixed overhead,
// less what is resident outside the runtime's reach (the executable's own pages, see
// residentFileBytes) so that the whole process, not only its heap, stays within the
// bounds. The collector works harder as memory nears the limit, so peak RSS follows
// the bounds even when collection lags behind on a busy machine; an explicit
// GOMEMLIMIT wins.
func analyzeMemoryLimit(maxFlows, maxBuffered, maxPairs int, resident int64) int64 {
	bounds := int64(maxFlows)*flowStateBytes + int64(maxBuffered) + int64(maxPairs)*pairStateBytes
	return bounds + max(runtimeOverheadBytes-resident, runtimeOverheadBytes/2)
}

// residentFileBytes is how much of this process's resident set is file-backed (RssFile
// in /proc/self/status: mostly the executable's pages touched at start), 0 where that
// cannot be read.
func residentFileBytes() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
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
	maxFlows := fs.Int("max-flows", analyzeMaxFlows, "most flows tracked at once; the least recently seen is finished early past it (summary.limits_hit.flows_evicted)")
	maxBuf := fs.Int("max-buffered-bytes", analyzeMaxBuffered, "most bytes buffered by all flows together (summary.limits_hit.buffer_refused)")
	rawFingerprints := fs.Bool("raw-fingerprints", false, "add the strings behind the fingerprints to json/ndjson/csv flows: ja3_string, ja3s_string, ja4_r")
	maxPairs := fs.Int("max-pairs", analyzeMaxPairs, "most service pairs aggregated; flows of further pairs are folded into one pair \"(other)\" and counted in summary.flows_folded")
	maxReportFlows := fs.Int("max-report-flows", report.DefaultFlowLimit, "most flows listed in json/ndjson/csv output; the rest are counted in summary.flows_omitted (pairs and violations always count every flow)")
	configPath := fs.String("config", "", "policy config file, as for tlsaudit run (--internal-cidr and --min-tls override it when given)")
	namesPath := fs.String("names", "", "static names file (YAML: ip or cidr -> namespace, workload, service)")
	outputPath := fs.String("output", "", "write the report to this file instead of standard output")
	workers := fs.Int("workers", 0, "flow tables working in parallel, each on the flows a hash of their ends gives it, keeping the flow and buffer bounds together (default: the cores available, at most 4, for table, markdown and openmetrics; 1 for the formats that list flows, whose order would then change from run to run)")
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
	// Zero or less means the default, as in flow.Config.
	for _, b := range []struct {
		v   *int
		def int
	}{{maxFlows, analyzeMaxFlows}, {maxBuf, analyzeMaxBuffered}, {maxPairs, analyzeMaxPairs}} {
		if *b.v <= 0 {
			*b.v = b.def
		}
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(analyzeGCPercent))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(analyzeMemoryLimit(*maxFlows, *maxBuf, *maxPairs, residentFileBytes())))
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
	cfgSrc := config.Source{Path: *configPath, Names: *namesPath, Internal: internal}
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
	// Opened before reading: streamed formats write flows as they finish.
	out, err := openOutput(*outputPath, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit analyze: %v\n", err)
		return exitError
	}
	b := report.NewBuilder(pol, names)
	b.FlowLimit = 0 // the table lists pairs; flows are only counted
	b.PairLimit = *maxPairs
	var stream *report.Stream
	if report.Streaming(*format) {
		// Flows are written as they finish, so the report never holds them all.
		if stream, err = report.NewStream(out, *format); err != nil {
			out.finish(false)
			fmt.Fprintf(stderr, "tlsaudit analyze: %v\n", err)
			return exitError
		}
		b.FlowLimit = *maxReportFlows
		b.StreamTo(stream)
	}
	var sampler *report.Sampler // the flows the html format lists, bounded per pair
	if *format == "html" {
		sampler = report.NewSampler()
		b.OnFlow = sampler.Add
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
	tables := newTables(tcfg, sink, workersFor(*workers, *format))
	dec := capture.NewDecoder()
	var errs []string
	prog := newProgress(stderr, files)
	for _, path := range files {
		if err := tables.read(path, dec, prog.next(path)); err != nil {
			log.Error().Err(err).Str("file", path).Msg("read capture")
			errs = append(errs, err.Error())
		}
	}
	prog.finish()
	ts, ds := tables.flush(), dec.Stats()
	audit := b.Build(files, ds.Decoded, limitsHit(ts, ds), errs)
	warnIncomplete(log, &audit.Summary, stream != nil)
	switch {
	case openMetrics:
		h := export.TableHealth(ts)
		h.Packets = ds.Decoded
		exp.SetHealth(h)
		reg := prometheus.NewRegistry()
		reg.MustRegister(exp)
		err = export.WriteMetrics(out, reg, export.FormatOpenMetrics)
	case stream != nil:
		err = stream.Close(audit)
	case sampler != nil:
		err = report.WriteHTML(out, audit, sampler)
	default:
		err = report.Write(out, audit, *format)
	}
	if ferr := out.finish(err == nil); err == nil {
		err = ferr
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

// workersFor is --workers, or when it is not set the default for format: the cores
// but one (which reads the file ahead, capture's blockReader), at least one and at
// most maxDefaultWorkers, for the formats whose output does not depend on the
// order flows finish in (pairs, counts and violations are sorted and their samples
// chosen by time); one for those that list flows as they finish (json, ndjson, csv)
// or sample them (html), so that two runs over one capture write the same bytes
// unless more workers are asked for.
func workersFor(flag int, format string) int {
	if flag > 0 {
		return flag
	}
	switch format {
	case "table", "markdown", export.FormatOpenMetrics:
		return max(1, min(runtime.GOMAXPROCS(0)-1, maxDefaultWorkers))
	}
	return 1
}

// maxDefaultWorkers caps the default --workers: every worker decodes every record
// (capture.ReadFileParallel) and one goroutine reads, so past a few workers more
// cores only burn CPU.
const maxDefaultWorkers = 4

func validFormat(f string) bool {
	for _, x := range report.Formats {
		if x == f {
			return true
		}
	}
	return false
}

// warnIncomplete logs what the bounds and the capture kept from the report, so that the
// formats without a summary (ndjson, csv, openmetrics) say it too: the limits hit, the
// flows folded past the pair cap and, when flows are listed, those left out.
func warnIncomplete(log zerolog.Logger, s *report.Summary, listing bool) {
	omitted := 0
	if listing {
		omitted = s.FlowsOmitted
	}
	if len(s.Limits) == 0 && s.FlowsFolded == 0 && omitted == 0 {
		return
	}
	e := log.Warn()
	for _, k := range slices.Sorted(maps.Keys(s.Limits)) {
		e = e.Uint64(k, s.Limits[k])
	}
	e.Int("flows_folded", s.FlowsFolded).Int("flows_omitted", omitted).Msg("bounds hit: every flow is counted, but not every one in full")
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
