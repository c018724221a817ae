package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// conn builds the packets of one TCP connection for table tests.
type conn struct {
	cli, srv   netip.AddrPort
	cseq, sseq uint32
	ts         int64
}

func newConn(cli, srv string) *conn {
	return &conn{cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv), cseq: 1000, sseq: 5000, ts: int64(time.Second)}
}

func (c *conn) pkt(fromClient bool, flags uint8, seq uint32, payload string) *Packet {
	c.ts += int64(time.Millisecond)
	src, dst := c.cli, c.srv
	if !fromClient {
		src, dst = dst, src
	}
	p := &Packet{
		Timestamp: c.ts, Src: src.Addr().As16(), Dst: dst.Addr().As16(), IPv6: src.Addr().Is6() && !src.Addr().Is4In6(),
		SrcPort: src.Port(), DstPort: dst.Port(), Proto: TCP, Flags: flags, Seq: seq,
		Payload: []byte(payload), PayloadLen: len(payload), WireLen: 40 + len(payload),
	}
	return p
}

func (c *conn) open() []*Packet {
	ps := []*Packet{c.pkt(true, FlagSYN, c.cseq, ""), c.pkt(false, FlagSYN|FlagACK, c.sseq, ""), c.pkt(true, FlagACK, c.cseq+1, "")}
	c.cseq++
	c.sseq++
	return ps
}

// send returns data from one side as segments of at most n bytes, in order.
func (c *conn) send(fromClient bool, data string, n int) []*Packet {
	var ps []*Packet
	seq := &c.cseq
	if !fromClient {
		seq = &c.sseq
	}
	for len(data) > 0 {
		k := min(n, len(data))
		ps = append(ps, c.pkt(fromClient, FlagACK, *seq, data[:k]))
		*seq += uint32(k)
		data = data[k:]
	}
	return ps
}

func (c *conn) close() []*Packet {
	return []*Packet{c.pkt(true, FlagFIN|FlagACK, c.cseq, ""), c.pkt(false, FlagFIN|FlagACK, c.sseq, "")}
}

func collect(cfg Config) (*Table, *[]Record) {
	var recs []Record
	return New(cfg, func(r *Record) { recs = append(recs, *r) }), &recs
}

func feed(t *Table, groups ...[]*Packet) {
	for _, g := range groups {
		for _, p := range g {
			t.Add(p)
		}
	}
}

func reversed(ps []*Packet) []*Packet {
	out := make([]*Packet, len(ps))
	for i, p := range ps {
		out[len(ps)-1-i] = p
	}
	return out
}

const httpRequest = "GET /orders HTTP/1.1\r\nHost: orders\r\nUser-Agent: test\r\n\r\n"

func TestTablePlaintextHTTP(t *testing.T) {
	tbl, recs := collect(Config{})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	feed(tbl, c.open(), c.send(true, httpRequest, 10), c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1448), c.close())
	tbl.Flush()
	if len(*recs) != 1 {
		t.Fatalf("%d records, want 1", len(*recs))
	}
	r := (*recs)[0]
	if r.Verdict.Class != classify.ClassPlaintext || r.Verdict.App != classify.AppHTTP {
		t.Errorf("verdict %v/%v, want plaintext/http", r.Verdict.Class, r.Verdict.App)
	}
	if r.Client.String() != "10.0.0.1:40000" || r.Server.String() != "10.0.0.2:8080" || r.Midstream {
		t.Errorf("client %v server %v midstream %v", r.Client, r.Server, r.Midstream)
	}
	if r.PacketsToServer != 2+6+1 || r.PacketsToClient != 1+1+1 {
		t.Errorf("packets %d/%d", r.PacketsToServer, r.PacketsToClient)
	}
}

// TestTableReorderedRequest delivers the request's segments last first: the verdict
// must still come from the reassembled bytes.
func TestTableReorderedRequest(t *testing.T) {
	tbl, recs := collect(Config{})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	opening := c.open()
	segs := c.send(true, httpRequest, 8)
	feed(tbl, opening, reversed(segs), segs[:2], c.close())
	tbl.Flush()
	if got := (*recs)[0].Verdict; got.Class != classify.ClassPlaintext || got.App != classify.AppHTTP {
		t.Errorf("verdict %v/%v, want plaintext/http", got.Class, got.App)
	}
}

func TestTableClientIsSYNSender(t *testing.T) {
	tbl, recs := collect(Config{})
	// The server listens on a high port and the client uses a low one: only the SYN tells.
	c := newConn("10.0.0.1:80", "10.0.0.2:40000")
	feed(tbl, c.open(), c.send(true, httpRequest, 1448), c.close())
	tbl.Flush()
	if r := (*recs)[0]; r.Client.Port() != 80 || r.Midstream {
		t.Errorf("client %v midstream %v, want the SYN sender 10.0.0.1:80", r.Client, r.Midstream)
	}
}

