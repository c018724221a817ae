package dashboard_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
	"k8s.io/client-go/rest"

	"github.com/tlsaudit/tlsaudit/internal/dashboard"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

var update = flag.Bool("update", false, "rewrite deploy/grafana/tlsaudit-dashboard.json")

const (
	committed    = "../../deploy/grafana/tlsaudit-dashboard.json"
	goldenScrape = "../../pkg/export/testdata/demo-mix.prom"
)

// TestDashboardCurrent keeps the committed dashboard what the code builds. Refresh
// it with `make dashboard` (-update).
func TestDashboardCurrent(t *testing.T) {
	got, err := dashboard.JSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := dashboard.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Fatal("two builds of the dashboard differ: the output is not deterministic")
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(committed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committed, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v (run make dashboard)", err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		n := 0
		for n < len(g) && n < len(w) && g[n] == w[n] {
			n++
		}
		line := func(l []string) string {
			if n < len(l) {
				return l[n]
			}
			return "(end of file)"
		}
		t.Errorf("%s is stale (run make dashboard); first difference at line %d:\n built:     %s\n committed: %s",
			committed, n+1, line(g), line(w))
	}
	var d map[string]any
	if err := json.Unmarshal(got, &d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if d["uid"] != dashboard.UID || d["title"] != dashboard.Title {
		t.Errorf("uid %v title %v, want %q %q", d["uid"], d["title"], dashboard.UID, dashboard.Title)
	}
}

// query is one PromQL expression of the dashboard and where it stands.
type query struct {
	where, expr string
}

// TestDashboardQueries checks every PromQL expression of the committed dashboard:
// its syntax with the real promtool, and that every metric it selects is one the
// agent serves, with labels that metric has.
func TestDashboardQueries(t *testing.T) {
	promtool := needPromtool(t)
	queries, vars := dashboardQueries(t, readCommitted(t))
	if len(queries) < 20 {
		t.Fatalf("found %d expressions in %s; the walk misses some", len(queries), committed)
	}

	// (a) Syntax: every expression as a recording rule, Grafana's macros and
	// variables replaced by what they become.
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range queries {
		expr, err := expand(q.expr, vars)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		queries[i].expr = expr
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: expr})
	}
	path := writeYAML(t, "dashboard-rules.yaml", map[string]any{"groups": []map[string]any{{"name": "dashboard", "rules": rules}}})
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		var index strings.Builder
		for i, q := range queries {
			fmt.Fprintf(&index, "  dashboard:query_%d is %s\n", i, q.where)
		}
		t.Errorf("promtool check rules: %v\n%s\n%s", err, out, index.String())
	}

	// (b) Names: what every selector names, against what the collectors describe.
	families := servedFamilies(t)
	for _, q := range queries {
		sels, err := selectors(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s selects no metric: %s", q.where, q.expr)
		}
		for _, s := range sels {
			labels, ok := families[s.metric]
			if !ok {
				t.Errorf("%s: metric %s is not served by the agent", q.where, s.metric)
				continue
			}
			for _, l := range s.labels {
				if !slices.Contains(labels, l) && !targetLabels[l] {
					t.Errorf("%s: metric %s has no label %s (it has %v)", q.where, s.metric, l, labels)
				}
			}
		}
	}
}

func needPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skipf("promtool not installed (apt-get install prometheus; .ci/run does): %v", err)
	}
	return p
}

