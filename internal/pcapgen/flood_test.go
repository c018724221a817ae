package pcapgen

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// TestWriteFlood reads each flood back through the real decoder and flow table: every
// generated flow must be its own flow, with the packets and payload the kind promises.
func TestWriteFlood(t *testing.T) {
	tests := []struct {
		opts        FloodOptions
		wantPackets int
		wantBytes   uint64 // payload bytes client to server, per flow
	}{
		{FloodOptions{Kind: FloodSYN, Flows: 300}, 300, 0},
		{FloodOptions{Kind: FloodUDP, Flows: 300}, 300, udpDatagram},
		{FloodOptions{Kind: FloodPayload, Flows: 300, PayloadBytes: 4000, Concurrent: 7}, 300 * (2 + 3), 4000},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Kind.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flood.pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(f)
			n, err := WriteFlood(w, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if n != tt.wantPackets {
				t.Errorf("%d packets written, want %d", n, tt.wantPackets)
			}
			clients := map[string]bool{}
			var payload []uint64
			table := flow.New(flow.Config{}, func(r *flow.Record) {
				clients[r.Client.Addr().String()] = true
				payload = append(payload, r.BytesToServer)
			})
			dec := capture.NewDecoder()
			var pkt flow.Packet
			if err := capture.ReadFile(path, dec, &pkt, table.Add); err != nil {
				t.Fatal(err)
			}
			table.Flush()
			if got := dec.Stats().Decoded; got != uint64(n) {
				t.Errorf("%d packets decoded, want %d", got, n)
			}
			if len(payload) != tt.opts.Flows || len(clients) != tt.opts.Flows {
				t.Fatalf("%d flows from %d clients, want %d of each", len(payload), len(clients), tt.opts.Flows)
			}
			// IP bytes client to server: headers plus the payload.
			hdr := uint64(40)
			if tt.opts.Kind == FloodUDP {
				hdr = 28
			}
			segments := max(1, (tt.wantBytes+mss-1)/mss)
			if tt.opts.Kind == FloodPayload {
				segments++ // the SYN
			}
			for _, b := range payload {
				if want := segments*hdr + tt.wantBytes; b != want {
					t.Fatalf("a flow carried %d IP bytes to the server, want %d", b, want)
				}
			}
		})
	}
}
