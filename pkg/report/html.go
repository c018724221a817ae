package report

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// The page, its style and script, and the graph library are embedded so that the
// report is one file that opens offline. Cytoscape.js (MIT, see html/vendor/cytoscape/
// LICENSE) draws the map: it pans, zooms and hit-tests thousands of edges on a canvas;
// the positions are computed here (layout.go), so the browser runs no layout.
//
// The embedded files stay in the executable's read-only data and the template is
// parsed on the first HTML report: the other formats pay nothing for them at start.
var (
	//go:embed html/page.html.tmpl
	htmlPageText string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string
	//go:embed html/vendor/cytoscape/cytoscape.min.js
	htmlLib string

	htmlPage = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("page").Parse(htmlPageText))
	})
)

// Grade is how a service pair's edge is coloured: its weakest class seen.
type Grade struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Color string `json:"color"` // CSS hex colour
}

// Grades from the weakest to the strongest; unknown last, because it says nothing
// either way. A pair takes the first grade any of its flows has; unknown only when none
// of its flows is known.
var Grades = []Grade{
	{"plaintext", "plaintext", "#d62728"},
	{"legacy", "TLS below the minimum", "#ff7f0e"},
	{"tls12", "TLS 1.2", "#e5c100"},
	{"tls13", "TLS 1.3", "#2ca02c"},
	{"encrypted", "SSH / other encryption", "#1f77b4"},
	{"unknown", "unknown", "#8c8c8c"},
}

// gradeOf grades one category (a TLS version or a class) against the minimum version.
// TLS whose version was not seen grades as unknown: its strength is not known.
func gradeOf(cat string, minRank int) string {
	if r, ok := versionRank[cat]; ok {
		switch {
		case r < minRank:
			return "legacy"
		case r < versionRank["TLS1.3"]:
			return "tls12"
		}
		return "tls13"
	}
	switch cat {
	case "plaintext":
		return "plaintext"
	case "ssh", "encrypted":
		return "encrypted"
	}
	return "unknown"
}

// pairGrade is the weakest grade among a pair's classes and TLS versions.
func pairGrade(p *Pair, minRank int) string {
	worst := len(Grades) - 1
	consider := func(cat string) {
		g := gradeOf(cat, minRank)
		if i := slices.IndexFunc(Grades, func(x Grade) bool { return x.Key == g }); i < worst {
			worst = i
		}
	}
	for _, c := range p.Classes {
		if c.N > 0 && c.Name != "tls" {
			consider(c.Name)
		}
	}
	for _, v := range p.Versions {
		if v.N > 0 {
			consider(v.Name)
		}
	}
	return Grades[worst].Key
}

// htmlData is everything the page's script reads, written into the page as JSON.
type htmlData struct {
	Generated  time.Time    `json:"generated"`
	Summary    *Summary     `json:"summary"`
	Internal   Tally        `json:"internal"` // internal flows and bytes by category
	Categories []htmlCat    `json:"categories"`
	Grades     []Grade      `json:"grades"`
	Groups     []layoutNode `json:"groups"`
	Nodes      []layoutNode `json:"nodes"`
	Pairs      []htmlPair   `json:"pairs"`
}

// htmlCat is one category of the summary's shares, in display order, with its grade.
type htmlCat struct {
	Key       string `json:"key"`
	Grade     string `json:"grade"`
	Encrypted bool   `json:"encrypted"`
}

// htmlPair is a pair as the page draws it: an edge from Src to Dst and a table row.
type htmlPair struct {
	Pair
	ID            int    `json:"id"`
	Src           string `json:"src"`
	Dst           string `json:"dst"`
	Grade         string `json:"grade"`
	Sample        []Flow `json:"sample"`
	SampleOmitted int    `json:"sample_omitted"`
}

// WriteHTML renders the audit as one self-contained HTML page: a summary header, a
// service map (workloads grouped by namespace, pairs as edges coloured by grade and
// sized by bytes) and a sortable, filterable table of pairs; clicking an edge or a row
// lists the pair's sampled flows. s supplies the samples and internal shares (nil:
// taken from a.Flows). Every value from the capture is written as JSON inside the page
// and set as text by the script, never parsed as HTML.
func WriteHTML(w io.Writer, a *Audit, s *Sampler) error {
	if s == nil {
		s = SampleFrom(a)
	}
	data, err := json.Marshal(buildHTMLData(a, s, time.Now().UTC()))
	if err != nil {
		return fmt.Errorf("encode html data: %w", err)
	}
	err = htmlPage().Execute(w, map[string]any{
		"Title": "tlsaudit: " + strings.Join(a.Summary.Files, ", "),
		"CSS":   template.CSS(htmlCSS),
		"Lib":   template.JS(htmlLib),
		"JS":    template.JS(htmlJS),
		// encoding/json escapes <, > and & in strings, so the data cannot end the
		// script element it is written into.
		"Data": template.JS(data),
	})
	if err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

func buildHTMLData(a *Audit, s *Sampler, now time.Time) *htmlData {
	minRank, ok := versionRank[a.Summary.MinTLSVersion]
	if !ok {
		minRank = versionRank["TLS1.2"]
	}
	d := &htmlData{Generated: now, Summary: &a.Summary, Internal: s.internal, Grades: Grades, Categories: []htmlCat{}}
	for c := range s.internal.Flows {
		d.Categories = append(d.Categories, htmlCat{Key: c, Grade: gradeOf(c, minRank), Encrypted: c == "tls" || c == "ssh" || c == "encrypted" || versionRank[c] > 0})
	}
	gradeIndex := func(g string) int { return slices.IndexFunc(Grades, func(x Grade) bool { return x.Key == g }) }
	slices.SortFunc(d.Categories, func(x, y htmlCat) int {
		return cmp.Or(cmp.Compare(gradeIndex(x.Grade), gradeIndex(y.Grade)), cmp.Compare(x.Key, y.Key))
	})
	g := newGraph()
	d.Pairs = make([]htmlPair, len(a.Pairs))
	for i := range a.Pairs {
		p := &a.Pairs[i]
		k := p.key()
		d.Pairs[i] = htmlPair{
			Pair: *p, ID: i, Src: g.node(p.Client), Dst: g.node(p.Server), Grade: pairGrade(p, minRank),
			Sample: s.byPair[k], SampleOmitted: s.omitted[k],
		}
		if d.Pairs[i].Sample == nil {
			d.Pairs[i].Sample = []Flow{}
		}
	}
	// Violations first, then by grade, then the most bytes.
	unviolated := func(p *htmlPair) int {
		if len(p.Violations) > 0 {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(d.Pairs, func(x, y htmlPair) int {
		return cmp.Or(cmp.Compare(unviolated(&x), unviolated(&y)),
			cmp.Compare(gradeIndex(x.Grade), gradeIndex(y.Grade)), cmp.Compare(y.Bytes, x.Bytes))
	})
	d.Groups, d.Nodes = g.layout()
	if d.Groups == nil { // the page's script wants lists, even empty ones
		d.Groups, d.Nodes = []layoutNode{}, []layoutNode{}
	}
	return d
}
