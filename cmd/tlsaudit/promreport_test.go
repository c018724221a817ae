package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/browsertest"
	"github.com/tlsaudit/tlsaudit/internal/promtest"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// counterSample matches a sample line of the three counters the report reads.
var counterSample = regexp.MustCompile(`(?m)^(tlsaudit_(?:flows|flow_bytes|violation_flows)_total\{[^}]*\}) \S+$`)

// TestReportFromPrometheus serves the OpenMetrics of the bundled capture (analyze
// --format openmetrics) to a real Prometheus on loopback: first with the counters at
// zero, as an agent that has just started, then as recorded. tlsaudit report
// --prometheus over a window ending at the last scrape must give the pairs, classes,
// TLS versions, flows, bytes and violations that analyze gives for the capture, and
// its html format must open cleanly in Chromium.
func TestReportFromPrometheus(t *testing.T) {
	promtest.NeedBinary(t, "prometheus")
	demo := []string{"--names", filepath.Join(pcapDir, "demo-names.yaml"), filepath.Join(pcapDir, "demo-mix.pcapng")}
	var recorded, errOut bytes.Buffer
	if code := analyze(append([]string{"--format", "openmetrics"}, demo...), &recorded, &errOut, zerolog.Nop()); code != exitOK {
		t.Fatalf("analyze --format openmetrics: exit %d: %s", code, errOut.String())
	}
	zeroed := counterSample.ReplaceAll(recorded.Bytes(), []byte("$1 0"))
	if bytes.Equal(zeroed, recorded.Bytes()) {
		t.Fatal("the scrape has no counters to zero")
	}

	var live atomic.Bool // serve the recorded counters
	var zeroScrapes, liveScrapes atomic.Int32
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		if live.Load() {
			liveScrapes.Add(1)
			w.Write(recorded.Bytes())
			return
		}
		zeroScrapes.Add(1)
		w.Write(zeroed)
	}))
	defer metrics.Close()

	promURL := promtest.StartPrometheus(t, t.TempDir(), fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tlsaudit\n    static_configs:\n      - targets: [%q]\n",
		metrics.Listener.Addr().String()))
	waitFor(t, "two scrapes at zero", func() bool { return zeroScrapes.Load() >= 2 })
	live.Store(true)
	waitFor(t, "two scrapes as recorded", func() bool { return liveScrapes.Load() >= 2 })
	// The window ends at the newest sample, so that Prometheus' increase() has nothing to
	// extrapolate on the right (and the first sample, zero, bounds it on the left).
	var last float64
	waitFor(t, "the recorded counters queryable", func() bool {
		last = promScalar(promURL, `max(timestamp(tlsaudit_flows_total)) and on() (max(tlsaudit_flows_total) > 0)`)
		return last > 0
	})
	at := time.UnixMilli(int64(last * 1000)).UTC().Format(time.RFC3339Nano)

	var out bytes.Buffer
	if code := reportCmd([]string{"--prometheus", promURL, "--range", "10m", "--time", at, "--format", "json"}, &out, &errOut); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errOut.String())
	}
	// Not report.Decode: that wants a transport, which the metrics do not carry.
	var got report.Audit
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report --format json: %v", err)
	}
	want, _, _ := analyzeJSON(t, demo...)
	if len(got.Pairs) != len(want.Pairs) {
		t.Errorf("%d pairs from Prometheus, %d from the capture", len(got.Pairs), len(want.Pairs))
	}
	byEnds := map[string]report.Pair{}
	for _, p := range got.Pairs {
		byEnds[p.Client+" "+p.Server+" "+strconv.Itoa(int(p.Port))] = p
	}
	for _, w := range want.Pairs {
		k := w.Client + " " + w.Server + " " + strconv.Itoa(int(w.Port))
		g, ok := byEnds[k]
		switch {
		case !ok:
			t.Errorf("pair %s missing from the Prometheus report", k)
		case g.Class != w.Class || !slices.Equal(g.Classes, w.Classes) || !slices.Equal(g.Versions, w.Versions) ||
			g.Flows != w.Flows || g.Bytes != w.Bytes || !slices.Equal(g.Violations, w.Violations) || g.Internal != w.Internal:
			t.Errorf("pair %s from Prometheus:\n %+v\nfrom the capture:\n %+v", k, g, w)
		}
	}
	if !maps.Equal(got.Summary.Violations, want.Summary.Violations) || !maps.Equal(got.Summary.Classes, want.Summary.Classes) {
		t.Errorf("summary from Prometheus %+v, from the capture %+v", got.Summary, want.Summary)
	}
	// --fail-on gates as analyze does.
	if code := reportCmd([]string{"--prometheus", promURL, "--range", "10m", "--time", at, "--fail-on", "legacy"}, io.Discard, &errOut); code != exitViolation {
		t.Errorf("report --fail-on legacy: exit %d, want %d", code, exitViolation)
	}

	page := filepath.Join(t.TempDir(), "cluster.html")
	if code := reportCmd([]string{"--prometheus", promURL, "--range", "10m", "--time", at, "--format", "html", "--output", page}, io.Discard, &errOut); code != exitOK {
		t.Fatalf("report --format html: exit %d: %s", code, errOut.String())
	}
	p := browsertest.Open(t, page, 1400, 1000, "window.tlsaudit && window.tlsaudit.ready")
	if n := browsertest.Eval[int](t, p, `tlsaudit.cy.edges().length`); n != len(want.Pairs) {
		t.Errorf("the cluster map has %d edges, want %d", n, len(want.Pairs))
	}
	if s := browsertest.Eval[string](t, p, `document.querySelector('#card-enc-bytes .big').textContent`); s == "n/a" || s == "0.0%" {
		t.Errorf("internal bytes encrypted: %q", s)
	}
	p.Screenshot(t, "html-report-prometheus.png", false)
	p.CheckClean(t)
}

// waitFor polls cond every 200ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// promScalar runs an instant query and returns the value of its only sample, or 0
// when it has none (or Prometheus is not up yet).
func promScalar(promURL, query string) float64 {
	r, err := promtest.Query(promURL, query)
	if err != nil || len(r) != 1 {
		return 0
	}
	return r[0].Value
}

func TestReportUsage(t *testing.T) {
	unreachable := "http://" + promtest.FreePort(t) // nothing listens there now
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no url", nil},
		{"csv has no flows to list", []string{"--prometheus", unreachable, "--format", "csv"}},
		{"bad range", []string{"--prometheus", unreachable, "--range", "-1h"}},
		{"bad time", []string{"--prometheus", unreachable, "--time", "yesterday"}},
		{"bad min-tls", []string{"--prometheus", unreachable, "--min-tls", "TLS9"}},
		{"bad fail-on", []string{"--prometheus", unreachable, "--fail-on", "sometimes"}},
		{"stray argument", []string{"--prometheus", unreachable, "capture.pcap"}},
		{"unreachable", []string{"--prometheus", unreachable, "--timeout", "5s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			if code := reportCmd(tc.args, io.Discard, &errOut); code != exitError || errOut.Len() == 0 {
				t.Errorf("exit %d, stderr %q; want %d and a message", code, errOut.String(), exitError)
			}
		})
	}
}
