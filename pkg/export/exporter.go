package export

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// Options configure an Exporter.
type Options struct {
	Policy *policy.Policy    // nil means policy.Default()
	Names  identity.Resolver // may be nil: no names
	// Violations hears of violating flows (an Alerter); may be nil.
	Violations ViolationSink
	// Version and Revision label tlsaudit_build_info.
	Version, Revision string
	// Now is the clock that dates exemptions; nil means time.Now.
	Now func() time.Time
}

// Exporter mirrors flow verdicts into metric state and exposes it at scrape time.
type Exporter struct {
	mu         sync.Mutex
	pol        *policy.Policy
	names      identity.Resolver
	sink       ViolationSink
	now        func() time.Time
	flows      map[flowSeries]*flowCount
	violations map[Pair]uint64
	overflow   uint64
	live       map[flow.Key]*liveFlow
	health     Health
	reloadSet  bool
	reloadOK   bool
	reloadAt   time.Time
	build      []string
	probes     probeState
}

type flowSeries struct {
	src, dst       End
	dstPort        string
	class, version string
}

type flowCount struct{ flows, bytes uint64 }

// liveFlow is a flow counted at its verdict and not yet finished.
type liveFlow struct {
	series    flowSeries
	credited  uint64 // bytes already added to its series
	violation *Violation
}

