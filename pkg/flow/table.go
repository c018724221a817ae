package flow

import (
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// Config bounds a Table. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// MaxFlows is the most flows tracked at once; past it the least recently seen
	// flow is finished early (classified with what it has) and counted as evicted.
	MaxFlows int
	// PrefixBytes is how many bytes of each direction are kept for classification.
	PrefixBytes int
	// MaxBufferedBytes bounds the prefix buffers of all flows together; a flow that
	// cannot get buffer space is classified with what it has, and the refusal counted.
	MaxBufferedBytes int
	// IdleTimeout finishes a flow that has seen no packet for this long.
	IdleTimeout time.Duration
	// ClosedTimeout finishes a closed (FIN both ways, or RST) flow after this long,
	// so that its last ACKs do not start a new flow.
	ClosedTimeout time.Duration
	// RawFingerprints keeps the strings behind JA3, JA3S and JA4 in the verdicts (see
	// classify.Input.RawFingerprints).
	RawFingerprints bool
	// Shared, when set, bounds the flows and buffered bytes of this table and the
	// others given the same Shared together, in place of MaxFlows and
	// MaxBufferedBytes.
	Shared *Shared
	// OnDecide, when set, is called as soon as a flow's verdict is reached, before
	// the flow ends; the record's counters are those seen so far. Live sources use it
	// to put the flow on the kernel's fast path and to report verdicts promptly.
	OnDecide func(*Record)
}

// DefaultConfig is what a zero Config means.
var DefaultConfig = Config{
	MaxFlows:         1 << 18,
	PrefixBytes:      16 << 10,
	MaxBufferedBytes: 256 << 20,
	IdleTimeout:      5 * time.Minute,
	ClosedTimeout:    10 * time.Second,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.MaxFlows > 0 {
		d.MaxFlows = c.MaxFlows
	}
	if c.PrefixBytes > 0 {
		d.PrefixBytes = c.PrefixBytes
	}
	if c.MaxBufferedBytes > 0 {
		d.MaxBufferedBytes = c.MaxBufferedBytes
	}
	if c.IdleTimeout > 0 {
		d.IdleTimeout = c.IdleTimeout
	}
	if c.ClosedTimeout > 0 {
		d.ClosedTimeout = c.ClosedTimeout
	}
	d.OnDecide = c.OnDecide
	d.RawFingerprints = c.RawFingerprints
	d.Shared = c.Shared
	return d
}

// Stats counts what a Table did and every bound it hit.
type Stats struct {
	Packets          uint64 // packets added
	Flows            uint64 // flows started
	Active           int    // flows tracked now
	Decided          uint64 // flows whose verdict was reached before they ended
	Evicted          uint64 // flows finished early because the table was full
	Expired          uint64 // flows finished by idle or closed timeout
	BufferRefused    uint64 // prefix bytes dropped because the buffer budget was spent
	OutOfOrderDrops  uint64 // out-of-order segments forgotten: too many holes
	SnappedPayloads  uint64 // payloads the capture cut short (snap length)
	BufferedBytes    int    // prefix buffer bytes in use now
	PortReuse        uint64 // a new SYN on a finished connection's 5-tuple started a new flow
	UnknownByReason  map[string]uint64
	ClassifyByReason map[string]uint64
}

// Add adds o's counters to s, for the tables of one capture read by several workers.
func (s *Stats) Add(o Stats) {
	s.Packets += o.Packets
	s.Flows += o.Flows
	s.Active += o.Active
	s.Decided += o.Decided
	s.Evicted += o.Evicted
	s.Expired += o.Expired
	s.BufferRefused += o.BufferRefused
	s.OutOfOrderDrops += o.OutOfOrderDrops
	s.SnappedPayloads += o.SnappedPayloads
	s.BufferedBytes += o.BufferedBytes
	s.PortReuse += o.PortReuse
	for _, m := range []struct {
		dst *map[string]uint64
		src map[string]uint64
	}{
		{&s.UnknownByReason, o.UnknownByReason}, {&s.ClassifyByReason, o.ClassifyByReason},
	} {
		if *m.dst == nil && len(m.src) > 0 {
			*m.dst = map[string]uint64{}
		}
		for k, v := range m.src {
			(*m.dst)[k] += v
		}
	}
}

