// Package pcapgen writes large synthetic captures for benchmarks: many TCP connections
// between internal addresses, each opened with a three-way handshake, carrying the
// first bytes of a real protocol exchange, then bulk data, then closed.
//
// The TLS handshakes are not invented: Templates runs real crypto/tls handshakes over
// an in-memory pipe and records the bytes each side wrote. Only addresses, ports and
// sequence numbers vary from flow to flow.
package pcapgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Exchange is the opening of a connection: what the client sent first, then what the
// server answered.
type Exchange struct {
	Name   string
	Client []byte
	Server []byte
}

// Templates returns the exchanges the generator mixes: TLS 1.3 and TLS 1.2 from real
// crypto/tls handshakes, plaintext HTTP/1.1 and Redis.
func Templates() ([]Exchange, error) {
	t13, err := recordTLS(tls.VersionTLS13)
	if err != nil {
		return nil, err
	}
	t12, err := recordTLS(tls.VersionTLS12)
	if err != nil {
		return nil, err
	}
	return []Exchange{
		{Name: "tls1.3", Client: t13.Client, Server: t13.Server},
		{Name: "tls1.2", Client: t12.Client, Server: t12.Server},
		{Name: "http", Client: []byte("GET /api/v1/orders HTTP/1.1\r\nHost: orders.internal\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"),
			Server: []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n")},
		{Name: "redis", Client: []byte("*2\r\n$3\r\nGET\r\n$8\r\nsession1\r\n"), Server: []byte("$5\r\nhello\r\n")},
	}, nil
}

// recorder is a net.Conn that records what is written to it.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf = append(r.buf, p...)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// recordTLS runs one real handshake at version and returns the bytes each side wrote
// before the first application data.
func recordTLS(version uint16) (Exchange, error) {
	cert, err := selfSigned()
	if err != nil {
		return Exchange{}, err
	}
	c, s := net.Pipe()
	cr, sr := &recorder{Conn: c}, &recorder{Conn: s}
	srv := tls.Server(sr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version, NextProtos: []string{"h2"}})
	cli := tls.Client(cr, &tls.Config{InsecureSkipVerify: true, ServerName: "orders.internal", MinVersion: version, MaxVersion: version, NextProtos: []string{"h2", "http/1.1"}})
	errc := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err == nil {
			_, err = io.ReadFull(srv, make([]byte, 1))
		}
		errc <- err
	}()
	if err := cli.Handshake(); err != nil {
		return Exchange{}, err
	}
	// Read what the server sends after its handshake (TLS 1.3 session tickets): the pipe
	// has no buffer, so an unread ticket would block the server.
	go io.Copy(io.Discard, cli)
	if _, err := cli.Write([]byte("x")); err != nil {
		return Exchange{}, err
	}
	if err := <-errc; err != nil {
		return Exchange{}, err
	}
	// Close the pipe, not the TLS connections: a close_notify on an unbuffered pipe
	// nobody reads would wait for its timeout.
	c.Close()
	s.Close()
	return Exchange{Client: cr.buf, Server: sr.buf}, nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "orders.internal"},
		DNSNames: []string{"orders.internal"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Options shape a generated capture.
type Options struct {
	Flows        int // connections
	DataSegments int // full-size data segments each way after the opening
	Concurrent   int // connections open at once (interleaved packets)
}

const mss = 1448

// Write writes a pcap of opts.Flows connections cycling through the templates and
// returns the number of packets written.
func Write(w io.Writer, templates []Exchange, opts Options) (int, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	g := &gen{pw: pw, ts: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), frame: make([]byte, 0, 1600)}
	bulk := make([]byte, mss)
	for i := range bulk {
		bulk[i] = byte(i*31 + 7)
	}
	conc := max(opts.Concurrent, 1)
	for start := 0; start < opts.Flows; start += conc {
		n := min(conc, opts.Flows-start)
		conns := make([]*conn, n)
		for i := range conns {
			id := start + i
			conns[i] = newConn(id, templates[id%len(templates)])
		}
		// Interleave: each round every open connection sends its next packet.
		for active := n; active > 0; {
			active = 0
			for _, c := range conns {
				if c.step(g, bulk, opts.DataSegments) {
					active++
				}
				if g.err != nil {
					return g.packets, g.err
				}
			}
		}
	}
	return g.packets, g.err
}

type gen struct {
	pw      *pcapgo.Writer
	ts      time.Time
	frame   []byte
	packets int
	err     error
}

