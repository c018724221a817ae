package dashboard

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statushistory"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UID and Title identify the dashboard in Grafana. The UID is fixed so that importing
// a newer file replaces the older copy and links to it keep working.
const (
	UID   = "tlsaudit"
	Title = "tlsaudit — internal encryption"
)

// Metric families the dashboard reads (pkg/export, pkg/identity, and the Go and
// process collectors the agent registers). The tests check every name an
// expression uses against what the collectors describe.
const (
	mFlows         = "tlsaudit_flows_total"
	mFlowBytes     = "tlsaudit_flow_bytes_total"
	mViolations    = "tlsaudit_violation_flows_total"
	mOverflow      = "tlsaudit_series_overflow_total"
	mPackets       = "tlsaudit_packets_total"
	mDrops         = "tlsaudit_capture_drops_total"
	mTableFlows    = "tlsaudit_flow_table_flows"
	mEvictions     = "tlsaudit_flow_table_evictions_total"
	mClassifyErrs  = "tlsaudit_classify_errors_total"
	mEventsLost    = "tlsaudit_events_lost_total"
	mBuildInfo     = "tlsaudit_build_info"
	mReloadOK      = "tlsaudit_config_last_reload_successful"
	mSynced        = "tlsaudit_kube_informer_synced"
	mReachable     = "tlsaudit_kube_api_reachable"
	mWatchErrors   = "tlsaudit_kube_watch_errors_total"
	mPodAddrs      = "tlsaudit_kube_pod_addresses"
	mProbeLegacy   = "tlsaudit_probe_legacy_version_accepted"
	mProbeVersion  = "tlsaudit_probe_version_accepted"
	mProbeFallback = "tlsaudit_probe_fallback_scsv"
	mProbeExpiry   = "tlsaudit_probe_leaf_expiry_timestamp_seconds"
	mProbeErrors   = "tlsaudit_probe_errors_total"
	mProcessCPU    = "process_cpu_seconds_total"
	mProcessMemory = "process_resident_memory_bytes"
)

// Label matchers shared by the queries. instance is the scrape target: one agent,
// so one node, of the DaemonSet. External ends are workload "external" (pkg/export
// WorkloadExternal), so "internal" keeps pairs with neither end outside.
const (
	onInstance = `instance=~"$instance"`
	onPair     = `src_namespace=~"$src_namespace", dst_namespace=~"$dst_namespace", ` + onInstance
	internal   = `src_workload!="external", dst_workload!="external"`
	pairLabels = "src_namespace, src_workload, dst_namespace, dst_workload"
	// encrypted are the classes with positive evidence of encryption
	// (classify.Class names); plaintext and unknown are the others.
	encrypted = `class=~"tls|ssh|encrypted"`
)

// TLS versions as the tls_version label spells them (classify.Version.String),
// split where the matrix ranks them: below TLS 1.2 (the default min_tls_version,
// DTLS 1.0 being TLS 1.1), and TLS 1.3. The rest of class "tls" is TLS 1.2, DTLS
// 1.2, a version the handshake did not show ("") or an unnamed code point ("other").
const (
	legacyVersions = "SSL2|SSL3|TLS1.0|TLS1.1|DTLS1.0"
	modernVersions = "TLS1.3|DTLS1.3"
)

// sel writes a selector of metric with matchers.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ", ") + "}"
}

// seen is the series of counter selector s that counted something in the dashboard's
// range: they grew in it, or were born in it (a series born at 1 shows no increase).
// It is the test the alert rules in deploy/prometheus make over 10 minutes.
func seen(s string) string {
	return "increase(" + s + "[$__range]) > 0 or (" + s + " unless " + s + " offset $__range)"
}

// rank is one colour of the service-pair matrix: the pairs that had a flow of one of
// its series in the range get its value.
type rank struct {
	value       int
	text, color string
	series      []string
}

