package capture

import (
	"cmp"
	"slices"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// SkipConfig chooses which decided flows the AF_PACKET filter drops in the kernel.
// Zero fields take the defaults of DefaultSkipConfig.
type SkipConfig struct {
	// MaxFlows is the most flows skipped at once. Each costs the filter 14 (IPv4) or
	// 38 (IPv6) instructions, and a packet of an unlisted flow two compares per listed
	// flow. Negative turns skipping off.
	MaxFlows int
	// MinRate is the packets per second, both directions together, a decided flow
	// must have reached since the previous selection to be skipped. A skipped flow
	// whose sampled rate falls below half of it is dropped from the list.
	MinRate int
	// SampleEvery is a power of two: the filter passes one packet in SampleEvery of a
	// skipped flow, chosen at random in the kernel, so that the flow table keeps
	// seeing the flow (it does not expire as idle) and its rate can be estimated.
	SampleEvery uint32
	// QuietWindow is how long a skipped flow's samples are counted before its rate is
	// judged.
	QuietWindow time.Duration
}

// DefaultSkipConfig is what a zero SkipConfig means.
var DefaultSkipConfig = SkipConfig{
	MaxFlows:    64,
	MinRate:     500,
	SampleEvery: 64,
	QuietWindow: 5 * time.Second,
}

func (c SkipConfig) withDefaults() SkipConfig {
	d := DefaultSkipConfig
	if c.MaxFlows != 0 {
		d.MaxFlows = max(c.MaxFlows, 0)
	}
	if c.MinRate > 0 {
		d.MinRate = c.MinRate
	}
	if c.SampleEvery > 0 && c.SampleEvery&(c.SampleEvery-1) == 0 {
		d.SampleEvery = c.SampleEvery
	}
	if c.QuietWindow > 0 {
		d.QuietWindow = c.QuietWindow
	}
	return d
}

// skipEntry is one skipped flow.
type skipEntry struct {
	rate    float64 // packets/s when chosen, then as estimated from the samples
	since   int64   // start of the current sample window
	samples uint64  // packets that reached the flow table in the window
}

// skipCandidate is a decided flow busy enough to be skipped.
type skipCandidate struct {
	key  flow.Key
	rate float64
}

// SkipStats counts what the skip list did.
type SkipStats struct {
	Flows   int    // flows skipped now
	Skipped uint64 // flows put on the list
	Updates uint64 // filters installed because the list changed
}

// Reselect updates the list of skipped flows from the flow table; call it about once
// a second, from the goroutine that owns the table (the one that calls Next). It
// walks the flows that saw packets since the previous call (flow.Table.Recent):
// decided flows that got at least MinRate packets per second are candidates, heaviest
// first, for the free places on the list; when the list is full, a candidate takes
// the place of the slowest listed flow if it is at least twice as fast. A listed flow
// whose sampled packets, scaled by SampleEvery, fall below MinRate/2 over QuietWindow
// leaves the list. The filter is replaced only when the list changed, so at most once
// per call; flows that end leave it at once (Forget, and Next on a FIN or RST).
func (a *AFPacket) Reselect(now int64, t *flow.Table) {
	if a.skipCfg.MaxFlows == 0 {
		return
	}
	since := a.lastSelect
	a.lastSelect = now
	if since == 0 || now <= since {
		t.Recent(0, func(flow.Key, bool, uint64) {}) // set every flow's baseline
		return
	}
	window := float64(now-since) / float64(time.Second)
	minRate := float64(a.skipCfg.MinRate)
	a.cands = a.cands[:0]
	t.Recent(since, func(k flow.Key, decided bool, packets uint64) {
		if e := a.skip[k]; e != nil {
			e.samples += packets
			return
		}
		if r := float64(packets) / window; decided && r >= minRate {
			a.cands = append(a.cands, skipCandidate{k, r})
		}
	})

	changed := false
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.skip {
		if now-e.since < int64(a.skipCfg.QuietWindow) {
			continue
		}
		e.rate = float64(e.samples*uint64(a.skipCfg.SampleEvery)) * float64(time.Second) / float64(now-e.since)
		e.since, e.samples = now, 0
		if e.rate < minRate/2 {
			delete(a.skip, k)
			changed = true
		}
	}
	slices.SortFunc(a.cands, func(x, y skipCandidate) int { return cmp.Compare(y.rate, x.rate) })
	for _, c := range a.cands {
		if len(a.skip) >= a.skipCfg.MaxFlows {
			slow, slowest := flow.Key{}, -1.0
			for k, e := range a.skip {
				if slowest < 0 || e.rate < slowest {
					slow, slowest = k, e.rate
				}
			}
			if c.rate < 2*slowest {
				break // candidates come fastest first: no later one will do better
			}
			delete(a.skip, slow)
		}
		a.skip[c.key] = &skipEntry{rate: c.rate, since: now}
		a.skipStats.Skipped++
		changed = true
	}
	if changed {
		a.applySkipsLocked()
	}
}

// Forget takes a flow off the skip list, at once; wire it to the flow table's sink so
// that a finished flow's 5-tuple is not skipped when a new connection reuses it.
func (a *AFPacket) Forget(k flow.Key) {
	if a.skip[k] == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.skip, k)
	a.applySkipsLocked()
}

// SkipStats returns the skip list's counters; safe from any goroutine.
func (a *AFPacket) SkipStats() SkipStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.skipStats
	s.Flows = len(a.skipOrder)
	return s
}

// applySkipsLocked orders the list heaviest first (matched soonest) and installs the
// filter. If the kernel refuses it (a filter is charged to the socket's option
// memory, net.core.optmem_max, which older kernels set to 20 KiB), the slower half of
// the list is dropped, and MaxFlows lowered, until it takes one; the empty list's filter is the plain
// interface filter.
func (a *AFPacket) applySkipsLocked() {
	a.skipOrder = a.skipOrder[:0]
	for k := range a.skip {
		a.skipOrder = append(a.skipOrder, k)
	}
	slices.SortFunc(a.skipOrder, func(x, y flow.Key) int { return cmp.Compare(a.skip[y].rate, a.skip[x].rate) })
	for {
		err := a.refilterLocked()
		if err == nil {
			break
		}
		if len(a.skipOrder) == 0 {
			a.log.Warn().Err(err).Msg("skip list: filter")
			return
		}
		// Lower the bound too, or the next selection would fill the list again.
		keep := len(a.skipOrder) / 2
		a.skipCfg.MaxFlows = keep
		a.log.Warn().Err(err).Int("skipped_flows", len(a.skipOrder)).Int("keep", keep).Msg("skip list: filter refused; skipping fewer flows")
		for _, k := range a.skipOrder[keep:] {
			delete(a.skip, k)
		}
		a.skipOrder = a.skipOrder[:keep]
	}
	a.skipStats.Updates++
	a.log.Debug().Int("skipped_flows", len(a.skipOrder)).Msg("skip list changed")
}
