#!/usr/bin/env bash
# Choosing the default layer compression (issue 15): per engine and level, in one run,
#   1. bytes of the hello binary compressed (gzip_engines: 1 MiB blocks, as the layer writer
#      does), against `gzip -9` of the same binary and Debian's zopfli (when installed), the
#      floor any deflate encoder reaches;
#   2. MB/s on all cores over a large input (a Go toolchain's binaries concatenated, or FILE);
#   3. the whole hello image (`gopack build --json` compressed_size) for gopack's own levels.
# The edit-loop ratio per level comes from `bash bench/edit.sh hello RUNS gzip:6 gzip:9 …`.
#   bash bench/compression.sh [FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gopack --example gzip_engines
GOPACK="$PWD/target/release/gopack"
ENGINES="$PWD/target/release/examples/gzip_engines"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOPACK_CACHE="$work/cache"
threads=$(nproc)
echo "machine: $threads cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
(cd testdata/hello && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/hello" .)
big=${1:-}
if [ -z "$big" ]; then
  big="$work/toolchain"; cat "$(go env GOROOT)"/pkg/tool/*/* "$(go env GOROOT)"/bin/* > "$big"
fi
candidates=(zlib-rs:6 zlib-rs:9 libdeflate:1 libdeflate:6 libdeflate:7 libdeflate:9 libdeflate:10 libdeflate:12)

echo "== 1. hello binary ($(stat -c %s "$work/hello") B); gzip -9: $(gzip -9 -c "$work/hello" | wc -c) B"
"$ENGINES" "$work/hello" "$threads" "${candidates[@]}"
# The strongest deflate encoder there is, as a floor for what any gzip level could reach
# (Debian's zopfli, 15 iterations, one thread, whole file): no gopack level is this slow.
if command -v zopfli >/dev/null; then
  /usr/bin/time -f '%e' -o "$work/zt" zopfli -c "$work/hello" > "$work/hello.zopfli"
  printf 'zopfli:15     \t%10d B\t%6.3f s\t(one thread, whole file; floor for deflate)\n' \
    "$(stat -c %s "$work/hello.zopfli")" "$(cat "$work/zt")"
fi
echo "== 2. speed on $threads threads, $(( $(stat -c %s "$big") / 1000000 )) MB"
"$ENGINES" "$big" "$threads" "${candidates[@]}"
echo "== 3. hello image, compressed (manifest + config + layers)"
for c in gzip gzip:6 gzip:9 gzip:12; do
  size=$(cd testdata/hello && "$GOPACK" build --json --compression "$c" -o "oci:$work/img-${c/:/-}" |
    python3 -c 'import json,sys; p=json.load(sys.stdin)["images"][0]["platforms"][0]; print(p["compressed_size"], " ".join(str(l["size"]) for l in p["layers"]))')
  printf '%-8s image %s B (layers: %s)\n' "$c" "${size%% *}" "${size#* }"
done