// ranks run from the weakest encryption to the strongest, and the matrix shows each
// pair's weakest: plaintext; TLS below TLS 1.2 or below the agent's min_tls_version
// (which only the violation counter knows: kind legacy_tls); TLS 1.2 or a TLS version
// not seen; TLS 1.3, SSH and other proven encryption. Unknown ranks last, so that a
// single unclassified flow does not hide what the pair's other flows proved: a pair is
// "unknown" only when nothing else was seen, and the matrix counts unknown flows in a
// column of their own.
var ranks = []rank{
	{5, "plaintext", "red", []string{sel(mFlows, `class="plaintext"`, onPair)}},
	{4, "TLS below minimum", "orange", []string{
		sel(mFlows, `class="tls"`, `tls_version=~"`+legacyVersions+`"`, onPair),
		sel(mViolations, `kind="legacy_tls"`, onPair),
	}},
	{3, "TLS 1.2 / version unseen", "yellow", []string{
		sel(mFlows, `class="tls"`, `tls_version!~"`+legacyVersions+"|"+modernVersions+`"`, onPair),
	}},
	{2, "TLS 1.3 / SSH / other encryption", "green", []string{
		sel(mFlows, `class="tls"`, `tls_version=~"`+modernVersions+`"`, onPair),
		sel(mFlows, `class=~"ssh|encrypted"`, onPair),
	}},
	{1, "unknown only", "blue", []string{sel(mFlows, `class="unknown"`, onPair)}},
}

// rankExpr is each pair's weakest rank in the range. Each term is its weight times
// `group by (pair)`, which is 1 for every pair seen in that rank; the terms share
// their label set, so `or`, which keeps its left-hand side where both have a pair,
// joins them weakest first into the maximum, as `max by (pair)` over the terms would.
func rankExpr() string {
	terms := make([]string, 0, len(ranks))
	for _, r := range ranks {
		parts := make([]string, 0, len(r.series))
		for _, s := range r.series {
			parts = append(parts, seen(s))
		}
		terms = append(terms, fmt.Sprintf("%d * group by (%s) (\n  %s\n)", r.value, pairLabels, strings.Join(parts, "\n  or\n  ")))
	}
	return strings.Join(terms, "\nor\n")
}

// ds is every query's data source: the dashboard's datasource variable.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

func rangeQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds).RefId(ref).Expr(expr).LegendFormat(legend).Range()
}

// instantQuery is evaluated once, at the end of the range; legend may be empty.
func instantQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().Datasource(ds).RefId(ref).Expr(expr).Instant()
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

func tableQuery(ref, expr string) *prometheus.DataqueryBuilder {
	return instantQuery(ref, expr, "").Format(prometheus.PromQueryFormatTable)
}

// panels numbers the panels in the order they are made, so ids are stable.
type panels struct{ n uint32 }

func (p *panels) id() uint32 {
	p.n++
	return p.n
}

func (p *panels) row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Id(p.id())
}

// series is a time series panel of one unit, a legend as a table and a shared
// tooltip, the queries being ranges over the dashboard's time.
func (p *panels) series(title, description, unit string, w, h uint32, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().Id(p.id()).Title(title).Description(description).Datasource(ds).
		Unit(unit).Min(0).Span(w).Height(h).FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).ShowLegend(true).Calcs([]string{"mean", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	for _, q := range queries {
		b.WithTarget(q)
	}
	return b
}

func (p *panels) stat(title, description, unit string, w, h uint32, q *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Id(p.id()).Title(title).Description(description).Datasource(ds).
		Unit(unit).Span(w).Height(h).WithTarget(q).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeBackground).
		Orientation(common.VizOrientationAuto)
}

// states is a status history panel of 0/1 gauges: 1 is good, 0 is bad.
func (p *panels) states(title, description, good, bad string, w, h uint32, q *prometheus.DataqueryBuilder) *statushistory.PanelBuilder {
	return statushistory.NewPanelBuilder().Id(p.id()).Title(title).Description(description).Datasource(ds).
		Span(w).Height(h).WithTarget(q).ShowValue(common.VisibilityModeNever).
		Mappings([]dashboard.ValueMapping{valueMap(map[string][2]string{"1": {good, "green"}, "0": {bad, "red"}})})
}

