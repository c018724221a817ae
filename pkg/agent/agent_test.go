package agent

import (
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
	pcapDir        = "../../testdata/pcaps"
)

// testAgent is an agent with outputs and a config source but no capture.
func testAgent(t *testing.T, src ConfigSource) *Agent {
	t.Helper()
	cfg, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{ConfigSource: src, Config: cfg, ResendInterval: time.Minute, Log: zerolog.Nop()})
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
	a := testAgent(t, ConfigSource{Path: path})
	first := a.cfg.Load()
	firstAt := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_success_timestamp_seconds")
	if ok := gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_successful"); ok != 1 {
		t.Fatalf("reload successful = %v at start", ok)
	}

	writeFile(t, path, "min_tls_version: TLS1.3\nseries_cap: 100\nbogus: 1\n")
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "tlsaudit.yaml:3: bogus: unknown field") {
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
	if got := a.cfg.Load().Policy.MinVersion.String(); got != "TLS1.3" {
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
	src := ConfigSource{Path: filepath.Join(policyTestdata, "good.yaml"), Internal: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cfg, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Policy.Internal) != 1 || cfg.Policy.MinVersion.String() != "TLS1.3" {
		t.Errorf("internal %v, min %v", cfg.Policy.Internal, cfg.Policy.MinVersion)
	}
}
