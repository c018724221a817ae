package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// Alert names, shared with deploy/prometheus/tlsaudit-rules.yaml so that an alert
// pushed directly and one from the Prometheus rule carry the same alertname.
const (
	AlertPlaintext = "TLSAuditPlaintextPair"
	AlertLegacyTLS = "TLSAuditLegacyTLSPair"
	// AlertNotTLS13 and AlertNoMTLS are the violations of require_tls13 and
	// require_mtls.
	AlertNotTLS13 = "TLSAuditNotTLS13Pair"
	AlertNoMTLS   = "TLSAuditNoMTLSPair"
)

// AlertName returns the alertname of a violation kind.
func AlertName(kind string) string {
	switch kind {
	case policy.KindLegacyTLS:
		return AlertLegacyTLS
	case policy.KindNotTLS13:
		return AlertNotTLS13
	case policy.KindNoMTLS:
		return AlertNoMTLS
	}
	return AlertPlaintext
}

// AlerterConfig tunes an Alerter. Zero fields take the defaults named.
type AlerterConfig struct {
	// URLs are the Alertmanagers to push to, each a base URL such as
	// http://alertmanager:9093; every one gets every alert (an HA pair). None: the
	// Alerter only logs violations.
	URLs []string
	// ResendInterval is how often a firing alert is sent again (default 1m); each
	// send sets endsAt 4 intervals ahead, so a missed send does not resolve it.
	ResendInterval time.Duration
	// LogInterval is how often a pair that keeps violating is logged again
	// (default 5m).
	LogInterval time.Duration
	// Tick is how often pair states are checked for resolution and resending
	// (default 1s).
	Tick time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries to an Alertmanager
	// that failed (defaults 500ms and 1m); it doubles on each failure.
	MinBackoff, MaxBackoff time.Duration
	// MaxPairs bounds the pairs tracked and the alerts queued per Alertmanager
	// (default: the policy's series cap).
	MaxPairs int
	// Client sends the requests (default: a client with a 10s timeout).
	Client *http.Client
	// GeneratorURL, when set, is put on every alert.
	GeneratorURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Alerter tracks violating service pairs, logs them, and keeps one alert per
// alerting pair up to date in every Alertmanager. Open and Close come from the flow
// table's goroutine; Run drives resending, resolution and delivery.
type Alerter struct {
	cfg     AlerterConfig
	log     zerolog.Logger
	mu      sync.Mutex
	pol     *policy.Policy
	pairs   map[Pair]*pairState
	targets []*target

	sent, failures, dropped atomic.Uint64
}

type pairState struct {
	first, last time.Time
	live        int    // violating flows of the pair not yet ended
	flows       uint64 // violating flows seen
	sinceLog    uint64
	logged      time.Time
	sample      Violation
	firing      bool // an alert was queued as firing and not yet resolved
	lastSent    time.Time
}

// NewAlerter returns an Alerter judging by pol. It sends nothing until Run.
func NewAlerter(pol *policy.Policy, cfg AlerterConfig, log zerolog.Logger) *Alerter {
	if cfg.ResendInterval <= 0 {
		cfg.ResendInterval = time.Minute
	}
	if cfg.LogInterval <= 0 {
		cfg.LogInterval = 5 * time.Minute
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	if cfg.MaxPairs <= 0 {
		cfg.MaxPairs = pol.SeriesCap
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Alerter{cfg: cfg, log: log.With().Str("component", "alerts").Logger(), pol: pol, pairs: map[Pair]*pairState{}}
	for _, u := range cfg.URLs {
		a.targets = append(a.targets, &target{url: alertsURL(u), pending: map[Pair]*queued{}, wake: make(chan struct{}, 1)})
	}
	return a
}

// alertsURL turns a base URL into the API v2 alerts endpoint.
func alertsURL(u string) string {
	u = strings.TrimRight(u, "/")
	if strings.HasSuffix(u, "/api/v2/alerts") {
		return u
	}
	return u + "/api/v2/alerts"
}

// SetPolicy swaps in a new policy: its alert kinds, labels and resolve delay apply
// from the next check on.
func (a *Alerter) SetPolicy(p *policy.Policy) {
	a.mu.Lock()
	a.pol = p
	a.mu.Unlock()
}

// Open records a violating flow of a pair. A new pair is logged and, when its kind
// alerts, queued for every Alertmanager at once.
func (a *Alerter) Open(v *Violation) {
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	key := v.Pair()
	ps := a.pairs[key]
	if ps == nil {
		if len(a.pairs) >= a.cfg.MaxPairs {
			a.dropped.Add(1)
			return
		}
		ps = &pairState{first: now}
		a.pairs[key] = ps
	}
	ps.live++
	ps.flows++
	ps.sinceLog++
	ps.last = now
	ps.sample = *v
	if now.Sub(ps.logged) >= a.cfg.LogInterval {
		a.logViolation(key, ps)
		ps.logged, ps.sinceLog = now, 0
	}
	if !ps.firing && a.pol.Alerts(key.Kind) {
		ps.firing, ps.lastSent = true, now
		a.enqueue(key, a.alert(key, ps, time.Time{}))
	}
}

// Close records that a violating flow ended; its pair stays violating until it has
// been clean for the policy's alert_resolve_after.
func (a *Alerter) Close(v *Violation) {
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if ps := a.pairs[v.Pair()]; ps != nil {
		if ps.live > 0 {
			ps.live--
		}
		ps.last = now
	}
}

// check resolves pairs clean for long enough and resends firing alerts that are due.
func (a *Alerter) check(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, ps := range a.pairs {
		alerts := a.pol.Alerts(key.Kind)
		switch {
		case ps.live == 0 && now.Sub(ps.last) >= a.pol.AlertResolveAfter:
			if ps.firing {
				a.enqueue(key, a.alert(key, ps, now))
			}
			a.log.Info().Str("event", "violation_cleared").Str("kind", key.Kind).
				Str("src", key.Src.String()).Str("dst", key.Dst.String()).Str("dst_port", key.DstPort).
				Uint64("flows", ps.flows).Time("first_seen", ps.first).Time("last_seen", ps.last).
				Msg("pair clean")
			delete(a.pairs, key)
		case ps.firing && !alerts: // the kind no longer alerts after a reload
			a.enqueue(key, a.alert(key, ps, now))
			ps.firing = false
		case alerts && (!ps.firing || now.Sub(ps.lastSent) >= a.cfg.ResendInterval):
			ps.firing, ps.lastSent = true, now
			a.enqueue(key, a.alert(key, ps, time.Time{}))
		}
	}
}

func (a *Alerter) logViolation(key Pair, ps *pairState) {
	v := &ps.sample
	a.log.Warn().Str("event", "violation").Str("kind", key.Kind).
		Str("src_namespace", key.Src.Namespace).Str("src_workload", key.Src.Workload).
		Str("dst_namespace", key.Dst.Namespace).Str("dst_workload", key.Dst.Workload).Str("dst_service", key.Dst.Service).Str("dst_port", key.DstPort).
		Str("transport", v.Transport).Str("sample_flow", v.Sample()).Str("sni", v.SNI).
		Str("tls_version", v.TLSVersion).Str("app_protocol", v.AppProtocol).
		Uint64("flows", ps.sinceLog).Time("first_seen", ps.first).
		Msg("policy violation")
}

// alertMsg is one alert as Alertmanager's API v2 takes it (postableAlert).
type alertMsg struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alert builds a pair's alert; resolvedAt zero means firing (endsAt is set when it
// is sent).
func (a *Alerter) alert(key Pair, ps *pairState, resolvedAt time.Time) *queued {
	labels := map[string]string{}
	for k, v := range a.pol.AlertLabels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		"alertname": AlertName(key.Kind), "kind": key.Kind,
		"src_namespace": key.Src.Namespace, "src_workload": key.Src.Workload,
		"dst_namespace": key.Dst.Namespace, "dst_workload": key.Dst.Workload, "dst_service": key.Dst.Service, "dst_port": key.DstPort,
	} {
		if v != "" {
			labels[k] = v
		} else {
			delete(labels, k)
		}
	}
	v := &ps.sample
	what := "Plaintext traffic"
	switch key.Kind {
	case policy.KindLegacyTLS:
		what = v.TLSVersion + " (below the policy minimum " + a.pol.MinVersion.String() + ")"
	case policy.KindNotTLS13:
		what = v.TLSVersion + " where TLS 1.3 is required"
	case policy.KindNoMTLS:
		what = "TLS without a client certificate where mutual TLS is required"
	}
	ann := map[string]string{
		"summary": fmt.Sprintf("%s from %s to %s port %s", what, key.Src, key.Dst, key.DstPort),
		"description": fmt.Sprintf("%d %s flow(s) from %s to %s:%s broke the policy (%s) since %s; for example %s.",
			ps.flows, v.Transport, key.Src, key.Dst, key.DstPort, key.Kind, ps.first.UTC().Format(time.RFC3339), v.Sample()),
		"sample_flow": v.Sample(),
		"first_seen":  ps.first.UTC().Format(time.RFC3339),
		"last_seen":   ps.last.UTC().Format(time.RFC3339),
		"flows":       strconv.FormatUint(ps.flows, 10),
		"transport":   v.Transport,
	}
	for k, s := range map[string]string{"sni": v.SNI, "tls_version": v.TLSVersion, "app_protocol": v.AppProtocol} {
		if s != "" {
			ann[k] = s
		}
	}
	return &queued{msg: alertMsg{Labels: labels, Annotations: ann, StartsAt: ps.first.UTC().Format(time.RFC3339Nano),
		GeneratorURL: a.cfg.GeneratorURL}, resolvedAt: resolvedAt}
}

// queued is the latest state of one pair's alert waiting for one Alertmanager.
type queued struct {
	msg        alertMsg
	resolvedAt time.Time // zero: firing
	seq        uint64
}

type target struct {
	url     string
	mu      sync.Mutex
	pending map[Pair]*queued
	seq     uint64
	wake    chan struct{}
}

// enqueue puts the latest state of a pair in every target's queue (a.mu held).
func (a *Alerter) enqueue(key Pair, q *queued) {
	for _, t := range a.targets {
		c := *q
		ok, evicted := t.put(key, &c, a.cfg.MaxPairs)
		if evicted {
			a.dropped.Add(1)
		}
		if !ok {
			a.dropped.Add(1)
			a.log.Warn().Str("alertmanager", t.url).Str("kind", key.Kind).Str("src", key.Src.String()).
				Str("dst", key.Dst.String()).Msg("alert queue full; alert state dropped")
		}
	}
}

// put replaces the pair's queued state. A full queue makes room by dropping a
// resolved alert (Alertmanager resolves it anyway when its endsAt passes); when none
// is resolved, the new state is refused unless it replaces one.
func (t *target) put(key Pair, q *queued, limit int) (ok, evicted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.pending[key]; !ok && len(t.pending) >= limit {
		var victim *Pair
		for k, old := range t.pending {
			if !old.resolvedAt.IsZero() {
				victim = &k
				break
			}
		}
		if victim == nil {
			return false, false
		}
		delete(t.pending, *victim)
		evicted = true
	}
	t.seq++
	q.seq = t.seq
	t.pending[key] = q
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return true, evicted
}

// batch returns up to n queued alerts with the sequence numbers they had.
func (t *target) batch(n int) (map[Pair]uint64, []*queued) {
	t.mu.Lock()
	defer t.mu.Unlock()
	seqs := map[Pair]uint64{}
	var out []*queued
	for k, q := range t.pending {
		if len(out) == n {
			break
		}
		seqs[k] = q.seq
		out = append(out, q)
	}
	return seqs, out
}

// ack removes what was delivered, unless a newer state replaced it meanwhile.
func (t *target) ack(seqs map[Pair]uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, s := range seqs {
		if q := t.pending[k]; q != nil && q.seq == s {
			delete(t.pending, k)
		}
	}
}

func (t *target) queueLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// maxBatch is the most alerts in one request.
const maxBatch = 500

// Run checks pairs every Tick and delivers queued alerts to every Alertmanager until
// ctx ends. It returns nil then. Alerts still queued are not sent: on restart the
// next agent sends them again, and Alertmanager keeps them until their endsAt.
func (a *Alerter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range a.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.deliver(ctx, t)
		}()
	}
	tick := time.NewTicker(a.cfg.Tick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-tick.C:
			a.check(a.cfg.Now())
		}
	}
}

