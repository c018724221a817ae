package export

import (
	"net/netip"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
	"github.com/tlsaudit/tlsaudit/pkg/probe"
)

// Reasons of tlsaudit_probe_errors_total, judged from the shape of a probe.Result
// rather than its error text.
const (
	// ProbeUnreachable: no handshake could start (connection refused, no route, a
	// timeout before the first attempt).
	ProbeUnreachable = "unreachable"
	// ProbeNoVersionAccepted: the server answered but refused every version, or
	// does not speak TLS (or refused the STARTTLS upgrade).
	ProbeNoVersionAccepted = "no_version_accepted"
	// ProbeIncomplete: some versions were accepted, then the target's time ran out.
	ProbeIncomplete = "incomplete"
)

// ProbeErrorReasons are always exported, zero until they happen.
var ProbeErrorReasons = []string{ProbeUnreachable, ProbeNoVersionAccepted, ProbeIncomplete}

// clientCertModes are the states of tlsaudit_probe_client_cert.
var clientCertModes = []string{probe.ClientCertNotRequested, probe.ClientCertOptional, probe.ClientCertRequired}

// fallbackStates are the states of tlsaudit_probe_fallback_scsv.
var fallbackStates = []string{probe.FallbackRejected, probe.FallbackAccepted, probe.FallbackNotApplicable}

// ProbedServer is one server of a probe round: the address it was seen at and
// what the probe showed.
type ProbedServer struct {
	Server netip.AddrPort
	Result probe.Result
}

// probeState is the last probe round as metric state. Series of servers the last
// round did not probe are gone: each round replaces the previous one whole.
type probeState struct {
	enabled bool // a round was recorded: the probe families are exported
	at      time.Time
	servers []probedSeries
	errors  map[string]uint64
}

// probedSeries is one probed server as labels and values.
type probedSeries struct {
	end    End
	server string // ip:port
	// versions are the versions attempted, each accepted or not.
	versions   []probe.VersionResult
	clientCert string
	fallback   string    // the RFC 7507 check's verdict (probe.Fallback*)
	leafExpiry time.Time // zero without a leaf certificate
	// legacy is whether it accepted a version below the policy minimum that no
	// exemption of the server waives.
	legacy bool
}

// SetProbeRound replaces the probe results with those of a round that started at
// at. Servers are named as their flows are; the policy in force judges which
// accepted versions are legacy.
func (e *Exporter) SetProbeRound(at time.Time, servers []ProbedServer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ps := &e.probes
	if ps.errors == nil {
		ps.errors = map[string]uint64{}
	}
	ps.enabled, ps.at, ps.servers = true, at, make([]probedSeries, 0, len(servers))
	for _, s := range servers {
		r := &s.Result
		if reason := probeErrorReason(r); reason != "" {
			ps.errors[reason]++
		}
		end := nameEnd(s.Server, at, e.names, e.pol)
		ser := probedSeries{end: end, server: s.Server.String(), versions: r.Versions, clientCert: r.ClientCert, fallback: r.FallbackSCSV,
			legacy: acceptsLegacy(r, e.pol, policy.Ends{Server: s.Server.Addr(), ServerPort: s.Server.Port(), ServerNamespace: end.Namespace}, at)}
		if r.Leaf != nil {
			ser.leafExpiry = r.Leaf.NotAfter
		}
		ps.servers = append(ps.servers, ser)
	}
}

// probeErrorReason sorts a failed probe into one of ProbeErrorReasons; "" when it
// did not fail.
func probeErrorReason(r *probe.Result) string {
	if r.Error == "" {
		return ""
	}
	if len(r.Versions) == 0 {
		return ProbeUnreachable
	}
	for _, v := range r.Versions {
		if v.Accepted {
			return ProbeIncomplete
		}
	}
	return ProbeNoVersionAccepted
}

// acceptsLegacy reports whether the server accepted a version below the policy
// minimum, unless an exemption of kind legacy_tls waives it for the server alone.
// Exemptions naming a client do not apply: the probe is not that client.
func acceptsLegacy(r *probe.Result, pol *policy.Policy, ends policy.Ends, at time.Time) bool {
	below := false
	for _, v := range r.Versions {
		if ver, err := policy.ParseVersion(v.Version); err == nil && v.Accepted && ver < pol.MinVersion {
			below = true
		}
	}
	if !below {
		return false
	}
	for i := range pol.Exemptions {
		if pol.Exemptions[i].Matches(ends, policy.KindLegacyTLS, at) {
			return false
		}
	}
	return true
}

