package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// pageData returns the JSON the page's script reads.
func pageData(t *testing.T, page []byte) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script id="tlsaudit-data" type="application/json">(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatal("page has no data script")
	}
	var d map[string]any
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatalf("page data: %v", err)
	}
	return d
}

// TestHTMLHostileNames: names and SNIs come from captures and names files, so a value
// that would close the script element or open a tag must arrive in the page only as
// JSON data.
func TestHTMLHostileNames(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	hostile := `</script><img src="http://203.0.113.9/x" onerror="alert(1)">`
	b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: hostile}))
	var out bytes.Buffer
	if err := Write(&out, b.Build([]string{"<b>x</b>.pcap"}, 1, nil, nil), "html"); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, bad := range []string{"</script><img", "<img src", "<b>x</b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	d := pageData(t, out.Bytes())
	pairs := d["pairs"].([]any)
	sample := pairs[0].(map[string]any)["sample"].([]any)
	if got := sample[0].(map[string]any)["sni"]; got != hostile {
		t.Errorf("SNI in the data %q, want it whole: %q", got, hostile)
	}
	if !strings.Contains(page, `Content-Security-Policy" content="default-src 'none'`) {
		t.Error("page lacks its no-fetch content security policy")
	}
}

func TestPairGrade(t *testing.T) {
	minRank := versionRank["TLS1.2"]
	for _, tc := range []struct {
		name     string
		classes  map[string]int
		versions map[string]int
		want     string
	}{
		{"plaintext beats all", map[string]int{"plaintext": 1, "tls": 9}, map[string]int{"TLS1.3": 9}, "plaintext"},
		{"legacy", map[string]int{"tls": 2}, map[string]int{"TLS1.0": 1, "TLS1.3": 1}, "legacy"},
		{"SSL3 is legacy", map[string]int{"tls": 1}, map[string]int{"SSL3": 1}, "legacy"},
		{"DTLS 1.0 is legacy", map[string]int{"tls": 1}, map[string]int{"DTLS1.0": 1}, "legacy"},
		{"tls12", map[string]int{"tls": 2}, map[string]int{"TLS1.2": 1, "TLS1.3": 1}, "tls12"},
		{"tls13", map[string]int{"tls": 2, "unknown": 1}, map[string]int{"TLS1.3": 2}, "tls13"},
		{"ssh", map[string]int{"ssh": 1, "unknown": 3}, nil, "encrypted"},
		{"tls weaker than ssh", map[string]int{"ssh": 1, "tls": 1}, map[string]int{"TLS1.3": 1}, "tls13"},
		{"only unknown", map[string]int{"unknown": 3}, nil, "unknown"},
		{"tls without a version says nothing of strength", map[string]int{"tls": 1}, nil, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pairGrade(&Pair{Classes: countsOf(tc.classes), Versions: countsOf(tc.versions)}, minRank); got != tc.want {
				t.Errorf("grade %q, want %q", got, tc.want)
			}
		})
	}
	// A stricter minimum makes TLS 1.2 legacy.
	if got := pairGrade(&Pair{Classes: Counts{{Name: "tls", N: 1}}, Versions: Counts{{Name: "TLS1.2", N: 1}}}, versionRank["TLS1.3"]); got != "legacy" {
		t.Errorf("TLS1.2 under a TLS1.3 minimum: %q, want legacy", got)
	}
}

// TestSamplerBounds checks the per-pair and total bounds, and that a violating flow
// that arrives late still becomes evidence.
func TestSamplerBounds(t *testing.T) {
	b := NewBuilder(policy.Default(), nil)
	s := NewSampler()
	s.PerPair, s.Budget = 3, 4
	b.OnFlow = s.Add
	tls := classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS13}
	for range 10 {
		b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", tls))
	}
	b.Add(rec("10.0.0.1:40001", "10.0.0.2:443", classify.Verdict{Class: classify.ClassPlaintext, App: classify.AppHTTP}))
	for range 5 {
		b.Add(rec("10.0.0.3:40000", "10.0.0.2:443", tls))
	}
	a := b.Build(nil, 0, nil, nil)
	if s.kept != 4 {
		t.Errorf("kept %d flows, want the budget of 4", s.kept)
	}
	first := s.byPair[a.Pairs[0].key()]
	if len(first) != 3 || s.omitted[a.Pairs[0].key()] != 8 {
		t.Fatalf("pair %s: %d kept, %d omitted; want 3 and 8", a.Pairs[0].name(), len(first), s.omitted[a.Pairs[0].key()])
	}
	if first[2].Violation != policy.KindPlaintext {
		t.Errorf("the late plaintext flow is not in the sample: %+v", first)
	}
	if got := s.internal.Flows["plaintext"]; got != 1 {
		t.Errorf("internal plaintext flows %d, want 1", got)
	}
	if got := s.internal.Flows["TLS1.3"]; got != 15 {
		t.Errorf("internal TLS1.3 flows %d, want 15", got)
	}
}

