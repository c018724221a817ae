package export_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// fakeAM records what is posted to /api/v2/alerts and fails while down is set.
type fakeAM struct {
	mu     sync.Mutex
	posts  [][]map[string]any
	down   atomic.Bool
	status int // answer when down (default 503)
	srv    *httptest.Server
}

func newFakeAM(t *testing.T) *fakeAM {
	am := &fakeAM{status: http.StatusServiceUnavailable}
	am.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if am.down.Load() {
			http.Error(w, "down", am.status)
			return
		}
		var alerts []map[string]any
		if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		am.mu.Lock()
		am.posts = append(am.posts, alerts)
		am.mu.Unlock()
	}))
	t.Cleanup(am.srv.Close)
	return am
}

// latest returns the last alert posted for each alertname+src_workload+dst_port.
func (am *fakeAM) latest() map[string]map[string]any {
	am.mu.Lock()
	defer am.mu.Unlock()
	out := map[string]map[string]any{}
	for _, p := range am.posts {
		for _, a := range p {
			l := a["labels"].(map[string]any)
			out[l["alertname"].(string)+" "+l["src_workload"].(string)+" "+l["dst_port"].(string)] = a
		}
	}
	return out
}

func violation(kind, src, dst string, port uint16) *export.Violation {
	return &export.Violation{
		Kind: kind, Src: export.End{Namespace: "shop", Workload: src}, Dst: export.End{Namespace: "data", Workload: dst},
		DstPort: port, Transport: "tcp", Client: netip.MustParseAddrPort("10.0.0.1:40000"),
		Server: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port), TLSVersion: "", AppProtocol: "redis",
	}
}

// waitFor polls cond every 20ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runAlerter(t *testing.T, pol *policy.Policy, cfg export.AlerterConfig) *export.Alerter {
	t.Helper()
	a := export.NewAlerter(pol, cfg, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Alerter.Run did not return after cancel")
		}
	})
	return a
}

func TestAlertPushResolveAndLabels(t *testing.T) {
	am1, am2 := newFakeAM(t), newFakeAM(t)
	pol, err := policy.Parse([]byte("alert_labels: {severity: critical, team: payments}\nalert_resolve_after: 300ms\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := runAlerter(t, pol, export.AlerterConfig{URLs: []string{am1.srv.URL, am2.srv.URL + "/"}, Tick: 20 * time.Millisecond, ResendInterval: 100 * time.Millisecond})
	v := violation(policy.KindPlaintext, "api", "redis", 6379)
	a.Open(v)
	key := "TLSAuditPlaintextPair api 6379"
	for _, am := range []*fakeAM{am1, am2} {
		waitFor(t, 5*time.Second, "the alert at both Alertmanagers", func() bool { return am.latest()[key] != nil })
	}
	got := am1.latest()[key]
	labels := got["labels"].(map[string]any)
	want := map[string]string{"alertname": "TLSAuditPlaintextPair", "kind": "plaintext", "src_namespace": "shop", "src_workload": "api",
		"dst_namespace": "data", "dst_workload": "redis", "dst_port": "6379", "severity": "critical", "team": "payments"}
	if len(labels) != len(want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %v, want %s", k, labels[k], v)
		}
	}
	ann := got["annotations"].(map[string]any)
	if ann["sample_flow"] != "10.0.0.1:40000 -> 10.0.0.2:6379" || ann["app_protocol"] != "redis" || ann["first_seen"] == nil || ann["last_seen"] == nil {
		t.Errorf("annotations %v", ann)
	}
	ends, _ := time.Parse(time.RFC3339Nano, got["endsAt"].(string))
	if !ends.After(time.Now()) {
		t.Errorf("firing alert ends at %v, in the past", ends)
	}

	// While the flow is open the pair stays firing and is re-sent.
	time.Sleep(500 * time.Millisecond)
	n := am1.count()
	if n < 3 {
		t.Errorf("%d posts in 500ms with a 100ms resend interval", n)
	}
	if e := am1.endsAt(key); !e.After(time.Now()) {
		t.Errorf("open pair resolved (endsAt %v)", e)
	}
	// Once it ends and stays clean for 300ms it resolves: endsAt not in the future.
	a.Close(v)
	waitFor(t, 5*time.Second, "the resolved alert", func() bool { return !am1.endsAt(key).After(time.Now()) })
	if a.Pairs() != 0 {
		t.Errorf("%d pairs tracked after resolution", a.Pairs())
	}
}

func (am *fakeAM) count() int {
	am.mu.Lock()
	defer am.mu.Unlock()
	return len(am.posts)
}

func (am *fakeAM) endsAt(key string) time.Time {
	a := am.latest()[key]
	if a == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, a["endsAt"].(string))
	return t
}