var (
	probeServerLabels = []string{"server_namespace", "server_workload", "server"}

	descProbeVersion = prometheus.NewDesc("tlsaudit_probe_version_accepted",
		"Whether the server accepted a handshake at this TLS version in the last probe round (1) or refused it (0).",
		append(probeServerLabels[:3:3], "version"), nil)
	descProbeLegacy = prometheus.NewDesc("tlsaudit_probe_legacy_version_accepted",
		"Whether the server accepted, in the last probe round, a TLS version below the agent's policy minimum that no exemption waives.",
		probeServerLabels, nil)
	descProbeClientCert = prometheus.NewDesc("tlsaudit_probe_client_cert",
		"What the server does about client certificates at its highest accepted version: 1 for its mode, 0 for the others; absent when unknown.",
		append(probeServerLabels[:3:3], "mode"), nil)
	descProbeFallback = prometheus.NewDesc("tlsaudit_probe_fallback_scsv",
		"What the server did with a handshake at a lower version than its best that carried TLS_FALLBACK_SCSV (RFC 7507): 1 for its state (rejected: protected against downgrade; accepted: not; not_applicable: one version or none), 0 for the others; absent when unknown.",
		append(probeServerLabels[:3:3], "state"), nil)
	descProbeLeafExpiry = prometheus.NewDesc("tlsaudit_probe_leaf_expiry_timestamp_seconds",
		"Unix time at which the leaf certificate the server presented expires.", probeServerLabels, nil)
	descProbeErrors = prometheus.NewDesc("tlsaudit_probe_errors_total",
		"Probed servers that could not be probed fully, by reason.", []string{"reason"}, nil)
	descProbeLastRound = prometheus.NewDesc("tlsaudit_probe_last_round_timestamp_seconds",
		"Unix time at which the last probe round started.", nil, nil)
	descProbeTargets = prometheus.NewDesc("tlsaudit_probe_targets",
		"Servers probed in the last probe round.", nil, nil)

	probeDescs = []*prometheus.Desc{descProbeVersion, descProbeLegacy, descProbeClientCert, descProbeFallback, descProbeLeafExpiry,
		descProbeErrors, descProbeLastRound, descProbeTargets}
)

// collectProbes sends the probe families once a round was recorded; e.mu is held.
func (e *Exporter) collectProbes(ch chan<- prometheus.Metric) {
	ps := &e.probes
	if !ps.enabled {
		return
	}
	for _, s := range ps.servers {
		lv := []string{s.end.Namespace, s.end.Workload, s.server}
		for _, v := range s.versions {
			ch <- prometheus.MustNewConstMetric(descProbeVersion, prometheus.GaugeValue, bool01(v.Accepted), append(lv, v.Version)...)
		}
		ch <- prometheus.MustNewConstMetric(descProbeLegacy, prometheus.GaugeValue, bool01(s.legacy), lv...)
		if s.clientCert != probe.ClientCertUnknown && s.clientCert != "" {
			for _, m := range clientCertModes {
				ch <- prometheus.MustNewConstMetric(descProbeClientCert, prometheus.GaugeValue, bool01(m == s.clientCert), append(lv, m)...)
			}
		}
		if slices.Contains(fallbackStates, s.fallback) {
			for _, st := range fallbackStates {
				ch <- prometheus.MustNewConstMetric(descProbeFallback, prometheus.GaugeValue, bool01(st == s.fallback), append(lv, st)...)
			}
		}
		if !s.leafExpiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(descProbeLeafExpiry, prometheus.GaugeValue, float64(s.leafExpiry.Unix()), lv...)
		}
	}
	for _, r := range sortedKeys(ps.errors, ProbeErrorReasons) {
		ch <- prometheus.MustNewConstMetric(descProbeErrors, prometheus.CounterValue, float64(ps.errors[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descProbeLastRound, prometheus.GaugeValue, float64(ps.at.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(descProbeTargets, prometheus.GaugeValue, float64(len(ps.servers)))
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
