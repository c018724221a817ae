package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/report"
)

// csvCell spells a JSON flow's value of column as the csv format should.
func csvCell(t *testing.T, flow map[string]any, column string) string {
	t.Helper()
	if sub, ok := strings.CutPrefix(column, "server_cert_"); ok {
		cert, _ := flow["server_cert"].(map[string]any)
		if cert == nil {
			return ""
		}
		return report.CSVSafe(fmt.Sprint(cert[sub]))
	}
	switch v := flow[column].(type) {
	case nil: // omitted when empty; booleans are always spelled in csv
		if column == "heartbeat" || column == "heartbeat_accepted" {
			return "false"
		}
		return ""
	case string:
		return report.CSVSafe(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = x.(string)
		}
		return report.CSVSafe(strings.Join(s, ","))
	default:
		t.Fatalf("column %s: JSON value %T has no csv spelling", column, v)
		return ""
	}
}

// TestCSVMatchesJSON checks that the csv format parses back to the flows of the json
// format of the same captures, column by column, and that every JSON flow field has
// a column.
func TestCSVMatchesJSON(t *testing.T) {
	args := []string{"--raw-fingerprints", "--names", pcapDir + "/demo-names.yaml"}
	args = append(args, pcaps("tls12-mtls-openssl.pcap", "https-nginx-curl.pcap", "pg-plain-psql.pcap", "ssh-openssh.pcap", "dns-udp-dig.pcap", "demo-mix.pcapng")...)
	var jsonOut, csvOut, errOut bytes.Buffer
	if code := analyze(append([]string{"--format", "json"}, args...), &jsonOut, &errOut, zerolog.Nop()); code == exitError {
		t.Fatalf("json: exit %d: %s", code, errOut.String())
	}
	if code := analyze(append([]string{"--format", "csv"}, args...), &csvOut, &errOut, zerolog.Nop()); code == exitError {
		t.Fatalf("csv: exit %d: %s", code, errOut.String())
	}
	var doc struct {
		Flows []map[string]any `json:"flows"`
	}
	if err := json.Unmarshal(jsonOut.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	if !slices.Equal(rows[0], report.CSVColumns) {
		t.Fatalf("header %q, want %q", rows[0], report.CSVColumns)
	}
	if len(rows)-1 != len(doc.Flows) || len(doc.Flows) < 6 {
		t.Fatalf("%d rows, %d JSON flows", len(rows)-1, len(doc.Flows))
	}
	// Flows are matched by their ends and start: several workers finish them, and
	// so list them, in an order of their own.
	key := func(cell func(column string) string) string {
		return cell("transport") + " " + cell("client") + " " + cell("server") + " " + cell("first_seen")
	}
	byKey := map[string][]string{}
	for _, row := range rows[1:] {
		byKey[key(func(c string) string { return row[slices.Index(rows[0], c)] })] = row
	}
	for i, flow := range doc.Flows {
		row := byKey[key(func(c string) string { return csvCell(t, flow, c) })]
		if row == nil {
			t.Fatalf("flow %d (%v) has no csv row", i, flow)
		}
		for j, column := range rows[0] {
			if want := csvCell(t, flow, column); row[j] != want {
				t.Errorf("flow %d %s: csv %q, json %q", i, column, row[j], want)
			}
		}
		for k := range flow {
			if !slices.Contains(report.CSVColumns, k) && k != "alpn" && k != "server_cert" {
				t.Errorf("JSON flow field %s has no csv column", k)
			}
		}
	}
}
