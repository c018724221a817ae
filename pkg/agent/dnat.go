package agent

import (
	"errors"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/conntrack"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
)

// A connection to a service's cluster IP crosses kube-proxy's DNAT on the client's
// node, so an agent watching every interface of that node can see it twice: before
// DNAT (client → cluster IP, on the client pod's interface) and after it (client →
// backend, on the uplink or on a local backend's interface). The flow table holds
// them as two flows; dnat makes them count as one connection. When a flow to a
// cluster IP is decided, the node's connection tracker says which backend DNAT
// chose. If the after-DNAT flow is in the table, that sighting is the one judged
// (by the count-once rule, with its real server) and the before-DNAT one is not
// counted. Otherwise the before-DNAT sighting is judged as if its server were the
// backend, and the after-DNAT key is remembered, so that a later sighting of it is
// not counted again.

// DNAT lookup results (label values of tlsaudit_kube_dnat_lookups_total).
const (
	dnatBackend  = "backend"   // DNAT chose a backend
	dnatNone     = "no_dnat"   // tracked, not translated
	dnatNotFound = "not_found" // not tracked (gone, or translated elsewhere)
	dnatError    = "error"
)

// sameConnection is the counted_by reason of a sighting whose connection another
// sighting on this node stands for.
const sameConnection = "dnat_same_connection"

const (
	// judgedKeep is how long an after-DNAT key stays remembered: long enough for
	// the after-DNAT sighting of the same handshake to be decided.
	judgedKeep = 2 * time.Minute
	// judgedMax bounds the keys remembered; past it the oldest is forgotten.
	judgedMax = 1 << 14
)

// dnat matches the two sightings of a DNATed connection on this node.
type dnat struct {
	ct      *conntrack.Table
	lookups *prometheus.CounterVec
	judged  map[flow.Key]int64 // after-DNAT key → when it was remembered (Unix ns)
	ring    []judgedKey        // insertion order, to forget the oldest past judgedMax
	next    int
}

type judgedKey struct {
	key flow.Key
	at  int64
}

// openDNAT opens the node's connection tracker; nil (and the reason logged) when it
// cannot be used: ownership then falls back to the cluster index alone.
func openDNAT(log zerolog.Logger) *dnat {
	ct, err := conntrack.Open(100 * time.Millisecond)
	if err != nil {
		log.Warn().Err(err).Msg("conntrack unavailable: the two sightings of a connection to a cluster IP on this node are not matched")
		return nil
	}
	return &dnat{
		ct: ct,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlsaudit_kube_dnat_lookups_total",
			Help: "Connection-tracker lookups for flows to a service's cluster IP, by result (backend, no_dnat, not_found, error).",
		}, []string{"result"}),
		judged: make(map[flow.Key]int64),
		ring:   make([]judgedKey, judgedMax),
	}
}

// backend asks the tracker where the flow r, seen before DNAT, really goes.
func (d *dnat) backend(r *flow.Record) (netip.AddrPort, bool) {
	e, err := d.ct.Lookup(conntrack.Tuple{Proto: r.Proto, Src: r.Client, Dst: r.Server})
	switch {
	case errors.Is(err, conntrack.ErrNotFound):
		d.lookups.WithLabelValues(dnatNotFound).Inc()
		return netip.AddrPort{}, false
	case err != nil:
		d.lookups.WithLabelValues(dnatError).Inc()
		return netip.AddrPort{}, false
	}
	b, ok := e.Backend()
	if !ok {
		d.lookups.WithLabelValues(dnatNone).Inc()
		return netip.AddrPort{}, false
	}
	d.lookups.WithLabelValues(dnatBackend).Inc()
	return b, true
}

// remember notes that the connection of after-DNAT key k has been judged.
func (d *dnat) remember(k flow.Key, now int64) {
	// The slot's key is forgotten unless it was remembered again since.
	if old := d.ring[d.next]; old.at != 0 && d.judged[old.key] == old.at {
		delete(d.judged, old.key)
	}
	d.ring[d.next] = judgedKey{k, now}
	d.next = (d.next + 1) % len(d.ring)
	d.judged[k] = now
}

// alreadyJudged reports (once) whether k is the after-DNAT sighting of a connection
// judged through its before-DNAT one.
func (d *dnat) alreadyJudged(k flow.Key, now int64) bool {
	at, ok := d.judged[k]
	if !ok {
		return false
	}
	delete(d.judged, k)
	return now-at < int64(judgedKeep)
}

func (d *dnat) close() {
	if d != nil {
		d.ct.Close()
	}
}
