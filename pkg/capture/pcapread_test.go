package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// comparePcapReaders reads data with pcapRecords and with pcapgo's reader and fails
// when they disagree: on the header, on any record (bytes, timestamp, wire length),
// or on where reading stops with an error. The reader under test may be handed its
// input in small pieces (chunked), as a pipe or a gzip stream does.
func comparePcapReaders(t *testing.T, data []byte, chunked bool) (records int) {
	t.Helper()
	var in io.Reader = bytes.NewReader(data)
	if chunked {
		in = iotest.HalfReader(in)
	}
	got, errGot := newPcapRecords(in)
	want, errWant := pcapgo.NewReader(bytes.NewReader(data))
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("header: error %v, pcapgo's %v", errGot, errWant)
	}
	if errGot != nil {
		return 0
	}
	defer got.close()
	if got.linkType != want.LinkType() {
		t.Fatalf("link type %v, pcapgo's %v", got.linkType, want.LinkType())
	}
	for {
		at := got.offset()
		rec, ts, wire, err := got.next()
		wrec, ci, werr := want.ReadPacketData()
		if err != nil && err != io.EOF && werr == io.EOF && int(at)+16 == len(data) {
			// A file that ends right after a record header: pcapgo's io.ReadFull of
			// the data reads nothing and passes its io.EOF on, as if the file had
			// ended cleanly; the header promised bytes, so this is a damaged file.
			return records
		}
		if (err == nil) != (werr == nil) || errors.Is(err, io.EOF) != errors.Is(werr, io.EOF) {
			t.Fatalf("record %d: error %v, pcapgo's %v", records, err, werr)
		}
		if err != nil {
			return records
		}
		// pcapgo multiplies a microsecond fraction in 32 bits, so its timestamp
		// wraps for fractions past 4,294,967 µs, which no writer produces: those
		// timestamps are not compared.
		wrapped := got.fracNano == 1000 && got.order.Uint32(data[at+4:]) > 4294967
		if !bytes.Equal(rec, wrec) || wire != ci.Length || (ts != ci.Timestamp.UnixNano() && !wrapped) {
			t.Fatalf("record %d: %d bytes ts %d wire %d, pcapgo's %d bytes ts %d wire %d",
				records, len(rec), ts, wire, len(wrec), ci.Timestamp.UnixNano(), ci.Length)
		}
		records++
	}
}

