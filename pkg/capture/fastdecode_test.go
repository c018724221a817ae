package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// fastShapes are frames of the shapes decodeFast takes, and of near shapes it must
// leave to the general path (options, fragments, tunnels, lengths that lie).
func fastShapes(t testing.TB) []struct {
	lt    layers.LinkType
	frame []byte
} {
	eth := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: et}
	}
	udp := func(sport, dport layers.UDPPort) *layers.UDP { return &layers.UDP{SrcPort: sport, DstPort: dport} }
	v4 := func(proto layers.IPProtocol) *layers.IPv4 {
		ip := ipv4()
		ip.Protocol = proto
		return ip
	}
	withOptions := ipv4()
	withOptions.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	fragment := ipv4()
	fragment.Flags = layers.IPv4MoreFragments
	tcpOpts := tcp()
	tcpOpts.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
	syn := tcp()
	syn.SYN, syn.PSH, syn.FIN, syn.RST = true, false, true, true
	v6udp := ipv6()
	v6udp.NextHeader = layers.IPProtocolUDP
	hello := gopacket.Payload("hello, world")
	shapes := []struct {
		lt    layers.LinkType
		frame []byte
	}{
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), ipv4(), tcp(), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), ipv4(), syn)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), ipv4(), tcpOpts, hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), withOptions, tcp(), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), fragment, tcp(), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv6), ipv6(), tcp(), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv6), v6udp, udp(5353, 53), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), v4(layers.IPProtocolUDP), udp(40000, 443), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), v4(layers.IPProtocolUDP), udp(40000, 4789), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), v4(layers.IPProtocolUDP), udp(6081, 40000), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeIPv4), v4(layers.IPProtocolICMPv4), hello)},
		{layers.LinkTypeEthernet, frame(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ipv4(), tcp(), hello)},
		{layers.LinkTypeRaw, frame(t, ipv4(), tcp(), hello)},
		{layers.LinkTypeRaw, frame(t, ipv6(), tcp(), hello)},
		{layers.LinkTypeIPv4, frame(t, ipv4(), tcp(), hello)},
		{layers.LinkTypeLinuxSLL, append(sll(0x0800), frame(t, ipv4(), tcp(), hello)...)},
		{layers.LinkTypeLinuxSLL, append(sll(0x86dd), frame(t, ipv6(), tcp(), hello)...)},
	}
	// Ethernet padding, a snapped tail, an IP length past the frame, a header cut short.
	base := shapes[0].frame
	padded := append(append([]byte{}, base...), 0, 0, 0, 0, 0, 0)
	snapped := base[:len(base)-5]
	short := base[:14+20+10]
	shapes = append(shapes, []struct {
		lt    layers.LinkType
		frame []byte
	}{{layers.LinkTypeEthernet, padded}, {layers.LinkTypeEthernet, snapped}, {layers.LinkTypeEthernet, short}}...)
	return shapes
}

// sll is a Linux cooked header (packet type 0, ARPHRD_ETHER, a 6-byte address) for
// protocol et; gopacket cannot serialize one.
func sll(et uint16) []byte {
	return append([]byte{0, 0, 0, 1, 0, 6}, append(append([]byte(mac), 0, 0), byte(et>>8), byte(et))...)
}

// recordedFrames returns up to n frames of each capture in testdata/pcaps, with their
// link types: real frames from real software.
func recordedFrames(t testing.TB, n int) (lts []layers.LinkType, frames [][]byte) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.pcap"))
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			continue
		}
		for i := 0; i < n; i++ {
			data, _, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			lts, frames = append(lts, r.LinkType()), append(frames, data)
		}
	}
	return lts, frames
}

// decodeBoth decodes frame on both paths and fails when they disagree on anything:
// whether a packet came out, every field of it, and the counters.
func decodeBoth(t *testing.T, fast, general *Decoder, lt layers.LinkType, frame []byte) (tookFast bool) {
	t.Helper()
	var pf, pg flow.Packet
	before := fast.stats
	tookFast = fast.decodeFast(lt, frame, 7, &pf)
	if !tookFast {
		if fast.stats != before {
			t.Fatalf("decodeFast declined but counted: %+v -> %+v", before, fast.stats)
		}
		return false
	}
	okG := general.decodeGeneral(lt, frame, 7, len(frame), &pg)
	if !okG {
		t.Fatalf("fast path decoded a frame the general path refuses (%+v): %x", general.stats, frame)
	}
	if !bytes.Equal(pf.Payload, pg.Payload) {
		t.Fatalf("payload %x, general path %x", pf.Payload, pg.Payload)
	}
	pf.Payload, pg.Payload = nil, nil
	if !reflect.DeepEqual(pf, pg) {
		t.Fatalf("packet\n%+v\ngeneral path\n%+v", pf, pg)
	}
	if fast.stats.Decoded-before.Decoded != 1 {
		t.Fatalf("decoded counter %d -> %d", before.Decoded, fast.stats.Decoded)
	}
	return true
}

// TestDecodeFastMatchesGeneral: on hand-built frames of every shape near the fast
// path's and on real recorded frames, the fast path either declines or gives exactly
// the general path's packet; and it does take the common shapes.
func TestDecodeFastMatchesGeneral(t *testing.T) {
	fast, general := NewDecoder(), NewDecoder()
	took := 0
	for i, s := range fastShapes(t) {
		if decodeBoth(t, fast, general, s.lt, s.frame) {
			took++
		} else if i < 3 {
			t.Errorf("shape %d: the fast path declined a plain Ethernet/IPv4/TCP frame", i)
		}
	}
	lts, frames := recordedFrames(t, 50)
	recorded := 0
	for i := range frames {
		if decodeBoth(t, fast, general, lts[i], frames[i]) {
			recorded++
		}
	}
	t.Logf("fast path took %d of %d shapes and %d of %d recorded frames", took, len(fastShapes(t)), recorded, len(frames))
	if recorded < len(frames)/2 {
		t.Errorf("fast path took only %d of %d recorded frames", recorded, len(frames))
	}
}

func FuzzDecodeFastMatchesGeneral(f *testing.F) {
	for _, s := range fastShapes(f) {
		f.Add(uint16(s.lt), s.frame)
	}
	lts, frames := recordedFrames(f, 3)
	for i := range frames {
		f.Add(uint16(lts[i]), frames[i])
	}
	fast, general := NewDecoder(), NewDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		decodeBoth(t, fast, general, layers.LinkType(lt), frame)
	})
}

func BenchmarkDecodeGeneral(b *testing.B) {
	f := frame(b, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ipv4(), tcp(), gopacket.Payload(make([]byte, 1400)))
	d := NewDecoder()
	var p flow.Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		d.decodeGeneral(layers.LinkTypeEthernet, f, 1, len(f), &p)
	}
}
