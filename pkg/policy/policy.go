// Package policy says which flows matter and which are violations: what counts as
// internal (east-west) traffic, and the lowest TLS version that is acceptable.
//
// A Policy is immutable once built and safe for concurrent use.
package policy

import (
	"fmt"
	"net/netip"

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
)

// Policy decides what is internal and what is a violation.
type Policy struct {
	Internal   []netip.Prefix
	MinVersion classify.Version // TLS below this is legacy
}

// Default returns the policy with the default internal ranges and TLS 1.2 as minimum.
func Default() *Policy {
	return &Policy{Internal: DefaultInternal, MinVersion: classify.VersionTLS12}
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

// rank orders versions: SSL 2 below SSL 3 below TLS 1.0 …, drafts as TLS 1.3.
func rank(v classify.Version) int {
	v = v.Normalized()
	if v == classify.VersionSSL2 {
		return 1
	}
	return int(v)
}