// TestHTMLLayout: on the generated 500-workload map every workload is a node in its
// namespace's block, no two nodes share a place and no two blocks overlap.
func TestHTMLLayout(t *testing.T) {
	a, s := generatedAudit(t, 500)
	d := buildHTMLData(a, s, a.Pairs[0].FirstSeen)
	if len(d.Nodes) != 500 || len(d.Groups) != 25 || len(d.Pairs) != 2000 {
		t.Fatalf("%d nodes, %d groups, %d pairs; want 500, 25, 2000", len(d.Nodes), len(d.Groups), len(d.Pairs))
	}
	type box struct{ x0, y0, x1, y1 float64 }
	boxes := map[string]*box{}
	seen := map[[2]float64]string{}
	for _, n := range d.Nodes {
		p := [2]float64{n.X, n.Y}
		if other, ok := seen[p]; ok {
			t.Fatalf("%s and %s both at %v", n.Label, other, p)
		}
		seen[p] = n.Label
		b := boxes[n.Group]
		if b == nil {
			b = &box{n.X, n.Y, n.X, n.Y}
			boxes[n.Group] = b
		}
		b.x0, b.y0, b.x1, b.y1 = min(b.x0, n.X), min(b.y0, n.Y), max(b.x1, n.X), max(b.y1, n.Y)
	}
	groupOf := map[string]string{}
	for _, g := range d.Groups {
		groupOf[g.ID] = g.Label
	}
	for _, n := range d.Nodes {
		var i int
		if _, err := fmt.Sscanf(n.Label, "svc-%d", &i); err != nil || groupOf[n.Group] != nsName(i) {
			t.Errorf("node %s in group %s", n.Label, groupOf[n.Group])
		}
	}
	for g1, b1 := range boxes {
		for g2, b2 := range boxes {
			if g1 < g2 && b1.x0 <= b2.x1 && b2.x0 <= b1.x1 && b1.y0 <= b2.y1 && b2.y0 <= b1.y1 {
				t.Errorf("blocks %s %v and %s %v overlap", groupOf[g1], *b1, groupOf[g2], *b2)
			}
		}
	}
	// Violations first.
	if len(d.Pairs[0].Violations) == 0 || len(d.Pairs[len(d.Pairs)-1].Violations) != 0 {
		t.Error("pairs in violation are not listed first")
	}
}

// BenchmarkWriteHTML renders the report of 500 workloads and 2,000 service pairs.
func BenchmarkWriteHTML(b *testing.B) {
	a, s := generatedAudit(b, 500)
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := WriteHTML(&out, a, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len()), "page-bytes")
}

// TestHTMLFromDecodedJSON renders a report read back from analyze's JSON, as Write
// does without a Sampler: every listed flow is sampled under its pair.
func TestHTMLFromDecodedJSON(t *testing.T) {
	a, _ := generatedAudit(t, 40)
	var js bytes.Buffer
	if err := Write(&js, a, "json"); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(&js)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := Write(&page, back, "html"); err != nil {
		t.Fatal(err)
	}
	for _, p := range pageData(t, page.Bytes())["pairs"].([]any) {
		p := p.(map[string]any)
		if n, want := len(p["sample"].([]any)), int(p["flows"].(float64)); n != want {
			t.Errorf("pair %v -> %v:%v: %d flows sampled, want its %d", p["client"], p["server"], p["port"], n, want)
		}
	}
}

// FuzzWriteHTML: whatever names, SNIs and ALPNs a capture carries, the page renders,
// its data parses back whole, and nothing in it can end the data's script element.
func FuzzWriteHTML(f *testing.F) {
	f.Add("api.internal", "h2", "x.pcap")
	f.Add(`</script><script>alert(1)</script>`, "<!--", "a\u2028b.pcap")
	f.Add("\xff\xfe", "</SCRIPT", "]]>")
	f.Fuzz(func(t *testing.T, sni, alpn, file string) {
		b := NewBuilder(policy.Default(), nil)
		s := NewSampler()
		b.OnFlow = s.Add
		b.Add(rec("10.0.0.1:40000", "10.0.0.2:443", classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12, SNI: sni, ALPN: []string{alpn}}))
		var out bytes.Buffer
		if err := WriteHTML(&out, b.Build([]string{file}, 1, nil, nil), s); err != nil {
			t.Fatal(err)
		}
		page := out.Bytes()
		start := bytes.Index(page, []byte(`<script id="tlsaudit-data" type="application/json">`))
		if start < 0 {
			t.Fatal("no data script")
		}
		rest := page[start:]
		end := bytes.Index(bytes.ToLower(rest), []byte("</script"))
		var d struct {
			Pairs []struct {
				Sample []Flow `json:"sample"`
			} `json:"pairs"`
		}
		body := rest[bytes.IndexByte(rest, '>')+1 : end]
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("data script cut short: %v", err)
		}
		if bytes.Contains(bytes.ToLower(body), []byte("<!--")) {
			t.Error("data holds <!--, which changes how the script element is parsed")
		}
		var want string // invalid UTF-8 is spelled as JSON spells it
		if enc, err := json.Marshal(sni); err != nil || json.Unmarshal(enc, &want) != nil {
			t.Fatal("json cannot spell the SNI")
		}
		if len(d.Pairs) != 1 || d.Pairs[0].Sample[0].SNI != want {
			t.Errorf("SNI %q did not round-trip", sni)
		}
	})
}
