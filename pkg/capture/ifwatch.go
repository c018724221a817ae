package capture

import (
	"context"
	"net"
	"path"
	"time"

	"github.com/rs/zerolog"
	"github.com/vishvananda/netlink"
)

// Attacher is a live source that can be put on and taken off interfaces.
type Attacher interface {
	Attach(ifindex int, name string) error
	Detach(ifindex int)
	Attached() []int
}

// InterfaceSelector chooses interfaces by name with shell patterns (path.Match).
type InterfaceSelector struct {
	Include []string // an interface must match one of these
	Exclude []string // and none of these
}

// Selects reports whether the interface called name is chosen.
func (s InterfaceSelector) Selects(name string) bool {
	for _, p := range s.Exclude {
		if ok, _ := path.Match(p, name); ok {
			return false
		}
	}
	for _, p := range s.Include {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// resyncInterval is how often interfaces are listed again even without a netlink
// event (events can be lost when the socket's buffer overflows).
const resyncInterval = 10 * time.Second

// WatchInterfaces keeps a attached to the chosen interfaces that are up, as links
// appear and vanish (pod veths come and go), until ctx ends. Link changes arrive from
// netlink; a periodic resync covers lost events.
func WatchInterfaces(ctx context.Context, a Attacher, sel InterfaceSelector, log zerolog.Logger) error {
	log = log.With().Str("component", "ifwatch").Logger()
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			if ctx.Err() == nil {
				log.Warn().Err(err).Msg("netlink subscription")
			}
		},
	}); err != nil {
		log.Warn().Err(err).Msg("netlink subscription failed; polling interfaces only")
		updates = nil
	}
	tick := time.NewTicker(resyncInterval)
	defer tick.Stop()
	for {
		Reconcile(a, sel, log)
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
		case <-tick.C:
		}
	}
}

// Reconcile attaches a to every chosen interface that is up and detaches it from
// those gone or down.
func Reconcile(a Attacher, sel InterfaceSelector, log zerolog.Logger) {
	ifaces, err := net.Interfaces()
	if err != nil {
		log.Warn().Err(err).Msg("list interfaces")
		return
	}
	want := map[int]string{}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 && sel.Selects(ifc.Name) {
			want[ifc.Index] = ifc.Name
		}
	}
	for _, idx := range a.Attached() {
		if _, ok := want[idx]; !ok {
			a.Detach(idx)
			log.Info().Int("ifindex", idx).Msg("detached: interface gone or down")
		}
	}
	for idx, name := range want {
		if err := a.Attach(idx, name); err != nil {
			log.Warn().Err(err).Str("iface", name).Msg("attach")
		}
	}
}
