package report

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// Flow is one flow as written in JSON and NDJSON output. Field names are a stable
// contract (see DESIGN.md): scripts and tests read them.
type Flow struct {
	Transport         string    `json:"transport"`
	Client            string    `json:"client"`
	Server            string    `json:"server"`
	FirstSeen         time.Time `json:"first_seen"`
	LastSeen          time.Time `json:"last_seen"`
	Packets           uint64    `json:"packets"`
	Bytes             uint64    `json:"bytes"`
	Class             string    `json:"class"`
	TLSVersion        string    `json:"tls_version"`
	TLSVersionDetail  string    `json:"tls_version_detail,omitempty"` // drafts and experiments spelled out: "TLS1.3-draft23"
	AppProtocol       string    `json:"app_protocol"`
	StartTLS          bool      `json:"starttls"`
	SNI               string    `json:"sni"`
	ALPN              []string  `json:"alpn"`
	ALPNSelected      string    `json:"alpn_selected"`
	Cipher            string    `json:"cipher"`
	Group             string    `json:"group"`
	JA3               string    `json:"ja3"`
	JA3S              string    `json:"ja3s"`
	JA4               string    `json:"ja4"`
	JA3String         string    `json:"ja3_string,omitempty"`  // with --raw-fingerprints
	JA3SString        string    `json:"ja3s_string,omitempty"` // with --raw-fingerprints
	JA4Raw            string    `json:"ja4_r,omitempty"`       // FoxIO's JA4_r, with --raw-fingerprints
	Resumed           bool      `json:"resumed"`
	HRR               bool      `json:"hrr"`
	ClientCert        *bool     `json:"client_cert"` // null when a TLS flow's bytes do not tell
	ECH               bool      `json:"ech"`
	PostQuantum       bool      `json:"post_quantum"`
	Heartbeat         bool      `json:"heartbeat,omitempty"`
	HeartbeatAccepted bool      `json:"heartbeat_accepted,omitempty"` // the server agreed to TLS heartbeats (RFC 6520)
	ServerCert        *CertJSON `json:"server_cert,omitempty"`
	Internal          bool      `json:"internal"`
	ClientName        string    `json:"client_name"`
	ServerName        string    `json:"server_name"`
	ClientNamespace   string    `json:"client_namespace,omitempty"`
	ClientWorkload    string    `json:"client_workload,omitempty"`
	ClientKind        string    `json:"client_kind,omitempty"`
	ClientPod         string    `json:"client_pod,omitempty"`
	ServerNamespace   string    `json:"server_namespace,omitempty"`
	ServerWorkload    string    `json:"server_workload,omitempty"`
	ServerKind        string    `json:"server_kind,omitempty"`
	ServerPod         string    `json:"server_pod,omitempty"`
	ServerService     string    `json:"server_service,omitempty"`
	Midstream         bool      `json:"midstream"`
	Via               string    `json:"via,omitempty"` // a tunnel the verdict was found inside ("socks")
	QUICVersion       string    `json:"quic_version,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	ParseError        string    `json:"parse_error,omitempty"`
	Violation         string    `json:"violation,omitempty"`
	Exempt            string    `json:"exempt,omitempty"` // reason of the exemption that waived a violation

	// ClientCert above is whether the client sent a certificate: true, false, or
	// null when the bytes do not tell (a TLS flow only; a flow without TLS carries
	// none). ClientCertRequested is whether the server asked for one, the same way.
	// ClientAuthEvidence says how ClientCert is known: "certificate_message" (TLS
	// 1.2 and earlier, in clear) or "tls13_flight_size"; "" when it is not.
	ClientCertRequested *bool  `json:"client_cert_requested"`
	ClientAuthEvidence  string `json:"client_auth_evidence"`

	// Fallback evidence. OfferedVersions are the versions the client offered (its
	// supported_versions; before TLS 1.3 only its hello's version, the highest it
	// accepts). ClientAllowsLegacy is whether it offered one below the policy
	// minimum: null when only the highest is known and it is not below. The
	// others are true on evidence only: the client offered TLS 1.3 and the server
	// chose older, the hello carried TLS_FALLBACK_SCSV.
	OfferedVersions    []string `json:"offered_versions"`
	ClientAllowsLegacy *bool    `json:"client_allows_legacy"`
	ServerLacksTLS13   bool     `json:"server_lacks_tls13"`
	FallbackSCSV       bool     `json:"fallback_scsv"`

	// Mesh names the service mesh whose proxy opened the connection ("istio",
	// "linkerd", "consul"), "" when none is recognised.
	Mesh string `json:"mesh"`

	pairKey pairKey
}

// CertJSON is the server certificate's clear-text identity (TLS 1.2 and earlier).
type CertJSON struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// Pair aggregates the flows from one client to one server port: the unit people act on.
type Pair struct {
	Transport  string    `json:"transport"`
	Client     string    `json:"client"` // workload name when known, else IP
	Server     string    `json:"server"`
	Port       uint16    `json:"port"`
	Internal   bool      `json:"internal"`
	Class      string    `json:"class"` // the worst class among its flows
	Classes    Counts    `json:"classes"`
	Versions   Counts    `json:"tls_versions"`
	Apps       []string  `json:"app_protocols"`
	SNIs       []string  `json:"snis"`
	Flows      int       `json:"flows"`
	Bytes      uint64    `json:"bytes"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Violations []string  `json:"violations"`
}

