package policy

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// DefaultInternal are the ranges that are internal unless configured otherwise:
// RFC 1918, the shared address space of RFC 6598, and IPv6 unique local addresses.
var DefaultInternal = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("fc00::/7"),
}

// Violation kinds, as written in reports and alert labels.
const (
	KindPlaintext = "plaintext"
	KindLegacyTLS = "legacy_tls"
	// KindNotTLS13 is TLS below 1.3 where require_tls13 applies.
	KindNotTLS13 = "not_tls13"
	// KindNoMTLS is TLS whose client proved it sent no certificate where
	// require_mtls applies.
	KindNoMTLS = "no_mtls"
)

// Kinds lists every violation kind, most severe first: a flow that breaks several
// rules is counted under the first of them that is not exempt.
var Kinds = []string{KindPlaintext, KindLegacyTLS, KindNotTLS13, KindNoMTLS}

// Defaults of the config file's fields.
const (
	DefaultSeriesCap         = 10000
	DefaultAlertResolveAfter = 10 * time.Minute
)

// Policy decides what is internal and what is a violation, and how violations alert.
// Build one with Default, Load or Parse, then treat it as read-only.
type Policy struct {
	// Internal are the internal ranges: internal_cidrs plus PodCIDRs and ServiceCIDRs.
	Internal     []netip.Prefix
	PodCIDRs     []netip.Prefix
	ServiceCIDRs []netip.Prefix
	MinVersion   classify.Version // TLS below this is legacy
	// Exemptions are pairs that are not violations, each with its reason.
	Exemptions []Exemption
	// RequireTLS13 and RequireMTLS are where internal TLS must be TLS 1.3, and
	// mutual: a flow in any of their scopes that is not is a KindNotTLS13 or
	// KindNoMTLS violation.
	RequireTLS13 []Scope
	RequireMTLS  []Scope
	// AlertKinds are the violation kinds that alert (KindPlaintext, KindLegacyTLS).
	AlertKinds []string
	// AlertLabels are static labels put on every alert (severity, team, ...).
	AlertLabels map[string]string
	// SeriesCap is the most metric series of flows the exporter creates; more are
	// folded into workload "other".
	SeriesCap int
	// AlertResolveAfter is how long a pair must be clean before its alert resolves.
	AlertResolveAfter time.Duration
	// Source names where the policy came from: a file name, or "default".
	Source string
}

// Default returns the policy with the default internal ranges, TLS 1.2 as minimum,
// no exemptions, both violation kinds alerting with severity "warning", a cap of
// DefaultSeriesCap series and alerts resolving after DefaultAlertResolveAfter.
func Default() *Policy {
	return &Policy{
		Internal:          DefaultInternal,
		MinVersion:        classify.VersionTLS12,
		AlertKinds:        slices.Clone(Kinds),
		AlertLabels:       map[string]string{"severity": "warning"},
		SeriesCap:         DefaultSeriesCap,
		AlertResolveAfter: DefaultAlertResolveAfter,
		Source:            "default",
	}
}

// Clone returns a deep copy, for callers that adjust a policy before using it.
func (p *Policy) Clone() *Policy {
	c := *p
	c.Internal = slices.Clone(p.Internal)
	c.PodCIDRs = slices.Clone(p.PodCIDRs)
	c.ServiceCIDRs = slices.Clone(p.ServiceCIDRs)
	c.Exemptions = slices.Clone(p.Exemptions)
	c.RequireTLS13 = slices.Clone(p.RequireTLS13)
	c.RequireMTLS = slices.Clone(p.RequireMTLS)
	c.AlertKinds = slices.Clone(p.AlertKinds)
	c.AlertLabels = maps.Clone(p.AlertLabels)
	return &c
}

// ParseVersion reads a minimum version as written in configs and flags: "TLS1.2" etc.
func ParseVersion(s string) (classify.Version, error) {
	for _, v := range []classify.Version{classify.VersionSSL3, classify.VersionTLS10, classify.VersionTLS11, classify.VersionTLS12, classify.VersionTLS13} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown TLS version %q (want SSL3, TLS1.0, TLS1.1, TLS1.2 or TLS1.3)", s)
}

