package agent

import (
	"context"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/config"
	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/identity/kubewatch"
)

// Kube is the agent's view of the cluster: the index the informers keep and the node
// this agent runs on. A nil *Kube (no --kubernetes) names nothing and counts every
// flow.
type Kube struct {
	cluster *identity.Cluster
	watcher *kubewatch.Watcher
	nat     *dnat // nil when the connection tracker cannot be used
}

// StartKube connects to the API server (in-cluster, or through the kubeconfig file
// when one is named) and starts the informers for node, which run until ctx ends. It
// does not wait for them: capture starts at once, and names arrive as the informers
// sync.
func StartKube(ctx context.Context, kubeconfig, node string, log zerolog.Logger) (*Kube, error) {
	cfg, err := kubewatch.ClientConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "tlsaudit"
	c := identity.NewCluster(node)
	w, err := kubewatch.Watch(ctx, cfg, c, 5*time.Second, log)
	if err != nil {
		return nil, err
	}
	k := &Kube{cluster: c, watcher: w, nat: openDNAT(log)}
	go func() {
		<-ctx.Done()
		k.nat.close()
	}()
	return k, nil
}

// names is the identity source for a config: the static names file on top of the
// cluster index.
func (k *Kube) names(cfg *config.Config) identity.Resolver {
	if k == nil {
		return cfg.Names
	}
	return identity.Layered{cfg.Names, k.cluster}
}

// synced reports whether the cluster index has synced (true without Kubernetes).
func (k *Kube) synced() bool {
	return k == nil || k.watcher.Status().Ready()
}

// ownership is the count-once decision for one flow on this node.
type ownership struct {
	counted bool
	why     string         // counted_by
	backend netip.AddrPort // where DNAT sent a flow to a cluster IP; zero when not known
}

// owns applies the count-once rule: whether this node's agent counts the flow.
// inTable says whether the flow table holds a key now (the after-DNAT sighting of a
// flow to a cluster IP); now is the capture clock (Unix ns).
func (k *Kube) owns(r *flow.Record, inTable func(flow.Key) bool, now int64) ownership {
	if k == nil {
		return ownership{counted: true}
	}
	if k.nat != nil {
		if k.nat.alreadyJudged(r.Key, now) {
			return ownership{why: sameConnection}
		}
		if k.cluster.IsServiceIP(r.Server.Addr()) {
			if b, ok := k.nat.backend(r); ok {
				after := flow.KeyBetween(r.Proto, r.Client, b)
				if inTable(after) {
					return ownership{why: sameConnection, backend: b}
				}
				k.nat.remember(after, now)
				counted, why := k.cluster.Ownership(r.Client, b, r.FirstSeen)
				return ownership{counted: counted, why: why, backend: b}
			}
		}
	}
	counted, why := k.cluster.Ownership(r.Client, r.Server, r.FirstSeen)
	return ownership{counted: counted, why: why}
}

// logEnd adds the structured fields of one end (prefix "client" or "server").
func logEnd(ev *zerolog.Event, prefix string, id identity.Identity) *zerolog.Event {
	ev = ev.Str(prefix+"_name", id.Name())
	for _, f := range [][2]string{{"_namespace", id.Namespace}, {"_workload", id.Workload}, {"_kind", id.Kind}, {"_pod", id.Pod}, {"_service", id.Service}, {"_node", id.Node}} {
		if f[1] != "" {
			ev = ev.Str(prefix+f[0], f[1])
		}
	}
	return ev
}
