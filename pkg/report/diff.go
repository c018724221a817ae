package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// ErrNotReport is returned by Decode for input that is not an audit as Write renders
// it in the json format.
var ErrNotReport = errors.New("not a tlsaudit analyze --format json report")

// Decode reads one audit written by Write in the json format. It is strict about the
// shape, so that a wrong file (a flow per line from ndjson, another tool's JSON) is
// refused instead of comparing as a report without pairs; it accepts fields it does
// not know, so that a report written by a newer tlsaudit still reads.
func Decode(r io.Reader) (*Audit, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReport, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrNotReport)
	}
	for _, k := range []string{"summary", "pairs", "violations"} {
		if v, ok := top[k]; !ok || bytes.Equal(v, []byte("null")) {
			return nil, fmt.Errorf("%w: no %q", ErrNotReport, k)
		}
	}
	var a Audit
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReport, err)
	}
	seen := make(map[pairKey]bool, len(a.Pairs))
	for i := range a.Pairs {
		p := &a.Pairs[i]
		if p.Transport == "" || p.Client == "" || p.Server == "" || p.Class == "" {
			return nil, fmt.Errorf("%w: pair %d lacks transport, client, server or class", ErrNotReport, i)
		}
		if seen[p.key()] {
			return nil, fmt.Errorf("%w: pair %s listed twice", ErrNotReport, p.name())
		}
		seen[p.key()] = true
	}
	return &a, nil
}

// key is the identity Builder aggregated the pair under: a diff matches pairs of two
// audits by it, so the two can never disagree on what one pair is.
func (p *Pair) key() pairKey {
	return pairKey{transport: p.Transport, client: p.Client, server: p.Server, port: p.Port}
}

func (p *Pair) name() string {
	return fmt.Sprintf("%s -> %s:%d/%s", p.Client, p.Server, p.Port, p.Transport)
}

// Diff compares the service pairs of two audits of the same place, an older and a
// newer: what a CI job needs to fail on a regression rather than on every pair that
// was already known. Pairs are matched by their key (transport, client, server, port);
// flows and bytes are not compared, since they change with every capture.
type Diff struct {
	OldFile   string       `json:"old_file"` // the older report, as the caller names it
	NewFile   string       `json:"new_file"`
	Worse     []PairChange `json:"worse"`    // pairs in both that got weaker
	Improved  []PairChange `json:"improved"` // pairs in both that got stronger and none weaker
	Added     []PairChange `json:"new"`      // pairs only in the newer audit
	Vanished  []PairChange `json:"vanished"` // pairs only in the older audit
	Unchanged int          `json:"unchanged"`
}

// PairChange is one pair of a diff with what changed; Old is nil for a new pair and
// New for a vanished one.
type PairChange struct {
	Transport string   `json:"transport"`
	Client    string   `json:"client"`
	Server    string   `json:"server"`
	Port      uint16   `json:"port"`
	Changes   []string `json:"changes"`   // "class tls -> plaintext", "tls TLS1.3 -> TLS1.2", "violation +legacy_tls"
	Violation bool     `json:"violation"` // the newer audit has a violation on the pair
	Old       *Pair    `json:"old,omitempty"`
	New       *Pair    `json:"new,omitempty"`
}

// Failed reports whether the diff should fail a gate: a pair got worse, or a new pair
// is in violation. Vanished pairs and new pairs within the policy do not fail it.
func (d *Diff) Failed() bool {
	if len(d.Worse) > 0 {
		return true
	}
	for _, c := range d.Added {
		if c.Violation {
			return true
		}
	}
	return false
}