func TestTableMidstream(t *testing.T) {
	tbl, recs := collect(Config{})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	c.open() // not delivered: the capture started later
	// The first packet seen comes from the server.
	feed(tbl, c.send(false, "\x00\x01\x02\x03binary", 1448), c.send(true, "\x07\x00\x00\x01", 1448))
	tbl.Flush()
	r := (*recs)[0]
	if !r.Midstream || r.Verdict.Class != classify.ClassUnknown {
		t.Errorf("midstream %v class %v, want midstream unknown", r.Midstream, r.Verdict.Class)
	}
	if r.Client.Port() != 40000 {
		t.Errorf("client %v: a midstream flow's client is the ephemeral-port side", r.Client)
	}
}

func TestTablePortReuse(t *testing.T) {
	tbl, recs := collect(Config{})
	for i := range 3 {
		c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
		c.cseq += uint32(i) * 100000
		feed(tbl, c.open(), c.send(true, httpRequest, 1448), c.close())
	}
	tbl.Flush()
	if len(*recs) != 3 || tbl.Stats().PortReuse != 2 {
		t.Fatalf("%d records, %d reuses; want 3 and 2", len(*recs), tbl.Stats().PortReuse)
	}
}

func TestTableEviction(t *testing.T) {
	tbl, recs := collect(Config{MaxFlows: 10})
	for i := range 25 {
		c := newConn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i)).String(), "10.0.0.2:8080")
		feed(tbl, c.open())
	}
	if s := tbl.Stats(); s.Active != 10 || s.Evicted != 15 || len(*recs) != 15 {
		t.Fatalf("active %d evicted %d records %d; want 10, 15, 15", s.Active, s.Evicted, len(*recs))
	}
	tbl.Flush()
	if len(*recs) != 25 {
		t.Fatalf("%d records after flush, want 25", len(*recs))
	}
	for _, r := range *recs {
		if r.Verdict.Class != classify.ClassUnknown || r.Verdict.Reason != classify.ReasonNoPayload {
			t.Errorf("%v: %v %q, want unknown no_payload", r.Client, r.Verdict.Class, r.Verdict.Reason)
		}
	}
}

func TestTableIdleExpiry(t *testing.T) {
	tbl, recs := collect(Config{IdleTimeout: time.Minute})
	old := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	feed(tbl, old.open(), old.send(true, "GET / HTTP/1.1\r\n", 1448))
	late := newConn("10.0.0.3:40000", "10.0.0.2:8080")
	late.ts = old.ts + int64(2*time.Minute)
	feed(tbl, late.open())
	if len(*recs) != 1 || (*recs)[0].Client.Port() != 40000 || tbl.Stats().Expired != 1 {
		t.Fatalf("records %d expired %d; want the idle flow finished", len(*recs), tbl.Stats().Expired)
	}
}

// TestTableBudget gives the table room for one flow's prefix only: the second flow
// cannot keep its bytes, and must say unknown rather than guess.
func TestTableBudget(t *testing.T) {
	tbl, recs := collect(Config{MaxBufferedBytes: 1024})
	a := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	b := newConn("10.0.0.3:40000", "10.0.0.2:8080")
	feed(tbl, a.open(), b.open(), a.send(true, "\x16\x03\x01\x05\xdc", 1448), b.send(true, "GET / HTTP/1.1\r\n", 1448))
	if tbl.Stats().BufferRefused == 0 {
		t.Fatal("budget never refused")
	}
	tbl.Flush()
	for _, r := range *recs {
		if r.Client.Addr().String() == "10.0.0.3" && (r.Verdict.Class != classify.ClassUnknown || r.Verdict.Reason != classify.ReasonBufferRefused) {
			t.Errorf("flow without buffer space got %v (%s), want unknown (%s)", r.Verdict.Class, r.Verdict.Reason, classify.ReasonBufferRefused)
		}
	}
}

