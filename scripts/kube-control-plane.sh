#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy, once, into a cache
# outside the work tree (TLSAUDIT_KUBE_BIN, default /var/cache/tlsaudit/kube-v1.37.2).
# Tests of the Kubernetes identity run against them (internal/kubetest). A cold build
# takes about 5 minutes and 3 GB of memory on 2 cores; when both binaries are there
# and answer --version, it does nothing.
#
# The wrapper modules live in a temporary folder and are removed afterwards: nothing
# of the build lands in the work tree.
set -euo pipefail

K8S_VERSION=v1.37.2
STAGING_VERSION=v0${K8S_VERSION#v1}   # k8s.io/api and the other staging modules: v0.37.2
ETCD_VERSION=v3.7.0
out=${TLSAUDIT_KUBE_BIN:-/var/cache/tlsaudit/kube-$K8S_VERSION}

cached() {
  "$out/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" &&
    "$out/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD_VERSION#v}"
}

mkdir -p "$out"
# One build at a time per cache folder; a second caller waits, then finds it done.
exec 9>"$out/.lock"
flock 9
if cached; then
  echo "kube control plane: cached in $out"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=-mod=mod
log=$work/build.log

# run NAME CMD...: runs a build step quietly, printing its output only if it fails.
run() {
  local name=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "kube control plane: $name failed:" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
}

start=$(date +%s)

# etcd: its server module's root package is the etcd command.
mkdir -p "$work/etcd" "$work/bin"
cd "$work/etcd"
run "etcd module" go mod init tlsaudit.local/etcd-build
printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
run "etcd module" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
echo "kube control plane: building etcd $ETCD_VERSION"
run "etcd build" go build -o "$work/bin/etcd" go.etcd.io/etcd/server/v3

# kube-apiserver: k8s.io/kubernetes points its staging modules at ./staging, which a
# dependent module cannot use; replace each with the published module of the same
# release. The list comes from k8s.io/kubernetes's own go.mod.
mkdir -p "$work/apiserver"
cd "$work/apiserver"
run "kube-apiserver module" go mod init tlsaudit.local/kube-apiserver-build
run "k8s.io/kubernetes go.mod" go mod download -json "k8s.io/kubernetes@$K8S_VERSION"
gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' "$log")
if [ ! -f "$gomod" ]; then
  echo "kube control plane: no go.mod for k8s.io/kubernetes@$K8S_VERSION in: $(cat "$log")" >&2
  exit 1
fi
replaces=$(awk -v v="$STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\// {print "replace " $1 " => " $1 " " v}' "$gomod")
n=$(printf '%s\n' "$replaces" | grep -c '^replace ' || true)
if [ "$n" -eq 0 ]; then
  echo "kube control plane: no ./staging replace lines in $gomod" >&2
  exit 1
fi
{
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  printf '%s\n' "$replaces"
} >>go.mod
printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
run "kube-apiserver module" go mod tidy
echo "kube control plane: building kube-apiserver $K8S_VERSION ($n staging modules at $STAGING_VERSION)"
major=${K8S_VERSION#v}
major=${major%%.*}
minor=${K8S_VERSION#v*.}
minor=${minor%%.*}
pkg=k8s.io/component-base/version
run "kube-apiserver build" go build -o "$work/bin/kube-apiserver" \
  -ldflags "-X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
  k8s.io/kubernetes/cmd/kube-apiserver

mv -f "$work/bin/etcd" "$work/bin/kube-apiserver" "$out/"
cached || { echo "kube control plane: the built binaries do not report $K8S_VERSION / $ETCD_VERSION" >&2; exit 1; }
"$out/kube-apiserver" --version
echo "kube control plane: built into $out in $(($(date +%s) - start))s"