// valueMap maps values to [text, colour].
func valueMap(m map[string][2]string) dashboard.ValueMapping {
	v := dashboard.NewValueMap()
	for value, tc := range m {
		v.Options[value] = dashboard.ValueMappingResult{Text: cog.ToPtr(tc[0]), Color: cog.ToPtr(tc[1])}
	}
	return dashboard.ValueMapping{ValueMap: v}
}

// step is a threshold: from value at on, colour.
type step struct {
	at    float64
	color string
}

// thresholds colours values base below the first step.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	t := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		t = append(t, dashboard.Threshold{Value: cog.ToPtr(s.at), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(t)
}

// matrix is the service-pair encryption matrix: one row per source and destination
// workload, coloured by the weakest rank seen in the range.
//
// It is a table, not a heatmap or a grid of cells: a heatmap's axes are numeric
// buckets or time, and Grafana has no categorical x×y panel without a plugin. A table
// of pairs gives the same source × destination reading, sorts weakest first, filters
// and scales to many pairs, and each cell can say in words what its colour means.
func (p *panels) matrix() *table.PanelBuilder {
	unknown := sel(mFlows, `class="unknown"`, onPair)
	mapping := map[string][2]string{}
	for _, r := range ranks {
		mapping[strconv.Itoa(r.value)] = [2]string{r.text, r.color}
	}
	cols := []string{"src_namespace", "src_workload", "dst_namespace", "dst_workload", "Value #A", "Value #B", "Value #C"}
	names := []string{"Source namespace", "Source workload", "Destination namespace", "Destination workload", "Weakest class", "Unknown flows", "Flows"}
	index, rename := map[string]any{}, map[string]any{}
	for i, c := range cols {
		index[c], rename[c] = i, names[i]
	}
	return table.NewPanelBuilder().Id(p.id()).Title("Service-pair encryption matrix").
		Description("Each source and destination workload pair with a flow in the dashboard's range, coloured by the weakest "+
			"encryption seen: plaintext, TLS below the minimum (below TLS 1.2, or below the agent's min_tls_version), "+
			"TLS 1.2 or a TLS version the handshake did not show, TLS 1.3/SSH/other encryption. A pair is \"unknown only\" when "+
			"no flow of it was classified; unknown flows are counted apart. External ends are workload \"external\"; "+
			"ends the identity source does not name are \"unknown\".").
		Datasource(ds).Span(24).Height(14).
		WithTarget(tableQuery("A", rankExpr())).
		WithTarget(tableQuery("B", "sum by ("+pairLabels+") (increase("+unknown+"[$__range])) > 0")).
		WithTarget(tableQuery("C", "sum by ("+pairLabels+") (increase("+sel(mFlows, onPair)+"[$__range])) > 0")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"indexByName":   index,
			"renameByName":  rename,
		}}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Weakest class").Desc(true)}).
		Filterable(true).Footer(noFooter()).
		OverrideByName("Weakest class", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(mapping)}},
			{Id: "custom.cellOptions", Value: common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}},
			{Id: "custom.width", Value: 260},
		}).
		OverrideByRegexp("^(Unknown flows|Flows)$", []dashboard.DynamicConfigValue{
			{Id: "decimals", Value: 0},
			{Id: "custom.width", Value: 130},
		})
}

// noFooter hides a table's footer; the SDK's default has no reducer list, which
// Grafana expects.
func noFooter() *common.TableFooterOptionsBuilder {
	return common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false)
}

