package agent

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/export"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
)

// ProbeOptions turn on probing the TLS servers the agent has seen. Probing opens
// connections to workloads, so it is off unless Interval is set.
type ProbeOptions struct {
	// Interval is how often a round probes the servers seen since the previous
	// round; 0: no probing.
	Interval time.Duration
	// MaxTargets bounds the servers remembered and probed in a round (default
	// DefaultProbeMaxTargets); past it the least recently seen are forgotten.
	MaxTargets int
	// Probe bounds each round: timeout per server, concurrency and rate.
	Probe probe.Options
}

// DefaultProbeMaxTargets is ProbeOptions.MaxTargets when it is not set.
const DefaultProbeMaxTargets = 256

// probeTargets remembers the internal TLS servers of the flows this agent counted,
// most recently seen kept when full, and the local addresses of its own probe
// connections, whose flows it must not count. The capture loop calls saw and own;
// the probe loop calls round and dial.
type probeTargets struct {
	max int
	mu  sync.Mutex
	// servers are the servers seen, by address.
	servers map[netip.AddrPort]seenServer
	// mine and minePrev are the local addresses of the probe connections of this
	// round and the previous one: a probe's flow is decided within a round or two
	// of its handshake, and two generations keep the set bounded.
	mine, minePrev map[netip.AddrPort]struct{}
}

// seenServer is a server as the probe will reach it.
type seenServer struct {
	target string // probe target: "ip:port" or "scheme://ip:port"
	last   int64  // Unix ns of its last flow's verdict
}

func newProbeTargets(max int) *probeTargets {
	if max <= 0 {
		max = DefaultProbeMaxTargets
	}
	return &probeTargets{max: max, servers: map[netip.AddrPort]seenServer{},
		mine: map[netip.AddrPort]struct{}{}, minePrev: map[netip.AddrPort]struct{}{}}
}

// saw notes the server of a counted flow when it is an internal TLS server over
// TCP that the probe can reach (STARTTLS ones only in protocols it upgrades). A
// server already known only has its time moved, which allocates nothing. A nil
// probeTargets (no probing) notes nothing.
func (s *probeTargets) saw(r *flow.Record, pol *policy.Policy, now int64) {
	if s == nil || r.Proto != flow.TCP || r.Verdict.Class != classify.ClassTLS || !pol.IsInternal(r.Server.Addr()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.servers[r.Server]; ok {
		v.last = now
		s.servers[r.Server] = v
		return
	}
	target := probe.TargetFor(r.Server.String(), r.Verdict.StartTLS, r.Verdict.App.String())
	if target == "" {
		return
	}
	if len(s.servers) >= s.max {
		s.forgetOldest()
	}
	s.servers[r.Server] = seenServer{target: target, last: now}
}

// forgetOldest drops the least recently seen server; s.mu is held. A linear scan:
// it runs only when a new server arrives at the cap, which is small.
func (s *probeTargets) forgetOldest() {
	var oldest netip.AddrPort
	first := true
	for ap, v := range s.servers {
		if first || v.last < s.servers[oldest].last {
			oldest, first = ap, false
		}
	}
	delete(s.servers, oldest)
}

// roundTarget is one server of a round.
type roundTarget struct {
	server netip.AddrPort
	target string
}

// round returns the servers seen after since (Unix ns), most recently seen first,
// and starts a new generation of own connections.
func (s *probeTargets) round(since int64) []roundTarget {
	s.mu.Lock()
	defer s.mu.Unlock()
	type seen struct {
		roundTarget
		last int64
	}
	var all []seen
	for ap, v := range s.servers {
		if v.last > since {
			all = append(all, seen{roundTarget{ap, v.target}, v.last})
		}
	}
	slices.SortFunc(all, func(a, b seen) int { return cmp.Compare(b.last, a.last) })
	out := make([]roundTarget, len(all))
	for i, a := range all {
		out[i] = a.roundTarget
	}
	s.minePrev, s.mine = s.mine, map[netip.AddrPort]struct{}{}
	return out
}

// dial opens a probe connection and remembers its local address, so that the
// capture loop can tell its flow from the workloads'.
func (s *probeTargets) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
		s.mu.Lock()
		s.mine[unmapped(ap)] = struct{}{}
		s.mu.Unlock()
	}
	return c, nil
}

// own reports whether r is a flow of the agent's own probes. A nil probeTargets
// has none.
func (s *probeTargets) own(r *flow.Record) bool {
	if s == nil {
		return false
	}
	c := unmapped(r.Client)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, now := s.mine[c]
	_, prev := s.minePrev[c]
	return now || prev
}

// unmapped is ap with an IPv4-mapped IPv6 address as IPv4, as flows record it.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// probeLoop runs a probe round every interval until ctx ends: the servers seen
// since the previous round started, their results handed to the exporter.
func (a *Agent) probeLoop(ctx context.Context) error {
	log := a.log.With().Str("component", "probe").Logger()
	t := time.NewTicker(a.probeOpts.Interval)
	defer t.Stop()
	opts := a.probeOpts.Probe
	opts.Dial = a.probes.dial
	var since int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		targets := a.probes.round(since)
		since = start.UnixNano()
		names := make([]string, len(targets))
		for i, rt := range targets {
			names[i] = rt.target
		}
		results := probe.Run(ctx, names, opts)
		if ctx.Err() != nil {
			return nil
		}
		servers := make([]export.ProbedServer, len(targets))
		for i, rt := range targets {
			servers[i] = export.ProbedServer{Server: rt.server, Result: results[i]}
			logProbe(log, &results[i])
		}
		a.out.exp.SetProbeRound(start, servers)
		log.Info().Int("targets", len(targets)).Dur("took", time.Since(start)).Msg("probe round")
	}
}

// logProbe writes one line per probed server: the address is in logs, not labels.
func logProbe(log zerolog.Logger, r *probe.Result) {
	var accepted []string
	for _, v := range r.Versions {
		if v.Accepted {
			accepted = append(accepted, v.Version)
		}
	}
	ev := log.Debug()
	if r.Error != "" {
		ev = log.Info().Str("error", r.Error)
	}
	ev.Str("event", "probe").Str("target", r.Target).Strs("accepted", accepted).Str("client_cert", r.ClientCert).Send()
}
