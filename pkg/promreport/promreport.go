// Package promreport builds the offline report of a live cluster from the metrics its
// agents export, through the Prometheus HTTP API: the same pairs, classes, TLS
// versions and violations that `tlsaudit analyze` reports for a capture, over a time
// range. Counters carry no per-flow details, so the report lists no flows, SNIs or
// protocols, and pairs have no transport. A Query is used once, by one goroutine.
package promreport

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// Query says what to ask Prometheus.
type Query struct {
	URL   string        // Prometheus base URL, e.g. http://prometheus:9090
	Range time.Duration // the window the report covers, ending at At
	At    time.Time     // end of the window; zero: now
	// MinTLSVersion is the policy minimum the report colours against ("TLS1.2").
	MinTLSVersion string
}

// Counts are the growth of the agents' counters over the window, per series: flows by
// pair, class and version, their bytes, and violating flows by kind and pair.
const (
	flowsQuery      = `sum by (src_namespace, src_workload, dst_namespace, dst_workload, dst_port, class, tls_version) (increase(tlsaudit_flows_total[%s]))`
	bytesQuery      = `sum by (src_namespace, src_workload, dst_namespace, dst_workload, dst_port, class, tls_version) (increase(tlsaudit_flow_bytes_total[%s]))`
	violationsQuery = `sum by (kind, src_namespace, src_workload, dst_namespace, dst_workload, dst_port) (increase(tlsaudit_violation_flows_total[%s]))`
)

// Build queries Prometheus and returns the audit with its sampler (internal shares,
// no flows). Prometheus' increase() extrapolates to the window's edges, so counts are
// rounded to whole flows and bytes.
func Build(ctx context.Context, q Query) (*report.Audit, *report.Sampler, error) {
	client, err := api.NewClient(api.Config{Address: q.URL})
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus client: %w", err)
	}
	at := q.At
	if at.IsZero() {
		at = time.Now()
	}
	win := model.Duration(q.Range).String()
	prom := v1.NewAPI(client)
	flows, err := vector(ctx, prom, fmt.Sprintf(flowsQuery, win), at)
	if err != nil {
		return nil, nil, err
	}
	bytes, err := vector(ctx, prom, fmt.Sprintf(bytesQuery, win), at)
	if err != nil {
		return nil, nil, err
	}
	viol, err := vector(ctx, prom, fmt.Sprintf(violationsQuery, win), at)
	if err != nil {
		return nil, nil, err
	}
	byLabels := map[model.Fingerprint]uint64{}
	for _, s := range bytes {
		byLabels[s.Metric.Fingerprint()] = whole(s.Value)
	}
	var rows []report.CounterRow
	for _, s := range flows {
		client, server, port := ends(s.Metric)
		class := string(s.Metric["class"])
		rows = append(rows, report.CounterRow{
			Client: client, Server: server, Port: port, Internal: internalEnds(s.Metric),
			Class: class, TLSVersion: string(s.Metric["tls_version"]),
			Flows: whole(s.Value), Bytes: byLabels[s.Metric.Fingerprint()],
		})
	}
	var vrows []report.ViolationRow
	for _, s := range viol {
		client, server, port := ends(s.Metric)
		vrows = append(vrows, report.ViolationRow{Kind: string(s.Metric["kind"]), Client: client, Server: server, Port: port, Flows: whole(s.Value)})
	}
	source := fmt.Sprintf("prometheus %s, %s to %s", q.URL, at.Add(-q.Range).UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	a, sampler := report.FromCounters(source, rows, vrows, q.MinTLSVersion)
	return a, sampler, nil
}

// vector runs an instant query that must return a vector.
func vector(ctx context.Context, prom v1.API, query string, at time.Time) (model.Vector, error) {
	v, _, _, err := prom.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: got %s, want a vector", query, v.Type())
	}
	return vec, nil
}

// ends names a series' client and server as the offline report does: namespace/
// workload, or the workload alone without a namespace.
func ends(m model.Metric) (client, server string, port uint16) {
	name := func(ns, wl model.LabelValue) string {
		if ns == "" {
			return string(wl)
		}
		return string(ns) + "/" + string(wl)
	}
	p, err := strconv.ParseUint(string(m["dst_port"]), 10, 16)
	if err != nil {
		p = 0 // no port: a series folded by the agent's cap, or a label not ours
	}
	return name(m["src_namespace"], m["src_workload"]), name(m["dst_namespace"], m["dst_workload"]), uint16(p)
}

// internalEnds: the agents name an end outside the internal ranges workload
// "external" (an unnamed internal one is "unknown").
func internalEnds(m model.Metric) bool {
	return m["src_workload"] != export.WorkloadExternal && m["dst_workload"] != export.WorkloadExternal
}

// whole rounds a counter increase to a whole number; NaN and negatives are zero.
func whole(v model.SampleValue) uint64 {
	f := float64(v)
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return uint64(math.Round(f))
}
