package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/internal/browsertest"
	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

const pageReady = "window.tlsaudit && window.tlsaudit.ready"

// writePage renders a to an HTML file in a temporary directory.
func writePage(t testing.TB, a *Audit, s *Sampler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, a, s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTMLLargeMapInChromium opens the report of 500 workloads and 2,000 pairs: every
// workload and pair is drawn, inside the map's box, with no console error or request.
func TestHTMLLargeMapInChromium(t *testing.T) {
	browsertest.Chromium(t)
	a, s := generatedAudit(t, 500)
	path := writePage(t, a, s)
	start := time.Now()
	p := browsertest.Open(t, path, 1600, 1000, pageReady)
	t.Logf("500 workloads, 2,000 pairs: open to ready in %v; script ms %v", time.Since(start), browsertest.Eval[map[string]float64](t, p, `tlsaudit.timings`))
	counts := browsertest.Eval[map[string]int](t, p, `(() => {
		const cy = tlsaudit.cy, bb = cy.elements().renderedBoundingBox(), w = cy.width(), h = cy.height();
		return {nodes: cy.nodes().filter(n => !n.isParent()).length, groups: cy.nodes(':parent').length,
			edges: cy.edges().length, rows: document.querySelectorAll('#pairs tbody tr').length,
			inside: +(bb.x1 >= -1 && bb.y1 >= -1 && bb.x2 <= w + 1 && bb.y2 <= h + 1),
			red: cy.edges().filter(e => e.data('grade') === 'plaintext').length};
	})()`)
	want := map[string]int{"nodes": 500, "groups": 25, "edges": 2000, "rows": 2000, "inside": 1, "red": 50}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %d, want %d", k, counts[k], v)
		}
	}
	browsertest.Eval[bool](t, p, `document.getElementById('map').scrollIntoView(), true`)
	p.Settle(t)
	p.Screenshot(t, "html-report-500.png", true)
	p.CheckClean(t)
}

// TestHTMLHostileNamesInChromium: an SNI, ALPN and file name that carry markup stay
// text when the page shows them, and make the page fetch nothing.
func TestHTMLHostileNamesInChromium(t *testing.T) {
	browsertest.Chromium(t)
	b := NewBuilder(policy.Default(), nil)
	s := NewSampler()
	b.OnFlow = s.Add
	sni := `<img src="x.png" onerror="window.pwned=1">`
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", classify.Verdict{
		Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: sni, ALPN: []string{`</td><script>window.pwned=2</script>`},
	}))
	a := b.Build([]string{`<iframe src="http://203.0.113.7/">.pcap`}, 1, nil, nil)
	p := browsertest.Open(t, writePage(t, a, s), 1200, 900, pageReady)
	browsertest.Eval[bool](t, p, `tlsaudit.showPair(tlsaudit.data.pairs[0].id, true), true`)
	got := browsertest.Eval[map[string]any](t, p, `({
		pwned: window.pwned === undefined ? 0 : window.pwned,
		markup: document.querySelectorAll('main img, main iframe, main script, header iframe').length,
		sniShown: [...document.querySelectorAll('#flow-table td')].some(td => td.textContent === `+"`"+sni+"`"+`),
		header: document.getElementById('run').textContent,
	})`)
	if got["pwned"] != 0.0 || got["markup"] != 0.0 || got["sniShown"] != true {
		t.Errorf("hostile names: %v", got)
	}
	p.CheckClean(t)
}

// BenchmarkHTMLOpenInChromium measures, in a real Chromium, the time from loading the
// report of 500 workloads and 2,000 pairs to a drawn, interactive page.
func BenchmarkHTMLOpenInChromium(b *testing.B) {
	browsertest.Chromium(b)
	a, s := generatedAudit(b, 500)
	path := writePage(b, a, s)
	p := browsertest.Open(b, path, 1600, 1000, pageReady)
	b.ResetTimer()
	for b.Loop() {
		p.Reload(b, pageReady)
	}
}

// TestHTMLEmptyInChromium: a capture with no flows still gives a working page.
func TestHTMLEmptyInChromium(t *testing.T) {
	browsertest.Chromium(t)
	a := NewBuilder(policy.Default(), nil).Build([]string{"empty.pcap"}, 0, nil, []string{"empty.pcap: offset 24: truncated record"})
	p := browsertest.Open(t, writePage(t, a, nil), 1200, 900, pageReady)
	got := browsertest.Eval[map[string]any](t, p, `({edges: tlsaudit.cy.edges().length, shown: document.getElementById('shown').textContent,
		enc: document.querySelector('#card-enc-flows .big').textContent, err: document.getElementById('card-limits').textContent})`)
	if got["edges"] != 0.0 || got["shown"] != "showing 0 of 0 pairs" || got["enc"] != "n/a" || !strings.Contains(got["err"].(string), "truncated record") {
		t.Errorf("empty report: %v", got)
	}
	p.CheckClean(t)
}
