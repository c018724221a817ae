package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// testAgent is an agent with outputs and a config source but no capture.
func testAgent(t *testing.T, src configSource) *agent {
	t.Helper()
	cfg, err := src.load()
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{log: zerolog.Nop(), cfgSrc: src, out: newOutputs(cfg, nil, nil, time.Minute, zerolog.Nop())}
	a.cfg.Store(cfg)
	a.reloaded.Store(time.Now().UnixNano())
	a.out.exp.SetReloadStatus(true, time.Unix(0, a.reloaded.Load()))
	return a
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no single-series metric %s", name)
	return 0
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConfigReloadKeepsOldOnError reloads a good, a bad and a good config again, the
// last time through a real SIGHUP.
func TestConfigReloadKeepsOldOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tlsaudit.yaml")
	writeFile(t, path, "min_tls_version: TLS1.2\nseries_cap: 100\n")
	a := testAgent(t, configSource{path: path})
	first := a.cfg.Load()
	firstAt := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_success_timestamp_seconds")
	if ok := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_successful"); ok != 1 {
		t.Fatalf("reload successful = %v at start", ok)
	}

	writeFile(t, path, "min_tls_version: TLS1.3\nseries_cap: 100\nbogus: 1\n")
	if err := a.reload(); err == nil || !strings.Contains(err.Error(), "tlsaudit.yaml:3: bogus: unknown field") {
		t.Fatalf("reload of a bad file: %v", err)
	}
	if a.cfg.Load() != first {
		t.Error("a bad reload replaced the config")
	}
	if ok := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_successful"); ok != 0 {
		t.Errorf("reload successful = %v after a bad reload", ok)
	}
	if at := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_success_timestamp_seconds"); at != firstAt {
		t.Errorf("success timestamp moved to %v on a failure", at)
	}

	// Fix the file and send a real SIGHUP. Our own handler keeps a stray SIGHUP from
	// killing the test binary before watchReload has registered.
	keep := make(chan os.Signal, 1)
	signal.Notify(keep, syscall.SIGHUP)
	defer signal.Stop(keep)
	writeFile(t, path, "min_tls_version: TLS1.3\nseries_cap: 100\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.watchReload(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	for a.cfg.Load() == first {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the config within 10s")
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := a.cfg.Load().pol.MinVersion.String(); got != "TLS1.3" {
		t.Errorf("min version after reload %s", got)
	}
	if ok := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_successful"); ok != 1 {
		t.Errorf("reload successful = %v after a good reload", ok)
	}
	if at := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_success_timestamp_seconds"); at <= firstAt {
		t.Errorf("success timestamp %v not after %v", at, firstAt)
	}
}

// TestConfigFlagsOverrideFile keeps --internal-cidr and --min-tls over the file's
// values, on every load.
func TestConfigFlagsOverrideFile(t *testing.T) {
	src := configSource{path: filepath.Join(policyTestdata, "good.yaml"), internal: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cfg, err := src.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.pol.Internal) != 1 || cfg.pol.MinVersion.String() != "TLS1.3" {
		t.Errorf("internal %v, min %v", cfg.pol.Internal, cfg.pol.MinVersion)
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
		`tlsaudit_flows_total{class="plaintext",dst_namespace="data",dst_port="6379",dst_workload="redis",src_namespace="shop",src_workload="api",tls_version=""} 3`,
		`tlsaudit_violation_flows_total{dst_namespace="shop",dst_port="80",dst_workload="api",kind="plaintext",src_namespace="shop",src_workload="batch"} 3`,
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
