package conformance

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsaudit/tlsaudit/pkg/capture"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// CaptureRun is what tlsaudit made of one capture, plus an independent look at the
// packets (gopacket's full decoder) that explains flows tlsaudit did not produce.
type CaptureRun struct {
	Path    string // relative to the corpus
	SHA256  string // of the file as stored, to find byte-identical captures
	Flows   []flow.Record
	Gzip    bool   // the file is gzip-compressed; the packet index reads a decompressed copy
	OpenErr string // tlsaudit could not open the file
	ReadErr string // tlsaudit stopped reading at damage; flows before it are kept
	Decode  capture.DecodeStats
	// Tuples describes every TCP/UDP connection gopacket finds, innermost headers
	// first, keyed by transport and direction-free endpoints.
	Tuples map[string]*TupleInfo
}

// TupleInfo is what the packet index knows about one connection.
type TupleInfo struct {
	Frames int
	// Decoded counts the frames tlsaudit's decoder turned into this connection's
	// packets.
	Decoded int
	// Why names, for frames tlsaudit's decoder did not attribute to the connection,
	// the encapsulation or link type in the way ("tunnel GRE", "link type PPP", …).
	Why map[string]int
	// First holds the first payload bytes (up to 16) each endpoint sent, keyed by
	// the sending endpoint ("ip:port").
	First map[string][]byte
}

// connKey is the index key of a connection.
func connKey(transport string, a, b netip.AddrPort) string {
	return transport + " " + tupleKey(a, b)
}

// RunCapture runs tlsaudit's offline pipeline over the capture at abs (the way
// `tlsaudit analyze` does) and indexes its packets. tmp is a directory for the
// decompressed copy of a gzip capture that the packet index (gopacket) reads.
func RunCapture(abs, rel, tmp string) *CaptureRun {
	run := &CaptureRun{Path: rel, Tuples: map[string]*TupleInfo{}}
	if data, err := os.ReadFile(abs); err == nil {
		run.SHA256 = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	file := abs
	if strings.HasSuffix(abs, ".gz") {
		run.Gzip = true
		out := filepath.Join(tmp, strings.NewReplacer("/", "_").Replace(rel)+".pcap")
		if err := gunzip(abs, out); err != nil {
			run.OpenErr = err.Error()
			return run
		}
		file = out
	}
	dec := capture.NewDecoder()
	table := flow.New(flow.Config{RawFingerprints: true}, func(r *flow.Record) { run.Flows = append(run.Flows, *r) })
	f, err := capture.OpenFile(abs, dec) // gzip too: tlsaudit reads it directly
	if err != nil {
		run.OpenErr = err.Error()
	} else {
		var p flow.Packet
		for {
			err := f.Next(&p)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					run.ReadErr = err.Error()
				}
				break
			}
			table.Add(&p)
		}
		f.Close()
		table.Flush()
		run.Decode = dec.Stats()
	}
	sort.SliceStable(run.Flows, func(i, j int) bool { return run.Flows[i].FirstSeen.Before(run.Flows[j].FirstSeen) })
	indexPackets(file, run)
	return run
}

func gunzip(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("gunzip %s: %w", src, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return fmt.Errorf("gunzip %s: %w", src, err)
	}
	return out.Close()
}

// indexPackets reads the capture with gopacket's full decoder, independently of
// tlsaudit, and records every TCP/UDP connection by its innermost headers, with the
// encapsulation that tlsaudit's decoder would have to look through.
func indexPackets(file string, run *CaptureRun) {
	fh, err := os.Open(file)
	if err != nil {
		return
	}
	defer fh.Close()
	var next func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
	var magic [4]byte
	if _, err := io.ReadFull(fh, magic[:]); err != nil {
		return
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return
	}
	if magic == [4]byte{0x0a, 0x0d, 0x0d, 0x0a} {
		r, err := pcapgo.NewNgReader(fh, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			d, ci, err := r.ReadPacketData()
			lt := r.LinkType()
			if len(ci.AncillaryData) > 0 {
				if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					lt = l
				}
			}
			return d, ci, lt, err
		}
	} else {
		r, err := pcapgo.NewReader(fh)
		if err != nil {
			return
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			d, ci, err := r.ReadPacketData()
			return d, ci, r.LinkType(), err
		}
	}
	dec := capture.NewDecoder()
	var p flow.Packet
	for {
		data, ci, lt, err := next()
		if err != nil {
			return
		}
		transport, a, b, why, payload, ok := innermost(data, lt)
		if !ok {
			continue
		}
		k := connKey(transport, a, b)
		ti := run.Tuples[k]
		if ti == nil {
			ti = &TupleInfo{Why: map[string]int{}, First: map[string][]byte{}}
			run.Tuples[k] = ti
		}
		ti.Frames++
		if _, seen := ti.First[a.String()]; !seen && len(payload) > 0 {
			ti.First[a.String()] = bytes.Clone(payload[:min(len(payload), 16)])
		}
		if dec.Decode(lt, data, ci.Timestamp.UnixNano(), ci.Length, &p) {
			pt := "tcp"
			if p.Proto == flow.UDP {
				pt = "udp"
			}
			if connKey(pt, flow.Endpoint(p.Src, p.SrcPort, p.IPv6), flow.Endpoint(p.Dst, p.DstPort, p.IPv6)) == k {
				ti.Decoded++
				continue
			}
		}
		if why == "" {
			why = "not decoded by tlsaudit"
		}
		ti.Why[why]++
	}
}

