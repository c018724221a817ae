#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy, once, into a cache
# outside the work tree (TLSAUDIT_KUBE_BIN, default /var/cache/tlsaudit/kube-v1.37.2).
# Tests of the Kubernetes identity run against them (internal/kubetest). A cold build
# takes about 5 minutes and 3 GB of memory on 2 cores; a warm cache does nothing.
set -euo pipefail

K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.0
out=${TLSAUDIT_KUBE_BIN:-/var/cache/tlsaudit/kube-$K8S_VERSION}
mkdir -p "$out"

if "$out/kube-apiserver" --version 2>/dev/null | grep -q "$K8S_VERSION" && "$out/etcd" --version >/dev/null 2>&1; then
  echo "kube control plane: cached in $out"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# etcd: its server module's root package is the etcd command.
mkdir -p "$work/etcd"
cd "$work/etcd"
go mod init tlsaudit-etcd-build >/dev/null 2>&1
printf 'package main\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
go build -o "$out/etcd" go.etcd.io/etcd/server/v3

# kube-apiserver: k8s.io/kubernetes points its staging modules at ./staging; replace
# each with the published module of the same release.
mkdir -p "$work/apiserver"
cd "$work/apiserver"
go mod init tlsaudit-apiserver-build >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
{
  echo "require k8s.io/kubernetes $K8S_VERSION"
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
} >> go.mod
printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' > tools.go
go mod tidy >/dev/null 2>&1
pkg=k8s.io/component-base/version
go build -o "$out/kube-apiserver" \
  -ldflags "-X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=37" \
  k8s.io/kubernetes/cmd/kube-apiserver
"$out/kube-apiserver" --version
echo "kube control plane: built into $out"
