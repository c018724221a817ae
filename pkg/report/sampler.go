package report

import "net/netip"

// DefaultSamplesPerPair bounds the flows the HTML report lists for one service pair.
const DefaultSamplesPerPair = 20

// DefaultSampleBudget bounds the flows a Sampler keeps in all (about 1 KiB each), so
// that a capture with very many pairs cannot grow the HTML report without limit.
const DefaultSampleBudget = 100_000

// Sampler collects what the HTML report shows beyond an Audit's pairs and summary: a
// bounded sample of flows per service pair, violations preferred as evidence, and the
// internal flows and bytes by class and TLS version. Feed it every flow, from
// Builder.OnFlow while a capture is read or from Audit.Flows afterwards; memory grows
// with the pairs (at most PerPair flows each, Budget in all), not with the flows.
// Not safe for concurrent use.
type Sampler struct {
	// PerPair is the most flows kept for one pair.
	PerPair int
	// Budget is the most flows kept in all.
	Budget   int
	kept     int
	byPair   map[pairKey][]Flow
	omitted  map[pairKey]int
	internal Tally
}

// Tally counts flows and bytes by category: the TLS version for TLS flows ("tls" when
// no version was seen), else the class.
type Tally struct {
	Flows map[string]uint64 `json:"flows"`
	Bytes map[string]uint64 `json:"bytes"`
}

// NewSampler returns a sampler with the default bounds.
func NewSampler() *Sampler {
	return &Sampler{
		PerPair: DefaultSamplesPerPair, Budget: DefaultSampleBudget,
		byPair: map[pairKey][]Flow{}, omitted: map[pairKey]int{},
		internal: Tally{Flows: map[string]uint64{}, Bytes: map[string]uint64{}},
	}
}

// Add counts f and keeps a copy of it when its pair's sample has room. When the sample
// is full, a flow in violation replaces the latest kept flow that is not, so that a
// pair's evidence is shown. f is only read.
func (s *Sampler) Add(f *Flow) {
	if f.Internal {
		s.Count(f.Class, f.TLSVersion, 1, f.Bytes)
	}
	list := s.byPair[f.pairKey]
	if len(list) < s.PerPair && s.kept < s.Budget {
		s.byPair[f.pairKey] = append(list, *f)
		s.kept++
		return
	}
	s.omitted[f.pairKey]++
	if f.Violation == "" {
		return
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Violation == "" {
			list[i] = *f
			return
		}
	}
}

// Count adds flows and bytes of internal traffic of one class and TLS version to the
// tally, for reports built from counters rather than from flows.
func (s *Sampler) Count(class, tlsVersion string, flows, bytes uint64) {
	c := category(class, tlsVersion)
	s.internal.Flows[c] += flows
	s.internal.Bytes[c] += bytes
}

// SampleFrom feeds every listed flow of a to a new sampler: for an audit that was built
// without one (a decoded JSON report, whose flows are its own bounded list).
func SampleFrom(a *Audit) *Sampler {
	s := NewSampler()
	for i := range a.Flows {
		f := &a.Flows[i]
		if f.pairKey == (pairKey{}) {
			f.pairKey = flowPairKey(f)
		}
		s.Add(f)
	}
	return s
}

// flowPairKey recomputes the pair a decoded flow belongs to, as Builder.Add chose it.
func flowPairKey(f *Flow) pairKey {
	k := pairKey{transport: f.Transport, client: f.ClientName, server: f.ServerName}
	if ap, err := netip.ParseAddrPort(f.Client); err == nil && k.client == "" {
		k.client = ap.Addr().String()
	}
	if ap, err := netip.ParseAddrPort(f.Server); err == nil {
		k.port = ap.Port()
		if k.server == "" {
			k.server = ap.Addr().String()
		}
	}
	return k
}

// category names what a flow is, for the summary's shares.
func category(class, tlsVersion string) string {
	if class == "tls" && tlsVersion != "" {
		return tlsVersion
	}
	return class
}
