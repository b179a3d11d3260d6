#!/usr/bin/env bash
# Benchmark for `gopack size` (issue 12) against go-size-analyzer (gsa) in the same run.
#   bash bench/size.sh [BINARY]
# Default binary: caddy v2.11.9 (cmd/caddy) from the Go module proxy, built unstripped (with
# symtab and DWARF, ~80 MB), cached in ${XDG_CACHE_HOME:-~/.cache}/gopack-bench (outside the repo).
# gsa: on PATH or $GOPACK_GSA (github.com/Zxilly/go-size-analyzer/cmd/gsa; run only, AGPL).
# Prints: mean times (hyperfine), the time ratio gopack/gsa (goal <= 0.5), peak RSS of both,
# and the share of the file each leaves unattributed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOTOOLCHAIN=local

bin=${1:-}
if [ -z "$bin" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/gopack-bench"
  bin="$cache/caddy-v2.11.9"
  if [ ! -f "$bin" ]; then
    mkdir -p "$cache"
    dir=$(go mod download -json github.com/caddyserver/caddy/v2@v2.11.9 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$cache/caddy-src"; cp -r "$dir" "$cache/caddy-src"; chmod -R u+w "$cache/caddy-src"
    (cd "$cache/caddy-src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$bin" ./cmd/caddy)
  fi
fi
gsa=${GOPACK_GSA:-$(command -v gsa || true)}
echo "== binary: $bin ($(stat -c %s "$bin") bytes)"
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"

cmds=(-n "gopack size" "$GOPACK size $bin --json > $work/gopack.json")
if [ -n "$gsa" ]; then
  cmds+=(-n "gsa" "$gsa -f json -o $work/gsa.json $bin")
else
  echo "note: gsa not found (set GOPACK_GSA): timing gopack alone"
fi
hyperfine --style basic --warmup 1 --runs 5 --export-json "$work/times.json" "${cmds[@]}" >/dev/null

/usr/bin/time -f "%M" -o "$work/rss-gopack" "$GOPACK" size "$bin" --json > "$work/gopack.json"
[ -n "$gsa" ] && /usr/bin/time -f "%M" -o "$work/rss-gsa" "$gsa" -f json -o "$work/gsa.json" "$bin" >/dev/null 2>&1

python3 - "$work" "$bin" <<'PY'
import json, os, sys
work, binary = sys.argv[1], sys.argv[2]
r = {x["command"]: x for x in json.load(open(f"{work}/times.json"))["results"]}
rss = lambda n: int(open(f"{work}/rss-{n}").read().split()[-1]) if os.path.exists(f"{work}/rss-{n}") else None
gp = r["gopack size"]
print(f"gopack size  {gp['mean']:7.3f} s ± {gp['stddev']:.3f}   peak RSS {rss('gopack')/1024:7.1f} MiB")
ours = json.load(open(f"{work}/gopack.json"))["totals"]
print(f"             unattributed (not owned by a package): {100 - ours['owner_share']:.1f}% of {ours['file_size']} bytes")
if "gsa" in r:
    g = r["gsa"]
    print(f"gsa          {g['mean']:7.3f} s ± {g['stddev']:.3f}   peak RSS {rss('gsa')/1024:7.1f} MiB")
    gj = json.load(open(f"{work}/gsa.json"))
    known = sum(min(s["known_size"], s["file_size"]) for s in gj["sections"] if not s["only_in_memory"])
    print(f"             unattributed (its own section known sizes): {100 * (gj['size'] - known) / gj['size']:.1f}%")
    print(f"ratio gopack/gsa = {gp['mean'] / g['mean']:.3f}  (goal <= 0.5)")
PY
