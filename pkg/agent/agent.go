package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/config"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// Options configure an Agent.
type Options struct {
	// Engine is the open capture engine (OpenEngine); the agent reads it, the caller
	// closes it after Run.
	Engine Engine
	// ConfigSource is where Reload (and SIGHUP) loads the config from; Config is its
	// first load.
	ConfigSource config.Source
	Config       *config.Config
	// WatchInterval is how often the config and names files are read to see whether
	// they changed (a ConfigMap volume is updated in place, with no signal); a change
	// reloads as SIGHUP does. 0: SIGHUP only.
	WatchInterval time.Duration
	// Kube names ends from the cluster and applies the count-once rule; nil: no
	// Kubernetes.
	Kube *Kube
	// AlertmanagerURLs are the Alertmanagers alerts are pushed to (none: no pushes);
	// ResendInterval is how often a firing alert is pushed again.
	AlertmanagerURLs []string
	ResendInterval   time.Duration
	// Interfaces are the interfaces to attach to, as they come and go.
	Interfaces capture.InterfaceSelector
	// Listen serves /healthz and /readyz; MetricsAddr serves /metrics (the same
	// address: beside the health endpoints; "": no metrics).
	Listen, MetricsAddr string
	// Version and Revision label tlsaudit_build_info.
	Version, Revision string
	// Probe, when its Interval is set, probes the internal TLS servers the agent
	// counted flows to, every Interval.
	Probe ProbeOptions
	Log   zerolog.Logger
}

// outputs are the agent's metrics and alerts: the exporter fed by the flow table,
// the Alertmanager pusher, and the private registry that exposes both.
type outputs struct {
	exp     *export.Exporter
	alerter *export.Alerter
	reg     *prometheus.Registry
	kube    *Kube // nil without --kubernetes
}

