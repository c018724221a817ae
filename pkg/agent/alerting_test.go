package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/internal/promtest"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/config"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// amAlerts lists the alerts Alertmanager holds that match every given label.
func amAlerts(amURL string, match map[string]string) ([]amAlert, error) {
	var all []amAlert
	if err := promtest.GetJSON(amURL+"/api/v2/alerts", &all); err != nil {
		return nil, err
	}
	var out []amAlert
next:
	for _, a := range all {
		for k, v := range match {
			if a.Labels[k] != v {
				continue next
			}
		}
		if !a.EndsAt.IsZero() && a.EndsAt.Before(time.Now()) {
			continue // resolved
		}
		out = append(out, a)
	}
	return out, nil
}

// pushedLabels are the labels of a directly pushed alert for a pair; severity and
// team come from the test policy (pkg/export/testdata/policy.yaml plus a short
// resolve delay), which the Prometheus rule's alerts do not carry.
func pushedLabels(src, dst, service, port string) map[string]string {
	s, d := strings.Split(src, "/"), strings.Split(dst, "/")
	return map[string]string{"alertname": "TLSAuditPlaintextPair", "kind": "plaintext",
		"src_namespace": s[0], "src_workload": s[1], "dst_namespace": d[0], "dst_workload": d[1], "dst_service": service,
		"dst_port": port, "severity": "critical", "team": "payments"}
}

// TestAlertingEndToEnd runs the agent's outputs in-process, fed by the flow table over
// demo-mix.pcapng, against the real Prometheus (scraping them and evaluating
// deploy/prometheus/tlsaudit-rules.yaml) and the real Alertmanager (configured with
// deploy/alertmanager/alertmanager.example.yaml), and checks: the series are
// scraped, the rule fires into Alertmanager, the direct push arrives with the right
// labels, a pair whose traffic stopped resolves, and a pair still violating is back
// after Alertmanager is killed and restarted on the same data directory.
func TestAlertingEndToEnd(t *testing.T) {
	promBin := promtest.NeedBinary(t, "prometheus")
	amBin := promtest.NeedBinary(t, "prometheus-alertmanager", "alertmanager")
	promtool := promtest.NeedBinary(t, "promtool")
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	// The agent's side: config with a short resolve delay, names, outputs, /metrics.
	cfgPath := filepath.Join(dir, "tlsaudit.yaml")
	base, err := os.ReadFile(filepath.Join(exportTestdata, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, string(base)+"alert_resolve_after: 3s\n")
	cfg, err := config.Source{Path: cfgPath, Names: filepath.Join(exportTestdata, "names.yaml")}.Load()
	if err != nil {
		t.Fatal(err)
	}
	amAddr, promAddr := promtest.FreePort(t), promtest.FreePort(t)
	amURL, promURL := "http://"+amAddr, "http://"+promAddr
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	out := newOutputs(cfg, nil, []string{amURL}, time.Second, "", "", log)
	out.exp.SetReloadStatus(true, time.Now())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", out.handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	alerterDone := make(chan error)
	go func() { alerterDone <- out.alerter.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-alerterDone:
		case <-time.After(10 * time.Second):
			t.Error("the Alerter did not stop")
		}
	})

	// The real servers.
	amArgs := []string{"--config.file=" + filepath.Join(root, "deploy/alertmanager/alertmanager.example.yaml"),
		"--storage.path=" + filepath.Join(dir, "am-data"), "--web.listen-address=" + amAddr, "--cluster.listen-address="}
	am := promtest.Start(t, dir, "alertmanager", amBin, amArgs...)
	promCfg := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promCfg, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: tlsaudit
    static_configs:
      - targets: [%q]