func readCommitted(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// writeYAML writes v to a file of the test's temporary directory.
func writeYAML(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// targetLabels are the labels Prometheus adds to every scraped series, and the name.
var targetLabels = map[string]bool{"job": true, "instance": true, "__name__": true}

// dashboardQueries walks the dashboard for every "expr" (panel targets, wherever
// they are nested) and the PromQL of its query variables, and returns them with the
// names of the dashboard's variables.
func dashboardQueries(t *testing.T, d map[string]any) ([]query, map[string]bool) {
	t.Helper()
	var out []query
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if s, ok := v[k].(string); ok && k == "expr" {
					out = append(out, query{where: where + ".expr", expr: s})
				}
				walk(v[k], where+"."+k)
			}
		case []any:
			for i, x := range v {
				walk(x, where+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(d, "dashboard")
	for _, q := range out {
		if strings.TrimSpace(q.expr) == "" {
			t.Errorf("%s is empty", q.where)
		}
	}

	vars := map[string]bool{}
	templating, _ := d["templating"].(map[string]any)
	list, _ := templating["list"].([]any)
	for i, v := range list {
		v, _ := v.(map[string]any)
		name, _ := v["name"].(string)
		vars[name] = true
		if v["type"] != "query" {
			continue
		}
		where := fmt.Sprintf("variable %s (templating.list[%d])", name, i)
		q := v["query"]
		if m, ok := q.(map[string]any); ok {
			q = m["query"]
		}
		s, ok := q.(string)
		if !ok {
			t.Errorf("%s: query %v is not a string", where, v["query"])
			continue
		}
		if expr, ok := variablePromQL(s); ok {
			out = append(out, query{where: where, expr: expr})
		}
	}
	return out, vars
}

var (
	labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)
	queryResult = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)
	labelOnly   = regexp.MustCompile(`^\s*label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)
)

// variablePromQL returns the PromQL in a Prometheus variable query: the selector of
// label_values(selector, label) or the expression of query_result(expr); none in
// label_values(label). Anything else is taken as PromQL whole, so that promtool
// rejects what is not.
func variablePromQL(q string) (string, bool) {
	if labelOnly.MatchString(q) {
		return "", false
	}
	if m := labelValues.FindStringSubmatch(q); m != nil {
		return m[1], true
	}
	if m := queryResult.FindStringSubmatch(q); m != nil {
		return m[1], true
	}
	return q, true
}

// grafanaVar is a variable or macro reference: $name, ${name} or ${name:format}.
var grafanaVar = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|([A-Za-z0-9_]+))`)

// macros are Grafana's interval macros, as they come out for a 6h dashboard
// scraped every 15s.
var macros = map[string]string{"__rate_interval": "1m", "__interval": "30s", "__range": "6h"}

// expand replaces macros with durations and dashboard variables with what "All"
// sends (".*", regex-safe); any other $name is an error.
func expand(expr string, vars map[string]bool) (string, error) {
	var bad []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if d, ok := macros[name]; ok {
			return d
		}
		if vars[name] {
			return ".*"
		}
		bad = append(bad, m)
		return m
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("unknown variables or macros %v in %s", bad, expr)
	}
	return out, nil
}

// servedFamilies returns the metric families the agent's registry serves, by name,
// with their label names, read from the collectors' Describe. The collectors are
// built as pkg/agent's newOutputs builds them (exporter, Alertmanager pusher, Go and
// process collectors) and as StartKube builds the Kubernetes watcher, whose
// informers here have an unreachable API server and a context already cancelled.
// Every family of the golden scrape of the analyze exporter must be among them.
func servedFamilies(t *testing.T) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	watcher, err := kubewatch.Watch(ctx, &rest.Config{Host: "http://127.0.0.1:1"}, identity.NewCluster("node-a"), time.Hour, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cs := []prometheus.Collector{
		export.New(export.Options{}),
		export.NewAlerter(policy.Default(), export.AlerterConfig{}, zerolog.Nop()),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		watcher,
	}
	// Registering checks the descriptions as the agent's registry does.
	prometheus.NewRegistry().MustRegister(cs...)
	families := map[string][]string{}
	for _, c := range cs {
		ch := make(chan *prometheus.Desc)
		go func() {
			c.Describe(ch)
			close(ch)
		}()
		for desc := range ch {
			name, labels, err := parseDesc(desc.String())
			if err != nil {
				t.Fatal(err)
			}
			families[name] = labels
		}
	}
	if len(families) < 30 {
		t.Fatalf("collectors describe only %d families", len(families))
	}

	f, err := os.Open(goldenScrape)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 3 && fields[0] == "#" && fields[1] == "TYPE" {
			n++
			if _, ok := families[fields[2]]; !ok {
				t.Errorf("%s has family %s, which the collectors do not describe", goldenScrape, fields[2])
			}
		}
	}
	if err := sc.Err(); err != nil || n == 0 {
		t.Fatalf("%s: %d families read, %v", goldenScrape, n, err)
	}
	return families
}

// descString is prometheus.Desc.String(): Desc{fqName: "…", help: "…", unit: "…",
// constLabels: {…}, variableLabels: {a,b,c(d)}}, c(d) being a constrained label d.
var descString = regexp.MustCompile(`^Desc\{fqName: ("(?:[^"\\]|\\.)*"), .*, variableLabels: \{([^{}]*)\}\}$`)

