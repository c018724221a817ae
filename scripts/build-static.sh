#!/usr/bin/env bash
# Builds the static tlsaudit binary the container image ships: pure Go, no cgo, so it
# runs on a base image with no libc. The Dockerfile runs this script, and deploy's
# test runs it too and checks the result needs no dynamic loader.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/tlsaudit-static}
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out" ./cmd/tlsaudit
