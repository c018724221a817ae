package report

import (
	"cmp"
	"slices"

	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// CounterRow is one service pair's flows and bytes of one class and TLS version, as
// counters (the agents' metrics) hold them rather than as flows.
type CounterRow struct {
	Client, Server string
	Port           uint16
	Internal       bool
	Class          string
	TLSVersion     string
	Flows, Bytes   uint64
}

// ViolationRow is a count of flows of one violation kind on one service pair.
type ViolationRow struct {
	Kind           string
	Client, Server string
	Port           uint16
	Flows          uint64
}

// FromCounters builds an audit, and a Sampler holding its internal shares but no
// flows, from counters: the same pairs, classes, versions and violations a capture of
// those flows would give, without per-flow details or times. source names where the
// counters came from (it stands in the summary's files); min is the policy minimum
// the report colours against.
func FromCounters(source string, rows []CounterRow, violations []ViolationRow, min string) (*Audit, *Sampler) {
	s := NewSampler()
	sum := Summary{
		Files: []string{source}, Classes: map[string]int{}, TLSVersions: map[string]int{}, UnknownReasons: map[string]int{},
		ParseErrors: map[string]int{}, Violations: map[string]int{}, Limits: map[string]uint64{}, Errors: []string{}, MinTLSVersion: min,
	}
	pairs := map[pairKey]*Pair{}
	var order []pairKey
	pairOf := func(client, server string, port uint16, internal bool) *Pair {
		k := pairKey{client: client, server: server, port: port}
		p := pairs[k]
		if p == nil {
			p = &Pair{
				Client: client, Server: server, Port: port, Internal: internal, Apps: []string{}, SNIs: []string{}, Violations: []string{},
			}
			pairs[k] = p
			order = append(order, k)
		}
		return p
	}
	for _, r := range rows {
		if r.Flows == 0 && r.Bytes == 0 {
			continue
		}
		p := pairOf(r.Client, r.Server, r.Port, r.Internal)
		n := int(r.Flows)
		p.Flows += n
		p.Bytes += r.Bytes
		p.Classes.Add(r.Class, n)
		sum.Flows += n
		sum.Classes[r.Class] += n
		if r.TLSVersion != "" {
			p.Versions.Add(r.TLSVersion, n)
			sum.TLSVersions[r.TLSVersion] += n
		}
		if p.Class == "" || classSeverity[r.Class] > classSeverity[p.Class] {
			p.Class = r.Class
		}
		if r.Internal {
			sum.InternalFlows += n
			s.Count(r.Class, r.TLSVersion, r.Flows, r.Bytes)
		}
	}
	a := &Audit{Flows: []Flow{}, Pairs: []Pair{}, Violations: []Violation{}}
	for _, v := range violations {
		if v.Flows == 0 {
			continue
		}
		p := pairOf(v.Client, v.Server, v.Port, true)
		addSorted(&p.Violations, v.Kind)
		sum.Violations[v.Kind]++
		a.Violations = append(a.Violations, Violation{Kind: v.Kind, Client: v.Client, Server: v.Server, Port: v.Port, Flows: int(v.Flows)})
	}
	// A pair seen only in violations (its flows counted there but not in the class
	// counters of the window) takes its class from them.
	for _, p := range pairs {
		switch {
		case slices.Contains(p.Violations, policy.KindPlaintext):
			p.Class = "plaintext"
		case p.Class == "" && slices.Contains(p.Violations, policy.KindLegacyTLS):
			p.Class = "tls"
		case p.Class == "":
			p.Class = "unknown"
		}
	}
	for _, k := range order {
		a.Pairs = append(a.Pairs, *pairs[k])
	}
	slices.SortFunc(a.Pairs, func(x, y Pair) int {
		return cmp.Or(cmp.Compare(classSeverity[y.Class], classSeverity[x.Class]),
			cmp.Compare(x.Client, y.Client), cmp.Compare(x.Server, y.Server), cmp.Compare(x.Port, y.Port))
	})
	slices.SortFunc(a.Violations, func(x, y Violation) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Client, y.Client),
			cmp.Compare(x.Server, y.Server), cmp.Compare(x.Port, y.Port))
	})
	sum.Pairs = len(a.Pairs)
	a.Summary = sum
	return a, s
}