// Table tracks bidirectional flows, reassembles the first bytes of each direction,
// asks the classifier for a verdict as bytes arrive and, once a verdict is reached,
// only counts packets and bytes. Finished flows are handed to the sink given to New.
//
// A Table is not safe for concurrent use: one goroutine owns it.
type Table struct {
	cfg   Config
	flows map[Key]*Flow
	head  *Flow // most recently seen
	tail  *Flow // least recently seen
	spare []*Flow
	pool  bufPool
	cls   classify.Classifier
	sink  func(*Record)
	// rec is the record handed to sink and OnDecide, valid during the call: one per
	// table, not one allocation per flow (a flood finishes a million).
	rec      Record
	now      int64
	nextScan int64
	stats    Stats
}

// New returns an empty table that hands each finished flow to sink. The *Record is
// only valid during the call.
func New(cfg Config, sink func(*Record)) *Table {
	cfg = cfg.withDefaults()
	return &Table{
		cfg:   cfg,
		flows: make(map[Key]*Flow),
		pool:  bufPool{budget: cfg.MaxBufferedBytes, shared: cfg.Shared},
		sink:  sink,
		stats: Stats{UnknownByReason: map[string]uint64{}, ClassifyByReason: map[string]uint64{}},
	}
}

// Stats returns a snapshot of the counters. The maps are copies.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Active = len(t.flows)
	s.BufferedBytes = t.pool.inUse
	s.BufferRefused = t.pool.refused
	s.UnknownByReason = make(map[string]uint64, len(t.stats.UnknownByReason))
	for k, v := range t.stats.UnknownByReason {
		s.UnknownByReason[k] = v
	}
	s.ClassifyByReason = make(map[string]uint64, len(t.stats.ClassifyByReason))
	for k, v := range t.stats.ClassifyByReason {
		s.ClassifyByReason[k] = v
	}
	return s
}

// Has reports whether the table tracks the flow k now.
func (t *Table) Has(k Key) bool {
	_, ok := t.flows[k]
	return ok
}

// Add accounts one packet. It allocates nothing for packets of known flows once their
// verdict is reached.
func (t *Table) Add(p *Packet) {
	t.stats.Packets++
	if p.Timestamp > t.now {
		t.now = p.Timestamp
	}
	if t.now >= t.nextScan {
		t.expire()
		t.nextScan = t.now + int64(time.Second)
	}
	k, fromA := keyOf(p)
	f := t.flows[k]
	if f != nil && t.timedOut(f, p.Timestamp) {
		// Its timeout passed before this packet, whether or not a scan has come
		// round to it: the packet starts a new flow, measured on the flow's own
		// packets, so the same in every table that sees them, however many other
		// flows it holds and whatever other files it read before.
		t.stats.Expired++
		t.finish(f)
		f = nil
	}
	if f != nil && p.Proto == TCP && p.Flags&(FlagSYN|FlagACK) == FlagSYN && f.isNewConnection(p, fromA) {
		t.stats.PortReuse++
		t.finish(f)
		f = nil
	}
	if f == nil {
		f = t.start(k, p, fromA)
	} else {
		t.touch(f)
	}
	d := f.direction(fromA)
	f.packets[d]++
	f.bytes[d] += uint64(p.WireLen)
	f.last = p.Timestamp
	if p.Proto == TCP {
		t.addTCP(f, d, p)
	} else {
		t.addUDP(f, d, p)
	}
}

// Tick advances the table's clock to now (Unix ns) when no packet did, so that idle
// flows of a live source are finished on time.
func (t *Table) Tick(now int64) {
	if now > t.now {
		t.now = now
	}
	if t.now >= t.nextScan {
		t.expire()
		t.nextScan = t.now + int64(time.Second)
	}
}

// Recent calls fn for every flow that has seen a packet at or after since (Unix ns,
// packet time), most recently seen first, with its key, whether its verdict is
// reached, and how many packets it saw since the last Recent call that visited it (or
// since it started). A caller that passes the time of its previous call as since
// visits every flow whose count changed in between, so the counts add up to all the
// packets the table took. It walks only those flows (the table keeps them in order of
// last packet) and allocates nothing; fn must not call back into the table.
func (t *Table) Recent(since int64, fn func(k Key, decided bool, packets uint64)) {
	for f := t.head; f != nil && f.last >= since; f = f.next {
		n := f.packets[0] + f.packets[1]
		d := n - f.reported
		f.reported = n
		fn(f.key, f.decided, d)
	}
}