// Violation is an internal pair that breaks the policy, with one flow as evidence.
type Violation struct {
	Kind       string    `json:"kind"`
	Transport  string    `json:"transport"`
	Client     string    `json:"client"`
	Server     string    `json:"server"`
	Port       uint16    `json:"port"`
	Flows      int       `json:"flows"`
	TLSVersion string    `json:"tls_version,omitempty"`
	App        string    `json:"app_protocol,omitempty"`
	Sample     string    `json:"sample_flow"` // client ip:port -> server ip:port
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// Summary counts the whole run.
type Summary struct {
	Files          []string          `json:"files"`
	Packets        uint64            `json:"packets"`
	Flows          int               `json:"flows"`
	FlowsOmitted   int               `json:"flows_omitted"` // flows past the listing limit: counted, not listed
	FlowsFolded    int               `json:"flows_folded"`  // flows of pairs past the pair limit, aggregated as "(other)"
	InternalFlows  int               `json:"internal_flows"`
	Pairs          int               `json:"pairs"`
	Classes        map[string]int    `json:"classes"`
	TLSVersions    map[string]int    `json:"tls_versions"`
	UnknownReasons map[string]int    `json:"unknown_reasons"`
	ParseErrors    map[string]int    `json:"parse_errors"`
	Violations     map[string]int    `json:"violations"`
	Limits         map[string]uint64 `json:"limits_hit"`
	Errors         []string          `json:"errors"`
	MinTLSVersion  string            `json:"min_tls_version"`
}

// Audit is the whole offline report.
type Audit struct {
	Summary    Summary     `json:"summary"`
	Flows      []Flow      `json:"flows"`
	Pairs      []Pair      `json:"pairs"`
	Violations []Violation `json:"violations"`
}

// Builder accumulates flow records into an Audit. Summary, pairs and violations are
// aggregated as flows arrive, so that memory grows with the number of pairs, not of
// flows. At most FlowLimit flows are listed (the rest are counted in
// Summary.FlowsOmitted): kept in the Audit, or, after StreamTo, written out at once and
// not kept at all. Not safe for concurrent use.
type Builder struct {
	pol   *policy.Policy
	names identity.Resolver
	now   time.Time // exemptions are judged as of the report, not of the capture
	// FlowLimit is how many flows the audit lists; DefaultFlowLimit unless set.
	FlowLimit int
	// PairLimit is how many distinct pairs are kept (DefaultPairLimit unless set); flows
	// of further pairs are folded into one pair named "(other)" and counted in
	// Summary.FlowsFolded, so that a flood of random sources cannot grow the report.
	PairLimit int
	flows     []Flow
	listed    int     // flows listed so far, kept or streamed
	stream    *Stream // where listed flows go instead of flows, when set
	scratch   Flow    // the flow being added: reused, so that adding allocates no Flow
	summary   Summary
	pairs     map[pairKey]*Pair
	viol      map[pairKey]map[string]*Violation

	// OnFlow, when set, is called with every flow after it is counted, its pair already
	// chosen (the "(other)" pair past PairLimit). The flow is borrowed for the call.
	OnFlow func(f *Flow)
}

// DefaultFlowLimit bounds the flows an audit lists by default. Streamed, a listed flow
// costs no memory, only about 1 KB of json output.
const DefaultFlowLimit = 1_000_000

// DefaultPairLimit bounds the distinct pairs an audit aggregates by default.
const DefaultPairLimit = 100_000

// otherPair names the pair that flows past PairLimit are folded into.
const otherPair = "(other)"

// NewBuilder returns a builder that judges flows by pol and names ends with names
// (which may be nil), as they were when each flow was first seen.
func NewBuilder(pol *policy.Policy, names identity.Resolver) *Builder {
	return &Builder{
		pol: pol, names: names, now: time.Now(), FlowLimit: DefaultFlowLimit, PairLimit: DefaultPairLimit,
		summary: Summary{
			Classes: map[string]int{}, TLSVersions: map[string]int{}, UnknownReasons: map[string]int{},
			ParseErrors: map[string]int{}, Violations: map[string]int{},
		},
		pairs: map[pairKey]*Pair{},
		viol:  map[pairKey]map[string]*Violation{},
	}
}

// Add converts one finished flow record. It copies what it keeps.
func (b *Builder) Add(r *flow.Record) {
	v := &r.Verdict
	f := &b.scratch
	*f = Flow{
		Transport:         r.Transport(),
		Client:            r.Client.String(),
		Server:            r.Server.String(),
		FirstSeen:         r.FirstSeen,
		LastSeen:          r.LastSeen,
		Packets:           r.Packets(),
		Bytes:             r.Bytes(),
		Class:             v.Class.String(),
		TLSVersion:        v.Version.String(),
		TLSVersionDetail:  detailIfDifferent(v.Version),
		AppProtocol:       appName(v),
		StartTLS:          v.StartTLS,
		SNI:               v.SNI,
		ALPN:              v.ALPN,
		ALPNSelected:      v.ALPNServer,
		JA3:               v.JA3,
		JA3S:              v.JA3S,
		JA4:               v.JA4,
		JA3String:         v.JA3String,
		JA3SString:        v.JA3SString,
		JA4Raw:            v.JA4Raw,
		Resumed:           v.Resumed,
		HRR:               v.HRR,
		ClientCert:        clientAnswer(v, v.ClientCert),
		ECH:               v.ECH,
		PostQuantum:       v.PQ,
		Heartbeat:         v.Heartbeat,
		HeartbeatAccepted: v.HeartbeatAccepted,
		Internal:          b.pol.IsInternal(r.Client.Addr()) && b.pol.IsInternal(r.Server.Addr()),
		Midstream:         r.Midstream,
		Via:               v.Via,
		QUICVersion:       classify.QUICVersionName(v.QUICVersion),
		Reason:            v.Reason,
		ParseError:        v.ParseError,
	}
	if f.ALPN == nil {
		f.ALPN = []string{}
	}
	f.ClientCertRequested, f.ClientAuthEvidence = clientAnswer(v, v.ClientCertRequested), v.ClientAuthEvidence
	f.OfferedVersions = make([]string, len(v.OfferedVersions))
	for i, ov := range v.OfferedVersions {
		f.OfferedVersions[i] = ov.String()
	}
	f.ClientAllowsLegacy = answerJSON(b.pol.ClientAllowsLegacy(v))
	f.ServerLacksTLS13, f.FallbackSCSV, f.Mesh = v.ServerLacksTLS13, v.FallbackSCSV, v.Mesh
	if v.Cipher != 0 {
		f.Cipher = classify.CipherSuiteName(v.Cipher)
	}
	if v.Group != 0 {
		f.Group = classify.GroupName(v.Group)
	}
	if c := v.ServerCert; c != nil {
		f.ServerCert = &CertJSON{Subject: c.Subject, Issuer: c.Issuer, NotAfter: c.NotAfter}
	}
	if b.names != nil {
		if id, ok := b.names.Resolve(r.Client, r.FirstSeen); ok {
			f.ClientName, f.ClientNamespace, f.ClientWorkload, f.ClientKind, f.ClientPod = id.Name(), id.Namespace, id.Workload, id.Kind, id.Pod
		}
		if id, ok := b.names.Resolve(r.Server, r.FirstSeen); ok {
			f.ServerName, f.ServerNamespace, f.ServerWorkload, f.ServerKind, f.ServerPod = id.Name(), id.Namespace, id.Workload, id.Kind, id.Pod
			f.ServerService = id.Service
		}
	}
	kind, exempt := b.pol.Judge(policy.Ends{
		Client: r.Client.Addr(), Server: r.Server.Addr(), ServerPort: r.Server.Port(),
		ClientNamespace: f.ClientNamespace, ServerNamespace: f.ServerNamespace,
	}, v, b.now)
	f.Violation = kind
	if exempt != nil {
		f.Exempt = exempt.Reason
	}
	f.pairKey = pairKey{
		transport: f.Transport,
		client:    cmp.Or(f.ClientName, hostOf(f.Client, r.Client)),
		server:    cmp.Or(f.ServerName, hostOf(f.Server, r.Server)),
		port:      r.Server.Port(),
	}
	b.aggregate(f)
	if b.OnFlow != nil {
		b.OnFlow(f)
	}
	switch {
	case b.listed >= b.FlowLimit:
		b.summary.FlowsOmitted++
	case b.stream != nil:
		b.listed++
		b.stream.Flow(f)
	default:
		b.listed++
		b.flows = append(b.flows, *f)
	}
}

// StreamTo makes the builder write each listed flow to s as it is added instead of
// keeping it, so that the built Audit lists no flows and memory does not grow with
// them. Close s with the built Audit to finish the report.
func (b *Builder) StreamTo(s *Stream) { b.stream = s }

// hostOf returns what ap.Addr().String() would, cut from s, ap's String, without
// allocating: "10.0.0.1" of "10.0.0.1:443", "fe80::1%eth0" of "[fe80::1%eth0]:443".
func hostOf(s string, ap netip.AddrPort) string {
	i := strings.LastIndexByte(s, ':')
	if !ap.IsValid() || i < 0 {
		return ap.Addr().String()
	}
	return strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
}

// clientAnswer spells a client-authentication answer for JSON: false for a flow
// without TLS (no certificate can cross), null when a TLS flow's bytes do not tell.
func clientAnswer(v *classify.Verdict, a classify.Answer) *bool {
	if v.Class != classify.ClassTLS {
		no := false
		return &no
	}
	return answerJSON(a)
}

// answerJSON spells an answer as true, false or null.
func answerJSON(a classify.Answer) *bool {
	if !a.Known() {
		return nil
	}
	yes := a.Yes()
	return &yes
}

// detailIfDifferent spells a version's draft or variant when String hides it.
func detailIfDifferent(v classify.Version) string {
	if d := v.Detail(); d != v.String() {
		return d
	}
	return ""
}

func appName(v *classify.Verdict) string {
	if v.App != classify.AppNone {
		return v.App.String()
	}
	return v.AppOther
}

type pairKey struct {
	transport, client, server string
	port                      uint16
}

// classSeverity orders classes for a pair's headline: the worst flow speaks for it.
var classSeverity = map[string]int{"ssh": 0, "encrypted": 0, "tls": 1, "unknown": 2, "plaintext": 3}

// aggregate adds one flow to the summary, its pair and its violation.
func (b *Builder) aggregate(f *Flow) {
	s := &b.summary
	s.Flows++
	s.Classes[f.Class]++
	if f.TLSVersion != "" {
		s.TLSVersions[f.TLSVersion]++
	}
	if f.Class == "unknown" {
		s.UnknownReasons[cmp.Or(f.Reason, "unspecified")]++
	}
	if f.ParseError != "" {
		s.ParseErrors[f.ParseError]++
	}
	if f.Internal {
		s.InternalFlows++
	}
	p := b.pairs[f.pairKey]
	if p == nil && len(b.pairs) >= b.PairLimit {
		f.pairKey = pairKey{transport: f.Transport, client: otherPair, server: otherPair}
		s.FlowsFolded++
		p = b.pairs[f.pairKey]
	}
	if p == nil {
		p = &Pair{
			Transport: f.Transport, Client: f.pairKey.client, Server: f.pairKey.server, Port: f.pairKey.port,
			Internal: f.Internal, Class: f.Class,
			Apps: []string{}, SNIs: []string{}, Violations: []string{}, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
		}
		b.pairs[f.pairKey] = p
	}
	p.Flows++
	p.Bytes += f.Bytes
	p.Classes.Add(f.Class, 1)
	if f.TLSVersion != "" {
		p.Versions.Add(f.TLSVersion, 1)
	}
	if classSeverity[f.Class] > classSeverity[p.Class] {
		p.Class = f.Class
	}
	p.Internal = p.Internal && f.Internal
	addSorted(&p.Apps, f.AppProtocol)
	addSorted(&p.SNIs, f.SNI)
	if f.FirstSeen.Before(p.FirstSeen) {
		p.FirstSeen = f.FirstSeen
	}
	if f.LastSeen.After(p.LastSeen) {
		p.LastSeen = f.LastSeen
	}
	if f.Violation == "" {
		return
	}
	addSorted(&p.Violations, f.Violation)
	vs := b.viol[f.pairKey]
	if vs == nil {
		vs = map[string]*Violation{}
		b.viol[f.pairKey] = vs
	}
	v := vs[f.Violation]
	if v == nil {
		v = &Violation{
			Kind: f.Violation, Transport: f.Transport, Client: p.Client, Server: p.Server, Port: p.Port,
			TLSVersion: f.TLSVersion, App: f.AppProtocol, Sample: f.Client + " -> " + f.Server,
			FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
		}
		vs[f.Violation] = v
	}
	v.Flows++
	// The sample is the earliest flow (the first of equals by name), whatever order
	// flows finish in: several flow tables finish them in another order than one.
	sample := f.Client + " -> " + f.Server
	if c := f.FirstSeen.Compare(v.FirstSeen); c < 0 || (c == 0 && sample < v.Sample) {
		v.FirstSeen, v.Sample, v.TLSVersion = f.FirstSeen, sample, f.TLSVersion
	}
	if f.LastSeen.After(v.LastSeen) {
		v.LastSeen = f.LastSeen
	}
	if f.AppProtocol != "" && (v.App == "" || f.AppProtocol < v.App) {
		v.App = f.AppProtocol
	}
}

// Build finishes the audit: kept flows sorted by time, pairs and violations sorted
// worst first. files, packets, the limits hit and read errors fill the summary.
func (b *Builder) Build(files []string, packets uint64, limits map[string]uint64, errs []string) *Audit {
	a := &Audit{Flows: b.flows, Pairs: []Pair{}, Violations: []Violation{}}
	if a.Flows == nil {
		a.Flows = []Flow{}
	}
	slices.SortStableFunc(a.Flows, func(x, y Flow) int {
		return cmp.Or(x.FirstSeen.Compare(y.FirstSeen), cmp.Compare(x.Client, y.Client),
			cmp.Compare(x.Server, y.Server), cmp.Compare(x.Transport, y.Transport))
	})
	s := b.summary
	s.Files, s.Packets, s.Limits, s.Errors = files, packets, limits, errs
	s.MinTLSVersion = b.pol.MinVersion.String()
	s.Violations = map[string]int{}
	if s.Files == nil {
		s.Files = []string{}
	}
	if s.Errors == nil {
		s.Errors = []string{}
	}
	pairs, viol := b.pairs, b.viol
	for _, p := range pairs {
		a.Pairs = append(a.Pairs, *p)
	}
	slices.SortFunc(a.Pairs, func(x, y Pair) int {
		return cmp.Or(
			cmp.Compare(classSeverity[y.Class], classSeverity[x.Class]),
			cmp.Compare(x.Client, y.Client), cmp.Compare(x.Server, y.Server),
			cmp.Compare(x.Port, y.Port), cmp.Compare(x.Transport, y.Transport))
	})
	for _, vs := range viol {
		for _, v := range vs {
			a.Violations = append(a.Violations, *v)
			s.Violations[v.Kind]++
		}
	}
	slices.SortFunc(a.Violations, func(x, y Violation) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Client, y.Client),
			cmp.Compare(x.Server, y.Server), cmp.Compare(x.Port, y.Port), cmp.Compare(x.Transport, y.Transport))
	})
	s.Pairs = len(a.Pairs)
	a.Summary = s
	return a
}

// maxPairNames bounds a pair's list of SNIs (and of apps and violation kinds, which
// never come near it): a flood of flows with made-up server names to one server must
// not grow a pair without limit.
const maxPairNames = 32

// addSorted inserts s into a sorted list of distinct names, keeping the first
// maxPairNames in sort order: the same list whatever order the flows come in.
func addSorted(list *[]string, s string) {
	if s == "" {
		return
	}
	i, found := slices.BinarySearch(*list, s)
	if found || i >= maxPairNames {
		return
	}
	*list = slices.Insert(*list, i, s)
	if len(*list) > maxPairNames {
		*list = (*list)[:maxPairNames]
	}
}

// HasViolation reports whether the audit holds a violation of one of the kinds.
func (a *Audit) HasViolation(kinds ...string) bool {
	for _, v := range a.Violations {
		if slices.Contains(kinds, v.Kind) {
			return true
		}
	}
	return false
}
