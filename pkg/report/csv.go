package report

import (
	"strconv"
	"strings"
	"time"
)

// csvColumn is one column of the csv format: its header, the JSON field name of the
// flow record it holds, and how to spell a flow's value.
type csvColumn struct {
	name  string
	value func(f *Flow) string
}

// CSVColumns are the header of the csv format, in order: the scalar fields of a JSON
// flow under their JSON names, with alpn joined by commas and server_cert split into
// server_cert_subject, server_cert_issuer and server_cert_not_after. Times are RFC 3339
// with nanoseconds in UTC as in JSON, booleans true or false, absent values empty.
// Columns are only ever added at the end, so scripts may read them by position.
// Values are written as they are (spreadsheet formula prefixes are not escaped): names
// and SNIs come from the capture, so open the file as data, not as a formula sheet.
var CSVColumns = func() []string {
	names := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		names[i] = c.name
	}
	return names
}()

var csvColumns = []csvColumn{
	{"transport", func(f *Flow) string { return f.Transport }},
	{"client", func(f *Flow) string { return f.Client }},
	{"server", func(f *Flow) string { return f.Server }},
	{"first_seen", func(f *Flow) string { return csvTime(f.FirstSeen) }},
	{"last_seen", func(f *Flow) string { return csvTime(f.LastSeen) }},
	{"packets", func(f *Flow) string { return strconv.FormatUint(f.Packets, 10) }},
	{"bytes", func(f *Flow) string { return strconv.FormatUint(f.Bytes, 10) }},
	{"class", func(f *Flow) string { return f.Class }},
	{"tls_version", func(f *Flow) string { return f.TLSVersion }},
	{"tls_version_detail", func(f *Flow) string { return f.TLSVersionDetail }},
	{"app_protocol", func(f *Flow) string { return f.AppProtocol }},
	{"starttls", func(f *Flow) string { return strconv.FormatBool(f.StartTLS) }},
	{"sni", func(f *Flow) string { return f.SNI }},
	{"alpn", func(f *Flow) string { return strings.Join(f.ALPN, ",") }},
	{"alpn_selected", func(f *Flow) string { return f.ALPNSelected }},
	{"cipher", func(f *Flow) string { return f.Cipher }},
	{"group", func(f *Flow) string { return f.Group }},
	{"ja3", func(f *Flow) string { return f.JA3 }},
	{"ja3s", func(f *Flow) string { return f.JA3S }},
	{"ja4", func(f *Flow) string { return f.JA4 }},
	{"ja3_string", func(f *Flow) string { return f.JA3String }},
	{"ja3s_string", func(f *Flow) string { return f.JA3SString }},
	{"ja4_r", func(f *Flow) string { return f.JA4Raw }},
	{"resumed", func(f *Flow) string { return strconv.FormatBool(f.Resumed) }},
	{"hrr", func(f *Flow) string { return strconv.FormatBool(f.HRR) }},
	{"client_cert", func(f *Flow) string { return csvBool(f.ClientCert) }},
	{"ech", func(f *Flow) string { return strconv.FormatBool(f.ECH) }},
	{"post_quantum", func(f *Flow) string { return strconv.FormatBool(f.PostQuantum) }},
	{"heartbeat", func(f *Flow) string { return strconv.FormatBool(f.Heartbeat) }},
	{"heartbeat_accepted", func(f *Flow) string { return strconv.FormatBool(f.HeartbeatAccepted) }},
	{"server_cert_subject", func(f *Flow) string { return certField(f, func(c *CertJSON) string { return c.Subject }) }},
	{"server_cert_issuer", func(f *Flow) string { return certField(f, func(c *CertJSON) string { return c.Issuer }) }},
	{"server_cert_not_after", func(f *Flow) string { return certField(f, func(c *CertJSON) string { return csvTime(c.NotAfter) }) }},
	{"internal", func(f *Flow) string { return strconv.FormatBool(f.Internal) }},
	{"client_name", func(f *Flow) string { return f.ClientName }},
	{"server_name", func(f *Flow) string { return f.ServerName }},
	{"client_namespace", func(f *Flow) string { return f.ClientNamespace }},
	{"client_workload", func(f *Flow) string { return f.ClientWorkload }},
	{"client_kind", func(f *Flow) string { return f.ClientKind }},
	{"client_pod", func(f *Flow) string { return f.ClientPod }},
	{"server_namespace", func(f *Flow) string { return f.ServerNamespace }},
	{"server_workload", func(f *Flow) string { return f.ServerWorkload }},
	{"server_kind", func(f *Flow) string { return f.ServerKind }},
	{"server_pod", func(f *Flow) string { return f.ServerPod }},
	{"server_service", func(f *Flow) string { return f.ServerService }},
	{"midstream", func(f *Flow) string { return strconv.FormatBool(f.Midstream) }},
	{"via", func(f *Flow) string { return f.Via }},
	{"quic_version", func(f *Flow) string { return f.QUICVersion }},
	{"reason", func(f *Flow) string { return f.Reason }},
	{"parse_error", func(f *Flow) string { return f.ParseError }},
	{"violation", func(f *Flow) string { return f.Violation }},
	{"exempt", func(f *Flow) string { return f.Exempt }},
	{"client_cert_requested", func(f *Flow) string { return csvBool(f.ClientCertRequested) }},
	{"client_auth_evidence", func(f *Flow) string { return f.ClientAuthEvidence }},
	{"offered_versions", func(f *Flow) string { return strings.Join(f.OfferedVersions, ",") }},
	{"client_allows_legacy", func(f *Flow) string { return csvBool(f.ClientAllowsLegacy) }},
	{"server_lacks_tls13", func(f *Flow) string { return strconv.FormatBool(f.ServerLacksTLS13) }},
	{"fallback_scsv", func(f *Flow) string { return strconv.FormatBool(f.FallbackSCSV) }},
	{"mesh", func(f *Flow) string { return f.Mesh }},
}

func csvTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// csvBool spells a yes/no/unknown field: true, false, or empty when unknown.
func csvBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func certField(f *Flow, field func(*CertJSON) string) string {
	if f.ServerCert == nil {
		return ""
	}
	return field(f.ServerCert)
}

// CSVSafe defuses spreadsheet formula injection (CWE-1236): a cell that starts with
// "=", "+", "-", "@", a tab or a carriage return gets a leading apostrophe, which
// spreadsheets read as "this is text" and do not show. Every other value is returned
// as it is; no column the report writes legitimately starts with one of these.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
