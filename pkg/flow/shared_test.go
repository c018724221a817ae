package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/classify"
)

// TestSharedBounds: two tables given one Shared hold together what one table with
// those bounds would. All flows landing in one table (the unevenest hash) still fill
// the whole flow bound before anything is evicted, the buffer budget one table spends
// is refused to the other, and a finished flow gives both back.
func TestSharedBounds(t *testing.T) {
	shared := &Shared{MaxFlows: 10, MaxBufferedBytes: 1024}
	a, recsA := collect(Config{Shared: shared})
	b, recsB := collect(Config{Shared: shared})
	for i := range 10 {
		c := newConn(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i)).String(), "10.0.0.2:8080")
		feed(a, c.open())
	}
	if s := a.Stats(); s.Active != 10 || s.Evicted != 0 {
		t.Fatalf("table a: active %d evicted %d; want the whole shared bound, 10 and 0", s.Active, s.Evicted)
	}
	// The bound is reached: a flow of table b evicts one of b's own, which has none.
	c := newConn("10.0.0.3:40000", "10.0.0.2:8080")
	feed(b, c.open())
	if sa, sb := a.Stats(), b.Stats(); sa.Active+sb.Active != 11 || sb.Evicted != 0 {
		t.Fatalf("active %d+%d evicted %d", sa.Active, sb.Active, sb.Evicted)
	}
	c2 := newConn("10.0.0.3:40001", "10.0.0.2:8080")
	feed(b, c2.open())
	if sa, sb := a.Stats(), b.Stats(); sa.Active+sb.Active != 11 || sb.Evicted != 1 || len(*recsB) != 1 {
		t.Fatalf("active %d+%d evicted %d records %d; want 11, 1 evicted from b, 1 record", sa.Active, sb.Active, sb.Evicted, len(*recsB))
	}

	// Buffers: a's undecided flow takes the whole budget; b's cannot grow.
	x := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	x.cseq, x.sseq = 1001, 5001 // the connection opened above
	feed(a, x.send(true, "\x16\x03\x01\x05\xdc", 1448))
	y := newConn("10.0.0.3:40001", "10.0.0.2:8080")
	y.cseq, y.sseq = 1001, 5001
	y.ts = x.ts
	feed(b, y.send(true, "GET / HTTP/1.1\r\n", 1448))
	if a.Stats().BufferRefused != 0 || b.Stats().BufferRefused == 0 {
		t.Fatalf("refused a %d b %d; want only b refused", a.Stats().BufferRefused, b.Stats().BufferRefused)
	}
	a.Flush()
	b.Flush()
	if shared.flows.Load() != 0 || shared.bytes.Load() != 0 {
		t.Fatalf("after flush the shared bound holds %d flows, %d bytes", shared.flows.Load(), shared.bytes.Load())
	}
	if n := len(*recsA) + len(*recsB); n != 12 {
		t.Fatalf("%d records, want 12", n)
	}
}

// TestTimeoutOnOwnClock: a packet that comes after its flow's idle timeout starts a
// new flow even when no scan of the table ran in between (the table's clock did not
// move past the next scan), as it does in a table that scanned.
func TestTimeoutOnOwnClock(t *testing.T) {
	tbl, recs := collect(Config{IdleTimeout: time.Minute})
	c := newConn("10.0.0.1:40000", "10.0.0.2:8080")
	feed(tbl, c.open(), c.send(true, "GET / HTTP/1.1\r\n", 1448))
	tbl.nextScan = c.ts + int64(time.Hour) // no scan until long after
	c.ts += int64(2 * time.Minute)
	feed(tbl, c.send(true, "GET /again HTTP/1.1\r\n", 1448))
	if len(*recs) != 1 || tbl.Stats().Expired != 1 || (*recs)[0].Verdict.Class != classify.ClassPlaintext {
		t.Fatalf("records %d expired %d; want the first flow finished by its own timeout", len(*recs), tbl.Stats().Expired)
	}
}
