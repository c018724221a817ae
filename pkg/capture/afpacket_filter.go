package capture

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// The AF_PACKET socket filter is classic BPF: no maps, so the flows it drops are
// written into the program, which is replaced (SO_ATTACH_FILTER) whenever the list
// changes. Its layout:
//
//	interfaces  ifindex in the attached set, else drop (one compare per interface)
//	ethertypes  IPv4, IPv6 or 802.1Q, else drop
//	--- the rest only with skipped flows ---
//	parse       Ethernet link type (ARPHRD_ETHER), untagged (an accelerated VLAN tag is
//	            out of the frame already), IPv4 without fragmentation or IPv6 without
//	            extension headers, TCP or UDP, long enough for every byte read below;
//	            TCP with SYN, FIN or RST: pass; anything else it cannot read: pass
//	chains      one each for TCP/IPv4, UDP/IPv4, TCP/IPv6 and UDP/IPv6; per flow: the
//	            ports word forward, then both addresses (one word each for IPv4, four
//	            for IPv6); then the same reversed
//	match       a listed flow's packet: pass one in sampleEvery (SKF_AD_RANDOM), drop
//	            the rest
//
// The ports word (source port << 16 | destination port) stays in A through a chain, so
// a packet of an unlisted flow costs two compares per listed flow. Jumps that leave a
// flow's block go through an unconditional jump, whose offset is 32 bits; conditional
// jumps (8-bit offsets) stay inside a block, so no list size can overflow them.

// Offsets in an untagged Ethernet frame.
const (
	ethTypeOff   = 12
	ipOff        = 14
	ip4FragOff   = ipOff + 6 // flags and fragment offset
	ip4ProtoOff  = ipOff + 9
	ip4SrcOff    = ipOff + 12
	ip4DstOff    = ipOff + 16
	ip6NextOff   = ipOff + 6
	ip6SrcOff    = ipOff + 8
	ip6DstOff    = ipOff + 24
	ip6L4Off     = ipOff + 40
	tcpFlagsOff  = 13 // in the TCP header
	tcpNeedBytes = 14 // TCP header bytes read: ports and flags
	udpNeedBytes = 4  // UDP header bytes read: ports
)

// Classic BPF scratch slots the filter uses.
const (
	slotLen   = 0 // frame length
	slotPorts = 1 // source port << 16 | destination port
	slotSrc   = 2 // source address, one word (IPv4) or four (IPv6)
	slotDst   = 6 // destination address, likewise
	slots     = 10
)

const (
	arphrdEther   = 1       // ARPHRD_ETHER: frames start with an Ethernet header
	filterPass    = 1 << 18 // accept, with the whole frame
	tcpEndFlags   = uint32(flow.FlagSYN | flow.FlagFIN | flow.FlagRST)
	ip4FragMask   = 0x3fff // more-fragments flag and fragment offset
	maxFilterInsn = 4096   // BPF_MAXINSNS
)

// filterAsm assembles a classic BPF program with symbolic jump targets.
type filterAsm struct {
	prog   []bpf.Instruction
	labels []int // label → instruction index; -1 until placed
	fixups []fixup
}

type label int

// next as a jump target means the following instruction.
const next label = -1

type fixup struct {
	at     int
	jt, jf label // conditional jump; jt alone for an unconditional one
	uncond bool
}

func (a *filterAsm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *filterAsm) place(l label) { a.labels[l] = len(a.prog) }

func (a *filterAsm) emit(ins ...bpf.Instruction) { a.prog = append(a.prog, ins...) }

// jumpIf jumps to t when A cond val holds, else to f.
func (a *filterAsm) jumpIf(cond bpf.JumpTest, val uint32, t, f label) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), jt: t, jf: f})
	a.prog = append(a.prog, bpf.JumpIf{Cond: cond, Val: val})
}

// jumpIfX jumps to t when A cond X holds, else to f.
func (a *filterAsm) jumpIfX(cond bpf.JumpTest, t, f label) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), jt: t, jf: f})
	a.prog = append(a.prog, bpf.JumpIfX{Cond: cond})
}