// Flush finishes every flow, as at the end of a capture.
func (t *Table) Flush() {
	for t.tail != nil {
		t.finish(t.tail)
	}
}

func (t *Table) start(k Key, p *Packet, fromA bool) *Flow {
	if t.full() && t.tail != nil {
		t.stats.Evicted++
		t.finish(t.tail)
	}
	var f *Flow
	if n := len(t.spare); n > 0 {
		f = t.spare[n-1]
		t.spare = t.spare[:n-1]
	} else {
		f = new(Flow)
	}
	*f = Flow{key: k, first: p.Timestamp, last: p.Timestamp, ipv6: p.IPv6, ifindex: p.Ifindex}
	f.clientIsA = clientIsSource(p) == fromA
	if p.Proto == TCP && p.Flags&FlagSYN == 0 {
		f.midstream = true
	}
	t.flows[k] = f
	t.stats.Flows++
	t.pushHead(f)
	return f
}

// full counts one more flow against the bound on flows and reports whether that
// passes it. With a Shared bound the flow is counted at once, so that tables starting
// flows at the same moment cannot all take the last place.
func (t *Table) full() bool {
	if t.cfg.Shared != nil {
		return t.cfg.Shared.flows.Add(1) > t.cfg.Shared.MaxFlows
	}
	return len(t.flows) >= t.cfg.MaxFlows
}

// clientIsSource guesses, for a packet that starts a flow, whether its sender opened
// the connection: a SYN's sender did, a SYN-ACK's receiver did. Joined midstream,
// the side on the well-known port is taken for the server.
func clientIsSource(p *Packet) bool {
	if p.Proto == TCP && p.Flags&FlagSYN != 0 {
		return p.Flags&FlagACK == 0
	}
	if p.SrcPort < 1024 && p.DstPort >= 1024 {
		return false
	}
	if p.Proto == TCP && p.SrcPort < p.DstPort && p.DstPort >= 32768 && p.SrcPort < 32768 {
		return false
	}
	return true
}

func (t *Table) addTCP(f *Flow, d int, p *Packet) {
	s := &f.dir[d]
	if p.Flags&FlagSYN != 0 {
		// The latest SYN (or SYN-ACK) sets the base while no data has come: a server
		// may answer several SYNs with SYN-ACKs of different sequence numbers, and its
		// data follows the last one.
		if !s.started || (len(s.buf) == 0 && s.npend == 0) {
			s.base = p.Seq + 1
			s.started = true
		}
		if p.Flags&FlagACK == 0 {
			f.clientISN, f.synSeen = p.Seq, true
		}
	}
	if p.Flags&FlagACK != 0 && p.Ack != 0 {
		// An acknowledgment names the other side's next byte: before that side sent
		// data it is its first byte, whatever SYN-ACKs (several, with different
		// sequence numbers, happen) came before.
		if o := &f.dir[1-d]; len(o.buf) == 0 && o.npend == 0 {
			o.base, o.started = p.Ack, true
		}
	}
	if p.Flags&FlagRST != 0 {
		f.rst = true
	}
	if p.Flags&FlagFIN != 0 {
		f.fin[d] = true
	}
	if len(p.Payload) > 0 && !f.decided {
		seq := p.Seq
		if p.Flags&FlagSYN != 0 {
			seq++ // data on a SYN (TCP Fast Open) follows the SYN's own sequence number
		}
		if !s.started {
			s.base = seq
			s.started = true
		}
		if len(p.Payload) < p.PayloadLen {
			t.stats.SnappedPayloads++
			s.gap = true
		}
		off := int(int32(seq - s.base))
		grew, overflow := s.insert(off, p.Payload, t.cfg.PrefixBytes, &t.pool)
		if overflow {
			if s.npend == maxHoles {
				t.stats.OutOfOrderDrops++
			} else {
				s.gap, s.refused = true, true // budget refused: this direction stops growing
			}
		}
		if grew {
			t.decide(f, false)
		}
	}
	if !f.decided && (f.closed() || (!f.more(0) && !f.more(1))) {
		t.decide(f, true)
	}
}

// maxDatagrams is how many datagrams of each direction of a UDP flow are kept: enough
// for a QUIC ClientHello spread over several Initial packets.
const maxDatagrams = 8