// Compare matches the pairs of before and after and sorts each section by client,
// server, port and transport. A pair got worse when its worst class is more severe
// (in the order the report ranks pairs by: plaintext, unknown, tls, ssh/encrypted),
// its weakest negotiated TLS version is lower, or it gained a violation kind; it
// improved on the opposite. A pair that did both counts as worse: a gate must not
// miss a regression because something else on the pair got better.
func Compare(before, after *Audit) *Diff {
	d := &Diff{Worse: []PairChange{}, Improved: []PairChange{}, Added: []PairChange{}, Vanished: []PairChange{}}
	old := make(map[pairKey]*Pair, len(before.Pairs))
	for i := range before.Pairs {
		old[before.Pairs[i].key()] = &before.Pairs[i]
	}
	for i := range after.Pairs {
		n := &after.Pairs[i]
		o, ok := old[n.key()]
		if !ok {
			d.Added = append(d.Added, change(nil, n, nil))
			continue
		}
		delete(old, n.key())
		worse, better := comparePair(o, n)
		switch {
		case len(worse) > 0:
			d.Worse = append(d.Worse, change(o, n, append(worse, better...)))
		case len(better) > 0:
			d.Improved = append(d.Improved, change(o, n, better))
		default:
			d.Unchanged++
		}
	}
	for _, o := range old {
		d.Vanished = append(d.Vanished, change(o, nil, nil))
	}
	for _, s := range [][]PairChange{d.Worse, d.Improved, d.Added, d.Vanished} {
		slices.SortFunc(s, func(x, y PairChange) int {
			return cmp.Or(cmp.Compare(x.Client, y.Client), cmp.Compare(x.Server, y.Server),
				cmp.Compare(x.Port, y.Port), cmp.Compare(x.Transport, y.Transport))
		})
	}
	return d
}

func change(o, n *Pair, changes []string) PairChange {
	p := cmp.Or(n, o)
	c := PairChange{Transport: p.Transport, Client: p.Client, Server: p.Server, Port: p.Port, Changes: changes, Old: o, New: n}
	if c.Changes == nil {
		c.Changes = []string{}
	}
	c.Violation = n != nil && len(n.Violations) > 0
	return c
}

// comparePair lists what got weaker and what got stronger from o to n.
func comparePair(o, n *Pair) (worse, better []string) {
	if so, sn := classSeverity[o.Class], classSeverity[n.Class]; so != sn {
		c := fmt.Sprintf("class %s -> %s", o.Class, n.Class)
		if sn > so {
			worse = append(worse, c)
		} else {
			better = append(better, c)
		}
	}
	vo, okO := weakestVersion(o.Versions)
	vn, okN := weakestVersion(n.Versions)
	if okO && okN && vo.rank != vn.rank {
		c := fmt.Sprintf("tls %s -> %s", vo.name, vn.name)
		if vn.rank < vo.rank {
			worse = append(worse, c)
		} else {
			better = append(better, c)
		}
	}
	for _, k := range n.Violations {
		if !slices.Contains(o.Violations, k) {
			worse = append(worse, "violation +"+k)
		}
	}
	for _, k := range o.Violations {
		if !slices.Contains(n.Violations, k) {
			better = append(better, "violation -"+k)
		}
	}
	return worse, better
}

type rankedVersion struct {
	name string
	rank int
}

// versionRank orders the version names the report writes by the security each has
// (classify.Version.Normalized: DTLS 1.2 as TLS 1.2, …); SSL 2 ranks lowest.
var versionRank = func() map[string]int {
	m := map[string]int{}
	for _, v := range []classify.Version{classify.VersionSSL2, classify.VersionSSL3, classify.VersionTLS10,
		classify.VersionTLS11, classify.VersionTLS12, classify.VersionTLS13,
		classify.VersionDTLS10, classify.VersionDTLS12, classify.VersionDTLS13} {
		m[v.String()] = int(v.Normalized())
	}
	m[classify.VersionSSL2.String()] = 1
	return m
}()

// weakestVersion returns the lowest ranked version among a pair's; names it does not
// know (an unassigned code point, "0x1234") are left out, as a version rank cannot say.
func weakestVersion(versions Counts) (rankedVersion, bool) {
	var w rankedVersion
	found := false
	for _, name := range versions.Names() {
		r, ok := versionRank[name]
		if ok && (!found || r < w.rank) {
			w, found = rankedVersion{name, r}, true
		}
	}
	return w, found
}

