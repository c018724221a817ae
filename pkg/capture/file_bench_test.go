package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsaudit/tlsaudit/internal/pcapgen"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// decidedFlowCapture writes a capture of one TLS 1.3 connection (a real crypto/tls
// handshake) followed by bulk segments both ways, as pcap or pcapng.
func decidedFlowCapture(b *testing.B, ng bool) string {
	b.Helper()
	tmpl, err := pcapgen.Templates()
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := pcapgen.Write(&buf, tmpl[:1], pcapgen.Options{Flows: 1, DataSegments: 20000}); err != nil {
		b.Fatal(err)
	}
	data, name := buf.Bytes(), "decided.pcap"
	if ng {
		data, name = toPcapng(b, data), "decided.pcapng"
	}
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkFileDecidedFlow is the offline hot path of a flow whose verdict is reached:
// read a record, decode it, count it in the flow table. One iteration is one packet;
// the file is reopened at its end, rarely enough (every 40,000 packets) that the
// allocations it costs round to nothing per packet, so allocs/op reads 0 only when the
// path itself allocates nothing.
func BenchmarkFileDecidedFlow(b *testing.B) {
	for _, ng := range []bool{false, true} {
		name := map[bool]string{false: "pcap", true: "pcapng"}[ng]
		b.Run(name, func(b *testing.B) {
			path := decidedFlowCapture(b, ng)
			st, _ := os.Stat(path)
			table := flow.New(flow.Config{}, func(*flow.Record) {})
			dec := NewDecoder()
			f, err := OpenFile(path, dec)
			if err != nil {
				b.Fatal(err)
			}
			var pkt flow.Packet
			// Reach the verdict before measuring.
			for range 100 {
				if err := f.Next(&pkt); err != nil {
					b.Fatal(err)
				}
				table.Add(&pkt)
			}
			if table.Stats().Decided != 1 {
				b.Fatal("the flow is not decided after its handshake")
			}
			var reopened int
			b.ReportAllocs()
			b.SetBytes(st.Size() / int64(40000+8))
			for b.Loop() {
				err := f.Next(&pkt)
				if err == io.EOF {
					f.Close()
					if f, err = OpenFile(path, dec); err == nil {
						err = f.Next(&pkt)
					}
					reopened++
				}
				if err != nil {
					b.Fatal(err)
				}
				table.Add(&pkt)
			}
			f.Close()
			b.ReportMetric(float64(reopened), "reopens")
		})
	}
}