// jump jumps to l unconditionally (32-bit offset).
func (a *filterAsm) jump(l label) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), jt: l, uncond: true})
	a.prog = append(a.prog, bpf.Jump{})
}

// finish resolves the jumps; a conditional jump further than 255 instructions or any
// backward jump is an error (a bug in the generator, not in its input).
func (a *filterAsm) finish() ([]bpf.Instruction, error) {
	skip := func(from int, l label) (uint32, error) {
		if l == next {
			return 0, nil
		}
		to := a.labels[l]
		if to <= from {
			return 0, fmt.Errorf("filter: jump from %d to %d is not forward", from, to)
		}
		return uint32(to - from - 1), nil
	}
	for _, f := range a.fixups {
		st, err := skip(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		if f.uncond {
			a.prog[f.at] = bpf.Jump{Skip: st}
			continue
		}
		sf, err := skip(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		if st > 255 || sf > 255 {
			return nil, fmt.Errorf("filter: conditional jump at %d too far (%d, %d)", f.at, st, sf)
		}
		switch ins := a.prog[f.at].(type) {
		case bpf.JumpIf:
			ins.SkipTrue, ins.SkipFalse = uint8(st), uint8(sf)
			a.prog[f.at] = ins
		case bpf.JumpIfX:
			ins.SkipTrue, ins.SkipFalse = uint8(st), uint8(sf)
			a.prog[f.at] = ins
		}
	}
	if len(a.prog) > maxFilterInsn {
		return nil, fmt.Errorf("filter: %d instructions, more than %d", len(a.prog), maxFilterInsn)
	}
	return a.prog, nil
}

// skipFilter returns the socket filter: frames of the interfaces, IPv4, IPv6 or
// 802.1Q, except the packets of the skipped flows (in the order given, heaviest first
// to match soonest) that are neither TCP SYN, FIN nor RST; of those it passes one in
// sampleEvery (a power of two; 0 or 1 drops them all), so that the flow table still
// sees that the flow is alive and how busy it is.
func skipFilter(ifindexes []int, skip []flow.Key, sampleEvery uint32) ([]bpf.Instruction, error) {
	var a filterAsm
	pass, drop := a.newLabel(), a.newLabel()

	// Interfaces, then ethertypes (skb->protocol, so an accelerated VLAN tag does not
	// hide the IP frame).
	proto := a.newLabel()
	a.emit(bpf.LoadExtension{Num: bpf.ExtInterfaceIndex})
	for _, idx := range ifindexes {
		a.jumpIf(bpf.JumpEqual, uint32(idx), proto, next)
	}
	a.emit(bpf.RetConstant{Val: 0})
	a.place(proto)
	ok := a.newLabel()
	a.emit(bpf.LoadExtension{Num: bpf.ExtProto})
	a.jumpIf(bpf.JumpEqual, 0x0800, ok, next)
	a.jumpIf(bpf.JumpEqual, 0x86dd, ok, next)
	a.jumpIf(bpf.JumpEqual, 0x8100, ok, next)
	a.emit(bpf.RetConstant{Val: 0})
	a.place(ok)
	// One chain per IP version and transport, each flow in its own.
	var chains [2][2][]flow.Key // [IPv6][UDP]
	for _, k := range skip {
		v6, udp := 0, 0
		if !isV4Mapped(k.A) || !isV4Mapped(k.B) {
			v6 = 1
		}
		if k.Proto == flow.UDP {
			udp = 1
		}
		chains[v6][udp] = append(chains[v6][udp], k)
	}
	if len(skip) == 0 {
		a.emit(bpf.RetConstant{Val: filterPass})
		return a.finish()
	}

	// Parse, passing what the chains cannot read. Every packet read below is inside
	// the frame: an out-of-bounds load would end the filter with "drop".
	ip4, ip6 := a.newLabel(), a.newLabel()
	localPass := a.newLabel()
	// The kernel's checker (check_load_and_stores) follows the program in order and
	// does not reset at a return, so a slot must be stored before any instruction that
	// precedes, in order, one that reads it: all are stored first.
	a.emit(bpf.LoadExtension{Num: bpf.ExtLen})
	for n := range slots {
		a.emit(bpf.StoreScratch{Src: bpf.RegA, N: n})
	}
	a.emit(bpf.LoadExtension{Num: bpf.ExtLinkLayerType})
	a.jumpIf(bpf.JumpEqual, arphrdEther, next, localPass)
	a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
	a.jumpIf(bpf.JumpGreaterOrEqual, ipOff, next, localPass)
	a.emit(bpf.LoadAbsolute{Off: ethTypeOff, Size: 2})
	a.jumpIf(bpf.JumpEqual, 0x0800, ip4, next)
	a.jumpIf(bpf.JumpEqual, 0x86dd, ip6, localPass)
	a.place(localPass)
	a.emit(bpf.RetConstant{Val: filterPass})

	var chainAt [2][2]label
	for v6 := range chainAt {
		for udp := range chainAt[v6] {
			chainAt[v6][udp] = a.newLabel()
		}
	}
	// IPv4: the header length comes from IHL (X = 4*(ip[0]&0xf)).
	a.place(ip4)
	tcp4, udp4 := a.newLabel(), a.newLabel()
	a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
	a.jumpIf(bpf.JumpGreaterOrEqual, ipOff+20, next, pass)
	a.emit(bpf.LoadAbsolute{Off: ip4FragOff, Size: 2})
	a.jumpIf(bpf.JumpBitsSet, ip4FragMask, pass, next)
	a.emit(bpf.LoadAbsolute{Off: ip4ProtoOff, Size: 1})
	a.jumpIf(bpf.JumpEqual, uint32(flow.TCP), tcp4, next)
	a.jumpIf(bpf.JumpEqual, uint32(flow.UDP), udp4, pass)
	for udp, tcp := range []bool{true, false} {
		need := uint32(udpNeedBytes)
		if tcp {
			a.place(tcp4)
			need = tcpNeedBytes
		} else {
			a.place(udp4)
		}
		a.emit(
			bpf.LoadMemShift{Off: ipOff},
			bpf.TXA{},
		)
		a.jumpIf(bpf.JumpGreaterOrEqual, 20, next, pass) // IHL < 5: malformed
		a.emit(
			bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: ipOff + need},
			bpf.LoadScratch{Dst: bpf.RegX, N: slotLen},
		)
		a.jumpIfX(bpf.JumpGreaterThan, pass, next) // the transport header is not all there
		a.emit(bpf.LoadMemShift{Off: ipOff})
		if tcp {
			a.emit(bpf.LoadIndirect{Off: ipOff + tcpFlagsOff, Size: 1})
			a.jumpIf(bpf.JumpBitsSet, tcpEndFlags, pass, next)
		}
		a.emit(
			bpf.LoadAbsolute{Off: ip4SrcOff, Size: 4},
			bpf.StoreScratch{Src: bpf.RegA, N: slotSrc},
			bpf.LoadAbsolute{Off: ip4DstOff, Size: 4},
			bpf.StoreScratch{Src: bpf.RegA, N: slotDst},
			bpf.LoadIndirect{Off: ipOff, Size: 4},
			bpf.StoreScratch{Src: bpf.RegA, N: slotPorts},
		)
		a.jump(chainAt[0][udp])
	}

	// IPv6: the fixed 40-byte header only; extension headers pass.
	a.place(ip6)
	tcp6, udp6 := a.newLabel(), a.newLabel()
	a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
	a.jumpIf(bpf.JumpGreaterOrEqual, ip6L4Off, next, pass)
	a.emit(bpf.LoadAbsolute{Off: ip6NextOff, Size: 1})
	a.jumpIf(bpf.JumpEqual, uint32(flow.TCP), tcp6, next)
	a.jumpIf(bpf.JumpEqual, uint32(flow.UDP), udp6, pass)
	for udp, tcp := range []bool{true, false} {
		need := uint32(udpNeedBytes)
		if tcp {
			a.place(tcp6)
			need = tcpNeedBytes
		} else {
			a.place(udp6)
		}
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
		a.jumpIf(bpf.JumpGreaterOrEqual, ip6L4Off+need, next, pass)
		if tcp {
			a.emit(bpf.LoadAbsolute{Off: ip6L4Off + tcpFlagsOff, Size: 1})
			a.jumpIf(bpf.JumpBitsSet, tcpEndFlags, pass, next)
		}
		for i := range uint32(4) {
			a.emit(
				bpf.LoadAbsolute{Off: ip6SrcOff + 4*i, Size: 4},
				bpf.StoreScratch{Src: bpf.RegA, N: slotSrc + int(i)},
				bpf.LoadAbsolute{Off: ip6DstOff + 4*i, Size: 4},
				bpf.StoreScratch{Src: bpf.RegA, N: slotDst + int(i)},
			)
		}
		a.emit(
			bpf.LoadAbsolute{Off: ip6L4Off, Size: 4},
			bpf.StoreScratch{Src: bpf.RegA, N: slotPorts},
		)
		a.jump(chainAt[1][udp])
	}
	a.place(pass)
	a.emit(bpf.RetConstant{Val: filterPass})

	match := a.newLabel()
	for v6, byProto := range chains {
		words := 1
		if v6 == 1 {
			words = 4
		}
		for udp, keys := range byProto {
			a.place(chainAt[v6][udp])
			if len(keys) == 0 {
				a.emit(bpf.RetConstant{Val: filterPass})
				continue
			}
			a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotPorts})
			for _, k := range keys {
				flowBlock(&a, k, words, match)
			}
			a.emit(bpf.RetConstant{Val: filterPass})
		}
	}

	a.place(match)
	if sampleEvery > 1 {
		a.emit(bpf.LoadExtension{Num: bpf.ExtRand})
		a.jumpIf(bpf.JumpBitsSet, sampleEvery-1, drop, next)
		a.emit(bpf.RetConstant{Val: filterPass})
	}
	a.place(drop)
	a.emit(bpf.RetConstant{Val: 0})
	return a.finish()
}

