package capture

import (
	"encoding/binary"
	"io"
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

// Sizes of ReadFileParallel's hand-off: records per batch, batches queued per worker,
// and the blocks of file data in flight (each pcapBlockSize).
const (
	batchRecords   = 1024
	batchesQueued  = 8
	blocksInFlight = 8
)

// record is one frame of the file as the reader found it: its bytes in a block, its
// timestamp, length on the wire and link type.
type record struct {
	data    []byte
	ts      int64
	wireLen int
	lt      layers.LinkType
}

// batch is a run of records in file order, sent to every worker. The last batch over
// a block before the block is reused carries it in done; whichever worker handles the
// batch last gives the batch, and the block, back.
type batch struct {
	recs []record
	done []byte
	refs atomic.Int32 // workers that have not yet handled the batch
}

// ReadFileParallel reads a capture file once and hands every packet to add[i] of the
// worker i its flow belongs to (Shard). The calling goroutine only reads: it finds
// the records and sends each run of them to every worker; each worker decodes every
// record (decoding costs tens of nanoseconds, less than handing a decoded packet
// over would) and keeps the packets of its own flows. So each add[i] runs on a
// goroutine of its own and gets the packets of its flows in file order: per flow,
// what one reader would have shown it. The *Packet and its payload are valid during
// the call; payloads are not copied, they stay in the blocks the file was read into
// until every worker is past them. Worker 0 decodes with dec, whose counters are the
// file's; the others' decoders count the same frames and are dropped. It returns
// after every worker has handled every packet, with ReadFile's errors; progress is
// called as by ReadFileProgress.
func ReadFileParallel(path string, dec *Decoder, add []func(*flow.Packet), progress func(fileBytes int64, packets uint64)) error {
	f, err := OpenFile(path, dec)
	if err != nil {
		return err
	}
	defer f.Close()
	r := newParallelReader(len(add), f.pcap)
	var wg sync.WaitGroup
	for i := range add {
		d := dec
		if i > 0 {
			d = NewDecoder()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(i, d, add[i])
		}()
	}
	if f.pcap != nil {
		// Records are read in place: moving to a new block seals the old one.
		f.pcap.retire = r.send
	}
	err = r.read(f, progress)
	r.finish()
	wg.Wait()
	if progress != nil {
		progress(f.disk.n.Load(), r.decoded.Load())
	}
	return err
}

// parallelReader is ReadFileParallel's state: the batch being filled, the queues to
// the workers and the free blocks and batches.
type parallelReader struct {
	n       int
	current *batch
	queues  []chan *batch
	free    chan *batch
	// release gives a block back once every worker is past it: to the pcap
	// reader's pool, or to blocks.
	release func([]byte)
	// arena holds copies of records whose bytes the file reader reuses (pcapng),
	// so that they live as long as read-in-place records do; its blocks come from
	// blocks.
	arena  []byte
	blocks chan []byte
	// decoded counts worker 0's packets, for progress.
	decoded atomic.Uint64
}

// newParallelReader makes the hand-off for n workers; pcap is the file's in-place
// reader, nil for pcapng (whose records are copied into blocks of the arena).
func newParallelReader(n int, pcap *pcapRecords) *parallelReader {
	r := &parallelReader{
		n:      n,
		queues: make([]chan *batch, n),
		free:   make(chan *batch, batchesQueued+2),
	}
	for i := range r.queues {
		r.queues[i] = make(chan *batch, batchesQueued)
	}
	r.current = r.newBatch()
	if pcap != nil {
		// Blocks now wait for the slowest worker before going back to the pool.
		pcap.src.grow(blocksInFlight)
		r.release = pcap.src.release
		return r
	}
	r.blocks = make(chan []byte, blocksInFlight)
	for range blocksInFlight {
		r.blocks <- make([]byte, pcapBlockSize)
	}
	r.release = func(b []byte) {
		select {
		case r.blocks <- b[:cap(b)]:
		default: // a block grown for a long record is not kept
		}
	}
	return r
}

func (r *parallelReader) newBatch() *batch {
	select {
	case b := <-r.free:
		return b
	default:
		return &batch{recs: make([]record, 0, batchRecords)}
	}
}

// read queues every record of the file to the workers. It tells progress the bytes
// read and the packets worker 0 has decoded so far.
func (r *parallelReader) read(f *File, progress func(int64, uint64)) error {
	var n uint64
	for {
		data, ts, wireLen, lt, err := f.nextRecord()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if f.pcap == nil {
			data = r.keep(data)
		}
		b := r.current
		b.recs = append(b.recs, record{data: data, ts: ts, wireLen: wireLen, lt: lt})
		if len(b.recs) == cap(b.recs) {
			r.send(nil)
		}
		if n++; progress != nil && n%progressEvery == 0 {
			progress(f.disk.n.Load(), r.decoded.Load())
		}
	}
}

// send queues the current batch to every worker, with done when it is the last over
// that block.
func (r *parallelReader) send(done []byte) {
	b := r.current
	b.done = done
	b.refs.Store(int32(r.n))
	for _, q := range r.queues {
		q <- b
	}
	r.current = r.newBatch()
}

// keep copies a record the file reader will overwrite into the arena.
func (r *parallelReader) keep(data []byte) []byte {
	if len(r.arena)+len(data) > cap(r.arena) {
		if r.arena != nil {
			r.send(r.arena[:cap(r.arena)])
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

// finish sends the last batch and ends the queues.
func (r *parallelReader) finish() {
	if len(r.current.recs) > 0 {
		r.send(nil)
	}
	for _, q := range r.queues {
		close(q)
	}
}

// work is worker i's loop: it decodes every record of every batch and hands the
// packets of its own flows to add; the last worker done with a batch gives it back,
// with its block.
func (r *parallelReader) work(i int, dec *Decoder, add func(*flow.Packet)) {
	var pkt flow.Packet
	for b := range r.queues[i] {
		decoded := 0
		for j := range b.recs {
			rec := &b.recs[j]
			if !dec.Decode(rec.lt, rec.data, rec.ts, rec.wireLen, &pkt) {
				continue
			}
			decoded++
			if Shard(&pkt, r.n) == i {
				add(&pkt)
			}
		}
		if i == 0 {
			r.decoded.Add(uint64(decoded))
		}
		if b.refs.Add(-1) != 0 {
			continue
		}
		if b.done != nil {
			r.release(b.done)
		}
		clear(b.recs) // no slice into a block outlives it
		b.recs, b.done = b.recs[:0], nil
		select {
		case r.free <- b:
		default:
		}
	}
}
