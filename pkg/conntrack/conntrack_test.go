package conntrack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tlsaudit/tlsaudit/internal/netnstest"
)

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// TestLookupDNAT makes a real connection through a real iptables DNAT rule (as
// kube-proxy writes for a service's cluster IP) in a network namespace of its own and
// asks the kernel's tracker about it: by the tuple before DNAT and by the answer's
// tuple, both give the backend; a connection without DNAT has none; an unknown
// tuple is ErrNotFound.
func TestLookupDNAT(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace with an iptables DNAT rule (CI runs as root)")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("iptables not installed (.ci/run installs it)")
	}
	ns := fmt.Sprintf("tct%d", os.Getpid()%100000)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns, "addr", "add", "10.96.0.10/32", "dev", "lo")
	run(t, "ip", "netns", "exec", ns, "iptables", "-t", "nat", "-A", "OUTPUT", "-d", "10.96.0.10/32", "-p", "tcp",
		"--dport", "80", "-j", "DNAT", "--to-destination", "127.0.0.1:18080")

	netnstest.Do(t, ns, func() {
		ln, err := net.Listen("tcp", "127.0.0.1:18080")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		tab, err := Open(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer tab.Close()

		viaService, err := net.Dial("tcp", "10.96.0.10:80")
		if err != nil {
			t.Fatal(err)
		}
		defer viaService.Close()
		client := viaService.LocalAddr().(*net.TCPAddr).AddrPort()
		pre := Tuple{Proto: unix.IPPROTO_TCP, Src: client, Dst: netip.MustParseAddrPort("10.96.0.10:80")}
		e, err := tab.Lookup(pre)
		if err != nil {
			t.Fatalf("lookup %v: %v", pre, err)
		}
		backend, ok := e.Backend()
		if want := netip.MustParseAddrPort("127.0.0.1:18080"); !ok || backend != want {
			t.Errorf("backend %v %v, want %v (entry %+v)", backend, ok, want, e)
		}
		if e.Orig != pre {
			t.Errorf("orig %+v, want %+v", e.Orig, pre)
		}
		// The answer's direction finds the same entry.
		if e2, err := tab.Lookup(e.Reply); err != nil || e2.Orig != pre {
			t.Errorf("lookup by reply %+v: %+v, %v", e.Reply, e2, err)
		}

		direct, err := net.Dial("tcp", "127.0.0.1:18080")
		if err != nil {
			t.Fatal(err)
		}
		defer direct.Close()
		plain := Tuple{Proto: unix.IPPROTO_TCP, Src: direct.LocalAddr().(*net.TCPAddr).AddrPort(), Dst: netip.MustParseAddrPort("127.0.0.1:18080")}
		if e, err := tab.Lookup(plain); err != nil {
			t.Errorf("lookup %v: %v", plain, err)
		} else if b, ok := e.Backend(); ok {
			t.Errorf("a connection without DNAT has backend %v", b)
		}

		missing := Tuple{Proto: unix.IPPROTO_TCP, Src: netip.MustParseAddrPort("127.0.0.1:1"), Dst: netip.MustParseAddrPort("127.0.0.1:2")}
		if _, err := tab.Lookup(missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup of nothing: %v, want ErrNotFound", err)
		}
		if _, err := tab.Lookup(Tuple{Proto: unix.IPPROTO_TCP, Src: client, Dst: netip.MustParseAddrPort("[fd00::1]:80")}); err == nil {
			t.Error("a tuple mixing IPv4 and IPv6 was looked up")
		}
	})
}

