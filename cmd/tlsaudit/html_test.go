package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/browsertest"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

var htmlScreenshot = flag.String("html-screenshot", "", "also write the demo HTML report's screenshot to this file (README: docs/html-report.png)")

// gradeRGB is a grade's colour as the browser computes it ("rgb(214, 39, 40)").
func gradeRGB(t *testing.T, key string) string {
	t.Helper()
	for _, g := range report.Grades {
		if g.Key == key {
			var r, gr, b int
			if _, err := fmt.Sscanf(g.Color, "#%02x%02x%02x", &r, &gr, &b); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("rgb(%d,%d,%d)", r, gr, b)
		}
	}
	t.Fatalf("no grade %s", key)
	return ""
}

// expectedGrade grades a pair of the JSON report from its own fields (minimum TLS
// 1.2): what a reader of the JSON would say its weakest class is.
func expectedGrade(p *report.Pair) string {
	has := func(versions ...string) bool {
		return slices.ContainsFunc(versions, func(v string) bool { return p.Versions.Get(v) > 0 })
	}
	switch {
	case p.Classes.Get("plaintext") > 0:
		return "plaintext"
	case has("SSL2", "SSL3", "TLS1.0", "TLS1.1", "DTLS1.0"):
		return "legacy"
	case has("TLS1.2", "DTLS1.2"):
		return "tls12"
	case has("TLS1.3", "DTLS1.3"):
		return "tls13"
	case p.Classes.Get("ssh") > 0 || p.Classes.Get("encrypted") > 0:
		return "encrypted"
	}
	return "unknown"
}

func pairLabel(p *report.Pair) string {
	return p.Client + " " + p.Server + " " + strconv.Itoa(int(p.Port)) + " " + p.Transport
}

