package policy

import (
	"net/netip"
	"slices"
	"time"
)

// Scope selects flows by their ends. Every field that is set must match (they are
// ANDed); a zero Scope matches every flow.
type Scope struct {
	// Namespace matches when either end is in this namespace.
	Namespace       string
	ClientNamespace string
	ServerNamespace string
	// ClientCIDR and ServerCIDR match the ends' addresses; invalid (zero) means any.
	ClientCIDR netip.Prefix
	ServerCIDR netip.Prefix
	// ServerPort matches the server's port; 0 means any.
	ServerPort uint16
}

// Matches reports whether the ends are in the scope.
func (s *Scope) Matches(e Ends) bool {
	switch {
	case s.Namespace != "" && s.Namespace != e.ClientNamespace && s.Namespace != e.ServerNamespace:
		return false
	case s.ClientNamespace != "" && s.ClientNamespace != e.ClientNamespace:
		return false
	case s.ServerNamespace != "" && s.ServerNamespace != e.ServerNamespace:
		return false
	case s.ClientCIDR.IsValid() && !s.ClientCIDR.Contains(e.Client.Unmap()):
		return false
	case s.ServerCIDR.IsValid() && !s.ServerCIDR.Contains(e.Server.Unmap()):
		return false
	case s.ServerPort != 0 && s.ServerPort != e.ServerPort:
		return false
	}
	return true
}

// Exemption excuses the flows it matches from being violations, for a stated reason
// and, optionally, until a date. Its Scope sets at least one field.
type Exemption struct {
	Scope
	// Reason says why; it is mandatory and written in logs.
	Reason string
	// Expires is when the exemption stops applying; zero means never. A date in the
	// config file means the end of that day, UTC.
	Expires time.Time
	// Kinds limits the exemption to these violation kinds; empty means all.
	Kinds []string
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
	}
	return x.Scope.Matches(e)
}
