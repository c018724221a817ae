package capture

import (
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// skipConn feeds one plaintext HTTP connection to a flow table, decided after its
// request, at times the test chooses.
type skipConn struct {
	cli, srv netip.AddrPort
	seq      uint32
}

func (c *skipConn) key() flow.Key {
	p := c.pkt(0, flow.FlagACK, "")
	return flow.KeyOf(&p)
}

func (c *skipConn) pkt(ts int64, flags uint8, payload string) flow.Packet {
	p := flow.Packet{
		Timestamp: ts, Src: c.cli.Addr().As16(), Dst: c.srv.Addr().As16(), SrcPort: c.cli.Port(), DstPort: c.srv.Port(),
		Proto: flow.TCP, Flags: flags, Seq: c.seq, Payload: []byte(payload), PayloadLen: len(payload), WireLen: 40 + len(payload),
	}
	c.seq += uint32(len(payload))
	return p
}

// open starts and decides the connection at ts.
func (c *skipConn) open(t *flow.Table, ts int64) {
	c.seq = 1000
	p := c.pkt(ts, flow.FlagSYN, "")
	t.Add(&p)
	c.seq++
	p = c.pkt(ts, flow.FlagACK, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	t.Add(&p)
}

// send adds n packets carrying payload, spread over [from, from+1s).
func (c *skipConn) send(t *flow.Table, from int64, n int, payload string) {
	for i := range n {
		p := c.pkt(from+int64(i)*int64(time.Second)/int64(n), flow.FlagACK, payload)
		t.Add(&p)
	}
}

// TestReselect drives the skip list's choices with a flow table fed by hand: the
// busiest decided flows are listed, heaviest first; a much faster flow takes a full
// list's slowest place; a listed flow whose samples stop leaves; Forget takes a flow
// off at once; and each change installs a filter the kernel takes.
func TestReselect(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: opens an AF_PACKET socket (CI runs as root)")
	}
	a, err := OpenAFPacket(SkipConfig{MaxFlows: 2, MinRate: 100, QuietWindow: 2 * time.Second}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tbl := flow.New(flow.Config{}, func(r *flow.Record) { a.Forget(r.Key) })
	conn := func(cli string) *skipConn {
		return &skipConn{cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort("10.9.0.1:80")}
	}
	ca, cb, cc, ce := conn("10.9.0.2:1000"), conn("10.9.0.3:1000"), conn("[fd00::3]:1000"), conn("10.9.0.5:1000")
	undecided := &skipConn{cli: netip.MustParseAddrPort("10.9.0.4:1000"), srv: netip.MustParseAddrPort("10.9.0.1:443")}
	listed := func() []flow.Key {
		a.mu.Lock()
		defer a.mu.Unlock()
		return slices.Clone(a.skipOrder)
	}
	sec := int64(time.Second)
	t0 := 1000 * sec

	for _, c := range []*skipConn{ca, cb, cc} {
		c.open(tbl, t0)
	}
	a.Reselect(t0, tbl) // the baseline
	ca.send(tbl, t0, 300, "x")
	cb.send(tbl, t0, 150, "x")
	cc.send(tbl, t0, 50, "x") // below MinRate
	p := undecided.pkt(t0, flow.FlagSYN, "")
	tbl.Add(&p)
	undecided.seq++
	undecided.send(tbl, t0, 500, "") // busy but undecided: no byte to classify yet
	a.Reselect(t0+sec, tbl)
	if got, want := listed(), []flow.Key{ca.key(), cb.key()}; !slices.Equal(got, want) {
		t.Fatalf("after the first second: %v, want the two busy decided flows, busier first", got)
	}

	ce.open(tbl, t0+sec)
	ce.send(tbl, t0+sec, 1000, "x")
	a.Reselect(t0+2*sec, tbl)
	if got, want := listed(), []flow.Key{ce.key(), ca.key()}; !slices.Equal(got, want) {
		t.Fatalf("after a much busier flow came: %v, want it in the slower one's place", got)
	}

	// Two seconds on: a's window is over with no sample (it went quiet); e's window
	// is over too, but its samples (10 in 2s, times 64) say it is still busy.
	ce.send(tbl, t0+3*sec, 10, "x")
	a.Reselect(t0+4*sec, tbl)
	if got, want := listed(), []flow.Key{ce.key()}; !slices.Equal(got, want) {
		t.Fatalf("after a went quiet: %v, want e alone", got)
	}

	a.Forget(ce.key())
	if got := listed(); len(got) != 0 {
		t.Fatalf("after Forget: %v, want nothing", got)
	}
	if s := a.SkipStats(); s.Flows != 0 || s.Skipped != 3 || s.Updates != 4 {
		t.Errorf("stats %+v, want 0 flows, 3 skipped, 4 updates", s)
	}
}