// DiffFormats are the formats accepted by WriteDiff.
var DiffFormats = []string{"table", "markdown", "json"}

// WriteDiff renders d in format to w.
func WriteDiff(w io.Writer, d *Diff, format string) error {
	switch format {
	case "table":
		return writeDiffTable(w, d)
	case "markdown":
		return writeDiffMarkdown(w, d)
	case "json":
		return writeJSON(w, d)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(DiffFormats, ", "))
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (d *Diff) headline() string {
	inViolation := 0
	for _, c := range d.Added {
		if c.Violation {
			inViolation++
		}
	}
	return fmt.Sprintf("%d worse, %d improved, %d new (%d in violation), %d vanished, %d unchanged",
		len(d.Worse), len(d.Improved), len(d.Added), inViolation, len(d.Vanished), d.Unchanged)
}

// diffSections are the sections in the order both renderers print them.
func (d *Diff) sections() []struct {
	title   string
	changes []PairChange
} {
	return []struct {
		title   string
		changes []PairChange
	}{
		{"Worse", d.Worse}, {"Improved", d.Improved}, {"New pairs", d.Added}, {"Vanished pairs", d.Vanished},
	}
}

// pairCells are the class, TLS versions and violations of p, "-" when p is nil or has none.
func pairCells(p *Pair) (class, versions, violations string) {
	if p == nil {
		return "-", "-", "-"
	}
	return p.Class, dash(strings.Join(p.Versions.Names(), ",")), dash(strings.Join(p.Violations, ","))
}

// arrow renders a before and after cell: "tls -> plaintext", or one value when equal.
func arrow(o, n string) string {
	if o == n {
		return o
	}
	return o + " -> " + n
}

func (c *PairChange) cells() (class, versions, violations, changes string) {
	oc, ov, ox := pairCells(c.Old)
	nc, nv, nx := pairCells(c.New)
	switch {
	case c.Old == nil:
		return nc, nv, nx, dash(strings.Join(c.Changes, "; "))
	case c.New == nil:
		return oc, ov, ox, dash(strings.Join(c.Changes, "; "))
	}
	return arrow(oc, nc), arrow(ov, nv), arrow(ox, nx), dash(strings.Join(c.Changes, "; "))
}

func writeDiffTable(w io.Writer, d *Diff) error {
	bw := &errWriter{w: w}
	bw.printf("tlsaudit diff %s -> %s: %s\n", d.OldFile, d.NewFile, d.headline())
	for _, s := range d.sections() {
		bw.printf("\n%s\n", strings.ToUpper(s.title))
		if len(s.changes) == 0 {
			bw.printf("none\n")
			continue
		}
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT\tSERVER\tPORT\tPROTO\tCLASS\tTLS\tVIOLATIONS\tCHANGES")
		for _, c := range s.changes {
			class, versions, viol, changes := c.cells()
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", c.Client, c.Server, c.Port, c.Transport, class, versions, viol, changes)
		}
		tw.Flush()
	}
	return bw.err
}

// writeDiffMarkdown renders the diff for a CI job's summary page or a pull request.
func writeDiffMarkdown(w io.Writer, d *Diff) error {
	bw := &errWriter{w: w}
	bw.printf("## tlsaudit diff\n\n%s → %s: %s.\n", mdCode(d.OldFile), mdCode(d.NewFile), d.headline())
	for _, s := range d.sections() {
		bw.printf("\n### %s\n\n", s.title)
		if len(s.changes) == 0 {
			bw.printf("None.\n")
			continue
		}
		bw.printf("| client | server | port | proto | class | TLS | violations | changes |\n|---|---|---:|---|---|---|---|---|\n")
		for _, c := range s.changes {
			class, versions, viol, changes := c.cells()
			bw.printf("| %s | %s | %d | %s | %s | %s | %s | %s |\n", mdCell(c.Client), mdCell(c.Server), c.Port, mdCell(c.Transport),
				mdCell(class), mdCell(versions), mdCell(viol), mdCell(changes))
		}
	}
	return bw.err
}