// deliver sends one target's queue whenever it fills, retrying with exponential
// backoff while the Alertmanager fails.
func (a *Alerter) deliver(ctx context.Context, t *target) {
	log := a.log.With().Str("alertmanager", t.url).Logger()
	backoff := time.Duration(0)
	failing := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		}
		for {
			seqs, batch := t.batch(maxBatch)
			if len(batch) == 0 {
				break
			}
			err := a.post(ctx, t.url, batch)
			if ctx.Err() != nil {
				return
			}
			var perm *permanentError
			switch {
			case err == nil:
				t.ack(seqs)
				a.sent.Add(uint64(len(batch)))
				if failing > 0 {
					log.Info().Int("failed_attempts", failing).Msg("alertmanager reachable again")
				}
				backoff, failing = 0, 0
				continue
			case errors.As(err, &perm):
				// Retrying cannot help: drop what it refused, say so loudly.
				t.ack(seqs)
				a.failures.Add(1)
				a.dropped.Add(uint64(len(batch)))
				log.Error().Err(err).Int("alerts", len(batch)).Msg("alertmanager refused alerts")
				continue
			}
			a.failures.Add(1)
			failing++
			backoff = min(max(2*backoff, a.cfg.MinBackoff), a.cfg.MaxBackoff)
			log.Warn().Err(err).Int("attempt", failing).Dur("retry_in", backoff).Int("queued", t.queueLen()).
				Msg("push alerts")
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}
}