// New returns an Exporter with no flows counted.
func New(o Options) *Exporter {
	if o.Policy == nil {
		o.Policy = policy.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Exporter{
		pol: o.Policy, names: o.Names, sink: o.Violations, now: o.Now,
		flows: map[flowSeries]*flowCount{}, violations: map[Pair]uint64{}, live: map[flow.Key]*liveFlow{},
		health: Health{Drops: map[string]uint64{}, ClassifyErrors: map[string]uint64{}},
		build:  []string{o.Version, o.Revision, runtime.Version()},
	}
}

// SetPolicy swaps in a new policy for the flows decided from now on. A lower series
// cap does not remove series that exist.
func (e *Exporter) SetPolicy(p *policy.Policy) {
	e.mu.Lock()
	e.pol = p
	e.mu.Unlock()
}

// SetNames swaps in a new identity source for the flows decided from now on.
func (e *Exporter) SetNames(m identity.Resolver) {
	e.mu.Lock()
	e.names = m
	e.mu.Unlock()
}

// SetReloadStatus records the outcome of the last config (re)load: whether it
// succeeded, and when a load last succeeded. Until it is first called the two
// tlsaudit_config_* gauges are not exported (an offline run has no reloads).
func (e *Exporter) SetReloadStatus(ok bool, lastSuccess time.Time) {
	e.mu.Lock()
	e.reloadSet, e.reloadOK, e.reloadAt = true, ok, lastSuccess
	e.mu.Unlock()
}

// SetHealth replaces the engine health snapshot.
func (e *Exporter) SetHealth(h Health) {
	h = h.clone()
	e.mu.Lock()
	e.health = h
	e.mu.Unlock()
}

// Decided counts a flow whose verdict was just reached, with the bytes seen so far.
// Wire it to flow.Config.OnDecide. The record is only read during the call.
func (e *Exporter) Decided(r *flow.Record) {
	e.mu.Lock()
	v := e.decideLocked(r)
	sink := e.sink
	e.mu.Unlock()
	if v != nil && sink != nil {
		sink.Open(v)
	}
}

func (e *Exporter) decideLocked(r *flow.Record) *Violation {
	pol, names := e.pol, e.names
	src := nameEnd(r.Client, r.FirstSeen, names, pol)
	src.Service = "" // a label of the server end only
	dst := nameEnd(r.Server, r.FirstSeen, names, pol)
	s := flowSeries{src: src, dst: dst, dstPort: strconv.Itoa(int(r.Server.Port())),
		class: r.Verdict.Class.String(), version: versionLabel(r.Verdict.Version)}
	folded := false
	if _, ok := e.flows[s]; !ok && len(e.flows) >= pol.SeriesCap {
		s.src, s.dst, s.dstPort = End{Workload: WorkloadOther}, End{Workload: WorkloadOther}, ""
		// The folded series live beside the cap: at most one per class and version.
		folded = true
	}
	c := e.flows[s]
	if c == nil {
		c = &flowCount{}
		e.flows[s] = c
	}
	c.flows++
	c.bytes += r.Bytes()
	lf := &liveFlow{series: s, credited: r.Bytes()}
	if old := e.live[r.Key]; old != nil && old.violation != nil && e.sink != nil {
		// Not finished through Finished (should not happen): close what it opened.
		defer e.sink.Close(old.violation)
	}
	e.live[r.Key] = lf

	ends := policy.Ends{Client: r.Client.Addr(), Server: r.Server.Addr(), ServerPort: r.Server.Port(),
		ClientNamespace: src.Namespace, ServerNamespace: dst.Namespace}
	kind, _ := pol.Judge(ends, &r.Verdict, e.now())
	if kind == "" {
		if folded {
			e.overflow++
		}
		return nil
	}
	v := &Violation{
		Kind: kind, Src: src, Dst: dst, DstPort: r.Server.Port(), Transport: r.Transport(),
		Client: r.Client, Server: r.Server, SNI: r.Verdict.SNI, TLSVersion: r.Verdict.Version.String(),
		AppProtocol: appProtocol(&r.Verdict), FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
	}
	p := v.Pair()
	if _, ok := e.violations[p]; !ok && len(e.violations) >= pol.SeriesCap {
		p.Src, p.Dst, p.DstPort = End{Workload: WorkloadOther}, End{Workload: WorkloadOther}, ""
		folded = true
	}
	e.violations[p]++
	if folded {
		e.overflow++
	}
	lf.violation = v
	return v
}

// versionLabel keeps tls_version to its small fixed set: a version with no name
// (an unassigned code point) is "other".
func versionLabel(v classify.Version) string {
	s := v.String()
	if strings.HasPrefix(s, "0x") {
		return "other"
	}
	return s
}

func appProtocol(v *classify.Verdict) string {
	if v.App != classify.AppNone {
		return v.App.String()
	}
	return v.AppOther
}

// Finished adds the bytes of a flow that ended beyond those already counted, and
// forgets it. Wire it to the flow table's sink; call FlowBytes first when a kernel
// counts the flow's bytes. A flow Decided never saw is counted here.
func (e *Exporter) Finished(r *flow.Record) {
	e.mu.Lock()
	lf := e.live[r.Key]
	var opened *Violation
	if lf == nil {
		opened = e.decideLocked(r)
		lf = e.live[r.Key]
	}
	if b := r.Bytes(); b > lf.credited {
		e.flows[lf.series].bytes += b - lf.credited
	}
	delete(e.live, r.Key)
	sink := e.sink
	e.mu.Unlock()
	if lf.violation != nil && sink != nil {
		if opened != nil {
			sink.Open(opened)
		}
		sink.Close(lf.violation)
	}
}

// FlowBytes raises a live flow's byte count to bytes, the total a kernel counter
// knows for it; bytes already counted are not counted again. Unknown flows are
// ignored.
func (e *Exporter) FlowBytes(k flow.Key, bytes uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if lf := e.live[k]; lf != nil && bytes > lf.credited {
		e.flows[lf.series].bytes += bytes - lf.credited
		lf.credited = bytes
	}
}

// FlowCounter is a source of per-flow byte counters, such as the eBPF engine's
// flow map (capture.EBPF).
type FlowCounter interface {
	FlowCounters(k flow.Key) (packets, bytes uint64, ok bool)
}

// RefreshBytes asks src for the bytes of every live flow and adds what is new. The
// lookups run without holding the Exporter's lock.
func (e *Exporter) RefreshBytes(src FlowCounter) {
	e.mu.Lock()
	keys := make([]flow.Key, 0, len(e.live))
	for k := range e.live {
		keys = append(keys, k)
	}
	e.mu.Unlock()
	for _, k := range keys {
		if _, b, ok := src.FlowCounters(k); ok {
			e.FlowBytes(k, b)
		}
	}
}

// LiveFlows is the number of flows counted and not yet finished.
func (e *Exporter) LiveFlows() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.live)
}

