package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Wire constants of ctnetlink (include/uapi/linux/netfilter/nfnetlink_conntrack.h).
const (
	nfnlSubsysCTNetlink = 1
	ipctnlMsgCTNew      = 0
	ipctnlMsgCTGet      = 1

	ctaTupleOrig  = 1
	ctaTupleReply = 2
	ctaStatus     = 3

	ctaTupleIP    = 1
	ctaTupleProto = 2

	ctaIPv4Src = 1
	ctaIPv4Dst = 2
	ctaIPv6Src = 3
	ctaIPv6Dst = 4

	ctaProtoNum     = 1
	ctaProtoSrcPort = 2
	ctaProtoDstPort = 3

	nlaFNested    = 0x8000
	nlaFNetOrder  = 0x4000
	nlaTypeMask   = ^uint16(nlaFNested | nlaFNetOrder)
	sizeofNfgen   = 4
	sizeofNlAttr  = 4
	statusDstNAT  = 1 << 5 // IPS_DST_NAT
	replyBufBytes = 4096
)

// ErrNotFound is returned when the tracker has no entry for the tuple.
var ErrNotFound = errors.New("conntrack: no such connection")

// ErrMalformed is returned for a reply that does not parse as a ctnetlink entry.
var ErrMalformed = errors.New("conntrack: malformed entry")

// Tuple is one direction of a connection as the tracker keys it.
type Tuple struct {
	Proto    uint8 // unix.IPPROTO_TCP or unix.IPPROTO_UDP
	Src, Dst netip.AddrPort
}

// Reverse is the tuple of the other direction.
func (t Tuple) Reverse() Tuple { return Tuple{Proto: t.Proto, Src: t.Dst, Dst: t.Src} }

// Entry is one tracked connection: Orig as the client's first packet had it, Reply
// as the answer comes back, after any address translation.
type Entry struct {
	Orig, Reply Tuple
	Status      uint32 // IPS_* bits
}

// Backend is where a destination-translated connection really goes (the reply's
// source); ok is false when the tracker did no DNAT on it.
func (e Entry) Backend() (netip.AddrPort, bool) {
	if e.Status&statusDstNAT == 0 || e.Reply.Src == e.Orig.Dst {
		return netip.AddrPort{}, false
	}
	return e.Reply.Src, true
}

// Table is a ctnetlink socket for single lookups.
type Table struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

// Open opens a ctnetlink socket in the caller's network namespace. Lookups give up
// after timeout (a lost reply must not stall the caller).
func Open(timeout time.Duration) (*Table, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind netlink: %w", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink receive timeout: %w", err)
	}
	return &Table{fd: fd, buf: make([]byte, replyBufBytes)}, nil
}

// Close closes the socket.
func (t *Table) Close() error { return unix.Close(t.fd) }

// Lookup returns the entry holding tuple in either direction, or ErrNotFound.
func (t *Table) Lookup(tuple Tuple) (Entry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	req, err := getRequest(tuple, t.seq)
	if err != nil {
		return Entry{}, err
	}
	if err := unix.Sendto(t.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Entry{}, fmt.Errorf("conntrack get: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(t.fd, t.buf, 0)
		if err != nil {
			return Entry{}, fmt.Errorf("conntrack get: %w", err)
		}
		e, done, err := t.reply(t.buf[:n])
		if done {
			return e, err
		}
	}
}

// reply reads one datagram of netlink messages; done is false when none of them
// answers the request in flight (a late answer to an earlier, timed-out one).
func (t *Table) reply(b []byte) (e Entry, done bool, err error) {
	for len(b) >= unix.SizeofNlMsghdr {
		l := binary.NativeEndian.Uint32(b[0:4])
		typ := binary.NativeEndian.Uint16(b[4:6])
		seq := binary.NativeEndian.Uint32(b[8:12])
		if l < unix.SizeofNlMsghdr || int(l) > len(b) {
			return Entry{}, true, ErrMalformed
		}
		msg := b[unix.SizeofNlMsghdr:l]
		if next := align(int(l)); next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if seq != t.seq {
			continue
		}
		switch typ {
		case unix.NLMSG_ERROR:
			if len(msg) < 4 {
				return Entry{}, true, ErrMalformed
			}
			errno := -int32(binary.NativeEndian.Uint32(msg[0:4]))
			if errno == int32(unix.ENOENT) {
				return Entry{}, true, ErrNotFound
			}
			return Entry{}, true, fmt.Errorf("conntrack get: %w", unix.Errno(errno))
		case nfnlSubsysCTNetlink<<8 | ipctnlMsgCTNew:
			e, err := ParseEntry(msg)
			return e, true, err
		}
	}
	return Entry{}, false, nil
}

// getRequest builds IPCTNL_MSG_CT_GET for tuple, looked up as the original
// direction (the kernel finds an entry by either of its tuples).
func getRequest(tuple Tuple, seq uint32) ([]byte, error) {
	src, dst := tuple.Src.Addr().Unmap(), tuple.Dst.Addr().Unmap()
	if src.Is4() != dst.Is4() || !src.IsValid() || !dst.IsValid() {
		return nil, fmt.Errorf("conntrack get: mixed or invalid addresses %s, %s", tuple.Src, tuple.Dst)
	}
	family, srcType, dstType := uint8(unix.AF_INET), uint16(ctaIPv4Src), uint16(ctaIPv4Dst)
	if !src.Is4() {
		family, srcType, dstType = unix.AF_INET6, ctaIPv6Src, ctaIPv6Dst
	}
	ip := attr(nil, ctaTupleIP|nlaFNested, func(b []byte) []byte {
		b = attr(b, srcType, func(b []byte) []byte { return append(b, src.AsSlice()...) })
		return attr(b, dstType, func(b []byte) []byte { return append(b, dst.AsSlice()...) })
	})
	proto := attr(nil, ctaTupleProto|nlaFNested, func(b []byte) []byte {
		b = attr(b, ctaProtoNum, func(b []byte) []byte { return append(b, tuple.Proto) })
		b = attr(b, ctaProtoSrcPort, func(b []byte) []byte { return binary.BigEndian.AppendUint16(b, tuple.Src.Port()) })
		return attr(b, ctaProtoDstPort, func(b []byte) []byte { return binary.BigEndian.AppendUint16(b, tuple.Dst.Port()) })
	})
	body := attr(nil, ctaTupleOrig|nlaFNested, func(b []byte) []byte { return append(append(b, ip...), proto...) })

	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+sizeofNfgen+len(body))
	msg = append(msg, family, 0 /* NFNETLINK_V0 */, 0, 0)
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:4], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:6], nfnlSubsysCTNetlink<<8|ipctnlMsgCTGet)
	binary.NativeEndian.PutUint16(msg[6:8], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:12], seq)
	return msg, nil
}