func (t *Table) addUDP(f *Flow, d int, p *Packet) {
	s := &f.dir[d]
	s.datagrams++
	if f.decided || s.datagrams > maxDatagrams || len(p.Payload) == 0 || s.full {
		return
	}
	s.started = true
	if len(p.Payload) < p.PayloadLen {
		t.stats.SnappedPayloads++
	}
	// Datagrams are kept back to back, each behind its 2-byte length, so that the
	// classifier sees their boundaries (classify.NextDatagram).
	n := min(len(p.Payload), 0xffff)
	var hdr [2]byte
	hdr[0], hdr[1] = byte(n>>8), byte(n)
	off := len(s.buf)
	if off+2+n > t.cfg.PrefixBytes {
		s.full = true
		return
	}
	if _, overflow := s.insert(off, hdr[:], t.cfg.PrefixBytes, &t.pool); overflow {
		s.gap, s.refused = true, true
		return
	}
	if _, overflow := s.insert(off+2, p.Payload[:n], t.cfg.PrefixBytes, &t.pool); overflow {
		s.buf = s.buf[:off] // drop the orphan length
		s.gap, s.refused = true, true
		return
	}
	t.decide(f, !f.more(0) && !f.more(1))
}

// decide asks the classifier; when a verdict is reached the flow's buffers go back to
// the pool and later packets are only counted.
func (t *Table) decide(f *Flow, final bool) {
	in := classify.Input{
		Proto:      f.key.Proto,
		Client:     f.dir[0].contiguous(),
		Server:     f.dir[1].contiguous(),
		ClientMore: f.more(0),
		ServerMore: f.more(1),
		Midstream:  f.midstream,
		Final:      final,

		RawFingerprints: t.cfg.RawFingerprints,
	}
	_, in.ClientPort, _, in.ServerPort = f.endpoints()
	v, done := t.cls.Classify(&in)
	if !done {
		return
	}
	if v.Reason == classify.ReasonNoPayload && (f.dir[0].refused || f.dir[1].refused) {
		v.Reason = classify.ReasonBufferRefused // there was payload; the budget kept none of it
	}
	f.verdict = v
	f.decided = true
	if !final {
		t.stats.Decided++
	}
	for i := range f.dir {
		t.pool.release(f.dir[i].buf)
		f.dir[i].buf, f.dir[i].pending, f.dir[i].npend = nil, nil, 0
	}
	if t.cfg.OnDecide != nil {
		t.rec = f.record()
		t.cfg.OnDecide(&t.rec)
	}
}

// finish classifies a flow with what it has if needed, hands its record to the sink
// and forgets it.
func (t *Table) finish(f *Flow) {
	if !f.decided {
		t.decide(f, true)
	}
	if f.verdict.Class == classify.ClassUnknown {
		t.stats.UnknownByReason[f.verdict.Reason]++
	}
	if f.verdict.ParseError != "" {
		t.stats.ClassifyByReason[f.verdict.ParseError]++
	}
	t.rec = f.record()
	t.unlink(f)
	delete(t.flows, f.key)
	if t.cfg.Shared != nil {
		t.cfg.Shared.flows.Add(-1)
	}
	t.sink(&t.rec)
	*f = Flow{}
	t.spare = append(t.spare, f)
}

// expire finishes flows idle past their timeout, oldest first.
func (t *Table) expire() {
	for f := t.tail; f != nil && t.timedOut(f, t.now); f = t.tail {
		t.stats.Expired++
		t.finish(f)
	}
}

// timedOut reports whether, at now, f has seen no packet for longer than its
// timeout: the closed timeout once it is closed, the idle timeout otherwise.
func (t *Table) timedOut(f *Flow, now int64) bool {
	if f.last >= now-int64(t.cfg.ClosedTimeout) {
		return false
	}
	return f.closed() || f.last < now-int64(t.cfg.IdleTimeout)
}

func (t *Table) pushHead(f *Flow) {
	f.prev, f.next = nil, t.head
	if t.head != nil {
		t.head.prev = f
	}
	t.head = f
	if t.tail == nil {
		t.tail = f
	}
}

func (t *Table) unlink(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (t *Table) touch(f *Flow) {
	if t.head == f {
		return
	}
	t.unlink(f)
	t.pushHead(f)
}
