package export

import (
	"net/netip"
	"time"

	"github.com/tlsaudit/tlsaudit/pkg/identity"
	"github.com/tlsaudit/tlsaudit/pkg/policy"
)

// Workload values for ends that have no name.
const (
	// WorkloadExternal is an end outside the internal ranges.
	WorkloadExternal = "external"
	// WorkloadUnknown is an internal end the identity source does not know.
	WorkloadUnknown = "unknown"
	// WorkloadOther is where label sets past the series cap are folded.
	WorkloadOther = "other"
)

// End is one end of a flow as labels: a namespace and a workload, and for a server
// end the services that front it. Unknown ends have namespace "" and workload
// WorkloadExternal or WorkloadUnknown, never an address.
type End struct {
	Namespace string
	Workload  string
	// Service is the server's service (several joined with ","; "" when none): the
	// dst_service label. It stays "" on client ends.
	Service string
}

// String is "namespace/workload", or the workload alone.
func (e End) String() string {
	if e.Namespace == "" {
		return e.Workload
	}
	return e.Namespace + "/" + e.Workload
}

// nameEnd labels an end as it was when its flow was first seen.
func nameEnd(ap netip.AddrPort, at time.Time, names identity.Resolver, pol *policy.Policy) End {
	if names != nil {
		if id, ok := names.Resolve(ap, at); ok {
			return End{Namespace: id.Namespace, Workload: id.Workload, Service: id.Service}
		}
	}
	if pol.IsInternal(ap.Addr()) {
		return End{Workload: WorkloadUnknown}
	}
	return End{Workload: WorkloadExternal}
}
