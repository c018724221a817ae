package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
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
	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, strings.Split(v, ",")...)
	return nil
}

// liveSource is what both live engines offer the agent loop.
type liveSource interface {
	capture.Attacher
	Next(p *flow.Packet, now func() int64) error
	Close() error
}

func runAgent(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "auto", "capture engine: ebpf, afpacket, or auto (eBPF when possible, else AF_PACKET, saying why)")
	var include, exclude stringList
	fs.Var(&include, "interface", "interfaces to watch, shell patterns, repeatable (default *)")
	fs.Var(&exclude, "exclude-interface", "interfaces never to watch, shell patterns, repeatable (default lo)")
	listen := fs.String("listen", ":9808", "address for /healthz and /readyz")
	logFormat := fs.String("log-format", "auto", "log format: json, console, or auto (console on a terminal)")
	budget := fs.Uint("budget", 4096, "payload bytes of each direction of a new flow copied from the kernel (eBPF engine)")
	forceTC := fs.Bool("force-tc", false, "attach with clsact/tc even where TCX exists")
	skipFlows := fs.Int("skip-flows", capture.DefaultSkipConfig.MaxFlows, "AF_PACKET engine: how many of the busiest decided flows the socket filter drops in the kernel (their packets and bytes are then undercounted); 0: none")
	var internal prefixList
	fs.Var(&internal, "internal-cidr", "internal (east-west) range, repeatable (default: RFC 1918, 100.64.0.0/10, fc00::/7)")
	minTLS := fs.String("min-tls", "TLS1.2", "lowest acceptable TLS version (overrides the config file's min_tls_version when given)")
	configPath := fs.String("config", "", "policy config file (YAML: internal ranges, exemptions, alerting); SIGHUP reloads it")
	checkConfig := fs.Bool("check-config", false, "validate --config (and --names) and exit: 0 valid, 2 invalid")
	namesPath := fs.String("names", "", "static names file (YAML: ip or cidr -> namespace, workload, service); SIGHUP reloads it")
	metricsAddr := fs.String("metrics-addr", ":9809", "address for Prometheus /metrics; the same as --listen serves it beside /healthz; empty: no metrics")
	var amURLs stringList
	fs.Var(&amURLs, "alertmanager-url", "Alertmanager base URL to push alerts to (API v2), repeatable for an HA pair")
	resend := fs.Duration("alert-resend-interval", time.Minute, "how often a firing alert is pushed again (endsAt is 4 intervals ahead)")
	kube := fs.Bool("kubernetes", false, "name ends from the Kubernetes API (in-cluster service account) and count only the flows this node owns (NODE_NAME)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file for the Kubernetes API; implies --kubernetes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
	src := configSource{path: *configPath, names: *namesPath}
	if setFlags["internal-cidr"] {
		src.internal = internal
	}
	if setFlags["min-tls"] {
		v, err := policy.ParseVersion(*minTLS)
		if err != nil {
			fmt.Fprintf(stderr, "tlsaudit run: --min-tls: %v\n", err)
			return exitError
		}
		src.minVersion = v
	}
	if *checkConfig {
		return checkConfigs(src, stderr)
	}
	if len(include) == 0 {
		include = stringList{"*"}
	}
	if len(exclude) == 0 {
		exclude = stringList{"lo"}
	}
	log, err := loggerFor(*logFormat, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit run: %v\n", err)
		return exitError
	}
	// Every line names the node: one flow can be seen by two agents (DESIGN.md).
	log = log.With().Str("node", nodeName()).Logger()
	cfg, err := src.load()
	if err != nil {
		log.Error().Err(err).Msg("load config")
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var kc *kubeIdentity
	if *kube || *kubeconfig != "" {
		if kc, err = startKube(ctx, *kubeconfig, log); err != nil {
			log.Error().Err(err).Msg("kubernetes identity")
			return exitError
		}
	}
	out := newOutputs(cfg, kc, amURLs, *resend, log)

	skip := capture.SkipConfig{MaxFlows: *skipFlows}
	if *skipFlows <= 0 {
		skip.MaxFlows = -1
	}
	eng, kernel, err := openEngine(*engine, capture.EBPFConfig{BudgetPerDirection: uint32(*budget), ForceTC: *forceTC}, skip, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start capture")
		return exitError
	}
	a := &agent{log: log, src: eng, kernel: kernel, cfgSrc: src, out: out, kube: kc}
	if af, ok := eng.(*capture.AFPacket); ok {
		a.af = af
		out.reg.MustRegister(skipCollector{af})
	}
	a.cfg.Store(cfg)
	err = a.run(ctx, capture.InterfaceSelector{Include: include, Exclude: exclude}, *listen, *metricsAddr)
	if cerr := eng.Close(); cerr != nil {
		log.Warn().Err(cerr).Msg("close capture")
	}
	if err != nil {
		log.Error().Err(err).Msg("agent stopped")
		return exitError
	}
	log.Info().Msg("stopped")
	return exitOK
}

// loggerFor builds the agent's logger: JSON by default, console lines on a terminal.
func loggerFor(format string, w io.Writer) (zerolog.Logger, error) {
	switch format {
	case "auto":
		return newLogger(w), nil
	case "json":
		return zerolog.New(w).With().Timestamp().Logger(), nil
	case "console":
		return zerolog.New(zerolog.ConsoleWriter{Out: w}).With().Timestamp().Logger(), nil
	}
	return zerolog.Logger{}, fmt.Errorf("--log-format must be json, console or auto, not %q", format)
}

// openEngine starts the chosen engine. With auto it tries eBPF and falls back to
// AF_PACKET, logging exactly why.
func openEngine(name string, cfg capture.EBPFConfig, skip capture.SkipConfig, log zerolog.Logger) (liveSource, *capture.EBPF, error) {
	switch name {
	case "ebpf", "auto":
		missing := capture.MissingForEBPF()
		if len(missing) == 0 {
			e, err := capture.LoadEBPF(cfg, log)
			if err == nil {
				log.Info().Str("engine", "ebpf").Msg("capture engine")
				return e, e, nil
			}
			if name == "ebpf" {
				return nil, nil, err
			}
			log.Warn().Err(err).Msg("eBPF engine unavailable; falling back to AF_PACKET")
		} else {
			if name == "ebpf" {
				return nil, nil, errors.New(capture.Explain("eBPF", missing))
			}
			log.Warn().Str("reason", capture.Explain("eBPF", missing)).Msg("eBPF engine unavailable; falling back to AF_PACKET")
		}
		fallthrough
	case "afpacket":
		if missing := capture.MissingForAFPacket(); len(missing) > 0 {
			return nil, nil, errors.New(capture.Explain("AF_PACKET", missing))
		}
		a, err := capture.OpenAFPacket(skip, log)
		if err != nil {
			return nil, nil, err
		}
		log.Info().Str("engine", "afpacket").Msg("capture engine")
		return a, nil, nil
	}
	return nil, nil, fmt.Errorf("--engine must be ebpf, afpacket or auto, not %q", name)
}

// configSource says where the agent's policy and names come from, and which
// command-line flags override the config file (on every reload too).
type configSource struct {
	path, names string
	internal    []netip.Prefix   // --internal-cidr, when given
	minVersion  classify.Version // --min-tls, when given
}

// liveConfig is what a load produces; the agent swaps it whole.
type liveConfig struct {
	pol   *policy.Policy
	names *identity.Map // nil without --names
}

// load reads the config and names files (the default policy without --config) and
// applies the flag overrides.
func (c configSource) load() (*liveConfig, error) {
	pol := policy.Default()
	if c.path != "" {
		var err error
		if pol, err = policy.Load(c.path); err != nil {
			return nil, err
		}
	}
	if len(c.internal) > 0 {
		pol.Internal = c.internal
	}
	if c.minVersion != 0 {
		pol.MinVersion = c.minVersion
	}
	lc := &liveConfig{pol: pol}
	if c.names != "" {
		names, err := identity.Load(c.names)
		if err != nil {
			return nil, err
		}
		lc.names = names
	}
	return lc, nil
}

// checkConfigs is --check-config: report every problem and exit 0 or 2.
func checkConfigs(c configSource, stderr io.Writer) int {
	if c.path == "" && c.names == "" {
		fmt.Fprintln(stderr, "tlsaudit run: --check-config needs --config or --names")
		return exitError
	}
	lc, err := c.load()
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit run: invalid config:\n%v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "tlsaudit run: config ok: %d internal ranges, minimum %s, %d exemptions, %d names\n",
		len(lc.pol.Internal), lc.pol.MinVersion, len(lc.pol.Exemptions), lc.names.Len())
	return exitOK
}

