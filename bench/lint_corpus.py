"""Precision and misses of gopack and of hadolint on the real-world corpus
(testdata/dockerfiles/real: one `.expected` file per Dockerfile, reviewed by hand, listing every
finding a Go reviewer expects as `LINE CODE`).

A finding is right when its (line, rule) is expected; hadolint codes are mapped to gopack rules
through each rule's hadolint twins (`gopack lint --list-rules --format json` is not needed: the
table below is checked against RULES by tests/it/lint_corpus.rs). Usage:
  python3 bench/lint_corpus.py GOPACK_BIN [--hadolint]"""
import collections, glob, json, os, subprocess, sys

HADOLINT_TWINS = {
    "DL3062": "GO108", "DL3006": "GO204", "DL3007": "GO204", "DL3002": "GO205",
    "DL3009": "GO209", "DL3019": "GO209", "DL3032": "GO209", "DL3040": "GO209",
    "DL3020": "GO301", "DL3000": "GO302", "DL4003": "GO303", "DL4004": "GO303",
    "DL3011": "GO304", "DL4000": "GO305", "DL3022": "GO306", "DL3023": "GO306",
    "DL3003": "GO308", "DL4006": "GO309",
}

def expected(path):
    with open(path[: -len(".Dockerfile")] + ".expected") as f:
        # `LINE CODE missed`: expected, and not found by gopack yet.
        return collections.Counter(l.strip().removesuffix(" missed") for l in f if l.strip())

def score(name, got_by_file, exp_by_file, rules=None):
    total = right = exp_total = 0
    for f, exp in exp_by_file.items():
        got = got_by_file[f]
        if rules is not None:
            exp = collections.Counter({k: v for k, v in exp.items() if k.split()[1] in rules})
            got = collections.Counter({k: v for k, v in got.items() if k.split()[1] in rules})
        total += sum(got.values())
        right += sum((got & exp).values())
        exp_total += sum(exp.values())
    prec = 100.0 * right / total if total else 100.0
    print(f"{name:<34} findings {total:4}  right {right:4}  precision {prec:5.1f} %  "
          f"expected {exp_total:4}  missed {exp_total - right:4}")

def main():
    gopack = sys.argv[1]
    files = sorted(glob.glob("testdata/dockerfiles/real/*.Dockerfile"))
    exp = {f: expected(f) for f in files}
    got = {}
    for f in files:
        out = subprocess.run([gopack, "lint", "--no-dockerignore", "-f", "json", "-t", "none", f],
                             capture_output=True, text=True, check=True).stdout
        got[f] = collections.Counter(f"{x['line']} {x['code']}" for x in json.loads(out))
    print(f"corpus: {len(files)} real Dockerfiles, {sum(sum(e.values()) for e in exp.values())} expected findings")
    score("gopack", got, exp)
    if "--hadolint" in sys.argv:
        had = {}
        for f in files:
            out = subprocess.run(["hadolint", "--no-fail", "-f", "json", f],
                                 capture_output=True, text=True).stdout
            had[f] = collections.Counter(
                f"{x['line']} {HADOLINT_TWINS[x['code']]}" for x in json.loads(out or "[]")
                if x["code"] in HADOLINT_TWINS)
        shared = set(HADOLINT_TWINS.values())
        score("hadolint (Go-relevant rules)", had, exp)
        score("hadolint, shared rules only", had, exp, shared)
        score("gopack, shared rules only", got, exp, shared)

if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(__file__), ".."))
    main()
