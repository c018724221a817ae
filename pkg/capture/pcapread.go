package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"
)

// pcapBlockSize is how much a pcapRecords reads of the file at a time: large reads
// keep system calls off the per-packet path (a 1,500-byte frame costs a syscall in
// every 700 records), and records are parsed where they land.
const pcapBlockSize = 1 << 20

// pcapMaxCapture is the longest record taken whatever the snap length says: tcpdump's
// and Wireshark's own largest snap length, as pcapgo has it. pcapMaxSnap bounds what
// a larger snap length in the header can make the reader allocate for one record: a
// 40-byte file must not get a gigabyte.
const (
	pcapMaxCapture = 262144
	pcapMaxSnap    = 16 << 20
)

// pcapRecords reads the records of a classic pcap file (libpcap format: a 24-byte
// file header, then a 16-byte header before each record) in place: a record's bytes
// are a slice of the block the file was read into, not a copy. A record is valid until
// the next call to next. The blocks are read ahead by a blockReader; close stops it.
type pcapRecords struct {
	src   *blockReader
	block []byte
	// The unread bytes are block[start:end]; base is the stream offset of block[0].
	start, end int
	base       int64
	eof        error // the error that ended reading, returned once the block is drained
	// retire, when set, is given each block that reading has moved past, instead of
	// the pool: records handed out of it stay valid for whoever holds them
	// (ReadFileParallel's workers), who give it back with src.release.
	retire func(old []byte)

	order    binary.ByteOrder
	fracNano int64 // nanoseconds per unit of the timestamp's fraction field
	maxCap   int
	linkType layers.LinkType
}

// Magic numbers of the pcap file header as read little-endian.
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
)

// newPcapRecords reads the file header from r and returns a reader of the records
// after it, which reads r on a goroutine of its own until close.
func newPcapRecords(r io.Reader) (*pcapRecords, error) {
	p := &pcapRecords{src: newBlockReader(r, blocksAhead+2)}
	h, err := p.need(24)
	if err != nil {
		return nil, p.fail(err)
	}
	switch {
	case binary.LittleEndian.Uint32(h) == pcapMagicMicro:
		p.order, p.fracNano = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(h) == pcapMagicMicro:
		p.order, p.fracNano = binary.BigEndian, 1000
	case binary.LittleEndian.Uint32(h) == pcapMagicNano:
		p.order, p.fracNano = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(h) == pcapMagicNano:
		p.order, p.fracNano = binary.BigEndian, 1
	default:
		return nil, p.fail(fmt.Errorf("unknown magic %x", h[:4]))
	}
	if v := p.order.Uint16(h[4:6]); v != 2 {
		return nil, p.fail(fmt.Errorf("unknown major version %d", v))
	}
	if v := p.order.Uint16(h[6:8]); v != 4 {
		return nil, p.fail(fmt.Errorf("unknown minor version %d", v))
	}
	p.maxCap = max(int(min(p.order.Uint32(h[16:20]), pcapMaxSnap)), pcapMaxCapture)
	p.linkType = layers.LinkType(p.order.Uint32(h[20:24]))
	p.start += 24
	return p, nil
}

// offset is the stream offset of the next unread byte.
func (p *pcapRecords) offset() int64 { return p.base + int64(p.start) }

// next returns the next record's bytes, its timestamp (Unix ns) and its length on
// the wire. At the end of the file it returns io.EOF; a record cut short gives
// io.ErrUnexpectedEOF; lengths no writer produces give an error naming them.
func (p *pcapRecords) next() (data []byte, ts int64, wireLen int, err error) {
	h, err := p.need(16)
	if err != nil {
		return nil, 0, 0, err
	}
	caplen, wire := p.order.Uint32(h[8:12]), p.order.Uint32(h[12:16])
	switch {
	case int64(caplen) > int64(p.maxCap):
		return nil, 0, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, p.maxCap)
	case caplen > wire:
		return nil, 0, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, wire)
	}
	rec, err := p.need(16 + int(caplen))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the header was there
		}
		return nil, 0, 0, err
	}
	p.start += 16 + int(caplen)
	ts = int64(p.order.Uint32(rec[0:4]))*1e9 + int64(p.order.Uint32(rec[4:8]))*p.fracNano
	return rec[16:], ts, int(wire), nil
}

// fail closes p and returns err, for an error that ends newPcapRecords.
func (p *pcapRecords) fail(err error) error {
	p.close()
	return err
}

// close stops reading ahead.
func (p *pcapRecords) close() { p.src.close() }

// need returns the next n unread bytes without consuming them, moving on to the next
// block when this one holds fewer. It returns io.EOF when the file ends exactly at
// the unread position and io.ErrUnexpectedEOF when it ends within the n bytes.
func (p *pcapRecords) need(n int) ([]byte, error) {
	if p.end-p.start >= n {
		return p.block[p.start : p.start+n], nil
	}
	for p.end-p.start < n && p.eof == nil {
		p.advance(n)
	}
	if p.end-p.start >= n {
		return p.block[p.start : p.start+n], nil
	}
	if p.eof == io.EOF && p.end > p.start {
		return nil, io.ErrUnexpectedEOF
	}
	return nil, p.eof
}

// advance moves reading to the next block, for n unread bytes wanted: the unread tail
// of this one (the start of a record) goes into the headroom in front of the next
// one's data, or, for a record longer than the headroom, both are gathered in a
// buffer of its own, sized for the n bytes and the last block's rest at once so that
// the blocks after are appended to it rather than copied again with everything
// before them.
func (p *pcapRecords) advance(n int) {
	fb := p.src.next()
	tail := p.block[p.start:p.end]
	data := fb.buf[blockHeadroom : blockHeadroom+fb.n]
	old, dst, start := p.block, fb.buf, blockHeadroom-len(tail)
	switch {
	case len(tail) <= blockHeadroom:
		copy(dst[start:], tail)
	case p.start == 0 && cap(old) != blockHeadroom+pcapBlockSize && cap(old)-p.end >= len(data):
		// Still gathering one record in its own buffer: no record was handed out of
		// it yet, and it has room.
		dst, start, old = append(old[:p.end], data...), 0, nil
		p.src.release(fb.buf)
	default:
		dst = append(make([]byte, 0, max(n+pcapBlockSize, len(tail)+len(data))), tail...)
		dst, start = append(dst, data...), 0
		p.src.release(fb.buf)
	}
	p.base += int64(p.start - start)
	if old != nil {
		if p.retire != nil {
			p.retire(old)
		} else {
			p.src.release(old)
		}
	}
	p.block, p.start, p.end = dst, start, start+len(tail)+len(data)
	if fb.err != nil {
		p.eof = fb.err
	}
}
