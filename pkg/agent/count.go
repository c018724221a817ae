package agent

import (
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
)

const (
	// identityGrace is how long a flow neither of whose ends the cluster index knows
	// waits before it is judged: a pod that just started may talk before the
	// informers hear of its address, and judged at once such a flow would be counted
	// by every agent that sees it.
	identityGrace = 5 * time.Second
	// identityMaxWait bounds the wait while the index has not synced (an agent that
	// just started, or an API server that is away): past it the flow is judged with
	// what is known.
	identityMaxWait = time.Minute
	// maxPending bounds the flows waiting; past it a flow is judged at once.
	maxPending = 4096
)

// pendingFlow is a flow waiting for its ends to be named.
type pendingFlow struct {
	rec      flow.Record // as decided
	end      flow.Record // as finished, when finished is set
	finished bool
	due      int64 // Unix ns: judge once the index has synced
	deadline int64 // Unix ns: judge whatever the index's state
}

// flowCounter applies the count-once rule to the flows of one table: it decides,
// once per flow at its verdict, whether this node counts it, feeds the exporter the
// flows it counts (at their verdict and at their end) and writes one verdict line per
// flow. It runs on the capture loop's goroutine only.
type flowCounter struct {
	kube    *Kube
	inTable func(flow.Key) bool
	// logVerdict writes the verdict line of r with its ownership.
	logVerdict func(r *flow.Record, own ownership)
	decide     func(r *flow.Record) // exporter: counted at its verdict
	finish     func(r *flow.Record) // exporter: counted flow ended
	counted    map[flow.Key]struct{}
	pending    map[flow.Key]*pendingFlow
}

func newFlowCounter(k *Kube, inTable func(flow.Key) bool, logVerdict func(*flow.Record, ownership), decide, finish func(*flow.Record)) *flowCounter {
	return &flowCounter{kube: k, inTable: inTable, logVerdict: logVerdict, decide: decide, finish: finish,
		counted: map[flow.Key]struct{}{}, pending: map[flow.Key]*pendingFlow{}}
}

// decided handles a flow whose verdict was just reached; now is Unix ns.
func (c *flowCounter) decided(r *flow.Record, now int64) {
	if old := c.pending[r.Key]; old != nil {
		// The same 5-tuple again (a new connection): settle the old one first.
		c.judge(old, now)
	}
	own := c.kube.owns(r, c.inTable, now)
	if own.why == identity.NeitherEndKnown && len(c.pending) < maxPending {
		c.pending[r.Key] = &pendingFlow{rec: *r, due: now + int64(identityGrace), deadline: now + int64(identityMaxWait)}
		return
	}
	c.apply(r, own)
}

func (c *flowCounter) apply(r *flow.Record, own ownership) {
	c.logVerdict(r, own)
	if own.counted {
		c.counted[r.Key] = struct{}{}
		c.decide(r)
	}
}

// finished handles a flow that ended.
func (c *flowCounter) finished(r *flow.Record) {
	if p := c.pending[r.Key]; p != nil {
		p.end, p.finished = *r, true
		return
	}
	if _, ok := c.counted[r.Key]; ok {
		delete(c.counted, r.Key)
		c.finish(r)
	}
}

// tick judges the waiting flows that are due: past their grace once the index has
// synced, or past their deadline whatever its state.
func (c *flowCounter) tick(now int64, synced bool) {
	for _, p := range c.pending {
		if (synced && now >= p.due) || now >= p.deadline {
			c.judge(p, now)
		}
	}
}

// flush judges every waiting flow now (the capture is ending).
func (c *flowCounter) flush(now int64) {
	for _, p := range c.pending {
		c.judge(p, now)
	}
}

// judge asks the index again about a waiting flow and counts it by the answer.
func (c *flowCounter) judge(p *pendingFlow, now int64) {
	delete(c.pending, p.rec.Key)
	c.apply(&p.rec, c.kube.owns(&p.rec, c.inTable, now))
	if p.finished {
		c.finished(&p.end)
	}
}
