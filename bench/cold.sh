#!/usr/bin/env bash
# Cold build (issue 15): the first `gopack build` of caddy's cmd/caddy with an empty Go build
# cache (a fresh GOCACHE) and an empty gopack cache, against a bare cold
# `CGO_ENABLED=0 go build -trimpath -ldflags=-s` of the same package; alternating, RUNS pairs
# (default 1: each cold build of caddy takes minutes on 2 cores). Modules come from the module
# cache (downloaded once before timing), so no run pays for the network.
#   bash bench/cold.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
dir=$(cd "$work" && go mod download -json "github.com/caddyserver/caddy/v2@${CADDY_VERSION:-v2.11.9}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
cp -r "$dir" "$work/caddy"; chmod -R u+w "$work/caddy"; cd "$work/caddy"
go mod download
secs() { python3 -c "import sys; print(f'{(int(sys.argv[2])-int(sys.argv[1]))/1e9:.1f}')" "$@"; }
for i in $(seq 1 "$runs"); do
  rm -rf "$work/gocache" "$work/gopack-cache"
  t0=$(date +%s%N)
  GOCACHE="$work/gocache" CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/caddy-go" ./cmd/caddy
  t1=$(date +%s%N)
  rm -rf "$work/gocache"
  GOCACHE="$work/gocache" GOPACK_CACHE="$work/gopack-cache" GOPACK_TRACE=1 \
    "$GOPACK" build -q -o "oci:$work/out" ./cmd/caddy >/dev/null 2>"$work/trace"
  t2=$(date +%s%N)
  go_s=$(secs "$t0" "$t1"); gp_s=$(secs "$t1" "$t2")
  echo "run $i: go build cold ${go_s} s   gopack build cold ${gp_s} s   ratio $(python3 -c "print(f'{$gp_s/$go_s:.3f}')")  (goal <= 1.05; load $(cut -d' ' -f1 /proc/loadavg))"
  sed 's/^/   /' "$work/trace"
done
