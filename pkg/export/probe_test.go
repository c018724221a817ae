package export_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
)

// probeRound is one round's results as probe.Run returns them, written out by hand:
// this test is about how they become metrics (the agent's live test probes real
// servers).
func probeRound() []export.ProbedServer {
	vr := func(version string, accepted bool, cipher string) probe.VersionResult {
		v := probe.VersionResult{Version: version, Accepted: accepted, Cipher: cipher}
		if !accepted {
			v.Error = "remote error: tls: protocol version not supported"
		}
		return v
	}
	expiry := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	return []export.ProbedServer{
		{Server: netip.MustParseAddrPort("10.77.0.21:8443"), Result: probe.Result{
			Target:     "10.77.0.21:8443",
			Versions:   []probe.VersionResult{vr("TLS1.3", true, "TLS_AES_128_GCM_SHA256"), vr("TLS1.2", true, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), vr("TLS1.1", false, ""), vr("TLS1.0", false, "")},
			ClientCert: probe.ClientCertRequired, FallbackSCSV: probe.FallbackRejected, Leaf: &probe.Certificate{Subject: "CN=api.shop", NotAfter: expiry}}},
		{Server: netip.MustParseAddrPort("10.77.0.50:8443"), Result: probe.Result{
			Target:     "10.77.0.50:8443",
			Versions:   []probe.VersionResult{vr("TLS1.3", false, ""), vr("TLS1.2", true, "TLS_RSA_WITH_AES_128_CBC_SHA"), vr("TLS1.1", true, "TLS_RSA_WITH_AES_128_CBC_SHA"), vr("TLS1.0", true, "TLS_RSA_WITH_AES_128_CBC_SHA")},
			ClientCert: probe.ClientCertNotRequested, FallbackSCSV: probe.FallbackAccepted, Leaf: &probe.Certificate{Subject: "CN=mainframe", NotAfter: expiry}}},
		{Server: netip.MustParseAddrPort("10.77.0.30:5432"), Result: probe.Result{
			Target: "postgres://10.77.0.30:5432",
			Error:  "timeout before every version was tried", FallbackSCSV: probe.FallbackUnknown,
			Versions:   []probe.VersionResult{vr("TLS1.3", true, "TLS_AES_256_GCM_SHA384")},
			ClientCert: probe.ClientCertOptional}},
		{Server: netip.MustParseAddrPort("10.77.0.13:443"), Result: probe.Result{
			Target: "10.77.0.13:443", Error: "dial tcp 10.77.0.13:443: connect: connection refused",
			Versions: []probe.VersionResult{}, ClientCert: probe.ClientCertUnknown}},
		{Server: netip.MustParseAddrPort("10.77.0.12:25"), Result: probe.Result{
			Target: "smtp://10.77.0.12:25", Error: "no TLS version accepted: smtp: server refused STARTTLS",
			Versions:   []probe.VersionResult{vr("TLS1.3", false, ""), vr("TLS1.2", false, ""), vr("TLS1.1", false, ""), vr("TLS1.0", false, "")},
			ClientCert: probe.ClientCertUnknown}},
	}
}

// TestExportProbeGoldenScrape compares the probe families of one round with the
// committed scrape testdata/probe.prom, which `make checkmetrics` lints with
// promtool and the alert rules are checked against. Refresh with -update.
func TestExportProbeGoldenScrape(t *testing.T) {
	pol, names := load(t)
	e := export.New(export.Options{Policy: pol, Names: names, Version: "v0.0.0-test", Revision: "0000000"})
	e.SetProbeRound(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC), probeRound())
	got := scrape(t, e)
	golden := filepath.Join("testdata", "probe.prom")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := mustRead(t, golden); !bytes.Equal(got, want) {
		t.Errorf("scrape differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

// TestExportProbeRounds checks what each round leaves: servers named as flows are,
// legacy judged by the policy minimum and server-side exemptions, errors counted by
// reason across rounds, and the series of a server the next round did not probe gone.
func TestExportProbeRounds(t *testing.T) {
	pol, names := load(t)
	at := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	// gather's keys: the labels, sorted, as name=value joined by commas.
	legacy := "server=10.77.0.50:8443,server_namespace=legacy,server_workload=mainframe-gw"
	api := "server=10.77.0.21:8443,server_namespace=shop,server_workload=api,version=TLS1.3"
	tests := []struct {
		name       string
		min        string
		exemptions []policy.Exemption
		want       float64
	}{
		{"below the minimum", "TLS1.2", nil, 1},
		{"minimum lowered", "TLS1.0", nil, 0},
		{"server exempt", "TLS1.2", []policy.Exemption{{Scope: policy.Scope{ServerNamespace: "legacy"}, Reason: "r", Kinds: []string{policy.KindLegacyTLS}}}, 0},
		{"exempt for another kind", "TLS1.2", []policy.Exemption{{Scope: policy.Scope{ServerNamespace: "legacy"}, Reason: "r", Kinds: []string{policy.KindPlaintext}}}, 1},
		{"exempt for a client only", "TLS1.2", []policy.Exemption{{Scope: policy.Scope{ClientCIDR: netip.MustParsePrefix("10.77.0.0/24")}, Reason: "r"}}, 1},
		{"exemption expired", "TLS1.2", []policy.Exemption{{Scope: policy.Scope{ServerNamespace: "legacy"}, Reason: "r", Expires: at.Add(-time.Hour)}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pol.Clone()
			p.MinVersion, _ = policy.ParseVersion(tt.min)
			p.Exemptions = tt.exemptions
			e := export.New(export.Options{Policy: p, Names: names})
			e.SetProbeRound(at, probeRound())
			if got := gather(t, e, "tlsaudit_probe_legacy_version_accepted")[legacy]; got != tt.want {
				t.Errorf("tlsaudit_probe_legacy_version_accepted{%s} = %v, want %v", legacy, got, tt.want)
			}
		})
	}

	e := export.New(export.Options{Policy: pol, Names: names})
	if n := len(gather(t, e, "tlsaudit_probe_targets")); n != 0 {
		t.Errorf("probe families exported before any round: %d series", n)
	}
	e.SetProbeRound(at, probeRound())
	e.SetProbeRound(at.Add(time.Minute), probeRound()[3:]) // only the two failures again
	if got := gather(t, e, "tlsaudit_probe_targets")[""]; got != 2 {
		t.Errorf("tlsaudit_probe_targets = %v, want 2", got)
	}
	if _, ok := gather(t, e, "tlsaudit_probe_version_accepted")[api]; ok {
		t.Errorf("tlsaudit_probe_version_accepted{%s} still exported after a round that did not probe it", api)
	}
	errs := gather(t, e, "tlsaudit_probe_errors_total")
	for reason, want := range map[string]float64{"unreachable": 2, "no_version_accepted": 2, "incomplete": 1} {
		if got := errs["reason="+reason]; got != want {
			t.Errorf("errors %s = %v, want %v (%v)", reason, got, want, errs)
		}
	}
	if got := gather(t, e, "tlsaudit_probe_last_round_timestamp_seconds")[""]; got != float64(at.Add(time.Minute).Unix()) {
		t.Errorf("last round = %v", got)
	}
}
