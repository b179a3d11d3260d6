#!/usr/bin/env bash
# gopack vs ko (issue 15), the same apps onto the same empty base, in the same run:
#   bash bench/compare-ko.sh [RUNS] [APP...]     APP: hello (default), caddy
# ko comes from the Go module proxy (GOBIN=/work/tools go install github.com/google/ko@latest,
# run only). A loopback docker-registry holds an empty linux/amd64 image (no layers) that is
# ko's KO_DEFAULTBASEIMAGE and gopack's --base. Both write an OCI layout (ko --push=false
# --oci-layout-path; gopack -o oci:DIR), each with its own defaults (ko: -trimpath, SBOM on;
# gopack: -trimpath -ldflags=-s, needed base files). Printed: compressed image size (manifest's
# config + layers, counted the same way for both), and medians of alternating runs for a warm
# rebuild (nothing changed) and an edit → image (one string literal changed before every run).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift $(( $# > 0 ? 1 : 0 ))
apps=("$@"); [ ${#apps[@]} -gt 0 ] || apps=(hello)
tools=${GOPACK_TOOLS:-/work/tools}
[ -x "$tools/ko" ] || GOBIN="$tools" go install github.com/google/ko@latest
KO="$tools/ko"
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
# ko names the layout after its path, which must be a valid repository name (lower case).
work=/tmp/gopack-ko-bench-$$; mkdir "$work"
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export GOPACK_CACHE="$work/gopack-cache" KOCACHE="$work/ko-cache"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); $("$KO" version 2>/dev/null | sed 's/^/ko /'); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
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

# The empty base: a config with platform and nothing else, a manifest without layers.
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
skopeo copy -q --dest-tls-verify=false "oci:$work/empty" "docker://127.0.0.1:$port/empty:latest"
export KO_DEFAULTBASEIMAGE="127.0.0.1:$port/empty:latest" KO_DOCKER_REPO="127.0.0.1:$port/ko"
base=(--base "docker://127.0.0.1:$port/empty:latest" --insecure-registry "127.0.0.1:$port")

image_size() { # layout → bytes of config + layers of its first manifest
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
def blob(desc): return json.load(open(f"{d}/blobs/sha256/{desc['digest'].split(':')[1]}"))
top = json.load(open(f"{d}/index.json"))["manifests"][0]
m = blob(top)
while "manifests" in m: m = blob(m["manifests"][0])
print(m["config"]["size"] + sum(l["size"] for l in m["layers"]))
PY
}

alternate() { # label, prepare command ("" for none), ko command, gopack command: RUNS pairs,
  # alternating ko and gopack runs so a change of machine load hits both alike; medians.
  python3 - "$runs" "$@" <<'PY'
import shlex, statistics as st, subprocess, sys, time
runs, label, prepare, ko, gp = int(sys.argv[1]), *sys.argv[2:]
def timed(cmd):
    if prepare:
        subprocess.run(shlex.split(prepare), check=True)
    t = time.perf_counter()
    subprocess.run(shlex.split(cmd), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
timed(ko); timed(gp)  # warm-up
k, g = [], []
for _ in range(runs):
    k.append(timed(ko)); g.append(timed(gp))
print(f"{label:28} ko median {st.median(k)*1000:9.1f} ms   gopack median {st.median(g)*1000:9.1f} ms"
      f"   ratio gopack/ko {st.median(g)/st.median(k):.3f}  ({runs} alternating pairs)")
PY
}

for app in "${apps[@]}"; do
  case "$app" in
    hello) src="$work/hello"; pkg=.; cp -r testdata/hello "$src"
           file="$src/main.go"; sed_expr='s/w\.Write(\[\]byte("ok[^"]*"))/w.Write([]byte("ok @@\\n"))/' ;;
    caddy) dir=$(cd "$work" && go mod download -json "github.com/caddyserver/caddy/v2@${CADDY_VERSION:-v2.11.9}" |
             python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
           src="$work/caddy"; pkg=./cmd/caddy; cp -r "$dir" "$src"; chmod -R u+w "$src"
           file="$src/cmd/main.go"; sed_expr='s/\[FATAL\] no arguments provided by OS[^\\]*\\n/[FATAL] no arguments provided by OS @@\\n/' ;;
    *) echo "unknown app $app" >&2; exit 2 ;;
  esac
  printf '%s\n' "$sed_expr" > "$work/edit-$app.sed"
  printf '#!/bin/sh\nsed -i "$(sed "s/@@/$(date +%%s%%N)/" %s)" %s\n' "$work/edit-$app.sed" "$file" > "$work/edit-$app.sh"
  chmod +x "$work/edit-$app.sh"
  ko_cmd="$KO build --bare --push=false --oci-layout-path $work/ko-$app $pkg"
  gp_cmd="$GOPACK build -q ${base[*]} -o oci:$work/gopack-$app $pkg"
  echo "== $app"
  (cd "$src" && $ko_cmd >/dev/null 2>"$work/ko.log" || { cat "$work/ko.log" >&2; exit 1; })
  (cd "$src" && $gp_cmd >/dev/null)
  ks=$(image_size "$work/ko-$app"); gs=$(image_size "$work/gopack-$app")
  printf '%-28s ko %10d B   gopack %10d B   ratio gopack/ko %.3f\n' "compressed image" "$ks" "$gs" "$(echo "$gs/$ks" | bc -l)"
  (cd "$src" && alternate "warm rebuild (no change)" "" "$ko_cmd" "$gp_cmd")
  (cd "$src" && alternate "edit → image" "$work/edit-$app.sh" "$ko_cmd" "$gp_cmd")
done
