package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// EBPFConfig sizes the kernel side.
type EBPFConfig struct {
	// BudgetPerDirection is how many payload bytes of each direction of a new flow
	// are copied to userspace (default 4096).
	BudgetPerDirection uint32
	// MaxFlows sizes the kernel's LRU flow map (default 262144).
	MaxFlows uint32
	// RingBytes sizes the ring buffer, a power of two (default 16 MiB).
	RingBytes uint32
	// ForceTC attaches with clsact/tc even where TCX exists (for tests of the
	// fallback, and for kernels whose TCX misbehaves).
	ForceTC bool
}

// eventHeaderLen is the size of struct event before its data (bpf/capture.c).
var eventHeaderLen = int(unsafe.Offsetof(tlsauditEvent{}.Data))

// kernelStatNames names the indexes of the stats array, in bpf/capture.c's order.
var kernelStatNames = []string{
	"packets", "bytes", "fast_path", "events", "ringbuf_full", "map_full",
	"not_ip", "not_tcp_udp", "fragments", "budget_done", "load_errors", "quiet",
}

// KernelOutcomes are the kernel counters that partition the packets it saw: each
// packet ends in exactly one of them, so their sum equals "packets" and no packet is
// lost silently.
var KernelOutcomes = []string{"fast_path", "events", "ringbuf_full", "map_full", "not_ip", "not_tcp_udp", "fragments", "load_errors", "quiet"}

// EBPF is the eBPF capture source: a TC program on each attached interface, an LRU flow
// map, and a ring buffer of first bytes read by Next. Attach and Detach may be called
// from any goroutine; Next and MarkDecided belong to the one goroutine that owns the
// flow table.
type EBPF struct {
	log   zerolog.Logger
	objs  tlsauditObjects
	rd    *ringbuf.Reader
	rec   ringbuf.Record
	mu    sync.Mutex
	links map[int][]io.Closer // by ifindex
	// Fallback attachment for kernels without TCX.
	tcFallback bool
}

// LoadEBPF loads the program and maps into the kernel. A verifier rejection is returned
// with the verifier's full log.
func LoadEBPF(cfg EBPFConfig, log zerolog.Logger) (*EBPF, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock limit: %w", err)
	}
	spec, err := loadTlsaudit()
	if err != nil {
		return nil, err
	}
	if cfg.BudgetPerDirection == 0 {
		cfg.BudgetPerDirection = 4096
	}
	if err := spec.Variables["budget_per_direction"].Set(cfg.BudgetPerDirection); err != nil {
		return nil, fmt.Errorf("set budget: %w", err)
	}
	if cfg.MaxFlows > 0 {
		spec.Maps["flows"].MaxEntries = cfg.MaxFlows
	}
	if cfg.RingBytes > 0 {
		spec.Maps["events"].MaxEntries = cfg.RingBytes
	}
	e := &EBPF{log: log.With().Str("component", "ebpf").Logger(), links: map[int][]io.Closer{}, tcFallback: cfg.ForceTC}
	if err := spec.LoadAndAssign(&e.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load eBPF program: %+v", ve)
		}
		return nil, fmt.Errorf("load eBPF program: %w", err)
	}
	e.rd, err = ringbuf.NewReader(e.objs.Events)
	if err != nil {
		e.objs.Close()
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	return e, nil
}

// Attach puts the program on ingress and egress of an interface: TCX where the kernel
// has it (6.6 and later), else a clsact qdisc with direct-action filters.
func (e *EBPF) Attach(ifindex int, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.links[ifindex]; ok {
		return nil
	}
	if !e.tcFallback {
		in, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: e.objs.TlsauditIngress, Attach: ebpf.AttachTCXIngress})
		if err == nil {
			out, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: e.objs.TlsauditEgress, Attach: ebpf.AttachTCXEgress})
			if err != nil {
				in.Close()
				return fmt.Errorf("attach tcx egress %s: %w", name, err)
			}
			e.links[ifindex] = []io.Closer{in, out}
			e.log.Info().Str("iface", name).Int("ifindex", ifindex).Str("mode", "tcx").Msg("attached")
			return nil
		}
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("attach tcx ingress %s: %w", name, err)
		}
		e.log.Info().Err(err).Msg("TCX not supported by this kernel; using clsact/tc")
		e.tcFallback = true
	}
	l, err := attachClsact(ifindex, e.objs.TlsauditIngress, e.objs.TlsauditEgress)
	if err != nil {
		return fmt.Errorf("attach tc %s: %w", name, err)
	}
	e.links[ifindex] = []io.Closer{l}
	e.log.Info().Str("iface", name).Int("ifindex", ifindex).Str("mode", "clsact").Msg("attached")
	return nil
}

// Detach removes the program from an interface (a vanished interface is fine).
func (e *EBPF) Detach(ifindex int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.links[ifindex] {
		if err := l.Close(); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.log.Warn().Err(err).Int("ifindex", ifindex).Msg("detach")
		}
	}
	delete(e.links, ifindex)
}

// Attached returns the ifindexes the program is on.
func (e *EBPF) Attached() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]int, 0, len(e.links))
	for i := range e.links {
		out = append(out, i)
	}
	return out
}

// Next reads the next ring-buffer event into p; p.Payload borrows the event's bytes
// until the next call. It returns ErrTimeout when no event came within PollTimeout,
// and an error wrapping ringbuf.ErrClosed after Close. now stamps the packet.
func (e *EBPF) Next(p *flow.Packet, now func() int64) error {
	e.rd.SetDeadline(time.Now().Add(PollTimeout))
	for {
		if err := e.rd.ReadInto(&e.rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return ErrTimeout
			}
			return err
		}
		if decodeEvent(e.rec.RawSample, p) {
			p.Timestamp = now()
			return nil
		}
	}
}

