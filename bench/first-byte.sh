#!/usr/bin/env bash
# Time to the first pushed byte (issue 15, goal 3): a 3-platform build + push of the same app by ko
# and by gopack to the same loopback docker-registry, onto the same empty 3-platform base
# (linux/amd64, linux/arm64, linux/arm/v7; an index of images without layers). Printed per run:
# seconds from the command's start to the registry's first blob upload (`POST …/blobs/uploads/`,
# from the registry's JSON log: response time − duration), and to the command's end.
#   bash bench/first-byte.sh [RUNS] [APP]      APP: hello (default) or caddy
# Each run starts from fresh tool caches (gopack's, ko's) and a fresh registry repository; the Go
# build cache is warmed once for all three platforms, so what differs is each tool's own
# pipeline (ko: one `go build` per platform; gopack: its scheduler) plus the three links.
# ko comes from the Go module proxy (GOBIN=/work/tools go install github.com/google/ko@latest).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
app=${2:-hello}
tools=${GOPACK_TOOLS:-/work/tools}
[ -x "$tools/ko" ] || GOBIN="$tools" go install github.com/google/ko@latest
KO="$tools/ko"
cargo build --release --quiet --bin gopack
GOPACK="$PWD/target/release/gopack"
work=/tmp/gopack-ttfb-$$; mkdir "$work"
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
platforms=linux/amd64,linux/arm64,linux/arm/v7
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); ko $("$KO" version 2>/dev/null); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: info
  formatter: json
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

# The empty 3-platform base: one config + manifest per platform, no layers, one index.
python3 - "$work/empty" "$platforms" <<'PY'
import hashlib, json, os, sys
d, plats = sys.argv[1], sys.argv[2].split(","); os.makedirs(f"{d}/blobs/sha256")
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{d}/blobs/sha256/{h}", "wb").write(b); return h, len(b)
entries = []
for p in plats:
    os_, arch, *var = p.split("/")
    plat = {"architecture": arch, "os": os_, **({"variant": var[0]} if var else {})}
    ch, cs = put(json.dumps({**plat, "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    mh, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{ch}", "size": cs},
        "layers": []}).encode())
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{mh}",
                    "size": ms, "platform": plat})
ih, is_ = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                          "manifests": entries}).encode())
open(f"{d}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": f"sha256:{ih}", "size": is_}]}, open(f"{d}/index.json", "w"))
PY
skopeo copy -q --all --dest-tls-verify=false "oci:$work/empty" "docker://127.0.0.1:$port/empty:latest"

case "$app" in
  hello) src="$work/hello"; pkg=.; cp -r testdata/hello "$src" ;;
  caddy) dir=$(cd "$work" && go mod download -json "github.com/caddyserver/caddy/v2@${CADDY_VERSION:-v2.11.9}" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
         src="$work/caddy"; pkg=./cmd/caddy; cp -r "$dir" "$src"; chmod -R u+w "$src"; (cd "$src" && go mod download) ;;
  *) echo "unknown app $app" >&2; exit 2 ;;
esac
# Warm the Go build cache for every platform (both tools build with -trimpath).
for p in ${platforms//,/ }; do
  IFS=/ read -r os arch var <<<"$p"
  (cd "$src" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=${var#v} go build -trimpath -ldflags=-s -o /dev/null "$pkg")
  (cd "$src" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=${var#v} go build -trimpath -o /dev/null "$pkg")
done

# seconds from $1 (ns since the epoch) to the first blob upload into repository $2 after it.
first_upload() {
  python3 - "$work/registry.log" "$1" "$2" <<'PY'
import json, re, sys
from datetime import datetime
log, start, repo = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def dur(s):
    m = re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s)", s); f = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1}
    return float(m.group(1)) * f[m.group(2)]
best = None
for line in open(log, encoding="utf-8", errors="replace"):
    try: d = json.loads(line)
    except ValueError: continue
    if d.get("http.request.method") != "POST" or "http.response.duration" not in d: continue
    if not d.get("http.request.uri", "").startswith(f"/v2/{repo}/blobs/uploads/"): continue
    t, frac = d["time"].rstrip("Z").split(".") if "." in d["time"] else (d["time"].rstrip("Z"), "0")
    ns = int(datetime.fromisoformat(t + "+00:00").timestamp()) * 10**9 + int(frac.ljust(9, "0")[:9])
    at = ns - dur(d["http.response.duration"]) * 1e9
    if at >= start and (best is None or at < best): best = at
print("n/a" if best is None else f"{(best - start) / 1e9:.2f}")
PY
}

export KO_DEFAULTBASEIMAGE="127.0.0.1:$port/empty:latest"
for i in $(seq 1 "$runs"); do
  for tool in ko gopack; do
    rm -rf "$work/cache"; mkdir "$work/cache"
    repo="$tool$i"
    t0=$(date +%s%N)
    if [ "$tool" = ko ]; then
      (cd "$src" && KOCACHE="$work/cache" KO_DOCKER_REPO="127.0.0.1:$port/$repo" \
        "$KO" build --bare --sbom=none --platform "$platforms" "$pkg" >/dev/null 2>"$work/err") || { cat "$work/err" >&2; exit 1; }
    else
      (cd "$src" && GOPACK_CACHE="$work/cache" "$GOPACK" build -q --platform "$platforms" \
        --base "docker://127.0.0.1:$port/empty:latest" --insecure-registry "127.0.0.1:$port" \
        --push -t "127.0.0.1:$port/$repo:latest" "$pkg" >/dev/null 2>"$work/err") || { cat "$work/err" >&2; exit 1; }
    fi
    t1=$(date +%s%N)
    sleep 0.3   # the registry writes its log line after the response
    printf 'run %d %-6s first pushed byte %6s s   done %6.2f s   (load %s)\n' "$i" "$tool" \
      "$(first_upload "$t0" "$repo")" "$(echo "($t1-$t0)/1000000000" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
