package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Formats accepted by Write.
var Formats = []string{"table", "json", "ndjson", "markdown", "csv", "html"}

// Write renders the audit in format to w. The formats that list flows are written
// as a Stream would write them, from the flows the audit kept.
func Write(w io.Writer, a *Audit, format string) error {
	switch format {
	case "table":
		return writeTable(w, a)
	case "markdown":
		return writeMarkdown(w, a)
	case "html":
		return WriteHTML(w, a, nil)
	}
	if !Streaming(format) {
		return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	s, err := NewStream(w, format)
	if err != nil {
		return err
	}
	for i := range a.Flows {
		s.Flow(&a.Flows[i])
	}
	return s.Close(a)
}

func writeTable(w io.Writer, a *Audit) error {
	s := &a.Summary
	bw := &errWriter{w: w}
	bw.printf("tlsaudit: %d packets, %d flows (%d internal), %d service pairs from %s\n",
		s.Packets, s.Flows, s.InternalFlows, s.Pairs, strings.Join(s.Files, ", "))
	bw.printf("classes: %s\n", counts(s.Classes))
	if len(s.TLSVersions) > 0 {
		bw.printf("tls versions: %s\n", counts(s.TLSVersions))
	}
	if len(s.UnknownReasons) > 0 {
		bw.printf("unknown because: %s\n", counts(s.UnknownReasons))
	}
	if len(s.ParseErrors) > 0 {
		bw.printf("parse errors: %s\n", counts(s.ParseErrors))
	}
	if len(s.Limits) > 0 {
		bw.printf("limits hit: %s\n", countsU(s.Limits))
	}
	if s.FlowsFolded > 0 {
		bw.printf("pairs past the limit: %d flows aggregated as %q\n", s.FlowsFolded, otherPair)
	}

	bw.printf("\nVIOLATIONS (internal pairs; plaintext, or TLS below %s)\n", s.MinTLSVersion)
	if len(a.Violations) == 0 {
		bw.printf("none\n")
	} else {
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tCLIENT\tSERVER\tPORT\tPROTO\tFLOWS\tDETAIL\tSAMPLE")
		for _, v := range a.Violations {
			detail := strings.TrimSpace(v.App + " " + v.TLSVersion)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", v.Kind, v.Client, v.Server, v.Port, v.Transport, v.Flows, dash(detail), v.Sample)
		}
		tw.Flush()
	}

	bw.printf("\nSERVICE PAIRS\n")
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSERVER\tPORT\tPROTO\tCLASS\tTLS\tAPP\tFLOWS\tBYTES\tINTERNAL\tSNI")
	for _, p := range a.Pairs {
		cls := p.Class
		if len(p.Classes) > 1 {
			cls = counts(p.Classes.Map())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
			p.Client, p.Server, p.Port, p.Transport, cls, dash(strings.Join(p.Versions.Names(), ",")),
			dash(strings.Join(p.Apps, ",")), p.Flows, humanBytes(p.Bytes), yesNo(p.Internal), dash(strings.Join(p.SNIs, ",")))
	}
	tw.Flush()
	for _, e := range s.Errors {
		bw.printf("\nerror: %s\n", e)
	}
	return bw.err
}

// counts renders a map as "a 3, b 1", largest first.
func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func countsU(m map[string]uint64) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// errWriter remembers the first write error so rendering code can stay linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// writeMarkdown renders the summary, violations and pairs as GitHub-flavoured
// Markdown, for a CI job's summary page or a ticket.
func writeMarkdown(w io.Writer, a *Audit) error {
	s := &a.Summary
	bw := &errWriter{w: w}
	bw.printf("## tlsaudit\n\n%d flows (%d internal) in %d service pairs, %d packets, from %s.\n\n",
		s.Flows, s.InternalFlows, s.Pairs, s.Packets, mdCode(strings.Join(s.Files, ", ")))
	bw.printf("Classes: %s.", counts(s.Classes))
	if len(s.TLSVersions) > 0 {
		bw.printf(" TLS versions: %s.", counts(s.TLSVersions))
	}
	if len(s.UnknownReasons) > 0 {
		bw.printf(" Unknown because: %s.", counts(s.UnknownReasons))
	}
	if len(s.Limits) > 0 {
		bw.printf(" Limits hit: %s.", countsU(s.Limits))
	}
	if s.FlowsFolded > 0 {
		bw.printf(" Pairs past the limit: %d flows aggregated as %s.", s.FlowsFolded, mdCode(otherPair))
	}
	bw.printf("\n\n### Violations (internal pairs: plaintext, or TLS below %s)\n\n", s.MinTLSVersion)
	if len(a.Violations) == 0 {
		bw.printf("None.\n")
	} else {
		bw.printf("| kind | client | server | port | proto | flows | detail | sample |\n|---|---|---|---:|---|---:|---|---|\n")
		for _, v := range a.Violations {
			bw.printf("| %s | %s | %s | %d | %s | %d | %s | %s |\n", v.Kind, mdCell(v.Client), mdCell(v.Server), v.Port, v.Transport,
				v.Flows, mdCell(dash(strings.TrimSpace(v.App+" "+v.TLSVersion))), mdCode(v.Sample))
		}
	}
	bw.printf("\n### Service pairs\n\n| client | server | port | proto | class | TLS | app | flows | bytes | internal | SNI |\n|---|---|---:|---|---|---|---|---:|---:|---|---|\n")
	for _, p := range a.Pairs {
		cls := p.Class
		if len(p.Classes) > 1 {
			cls = counts(p.Classes.Map())
		}
		bw.printf("| %s | %s | %d | %s | %s | %s | %s | %d | %s | %s | %s |\n", mdCell(p.Client), mdCell(p.Server), p.Port, p.Transport, cls,
			dash(strings.Join(p.Versions.Names(), ", ")), mdCell(dash(strings.Join(p.Apps, ", "))),
			p.Flows, humanBytes(p.Bytes), yesNo(p.Internal), mdCell(dash(strings.Join(p.SNIs, ", "))))
	}
	for _, e := range s.Errors {
		bw.printf("\n**Error:** %s\n", mdCell(e))
	}
	return bw.err
}

// mdCell escapes what would break a Markdown table cell; names and SNIs come from
// the capture, so they are attacker-controlled text.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// MarkdownCell escapes s for a cell of a GitHub-flavoured Markdown table, as every
// markdown format of tlsaudit does: s may come from a capture or a server.
func MarkdownCell(s string) string { return mdCell(s) }

// mdCode puts s in a code span: no HTML escaping there, but pipes, backticks and line
// breaks still must not leak.
func mdCode(s string) string {
	return "`" + strings.NewReplacer("|", "\\|", "`", "'", "\n", " ", "\r", " ").Replace(s) + "`"
}
