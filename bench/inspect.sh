#!/usr/bin/env bash
# gopack inspect benchmarks (issue 11), one run each, peers in the same run:
#  1. `gopack inspect` vs `dive --ci --source docker-archive` on the same multi-layer
#     docker-archive of at least 500 MB (generated: SMALL_FILES files, SMALL_BYTES bytes,
#     SMALL_LAYERS layers, with whiteouts and symlinks; made a docker-archive by skopeo):
#     wall time and peak RSS of each, and the ratio.
#  2. A generated 5 GB / 300,000-file OCI layout: `gopack inspect` cold (empty layer cache) and
#     warm (records cached by layer digest), wall time and peak RSS.
#   bash bench/inspect.sh
# Needs dive on PATH (GOBIN=/work/tools go install github.com/wagoodman/dive/cmd/dive@latest),
# skopeo and GNU time. Generated images live in a temp dir, are never committed, and are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
small_files=${SMALL_FILES:-40000}
small_bytes=${SMALL_BYTES:-600000000}
small_layers=${SMALL_LAYERS:-6}
big_files=${BIG_FILES:-300000}
big_bytes=${BIG_BYTES:-5000000000}
big_layers=${BIG_LAYERS:-6}
cargo build --release --quiet --example read_image
cargo build --release --quiet
GOPACK="$PWD/target/release/gopack"
READ="$PWD/target/release/examples/read_image"
work=$(mktemp -d "${TMPDIR:-/tmp}/gopack-inspect-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GOPACK_CACHE="$work/cache"

# Runs a command under GNU time; prints wall seconds, CPU seconds (user + system) and peak RSS.
# CPU seconds are the steadier figure when other work shares the machine.
measure() {
  local label=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
  read -r wall user sys rss <"$work/time"
  cpu=$(echo "$user + $sys" | bc -l)
  printf '%-34s %8.2f s wall  %8.2f s CPU  %7.1f MB peak RSS\n' "$label" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)"
  echo "$wall $rss $cpu" >"$work/last"
}

date
echo "== 1. vs dive: $small_files files, $small_bytes bytes, $small_layers layers"
"$READ" make "$work/small" "$small_files" "$small_bytes" "$small_layers" >/dev/null 2>&1
skopeo copy --quiet "oci:$work/small:big" "docker-archive:$work/small.tar"
rm -rf "$work/small"
du -h "$work/small.tar" | sed 's/^/   archive: /'
cat "$work/small.tar" >/dev/null
measure "gopack inspect (no cache)" "$GOPACK" inspect "docker-archive:$work/small.tar" --no-cache
read -r g_wall g_rss g_cpu <"$work/last"
grep -E '^Waste|dive would say' "$work/out" | sed 's/^/   /'
measure "dive --ci --source docker-archive" env CI=true dive --ci --source docker-archive "$work/small.tar"
read -r d_wall d_rss d_cpu <"$work/last"
grep -E 'efficiency|wastedBytes' "$work/out" | sed 's/^/   /'
printf 'ratios gopack/dive: wall %.3f, CPU %.3f, peak RSS %.3f\n' "$(echo "$g_wall / $d_wall" | bc -l)" "$(echo "$g_cpu / $d_cpu" | bc -l)" "$(echo "$g_rss / $d_rss" | bc -l)"
rm -f "$work/small.tar"

echo "== 2. $big_files files, $big_bytes bytes, $big_layers layers (OCI layout)"
"$READ" make "$work/big" "$big_files" "$big_bytes" "$big_layers" >/dev/null 2>&1
du -sh "$work/big" | sed 's/^/   on disk: /'
cat "$work"/big/blobs/sha256/* >/dev/null
rm -rf "$GOPACK_CACHE"
measure "gopack inspect, cold cache" "$GOPACK" inspect "oci:$work/big:big"
grep -E '^Total|^Waste' "$work/out" | sed 's/^/   /'
measure "gopack inspect, warm layer cache" "$GOPACK" inspect "oci:$work/big:big"
grep -E '^Total' "$work/out" | sed 's/^/   /'