func (p *panels) agents() *table.PanelBuilder {
	return table.NewPanelBuilder().Id(p.id()).Title("Agents").
		Description("One row per agent (scrape target): the build it runs.").
		Datasource(ds).Span(12).Height(8).Footer(noFooter()).
		WithTarget(tableQuery("A", "max by (instance, version, revision, goversion) ("+sel(mBuildInfo, onInstance)+")")).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value": true},
			"indexByName":   map[string]any{"instance": 0, "version": 1, "revision": 2, "goversion": 3},
		}})
}

// probedServers lists every server of the last probe rounds with each TLS version it
// accepted, and the days its leaf certificate has left.
func (p *panels) probedServers(probed string) []*table.PanelBuilder {
	byServer := "server_namespace, server_workload, server"
	excludeTime := dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": map[string]any{"Time": true, "Value": true},
	}}
	versions := table.NewPanelBuilder().Id(p.id()).Title("Versions probed servers accept").
		Description("One row per probed server and TLS version it accepted in its last probe. Needs the agent's probe " +
			"(--probe-interval).").
		Datasource(ds).Span(12).Height(10).Footer(noFooter()).Filterable(true).
		WithTarget(tableQuery("A", "max by ("+byServer+", version) ("+sel(mProbeVersion, probed)+" == 1)")).
		WithTransformation(excludeTime)
	expiry := table.NewPanelBuilder().Id(p.id()).Title("Leaf certificates of probed servers").
		Description("Days left before the leaf certificate each probed server presented expires.").
		Datasource(ds).Span(12).Height(10).Footer(noFooter()).Filterable(true).Unit("d").Decimals(1).
		WithTarget(tableQuery("A", "min by ("+byServer+") ("+sel(mProbeExpiry, probed)+" - time()) / 86400")).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Value")})
	return []*table.PanelBuilder{versions, expiry}
}

