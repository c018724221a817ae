package policy

import (
	"net/netip"
	"slices"
	"time"
)

// Exemption excuses the flows it matches from being violations, for a stated reason
// and, optionally, until a date. Every field that is set must match (they are ANDed);
// an exemption sets at least one of them.
type Exemption struct {
	// Reason says why; it is mandatory and written in logs.
	Reason string
	// Expires is when the exemption stops applying; zero means never. A date in the
	// config file means the end of that day, UTC.
	Expires time.Time
	// Kinds limits the exemption to these violation kinds; empty means all.
	Kinds []string
	// Namespace matches when either end is in this namespace.
	Namespace       string
	ClientNamespace string
	ServerNamespace string
	// ClientCIDR and ServerCIDR match the ends' addresses; invalid (zero) means any.
	ClientCIDR netip.Prefix
	ServerCIDR netip.Prefix
	// ServerPort matches the server's port; 0 means any.
	ServerPort uint16
	// Line is where the exemption starts in its config file (0 when built in code).
	Line int
}

// Matches reports whether the exemption applies to a violation of kind between these
// ends at time at.
func (x *Exemption) Matches(e Ends, kind string, at time.Time) bool {
	switch {
	case !x.Expires.IsZero() && !at.Before(x.Expires):
		return false
	case len(x.Kinds) > 0 && !slices.Contains(x.Kinds, kind):
		return false
	case x.Namespace != "" && x.Namespace != e.ClientNamespace && x.Namespace != e.ServerNamespace:
		return false
	case x.ClientNamespace != "" && x.ClientNamespace != e.ClientNamespace:
		return false
	case x.ServerNamespace != "" && x.ServerNamespace != e.ServerNamespace:
		return false
	case x.ClientCIDR.IsValid() && !x.ClientCIDR.Contains(e.Client.Unmap()):
		return false
	case x.ServerCIDR.IsValid() && !x.ServerCIDR.Contains(e.Server.Unmap()):
		return false
	case x.ServerPort != 0 && x.ServerPort != e.ServerPort:
		return false
	}
	return true
}
