package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

const (
	exportTestdata = "../../pkg/export/testdata"
	policyTestdata = "../../pkg/policy/testdata"
)

// TestConfigCheck runs `tlsaudit run --check-config`: 0 for good files, 2 with the
// field and line for bad ones. It needs no privileges: nothing is captured.
func TestConfigCheck(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", filepath.Join(policyTestdata, "good.yaml")}, exitOK, "config ok: 5 internal ranges, minimum TLS1.3, 3 exemptions, 0 names"},
		{[]string{"--config", "../../deploy/config/tlsaudit.example.yaml", "--names", "../../deploy/config/names.example.yaml"}, exitOK, "3 names"},
		{[]string{"--config", filepath.Join(exportTestdata, "policy.yaml"), "--names", filepath.Join(exportTestdata, "names.yaml")}, exitOK, "config ok"},
		{[]string{"--config", filepath.Join(policyTestdata, "bad", "unknown-field.yaml")}, exitError, "unknown-field.yaml:2: min_tls_verison: unknown field"},
		{[]string{"--config", filepath.Join(policyTestdata, "bad", "bad-cidr.yaml")}, exitError, "bad-cidr.yaml:3: internal_cidrs[1]"},
		{[]string{"--config", filepath.Join(policyTestdata, "bad", "bad-version.yaml")}, exitError, `bad-version.yaml:2: min_tls_version: unknown TLS version "TLS1.4"`},
		{[]string{"--config", filepath.Join(policyTestdata, "bad", "exemption-without-reason.yaml")}, exitError, "exemption-without-reason.yaml:4: exemptions[1].reason: required"},
		{[]string{"--config", filepath.Join(policyTestdata, "bad", "bad-expires.yaml")}, exitError, "bad-expires.yaml:4: exemptions[0].expires"},
		{[]string{"--config", "does-not-exist.yaml"}, exitError, "no such file"},
		{[]string{"--names", filepath.Join(policyTestdata, "bad", "bad-cidr.yaml")}, exitError, "cannot unmarshal"},
		{nil, exitError, "needs --config or --names"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"run", "--check-config"}, tt.args...), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", errOut.String(), tt.want)
			}
		})
	}
}

// TestMetricsAnalyzeOpenMetrics exposes a capture with `analyze --format
// openmetrics`: the agent's families with names, never addresses, ending in # EOF.
func TestMetricsAnalyzeOpenMetrics(t *testing.T) {
	var out, errOut bytes.Buffer
	code := analyze([]string{"--format", "openmetrics", "--names", filepath.Join(exportTestdata, "names.yaml"),
		"--config", filepath.Join(exportTestdata, "policy.yaml"), "--fail-on", "plaintext", filepath.Join(pcapDir, "demo-mix.pcapng")},
		&out, &errOut, zerolog.Nop())
	if code != exitViolation {
		t.Errorf("exit %d, want %d (plaintext pairs, --fail-on plaintext); stderr %s", code, exitViolation, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		`tlsaudit_flows_total{class="plaintext",dst_namespace="data",dst_port="6379",dst_service="cache",dst_workload="redis",src_namespace="shop",src_workload="api",tls_version=""} 3`,
		`tlsaudit_violation_flows_total{dst_namespace="shop",dst_port="80",dst_service="api",dst_workload="api",kind="plaintext",src_namespace="shop",src_workload="batch"} 3`,
		"tlsaudit_packets_total 337",
		"# TYPE tlsaudit_build_info gauge",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(s, "10.77.0.") {
		t.Error("an address is in the exposition")
	}
	if strings.Contains(s, "tlsaudit_config_last_reload") {
		t.Error("an offline run exports reload gauges")
	}
	if !strings.HasSuffix(s, "# EOF\n") {
		t.Error("no # EOF at the end")
	}
	// The table format is unchanged by the new flags.
	out.Reset()
	if code := analyze([]string{"--format", "nope", filepath.Join(pcapDir, "demo-mix.pcapng")}, &out, &errOut, zerolog.Nop()); code != exitError {
		t.Errorf("--format nope: exit %d", code)
	}
}