func newOutputs(cfg *config.Config, kc *Kube, amURLs []string, resend time.Duration, version, revision string, log zerolog.Logger) *outputs {
	al := export.NewAlerter(cfg.Policy, export.AlerterConfig{URLs: amURLs, ResendInterval: resend}, log)
	o := &outputs{
		exp:     export.New(export.Options{Policy: cfg.Policy, Names: kc.names(cfg), Violations: al, Version: version, Revision: revision}),
		alerter: al,
		reg:     prometheus.NewRegistry(),
		kube:    kc,
	}
	o.reg.MustRegister(o.exp, o.alerter, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if kc != nil {
		o.reg.MustRegister(kc.watcher)
		if kc.nat != nil {
			o.reg.MustRegister(kc.nat.lookups)
		}
	}
	return o
}

func (o *outputs) apply(cfg *config.Config) {
	o.exp.SetPolicy(cfg.Policy)
	o.exp.SetNames(o.kube.names(cfg))
	o.alerter.SetPolicy(cfg.Policy)
}

func (o *outputs) handler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Agent is the node agent's main loop: one goroutine owns the flow table and reads
// the engine; others watch interfaces, serve health endpoints and metrics, push
// alerts and reload the config on SIGHUP.
type Agent struct {
	log        zerolog.Logger
	src        Engine
	kernel     *capture.EBPF     // nil with AF_PACKET
	af         *capture.AFPacket // nil with eBPF
	cfgSrc     config.Source
	watchEvery time.Duration
	// loadedFiles is the fingerprint of the files as New found them, the first
	// one the watch compares with (taken here, not when the watch starts, so that
	// a change in between is not missed).
	loadedFiles [32]byte
	cfg         atomic.Pointer[config.Config]
	out         *outputs
	kube        *Kube // nil without --kubernetes
	sel         capture.InterfaceSelector
	listen      string
	// metricsAddr serves /metrics; "": none.
	metricsAddr string
	ready       atomic.Bool
	alive       atomic.Int64 // Unix ns of the capture loop's last turn
	// reloaded is the Unix ns of the last successful config load.
	reloaded atomic.Int64
	// probes are the servers to probe; nil when probing is off.
	probes    *probeTargets
	probeOpts ProbeOptions
}

// New builds an agent on opts.Config and its outputs (exporter, alerter, registry).
// Nothing runs until Run.
func New(opts Options) *Agent {
	out := newOutputs(opts.Config, opts.Kube, opts.AlertmanagerURLs, opts.ResendInterval, opts.Version, opts.Revision, opts.Log)
	a := &Agent{log: opts.Log, src: opts.Engine, cfgSrc: opts.ConfigSource, watchEvery: opts.WatchInterval, out: out, kube: opts.Kube,
		sel: opts.Interfaces, listen: opts.Listen, metricsAddr: opts.MetricsAddr}
	if e, ok := opts.Engine.(*capture.EBPF); ok {
		a.kernel = e
	}
	if af, ok := opts.Engine.(*capture.AFPacket); ok {
		a.af = af
		out.reg.MustRegister(skipCollector{af})
	}
	if opts.Probe.Interval > 0 {
		a.probes, a.probeOpts = newProbeTargets(opts.Probe.MaxTargets), opts.Probe
	}
	a.cfg.Store(opts.Config)
	a.loadedFiles, _ = opts.ConfigSource.Fingerprint()
	return a
}

// Reload loads the config again and swaps it in whole; on failure the old one stays
// and the error is returned (and logged).
func (a *Agent) Reload() error {
	cfg, err := a.cfgSrc.Load()
	if err != nil {
		a.out.exp.SetReloadStatus(false, a.lastReload())
		a.log.Error().Err(err).Msg("config reload failed; keeping the previous config")
		return err
	}
	a.cfg.Store(cfg)
	a.out.apply(cfg)
	now := time.Now()
	a.reloaded.Store(now.UnixNano())
	a.out.exp.SetReloadStatus(true, now)
	a.log.Info().Str("config", cfg.Policy.Source).Int("exemptions", len(cfg.Policy.Exemptions)).Int("names", cfg.Names.Len()).Msg("config loaded")
	return nil
}

func (a *Agent) lastReload() time.Time { return time.Unix(0, a.reloaded.Load()) }

// watchReload reloads on every SIGHUP and, every WatchInterval, when the files'
// contents changed, until ctx ends.
func (a *Agent) watchReload(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	last := a.loadedFiles
	if a.watchEvery > 0 {
		t := time.NewTicker(a.watchEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			_ = a.Reload()
			last, _ = a.cfgSrc.Fingerprint()
		case <-tick:
			// A file that cannot be read now (mid-update) is looked at again next tick.
			fp, err := a.cfgSrc.Fingerprint()
			if err != nil || fp == last {
				continue
			}
			last = fp
			a.log.Info().Msg("config files changed; reloading")
			_ = a.Reload()
		}
	}
}

// Run serves the endpoints, attaches to the interfaces and runs the pipeline until
// ctx ends (nil) or a part fails (its error). It does not close the engine.
func (a *Agent) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	mux := a.health()
	serve := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(shut)
		})
		a.log.Info().Str("listen", ln.Addr().String()).Msg("serving")
		return nil
	}
	if a.metricsAddr != "" && a.metricsAddr == a.listen {
		mux.Handle("/metrics", a.out.handler())
	}
	if err := serve(a.listen, mux); err != nil {
		return err
	}
	if a.metricsAddr != "" && a.metricsAddr != a.listen {
		m := http.NewServeMux()
		m.Handle("/metrics", a.out.handler())
		if err := serve(a.metricsAddr, m); err != nil {
			return err
		}
	}
	now := time.Now()
	a.reloaded.Store(now.UnixNano())
	a.out.exp.SetReloadStatus(true, now)
	capture.Reconcile(a.src, a.sel, a.log)
	g.Go(func() error { return capture.WatchInterfaces(ctx, a.src, a.sel, a.log) })
	g.Go(func() error { return a.captureLoop(ctx) })
	g.Go(func() error { return a.out.alerter.Run(ctx) })
	g.Go(func() error { return a.watchReload(ctx) })
	if a.kernel != nil {
		g.Go(func() error { return a.refreshKernelBytes(ctx) })
	}
	if a.probes != nil {
		g.Go(func() error { return a.probeLoop(ctx) })
	}
	a.ready.Store(true)
	a.log.Info().Msg("running")
	return g.Wait()
}

