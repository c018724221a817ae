// Package conntrack asks the kernel's connection tracker (ctnetlink) how a
// connection was translated: a packet to a Kubernetes service's cluster IP is
// rewritten by kube-proxy's DNAT rule to one backend, and an agent that sees the
// connection on both sides of that rule (the client pod's interface before DNAT, the
// uplink or the backend's interface after it) must know the two sightings are one
// connection to count it once.
//
// Only single lookups by tuple are made (IPCTNL_MSG_CT_GET), never table dumps: the
// agent asks once per decided flow whose server is a cluster IP. A Table holds one
// netlink socket in the network namespace it was opened in (the node's, for an agent
// on the host network); it is safe for concurrent use, one request at a time.
package conntrack
