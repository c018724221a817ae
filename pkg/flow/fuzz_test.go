package flow

import (
	"encoding/binary"
	"testing"
)

// FuzzTable feeds the table packets built from arbitrary bytes: a few addresses and
// ports so that flows collide, any flags and sequence numbers, any payload. The table
// must never panic, never keep more flows or buffered bytes than its bounds, and
// finish every flow it started.
func FuzzTable(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x12\x00\x00\x00\x00\x00\x10\x00\x00\x00\x01GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("\x18\x00\x00\x00\x00\x01\x16\x03\x01\x00\x05hello\x18\x01\x00\x00\x00\x00\x16\x03\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{MaxFlows: 4, PrefixBytes: 256, MaxBufferedBytes: 4096}
		started, finished := 0, 0
		tbl := New(cfg, func(*Record) { finished++ })
		ts := int64(1)
		for len(data) >= 6 {
			h := data[:6]
			data = data[6:]
			n := min(int(h[5]&0x3f), len(data))
			payload := data[:n]
			data = data[n:]
			p := Packet{
				Timestamp: ts, Proto: TCP, Flags: h[0] & 0x17, Seq: binary.BigEndian.Uint32(h[1:5]) & 0x3ff,
				SrcPort: 1000 + uint16(h[5]>>6), DstPort: 80, Payload: payload, PayloadLen: n, WireLen: 40 + n,
			}
			if h[0]&0x80 != 0 {
				p.Proto = UDP
			}
			if h[0]&0x40 != 0 {
				p.Src[15], p.Dst[15] = 2, 1
				p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
			} else {
				p.Src[15], p.Dst[15] = 1, 2
			}
			ts += int64(h[4]) << 24
			before := tbl.Stats().Flows
			tbl.Add(&p)
			started += int(tbl.Stats().Flows - before)
			if s := tbl.Stats(); s.Active > cfg.MaxFlows || s.BufferedBytes > cfg.MaxBufferedBytes {
				t.Fatalf("bounds broken: %d flows, %d bytes", s.Active, s.BufferedBytes)
			}
		}
		tbl.Flush()
		if finished != started {
			t.Fatalf("started %d flows, finished %d", started, finished)
		}
	})
}
