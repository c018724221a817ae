package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// smallCapture returns a generated pcap and its packet count.
func smallCapture(t *testing.T) ([]byte, int) {
	t.Helper()
	tmpl, err := pcapgen.Templates()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := pcapgen.Write(&buf, tmpl, pcapgen.Options{Flows: 8, DataSegments: 2, Concurrent: 3})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), n
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads every packet and returns how many, and the error that ended it.
func readAll(t *testing.T, path string) (int, error) {
	t.Helper()
	f, err := OpenFile(path, NewDecoder())
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var p flow.Packet
	n := 0
	for {
		if err := f.Next(&p); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// toPcapng converts a pcap to pcapng with pcapgo's writer.
func toPcapng(t testing.TB, pcap []byte) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ci.InterfaceIndex = 0
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestReadFormats(t *testing.T) {
	pcap, n := smallCapture(t)
	ng := toPcapng(t, pcap)
	for name, data := range map[string][]byte{"x.pcap": pcap, "x.pcapng": ng, "x.pcap.gz": gzipped(t, pcap), "x.pcapng.gz": gzipped(t, ng)} {
		t.Run(name, func(t *testing.T) {
			got, err := readAll(t, writeTemp(t, name, data))
			if err != nil || got != n {
				t.Fatalf("read %d packets, err %v; want %d, nil", got, err, n)
			}
		})
	}
}

// TestTruncatedFile cuts a capture inside its last records and expects every whole
// packet before the cut, then an error naming the file and the offset of the record
// that broke.
func TestTruncatedFile(t *testing.T) {
	pcap, n := smallCapture(t)
	// Offsets of record starts: 24-byte file header, then 16-byte record headers.
	var starts []int64
	for off := int64(24); off < int64(len(pcap)); {
		starts = append(starts, off)
		caplen := int64(pcap[off+8]) | int64(pcap[off+9])<<8 | int64(pcap[off+10])<<16 | int64(pcap[off+11])<<24
		off += 16 + caplen
	}
	if len(starts) != n {
		t.Fatalf("walked %d records, generator wrote %d", len(starts), n)
	}
	for _, cut := range []int{1, 10, 17, 40} {
		last := starts[len(starts)-1]
		data := pcap[:last+int64(cut)]
		path := writeTemp(t, "cut.pcap", data)
		got, err := readAll(t, path)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("cut %d: err = %v, want *FileError", cut, err)
		}
		if fe.Path != path || fe.Offset != last {
			t.Errorf("cut %d: error %v, want path %s offset %d", cut, err, path, last)
		}
		if got != n-1 {
			t.Errorf("cut %d: read %d packets before the damage, want %d", cut, got, n-1)
		}
	}
}

func TestCorruptRecordLength(t *testing.T) {
	pcap, _ := smallCapture(t)
	data := bytes.Clone(pcap)
	// Second record's capture length set beyond the snap length.
	second := int64(24 + 16 + int(data[24+8]) | int(data[24+9])<<8)
	data[second+8], data[second+9], data[second+10], data[second+11] = 0xff, 0xff, 0xff, 0x7f
	got, err := readAll(t, writeTemp(t, "bad.pcap", data))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Offset != second || got != 1 {
		t.Fatalf("read %d, err %v; want 1 packet and an error at offset %d", got, err, second)
	}
}

func TestUnknownFormat(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":  []byte("this is not a capture file at all"),
		"short": {0xd4, 0xc3},
		"empty": {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(t, writeTemp(t, "x", data))
			var fe *FileError
			if !errors.As(err, &fe) || fe.Offset != 0 {
				t.Fatalf("err = %v, want *FileError at offset 0", err)
			}
		})
	}
}

func TestPcapngMixedLinkTypes(t *testing.T) {
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, SnapLength: 65535}); err != nil {
		t.Fatal(err)
	}
	eth := frame(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), gopacket.Payload("a"))
	raw := frame(t, ipv6(), tcp(), gopacket.Payload("b"))
	for i, f := range [][]byte{eth, raw} {
		ci := gopacket.CaptureInfo{CaptureLength: len(f), Length: len(f), InterfaceIndex: i}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	fl, err := OpenFile(writeTemp(t, "mixed.pcapng", out.Bytes()), NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	var p flow.Packet
	for _, want := range []string{"a", "b"} {
		if err := fl.Next(&p); err != nil || string(p.Payload) != want {
			t.Fatalf("payload %q err %v, want %q", p.Payload, err, want)
		}
	}
}

func FuzzFile(f *testing.F) {
	tmpl, err := pcapgen.Templates()
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	pcapgen.Write(&buf, tmpl, pcapgen.Options{Flows: 1, DataSegments: 1, Concurrent: 1})
	f.Add(buf.Bytes()[:min(buf.Len(), 2000)])
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fl, err := OpenFile(path, NewDecoder())
		if err != nil {
			return
		}
		defer fl.Close()
		var p flow.Packet
		for range 10000 {
			if err := fl.Next(&p); err != nil {
				return
			}
		}
	})
}