// attr appends one attribute whose payload fill writes, padded to 4 bytes.
func attr(b []byte, typ uint16, fill func([]byte) []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = fill(b)
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	binary.NativeEndian.PutUint16(b[start+2:], typ)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func align(n int) int { return (n + 3) &^ 3 }

// ParseEntry reads a ctnetlink entry (the payload after the netlink header: the
// nfgenmsg, then attributes). Both tuples must be present and complete.
func ParseEntry(msg []byte) (Entry, error) {
	if len(msg) < sizeofNfgen {
		return Entry{}, ErrMalformed
	}
	var e Entry
	var haveOrig, haveReply bool
	err := walk(msg[sizeofNfgen:], func(typ uint16, v []byte) error {
		var err error
		switch typ {
		case ctaTupleOrig:
			e.Orig, err = parseTuple(v)
			haveOrig = err == nil
		case ctaTupleReply:
			e.Reply, err = parseTuple(v)
			haveReply = err == nil
		case ctaStatus:
			if len(v) != 4 {
				return ErrMalformed
			}
			e.Status = binary.BigEndian.Uint32(v)
		}
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	if !haveOrig || !haveReply {
		return Entry{}, ErrMalformed
	}
	return e, nil
}

// walk calls f for each attribute of b, with its type stripped of flags.
func walk(b []byte, f func(typ uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < sizeofNlAttr {
			return ErrMalformed
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMask
		if l < sizeofNlAttr || l > len(b) {
			return ErrMalformed
		}
		if err := f(typ, b[sizeofNlAttr:l]); err != nil {
			return err
		}
		if next := align(l); next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
	}
	return nil
}

func parseTuple(b []byte) (Tuple, error) {
	var t Tuple
	var src, dst netip.Addr
	var sport, dport uint16
	var haveProto, havePorts int
	err := walk(b, func(typ uint16, v []byte) error {
		switch typ {
		case ctaTupleIP:
			return walk(v, func(typ uint16, v []byte) error {
				var ok bool
				switch typ {
				case ctaIPv4Src, ctaIPv6Src:
					src, ok = netip.AddrFromSlice(v)
				case ctaIPv4Dst, ctaIPv6Dst:
					dst, ok = netip.AddrFromSlice(v)
				default:
					return nil
				}
				if !ok || (typ <= ctaIPv4Dst) != (len(v) == 4) {
					return ErrMalformed
				}
				return nil
			})
		case ctaTupleProto:
			return walk(v, func(typ uint16, v []byte) error {
				switch typ {
				case ctaProtoNum:
					if len(v) != 1 {
						return ErrMalformed
					}
					t.Proto, haveProto = v[0], 1
				case ctaProtoSrcPort, ctaProtoDstPort:
					if len(v) != 2 {
						return ErrMalformed
					}
					if typ == ctaProtoSrcPort {
						sport = binary.BigEndian.Uint16(v)
					} else {
						dport = binary.BigEndian.Uint16(v)
					}
					havePorts++
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return Tuple{}, err
	}
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() || haveProto == 0 {
		return Tuple{}, ErrMalformed
	}
	if t.Proto == unix.IPPROTO_TCP || t.Proto == unix.IPPROTO_UDP {
		if havePorts != 2 {
			return Tuple{}, ErrMalformed
		}
	}
	t.Src, t.Dst = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	return t, nil
}