func parseDesc(s string) (string, []string, error) {
	m := descString.FindStringSubmatch(s)
	if m == nil {
		return "", nil, fmt.Errorf("unexpected description %s", s)
	}
	name, err := strconv.Unquote(m[1])
	if err != nil {
		return "", nil, fmt.Errorf("description %s: %w", s, err)
	}
	var labels []string
	for _, l := range strings.Split(m[2], ",") {
		if l = strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"); l != "" {
			labels = append(labels, l)
		}
	}
	return name, labels, nil
}

// TestMatrixRanks evaluates the committed matrix query with promtool's rule unit
// tests over 7 hours of counters, the dashboard's range being 6 hours: each pair gets
// the rank of its weakest flow in the range, and pairs whose counters did not move
// in it are left out.
func TestMatrixRanks(t *testing.T) {
	promtool := needPromtool(t)
	d := readCommitted(t)
	_, vars := dashboardQueries(t, d)
	var expr string
	panels, _ := d["panels"].([]any)
	for _, p := range panels {
		p, _ := p.(map[string]any)
		if p["title"] != "Service-pair encryption matrix" {
			continue
		}
		for _, q := range p["targets"].([]any) {
			if q := q.(map[string]any); q["refId"] == "A" {
				expr, _ = q["expr"].(string)
			}
		}
	}
	if expr == "" {
		t.Fatal("no matrix query A in the committed dashboard")
	}
	expr, err := expand(expr, vars)
	if err != nil {
		t.Fatal(err)
	}
	const (
		growing = "1+1x420"
		flat    = "5+0x420"      // counted before the range only
		born    = "_x400 1+0x20" // born in the range at 1: no increase
		oneMore = "1+0x100 2+0x320"
	)
	type in struct{ metric, labels, values string }
	flows := func(class, version, values string) in {
		return in{"tlsaudit_flows_total", fmt.Sprintf(`class=%q, tls_version=%q`, class, version), values}
	}
	legacy := in{"tlsaudit_violation_flows_total", `kind="legacy_tls"`, growing}
	var series, want []map[string]any
	for _, tt := range []struct {
		dst  string
		in   []in
		want int // 0: not shown
	}{
		{"plaintext", []in{flows("plaintext", "", growing), flows("tls", "TLS1.3", growing)}, 5},
		{"tls10", []in{flows("tls", "TLS1.0", oneMore), flows("unknown", "", growing)}, 4},
		{"min13", []in{flows("tls", "TLS1.2", growing), legacy}, 4},
		{"tls12", []in{flows("tls", "TLS1.2", growing), flows("tls", "TLS1.3", growing)}, 3},
		{"unseen", []in{flows("tls", "", growing), flows("ssh", "", growing)}, 3},
		{"strong", []in{flows("tls", "TLS1.3", growing), flows("ssh", "", growing), flows("encrypted", "", growing)}, 2},
		{"unknown", []in{flows("unknown", "", growing)}, 1},
		{"quiet", []in{flows("plaintext", "", flat), flows("tls", "TLS1.3", growing)}, 2},
		{"idle", []in{flows("plaintext", "", flat)}, 0},
		{"born", []in{flows("plaintext", "", born), flows("tls", "TLS1.3", growing)}, 5},
	} {
		pair := fmt.Sprintf(`src_namespace="shop", src_workload="api", dst_namespace="data", dst_workload=%q`, tt.dst)
		for _, s := range tt.in {
			series = append(series, map[string]any{
				"series": s.metric + `{job="tlsaudit", instance="node-a:9809", ` + pair + `, dst_port="443", ` + s.labels + "}",
				"values": s.values,
			})
		}
		if tt.want != 0 {
			want = append(want, map[string]any{"labels": "dashboard:rank{" + pair + "}", "value": tt.want})
		}
	}
	rules := writeYAML(t, "rules.yaml", map[string]any{"groups": []map[string]any{{"name": "matrix",
		"rules": []map[string]string{{"record": "dashboard:rank", "expr": expr}}}}})
	tests := writeYAML(t, "tests.yaml", map[string]any{
		"rule_files": []string{rules},
		"tests": []map[string]any{{
			"interval":         "1m",
			"input_series":     series,
			"promql_expr_test": []map[string]any{{"expr": "dashboard:rank", "eval_time": "420m", "exp_samples": want}},
		}},
	})
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}
