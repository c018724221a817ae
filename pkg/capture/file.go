package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// ErrUnknownFormat is returned for a file that is neither pcap nor pcapng.
var ErrUnknownFormat = errors.New("unknown capture format")

// FileError is a failure reading a capture file, with the byte offset where the record
// that failed starts. Packets before it were delivered.
type FileError struct {
	Path   string
	Offset int64
	Err    error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// File reads TCP and UDP packets from a pcap or pcapng file.
type File struct {
	path     string
	f        *os.File
	counter  *countingReader
	br       *bufio.Reader
	pcap     *pcapRecords // classic pcap, read in place
	r        packetReader // pcapng
	ng       *pcapgo.NgReader
	linkType layers.LinkType
	dec      *Decoder
	// recordStart is the offset of the record being read, for error messages.
	recordStart int64
	// gz is true when the file is gzip-compressed; offsets count decompressed bytes.
	gz bool

	// disk counts the bytes read from the file itself (counter counts decompressed
	// bytes of a gzip file).
	disk *countingReader
}

// Pcap and pcapng magic numbers, as the first four bytes of the file read big-endian.
const (
	magicPcapMicro        = 0xa1b2c3d4
	magicPcapMicroSwapped = 0xd4c3b2a1
	magicPcapNano         = 0xa1b23c4d
	magicPcapNanoSwapped  = 0x4d3cb2a1
	magicPcapNG           = 0x0a0d0d0a
)

// OpenFile opens a capture file, telling pcap from pcapng by its magic number.
func OpenFile(path string, dec *Decoder) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	c := &File{path: path, f: f, dec: dec, counter: &countingReader{r: f}}
	c.disk = c.counter
	c.br = bufio.NewReaderSize(c.counter, 1<<16)
	if m, err := c.br.Peek(2); err == nil && m[0] == 0x1f && m[1] == 0x8b {
		// gzip (tcpdump -z, rotated captures): read through it; offsets in errors
		// are then positions in the decompressed stream.
		zr, err := gzip.NewReader(c.br)
		if err != nil {
			f.Close()
			return nil, &FileError{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		c.gz = true
		c.counter = &countingReader{r: zr}
		c.br = bufio.NewReaderSize(c.counter, 1<<16)
	}
	magic, err := c.br.Peek(4)
	if err != nil {
		f.Close()
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: file shorter than a header", ErrUnknownFormat)}
	}
	switch binary.BigEndian.Uint32(magic) {
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		r, err := newPcapRecords(c.br)
		if err != nil {
			f.Close()
			return nil, &FileError{Path: path, Err: fmt.Errorf("pcap header: %w", err)}
		}
		c.pcap, c.linkType = r, r.linkType
	case magicPcapNG:
		r, err := pcapgo.NewNgReader(c.br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			f.Close()
			return nil, &FileError{Path: path, Err: fmt.Errorf("pcapng header: %w", err)}
		}
		c.r, c.ng, c.linkType = r, r, r.LinkType()
	default:
		f.Close()
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w (magic %#08x)", ErrUnknownFormat, binary.BigEndian.Uint32(magic))}
	}
	return c, nil
}

// offset is the file position of the next unread byte.
func (c *File) offset() int64 {
	if c.pcap != nil {
		return c.pcap.offset()
	}
	return c.counter.n.Load() - int64(c.br.Buffered())
}

// Next reads frames until one carries a TCP or UDP packet, and decodes it into p.
// p.Payload is borrowed until the next call. It returns io.EOF at the end of the file
// and a *FileError when the file is damaged.
func (c *File) Next(p *flow.Packet) error {
	for {
		data, ts, wireLen, lt, err := c.nextRecord()
		if err != nil {
			return err
		}
		if c.dec.Decode(lt, data, ts, wireLen, p) {
			return nil
		}
	}
}

// nextRecord returns the next record's bytes (valid until the next call), its
// timestamp (Unix ns), its length on the wire and its link type; io.EOF at the end of
// the file and a *FileError when the file is damaged.
func (c *File) nextRecord() (data []byte, ts int64, wireLen int, lt layers.LinkType, err error) {
	c.recordStart = c.offset()
	if c.pcap != nil {
		data, ts, wireLen, err = c.pcap.next()
		if err != nil {
			return nil, 0, 0, 0, c.fail(err)
		}
		return data, ts, wireLen, c.linkType, nil
	}
	data, ci, err := c.r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, 0, 0, 0, c.fail(err)
	}
	lt = c.linkType
	if len(ci.AncillaryData) > 0 {
		if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			lt = l
		}
	}
	return data, ci.Timestamp.UnixNano(), ci.Length, lt, nil
}

// fail turns an error reading the record at c.recordStart into Next's: io.EOF as it
// is, anything else a *FileError naming the file and the record's offset.
func (c *File) fail(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated record: %w", err)
	}
	if c.gz {
		err = fmt.Errorf("%w (offset in the decompressed stream)", err)
	}
	return &FileError{Path: c.path, Offset: c.recordStart, Err: err}
}

// Path returns the file's path.
func (c *File) Path() string { return c.path }

// Close closes the file and stops reading ahead.
func (c *File) Close() error {
	err := c.f.Close() // first: a read ahead blocked on a pipe returns
	if c.pcap != nil {
		c.pcap.close()
	}
	return err
}

// countingReader counts the bytes read through it. The count may be read while
// another goroutine reads (a pcap file is read ahead).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ReadFile opens a capture file and hands each packet to add, reusing pkt. On damage
// it returns the error (file and offset) after add has seen every packet read before.
func ReadFile(path string, dec *Decoder, pkt *flow.Packet, add func(*flow.Packet)) error {
	return ReadFileProgress(path, dec, pkt, add, nil)
}

// progressEvery is how many packets pass between two progress calls.
const progressEvery = 4096

// ReadFileProgress is ReadFile that also tells progress, when not nil, how many bytes
// of the file (as stored: compressed bytes of a gzip file) and how many packets it has
// read, every few thousand packets and once at the end.
func ReadFileProgress(path string, dec *Decoder, pkt *flow.Packet, add func(*flow.Packet), progress func(fileBytes int64, packets uint64)) error {
	f, err := OpenFile(path, dec)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.each(func(data []byte, ts int64, wireLen int, lt layers.LinkType) bool {
		if !dec.Decode(lt, data, ts, wireLen, pkt) {
			return false
		}
		add(pkt)
		return true
	}, progress)
}

// each hands every record to take, which reports whether it made a packet of it,
// and tells progress (when not nil) the bytes and packets read so far every few
// thousand packets and once at the end. It returns nil at the end of the file.
func (c *File) each(take func(data []byte, ts int64, wireLen int, lt layers.LinkType) bool, progress func(fileBytes int64, packets uint64)) error {
	var n uint64
	for {
		data, ts, wireLen, lt, err := c.nextRecord()
		if err != nil {
			if progress != nil {
				progress(c.disk.n.Load(), n)
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		if !take(data, ts, wireLen, lt) {
			continue
		}
		if n++; progress != nil && n%progressEvery == 0 {
			progress(c.disk.n.Load(), n)
		}
	}
}