var (
	flowLabels      = []string{"src_namespace", "src_workload", "dst_namespace", "dst_workload", "dst_service", "dst_port", "class", "tls_version"}
	violationLabels = []string{"kind", "src_namespace", "src_workload", "dst_namespace", "dst_workload", "dst_service", "dst_port"}

	descFlows = prometheus.NewDesc("tlsaudit_flows_total",
		"Flows classified, counted once when their verdict is reached, by service pair, class and negotiated TLS version.", flowLabels, nil)
	descFlowBytes = prometheus.NewDesc("tlsaudit_flow_bytes_total",
		"IP bytes of classified flows in both directions, added as they become known.", flowLabels, nil)
	descViolations = prometheus.NewDesc("tlsaudit_violation_flows_total",
		"Internal flows that break the policy (plaintext, or TLS below the minimum) and are not exempt, by kind and service pair.", violationLabels, nil)
	descOverflow = prometheus.NewDesc("tlsaudit_series_overflow_total",
		"Flows whose labels were folded into workload \"other\" because the series cap was reached.", nil, nil)
	descPackets = prometheus.NewDesc("tlsaudit_packets_total",
		"Packets seen by the capture.", nil, nil)
	descDrops = prometheus.NewDesc("tlsaudit_capture_drops_total",
		"Packets the capture missed, by reason.", []string{"reason"}, nil)
	descTableFlows = prometheus.NewDesc("tlsaudit_flow_table_flows",
		"Flows tracked by the flow table now.", nil, nil)
	descEvictions = prometheus.NewDesc("tlsaudit_flow_table_evictions_total",
		"Flows finished early because the flow table was full.", nil, nil)
	descClassifyErrors = prometheus.NewDesc("tlsaudit_classify_errors_total",
		"Parse errors met while classifying flows, by reason.", []string{"reason"}, nil)
	descEventsLost = prometheus.NewDesc("tlsaudit_events_lost_total",
		"Packet copies meant for the classifier that never reached it.", nil, nil)
	descBuildInfo = prometheus.NewDesc("tlsaudit_build_info",
		"Always 1; the labels say which build runs.", []string{"version", "revision", "goversion"}, nil)
	descReloadOK = prometheus.NewDesc("tlsaudit_config_last_reload_successful",
		"Whether the last configuration load succeeded (1) or failed and the previous configuration stayed (0).", nil, nil)
	descReloadAt = prometheus.NewDesc("tlsaudit_config_last_reload_success_timestamp_seconds",
		"Unix time of the last successful configuration load.", nil, nil)
)

// Describe sends every metric family the Exporter has.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFlows, descFlowBytes, descViolations, descOverflow, descPackets, descDrops,
		descTableFlows, descEvictions, descClassifyErrors, descEventsLost, descBuildInfo, descReloadOK, descReloadAt} {
		ch <- d
	}
	for _, d := range probeDescs {
		ch <- d
	}
}

// Collect builds the metrics from the state at this moment.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s, c := range e.flows {
		lv := []string{s.src.Namespace, s.src.Workload, s.dst.Namespace, s.dst.Workload, s.dst.Service, s.dstPort, s.class, s.version}
		ch <- prometheus.MustNewConstMetric(descFlows, prometheus.CounterValue, float64(c.flows), lv...)
		ch <- prometheus.MustNewConstMetric(descFlowBytes, prometheus.CounterValue, float64(c.bytes), lv...)
	}
	for p, n := range e.violations {
		ch <- prometheus.MustNewConstMetric(descViolations, prometheus.CounterValue, float64(n),
			p.Kind, p.Src.Namespace, p.Src.Workload, p.Dst.Namespace, p.Dst.Workload, p.Dst.Service, p.DstPort)
	}
	ch <- prometheus.MustNewConstMetric(descOverflow, prometheus.CounterValue, float64(e.overflow))
	h := &e.health
	ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(h.Packets))
	for _, r := range sortedKeys(h.Drops, DropReasons) {
		ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue, float64(h.Drops[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descTableFlows, prometheus.GaugeValue, float64(h.FlowTableFlows))
	ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(h.Evictions))
	for _, r := range sortedKeys(h.ClassifyErrors, nil) {
		ch <- prometheus.MustNewConstMetric(descClassifyErrors, prometheus.CounterValue, float64(h.ClassifyErrors[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descEventsLost, prometheus.CounterValue, float64(h.EventsLost))
	ch <- prometheus.MustNewConstMetric(descBuildInfo, prometheus.GaugeValue, 1, e.build...)
	if e.reloadSet {
		ok := 0.0
		if e.reloadOK {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(descReloadOK, prometheus.GaugeValue, ok)
		ch <- prometheus.MustNewConstMetric(descReloadAt, prometheus.GaugeValue, float64(e.reloadAt.UnixNano())/1e9)
	}
	e.collectProbes(ch)
}

// sortedKeys returns the keys of m together with always, sorted.
func sortedKeys(m map[string]uint64, always []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range always {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k := range m {
		if !seen[k] && k != "" {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
