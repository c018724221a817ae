package policy

import (
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

func TestPolicyLoadGoodConfig(t *testing.T) {
	p, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantInternal := []string{"10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/16", "172.20.0.0/16", "fd00:10::/108"}
	var got []string
	for _, x := range p.Internal {
		got = append(got, x.String())
	}
	if !slices.Equal(got, wantInternal) {
		t.Errorf("Internal = %v, want %v", got, wantInternal)
	}
	if p.MinVersion != classify.VersionTLS13 {
		t.Errorf("MinVersion = %v", p.MinVersion)
	}
	if len(p.Exemptions) != 3 || p.Exemptions[0].ServerPort != 6379 || p.Exemptions[0].Line != 9 {
		t.Errorf("Exemptions = %+v", p.Exemptions)
	}
	if want := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC); !p.Exemptions[0].Expires.Equal(want) {
		t.Errorf("expires = %v, want the end of 2099-12-31 (%v)", p.Exemptions[0].Expires, want)
	}
	if !slices.Equal(p.AlertKinds, []string{KindPlaintext}) || p.Alerts(KindLegacyTLS) {
		t.Errorf("AlertKinds = %v", p.AlertKinds)
	}
	if p.AlertLabels["severity"] != "critical" || p.AlertLabels["team"] != "platform-security" {
		t.Errorf("AlertLabels = %v", p.AlertLabels)
	}
	if p.SeriesCap != 500 || p.AlertResolveAfter != 2*time.Minute {
		t.Errorf("SeriesCap %d, AlertResolveAfter %v", p.SeriesCap, p.AlertResolveAfter)
	}
	if p.Source != "testdata/good.yaml" {
		t.Errorf("Source = %q", p.Source)
	}
}

func TestPolicyEmptyConfigIsDefault(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "exemptions: []\n"} {
		p, err := Parse([]byte(doc), "empty.yaml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		d := Default()
		if !slices.Equal(p.Internal, d.Internal) || p.MinVersion != d.MinVersion || p.SeriesCap != DefaultSeriesCap ||
			p.AlertResolveAfter != DefaultAlertResolveAfter || !slices.Equal(p.AlertKinds, Kinds) || p.AlertLabels["severity"] != "warning" {
			t.Errorf("%q: %+v, want the defaults", doc, p)
		}
	}
}