// build assembles the dashboard.
func build() *dashboard.DashboardBuilder {
	var p panels
	rate := func(s string) string { return "rate(" + s + "[$__rate_interval])" }
	perInstance := func(s string) string { return "sum by (instance) (" + rate(s) + ")" }
	// Process metrics are every target's: keep the tlsaudit agents'.
	agentsOnly := " and on (job, instance) " + sel(mBuildInfo, onInstance)
	internalBytes := sel(mFlowBytes, internal, onPair)
	encryptedBytes := sel(mFlowBytes, encrypted, internal, onPair)

	d := dashboard.NewDashboardBuilder(Title).Uid(UID).
		Description("Which internal service pairs talk in plaintext or weak TLS, how much internal traffic is encrypted, "+
			"and whether the tlsaudit agents see all of it. Generated by internal/dashboard (make dashboard).").
		Tags([]string{"tlsaudit", "security", "tls"}).
		Editable().Refresh("1m").Time("now-6h", "now").Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(labelVariable("instance", "Agent", sel(mBuildInfo), "instance")).
		WithVariable(labelVariable("src_namespace", "Source namespace", sel(mFlows, onInstance), "src_namespace")).
		WithVariable(labelVariable("dst_namespace", "Destination namespace", sel(mFlows, onInstance), "dst_namespace"))

	d.WithRow(p.row("Overview")).
		WithPanel(p.stat("Internal bytes encrypted", "Share of the IP bytes of internal pairs (neither end external) in the range "+
			"that were TLS, SSH or other proven encryption. Plaintext and unknown bytes are the rest.", "percentunit", 8, 5,
			instantQuery("A", "sum(increase("+encryptedBytes+"[$__range])) / sum(increase("+internalBytes+"[$__range]))", "")).
			Decimals(2).Min(0).Max(1).Thresholds(thresholds("red", step{0.95, "orange"}, step{0.99, "green"}))).
		WithPanel(p.stat("Pairs in violation", "Service pairs (with port) that had a policy violation in the range, by kind: "+
			"internal plaintext, or TLS below the agent's min_tls_version, not exempt.", "short", 8, 5,
			instantQuery("A", "count by (kind) (group by (kind, "+pairLabels+", dst_port) ("+seen(sel(mViolations, onPair))+"))", "{{kind}}")).
			NoValue("0").TextMode(common.BigValueTextModeValueAndName).Thresholds(thresholds("green", step{1, "red"}))).
		WithPanel(p.stat("Agents", "Agents reporting now.", "short", 8, 5,
			instantQuery("A", "count("+sel(mBuildInfo, onInstance)+")", "")).
			NoValue("0").Thresholds(thresholds("red", step{1, "blue"})))

	d.WithRow(p.row("Service pairs")).WithPanel(p.matrix())

	d.WithRow(p.row("Violations and encrypted share")).
		WithPanel(p.series("Plaintext and legacy-TLS flows by namespace",
			"Internal flows that break the policy and are not exempt, by destination namespace and kind.", "suffix: flows/s", 12, 9,
			rangeQuery("A", "sum by (dst_namespace, kind) ("+rate(sel(mViolations, onPair))+")", "{{dst_namespace}} {{kind}}")).
			DrawStyle(common.GraphDrawStyleBars).Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))).
		WithPanel(p.series("Internal bytes encrypted over time",
			"Share of internal bytes that were TLS, SSH or other proven encryption.", "percentunit", 12, 9,
			rangeQuery("A", "sum("+rate(encryptedBytes)+") / sum("+rate(internalBytes)+")", "encrypted")).Max(1)).
		WithPanel(p.series("Internal bytes by class", "IP bytes of internal pairs, by class.", "Bps", 24, 8,
			rangeQuery("A", "sum by (class) ("+rate(internalBytes)+")", "{{class}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)))

	d.WithRow(p.row("Engine health")).
		WithPanel(p.series("Packets seen", "Packets the capture saw, per agent.", "pps", 8, 8,
			rangeQuery("A", perInstance(sel(mPackets, onInstance)), "{{instance}}"))).
		WithPanel(p.series("Capture drops by reason", "Packets the capture missed: ring buffer full and flow map full "+
			"(eBPF), socket (AF_PACKET). Flows it did not see are not audited.", "pps", 8, 8,
			rangeQuery("A", "sum by (instance, reason) ("+rate(sel(mDrops, onInstance))+")", "{{instance}} {{reason}}"))).
		WithPanel(p.series("Ring buffer and events lost", "Packets the eBPF ring buffer had no room for, and packet copies "+
			"that never reached the classifier.", "pps", 8, 8,
			rangeQuery("A", perInstance(sel(mDrops, `reason="ring_buffer_full"`, onInstance)), "{{instance}} ring buffer full"),
			rangeQuery("B", perInstance(sel(mEventsLost, onInstance)), "{{instance}} events lost"))).
		WithPanel(p.series("Flow table", "Flows tracked now, per agent.", "short", 8, 8,
			rangeQuery("A", "sum by (instance) ("+sel(mTableFlows, onInstance)+")", "{{instance}}"))).
		WithPanel(p.series("Flows evicted or folded", "Flows finished early because the flow table was full, and flows "+
			"folded into workload \"other\" by the series cap.", "suffix: flows/s", 8, 8,
			rangeQuery("A", perInstance(sel(mEvictions, onInstance)), "{{instance}} evicted"),
			rangeQuery("B", perInstance(sel(mOverflow, onInstance)), "{{instance}} folded"))).
		WithPanel(p.series("Classification errors by reason", "Parse errors met while classifying.", "suffix: errors/s", 8, 8,
			rangeQuery("A", "sum by (reason) ("+rate(sel(mClassifyErrs, onInstance))+")", "{{reason}}")))

	d.WithRow(p.row("Kubernetes identity")).
		WithPanel(p.states("Informers synced", "Whether each agent's informer of each resource has synced; names fall back "+
			"to the names file and addresses while not.", "synced", "not synced", 12, 9,
			rangeQuery("A", "min by (instance, resource) ("+sel(mSynced, onInstance)+")", "{{instance}} {{resource}}"))).
		WithPanel(p.states("API server reachable", "Whether the API server answered each agent's last probe.",
			"reachable", "unreachable", 12, 9,
			rangeQuery("A", "min by (instance) ("+sel(mReachable, onInstance)+")", "{{instance}}"))).
		WithPanel(p.series("Watch errors", "Failed list and watch calls to the API server.", "suffix: errors/s", 12, 8,
			rangeQuery("A", perInstance(sel(mWatchErrors, onInstance)), "{{instance}}"))).
		WithPanel(p.series("Pod addresses indexed", "Pod addresses each agent's identity index holds, with the lifetimes of "+
			"recently deleted pods.", "short", 12, 8,
			rangeQuery("A", "sum by (instance) ("+sel(mPodAddrs, onInstance)+")", "{{instance}}")))

	// Only with the agent's probe on (--probe-interval): empty otherwise.
	probed := `server_namespace=~"$dst_namespace", ` + onInstance
	d.WithRow(p.row("Active probe")).
		WithPanel(p.stat("Servers accepting legacy TLS", "Probed servers whose last probe completed a handshake at a "+
			"version below the agent's min_tls_version (not exempt), by namespace. Needs the agent's probe (--probe-interval).", "short", 8, 6,
			instantQuery("A", "count by (server_namespace) ("+sel(mProbeLegacy, probed)+" == 1)", "{{server_namespace}}")).
			NoValue("0").TextMode(common.BigValueTextModeValueAndName).Thresholds(thresholds("green", step{1, "red"}))).
		WithPanel(p.stat("Servers accepting a downgrade", "Probed servers that went on with a lower-version hello carrying "+
			"TLS_FALLBACK_SCSV (RFC 7507) instead of refusing it.", "short", 8, 6,
			instantQuery("A", "count("+sel(mProbeFallback, `state="accepted"`, probed)+" == 1)", "")).
			NoValue("0").Thresholds(thresholds("green", step{1, "red"}))).
		WithPanel(p.series("Probe errors by reason", "Probed servers that could not be probed fully: unreachable, no "+
			"version accepted, or out of time.", "suffix: servers/s", 8, 6,
			rangeQuery("A", "sum by (reason) ("+rate(sel(mProbeErrors, onInstance))+")", "{{reason}}")))
	for _, t := range p.probedServers(probed) {
		d.WithPanel(t)
	}

	d.WithRow(p.row("Agents")).
		WithPanel(p.agents()).
		WithPanel(p.states("Configuration loaded", "Whether the last load of the config and names files succeeded; after "+
			"a failed reload the previous config stays.", "ok", "failed", 12, 8,
			rangeQuery("A", "min by (instance) ("+sel(mReloadOK, onInstance)+")", "{{instance}}"))).
		WithPanel(p.series("Agent CPU", "CPU the agent process uses.", "percentunit", 12, 8,
			rangeQuery("A", "sum by (instance) ("+rate(sel(mProcessCPU, onInstance))+agentsOnly+")", "{{instance}}"))).
		WithPanel(p.series("Agent memory", "Resident memory of the agent process.", "bytes", 12, 8,
			rangeQuery("A", "sum by (instance) ("+sel(mProcessMemory, onInstance)+agentsOnly+")", "{{instance}}")))
	return d
}

// labelVariable is a multi-value variable of the values of label on selector s,
// "All" matching any value, the empty one included.
func labelVariable(name, label, s, onLabel string) *dashboard.QueryVariableBuilder {
	q := "label_values(" + s + ", " + onLabel + ")"
	return dashboard.NewQueryVariableBuilder(name).Label(label).Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}})
}

// JSON returns the dashboard as Grafana imports it: indented JSON ending in a
// newline, the same bytes on every call.
func JSON() ([]byte, error) {
	d, err := build().Build()
	if err != nil {
		return nil, fmt.Errorf("build dashboard: %w", err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return append(b, '\n'), nil
}