// TestAlertRetriesWhileDown keeps an Alertmanager down while pairs change, then
// checks that the latest state of every pair arrives once it is back.
func TestAlertRetriesWhileDown(t *testing.T) {
	am := newFakeAM(t)
	am.down.Store(true)
	pol := policy.Default()
	pol.AlertResolveAfter = 200 * time.Millisecond
	a := runAlerter(t, pol, export.AlerterConfig{URLs: []string{am.srv.URL}, Tick: 20 * time.Millisecond,
		ResendInterval: time.Hour, MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond})
	redis := violation(policy.KindPlaintext, "api", "redis", 6379)
	legacy := violation(policy.KindLegacyTLS, "api", "mainframe", 8443)
	legacy.TLSVersion = "TLS1.0"
	a.Open(redis)
	a.Open(legacy)
	a.Close(legacy) // legacy resolves while Alertmanager is down
	time.Sleep(600 * time.Millisecond)
	if am.count() != 0 {
		t.Fatal("posted while down")
	}
	failures := gather(t, a, "tlsaudit_alert_send_failures_total")[""]
	if failures < 3 {
		t.Errorf("%v failures in 600ms with backoff 10ms..80ms", failures)
	}
	if q := gather(t, a, "tlsaudit_alert_queue_alerts")[""]; q != 2 {
		t.Errorf("queue holds %v alerts, want 2 (latest state of each pair)", q)
	}
	am.down.Store(false)
	waitFor(t, 5*time.Second, "both pairs delivered", func() bool { return len(am.latest()) == 2 })
	if e := am.endsAt("TLSAuditLegacyTLSPair api 8443"); e.After(time.Now()) {
		t.Errorf("legacy pair delivered firing (endsAt %v), want its resolution", e)
	}
	if e := am.endsAt("TLSAuditPlaintextPair api 6379"); !e.After(time.Now()) {
		t.Errorf("redis pair delivered resolved (endsAt %v), want firing", e)
	}
	// The fake Alertmanager records a post before the alerter has its answer and
	// empties its queue: wait for that, briefly.
	waitFor(t, 2*time.Second, "the queue empty after delivery", func() bool {
		return gather(t, a, "tlsaudit_alert_queue_alerts")[""] == 0
	})
}

// TestAlertQueueBounded checks that a long outage keeps at most MaxPairs states and
// makes room by dropping resolved ones first.
func TestAlertQueueBounded(t *testing.T) {
	am := newFakeAM(t)
	am.down.Store(true)
	pol := policy.Default()
	pol.AlertResolveAfter = 50 * time.Millisecond
	a := runAlerter(t, pol, export.AlerterConfig{URLs: []string{am.srv.URL}, Tick: 10 * time.Millisecond,
		ResendInterval: time.Hour, MinBackoff: time.Hour, MaxPairs: 3})
	first := violation(policy.KindPlaintext, "a", "db", 1)
	a.Open(first)
	a.Close(first)
	waitFor(t, 5*time.Second, "the first pair to resolve", func() bool { return a.Pairs() == 0 })
	for i := uint16(2); i <= 5; i++ {
		a.Open(violation(policy.KindPlaintext, "a", "db", i)) // stay open: firing
	}
	if q := gather(t, a, "tlsaudit_alert_queue_alerts")[""]; q != 3 {
		t.Errorf("queue holds %v, want the bound 3", q)
	}
	if d := gather(t, a, "tlsaudit_alerts_dropped_total")[""]; d != 2 {
		t.Errorf("dropped %v, want 2 (pair 5 refused by the pair limit, then the resolved pair 1 made room)", d)
	}
}

func TestAlertRefusedIsNotRetried(t *testing.T) {
	am := newFakeAM(t)
	am.status = http.StatusBadRequest
	am.down.Store(true)
	a := runAlerter(t, policy.Default(), export.AlerterConfig{URLs: []string{am.srv.URL}, Tick: 10 * time.Millisecond,
		ResendInterval: time.Hour, MinBackoff: 5 * time.Millisecond})
	a.Open(violation(policy.KindPlaintext, "a", "db", 1))
	waitFor(t, 5*time.Second, "the refusal", func() bool { return gather(t, a, "tlsaudit_alerts_dropped_total")[""] == 1 })
	time.Sleep(100 * time.Millisecond)
	if f := gather(t, a, "tlsaudit_alert_send_failures_total")[""]; f != 1 {
		t.Errorf("%v attempts, want 1: a 400 is not retried", f)
	}
}

func TestAlertClassesFilter(t *testing.T) {
	am := newFakeAM(t)
	pol, err := policy.Parse([]byte("alert_classes: [legacy_tls]\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := runAlerter(t, pol, export.AlerterConfig{URLs: []string{am.srv.URL}, Tick: 10 * time.Millisecond})
	a.Open(violation(policy.KindPlaintext, "a", "db", 1))
	l := violation(policy.KindLegacyTLS, "a", "db", 2)
	a.Open(l)
	waitFor(t, 5*time.Second, "the legacy alert", func() bool { return len(am.latest()) > 0 })
	time.Sleep(100 * time.Millisecond)
	if got := am.latest(); len(got) != 1 || got["TLSAuditLegacyTLSPair a 2"] == nil {
		t.Errorf("alerts %v, want only the legacy_tls one", got)
	}
	if p := gather(t, a, "tlsaudit_violating_pairs"); p["kind=plaintext"] != 1 || p["kind=legacy_tls"] != 1 {
		t.Errorf("violating pairs %v: both are tracked even if one kind does not alert", p)
	}
}
