package agent

import (
	"context"
	"fmt"
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

	"github.com/tlsaudit/tlsaudit/pkg/config"
)

const (
	exportTestdata = "../../pkg/export/testdata"
	policyTestdata = "../../pkg/policy/testdata"
	pcapDir        = "../../testdata/pcaps"
)

// testAgent is an agent with outputs and a config source but no capture.
func testAgent(t *testing.T, src config.Source) *Agent {
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
	a := testAgent(t, config.Source{Path: path})
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
	startWatch(t, a)
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
	src := config.Source{Path: filepath.Join(policyTestdata, "good.yaml"), Internal: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cfg, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Policy.Internal) != 1 || cfg.Policy.MinVersion.String() != "TLS1.3" {
		t.Errorf("internal %v, min %v", cfg.Policy.Internal, cfg.Policy.MinVersion)
	}
}

// TestConfigReloadOnFileChange updates the files the way the kubelet updates a
// ConfigMap volume — a new directory swapped in under a symlink, no signal — and
// expects the watch to reload both, and to leave a bad update out.
func TestConfigReloadOnFileChange(t *testing.T) {
	dir := t.TempDir()
	version := 0
	publish := func(config, names string) {
		version++
		data := filepath.Join(dir, fmt.Sprintf("..data-%d", version))
		if err := os.Mkdir(data, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(data, "config.yaml"), config)
		writeFile(t, filepath.Join(data, "names.yaml"), names)
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(data), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	publish("min_tls_version: TLS1.2\n", "- ip: 10.0.0.1\n  namespace: shop\n  workload: cart\n")
	for _, f := range []string{"config.yaml", "names.yaml"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	src := config.Source{Path: filepath.Join(dir, "config.yaml"), Names: filepath.Join(dir, "names.yaml")}
	cfg, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{ConfigSource: src, Config: cfg, WatchInterval: 20 * time.Millisecond, ResendInterval: time.Minute, Log: zerolog.Nop()})
	startWatch(t, a)
	waitFor := func(what string, ok func(*config.Config) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(a.cfg.Load()) {
			if time.Now().After(deadline) {
				t.Fatalf("no reload within 10s: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	publish("min_tls_version: TLS1.3\n", "- ip: 10.0.0.1\n  namespace: shop\n  workload: checkout\n")
	waitFor("TLS1.3 and workload checkout", func(c *config.Config) bool {
		id, _ := c.Names.Lookup(netip.MustParseAddr("10.0.0.1"))
		return c.Policy.MinVersion.String() == "TLS1.3" && id.Workload == "checkout"
	})

	good := a.cfg.Load()
	publish("min_tls_version: TLS1.3\nbogus: 1\n", "- ip: 10.0.0.1\n  namespace: shop\n  workload: cart\n")
	deadline := time.Now().Add(10 * time.Second)
	for gaugeValue(t, a.out.reg, "tlsaudit_config_last_reload_successful") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a bad update was not tried within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.cfg.Load() != good {
		t.Error("a bad update replaced the config")
	}
}

// startWatch runs the agent's reload watch until the test ends.
func startWatch(t *testing.T, a *Agent) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.watchReload(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
