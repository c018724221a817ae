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
// of the chosen interfaces. Unlike the eBPF source it cannot skip decided flows in the
// kernel: their packets reach userspace and are only counted there.
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
}

// OpenAFPacket opens the socket with a filter that passes nothing until Attach.
func OpenAFPacket(log zerolog.Logger) (*AFPacket, error) {
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
	a := &AFPacket{log: log.With().Str("component", "afpacket").Logger(), tp: tp, dec: NewDecoder(), links: map[int]layers.LinkType{}}
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
	raw, err := bpf.Assemble(interfaceFilter(idx))
	if err != nil {
		return fmt.Errorf("assemble filter: %w", err)
	}
	if err := a.tp.SetBPF(raw); err != nil {
		return fmt.Errorf("set filter: %w", err)
	}
	return nil
}

// interfaceFilter passes IPv4, IPv6 and VLAN-tagged frames received or sent on one of
// the interfaces, and drops everything else in the kernel.
func interfaceFilter(ifindexes []int) []bpf.Instruction {
	n := len(ifindexes)
	prog := []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtInterfaceIndex}}
	for i, idx := range ifindexes {
		// On a match jump over the remaining compares and the drop, to the protocol check.
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(idx), SkipTrue: uint8(n - i)})
	}
	prog = append(prog,
		bpf.RetConstant{Val: 0},
		bpf.LoadExtension{Num: bpf.ExtProto},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8100, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 1 << 18},
	)
	return prog
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
