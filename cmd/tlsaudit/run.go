package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
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
	var internal prefixList
	fs.Var(&internal, "internal-cidr", "internal (east-west) range, repeatable (default: RFC 1918, 100.64.0.0/10, fc00::/7)")
	minTLS := fs.String("min-tls", "TLS1.2", "lowest acceptable TLS version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
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
	pol := policy.Default()
	if len(internal) > 0 {
		pol.Internal = internal
	}
	if pol.MinVersion, err = policy.ParseVersion(*minTLS); err != nil {
		fmt.Fprintf(stderr, "tlsaudit run: --min-tls: %v\n", err)
		return exitError
	}

	src, kernel, err := openEngine(*engine, capture.EBPFConfig{BudgetPerDirection: uint32(*budget), ForceTC: *forceTC}, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start capture")
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &agent{log: log, pol: pol, src: src, kernel: kernel}
	err = a.run(ctx, capture.InterfaceSelector{Include: include, Exclude: exclude}, *listen)
	if cerr := src.Close(); cerr != nil {
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
func openEngine(name string, cfg capture.EBPFConfig, log zerolog.Logger) (liveSource, *capture.EBPF, error) {
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
		a, err := capture.OpenAFPacket(log)
		if err != nil {
			return nil, nil, err
		}
		log.Info().Str("engine", "afpacket").Msg("capture engine")
		return a, nil, nil
	}
	return nil, nil, fmt.Errorf("--engine must be ebpf, afpacket or auto, not %q", name)
}

// agent is the node agent's main loop: one goroutine owns the flow table and reads
// the source; others watch interfaces and serve health endpoints.
type agent struct {
	log    zerolog.Logger
	pol    *policy.Policy
	src    liveSource
	kernel *capture.EBPF // nil with AF_PACKET
	ready  atomic.Bool
	alive  atomic.Int64 // Unix ns of the capture loop's last turn
}

func (a *agent) run(ctx context.Context, sel capture.InterfaceSelector, listen string) error {
	g, ctx := errgroup.WithContext(ctx)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	srv := &http.Server{Handler: a.health(), ReadHeaderTimeout: 5 * time.Second}
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
	capture.Reconcile(a.src, sel, a.log)
	g.Go(func() error { return capture.WatchInterfaces(ctx, a.src, sel, a.log) })
	g.Go(func() error { return a.captureLoop(ctx) })
	a.ready.Store(true)
	a.log.Info().Str("listen", ln.Addr().String()).Msg("running")
	return g.Wait()
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
			a.logVerdict(flog, r)
		},
	}, func(r *flow.Record) {
		if a.kernel != nil {
			a.kernel.Forget(r.Key)
		}
	})
	now := func() int64 { return time.Now().UnixNano() }
	var p flow.Packet
	for {
		a.alive.Store(now())
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

// logVerdict writes one structured line per decided flow; internal flows carry their
// policy violation, if any.
func (a *agent) logVerdict(log zerolog.Logger, r *flow.Record) {
	v := &r.Verdict
	internal := a.pol.IsInternal(r.Client.Addr()) && a.pol.IsInternal(r.Server.Addr())
	ev := log.Info().Str("event", "verdict").
		Str("transport", r.Transport()).
		Str("client", r.Client.String()).
		Str("server", r.Server.String()).
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
	if internal {
		if kind := a.pol.Violation(v); kind != "" {
			ev = ev.Str("violation", kind)
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
func (a *agent) health() http.Handler {
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
		fmt.Fprintf(w, "ok: %d interfaces\n", len(a.src.Attached()))
	})
	return mux
}
