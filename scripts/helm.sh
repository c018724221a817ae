#!/usr/bin/env bash
# Builds helm (helm.sh/helm/v4 v4.3.2) from the Go module proxy, once, into a cache
# outside the work tree, and prints the binary's path. The chart's tests, `make
# manifests` and `make helm-lint` use it; TLSAUDIT_HELM names a helm to use instead.
# A cold build takes about 2 minutes on 2 cores.
set -euo pipefail

HELM_VERSION=v4.3.2
if [ -n "${TLSAUDIT_HELM:-}" ]; then
  echo "$TLSAUDIT_HELM"
  exit 0
fi
out=/var/cache/tlsaudit/helm-$HELM_VERSION
bin=$out/helm
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if "$bin" version --template '{{.Version}}' 2>/dev/null | grep -q '^v4\.3'; then
  echo "$bin"
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Outside any module, so the helm module's own go.mod decides its dependencies.
if ! (cd / && GOWORK=off GOFLAGS=-trimpath GOBIN="$out.tmp" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") >"$log" 2>&1; then
  echo "helm: build of $HELM_VERSION failed:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
mv "$out.tmp/helm" "$bin"
rmdir "$out.tmp"
echo "$bin"