// TestTableBudgetUDP: a datagram flow the budget turns away says so, instead of
// claiming it carried no payload; one that really carried none still says that.
func TestTableBudgetUDP(t *testing.T) {
	tbl, recs := collect(Config{MaxBufferedBytes: 1024})
	datagram := func(client string, payload string) *Packet {
		c := newConn(client, "10.0.0.2:5000")
		p := c.pkt(true, 0, 0, payload)
		p.Proto = UDP
		return p
	}
	// The first flow's buffer takes the whole budget; the second's bytes are refused.
	feed(tbl, []*Packet{datagram("10.0.0.1:40000", "\x8a\x01\x99"), datagram("10.0.0.3:40000", "\x8a\x01\x99"), datagram("10.0.0.4:40000", "")})
	tbl.Flush()
	want := map[string]string{"10.0.0.3": classify.ReasonBufferRefused, "10.0.0.4": classify.ReasonNoPayload}
	for _, r := range *recs {
		if w, ok := want[r.Client.Addr().String()]; ok && (r.Verdict.Class != classify.ClassUnknown || r.Verdict.Reason != w) {
			t.Errorf("%s: %v (%s), want unknown (%s)", r.Client, r.Verdict.Class, r.Verdict.Reason, w)
		}
	}
	if len(*recs) != 3 || tbl.Stats().BufferRefused == 0 {
		t.Errorf("%d flows, %d refusals", len(*recs), tbl.Stats().BufferRefused)
	}
}

// TestTableDecidedFlowIsOnlyCounted checks that after the verdict no bytes are kept.
func TestTableDecidedFlowIsOnlyCounted(t *testing.T) {
	tbl, _ := collect(Config{})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	feed(tbl, c.open(), c.send(true, httpRequest, 1448), c.send(false, "HTTP/1.1 200 OK\r\n\r\n", 1448))
	if s := tbl.Stats(); s.Decided != 1 || s.BufferedBytes != 0 {
		t.Fatalf("decided %d buffered %d; want 1 and 0", s.Decided, s.BufferedBytes)
	}
	feed(tbl, c.send(true, string(make([]byte, 10000)), 1448))
	if s := tbl.Stats(); s.BufferedBytes != 0 {
		t.Fatalf("buffered %d bytes after the verdict", s.BufferedBytes)
	}
}

func BenchmarkTableDecidedFlow(b *testing.B) {
	tbl, _ := collect(Config{})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	feed(tbl, c.open(), c.send(true, httpRequest, 1448), c.send(false, "HTTP/1.1 200 OK\r\n\r\n", 1448))
	p := c.send(true, string(make([]byte, 1448)), 1448)[0]
	b.ReportAllocs()
	for b.Loop() {
		p.Seq += 1448
		tbl.Add(p)
	}
}

func BenchmarkTableNewFlows(b *testing.B) {
	tbl, _ := collect(Config{})
	var ps []*Packet
	for i := range 1000 {
		c := newConn(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000).String(), "10.0.0.2:8080")
		ps = append(ps, c.open()...)
		ps = append(ps, c.send(true, httpRequest, 1448)...)
		ps = append(ps, c.send(false, "HTTP/1.1 200 OK\r\n\r\n", 1448)...)
		ps = append(ps, c.close()...)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range ps {
			p.Timestamp += int64(time.Hour) // a fresh connection each round
			tbl.Add(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/packet")
}

// TestTableRecent: a caller that passes the time of its previous call visits every
// flow that saw packets since, with exactly the packets it saw since, and no other.
func TestTableRecent(t *testing.T) {
	tbl, _ := collect(Config{})
	busy := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	quiet := newConn("10.0.0.3:40000", "10.0.0.2:8080")
	quiet.ts = busy.ts
	feed(tbl, quiet.open(), busy.open(), busy.send(true, httpRequest, 1448), busy.send(false, "HTTP/1.1 200 OK\r\n\r\n", 1448))
	type seen struct {
		decided bool
		packets uint64
	}
	visit := func(since int64) map[Key]seen {
		got := map[Key]seen{}
		tbl.Recent(since, func(k Key, decided bool, packets uint64) { got[k] = seen{decided, packets} })
		return got
	}
	kb, kq := KeyOf(busy.pkt(true, FlagACK, 0, "")), KeyOf(quiet.pkt(false, FlagACK, 0, ""))
	got := visit(0)
	if got[kb] != (seen{true, 5}) || got[kq] != (seen{false, 3}) || len(got) != 2 {
		t.Fatalf("first visit %v; want busy decided with 5 packets, quiet undecided with 3", got)
	}
	last := busy.ts
	feed(tbl, busy.send(true, string(make([]byte, 3000)), 1448))
	got = visit(last + 1)
	if got[kb] != (seen{true, 3}) || len(got) != 1 {
		t.Fatalf("second visit %v; want only busy, with its 3 new packets", got)
	}
	if got = visit(0); got[kb].packets != 0 || got[kq].packets != 0 {
		t.Fatalf("third visit %v; want no new packets", got)
	}
}
