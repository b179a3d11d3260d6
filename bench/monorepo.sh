#!/usr/bin/env bash
# Many binaries (issue 13): a generated module with N main packages (default 50), each pushed to
# a loopback registry as its own repository, in the same run:
#   gopack  `gopack build ./... --push` (GOPACK_REPO)            one process, one go build
#   ko×N    N `ko build --base-import-paths ./cmd/pNN` invocations (a CI loop over the commands)
#   ko-1    one `ko build --base-import-paths ./cmd/p00 … ./cmd/pNN` (ko's "build everything")
#   bash bench/monorepo.sh [RUNS] [N]
# ko runs with --sbom=none (less work for ko: the comparison is conservative); both build
# linux/amd64 onto the same empty base pulled from the same registry. Every measurement starts
# from a fresh registry and fresh gopack/ko caches; the Go build cache
# is shared and warmed once (`go build ./...`) so what is compared is the tools' own work plus
# linking. Runs alternate ko×N, ko-1, gopack so a change of load hits all three alike; medians.
# Peak RSS: the largest sum of RSS over the whole process tree (the tool and every go/compile/
# link it starts), sampled every 50 ms from /proc. ko comes from the Go module proxy
# (GOBIN=/work/tools go install github.com/google/ko@latest), run only.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
n=${2:-50}
tools=${GOPACK_TOOLS:-/work/tools}
[ -x "$tools/ko" ] || GOBIN="$tools" go install github.com/google/ko@latest
KO="$tools/ko"
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=/tmp/gopack-mono-bench-$$; mkdir "$work"
reg_pid=
stop_registry() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  reg_pid=
}
cleanup() { stop_registry; rm -rf "$work"; }
trap cleanup EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); ko $("$KO" version 2>/dev/null); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

# The module: N commands sharing an internal package; each links net/http and encoding/json.
mod="$work/mono"; mkdir -p "$mod/internal/shared"
printf 'module example.com/mono\n\ngo 1.22\n' >"$mod/go.mod"
cat >"$mod/internal/shared/shared.go" <<'GO'
package shared

import (
	"encoding/json"
	"net/http"
)

// Handler answers with the command's name as JSON.
func Handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"name": name, "path": r.URL.Path})
	})
}
GO
pkgs=()
for i in $(seq -f '%02g' 0 $((n - 1))); do
  mkdir -p "$mod/cmd/p$i"
  cat >"$mod/cmd/p$i/main.go" <<GO
package main

import (
	"log"
	"net/http"

	"example.com/mono/internal/shared"
)

func main() { log.Fatal(http.ListenAndServe(":80$i", shared.Handler("p$i"))) }
GO
  pkgs+=("./cmd/p$i")
done
(cd "$mod" && go build ./... )  # warms the shared Go build cache (compiled packages only)

# The empty base (a config and a manifest without layers), ko's KO_DEFAULTBASEIMAGE and
# gopack's --base, pushed to each fresh registry: nobody reaches the network.
python3 - "$work/empty" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]; os.makedirs(f"{d}/blobs/sha256")
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{d}/blobs/sha256/{h}", "wb").write(b); return h, len(b)
ch, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode())
mh, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{ch}", "size": cs},
    "layers": []}).encode())
open(f"{d}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": f"sha256:{mh}", "size": ms}]}, open(f"{d}/index.json", "w"))
PY

start_registry() { # fresh storage each time: nothing is already there for anyone
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$work/registry"; mkdir -p "$work/registry"
  cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$work/registry.yml" >/dev/null 2>"$work/registry.log" &
  reg_pid=$!
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  curl -sf "http://127.0.0.1:$port/v2/" >/dev/null || { echo "docker-registry did not start" >&2; exit 1; }
  skopeo copy -q --dest-tls-verify=false "oci:$work/empty" "docker://127.0.0.1:$port/empty:latest"
  export KO_DEFAULTBASEIMAGE="127.0.0.1:$port/empty:latest"
}

# measure LABEL CMD…: wall seconds and peak process-tree RSS (MiB), appended to $work/results.
measure() {
  local label=$1; shift
  python3 - "$label" "$work/results" "$@" <<'PY'
import os, subprocess, sys, time
label, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
def tree_rss(root):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(p))
        except (OSError, IndexError, ValueError):
            pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        todo += kids.get(pid, [])
    return total
t = time.perf_counter()
p = subprocess.Popen(["bash", "-c", " ".join(cmd)], stdout=subprocess.DEVNULL, stderr=open(out + ".log", "a"))
peak = 0
while p.poll() is None:
    peak = max(peak, tree_rss(p.pid))
    time.sleep(0.05)
wall = time.perf_counter() - t
if p.returncode != 0:
    sys.exit(f"{label} failed (exit {p.returncode}); see {out}.log")
with open(out, "a") as f:
    f.write(f"{label} {wall:.3f} {peak / 2**20:.0f}\n")
print(f"  {label:7} {wall:8.1f} s   peak tree RSS {peak / 2**20:6.0f} MiB", flush=True)
PY
}

for run in $(seq 1 "$runs"); do
  echo "run $run/$runs (load $(cut -d' ' -f1 /proc/loadavg))"
  start_registry
  rm -rf "$work/kocache"
  ko_loop=""
  for p in "${pkgs[@]}"; do ko_loop+="$KO build --sbom=none --platform=linux/amd64 --base-import-paths $p >/dev/null && "; done
  (cd "$mod" && export KOCACHE="$work/kocache" KO_DOCKER_REPO="127.0.0.1:$port/kon" && measure "ko×$n" "$ko_loop true")
  stop_registry; start_registry; rm -rf "$work/kocache"
  (cd "$mod" && export KOCACHE="$work/kocache" KO_DOCKER_REPO="127.0.0.1:$port/ko1" && measure "ko-1" "$KO build --sbom=none --platform=linux/amd64 --base-import-paths ${pkgs[*]}")
  stop_registry; start_registry; rm -rf "$work/gpcache"
  (cd "$mod" && export GOPACK_CACHE="$work/gpcache" GOPACK_REPO="127.0.0.1:$port/gp" && measure "gopack" "$GOPACK build ./... --push -q --platform linux/amd64 --base 127.0.0.1:$port/empty:latest")
  stop_registry
done

python3 - "$work/results" "$n" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    label, wall, rss = line.split()
    rows.setdefault(label, []).append((float(wall), int(rss)))
med = {k: (st.median(w for w, _ in v), max(r for _, r in v)) for k, v in rows.items()}
g = med["gopack"][0]
n = sys.argv[2]
for k in (f"ko×{n}", "ko-1", "gopack"):
    w, r = med[k]
    print(f"{k:8} median {w:8.1f} s   peak tree RSS {r:6d} MiB   gopack/this {g / w:.2f}")
PY
