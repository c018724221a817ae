package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/probe"
	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// probeFormats are the output formats of tlsaudit probe.
var probeFormats = []string{"table", "json", "ndjson", "markdown", "csv"}

// writeProbe writes results in format, one of probeFormats.
func writeProbe(w io.Writer, format string, results []probe.Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Targets []probe.Result `json:"targets"`
		}{results})
	case "ndjson":
		enc := json.NewEncoder(w)
		for i := range results {
			if err := enc.Encode(&results[i]); err != nil {
				return err
			}
		}
		return nil
	case "markdown":
		return writeProbeMarkdown(w, results)
	case "csv":
		return writeProbeCSV(w, results)
	}
	return writeProbeTable(w, results)
}

// probeRow is one target's result spelled as the table, markdown and csv formats show
// it: accepted versions and their ciphers joined, the leaf's expiry as a date.
type probeRow struct {
	accepted, ciphers []string
	expires           string
	fallback          string
}

func rowOf(r *probe.Result) probeRow {
	var row probeRow
	for _, v := range r.Versions {
		if v.Accepted {
			row.accepted = append(row.accepted, v.Version)
			row.ciphers = append(row.ciphers, v.Version+"="+v.Cipher)
		}
	}
	if r.Leaf != nil {
		row.expires = r.Leaf.NotAfter.Format(time.DateOnly)
		if r.Leaf.Expired {
			row.expires += " (expired)"
		}
	}
	row.fallback = r.FallbackSCSV
	switch {
	case r.FallbackSCSV == probe.FallbackUnknown && r.FallbackAnswer != "":
		row.fallback += " (" + r.FallbackAnswer + ")"
	case r.FallbackVersion != "":
		row.fallback += " at " + r.FallbackVersion
	}
	return row
}

func writeProbeTable(w io.Writer, results []probe.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tACCEPTED\tCIPHERS\tCLIENT CERT\tFALLBACK SCSV\tLEAF EXPIRES\tERROR")
	for i := range results {
		r := &results[i]
		row := rowOf(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Target, strings.Join(row.accepted, ","), strings.Join(row.ciphers, " "),
			r.ClientCert, row.fallback, row.expires, r.Error)
	}
	return tw.Flush()
}

// writeProbeMarkdown writes one GitHub-flavoured table row per target, for a CI job's
// summary page or a ticket; every cell that a server or target names is escaped.
func writeProbeMarkdown(w io.Writer, results []probe.Result) error {
	var b strings.Builder
	b.WriteString("## tlsaudit probe\n\n| target | accepted | ciphers | client cert | fallback SCSV | leaf expires | error |\n|---|---|---|---|---|---|---|\n")
	for i := range results {
		r := &results[i]
		row := rowOf(r)
		cells := []string{r.Target, strings.Join(row.accepted, ", "), strings.Join(row.ciphers, " "), r.ClientCert, row.fallback, row.expires, r.Error}
		for _, c := range cells {
			if c == "" {
				c = "-"
			}
			b.WriteString("| " + report.MarkdownCell(c) + " ")
		}
		b.WriteString("|\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// probeCSVColumns are the header of probe's csv format, in order: the scalar fields of
// a JSON result under their JSON names, accepted_versions and ciphers joined by commas
// ("TLS1.3=TLS_AES_128_GCM_SHA256"), and leaf_certificate split into leaf_* columns.
// Columns are only ever added at the end.
var probeCSVColumns = []string{"target", "error", "accepted_versions", "ciphers", "client_cert", "fallback_scsv",
	"fallback_scsv_version", "fallback_scsv_answer", "leaf_subject", "leaf_dns_names", "leaf_ip_addresses",
	"leaf_not_after", "leaf_expired"}

// writeProbeCSV writes one row per target. Certificate names, errors quoting a server
// and targets read from a report are attacker-controlled: every cell goes through
// report.CSVSafe, as analyze's csv does.
func writeProbeCSV(w io.Writer, results []probe.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(probeCSVColumns)
	for i := range results {
		r := &results[i]
		row := rowOf(r)
		cells := []string{r.Target, r.Error, strings.Join(row.accepted, ","), strings.Join(row.ciphers, ","), r.ClientCert,
			r.FallbackSCSV, r.FallbackVersion, r.FallbackAnswer, "", "", "", "", ""}
		if l := r.Leaf; l != nil {
			copy(cells[8:], []string{l.Subject, strings.Join(l.DNSNames, ","), strings.Join(l.IPAddresses, ","),
				l.NotAfter.Format(time.RFC3339Nano), strconv.FormatBool(l.Expired)})
		}
		for j := range cells {
			cells[j] = report.CSVSafe(cells[j])
		}
		cw.Write(cells)
	}
	cw.Flush()
	return cw.Error()
}
