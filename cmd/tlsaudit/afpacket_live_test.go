package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveAFPacketSkip runs the agent with the AF_PACKET engine (offloads off, so
// every segment is a packet) while a TLS connection carries a bulk upload for
// several seconds. Once the agent put the decided flow on its filter's skip list, the
// socket must see far fewer packets than the interface carries; the flow's verdict
// must still be logged; when the server ends the connection the flow must leave the
// list, and a new TLS connection on the same 5-tuple must be seen and classified.
func TestLiveAFPacketSkip(t *testing.T) {
	needLive(t)
	agentBin, _ := binaries(t)
	tn := newTestNet(t, false)
	dir := t.TempDir()
	certFile, keyFile := certs(t, dir)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}

	agent := startAgent(t, tn.server, agentBin, "--engine", "afpacket", "--metrics-addr", "127.0.0.1:19809", "--interface", tn.serverIf)
	logBuf := &agent.log

	// A TLS server that discards what it reads and closes first once the client has
	// been quiet for half a second, so that the client's port is free at once (the
	// server side keeps TIME_WAIT, which takes a new SYN).
	var ln net.Listener
	if err := inNetns(tn.server, func() (err error) { ln, err = net.Listen("tcp", tn.serverIP+":4443"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1<<16)
				for {
					c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()

	const clientPort = 45000
	dial := func(sni string) *tls.Conn {
		t.Helper()
		var c net.Conn
		err := inNetns(tn.client, func() (err error) {
			d := net.Dialer{
				LocalAddr: &net.TCPAddr{IP: net.ParseIP(tn.clientIP), Port: clientPort},
				Control: func(_, _ string, rc syscall.RawConn) error {
					var serr error
					err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1) })
					return errors.Join(err, serr)
				},
				Timeout: 5 * time.Second,
			}
			c, err = d.Dial("tcp", tn.serverIP+":4443")
			return err
		})
		if err != nil {
			t.Fatalf("dial from port %d: %v", clientPort, err)
		}
		tc := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake %s: %v", sni, err)
		}
		return tc
	}
	// waitServerClose reads until the server hangs up, then closes.
	waitServerClose := func(c *tls.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, io.EOF) {
			t.Logf("read until close: %v", err)
		}
		c.Close()
	}

	// The bulk upload.
	bulk := dial("bulk.internal")
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 1<<16)
		for end := time.Now().Add(7 * time.Second); time.Now().Before(end); {
			if _, err := bulk.Write(chunk); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, tn.server)["tlsaudit_afpacket_skipped_flows"] < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the bulk flow was never skipped\n%s", logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The socket counters are published every second: wait for a publication made
	// after the flow was skipped, then compare the socket and the interface over 2s.
	time.Sleep(1200 * time.Millisecond)
	sock0, if0 := scrape(t, tn.server)["tlsaudit_packets_total"], ifacePackets(t, tn.server, tn.serverIf)
	time.Sleep(2 * time.Second)
	sock1, if1 := scrape(t, tn.server)["tlsaudit_packets_total"], ifacePackets(t, tn.server, tn.serverIf)
	sock, ifc := sock1-sock0, if1-if0
	t.Logf("while skipped: socket %v packets, interface %v", sock, ifc)
	if ifc < 10000 {
		t.Fatalf("only %v packets on the interface in 2s: no bulk transfer to measure", ifc)
	}
	if sock*8 > ifc {
		t.Errorf("the socket saw %v of the interface's %v packets; want under 1/8 with the flow skipped", sock, ifc)
	}
	if err := <-done; err != nil {
		t.Fatalf("bulk upload: %v", err)
	}
	waitServerClose(bulk)
	time.Sleep(300 * time.Millisecond)
	if n := scrape(t, tn.server)["tlsaudit_afpacket_skipped_flows"]; n != 0 {
		t.Errorf("%v flows still skipped after the bulk connection ended", n)
	}

	// A new connection on the same 5-tuple.
	again := dial("reuse.internal")
	waitServerClose(again)

	time.Sleep(500 * time.Millisecond)
	agent.stop(t)
	want := map[string]bool{"bulk.internal": false, "reuse.internal": false}
	sc := bufio.NewScanner(bytes.NewReader(logBuf.Bytes()))
	for sc.Scan() {
		var v verdictLine
		if json.Unmarshal(sc.Bytes(), &v) != nil || v.Event != "verdict" || !strings.HasSuffix(v.Client, ":"+strconv.Itoa(clientPort)) {
			continue
		}
		if _, ok := want[v.SNI]; ok && v.Class == "tls" && v.TLSVersion == "TLS1.3" {
			want[v.SNI] = true
		}
	}
	for sni, seen := range want {
		if !seen {
			t.Errorf("no TLS1.3 verdict for %s from port %d\n%s", sni, clientPort, logBuf.String())
		}
	}
}

// scrape reads the agent's metrics (on 127.0.0.1:19809 in the namespace): every
// series as exposed, "name" or "name{labels}", and its value.
func scrape(t *testing.T, ns string) map[string]float64 {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "curl", "-sf", "http://127.0.0.1:19809/metrics").Output()
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// ifacePackets is the packets an interface in a namespace received and sent.
func ifacePackets(t *testing.T, ns, ifname string) float64 {
	t.Helper()
	var n float64
	for _, dir := range []string{"rx_packets", "tx_packets"} {
		out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/sys/class/net/"+ifname+"/statistics/"+dir).Output()
		if err != nil {
			t.Fatalf("%s %s: %v", ifname, dir, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			t.Fatal(err)
		}
		n += v
	}
	return n
}