// outputs are the agent's metrics and alerts: the exporter fed by the flow table,
// the Alertmanager pusher, and the private registry that exposes both.
type outputs struct {
	exp     *export.Exporter
	alerter *export.Alerter
	reg     *prometheus.Registry
	kube    *kubeIdentity // nil without --kubernetes
}

func newOutputs(cfg *liveConfig, kc *kubeIdentity, amURLs []string, resend time.Duration, log zerolog.Logger) *outputs {
	al := export.NewAlerter(cfg.pol, export.AlerterConfig{URLs: amURLs, ResendInterval: resend}, log)
	ver, rev := buildVersion()
	o := &outputs{
		exp:     export.New(export.Options{Policy: cfg.pol, Names: kc.names(cfg), Violations: al, Version: ver, Revision: rev}),
		alerter: al,
		reg:     prometheus.NewRegistry(),
		kube:    kc,
	}
	o.reg.MustRegister(o.exp, o.alerter, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if kc != nil {
		o.reg.MustRegister(kc.watcher)
	}
	return o
}

// buildVersion is the module version and VCS revision, for tlsaudit_build_info.
func buildVersion() (version, revision string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)", ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return bi.Main.Version, revision
}

func (o *outputs) apply(cfg *liveConfig) {
	o.exp.SetPolicy(cfg.pol)
	o.exp.SetNames(o.kube.names(cfg))
	o.alerter.SetPolicy(cfg.pol)
}

