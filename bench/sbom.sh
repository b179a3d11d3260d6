#!/usr/bin/env bash
# Benchmark for `gopack sbom` (issue 12) against syft in the same run, on the same binary.
#   bash bench/sbom.sh [BINARY]
# Default binary: caddy v2.11.9 (cmd/caddy), built as bench/size.sh builds it (cached in
# ${XDG_CACHE_HOME:-~/.cache}/gopack-bench; run bench/size.sh once to make it).
# syft: on PATH or $GOPACK_SYFT (github.com/anchore/syft/cmd/syft; run only). Both write
# CycloneDX JSON; syft runs with its defaults for a file (what `syft scan file:BIN` does).
# Prints mean times (hyperfine), the ratio gopack/syft (goal <= 0.1), peak RSS of both, and
# whether both list the same Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bin=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/gopack-bench/caddy-v2.11.9}
[ -f "$bin" ] || { echo "no binary $bin: run bench/size.sh once, or name one" >&2; exit 2; }
syft=${GOPACK_SYFT:-$(command -v syft || echo /work/tools/syft)}
export SYFT_CHECK_FOR_APP_UPDATE=false
echo "== binary: $bin ($(stat -c %s "$bin") bytes)"
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
hyperfine --style basic --warmup 1 --runs 5 --export-json "$work/times.json" \
  -n "gopack sbom" "$GOPACK sbom $bin -f cyclonedx -o $work/gopack.json" \
  -n "syft" "$syft scan file:$bin -q -o cyclonedx-json=$work/syft.json" \
  >/dev/null
/usr/bin/time -f "%M" -o "$work/rss-gopack" "$GOPACK" sbom "$bin" -f cyclonedx -o "$work/gopack.json" 2>/dev/null
/usr/bin/time -f "%M" -o "$work/rss-syft" "$syft" scan "file:$bin" -q -o "cyclonedx-json=$work/syft.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
r = {x["command"]: x for x in json.load(open(f"{work}/times.json"))["results"]}
rss = lambda n: int(open(f"{work}/rss-{n}").read().split()[-1]) / 1024
def modules(path):
    doc = json.load(open(path))
    comps = doc.get("components", []) + [doc["metadata"].get("component", {})]
    # A main module built from a source tree has no version: gopack leaves it out, syft says
    # UNKNOWN; both count as "no version".
    norm = lambda v: "" if v in (None, "", "(devel)", "UNKNOWN") else v
    return {(c["name"], norm(c.get("version"))) for c in comps
            if c.get("purl", "").startswith("pkg:golang/") and c["name"] != "stdlib"}
g, s = r["gopack sbom"], r["syft"]
print(f"gopack sbom  {g['mean']:7.3f} s ± {g['stddev']:.3f}   peak RSS {rss('gopack'):7.1f} MiB")
print(f"syft         {s['mean']:7.3f} s ± {s['stddev']:.3f}   peak RSS {rss('syft'):7.1f} MiB")
print(f"ratio gopack/syft = {g['mean'] / s['mean']:.3f}  (goal <= 0.1)")
ours, theirs = modules(f"{work}/gopack.json"), modules(f"{work}/syft.json")
print(f"modules: gopack {len(ours)}, syft {len(theirs)}, same set: {ours == theirs}")
if ours != theirs:
    print("  only gopack:", sorted(ours - theirs)[:5]); print("  only syft:", sorted(theirs - ours)[:5])
PY
