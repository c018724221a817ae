package agent

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/tlsaudit/tlsaudit/pkg/flow"
	"github.com/tlsaudit/tlsaudit/pkg/identity"
)

// Kube is the agent's view of the cluster: the index the informers keep and the node
// this agent runs on. A nil *Kube (no --kubernetes) names nothing and counts every
// flow.
type Kube struct {
	cluster *identity.Cluster
	watcher *identity.Watcher
}

// StartKube connects to the API server (in-cluster, or through the kubeconfig file
// when one is named) and starts the informers for node, which run until ctx ends. It
// does not wait for them: capture starts at once, and names arrive as the informers
// sync.
func StartKube(ctx context.Context, kubeconfig, node string, log zerolog.Logger) (*Kube, error) {
	cfg, err := identity.ClientConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "tlsaudit"
	c := identity.NewCluster(node)
	w, err := identity.Watch(ctx, cfg, c, 5*time.Second, log)
	if err != nil {
		return nil, err
	}
	return &Kube{cluster: c, watcher: w}, nil
}

// names is the identity source for a config: the static names file on top of the
// cluster index.
func (k *Kube) names(cfg *Config) identity.Resolver {
	if k == nil {
		return cfg.Names
	}
	return identity.Layered{cfg.Names, k.cluster}
}

// owns applies the count-once rule: whether this node's agent counts the flow.
func (k *Kube) owns(r *flow.Record) (bool, string) {
	if k == nil {
		return true, ""
	}
	return k.cluster.Ownership(r.Client, r.Server, r.FirstSeen)
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