// TestPolicyLoadBadConfigs checks that every bad file fails with an error that names
// the field and its line.
func TestPolicyLoadBadConfigs(t *testing.T) {
	tests := []struct {
		file  string
		line  int
		field string
		msg   string
	}{
		{"unknown-field.yaml", 2, "min_tls_verison", "unknown field"},
		{"unknown-exemption-field.yaml", 4, "exemptions[0].sever_namespace", "unknown field"},
		{"bad-cidr.yaml", 3, "internal_cidrs[1]", `"10.300.0.0/16" is not a CIDR`},
		{"bad-pod-cidr.yaml", 1, "pod_cidrs", "want a list"},
		{"bad-version.yaml", 2, "min_tls_version", `unknown TLS version "TLS1.4"`},
		{"exemption-without-reason.yaml", 4, "exemptions[1].reason", "required"},
		{"bad-expires.yaml", 4, "exemptions[0].expires", `"31/12/2025" is not a date`},
		{"exemption-matches-everything.yaml", 2, "exemptions[0]", "matches everything"},
		{"bad-alert-class.yaml", 1, "alert_classes[1]", `unknown violation kind "ssh"`},
		{"reserved-label.yaml", 3, "alert_labels.alertname", "set by tlsaudit itself"},
		{"bad-series-cap.yaml", 1, "series_cap", `not "lots"`},
		{"bad-resolve-after.yaml", 1, "alert_resolve_after", "positive duration"},
		{"bad-port.yaml", 3, "exemptions[0].server_port", "from 1 to 65535"},
		{"syntax.yaml", 1, "", "did not find expected"},
		{"duplicate-key.yaml", 2, "series_cap", "already defined"},
		{"require-unknown-field.yaml", 2, "require_mtls[0].namespce", "unknown field"},
		{"require-bad-cidr.yaml", 3, "require_tls13[1].server_cidr", `"10.0.0.0/33" is not a CIDR`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			p, err := Load(path)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", p)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FieldError", err, err)
			}
			if fe.Line != tt.line || fe.Field != tt.field || fe.File != path {
				t.Errorf("error at %s:%d field %q, want %s:%d field %q (%v)", fe.File, fe.Line, fe.Field, path, tt.line, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			want := path + ":" + strconv.Itoa(tt.line)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
	if n := len(mustGlob(t, "testdata/bad/*.yaml")); n != len(tests) {
		t.Errorf("%d files in testdata/bad, %d tested", n, len(tests))
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPolicyManyErrorsAtOnce(t *testing.T) {
	_, err := Parse([]byte("min_tls_version: TLS9\nseries_cap: 0\nexemptions:\n  - server_port: 1\n"), "x.yaml")
	for _, want := range []string{"x.yaml:1: min_tls_version", "x.yaml:2: series_cap", "x.yaml:4: exemptions[0].reason"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not list %q", err, want)
		}
	}
}

func TestPolicyJudgeExemptions(t *testing.T) {
	p, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain := &classify.Verdict{Class: classify.ClassPlaintext}
	tls10 := &classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS10}
	tls12 := &classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS12}
	a := netip.MustParseAddr
	now := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		ends     Ends
		v        *classify.Verdict
		at       time.Time
		kind     string
		exemptBy string
	}{
		{"plaintext internal", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 80}, plain, now, KindPlaintext, ""},
		{"external server", Ends{Client: a("10.1.0.1"), Server: a("8.8.8.8"), ServerPort: 80}, plain, now, "", ""},
		{"pod cidr is internal", Ends{Client: a("100.64.3.1"), Server: a("10.2.0.1"), ServerPort: 80}, plain, now, KindPlaintext, ""},
		{"TLS 1.2 below the configured 1.3", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 443}, tls12, now, KindLegacyTLS, ""},
		{"cache exempt", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 6379, ServerNamespace: "cache"}, plain, now, "", "legacy cache"},
		{"cache exemption is for plaintext only", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 6379, ServerNamespace: "cache"}, tls10, now, KindLegacyTLS, ""},
		{"cache exemption other port", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 6380, ServerNamespace: "cache"}, plain, now, KindPlaintext, ""},
		{"cache exemption expired", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 6379, ServerNamespace: "cache"}, plain, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), KindPlaintext, ""},
		{"cache exemption last day", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 6379, ServerNamespace: "cache"}, plain, time.Date(2099, 12, 31, 23, 59, 0, 0, time.UTC), "", "legacy cache"},
		{"monitoring cidr", Ends{Client: a("10.9.1.1"), Server: a("10.2.0.1"), ServerPort: 9100}, plain, now, "", "monitoring"},
		{"monitoring cidr, IPv4-mapped", Ends{Client: a("::ffff:10.9.1.1"), Server: a("10.2.0.1"), ServerPort: 9100}, plain, now, "", "monitoring"},
		{"monitoring other client", Ends{Client: a("10.8.1.1"), Server: a("10.2.0.1"), ServerPort: 9100}, plain, now, KindPlaintext, ""},
		{"expired namespace exemption", Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 80, ClientNamespace: "old"}, plain, now, KindPlaintext, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, x := p.Judge(tt.ends, tt.v, tt.at)
			if kind != tt.kind {
				t.Errorf("kind %q, want %q", kind, tt.kind)
			}
			switch {
			case tt.exemptBy == "" && x != nil:
				t.Errorf("exempted by %q", x.Reason)
			case tt.exemptBy != "" && (x == nil || !strings.HasPrefix(x.Reason, tt.exemptBy)):
				t.Errorf("exemption %+v, want %q", x, tt.exemptBy)
			}
		})
	}
}

