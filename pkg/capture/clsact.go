package capture

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// clsactFilterName marks tlsaudit's tc filters, so that detaching removes only ours.
const clsactFilterName = "tlsaudit"

// clsactAttachment is a pair of direct-action tc filters on a clsact qdisc.
type clsactAttachment struct {
	filters []*netlink.BpfFilter
}

// attachClsact adds (or reuses) the interface's clsact qdisc and puts one
// direct-action BPF filter on its ingress and one on its egress hook.
func attachClsact(ifindex int, ingress, egress *ebpf.Program) (*clsactAttachment, error) {
	qdisc := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: ifindex, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
		QdiscType:  "clsact",
	}
	if err := netlink.QdiscReplace(qdisc); err != nil {
		return nil, fmt.Errorf("add clsact qdisc: %w", err)
	}
	a := &clsactAttachment{}
	for _, h := range []struct {
		parent uint32
		prog   *ebpf.Program
	}{{netlink.HANDLE_MIN_INGRESS, ingress}, {netlink.HANDLE_MIN_EGRESS, egress}} {
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: ifindex, Parent: h.parent, Handle: netlink.MakeHandle(0, 1),
				Protocol: unix.ETH_P_ALL, Priority: 1,
			},
			Fd: h.prog.FD(), Name: clsactFilterName, DirectAction: true,
		}
		if err := netlink.FilterReplace(f); err != nil {
			a.Close()
			return nil, fmt.Errorf("add bpf filter: %w", err)
		}
		a.filters = append(a.filters, f)
	}
	return a, nil
}

// Close removes the filters; the clsact qdisc stays, as other tools may use it.
func (a *clsactAttachment) Close() error {
	var errs []error
	for _, f := range a.filters {
		if err := netlink.FilterDel(f); err != nil && !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
