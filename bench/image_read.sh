#!/usr/bin/env bash
# Image reader benchmark (issues 8 and 10): a generated base of FILES files and BYTES
# uncompressed bytes in LAYERS gzip layers (default: 300,000 files, 5 GB, 6 layers), read the
# way `--base` and inspect read it — resolve, then every layer in one streaming pass into the
# merged tree with diff_ids verified — against the peer listing the same layers with GNU tar
# (`tar -tzf`, which neither merges, verifies nor keeps anything), in the same run.
#   bash bench/image_read.sh [FILES] [BYTES] [LAYERS]
# The image is generated in a temp dir (never committed) and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-300000}
bytes=${2:-5000000000}
layers=${3:-6}
cargo build --release --quiet --example read_image
READ="$PWD/target/release/examples/read_image"
work=$(mktemp -d "${TMPDIR:-/tmp}/gopack-read-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== generating $files files, $bytes bytes, $layers layers"
"$READ" make "$work/base" "$files" "$bytes" "$layers" 2>&1 | sed 's/^/   /'
du -sh "$work/base" | sed 's/^/   on disk: /'

echo "== gopack: resolve + merge + verify (3 runs, page cache warm)"
cat "$work"/base/blobs/sha256/* >/dev/null
for _ in 1 2 3; do "$READ" list "oci:$work/base:big"; done

echo "== peer: GNU tar -tzf over every layer (3 runs)"
manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$work/base/index.json")
layers_of() { python3 -c 'import json,sys; [print(l["digest"].split(":")[1]) for l in json.load(open(sys.argv[1]))["layers"]]' "$work/base/blobs/sha256/$manifest"; }
export work manifest
export -f layers_of
for _ in 1 2 3; do
  /usr/bin/time -f "tar -tzf: %e s wall, %U+%S s CPU (tar and gzip), peak RSS %M KB" \
    bash -c 'n=0; for l in $(layers_of); do n=$((n + $(tar -tzf "$work/base/blobs/sha256/$l" | wc -l))); done; echo "tar -tzf: $n members"'
done