// entry builds a ctnetlink entry as the kernel sends it.
func entry(orig, reply Tuple, status uint32) []byte {
	tuple := func(typ uint16, tp Tuple) []byte {
		req, _ := getRequest(tp, 0)
		body := req[unix.SizeofNlMsghdr+sizeofNfgen:]
		// getRequest wraps the tuple as CTA_TUPLE_ORIG: retag it.
		out := append([]byte(nil), body...)
		out[2], out[3] = byte(typ), byte((typ|nlaFNested)>>8)
		return out
	}
	msg := []byte{unix.AF_INET, 0, 0, 0}
	msg = append(msg, tuple(ctaTupleOrig, orig)...)
	msg = append(msg, tuple(ctaTupleReply, reply)...)
	return attr(msg, ctaStatus|nlaFNetOrder, func(b []byte) []byte {
		return append(b, byte(status>>24), byte(status>>16), byte(status>>8), byte(status))
	})
}

var (
	pre   = Tuple{Proto: unix.IPPROTO_TCP, Src: netip.MustParseAddrPort("10.0.1.2:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:80")}
	reply = Tuple{Proto: unix.IPPROTO_TCP, Src: netip.MustParseAddrPort("10.0.2.2:8080"), Dst: netip.MustParseAddrPort("10.0.1.2:40000")}
)

func TestParseEntry(t *testing.T) {
	good := entry(pre, reply, statusDstNAT)
	e, err := ParseEntry(good)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := e.Backend(); !ok || b != reply.Src || e.Orig != pre || e.Reply != reply {
		t.Errorf("parsed %+v", e)
	}
	if e, err := ParseEntry(entry(pre, pre.Reverse(), 0)); err != nil {
		t.Error(err)
	} else if _, ok := e.Backend(); ok {
		t.Error("an entry without IPS_DST_NAT has a backend")
	}
	for _, tt := range []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"header only", good[:sizeofNfgen]},
		{"truncated attribute", good[:len(good)-3]},
		{"attribute longer than the message", func() []byte { b := append([]byte(nil), good...); b[sizeofNfgen] = 0xff; return b }()},
		{"attribute shorter than its header", func() []byte { b := append([]byte(nil), good...); b[sizeofNfgen] = 2; return b }()},
		{"no reply tuple", func() []byte {
			// The orig tuple's attribute alone, then the status.
			b := entry(pre, reply, statusDstNAT)
			origLen := align(int(b[sizeofNfgen]) | int(b[sizeofNfgen+1])<<8)
			return attr(append([]byte(nil), b[:sizeofNfgen+origLen]...), ctaStatus, func(b []byte) []byte { return append(b, 0, 0, 0, statusDstNAT) })
		}()},
		{"address of a wrong length", func() []byte {
			b := entry(pre, reply, statusDstNAT)
			// CTA_TUPLE_ORIG > CTA_TUPLE_IP > CTA_IP_V4_SRC: shorten its length field.
			b[sizeofNfgen+8] = 7
			return b
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := ParseEntry(tt.msg); err == nil {
				t.Errorf("parsed %+v", e)
			}
		})
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add(entry(pre, reply, statusDstNAT))
	f.Add(entry(pre, pre.Reverse(), 0))
	f.Fuzz(func(t *testing.T, msg []byte) {
		e, err := ParseEntry(msg)
		if err != nil && e != (Entry{}) {
			t.Fatalf("error %v with entry %+v", err, e)
		}
		if err == nil && (!e.Orig.Src.IsValid() || !e.Reply.Src.IsValid()) {
			t.Fatalf("entry without tuples: %+v", e)
		}
	})
}

// BenchmarkLookupMiss is one round trip to the kernel's tracker (an absent tuple
// costs the same request and answer as a present one): what the agent pays once per
// decided flow to a cluster IP.
func BenchmarkLookupMiss(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (CAP_NET_ADMIN for ctnetlink)")
	}
	tab, err := Open(time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer tab.Close()
	missing := Tuple{Proto: unix.IPPROTO_TCP, Src: netip.MustParseAddrPort("127.0.0.1:1"), Dst: netip.MustParseAddrPort("127.0.0.1:2")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tab.Lookup(missing); !errors.Is(err, ErrNotFound) {
			b.Fatal(err)
		}
	}
}