// TestHTMLReportInChromium writes the HTML report of the bundled capture with analyze
// --format html --output and opens it in headless Chromium: no console error and no
// request but the file itself; a node per named workload in its namespace; each edge
// coloured by its pair's weakest class; a click on an edge lists the pair's flows; a
// click on a row lists them too; the table sorts and filters. A screenshot is kept.
func TestHTMLReportInChromium(t *testing.T) {
	browsertest.Chromium(t)
	demo := []string{"--names", filepath.Join(pcapDir, "demo-names.yaml"), filepath.Join(pcapDir, "demo-mix.pcapng")}
	page := filepath.Join(t.TempDir(), "report.html")
	var errOut bytes.Buffer
	if code := analyze(append([]string{"--format", "html", "--output", page}, demo...), &bytes.Buffer{}, &errOut, zerolog.Nop()); code != exitOK {
		t.Fatalf("analyze --format html: exit %d: %s", code, errOut.String())
	}
	a, _, _ := analyzeJSON(t, demo...)
	if len(a.Pairs) != 10 {
		t.Fatalf("the demo capture has %d pairs, want 10", len(a.Pairs))
	}

	p := browsertest.Open(t, page, 1400, 1000, "window.tlsaudit && window.tlsaudit.ready")

	// Nodes: one per workload, inside its namespace's block.
	var want []string
	for _, pr := range a.Pairs {
		for _, end := range []string{pr.Client, pr.Server} {
			if !slices.Contains(want, end) {
				want = append(want, end)
			}
		}
	}
	slices.Sort(want)
	got := browsertest.Eval[[]string](t, p, `tlsaudit.cy.nodes().filter(n => !n.isParent()).map(n => n.parent().data('label') + '/' + n.data('label')).sort()`)
	if !slices.Equal(got, want) {
		t.Errorf("map nodes %q, want %q", got, want)
	}
	for _, w := range []string{"shop/api", "data/postgres", "legacy/billing", "ops/admin"} {
		if !slices.Contains(got, w) {
			t.Errorf("map lacks workload %s", w)
		}
	}

	// Edges: one per pair, coloured by its weakest class.
	colours := browsertest.Eval[map[string]string](t, p, `Object.fromEntries(tlsaudit.data.pairs.map(p =>
		[p.client + ' ' + p.server + ' ' + p.port + ' ' + p.transport, tlsaudit.cy.$id('p' + p.id).style('line-color').replace(/ /g, '')]))`)
	if n := browsertest.Eval[int](t, p, `tlsaudit.cy.edges().length`); n != len(a.Pairs) {
		t.Errorf("%d edges, want %d", n, len(a.Pairs))
	}
	for i := range a.Pairs {
		pr := &a.Pairs[i]
		if got, want := colours[pairLabel(pr)], gradeRGB(t, expectedGrade(pr)); got != want {
			t.Errorf("edge %s: colour %s, want %s (%s)", pairLabel(pr), got, want, expectedGrade(pr))
		}
	}
	for label, grade := range map[string]string{
		"jobs/batch shop/api 80 tcp": "plaintext", "shop/api legacy/billing 8443 tcp": "legacy",
		"shop/web shop/api 8443 tcp": "tls12", "shop/web shop/api 443 tcp": "tls13", "ops/admin shop/api 22 tcp": "encrypted",
	} {
		if colours[label] != gradeRGB(t, grade) {
			t.Errorf("edge %s: colour %s, want %s's", label, colours[label], grade)
		}
	}

	// A click on the ssh edge, where the browser draws it, lists that pair's flow.
	browsertest.Eval[bool](t, p, `document.getElementById('map').scrollIntoView(), true`)
	p.Settle(t)
	xy := browsertest.Eval[[]float64](t, p, `(() => {
		const cy = tlsaudit.cy;
		const pr = tlsaudit.data.pairs.find(p => p.client === 'ops/admin' && p.port === 22);
		const m = cy.$id('p' + pr.id).renderedMidpoint();
		const r = cy.container().getBoundingClientRect();
		return [r.left + m.x, r.top + m.y];
	})()`)
	p.ClickAt(t, xy[0], xy[1])
	shown := browsertest.Eval[map[string]any](t, p, `(() => {
		const sec = document.getElementById('flows');
		const pr = tlsaudit.data.pairs.find(p => p.id === +sec.dataset.pair);
		return {hidden: sec.hidden, pair: pr ? pr.client + ' ' + pr.server + ' ' + pr.port + ' ' + pr.transport : '',
			rows: [...sec.querySelectorAll('#flow-table tbody tr')].map(tr => tr.textContent),
			selected: tlsaudit.cy.$('edge:selected').map(e => e.id())};
	})()`)
	if shown["hidden"] != false || shown["pair"] != "ops/admin shop/api 22 tcp" {
		t.Fatalf("after clicking the ssh edge the flows panel shows %v", shown)
	}
	if rows := shown["rows"].([]any); len(rows) != 1 || !strings.Contains(rows[0].(string), "10.77.0.13:") || !strings.Contains(rows[0].(string), "ssh") {
		t.Errorf("flows of the ssh pair: %q", rows)
	}

	// A click on a workload fades every edge but its own: billing has one pair.
	xy = browsertest.Eval[[]float64](t, p, `(() => {
		const cy = tlsaudit.cy, n = cy.nodes().filter(n => n.data('label') === 'billing');
		const m = n.renderedPosition(), r = cy.container().getBoundingClientRect();
		return [r.left + m.x, r.top + m.y];
	})()`)
	p.ClickAt(t, xy[0], xy[1])
	if lit := browsertest.Eval[[]string](t, p, `tlsaudit.cy.edges().not('.faded').map(e => e.source().data('label') + '>' + e.target().data('label'))`); !slices.Equal(lit, []string{"api>billing"}) {
		t.Errorf("after clicking billing the map shows edges %q, want only api>billing", lit)
	}
	corner := browsertest.Eval[[]float64](t, p, `(() => { const r = tlsaudit.cy.container().getBoundingClientRect(); return [r.left + 4, r.top + 4]; })()`)
	p.ClickAt(t, corner[0], corner[1])
	if n := browsertest.Eval[int](t, p, `tlsaudit.cy.elements('.faded').length`); n != 0 {
		t.Errorf("a click on the background left %d elements faded", n)
	}
	// A click on a legend colour keeps only the pairs of that grade.
	p.Click(t, `#legend li[data-grade="tls12"]`)
	if n := browsertest.Eval[int](t, p, `document.querySelectorAll('#pairs tbody tr:not([hidden])').length`); n != 2 {
		t.Errorf("legend TLS 1.2: %d rows shown, want the 2 TLS 1.2 pairs", n)
	}
	p.Click(t, `#legend li[data-grade="tls12"]`)

	// A click on a table row lists that pair's flows with their TLS details.
	id := browsertest.Eval[int](t, p, `tlsaudit.data.pairs.find(p => p.client === 'shop/web' && p.port === 443).id`)
	p.Click(t, fmt.Sprintf(`#pairs tbody tr[data-pair="%d"]`, id))
	cells := browsertest.Eval[[]string](t, p, `[...document.querySelectorAll('#flow-table tbody td')].map(td => td.textContent)`)
	var listed int
	for _, f := range a.Flows {
		if f.ClientName != "shop/web" || !strings.HasSuffix(f.Server, ":443") {
			continue
		}
		listed++
		for _, w := range []string{f.Client, f.SNI, f.TLSVersion, f.Cipher, f.Group, f.JA4, strings.Join(f.ALPN, ", ")} {
			if !slices.Contains(cells, w) {
				t.Errorf("flows of shop/web -> shop/api:443 lack %q: %q", w, cells)
			}
		}
	}
	if listed != 3 {
		t.Fatalf("the JSON report has %d flows of shop/web -> shop/api:443, want 3", listed)
	}
	if n := browsertest.Eval[int](t, p, `document.querySelectorAll('#flow-table tbody tr').length`); n != 3 {
		t.Errorf("shop/web -> shop/api:443 lists %d flows, want its 3", n)
	}
	if *htmlScreenshot != "" {
		shot := p.Screenshot(t, "html-report-demo.png", false)
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*htmlScreenshot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Violations come first as written; a click on "bytes" sorts by bytes, largest
	// first, a second click smallest first.
	firstViolating := browsertest.Eval[bool](t, p, `tlsaudit.data.pairs.find(p => p.id === +document.querySelector('#pairs tbody tr').dataset.pair).violations.length > 0`)
	if !firstViolating {
		t.Error("the table does not start with a pair in violation")
	}
	rowBytes := `[...document.querySelectorAll('#pairs tbody tr')].map(tr => tlsaudit.data.pairs.find(p => p.id === +tr.dataset.pair).bytes)`
	p.Click(t, `#pairs th[data-key="bytes"]`)
	desc := browsertest.Eval[[]float64](t, p, rowBytes)
	p.Click(t, `#pairs th[data-key="bytes"]`)
	asc := browsertest.Eval[[]float64](t, p, rowBytes)
	if len(desc) != len(a.Pairs) || !slices.IsSortedFunc(desc, func(x, y float64) int { return int(y - x) }) || !slices.IsSorted(asc) || desc[0] == asc[0] {
		t.Errorf("bytes sorted descending %v, ascending %v", desc, asc)
	}
	if s := browsertest.Eval[string](t, p, `document.querySelector('#pairs th[data-key="bytes"]').getAttribute('aria-sort')`); s != "ascending" {
		t.Errorf("bytes header aria-sort %q after two clicks", s)
	}

	// The filter hides rows and their edges.
	p.Type(t, "#filter", "postgres")
	vis := browsertest.Eval[[]int](t, p, `[document.querySelectorAll('#pairs tbody tr:not([hidden])').length, tlsaudit.cy.edges().filter(e => e.visible()).length]`)
	if vis[0] != 1 || vis[1] != 1 {
		t.Errorf("filter postgres: %d rows and %d edges shown, want 1 and 1", vis[0], vis[1])
	}
	p.Screenshot(t, "html-report-demo-filtered.png", false)
	p.CheckClean(t)
}

// TestHTMLReportOfEveryCapture renders one HTML report of every capture in
// testdata/pcaps and opens it in Chromium: every pair is an edge of its weakest
// class's colour, and the page logs no error and fetches nothing.
func TestHTMLReportOfEveryCapture(t *testing.T) {
	browsertest.Chromium(t)
	var files []string
	for _, pattern := range []string{"*.pcap", "*.pcapng"} {
		m, err := filepath.Glob(filepath.Join(pcapDir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("%d captures in %s", len(files), pcapDir)
	}
	args := append([]string{"--names", filepath.Join(pcapDir, "demo-names.yaml")}, files...)
	page := filepath.Join(t.TempDir(), "all.html")
	var errOut bytes.Buffer
	if code := analyze(append([]string{"--format", "html", "--output", page}, args...), &bytes.Buffer{}, &errOut, zerolog.Nop()); code == exitError {
		t.Fatalf("analyze --format html: exit %d: %s", code, errOut.String())
	}
	a, _, _ := analyzeJSON(t, args...)
	p := browsertest.Open(t, page, 1400, 1000, "window.tlsaudit && window.tlsaudit.ready")
	colours := browsertest.Eval[map[string]string](t, p, `Object.fromEntries(tlsaudit.data.pairs.map(p =>
		[p.client + ' ' + p.server + ' ' + p.port + ' ' + p.transport, tlsaudit.cy.$id('p' + p.id).style('line-color').replace(/ /g, '')]))`)
	if len(colours) != len(a.Pairs) {
		t.Errorf("%d edges, want %d pairs", len(colours), len(a.Pairs))
	}
	grades := map[string]int{}
	for i := range a.Pairs {
		pr := &a.Pairs[i]
		g := expectedGrade(pr)
		grades[g]++
		if got, want := colours[pairLabel(pr)], gradeRGB(t, g); got != want {
			t.Errorf("edge %s: colour %s, want %s (%s; classes %v, versions %v)", pairLabel(pr), got, want, g, pr.Classes, pr.Versions)
		}
	}
	// Every grade but unknown: the one capture with an unknown flow (OpenVPN with
	// tls-crypt) shares its pair with captures where the handshake is seen.
	for _, g := range report.Grades {
		if grades[g.Key] == 0 && g.Key != "unknown" {
			t.Errorf("no pair of grade %s among the captures: the test does not cover it", g.Key)
		}
	}
	t.Logf("%d pairs by grade: %v", len(a.Pairs), grades)
	p.Screenshot(t, "html-report-all-captures.png", false)
	p.CheckClean(t)
}