func (o *outputs) handler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// agent is the node agent's main loop: one goroutine owns the flow table and reads
// the source; others watch interfaces, serve health endpoints and metrics, push
// alerts and reload the config on SIGHUP.
type agent struct {
	log    zerolog.Logger
	src    liveSource
	kernel *capture.EBPF     // nil with AF_PACKET
	af     *capture.AFPacket // nil with eBPF
	cfgSrc configSource
	cfg    atomic.Pointer[liveConfig]
	out    *outputs
	kube   *kubeIdentity // nil without --kubernetes
	ready  atomic.Bool
	alive  atomic.Int64 // Unix ns of the capture loop's last turn
	// reloaded is the Unix ns of the last successful config load.
	reloaded atomic.Int64
}

// reload loads the config again and swaps it in whole; on failure the old one stays.
func (a *agent) reload() error {
	cfg, err := a.cfgSrc.load()
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
	a.log.Info().Str("config", cfg.pol.Source).Int("exemptions", len(cfg.pol.Exemptions)).Int("names", cfg.names.Len()).Msg("config loaded")
	return nil
}

func (a *agent) lastReload() time.Time { return time.Unix(0, a.reloaded.Load()) }

// watchReload reloads on every SIGHUP until ctx ends.
func (a *agent) watchReload(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			_ = a.reload()
		}
	}
}

func (a *agent) run(ctx context.Context, sel capture.InterfaceSelector, listen, metricsAddr string) error {
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
	if metricsAddr != "" && metricsAddr == listen {
		mux.Handle("/metrics", a.out.handler())
	}
	if err := serve(listen, mux); err != nil {
		return err
	}
	if metricsAddr != "" && metricsAddr != listen {
		m := http.NewServeMux()
		m.Handle("/metrics", a.out.handler())
		if err := serve(metricsAddr, m); err != nil {
			return err
		}
	}
	now := time.Now()
	a.reloaded.Store(now.UnixNano())
	a.out.exp.SetReloadStatus(true, now)
	capture.Reconcile(a.src, sel, a.log)
	g.Go(func() error { return capture.WatchInterfaces(ctx, a.src, sel, a.log) })
	g.Go(func() error { return a.captureLoop(ctx) })
	g.Go(func() error { return a.out.alerter.Run(ctx) })
	g.Go(func() error { return a.watchReload(ctx) })
	if a.kernel != nil {
		g.Go(func() error { return a.refreshKernelBytes(ctx) })
	}
	a.ready.Store(true)
	a.log.Info().Msg("running")
	return g.Wait()
}

