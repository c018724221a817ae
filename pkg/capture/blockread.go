package capture

import (
	"errors"
	"io"
)

// blockHeadroom is the room kept in front of each block's data for the unread tail of
// the block before it: a record cut by a block boundary is made whole there, in
// place, as long as it is no longer than the longest record a writer produces.
const blockHeadroom = pcapMaxCapture + 16

// blockReader reads a stream ahead, in blocks, on a goroutine of its own, so that the
// kernel's copy of the file (or gzip's decompression) runs on another core while the
// caller parses the block before: on a file in the page cache that copy is about as
// much work as everything else done per packet. Each block is a buffer of the pool,
// its data at buf[blockHeadroom:blockHeadroom+n]; the caller gives buffers back with
// release once nothing points into them.
type blockReader struct {
	full chan filledBlock
	free chan []byte
	stop chan struct{}
	done chan struct{} // closed when the goroutine has returned
}

// filledBlock is one block of the stream: n bytes after the headroom, and the error
// that ended the stream there (io.EOF at its end), if it did.
type filledBlock struct {
	buf []byte
	n   int
	err error
}

// blocksAhead is how many blocks a blockReader reads before the caller asks for them;
// with the one being parsed and the one being read that makes its pool.
const blocksAhead = 1

func newBlockReader(r io.Reader, buffers int) *blockReader {
	b := &blockReader{
		full: make(chan filledBlock, blocksAhead),
		free: make(chan []byte, buffers+blocksInFlight),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	b.grow(buffers)
	go b.run(r)
	return b
}

// grow adds n buffers to the pool (up to what it can hold): blocks that wait for
// several workers stay out of it longer. A buffer is allocated when it is first
// filled (nil in the pool until then), so a small file takes one.
func (b *blockReader) grow(n int) {
	for range n {
		select {
		case b.free <- nil:
		default:
			return
		}
	}
}

func (b *blockReader) run(r io.Reader) {
	defer close(b.done)
	for {
		var buf []byte
		select {
		case buf = <-b.free:
		case <-b.stop:
			return
		}
		if buf == nil {
			buf = make([]byte, blockHeadroom+pcapBlockSize)
		}
		n, err := io.ReadFull(r, buf[blockHeadroom:])
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF // a short last block; a record it cuts short is the parser's to find
		}
		select {
		case b.full <- filledBlock{buf: buf, n: n, err: err}:
		case <-b.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// next returns the next block of the stream, waiting for it to be read.
func (b *blockReader) next() filledBlock { return <-b.full }

// release gives a buffer back to the pool. Buffers not from the pool are dropped.
func (b *blockReader) release(buf []byte) {
	if cap(buf) != blockHeadroom+pcapBlockSize {
		return
	}
	select {
	case b.free <- buf[:cap(buf)]:
	default:
	}
}

// close stops the goroutine and waits for it: no read is in flight after close. It
// may be called more than once.
func (b *blockReader) close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
}