func TestPolicyNamespaceEitherEnd(t *testing.T) {
	p, err := Parse([]byte("exemptions:\n  - reason: r\n    namespace: tools\n"), "ns.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain := &classify.Verdict{Class: classify.ClassPlaintext}
	e := Ends{Client: netip.MustParseAddr("10.0.0.1"), Server: netip.MustParseAddr("10.0.0.2"), ServerPort: 80}
	for _, tt := range []struct {
		client, server, want string
	}{{"tools", "", ""}, {"", "tools", ""}, {"web", "api", KindPlaintext}} {
		e.ClientNamespace, e.ServerNamespace = tt.client, tt.server
		if kind, _ := p.Judge(e, plain, time.Now()); kind != tt.want {
			t.Errorf("%s -> %s: %q, want %q", tt.client, tt.server, kind, tt.want)
		}
	}
}

func TestPolicyDefaultKeepsOldAPI(t *testing.T) {
	p := Default()
	if !p.IsInternal(netip.MustParseAddr("10.1.2.3")) || p.IsInternal(netip.MustParseAddr("1.1.1.1")) {
		t.Error("IsInternal")
	}
	if got := p.Violation(&classify.Verdict{Class: classify.ClassTLS, Version: classify.VersionTLS11}); got != KindLegacyTLS {
		t.Errorf("Violation(TLS1.1) = %q", got)
	}
	if got := p.Violation(&classify.Verdict{Class: classify.ClassTLS}); got != "" {
		t.Errorf("Violation(TLS, version unseen) = %q", got)
	}
	c := p.Clone()
	c.AlertLabels["team"] = "x"
	if _, ok := p.AlertLabels["team"]; ok {
		t.Error("Clone shares AlertLabels")
	}
}

func TestPolicyRequirements(t *testing.T) {
	p, err := Parse([]byte(`min_tls_version: TLS1.2
require_tls13:
  - namespace: payments
require_mtls:
  - server_namespace: payments
exemptions:
  - reason: metrics scraper has no client certificate
    server_port: 9090
    kinds: [no_mtls]
`), "require.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.RequireTLS13) != 1 || p.RequireTLS13[0].Namespace != "payments" || len(p.RequireMTLS) != 1 {
		t.Fatalf("requirements %+v %+v", p.RequireTLS13, p.RequireMTLS)
	}
	tls := func(v classify.Version, cert classify.Answer) *classify.Verdict {
		return &classify.Verdict{Class: classify.ClassTLS, Version: v, ClientCert: cert}
	}
	a := netip.MustParseAddr
	in := Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 443, ClientNamespace: "web", ServerNamespace: "payments"}
	out := Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 443, ClientNamespace: "web", ServerNamespace: "shop"}
	scrape := in
	scrape.ServerPort = 9090
	fromPayments := Ends{Client: a("10.1.0.1"), Server: a("10.2.0.1"), ServerPort: 443, ClientNamespace: "payments", ServerNamespace: "shop"}
	const yes, no, unknown = classify.AnswerYes, classify.AnswerNo, classify.AnswerUnknown
	tests := []struct {
		name     string
		ends     Ends
		v        *classify.Verdict
		kind     string
		exemptBy string
	}{
		{"plaintext stays plaintext", in, &classify.Verdict{Class: classify.ClassPlaintext}, KindPlaintext, ""},
		{"TLS 1.0: legacy first", in, tls(classify.VersionTLS10, no), KindLegacyTLS, ""},
		{"TLS 1.2 without a certificate: not TLS 1.3 first", in, tls(classify.VersionTLS12, no), KindNotTLS13, ""},
		{"TLS 1.2 with a certificate", in, tls(classify.VersionTLS12, yes), KindNotTLS13, ""},
		{"TLS 1.3 without a certificate", in, tls(classify.VersionTLS13, no), KindNoMTLS, ""},
		{"TLS 1.3, certificate unknown: no proof", in, tls(classify.VersionTLS13, unknown), "", ""},
		{"TLS 1.3 mutual", in, tls(classify.VersionTLS13, yes), "", ""},
		{"outside the scopes", out, tls(classify.VersionTLS12, no), "", ""},
		{"client namespace in require_tls13, server not in require_mtls", fromPayments, tls(classify.VersionTLS13, no), "", ""},
		{"client namespace in require_tls13", fromPayments, tls(classify.VersionTLS12, no), KindNotTLS13, ""},
		{"exempt from mutual TLS", scrape, tls(classify.VersionTLS13, no), "", "metrics scraper"},
		{"exempt from mutual TLS, not from TLS 1.3", scrape, tls(classify.VersionTLS12, no), KindNotTLS13, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, x := p.Judge(tt.ends, tt.v, time.Now())
			if kind != tt.kind {
				t.Errorf("kind %q, want %q", kind, tt.kind)
			}
			if (x == nil) != (tt.exemptBy == "") || (x != nil && !strings.HasPrefix(x.Reason, tt.exemptBy)) {
				t.Errorf("exemption %+v, want %q", x, tt.exemptBy)
			}
		})
	}
}
