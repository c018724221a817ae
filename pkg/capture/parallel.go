package capture

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// Shard returns which of n workers the flow of p belongs to: the same for both
// directions of a connection, from a hash of its addresses, ports and protocol.
func Shard(p *flow.Packet, n int) int {
	// XOR is symmetric in the two ends; the multiplication spreads the bits.
	x := binary.LittleEndian.Uint64(p.Src[:8]) ^ binary.LittleEndian.Uint64(p.Src[8:]) ^
		binary.LittleEndian.Uint64(p.Dst[:8]) ^ binary.LittleEndian.Uint64(p.Dst[8:]) ^
		uint64(p.SrcPort^p.DstPort)<<32 ^ uint64(p.Proto)
	x *= 0x9e3779b97f4a7c15
	return int((x >> 32) * uint64(n) >> 32)
}

// Sizes of ReadFileParallel's hand-off: packets per batch, batches queued per worker,
// and the blocks of file data in flight (each pcapBlockSize).
const (
	batchPackets   = 512
	batchesQueued  = 8
	blocksInFlight = 8
)

// batch is a run of one worker's packets, in file order. Their payloads point into
// blocks of file data; the last batch a worker gets before a block is reused carries
// it in done, and the worker gives it back once the batch is handled.
type batch struct {
	pkts []flow.Packet
	done *block
}

// block is a buffer of file data shared by the batches of every worker.
type block struct {
	buf  []byte
	refs atomic.Int32 // workers that have not yet handled their last batch over it
}

// ReadFileParallel reads a capture file once, decodes it on the calling goroutine,
// and hands every packet to add[i] of the worker i its flow belongs to (Shard). Each
// add[i] runs on a goroutine of its own and gets the packets of its flows in file
// order, so that per flow it sees what one reader would have shown it; the *Packet
// and its payload are valid during the call. Payloads are not copied: they stay in
// the blocks the file was read into until every worker is past them. It returns
// after every worker has handled every packet, with ReadFile's errors; progress is
// called as by ReadFileProgress.
func ReadFileParallel(path string, dec *Decoder, add []func(*flow.Packet), progress func(fileBytes int64, packets uint64)) error {
	f, err := OpenFile(path, dec)
	if err != nil {
		return err
	}
	defer f.Close()
	r := newParallelReader(len(add))
	var wg sync.WaitGroup
	for i := range add {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(i, add[i])
		}()
	}
	if f.pcap != nil {
		// Records are read in place: moving to a new block seals the old one.
		f.pcap.swap = r.swap
	}
	err = r.read(f, progress)
	r.finish()
	wg.Wait()
	return err
}

// parallelReader is ReadFileParallel's state: the batches being filled, the queues to
// the workers and the free blocks and batches.
type parallelReader struct {
	n       int
	current []*batch
	queues  []chan *batch
	free    chan *batch
	blocks  chan []byte
	// arena holds copies of records whose bytes the file reader reuses (pcapng),
	// so that they live as long as read-in-place records do.
	arena []byte
}

func newParallelReader(n int) *parallelReader {
	r := &parallelReader{
		n:       n,
		current: make([]*batch, n),
		queues:  make([]chan *batch, n),
		free:    make(chan *batch, n*(batchesQueued+2)),
		blocks:  make(chan []byte, blocksInFlight),
	}
	for i := range r.queues {
		r.queues[i] = make(chan *batch, batchesQueued)
		r.current[i] = r.newBatch()
	}
	for range blocksInFlight - 1 { // the file reader holds one
		r.blocks <- make([]byte, pcapBlockSize)
	}
	return r
}

func (r *parallelReader) newBatch() *batch {
	select {
	case b := <-r.free:
		return b
	default:
		return &batch{pkts: make([]flow.Packet, 0, batchPackets)}
	}
}

// read decodes every record and queues its packet to its worker.
func (r *parallelReader) read(f *File, progress func(int64, uint64)) error {
	var pkt flow.Packet
	return f.each(func(data []byte, ts int64, wireLen int, lt layers.LinkType) bool {
		if f.pcap == nil {
			data = r.keep(data)
		}
		if !f.dec.Decode(lt, data, ts, wireLen, &pkt) {
			return false
		}
		r.append(Shard(&pkt, r.n), &pkt)
		return true
	}, progress)
}

// append queues a copy of p to worker i.
func (r *parallelReader) append(i int, p *flow.Packet) {
	b := r.current[i]
	b.pkts = append(b.pkts, *p)
	if len(b.pkts) == cap(b.pkts) {
		r.send(i, nil)
	}
}

// send queues worker i's batch, with done when it is that worker's last over a block.
func (r *parallelReader) send(i int, done *block) {
	b := r.current[i]
	b.done = done
	r.queues[i] <- b
	r.current[i] = r.newBatch()
}

// seal ends the life of buf for the reader: every worker is sent its batch so far,
// and the last worker to handle its batch gives buf back.
func (r *parallelReader) seal(buf []byte) {
	blk := &block{buf: buf}
	blk.refs.Store(int32(r.n))
	for i := range r.n {
		r.send(i, blk)
	}
}

// swap is the pcap reader's hook: the old block is sealed, a free one returned.
func (r *parallelReader) swap(old []byte) []byte {
	r.seal(old)
	return <-r.blocks
}

// keep copies a record the file reader will overwrite into the arena.
func (r *parallelReader) keep(data []byte) []byte {
	if len(r.arena)+len(data) > cap(r.arena) {
		if r.arena != nil {
			r.seal(r.arena[:cap(r.arena)])
		}
		r.arena = <-r.blocks
		if len(data) > len(r.arena) {
			r.arena = make([]byte, len(data))
		}
		r.arena = r.arena[:0]
	}
	r.arena = append(r.arena, data...)
	return r.arena[len(r.arena)-len(data):]
}

// finish sends every worker its last batch and ends its queue.
func (r *parallelReader) finish() {
	for i := range r.n {
		r.send(i, nil)
		close(r.queues[i])
	}
}

// work is worker i's loop: every packet of every batch to add, then the batch and
// any block it was the last over go back.
func (r *parallelReader) work(i int, add func(*flow.Packet)) {
	for b := range r.queues[i] {
		for j := range b.pkts {
			add(&b.pkts[j])
		}
		if blk := b.done; blk != nil && blk.refs.Add(-1) == 0 {
			select {
			case r.blocks <- blk.buf[:cap(blk.buf)]:
			default: // a block grown for a long record is not kept
			}
		}
		b.pkts, b.done = b.pkts[:0], nil
		select {
		case r.free <- b:
		default:
		}
	}
}
