#!/usr/bin/env bash
# The edit loop (issue 15): `gopack build` vs bare `CGO_ENABLED=0 go build -trimpath -ldflags=-s`
# of the same package after the same one-line edit, in the same hyperfine run, as a ratio of
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
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
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

measure() { # app compression
  local app=$1 c=$2 flag=()
  [ "$c" = default ] || flag=(--compression "$c")
  (cd "$app_dir" && "$GOPACK" build -q "${flag[@]}" -o "oci:$work/out-$app" "$pkg" >/dev/null)
  (cd "$app_dir" && hyperfine --style basic -N --warmup 1 --runs "$runs" \
    --prepare "$work/edit-$app.sh" --export-json "$work/$app.json" \
    -n "go build" "env CGO_ENABLED=0 go build -trimpath -ldflags=-s -o $work/go-$app $pkg" \
    -n "gopack build" "$GOPACK build -q ${flag[*]} -o oci:$work/out-$app $pkg" >/dev/null)
  python3 - "$work/$app.json" "$app" "$c" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
go, gp = r["go build"], r["gopack build"]
print(f"{sys.argv[2]:6} {sys.argv[3]:8} go build median {go['median']*1000:8.1f} ms (σ {go['stddev']*1000:.0f})"
      f"   gopack build median {gp['median']*1000:8.1f} ms (σ {gp['stddev']*1000:.0f})"
      f"   ratio {gp['median']/go['median']:.3f}  (goal <= 1.10, {len(go['times'])} runs)")
PY
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
