"""Precision and misses of gopack and of hadolint on the real-world corpus
(testdata/dockerfiles/real: one `.expected` file per Dockerfile, reviewed by hand, listing every
finding a Go reviewer expects as `LINE CODE`; `LINE CODE missed` for a problem gopack does not
report, `none:<kind>` when no gopack rule covers it, `LINE CODE debatable` for a finding a reviewer
rated debatable: reported, it counts neither as right nor as wrong, and not reporting it is no
miss; `#` starts a comment). Precision is given twice: right / all findings (a debatable finding
counts against it, as in the outside review) and right / (all - debatable).

Two sets are scored apart and together: the original corpus (`NN-*`) and the held-out files of
issue 14's outside review (`hNN-*`, scored blind by an outside reviewer before their rules were
fixed). A finding is right when its (line, rule) is expected; hadolint codes are mapped to gopack
rules through each rule's hadolint twins (the `hadolint` field of gopack's rule catalogue, plus
DL1000 "cannot parse" for GO001). Usage:
  python3 bench/lint_corpus.py GOPACK_BIN [--hadolint]"""
import collections, glob, json, os, subprocess, sys

HADOLINT_TWINS = {
    "DL1000": "GO001",
    "DL3062": "GO108", "DL3006": "GO204", "DL3007": "GO204", "DL3002": "GO205",
    "DL3009": "GO209", "DL3019": "GO209", "DL3032": "GO209", "DL3040": "GO209",
    "DL3066": "GO215",
    "DL3020": "GO301", "DL3000": "GO302", "DL4003": "GO303", "DL4004": "GO303",
    "DL3011": "GO304", "DL4000": "GO305", "DL3022": "GO306", "DL3023": "GO306",
    "DL3003": "GO308", "DL4006": "GO309",
}

def expected(path):
    """(expected findings, findings rated debatable) as Counters of "LINE CODE"."""
    out, debatable = collections.Counter(), collections.Counter()
    with open(path[: -len(".Dockerfile")] + ".expected") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line.endswith(" debatable"):
                debatable[line.removesuffix(" debatable")] += 1
            elif line:
                out[line.removesuffix(" missed")] += 1
    return out, debatable

def score(name, got_by_file, exp_by_file, rules=None):
    total = right = deb = exp_total = 0
    keep = lambda c: collections.Counter(
        {k: v for k, v in c.items() if rules is None or k.split()[1] in rules})
    for f, (exp, debatable) in exp_by_file.items():
        got, exp, debatable = keep(got_by_file[f]), keep(exp), keep(debatable)
        total += sum(got.values())
        right += sum((got & exp).values())
        deb += sum((got & debatable).values())
        exp_total += sum(exp.values())
    prec = 100.0 * right / total if total else 100.0
    prec_d = 100.0 * right / (total - deb) if total - deb else 100.0
    print(f"  {name:<32} findings {total:4}  right {right:4}  debatable {deb:3}  "
          f"wrong {total - right - deb:3}  precision {prec:5.1f} % ({prec_d:5.1f} % without "
          f"debatable)  expected {exp_total:4}  missed {exp_total - right:4}")

def gopack_findings(gopack, f):
    out = subprocess.run([gopack, "lint", "--no-dockerignore", "-f", "json", "-t", "none", f],
                         capture_output=True, text=True, check=True).stdout
    return collections.Counter(f"{x['line']} {x['code']}" for x in json.loads(out))

def hadolint_findings(f):
    out = subprocess.run(["hadolint", "--no-fail", "-f", "json", f],
                         capture_output=True, text=True).stdout
    return collections.Counter(
        f"{x['line']} {HADOLINT_TWINS[x['code']]}" for x in json.loads(out or "[]")
        if x["code"] in HADOLINT_TWINS)

def main():
    gopack = sys.argv[1]
    files = sorted(glob.glob("testdata/dockerfiles/real/*.Dockerfile"))
    exp = {f: expected(f) for f in files}
    got = {f: gopack_findings(gopack, f) for f in files}
    had = {f: hadolint_findings(f) for f in files} if "--hadolint" in sys.argv else None
    shared = set(HADOLINT_TWINS.values())
    held_out = lambda f: os.path.basename(f).startswith("h")
    for title, keep in [("original", lambda f: not held_out(f)), ("held-out", held_out),
                        ("all", lambda f: True)]:
        sel = {f: e for f, e in exp.items() if keep(f)}
        print(f"{title}: {len(sel)} real Dockerfiles, {sum(sum(e.values()) for e, _ in sel.values())} expected findings")
        score("gopack", got, sel)
        if had is not None:
            score("hadolint (Go-relevant rules)", had, sel)
            score("hadolint, shared rules only", had, sel, shared)
            score("gopack, shared rules only", got, sel, shared)

if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(__file__), ".."))
    main()