func generatedPcap(t testing.TB, flows int) []byte {
	tmpl, err := pcapgen.Templates()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := pcapgen.Write(&buf, tmpl, pcapgen.Options{Flows: flows, DataSegments: 3, Concurrent: 4}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPcapRecordsMatchPcapgo: a capture larger than one block, read whole or in
// small pieces, and cut at every length across its first records, reads record for
// record as pcapgo reads it.
func TestPcapRecordsMatchPcapgo(t *testing.T) {
	data := generatedPcap(t, 400)
	if len(data) < 2*pcapBlockSize {
		t.Fatalf("capture of %d bytes does not span two blocks", len(data))
	}
	if n := comparePcapReaders(t, data, false); n < 1000 {
		t.Fatalf("read %d records", n)
	}
	comparePcapReaders(t, data, true)
	for cut := 0; cut < 600; cut++ {
		comparePcapReaders(t, data[:cut], cut%2 == 0)
	}
}

// TestPcapRecordLongerThanBlock: a record longer than the read block (a jumbo frame
// of an offloaded capture can be 64 KiB; the format allows 256 KiB) grows the block.
func TestPcapRecordLongerThanBlock(t *testing.T) {
	var b bytes.Buffer
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0}
	b.Write(hdr)
	for _, n := range []int{100, pcapMaxCapture, 60} {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		b.Write(rec)
		b.Write(bytes.Repeat([]byte{byte(n)}, n))
	}
	data := append(bytes.Repeat(b.Bytes()[24:], pcapBlockSize/pcapMaxCapture+2), []byte{}...)
	data = append(append([]byte{}, hdr...), data...)
	if n := comparePcapReaders(t, data, false); n != 3*(pcapBlockSize/pcapMaxCapture+2) {
		t.Fatalf("read %d records", n)
	}
}

// TestPcapRecordLongerThanHeadroom: with a snap length past the 256 KiB writers use
// (up to pcapMaxSnap is accepted), a record cut by a block boundary no longer fits
// the headroom in front of the next block and is joined in a buffer of its own, over
// several blocks when it is longer than one; the records after it read as written.
func TestPcapRecordLongerThanHeadroom(t *testing.T) {
	var b bytes.Buffer
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}) // snap length 16 MiB
	sizes := []int{100, 900_000, blockHeadroom + 1, 60, 2*pcapBlockSize + 12345, 7, pcapMaxSnap, 1}
	for i, n := range sizes {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], uint32(i))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		b.Write(rec)
		body := make([]byte, n)
		for j := range body {
			body[j] = byte(i*31 + j*7)
		}
		b.Write(body)
	}
	data := b.Bytes()
	for _, chunked := range []bool{false, true} {
		var in io.Reader = bytes.NewReader(data)
		if chunked {
			in = iotest.HalfReader(in)
		}
		r, err := newPcapRecords(in)
		if err != nil {
			t.Fatal(err)
		}
		off := int64(24)
		for i, n := range sizes {
			if r.offset() != off {
				t.Fatalf("record %d at offset %d, want %d", i, r.offset(), off)
			}
			rec, ts, wire, err := r.next()
			if err != nil {
				t.Fatalf("record %d (%d bytes): %v", i, n, err)
			}
			if want := data[off+16 : off+16+int64(n)]; !bytes.Equal(rec, want) || wire != n || ts != int64(i)*1e9 {
				t.Fatalf("record %d: %d bytes wire %d ts %d, want %d bytes", i, len(rec), wire, ts, n)
			}
			off += 16 + int64(n)
		}
		if _, _, _, err := r.next(); err != io.EOF {
			t.Fatalf("after the last record: %v, want io.EOF", err)
		}
		r.close()
	}
}

// TestPcapLongRecordGatheredOnce: a record of the largest snap length accepted
// (16 MiB, sixteen blocks) is gathered in one buffer sized for it, not copied again
// with everything before it at every block: reading it allocates about its own size.
func TestPcapLongRecordGatheredOnce(t *testing.T) {
	var b bytes.Buffer
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0})
	for _, n := range []int{pcapMaxSnap, 60} {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		b.Write(rec)
		b.Write(bytes.Repeat([]byte{0xab}, n))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := newPcapRecords(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for _, n := range []int{pcapMaxSnap, 60} {
		if rec, _, _, err := r.next(); err != nil || len(rec) != n {
			t.Fatalf("record of %d bytes: %d bytes, %v", n, len(rec), err)
		}
	}
	runtime.ReadMemStats(&after)
	// The record once, its last block's worth of slack, and the pool's three blocks.
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(pcapMaxSnap+5*(blockHeadroom+pcapBlockSize)); got > limit {
		t.Errorf("reading a %d MiB record allocated %d MiB, more than %d MiB", pcapMaxSnap>>20, got>>20, limit>>20)
	}

	// Workers holding blocks: the gathered record's buffer goes to them like a block.
	path := filepath.Join(t.TempDir(), "long.pcap")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	count := func(*flow.Packet) { seen.Add(1) }
	err = ReadFileParallel(path, NewDecoder(), []func(*flow.Packet){count, count}, func(_ int64, n uint64) {})
	if err != nil || seen.Load() != 0 { // the records are not frames: nothing decodes
		t.Errorf("two workers over the file: %v, %d packets", err, seen.Load())
	}
}

func FuzzPcapRecords(f *testing.F) {
	f.Add(generatedPcap(f, 1)[:1500])
	f.Add([]byte{0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		comparePcapReaders(t, data, len(data)%2 == 1)
	})
}
