// Command udpburst sends a burst of UDP datagrams, each to a different destination
// port so that every datagram starts a new flow, at a target rate, and prints how many
// it sent and how fast. Tests use it to flood the capture engine with new flows.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	dst := flag.String("dst", "", "destination IP")
	n := flag.Int("n", 100000, "datagrams to send")
	rate := flag.Int("rate", 100000, "target datagrams per second (0 = as fast as possible)")
	size := flag.Int("size", 64, "payload bytes")
	flag.Parse()
	ip := net.ParseIP(*dst)
	if ip == nil {
		fmt.Fprintln(os.Stderr, "udpburst: -dst must be an IP address")
		os.Exit(2)
	}
	conns := make([]*net.UDPConn, 4) // several source ports: more distinct flows
	for i := range conns {
		c, err := net.ListenUDP("udp", nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpburst:", err)
			os.Exit(1)
		}
		conns[i] = c
	}
	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = byte(i*13 + 1)
	}
	start := time.Now()
	sent := 0
	addr := &net.UDPAddr{IP: ip}
	for i := 0; i < *n; i++ {
		addr.Port = 1024 + i%60000
		if _, err := conns[(i/60000)%len(conns)].WriteToUDP(payload, addr); err == nil {
			sent++
		}
		if *rate > 0 && i%1000 == 999 {
			if ahead := time.Duration(i+1)*time.Second/time.Duration(*rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	el := time.Since(start)
	fmt.Printf("sent %d in %v (%.0f/s)\n", sent, el.Round(time.Millisecond), float64(sent)/el.Seconds())
}