type conn struct {
	cli, srv       [4]byte
	cport, sport   uint16
	cseq, sseq     uint32
	ex             Exchange
	state, dataIdx int
}

func newConn(id int, ex Exchange) *conn {
	c := &conn{ex: ex, cport: uint16(32768 + id%28000), cseq: uint32(id) * 7919, sseq: uint32(id) * 104729}
	c.cli = [4]byte{10, 1, byte(id >> 8 % 16), byte(id%250 + 1)}
	c.srv = [4]byte{10, 2, byte(id % 4), 10}
	switch ex.Name {
	case "http":
		c.sport = 80
	case "redis":
		c.sport = 6379
	default:
		c.sport = 443
	}
	return c
}

// step writes the connection's next packet; it returns false once the connection is done.
func (c *conn) step(g *gen, bulk []byte, dataSegs int) bool {
	const (
		syn, synack, ack, fin, rst = 0x02, 0x12, 0x10, 0x11, 0x04
	)
	switch {
	case c.state == 0:
		g.tcp(c.cli, c.srv, c.cport, c.sport, c.cseq, 0, syn, nil)
		c.cseq++
	case c.state == 1:
		g.tcp(c.srv, c.cli, c.sport, c.cport, c.sseq, c.cseq, synack, nil)
		c.sseq++
	case c.state == 2:
		c.cseq += g.segments(c.cli, c.srv, c.cport, c.sport, c.cseq, c.sseq, c.ex.Client)
	case c.state == 3:
		c.sseq += g.segments(c.srv, c.cli, c.sport, c.cport, c.sseq, c.cseq, c.ex.Server)
	case c.state-4 < 2*dataSegs:
		if (c.state-4)%2 == 0 {
			g.tcp(c.cli, c.srv, c.cport, c.sport, c.cseq, c.sseq, ack, bulk)
			c.cseq += uint32(len(bulk))
		} else {
			g.tcp(c.srv, c.cli, c.sport, c.cport, c.sseq, c.cseq, ack, bulk)
			c.sseq += uint32(len(bulk))
		}
	case c.state-4 == 2*dataSegs:
		g.tcp(c.cli, c.srv, c.cport, c.sport, c.cseq, c.sseq, fin, nil)
		c.cseq++
	case c.state-4 == 2*dataSegs+1:
		g.tcp(c.srv, c.cli, c.sport, c.cport, c.sseq, c.cseq, fin, nil)
		c.sseq++
	default:
		return false
	}
	c.state++
	return true
}

// segments writes data as MSS-sized segments and returns the bytes written.
func (g *gen) segments(src, dst [4]byte, sp, dp uint16, seq, ack uint32, data []byte) uint32 {
	n := uint32(0)
	for len(data) > 0 {
		k := min(len(data), mss)
		g.tcp(src, dst, sp, dp, seq+n, ack, 0x18, data[:k])
		n += uint32(k)
		data = data[k:]
	}
	return n
}

// tcp writes one Ethernet/IPv4/TCP frame.
func (g *gen) tcp(src, dst [4]byte, sp, dp uint16, seq, ack uint32, flags byte, payload []byte) {
	if g.err != nil {
		return
	}
	f := g.ipv4(src, dst, 6, 20+len(payload))
	f = binary.BigEndian.AppendUint16(f, sp)
	f = binary.BigEndian.AppendUint16(f, dp)
	f = binary.BigEndian.AppendUint32(f, seq)
	f = binary.BigEndian.AppendUint32(f, ack)
	f = append(f, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0)
	g.write(append(f, payload...))
}

// ipv4 starts a frame in g's buffer: Ethernet and IPv4 headers for a transport
// segment of l4Len bytes of protocol proto.
func (g *gen) ipv4(src, dst [4]byte, proto byte, l4Len int) []byte {
	f := g.frame[:0]
	f = append(f, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00) // Ethernet, IPv4
	ipLen := 20 + l4Len
	f = append(f, 0x45, 0, byte(ipLen>>8), byte(ipLen), 0, 0, 0x40, 0, 64, proto, 0, 0)
	f = append(f, src[:]...)
	return append(f, dst[:]...)
}

// write writes a frame 20µs after the previous one.
func (g *gen) write(f []byte) {
	g.ts = g.ts.Add(20 * time.Microsecond)
	g.err = g.pw.WritePacket(gopacketCI(g.ts, len(f)), f)
	g.frame = f
	g.packets++
}

func gopacketCI(ts time.Time, n int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: ts, CaptureLength: n, Length: n}
}
