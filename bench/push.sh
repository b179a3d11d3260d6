#!/usr/bin/env bash
# Registry push benchmark (issue 3), gopack and its peer in the same run:
#   bash bench/push.sh [RUNS]
# The hello image (`gopack build` of testdata/hello, an OCI layout) is pushed to a fresh
# loopback docker-registry (plain HTTP) by gopack's client (bench/push_layout.rs) and by
# `skopeo copy oci:… docker://…`; each first push goes to an empty registry, then the same
# image is pushed again unchanged (gopack must send 0 blob bytes). Wall time of the whole
# process for both tools; median of RUNS (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet --bin gopack --example push_layout
GOPACK="$PWD/target/release/gopack"
PUSH="$PWD/target/release/examples/push_layout"
work=$(mktemp -d)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export GOPACK_CACHE="$work/cache"

(cd testdata/hello && "$GOPACK" build -q -o "oci:$work/hello" >/dev/null)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() {
  local dir="$work/reg-$1" port; port=$(free_port)
  mkdir -p "$dir/storage"
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/config.yml" >/dev/null 2>"$dir/log" &
  reg_pid=$!
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  PORT=$port
}
stop_registry() { kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; reg_pid=; }
now() { date +%s%N; }

results="$work/results.txt"
for i in $(seq 1 "$runs"); do
  # gopack: fresh registry, fresh copy of the layout (no mount records), first push then re-push.
  rm -rf "$work/layout" && cp -r "$work/hello" "$work/layout"
  start_registry "g$i"
  t0=$(now); first=$("$PUSH" "$work/layout" "127.0.0.1:$PORT/hello:v1" --insecure); t1=$(now)
  again=$("$PUSH" "$work/layout" "127.0.0.1:$PORT/hello:v1" --insecure); t2=$(now)
  stop_registry
  # skopeo: the same layout to a fresh registry, then again.
  start_registry "s$i"
  t3=$(now)
  skopeo copy -q --dest-tls-verify=false "oci:$work/hello" "docker://127.0.0.1:$PORT/hello:v1"
  t4=$(now)
  skopeo copy -q --dest-tls-verify=false "oci:$work/hello" "docker://127.0.0.1:$PORT/hello:v1"
  t5=$(now)
  stop_registry
  echo "$(( (t1-t0)/1000 )) $(( (t2-t1)/1000 )) $(( (t4-t3)/1000 )) $(( (t5-t4)/1000 )) $first $again" >>"$results"
done

python3 - "$results" "$work/hello" <<'PY'
import json, os, statistics, sys
rows = []
for line in open(sys.argv[1]):
    a, b, c, d, rest = line.split(" ", 4)
    first, again = rest.strip().split("} {")
    rows.append((int(a), int(b), int(c), int(d), json.loads(first + "}"), json.loads("{" + again)))
med = lambda i: statistics.median(r[i] for r in rows) / 1000
size = sum(os.path.getsize(os.path.join(sys.argv[2], "blobs/sha256", f))
           for f in os.listdir(os.path.join(sys.argv[2], "blobs/sha256")))
g1, g2, s1, s2 = med(0), med(1), med(2), med(3)
print(f"hello image: {size} bytes of blobs in the layout; {len(rows)} runs, medians, whole process")
print(f"first push   gopack {g1:7.1f} ms   skopeo {s1:7.1f} ms   ratio gopack/skopeo = {g1/s1:.2f}  (goal <= 1.0)")
print(f"re-push      gopack {g2:7.1f} ms   skopeo {s2:7.1f} ms   gopack re-push / first = {g2/g1:.2f}  (goal <= 0.2)")
print(f"blob bytes uploaded by gopack: first {rows[0][4]['blob_bytes_uploaded']}, re-push "
      f"{max(r[5]['blob_bytes_uploaded'] for r in rows)} (goal 0)")
PY
