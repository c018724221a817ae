package flow

// minBuf is the smallest stream buffer; most first flights fit in it.
const minBuf = 1024

// maxFreePerClass bounds how many released buffers of one size are kept for reuse.
const maxFreePerClass = 1024

// bufPool hands out stream buffers in power-of-two sizes under a byte budget shared by
// every flow of a table, and keeps released buffers for reuse so that steady-state
// reassembly allocates nothing. Not safe for concurrent use.
type bufPool struct {
	budget int // most bytes that buffers in use may hold together
	inUse  int
	shared *Shared      // when set, the budget that counts, kept with other tables
	free   [16][][]byte // by size class: minBuf << class
	// refused counts requests the budget turned down.
	refused uint64
}

func classOf(n int) int {
	c := 0
	for size := minBuf; size < n; size <<= 1 {
		c++
	}
	return c
}

// grow returns a buffer with capacity of at least need holding all of old[:cap(old)]
// (bytes kept out of order live past len(old)) and len(old), releasing old; or nil
// when the budget would be exceeded, leaving old untouched.
func (p *bufPool) grow(old []byte, need int) []byte {
	c := classOf(need)
	if c >= len(p.free) {
		p.refused++
		return nil
	}
	size := minBuf << c
	if p.shared != nil {
		if !p.shared.reserveBytes(int64(size - cap(old))) {
			p.refused++
			return nil
		}
	} else if p.inUse-cap(old)+size > p.budget {
		p.refused++
		return nil
	}
	var nb []byte
	if n := len(p.free[c]); n > 0 {
		nb = p.free[c][n-1]
		p.free[c] = p.free[c][:n-1]
	} else {
		nb = make([]byte, size)
	}
	nb = nb[:cap(nb)]
	copy(nb, old[:cap(old)])
	p.inUse += size
	p.put(old)
	return nb[:len(old)]
}

// release returns b to the pool, wiped: payload bytes outlive their flow nowhere.
func (p *bufPool) release(b []byte) {
	if p.shared != nil && cap(b) > 0 {
		p.shared.reserveBytes(-int64(cap(b)))
	}
	p.put(b)
}

// put is release for a buffer whose budget grow has already moved to its successor.
func (p *bufPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	clear(b[:cap(b)])
	p.inUse -= cap(b)
	c := classOf(cap(b))
	if c < len(p.free) && len(p.free[c]) < maxFreePerClass {
		p.free[c] = append(p.free[c], b[:0])
	}
}