`, filepath.Join(root, "deploy/prometheus/tlsaudit-rules.yaml"), amAddr, ln.Addr().String()))
	promtest.Start(t, dir, "prometheus", promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr)
	for _, u := range []string{amURL, promURL} {
		promtest.WaitReady(t, u)
	}

	// Traffic: every flow of the capture, then one more Redis and one more HTTP
	// connection that stay open (decided, not finished).
	open := map[string]*flow.Record{}
	table := flow.New(flow.Config{OnDecide: func(r *flow.Record) {
		out.exp.Decided(r)
		if p := r.Server.Port(); (p == 6379 || p == 80) && open[fmt.Sprint(p)] == nil {
			c := *r
			open[fmt.Sprint(p)] = &c
		}
	}}, out.exp.Finished)
	dec := capture.NewDecoder()
	var pkt flow.Packet
	if err := capture.ReadFile(filepath.Join(pcapDir, "demo-mix.pcapng"), dec, &pkt, table.Add); err != nil {
		t.Fatal(err)
	}
	table.Flush()
	out.exp.SetHealth(export.TableHealth(table.Stats()))
	redis, web := open["6379"], open["80"]
	if redis == nil || web == nil {
		t.Fatal("no Redis or HTTP flow in demo-mix.pcapng")
	}
	out.exp.Decided(redis)
	out.exp.Decided(web)

	redisPush := pushedLabels("shop/api", "data/redis", "cache", "6379")
	webPush := pushedLabels("shop/batch", "shop/api", "api", "80")
	promtest.Eventually(t, 30*time.Second, "the pushed alerts in Alertmanager", func() string {
		for _, want := range []map[string]string{redisPush, webPush} {
			got, err := amAlerts(amURL, want)
			if err != nil {
				return err.Error()
			}
			if len(got) != 1 {
				return fmt.Sprintf("%d alerts match %v", len(got), want)
			}
			if len(got[0].Labels) != len(want) {
				return fmt.Sprintf("labels %v, want exactly %v", got[0].Labels, want)
			}
		}
		return ""
	})
	got, _ := amAlerts(amURL, redisPush)
	ann := got[0].Annotations
	if !strings.HasPrefix(ann["sample_flow"], "10.77.0.21:") || !strings.HasSuffix(ann["sample_flow"], " -> 10.77.0.40:6379") ||
		ann["app_protocol"] != "redis" || ann["first_seen"] == "" || ann["last_seen"] == "" {
		t.Errorf("annotations %v", ann)
	}

	promtest.Eventually(t, 60*time.Second, "Prometheus to scrape the flow series", func() string {
		var r struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		// Three Redis flows in the capture and the one held open.
		q := `tlsaudit_flows_total{src_workload="api",dst_workload="redis",class="plaintext"} == 4`
		if err := promtest.GetJSON(promURL+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
			return err.Error()
		}
		if len(r.Data.Result) != 1 {
			var targets struct {
				Data struct {
					ActiveTargets []struct {
						Health    string `json:"health"`
						LastError string `json:"lastError"`
					} `json:"activeTargets"`
				} `json:"data"`
			}
			_ = promtest.GetJSON(promURL+"/api/v1/targets", &targets)
			return fmt.Sprintf("%d results for %s; targets %+v", len(r.Data.Result), q, targets.Data.ActiveTargets)
		}
		return ""
	})
	promtest.Eventually(t, 60*time.Second, "the Prometheus rule's alerts in Alertmanager", func() string {
		for _, pair := range [][2]string{{"redis", "6379"}, {"api", "80"}} {
			got, err := amAlerts(amURL, map[string]string{"alertname": "TLSAuditPlaintextPair", "severity": "warning",
				"dst_workload": pair[0], "dst_port": pair[1]})
			if err != nil {
				return err.Error()
			}
			if len(got) != 1 {
				return fmt.Sprintf("%d rule alerts for %v", len(got), pair)
			}
		}
		legacy, err := amAlerts(amURL, map[string]string{"alertname": "TLSAuditLegacyTLSPair", "dst_workload": "mainframe-gw"})
		if err != nil || len(legacy) < 1 {
			return fmt.Sprintf("legacy TLS alerts %v %v", legacy, err)
		}
		return ""
	})

	// The Redis connection ends; after alert_resolve_after (3s) clean, its pushed
	// alert resolves. The HTTP one stays.
	out.exp.Finished(redis)
	promtest.Eventually(t, 30*time.Second, "the Redis alert to resolve", func() string {
		got, err := amAlerts(amURL, redisPush)
		if err != nil {
			return err.Error()
		}
		if len(got) != 0 {
			return fmt.Sprintf("still active: %v", got[0].Labels)
		}
		return ""
	})
	if got, _ := amAlerts(amURL, webPush); len(got) != 1 {
		t.Fatalf("the HTTP pair's alert is gone while its connection is open")
	}

	// Alertmanager dies and comes back on the same data directory: alerts live in its
	// memory only, so the HTTP pair's alert is back only because the pusher retried
	// and re-sent it.
	sentBefore := gaugeValue(t, out.reg, "tlsaudit_alerts_sent_total")
	am.Kill(t)
	promtest.Eventually(t, 30*time.Second, "failed pushes while Alertmanager is down", func() string {
		if f := gaugeValue(t, out.reg, "tlsaudit_alert_send_failures_total"); f < 2 {
			return fmt.Sprintf("%v failures", f)
		}
		return ""
	})
	promtest.Start(t, dir, "alertmanager-restarted", amBin, amArgs...)
	promtest.Eventually(t, 60*time.Second, "the HTTP pair's alert after the restart", func() string {
		got, err := amAlerts(amURL, webPush)
		if err != nil {
			return err.Error()
		}
		if len(got) != 1 {
			return fmt.Sprintf("%d alerts", len(got))
		}
		return ""
	})
	if got, _ := amAlerts(amURL, redisPush); len(got) != 0 {
		t.Errorf("the resolved Redis alert came back")
	}
	if s := gaugeValue(t, out.reg, "tlsaudit_alerts_sent_total"); s <= sentBefore {
		t.Errorf("alerts sent %v, not more than %v before the restart", s, sentBefore)
	}

	// What Prometheus scrapes passes promtool, and Prometheus sees the target up.
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = bytes.NewReader(body)
	if o, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, o)
	}
	var up struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := promtest.GetJSON(promURL+"/api/v1/query?query="+url.QueryEscape(`up{job="tlsaudit"}`), &up); err != nil || len(up.Data.Result) != 1 || up.Data.Result[0].Value[1] != "1" {
		t.Errorf("up{job=\"tlsaudit\"}: %+v %v", up, err)
	}
}
