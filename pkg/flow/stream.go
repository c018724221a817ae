package flow

// maxHoles bounds the out-of-order segments one direction remembers above its contiguous
// prefix. Handshakes rarely need more than a couple; a flood of scattered segments only
// costs this fixed array.
const maxHoles = 8

// span is a half-open byte range [start, end) relative to the stream's first byte.
type span struct{ start, end int }

// stream holds the first bytes of one direction of a TCP connection (or the first
// datagrams of a UDP flow) in order, up to a limit. Bytes beyond the contiguous prefix
// are kept in place in buf and their ranges in pending, so a reordered segment fills
// its gap when it arrives. The first copy of a byte wins: a retransmission or an
// overlapping segment never rewrites what was already accepted.
type stream struct {
	buf []byte // len = contiguous prefix; cap reserved from the table's budget
	// pending is allocated with the first out-of-order segment, which most
	// connections never send: inline, the spans were a third of every flow's memory.
	pending *[maxHoles]span
	npend   int
	base    uint32 // sequence number of byte 0
	started bool   // base is set
	full    bool   // the prefix reached the limit: nothing more is kept
	gap     bool   // a byte below the limit is known to be missing for good (snapped capture)
	refused bool   // the table's buffer budget turned bytes of this direction away
	// datagrams counts UDP payloads kept in buf.
	datagrams int
}

// contiguous returns the in-order prefix.
func (s *stream) contiguous() []byte { return s.buf }

// reset forgets everything, keeping nothing of the buffer.
func (s *stream) reset() { *s = stream{} }

// insert places data at offset off of the stream and reports whether the contiguous
// prefix grew. limit is the most bytes the stream may hold; buffers come from pool, and
// overflow reports that the pool's budget refused more.
func (s *stream) insert(off int, data []byte, limit int, pool *bufPool) (grew bool, overflow bool) {
	if off < 0 {
		// Starts before byte 0 (a retransmission of something older): keep the tail.
		if -off >= len(data) {
			return false, false
		}
		data = data[-off:]
		off = 0
	}
	if off >= limit || len(data) == 0 {
		if off >= limit {
			s.full = true
		}
		return false, false
	}
	end := off + len(data)
	if end > limit {
		end = limit
		data = data[:end-off]
	}
	cur := len(s.buf)
	if end <= cur {
		return false, false // entirely old data
	}
	if off < cur {
		data = data[cur-off:]
		off = cur
	}
	if end > cap(s.buf) {
		nb := pool.grow(s.buf, end)
		if nb == nil {
			return false, true
		}
		s.buf = nb
	}
	// Write the bytes that no pending segment holds yet (the first copy wins), then
	// either extend the prefix or remember the span. Writing beyond len(buf) stays
	// inside cap, which grow guaranteed.
	whole := s.buf[:cap(s.buf)]
	for i := off; i < end; {
		if j, ok := s.coveredAt(i); ok {
			i = j
			continue
		}
		next := end
		for k := 0; k < s.npend; k++ {
			if p := s.pending[k]; p.start > i && p.start < next {
				next = p.start
			}
		}
		copy(whole[i:next], data[i-off:next-off])
		i = next
	}
	if off == cur {
		s.buf = s.buf[:end]
		s.absorbPending()
		if len(s.buf) >= limit {
			s.full = true
		}
		return true, false
	}
	return false, !s.addPending(span{off, end})
}

// coveredAt reports whether byte i is in a pending span, and where that span ends.
func (s *stream) coveredAt(i int) (int, bool) {
	for k := 0; k < s.npend; k++ {
		if p := s.pending[k]; i >= p.start && i < p.end {
			return p.end, true
		}
	}
	return 0, false
}

// addPending records a span, merging it with overlapping or touching ones. It reports
// false when there was no room: the bytes stay written but the span is forgotten, so a
// retransmission must bring them again.
func (s *stream) addPending(n span) bool {
	for k := 0; k < s.npend; {
		p := s.pending[k]
		if p.end < n.start || n.end < p.start {
			k++
			continue
		}
		n.start, n.end = min(n.start, p.start), max(n.end, p.end)
		s.npend--
		s.pending[k] = s.pending[s.npend]
	}
	if s.npend == maxHoles {
		return false
	}
	if s.pending == nil {
		s.pending = new([maxHoles]span)
	}
	s.pending[s.npend] = n
	s.npend++
	return true
}

// absorbPending extends the contiguous prefix over pending spans that now touch it.
func (s *stream) absorbPending() {
	for moved := true; moved; {
		moved = false
		for k := 0; k < s.npend; k++ {
			p := s.pending[k]
			if p.start <= len(s.buf) {
				if p.end > len(s.buf) {
					s.buf = s.buf[:p.end]
				}
				s.npend--
				s.pending[k] = s.pending[s.npend]
				moved = true
				break
			}
		}
	}
}
