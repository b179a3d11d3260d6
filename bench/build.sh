#!/usr/bin/env bash
# Benchmarks for `gopack build` (issue 2), each compared with its peer in the same run.
#   bash bench/build.sh
# 1. warm `gopack build` vs bare `go build -trimpath -ldflags=-s` of testdata/hello (hyperfine)
# 2. compressed image size vs `gzip -9` of the binary alone
# 3. layer writer throughput and peak RSS on the Go toolchain's own binaries, per compression
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gopack --example layer_writer_bench
GOPACK="$PWD/target/release/gopack"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOPACK_CACHE="$work/cache"

echo "== 1. warm build time (testdata/hello)"
cd testdata/hello
"$GOPACK" build -q -o "oci:$work/warm" >/dev/null
hyperfine --style basic --warmup 3 --runs 20 --export-json "$work/warm.json" \
  -n "go build" "go build -trimpath -ldflags=-s -o $work/hello-bin ." \
  -n "gopack build" "$GOPACK build -q -o oci:$work/warm" >/dev/null
python3 - "$work/warm.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
go, gp = r["go build"], r["gopack build"]
print(f"go build      {go['mean']*1000:7.1f} ms ± {go['stddev']*1000:.1f}")
print(f"gopack build  {gp['mean']*1000:7.1f} ms ± {gp['stddev']*1000:.1f}")
print(f"ratio gopack/go = {gp['mean']/go['mean']:.2f}  (goal <= 1.10)")
PY

echo "== 2. image size vs gzip -9 of the binary alone"
CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/hello-bin" .
bin_gz=$(gzip -9 -c "$work/hello-bin" | wc -c)
for c in gzip gzip:6 gzip:9 gzip:12 zstd:3 zstd:19; do
  size=$("$GOPACK" build --json --compression "$c" -o "oci:$work/size-$c" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["platforms"][0]["compressed_size"])')
  printf '%-8s image %8d B   gzip -9 binary %8d B   difference %+7d B\n' "$c" "$size" "$bin_gz" $((size - bin_gz))
done
cd ../..

echo "== 3. layer writer on the Go toolchain's binaries (fresh store each run)"
goroot=$(go env GOROOT)
files=$(ls "$goroot"/pkg/tool/*/* "$goroot"/bin/*)
for c in gzip:1 gzip:6 gzip:9 gzip:12 zstd:3; do
  ./target/release/examples/layer_writer_bench "$c" $files
done
echo "   single-threaded reference: gzip -6 via the gzip tool"
tar -cf "$work/all.tar" $files 2>/dev/null
/usr/bin/time -f "   gzip -6: %e s, peak RSS %M KB" gzip -6 -c "$work/all.tar" >/dev/null
