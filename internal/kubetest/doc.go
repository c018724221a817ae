// Package kubetest runs a real etcd and kube-apiserver on loopback for tests, with
// RBAC on, and gives tests an admin client and the agent's least-privilege
// ServiceAccount token, whose ClusterRole rules come from the Helm chart's
// deploy/helm/tlsaudit/files/clusterrole-rules.yaml.
//
// The binaries are built once by scripts/kube-control-plane.sh into a cache outside
// the work tree (TLSAUDIT_KUBE_BIN, default DefaultBinDir); without them the tests
// that need them skip, saying so. There is no controller-manager, scheduler or
// kubelet: pods stay where the test puts them, and CreatePod sets their status as a
// kubelet would.
//
// A ControlPlane belongs to one test and stops with it (t.Cleanup). Stop and Restart
// take the API server away and bring it back on the same address, with etcd and so
// every object kept, as an outage of the API server would.
package kubetest
