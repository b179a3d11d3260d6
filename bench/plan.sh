#!/usr/bin/env bash
# Benchmarks for `gopack plan` (issue 4), each compared with its peer in the same run.
#   bash bench/plan.sh [--plan-only]
# 1. `gopack plan --json` on testdata/plan_heavy (gRPC + Prometheus + client-go: ~680 packages,
#    ~460 of them outside the standard library, from ~55 modules) vs `go list -deps -json`
#    alone (goal: <= 1.2x), warm module and build caches.
# 2. runtime-needs detection on a >= 50 MB Go binary (goal: <= 100 ms): bench/needs.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOPACK_CACHE="$work/cache" GOTOOLCHAIN=local

echo "== 1. gopack plan vs go list -deps -json (testdata/plan_heavy)"
cd testdata/plan_heavy
go mod download
printf 'packages in the build: %s, outside the standard library: %s, modules: %s\n' \
  "$(go list -deps . | wc -l)" \
  "$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' . | grep -c .)" \
  "$(go list -deps -f '{{with .Module}}{{.Path}}{{end}}' . | sort -u | grep -c .)"
"$GOPACK" plan --json >/dev/null
# The exact query gopack runs (project::load): the fields it reads, nothing more.
fields=Name,Dir,DepOnly,Imports,ImportPath,Standard,Module,CgoFiles,CFiles,CXXFiles,MFiles,FFiles,SwigFiles,SwigCXXFiles,CgoPkgConfig,CgoLDFLAGS
hyperfine --style basic --warmup 3 --runs 30 --export-json "$work/plan.json" \
  -n "go list -deps -json" "CGO_ENABLED=1 go list -deps -json ." \
  -n "go list (gopack's fields)" "CGO_ENABLED=1 go list -deps -json=$fields ." \
  -n "gopack plan --json" "$GOPACK plan --json" \
  -n "gopack plan" "$GOPACK plan" >/dev/null
python3 - "$work/plan.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["go list -deps -json"]
for name, x in r.items():
    print(f"{name:28s} {x['mean']*1000:7.1f} ms ± {x['stddev']*1000:.1f}   "
          f"ratio {x['mean']/base['mean']:.2f}")
print("goal: gopack plan <= 1.20 x go list -deps -json")
same = r["go list (gopack's fields)"]
print(f"gopack plan --json / go list with the same fields = {r['gopack plan --json']['mean']/same['mean']:.2f}")
PY
cd ../..

[ "${1:-}" = "--plan-only" ] && exit 0
echo "== 2. needs detection on a >= 50 MB Go binary (testdata/plan_heavy, unstripped)"
(cd testdata/plan_heavy && CGO_ENABLED=0 go build -trimpath -o "$work/heavy" .)
ls -l "$work/heavy"
bash bench/needs.sh "$work/heavy"
