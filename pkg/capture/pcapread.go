package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"
)

// pcapBlockSize is how much a pcapRecords asks the file for at a time: large reads
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
// the next call to next.
type pcapRecords struct {
	r     io.Reader
	block []byte
	// The unread bytes are block[start:end]; base is the stream offset of block[0].
	start, end int
	base       int64
	eof        error // the error that ended reading, returned once the block is drained
	// swap, when set, is called with the block when reading moves on to another one
	// and returns that other one: records handed out of the old block stay valid for
	// whoever holds them (ReadFileParallel's workers). Unset, the block is reused.
	swap func(old []byte) []byte

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
// after it.
func newPcapRecords(r io.Reader) (*pcapRecords, error) {
	p := &pcapRecords{r: r, block: make([]byte, pcapBlockSize)}
	h, err := p.need(24)
	if err != nil {
		return nil, err
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
		return nil, fmt.Errorf("unknown magic %x", h[:4])
	}
	if v := p.order.Uint16(h[4:6]); v != 2 {
		return nil, fmt.Errorf("unknown major version %d", v)
	}
	if v := p.order.Uint16(h[6:8]); v != 4 {
		return nil, fmt.Errorf("unknown minor version %d", v)
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

// need returns the next n unread bytes without consuming them, reading more of the
// file when the block holds fewer. It returns io.EOF when the file ends exactly at
// the unread position and io.ErrUnexpectedEOF when it ends within the n bytes.
func (p *pcapRecords) need(n int) ([]byte, error) {
	if p.end-p.start >= n {
		return p.block[p.start : p.start+n], nil
	}
	if p.start+n > len(p.block) {
		// Move the unread tail to the front (a record's start), growing the block
		// for a record longer than it.
		dst := p.block
		if p.swap != nil {
			dst = p.swap(p.block)
		}
		if n > len(dst) {
			dst = make([]byte, n)
		}
		copy(dst, p.block[p.start:p.end])
		p.base += int64(p.start)
		p.block, p.end, p.start = dst, p.end-p.start, 0
	}
	for p.end-p.start < n && p.eof == nil {
		m, err := p.r.Read(p.block[p.end:])
		p.end += m
		if err != nil {
			p.eof = err
		}
	}
	if p.end-p.start >= n {
		return p.block[p.start : p.start+n], nil
	}
	if p.eof == io.EOF && p.end > p.start {
		return nil, io.ErrUnexpectedEOF
	}
	return nil, p.eof
}