// innermost decodes a frame fully and returns its innermost TCP/UDP connection and
// what wraps it that tlsaudit's decoder does not look through: a tunnel, an
// unsupported link type, an IP fragment.
func innermost(data []byte, lt layers.LinkType) (transport string, a, b netip.AddrPort, why string, payload []byte, ok bool) {
	pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	var ip gopacket.NetworkLayer
	var tl gopacket.TransportLayer
	var tunnels []string
	nets := 0
	fragment := false
	for _, l := range pkt.Layers() {
		switch x := l.(type) {
		case *layers.IPv4:
			nets++
			ip = x
			if x.Flags&layers.IPv4MoreFragments != 0 || x.FragOffset != 0 {
				fragment = true
			}
		case *layers.IPv6:
			nets++
			ip = x
		case *layers.IPv6Fragment:
			fragment = true
		case *layers.TCP, *layers.UDP:
			tl = l.(gopacket.TransportLayer)
		case *layers.GRE:
			tunnels = append(tunnels, "GRE")
		case *layers.VXLAN:
			tunnels = append(tunnels, "VXLAN")
		case *layers.Geneve:
			tunnels = append(tunnels, "Geneve")
		case *layers.ERSPANII:
			tunnels = append(tunnels, "ERSPAN")
		case *layers.GTPv1U:
			tunnels = append(tunnels, "GTP-U")
		case *layers.PPPoE:
			tunnels = append(tunnels, "PPPoE")
		case *layers.MPLS:
			tunnels = append(tunnels, "MPLS")
		}
	}
	if ip == nil || tl == nil {
		return "", a, b, "", nil, false
	}
	payload = tl.LayerPayload()
	if nets > 1 && len(tunnels) == 0 {
		tunnels = append(tunnels, "IP-in-IP")
	}
	switch t := tl.(type) {
	case *layers.TCP:
		transport = "tcp"
		a, b = netip.AddrPortFrom(addrOf(ip, true), uint16(t.SrcPort)), netip.AddrPortFrom(addrOf(ip, false), uint16(t.DstPort))
	case *layers.UDP:
		transport = "udp"
		a, b = netip.AddrPortFrom(addrOf(ip, true), uint16(t.SrcPort)), netip.AddrPortFrom(addrOf(ip, false), uint16(t.DstPort))
	}
	switch {
	case len(tunnels) > 0:
		why = "tunnel " + strings.Join(dedupe(tunnels), "+")
	case !supportedLink(lt):
		why = "link type " + lt.String()
	case fragment:
		why = "IP fragment"
	}
	return transport, a, b, why, payload, true
}

// supportedLink mirrors the link types tlsaudit's decoder reads (pkg/capture).
func supportedLink(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeIPv4, layers.LinkTypeIPv6,
		layers.LinkTypeRaw, 12, 14:
		return true
	}
	return false
}

func addrOf(n gopacket.NetworkLayer, src bool) netip.Addr {
	var ipb []byte
	switch x := n.(type) {
	case *layers.IPv4:
		ipb = x.DstIP
		if src {
			ipb = x.SrcIP
		}
	case *layers.IPv6:
		ipb = x.DstIP
		if src {
			ipb = x.SrcIP
		}
	}
	a, _ := netip.AddrFromSlice(ipb)
	return a.Unmap()
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