// IsInternal reports whether addr is in an internal range. IPv4-mapped IPv6 addresses
// count as their IPv4 address.
func (p *Policy) IsInternal(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pfx := range p.Internal {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// Violation returns the kind of violation a flow with this verdict is when internal,
// or "" when it is none. Plaintext is a violation; so is TLS whose negotiated version is
// below the minimum (SSL 2 and 3 included). TLS whose version was not seen is not.
//
// Violation knows only the verdict, so it cannot apply exemptions, which match the
// flow's ends: callers that know them use Judge, which does.
func (p *Policy) Violation(v *classify.Verdict) string {
	switch v.Class {
	case classify.ClassPlaintext:
		return KindPlaintext
	case classify.ClassTLS:
		if v.Version != 0 && rank(v.Version) < rank(p.MinVersion) {
			return KindLegacyTLS
		}
	}
	return ""
}

// Ends are what exemptions match a flow by: its addresses, the server port, and the
// namespaces of both ends ("" when not known).
type Ends struct {
	Client, Server                   netip.Addr
	ServerPort                       uint16
	ClientNamespace, ServerNamespace string
}

// Judge returns the kind of violation a flow between these ends with this verdict is
// at time at, or "" when it is none: not internal (both ends must be), local to its
// host or pod (see hostLocal), not a violation, or exempt. A flow may break several rules (TLS 1.2 without a client
// certificate where both TLS 1.3 and mutual TLS are required); it is judged by the
// most severe kind (the order of Kinds) that no exemption waives. When exemptions
// waived every kind it broke, the first one that did is returned with "".
func (p *Policy) Judge(e Ends, v *classify.Verdict, at time.Time) (kind string, exempt *Exemption) {
	if !p.IsInternal(e.Client) || !p.IsInternal(e.Server) || hostLocal(e) {
		return "", nil
	}
	var kinds [4]string
	for _, k := range p.broken(e, v, kinds[:0]) {
		x := p.exemption(e, k, at)
		if x == nil {
			return k, nil
		}
		if exempt == nil {
			exempt = x
		}
	}
	return "", exempt
}

// hostLocal reports whether a flow never left its host or pod: an end on loopback (an
// application and its mesh sidecar: Istio's inbound leg comes from 127.0.0.6), or
// both ends on one address (a pod talking to itself, its sidecar to its own pod IP).
// Such a flow is never a violation, whatever the internal ranges say.
func hostLocal(e Ends) bool {
	c, s := e.Client.Unmap(), e.Server.Unmap()
	return c.IsLoopback() || s.IsLoopback() || c == s
}

// broken appends to dst the kinds of rule a flow breaks, most severe first.
func (p *Policy) broken(e Ends, v *classify.Verdict, dst []string) []string {
	if k := p.Violation(v); k != "" {
		dst = append(dst, k)
	}
	if v.Class != classify.ClassTLS {
		return dst
	}
	if v.Version != 0 && rank(v.Version) < rank(classify.VersionTLS13) && inScope(p.RequireTLS13, e) {
		dst = append(dst, KindNotTLS13)
	}
	if v.ClientCert == classify.AnswerNo && inScope(p.RequireMTLS, e) {
		dst = append(dst, KindNoMTLS)
	}
	return dst
}

// exemption returns the first exemption in force that waives kind for these ends.
func (p *Policy) exemption(e Ends, kind string, at time.Time) *Exemption {
	for i := range p.Exemptions {
		if x := &p.Exemptions[i]; x.Matches(e, kind, at) {
			return x
		}
	}
	return nil
}

// inScope reports whether any of the scopes holds the ends.
func inScope(scopes []Scope, e Ends) bool {
	for i := range scopes {
		if scopes[i].Matches(e) {
			return true
		}
	}
	return false
}

// Alerts reports whether violations of kind alert.
func (p *Policy) Alerts(kind string) bool { return slices.Contains(p.AlertKinds, kind) }

// ClientAllowsLegacy answers whether the client of a flow offered a version below the
// minimum: yes when one of its listed versions is, or when its hello's version (the
// highest it accepts) is; no when it listed its versions and none is; unknown when
// only its highest version is known and that is not below (it may accept lower
// ones) or no ClientHello was seen.
func (p *Policy) ClientAllowsLegacy(v *classify.Verdict) classify.Answer {
	if len(v.OfferedVersions) == 0 {
		return classify.AnswerUnknown
	}
	for _, o := range v.OfferedVersions {
		if rank(o) < rank(p.MinVersion) {
			return classify.AnswerYes
		}
	}
	if !v.OfferedVersionsListed {
		return classify.AnswerUnknown
	}
	return classify.AnswerNo
}

// rank orders versions: SSL 2 below SSL 3 below TLS 1.0 …, drafts as TLS 1.3.
func rank(v classify.Version) int {
	v = v.Normalized()
	if v == classify.VersionSSL2 {
		return 1
	}
	return int(v)
}