// Offsets of struct event's fields (bpf/capture.c), from the generated Go type.
var (
	evSaddr      = int(unsafe.Offsetof(tlsauditEvent{}.Saddr))
	evDaddr      = int(unsafe.Offsetof(tlsauditEvent{}.Daddr))
	evSport      = int(unsafe.Offsetof(tlsauditEvent{}.Sport))
	evDport      = int(unsafe.Offsetof(tlsauditEvent{}.Dport))
	evProto      = int(unsafe.Offsetof(tlsauditEvent{}.Proto))
	evFlags      = int(unsafe.Offsetof(tlsauditEvent{}.Flags))
	evIPv6       = int(unsafe.Offsetof(tlsauditEvent{}.Ipv6))
	evSeq        = int(unsafe.Offsetof(tlsauditEvent{}.Seq))
	evAck        = int(unsafe.Offsetof(tlsauditEvent{}.Ack))
	evIfindex    = int(unsafe.Offsetof(tlsauditEvent{}.Ifindex))
	evPayloadLen = int(unsafe.Offsetof(tlsauditEvent{}.PayloadLen))
	evCapLen     = int(unsafe.Offsetof(tlsauditEvent{}.CapLen))
	evWireLen    = int(unsafe.Offsetof(tlsauditEvent{}.WireLen))
)

// decodeEvent fills p from a raw event, after checking its length. p.Payload
// aliases b.
func decodeEvent(b []byte, p *flow.Packet) bool {
	if len(b) < eventHeaderLen {
		return false
	}
	le := binary.LittleEndian
	capLen := int(le32(b, evCapLen))
	if capLen > len(b)-eventHeaderLen {
		return false
	}
	*p = flow.Packet{
		SrcPort:    le.Uint16(b[evSport : evSport+2]),
		DstPort:    le.Uint16(b[evDport : evDport+2]),
		Proto:      b[evProto],
		Flags:      b[evFlags],
		IPv6:       b[evIPv6] == 1,
		Seq:        le32(b, evSeq),
		Ack:        le32(b, evAck),
		PayloadLen: int(le32(b, evPayloadLen)),
		WireLen:    int(le32(b, evWireLen)),
		Payload:    b[eventHeaderLen : eventHeaderLen+capLen],
		Ifindex:    int(le32(b, evIfindex)),
	}
	copy(p.Src[:], b[evSaddr:evSaddr+16])
	copy(p.Dst[:], b[evDaddr:evDaddr+16])
	return true
}

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off : off+4]) }

// MarkDecided tells the kernel that a flow's verdict is known: from now on its packets
// take the fast path. The flow's counters are kept (a packet counted between the
// lookup and the update may be lost: the kernel offers no atomic field update).
func (e *EBPF) MarkDecided(k flow.Key) error {
	key := kernelKey(k)
	var v tlsauditFlowVal
	if err := e.objs.Flows.Lookup(&key, &v); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil // evicted from the LRU map already
		}
		return err
	}
	v.Decided = 1
	return e.objs.Flows.Update(&key, &v, ebpf.UpdateExist)
}

// Forget removes a finished flow from the kernel map.
//
// It also moves the epoch on, so that no CPU's last-decided-flow slot keeps counting
// the forgotten flow's later packets where nothing reads them: they reach the slow
// path again and, without a flows entry, start over as a new flow. (A kernel increment
// racing this read-and-write can only be absorbed by it: the epoch still changes.)
func (e *EBPF) Forget(k flow.Key) {
	key := kernelKey(k)
	_ = e.objs.Flows.Delete(&key)
	var ep uint64
	if err := e.objs.Epoch.Lookup(uint32(0), &ep); err == nil {
		_ = e.objs.Epoch.Update(uint32(0), ep+1, ebpf.UpdateAny)
	}
}

// FlowCounters returns the kernel's packet and byte counters of a flow: its flows
// entry plus what the per-CPU caches of the last decided flow hold for it, not yet
// added there.
func (e *EBPF) FlowCounters(k flow.Key) (packets, bytes uint64, ok bool) {
	key := kernelKey(k)
	var v tlsauditFlowVal
	if err := e.objs.Flows.Lookup(&key, &v); err != nil {
		return 0, 0, false
	}
	packets, bytes = v.Packets, v.Bytes
	var perCPU []tlsauditFlowCache
	if err := e.objs.Cache.Lookup(uint32(0), &perCPU); err == nil {
		for _, c := range perCPU {
			if c.Valid == 1 && c.Key == key {
				packets += c.Packets
				bytes += c.Bytes
			}
		}
	}
	return packets, bytes, true
}

func kernelKey(k flow.Key) tlsauditFlowKey {
	return tlsauditFlowKey{A: k.A, B: k.B, PortA: k.PortA, PortB: k.PortB, Proto: k.Proto}
}

// KernelStats sums the kernel's per-CPU counters by name.
func (e *EBPF) KernelStats() (map[string]uint64, error) {
	var perCPU []tlsauditStatValues
	if err := e.objs.Stats.Lookup(uint32(0), &perCPU); err != nil {
		return nil, fmt.Errorf("read kernel stats: %w", err)
	}
	out := make(map[string]uint64, len(kernelStatNames))
	for i, name := range kernelStatNames {
		var sum uint64
		for _, cpu := range perCPU {
			sum += cpu.V[i]
		}
		out[name] = sum
	}
	return out, nil
}

// Close detaches from every interface, closes the ring buffer (unblocking Next) and
// unloads the program.
func (e *EBPF) Close() error {
	for _, i := range e.Attached() {
		e.Detach(i)
	}
	err := e.rd.Close()
	return errors.Join(err, e.objs.Close())
}
