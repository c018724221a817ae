//go:build !noagent

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/agent"
	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/config"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, strings.Split(v, ",")...)
	return nil
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
	watchConfig := fs.Duration("watch-config", 0, "also reload when the config or names file changes, checking this often (for ConfigMap volumes, e.g. 10s); 0: SIGHUP only")
	namesPath := fs.String("names", "", "static names file (YAML: ip or cidr -> namespace, workload, service); SIGHUP reloads it")
	metricsAddr := fs.String("metrics-addr", ":9809", "address for Prometheus /metrics; the same as --listen serves it beside /healthz; empty: no metrics")
	var amURLs stringList
	fs.Var(&amURLs, "alertmanager-url", "Alertmanager base URL to push alerts to (API v2), repeatable for an HA pair")
	resend := fs.Duration("alert-resend-interval", time.Minute, "how often a firing alert is pushed again (endsAt is 4 intervals ahead)")
	kube := fs.Bool("kubernetes", false, "name ends from the Kubernetes API (in-cluster service account) and count only the flows this node owns (NODE_NAME)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file for the Kubernetes API; implies --kubernetes")
	probeEvery := fs.Duration("probe-interval", 0, "probe the internal TLS servers seen since the last round this often (versions accepted, client certificates, leaf expiry); it connects to workloads, so 0 (default): never")
	probeMax := fs.Int("probe-max-targets", agent.DefaultProbeMaxTargets, "most servers remembered and probed in a round (the most recently seen)")
	probeTimeout := fs.Duration("probe-timeout", 5*time.Second, "time allowed for all the handshakes of one probed server")
	probeConcurrency := fs.Int("probe-concurrency", 2, "servers probed at once")
	probeRate := fs.Float64("probe-rate", 10, "most probe handshakes started per second (0: no limit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
	src := config.Source{Path: *configPath, Names: *namesPath}
	if setFlags["internal-cidr"] {
		src.Internal = internal
	}
	if setFlags["min-tls"] {
		v, err := policy.ParseVersion(*minTLS)
		if err != nil {
			fmt.Fprintf(stderr, "tlsaudit run: --min-tls: %v\n", err)
			return exitError
		}
		src.MinVersion = v
	}
	if *probeEvery < 0 || *probeMax <= 0 || *probeTimeout <= 0 || *probeConcurrency <= 0 || *probeRate < 0 {
		fmt.Fprintln(stderr, "tlsaudit run: --probe-interval and --probe-rate must not be negative; --probe-max-targets, --probe-timeout and --probe-concurrency must be positive")
		return exitError
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
	node := nodeName()
	log = log.With().Str("node", node).Logger()
	cfg, err := src.Load()
	if err != nil {
		log.Error().Err(err).Msg("load config")
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var kc *agent.Kube
	if *kube || *kubeconfig != "" {
		if kc, err = agent.StartKube(ctx, *kubeconfig, node, log); err != nil {
			log.Error().Err(err).Msg("kubernetes identity")
			return exitError
		}
	}
	skip := capture.SkipConfig{MaxFlows: *skipFlows}
	if *skipFlows <= 0 {
		skip.MaxFlows = -1
	}
	eng, err := agent.OpenEngine(*engine, capture.EBPFConfig{BudgetPerDirection: uint32(*budget), ForceTC: *forceTC}, skip, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start capture")
		return exitError
	}
	ver, rev := buildVersion()
	a := agent.New(agent.Options{
		Engine:           eng,
		ConfigSource:     src,
		Config:           cfg,
		WatchInterval:    *watchConfig,
		Kube:             kc,
		AlertmanagerURLs: amURLs,
		ResendInterval:   *resend,
		Interfaces:       capture.InterfaceSelector{Include: include, Exclude: exclude},
		Listen:           *listen,
		MetricsAddr:      *metricsAddr,
		Version:          ver,
		Revision:         rev,
		Probe: agent.ProbeOptions{Interval: *probeEvery, MaxTargets: *probeMax,
			Probe: probe.Options{Timeout: *probeTimeout, Concurrency: *probeConcurrency, Rate: *probeRate}},
		Log: log,
	})
	err = a.Run(ctx)
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

// checkConfigs is --check-config: report every problem and exit 0 or 2.
func checkConfigs(c config.Source, stderr io.Writer) int {
	if c.Path == "" && c.Names == "" {
		fmt.Fprintln(stderr, "tlsaudit run: --check-config needs --config or --names")
		return exitError
	}
	lc, err := c.Load()
	if err != nil {
		fmt.Fprintf(stderr, "tlsaudit run: invalid config:\n%v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "tlsaudit run: config ok: %d internal ranges, minimum %s, %d exemptions, %d names\n",
		len(lc.Policy.Internal), lc.Policy.MinVersion, len(lc.Policy.Exemptions), lc.Names.Len())
	return exitOK
}

// nodeName is the Kubernetes node (NODE_NAME, set from the downward API) or the host name.
func nodeName() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}