// flowBlock matches one flow in both directions, with A holding the packet's ports
// word on entry and on leaving for the next block; a match jumps to match. The
// addresses are words 32-bit words (1 for IPv4, 4 for IPv6) in the scratch slots from
// slotSrc and slotDst: a scratch load is one eBPF instruction, a packet load several,
// and the kernel charges the converted program to the socket's option memory
// (net.core.optmem_max), the old and the new filter together while one replaces the
// other.
func flowBlock(a *filterAsm, k flow.Key, words int, match label) {
	addr := func(b [16]byte) []uint32 {
		w := make([]uint32, 0, words)
		for i := 16 - 4*words; i < 16; i += 4 {
			w = append(w, uint32(b[i])<<24|uint32(b[i+1])<<16|uint32(b[i+2])<<8|uint32(b[i+3]))
		}
		return w
	}
	ka, kb := addr(k.A), addr(k.B)
	dir := func(src, dst []uint32, ports uint32, miss label) {
		restore := a.newLabel()
		a.jumpIf(bpf.JumpEqual, ports, next, miss)
		for i, w := range src {
			a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotSrc + i})
			a.jumpIf(bpf.JumpEqual, w, next, restore)
		}
		hit := a.newLabel()
		for i, w := range dst {
			a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotDst + i})
			if i == len(dst)-1 {
				a.jumpIf(bpf.JumpEqual, w, hit, restore)
			} else {
				a.jumpIf(bpf.JumpEqual, w, next, restore)
			}
		}
		a.place(hit)
		a.jump(match)
		a.place(restore)
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: slotPorts})
	}
	rev, out := a.newLabel(), a.newLabel()
	dir(ka, kb, uint32(k.PortA)<<16|uint32(k.PortB), rev)
	a.place(rev)
	dir(kb, ka, uint32(k.PortB)<<16|uint32(k.PortA), out)
	a.place(out)
}

func isV4Mapped(b [16]byte) bool {
	for _, c := range b[:10] {
		if c != 0 {
			return false
		}
	}
	return b[10] == 0xff && b[11] == 0xff
}
