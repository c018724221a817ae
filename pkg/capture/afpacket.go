package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rs/zerolog"
	"golang.org/x/net/bpf"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// ErrClosed is returned by a live source's Next once Close was called.
var ErrClosed = errors.New("capture source closed")

// ErrTimeout is returned by a live source's Next when no packet came within
// PollTimeout, so that the caller can do periodic work on the same goroutine.
var ErrTimeout = os.ErrDeadlineExceeded

// PollTimeout is how long a live source's Next waits before returning ErrTimeout.
const PollTimeout = 200 * time.Millisecond

// maxFilterInterfaces bounds the interfaces one classic BPF filter can name (its jump
// offsets are one byte).
const maxFilterInterfaces = 200

// AFPacket is the fallback live source: one TPACKET_V3 socket bound to every
// interface, with a classic BPF filter in the kernel that passes only IPv4/IPv6 frames
// of the chosen interfaces.
//
// Classic BPF has no maps, so the filter cannot look decided flows up as the eBPF
// source does; instead it names a short list of them (SkipConfig.MaxFlows, the
// busiest decided flows, chosen by Reselect about once a second) and drops their
// packets in the kernel, except TCP SYN, FIN and RST (so that the flow table sees
// flows end and 5-tuples reused) and one packet in SampleEvery (so that it sees the
// flow alive and how busy it is). Every other decided flow's packets still reach
// userspace and are only counted there.
//
// Counting: packets the filter drops reach neither the flow table nor the socket's
// counters, so a skipped flow's packets and bytes (the flow record, and
// tlsaudit_flow_bytes_total) are undercounted while it is skipped: of its packets
// after it was listed, only the sampled ones and its SYN, FIN and RST are counted,
// about 1/SampleEvery. SkipStats says how many flows are skipped.
//
// Attach, Detach, Attached and SkipStats may be called from any goroutine; Next,
// Reselect and Forget belong to the goroutine that owns the flow table.
type AFPacket struct {
	log    zerolog.Logger
	tp     *afpacket.TPacket
	dec    *Decoder
	closed atomic.Bool
	// reading is held by Next while it uses the ring; Close waits for it, because
	// unmapping the ring under a reader would crash it.
	reading sync.Mutex
	mu      sync.Mutex
	links   map[int]layers.LinkType // attached ifindex → link type

	// The skip list: written by the table's goroutine under mu, read by it without.
	skipCfg    SkipConfig
	skip       map[flow.Key]*skipEntry
	skipOrder  []flow.Key // the filter's list, heaviest first; read under mu
	skipStats  SkipStats
	lastSelect int64 // Unix ns of the previous Reselect
	cands      []skipCandidate
}

// OpenAFPacket opens the socket with a filter that passes nothing until Attach.
func OpenAFPacket(skip SkipConfig, log zerolog.Logger) (*AFPacket, error) {
	tp, err := afpacket.NewTPacket(
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(1<<20),
		afpacket.OptNumBlocks(32),
		afpacket.OptPollTimeout(PollTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("open AF_PACKET socket: %w", err)
	}
	a := &AFPacket{
		log: log.With().Str("component", "afpacket").Logger(), tp: tp, dec: NewDecoder(), links: map[int]layers.LinkType{},
		skipCfg: skip.withDefaults(), skip: map[flow.Key]*skipEntry{},
	}
	if err := a.refilter(); err != nil {
		tp.Close()
		return nil, err
	}
	return a, nil
}

// Attach starts passing the interface's frames.
func (a *AFPacket) Attach(ifindex int, name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.links[ifindex]; ok {
		return nil
	}
	if len(a.links) >= maxFilterInterfaces {
		return fmt.Errorf("attach %s: more than %d interfaces", name, maxFilterInterfaces)
	}
	lt := layers.LinkTypeEthernet
	if ifc, err := net.InterfaceByIndex(ifindex); err == nil && len(ifc.HardwareAddr) == 0 && ifc.Flags&net.FlagLoopback == 0 {
		lt = layers.LinkTypeRaw // tun, WireGuard, …: IP without a link header
	}
	a.links[ifindex] = lt
	if err := a.refilterLocked(); err != nil {
		delete(a.links, ifindex)
		return err
	}
	a.log.Info().Str("iface", name).Int("ifindex", ifindex).Msg("attached")
	return nil
}

// Detach stops passing the interface's frames.
func (a *AFPacket) Detach(ifindex int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.links, ifindex)
	if err := a.refilterLocked(); err != nil {
		a.log.Warn().Err(err).Int("ifindex", ifindex).Msg("detach")
	}
}

// Attached returns the ifindexes whose frames pass.
func (a *AFPacket) Attached() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]int, 0, len(a.links))
	for i := range a.links {
		out = append(out, i)
	}
	return out
}

func (a *AFPacket) refilter() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refilterLocked()
}

func (a *AFPacket) refilterLocked() error {
	idx := make([]int, 0, len(a.links))
	for i := range a.links {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	prog, err := skipFilter(idx, a.skipOrder, a.skipCfg.SampleEvery)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assemble filter: %w", err)
	}
	if err := a.tp.SetBPF(raw); err != nil {
		return fmt.Errorf("set filter: %w", err)
	}
	return nil
}

// Next reads frames until one decodes into a TCP or UDP packet. p.Payload borrows the
// ring's memory until the next call. It returns ErrTimeout when nothing came within
// PollTimeout, and ErrClosed after Close.
func (a *AFPacket) Next(p *flow.Packet, now func() int64) error {
	a.reading.Lock()
	defer a.reading.Unlock()
	for {
		if a.closed.Load() {
			return ErrClosed
		}
		data, ci, err := a.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded) {
				return ErrTimeout
			}
			if a.closed.Load() {
				return ErrClosed
			}
			return fmt.Errorf("read AF_PACKET: %w", err)
		}
		a.mu.Lock()
		lt, ok := a.links[ci.InterfaceIndex]
		a.mu.Unlock()
		if !ok {
			continue // a frame that passed the previous filter
		}
		if a.dec.Decode(lt, data, now(), ci.Length, p) {
			p.Ifindex = ci.InterfaceIndex
			if p.Proto == flow.TCP && p.Flags&(flow.FlagSYN|flow.FlagFIN|flow.FlagRST) != 0 && len(a.skip) > 0 {
				// A listed connection ends or its 5-tuple is reused: pass all its
				// packets again before the new connection's first bytes come.
				a.Forget(flow.KeyOf(p))
			}
			return nil
		}
	}
}

// SocketStats returns the kernel's packet and drop counts for the socket.
func (a *AFPacket) SocketStats() (packets, drops uint64, err error) {
	_, v3, err := a.tp.SocketStats()
	if err != nil {
		return 0, 0, err
	}
	return uint64(v3.Packets()), uint64(v3.Drops()), nil
}

// DecodeStats returns the decoder's counters.
func (a *AFPacket) DecodeStats() DecodeStats { return a.dec.Stats() }

// Close closes the socket once a blocked Next has returned ErrClosed, within the
// poll timeout.
func (a *AFPacket) Close() error {
	a.closed.Store(true)
	a.reading.Lock()
	defer a.reading.Unlock()
	a.tp.Close()
	return nil
}