// refreshKernelBytes adds the bytes the kernel counted for decided flows, whose
// packets no longer reach userspace.
func (a *agent) refreshKernelBytes(ctx context.Context) error {
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

func (a *agent) captureLoop(ctx context.Context) error {
	flog := a.log.With().Str("component", "flow").Logger()
	table := flow.New(flow.Config{
		OnDecide: func(r *flow.Record) {
			if a.kernel != nil {
				if err := a.kernel.MarkDecided(r.Key); err != nil {
					flog.Warn().Err(err).Msg("mark decided")
				}
			}
			counted, why := a.kube.owns(r)
			a.logVerdict(flog, r, counted, why)
			if counted {
				a.out.exp.Decided(r)
			}
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
		if counted, _ := a.kube.owns(r); counted {
			a.out.exp.Finished(r)
		}
	})
	now := func() int64 { return time.Now().UnixNano() }
	var p flow.Packet
	var published int64
	for {
		t := now()
		a.alive.Store(t)
		if t-published >= int64(time.Second) {
			a.publishHealth(table.Stats())
			if a.af != nil {
				a.af.Reselect(t, table)
			}
			published = t
		}
		if ctx.Err() != nil {
			table.Flush()
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
			return nil
		default:
			return err
		}
	}
}

// publishHealth hands the exporter the engine's counters: the flow table's, and the
// kernel's for the engine in use.
func (a *agent) publishHealth(ts flow.Stats) {
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

// skipCollector exports the AF_PACKET engine's skip list: flows whose packets its
// socket filter drops in the kernel, and whose counts are therefore low.
type skipCollector struct{ af *capture.AFPacket }

var (
	descSkippedFlows = prometheus.NewDesc("tlsaudit_afpacket_skipped_flows",
		"Decided flows whose packets the AF_PACKET socket filter drops now (all but a sample and TCP SYN/FIN/RST); their packets and bytes are undercounted while skipped.", nil, nil)
	descSkipAdds = prometheus.NewDesc("tlsaudit_afpacket_skip_list_additions_total",
		"Decided flows put on the AF_PACKET socket filter's skip list.", nil, nil)
	descFilterUpdates = prometheus.NewDesc("tlsaudit_afpacket_filter_updates_total",
		"Socket filters installed because the skip list changed.", nil, nil)
)

func (c skipCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSkippedFlows
	ch <- descSkipAdds
	ch <- descFilterUpdates
}

func (c skipCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.af.SkipStats()
	ch <- prometheus.MustNewConstMetric(descSkippedFlows, prometheus.GaugeValue, float64(s.Flows))
	ch <- prometheus.MustNewConstMetric(descSkipAdds, prometheus.CounterValue, float64(s.Skipped))
	ch <- prometheus.MustNewConstMetric(descFilterUpdates, prometheus.CounterValue, float64(s.Updates))
}

// logVerdict writes one structured line per decided flow; internal flows carry their
// policy violation, if any, and the exemption that excused one.
func (a *agent) logVerdict(log zerolog.Logger, r *flow.Record, counted bool, why string) {
	cfg := a.cfg.Load()
	pol := cfg.pol
	names := a.kube.names(cfg)
	v := &r.Verdict
	internal := pol.IsInternal(r.Client.Addr()) && pol.IsInternal(r.Server.Addr())
	ev := log.Info().Str("event", "verdict").
		Str("transport", r.Transport()).
		Str("client", r.Client.String()).
		Str("server", r.Server.String()).
		Str("iface", ifaceName(r.Ifindex)).
		Str("class", v.Class.String()).
		Str("tls_version", v.Version.String()).
		Str("app_protocol", appProtocol(v.App.String(), v.AppOther)).
		Bool("starttls", v.StartTLS).
		Str("sni", v.SNI).
		Bool("internal", internal).
		Bool("midstream", r.Midstream)
	if v.Reason != "" {
		ev = ev.Str("reason", v.Reason)
	}
	if a.kube != nil {
		ev = ev.Bool("counted", counted).Str("counted_by", why)
	}
	ends := policy.Ends{Client: r.Client.Addr(), Server: r.Server.Addr(), ServerPort: r.Server.Port()}
	if id, ok := names.Resolve(r.Client, r.FirstSeen); ok {
		ends.ClientNamespace = id.Namespace
		ev = logEnd(ev, "client", id)
	}
	if id, ok := names.Resolve(r.Server, r.FirstSeen); ok {
		ends.ServerNamespace = id.Namespace
		ev = logEnd(ev, "server", id)
	}
	if internal {
		kind, exempt := pol.Judge(ends, v, time.Now())
		if kind != "" {
			ev = ev.Str("violation", kind)
		}
		if exempt != nil {
			ev = ev.Str("exempt", exempt.Reason)
		}
	}
	ev.Msg("flow classified")
}

func appProtocol(app, other string) string {
	if app != "" {
		return app
	}
	return other
}

// health serves /healthz (the capture loop turned in the last few seconds) and
// /readyz (attached and running).
func (a *agent) health() *http.ServeMux {
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

// ifaceName names an interface index for logs ("" when unknown or gone).
func ifaceName(idx int) string {
	if idx == 0 {
		return ""
	}
	ifc, err := net.InterfaceByIndex(idx)
	if err != nil {
		return ""
	}
	return ifc.Name
}

// nodeName is the Kubernetes node (NODE_NAME, set from the downward API) or the host name.
func nodeName() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}