// refreshKernelBytes adds the bytes the kernel counted for decided flows, whose
// packets no longer reach userspace.
func (a *Agent) refreshKernelBytes(ctx context.Context) error {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			a.out.exp.RefreshBytes(a.kernel)
		}
	}
}

func (a *Agent) captureLoop(ctx context.Context) error {
	flog := a.log.With().Str("component", "flow").Logger()
	var table *flow.Table
	count := newFlowCounter(a.kube, func(k flow.Key) bool { return table.Has(k) },
		func(r *flow.Record, own ownership) { a.logVerdict(flog, r, own) },
		func(r *flow.Record) {
			a.out.exp.Decided(r)
			a.probes.saw(r, a.cfg.Load().Policy, time.Now().UnixNano())
		}, a.out.exp.Finished)
	table = flow.New(flow.Config{
		OnDecide: func(r *flow.Record) {
			if a.kernel != nil {
				if err := a.kernel.MarkDecided(r.Key); err != nil {
					flog.Warn().Err(err).Msg("mark decided")
				}
			}
			if a.probes.own(r) {
				return // the agent's own probe: neither a workload's flow nor a sighting
			}
			count.decided(r, time.Now().UnixNano())
		},
	}, func(r *flow.Record) {
		if a.kernel != nil {
			if _, b, ok := a.kernel.FlowCounters(r.Key); ok {
				a.out.exp.FlowBytes(r.Key, b)
			}
			a.kernel.Forget(r.Key)
		}
		if a.af != nil {
			a.af.Forget(r.Key)
		}
		count.finished(r)
	})
	now := func() int64 { return time.Now().UnixNano() }
	var p flow.Packet
	var published int64
	for {
		t := now()
		a.alive.Store(t)
		if t-published >= int64(time.Second) {
			count.tick(t, a.kube.synced())
			a.publishHealth(table.Stats())
			if a.af != nil {
				a.af.Reselect(t, table)
			}
			published = t
		}
		if ctx.Err() != nil {
			table.Flush()
			count.flush(now())
			return nil
		}
		err := a.src.Next(&p, now)
		switch {
		case err == nil:
			table.Add(&p)
		case errors.Is(err, capture.ErrTimeout):
			table.Tick(now())
		case errors.Is(err, capture.ErrClosed), errors.Is(err, ringbuf.ErrClosed):
			table.Flush()
			count.flush(now())
			return nil
		default:
			return err
		}
	}
}

// publishHealth hands the exporter the engine's counters: the flow table's, and the
// kernel's for the engine in use.
func (a *Agent) publishHealth(ts flow.Stats) {
	h := export.TableHealth(ts)
	for _, r := range export.DropReasons {
		h.Drops[r] = 0
	}
	switch src := a.src.(type) {
	case *capture.EBPF:
		ks, err := src.KernelStats()
		if err != nil {
			a.log.Warn().Err(err).Msg("kernel stats")
			break
		}
		h.Packets = ks["packets"]
		h.Drops[export.DropRingBufferFull] = ks["ringbuf_full"]
		h.Drops[export.DropMapFull] = ks["map_full"]
		h.EventsLost = ks["ringbuf_full"] + ks["load_errors"]
	case *capture.AFPacket:
		pkts, drops, err := src.SocketStats()
		if err != nil {
			a.log.Warn().Err(err).Msg("socket stats")
			break
		}
		h.Packets = pkts
		h.Drops[export.DropSocket] = drops
	}
	a.out.exp.SetHealth(h)
}

// health serves /healthz (the capture loop turned in the last few seconds) and
// /readyz (attached and running).
func (a *Agent) health() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(time.Unix(0, a.alive.Load())) > 10*time.Second {
			http.Error(w, "capture loop stalled", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		if a.kube != nil {
			if st := a.kube.watcher.Status(); !st.Ready() {
				// Capture and classification go on; only the names are degraded.
				http.Error(w, st.Reason+"; capturing, names fall back to the static file and addresses", http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintf(w, "ok: %d interfaces\n", len(a.src.Attached()))
	})
	return mux
}
