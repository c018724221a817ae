package flow

import "sync/atomic"

// Shared is a bound on flows and buffered bytes that several tables keep together:
// the tables of one capture read by several workers, each tracking the flows a hash
// gives it. With one share of the bounds each, an uneven hash would evict or refuse
// in one table while another has room; sharing them, the tables together hold what
// one table would. Past MaxFlows a table finishes its own least recently seen flow.
type Shared struct {
	MaxFlows         int64
	MaxBufferedBytes int64
	flows            atomic.Int64
	bytes            atomic.Int64
}

// reserveBytes takes n bytes of the shared buffer budget (n may be negative), or
// reports false and takes nothing when the budget would be exceeded.
func (s *Shared) reserveBytes(n int64) bool {
	if s.bytes.Add(n) > s.MaxBufferedBytes && n > 0 {
		s.bytes.Add(-n)
		return false
	}
	return true
}
