#!/usr/bin/env bash
# The edit loop (issue 15): `gopack build` vs bare `CGO_ENABLED=0 go build -trimpath -ldflags=-s`
# of the same package after the same one-line edit, in the same run (alternating), as a ratio of
# medians. Before every timed run the edit gives one string literal a new 19-digit value, so Go
# recompiles the package and relinks for both commands.
#   bash bench/edit.sh [hello|caddy|both] [RUNS] [COMPRESSION...]
# hello: testdata/hello. caddy: github.com/caddyserver/caddy/v2 cmd/caddy from the module proxy
# (copied out of the module cache into a temp dir, never into the repository; set CADDY_VERSION
# to pin, default the version this was measured with). Each COMPRESSION (default: gopack's
# default) is timed against go build in its own run. GOPACK_TRACE=1 shows one traced edit.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-hello}
runs=${2:-10}
shift $(( $# > 2 ? 2 : $# ))
compressions=("$@")
[ ${#compressions[@]} -gt 0 ] || compressions=(default)
# GOPACK_BIN=path measures another gopack build (e.g. main's, for a before/after figure).
if [ -n "${GOPACK_BIN:-}" ]; then GOPACK=$GOPACK_BIN; else
  cargo build --release --quiet --bin gopack; GOPACK="$PWD/target/release/gopack"; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOPACK_CACHE="$work/cache"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

setup_app() { # name → sets app_dir, pkg, edit_file, edit_sed
  case "$1" in
    hello)
      app_dir="$work/hello"; pkg=.
      cp -r testdata/hello "$app_dir"
      edit_file="$app_dir/main.go"
      edit_sed='s/w\.Write(\[\]byte("ok[^"]*"))/w.Write([]byte("ok @@\\n"))/' ;;
    caddy)
      local version=${CADDY_VERSION:-v2.11.9} dir
      dir=$(cd "$work" && go mod download -json "github.com/caddyserver/caddy/v2@$version" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
      app_dir="$work/caddy"; pkg=./cmd/caddy
      cp -r "$dir" "$app_dir"; chmod -R u+w "$app_dir"
      edit_file="$app_dir/cmd/main.go"
      edit_sed='s/\[FATAL\] no arguments provided by OS[^\\]*\\n/[FATAL] no arguments provided by OS @@\\n/' ;;
    *) echo "unknown app $1 (hello or caddy)" >&2; exit 2 ;;
  esac
  printf '%s\n' "$edit_sed" > "$work/edit-$1.sed"
  printf '#!/bin/sh\nsed -i "$(sed "s/@@/$(date +%%s%%N)/" %s)" %s\n' "$work/edit-$1.sed" "$edit_file" > "$work/edit-$1.sh"
  chmod +x "$work/edit-$1.sh"
  "$work/edit-$1.sh"
  grep -q "$(date +%s | cut -c1-5)" "$edit_file" || { echo "the edit did not apply to $edit_file" >&2; exit 1; }
}

measure() { # app compression: alternating runs (edit, go build, edit, gopack build), so a
  # change of machine load hits both alike; medians of wall time, means of CPU time.
  local app=$1 c=$2 flag=()
  [ "$c" = default ] || flag=(--compression "$c")
  (cd "$app_dir" && "$GOPACK" build -q "${flag[@]}" -o "oci:$work/out-$app" "$pkg" >/dev/null)
  (cd "$app_dir" && python3 - "$runs" "$app" "$c" "$work/edit-$app.sh" \
      "env CGO_ENABLED=0 go build -trimpath -ldflags=-s -o $work/go-$app $pkg" \
      "$GOPACK build -q ${flag[*]} -o oci:$work/out-$app $pkg" <<'PY'
import os, resource, shlex, statistics as st, subprocess, sys, time
runs, app, comp, edit, go_cmd, gp_cmd = int(sys.argv[1]), *sys.argv[2:]
def timed(cmd):
    subprocess.run([edit], check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(shlex.split(cmd), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
timed(go_cmd); timed(gp_cmd)  # warm-up
go, gp = [], []
for _ in range(runs):
    go.append(timed(go_cmd)); gp.append(timed(gp_cmd))
gw, pw = st.median(w for w, _ in go), st.median(w for w, _ in gp)
gc, pc = st.mean(c for _, c in go), st.mean(c for _, c in gp)
pairs = st.median(p[0] / g[0] for g, p in zip(go, gp))
print(f"{app:6} {comp:8} go build median {gw*1000:8.1f} ms   gopack build median {pw*1000:8.1f} ms"
      f"   ratio {pw/gw:.3f} (median of paired ratios {pairs:.3f}; goal <= 1.10; {runs} pairs)")
print(f"{'':15} CPU (user+sys, mean) go build {gc*1000:8.1f} ms   gopack build {pc*1000:8.1f} ms   ratio {pc/gc:.3f}")
PY
  )
}

for app in $([ "$which" = both ] && echo hello caddy || echo "$which"); do
  setup_app "$app"
  echo "== $app: first build (not timed)"
  (cd "$app_dir" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/go-$app" "$pkg")
  ls -l "$work/go-$app" | awk '{printf "   binary %d bytes\n", $5}'
  for c in "${compressions[@]}"; do measure "$app" "$c"; done
  if [ -n "${GOPACK_TRACE:-}" ]; then
    echo "   one traced edit:"
    "$work/edit-$app.sh"
    (cd "$app_dir" && "$GOPACK" build -q -o "oci:$work/out-$app" "$pkg" 2>&1 >/dev/null | sed 's/^/   /')
  fi
done