// permanentError is a refusal (4xx) that retrying will not change.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post sends alerts, stamping endsAt: now plus four resend intervals while firing,
// the time it cleared once resolved.
func (a *Alerter) post(ctx context.Context, url string, batch []*queued) error {
	now := a.cfg.Now()
	msgs := make([]alertMsg, len(batch))
	for i, q := range batch {
		msgs[i] = q.msg
		if q.resolvedAt.IsZero() {
			msgs[i].EndsAt = now.Add(4 * a.cfg.ResendInterval).UTC().Format(time.RFC3339Nano)
		} else {
			msgs[i].EndsAt = q.resolvedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	body, err := json.Marshal(msgs)
	if err != nil {
		return &permanentError{fmt.Errorf("encode alerts: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &permanentError{fmt.Errorf("alertmanager request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return &permanentError{fmt.Errorf("post %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))}
	}
	return fmt.Errorf("post %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
}

// Pairs returns the number of violating pairs tracked now.
func (a *Alerter) Pairs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pairs)
}

var (
	descAlertsSent = prometheus.NewDesc("tlsaudit_alerts_sent_total",
		"Alert states delivered to Alertmanager (each Alertmanager counts).", nil, nil)
	descAlertFailures = prometheus.NewDesc("tlsaudit_alert_send_failures_total",
		"Requests to Alertmanager that failed.", nil, nil)
	descAlertsDropped = prometheus.NewDesc("tlsaudit_alerts_dropped_total",
		"Alert states dropped: queue or pair limit reached, or refused by Alertmanager.", nil, nil)
	descAlertQueue = prometheus.NewDesc("tlsaudit_alert_queue_alerts",
		"Alert states waiting for delivery, summed over Alertmanagers.", nil, nil)
	descViolatingPairs = prometheus.NewDesc("tlsaudit_violating_pairs",
		"Service pairs in violation now: a violating flow is open or ended less than alert_resolve_after ago.", []string{"kind"}, nil)
)

// Describe sends the Alerter's metric families.
func (a *Alerter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAlertsSent, descAlertFailures, descAlertsDropped, descAlertQueue, descViolatingPairs} {
		ch <- d
	}
}

// Collect sends the Alerter's metrics.
func (a *Alerter) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descAlertsSent, prometheus.CounterValue, float64(a.sent.Load()))
	ch <- prometheus.MustNewConstMetric(descAlertFailures, prometheus.CounterValue, float64(a.failures.Load()))
	ch <- prometheus.MustNewConstMetric(descAlertsDropped, prometheus.CounterValue, float64(a.dropped.Load()))
	q := 0
	for _, t := range a.targets {
		q += t.queueLen()
	}
	ch <- prometheus.MustNewConstMetric(descAlertQueue, prometheus.GaugeValue, float64(q))
	byKind := map[string]int{}
	for _, k := range policy.Kinds {
		byKind[k] = 0
	}
	a.mu.Lock()
	for p := range a.pairs {
		byKind[p.Kind]++
	}
	a.mu.Unlock()
	for k, n := range byKind {
		ch <- prometheus.MustNewConstMetric(descViolatingPairs, prometheus.GaugeValue, float64(n), k)
	}
}
