//! Property tests with time budgets: random bytes and mutated Dockerfiles never panic the linter
//! (front end, rules, renderers) and every finding points inside the text it talks about; the
//! `.dockerignore` matcher agrees with a naive reference matcher and stays fast on adversarial
//! patterns. CI runs a fixed number of cases; `GOPACK_FUZZ_CASES=N` runs more (BENCHMARKS.md
//! records a long run).

use std::time::{Duration, Instant};

use std::path::Path;

use gopack::dockerfile::{self as df, FindingFile, LintConfig, LintInput};
use proptest::prelude::*;

fn corpus_texts() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dockerfiles/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Cases per property: 1024 in CI, more with GOPACK_FUZZ_CASES.
fn cases() -> u32 {
    std::env::var("GOPACK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Every lint of a small input finishes well within this.
const PER_CASE: Duration = Duration::from_secs(2);

fn check(dockerfile: &str, dockerignore: Option<&str>) {
    let start = Instant::now();
    let input = LintInput {
        dockerfile,
        dockerignore,
        check_dockerignore: true,
        context_dir: None,
        facts: Default::default(),
    };
    let findings = df::lint(&input, &LintConfig::default());
    for f in &findings {
        let len = match f.file {
            FindingFile::Dockerfile => dockerfile.len(),
            FindingFile::Dockerignore => dockerignore.map_or(0, str::len),
        };
        assert!(f.line >= 1 && f.column >= 1, "{f:?}");
        assert!(
            f.span.start <= f.span.end && f.span.end <= len,
            "{f:?} outside {len} bytes"
        );
        assert!(df::rule(f.code.as_str()).is_some());
    }
    // Rendering never panics either.
    let report = df::format::FileReport {
        path: "Dockerfile".into(),
        text: dockerfile.to_string(),
        dockerignore_path: dockerignore.map(|_| ".dockerignore".into()),
        dockerignore_text: dockerignore.map(str::to_string),
        findings,
    };
    let reports = [report];
    let _ = df::format::text(&reports, false);
    let _ = df::format::json(&reports);
    let _ = df::format::sarif(&reports);
    assert!(
        start.elapsed() < PER_CASE,
        "lint took {:?}",
        start.elapsed()
    );
}

/// The reference: Docker's element-wise glob, written the obvious (backtracking) way; fine on
/// the short inputs it is given here.
fn naive_glob(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|i| naive_glob(&p[1..], &t[i..])),
        Some('?') => !t.is_empty() && naive_glob(&p[1..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && naive_glob(&p[1..], &t[1..]),
    }
}

fn naive_parts(pat: &[&str], path: &[&str]) -> bool {
    match pat.first() {
        None => path.is_empty(),
        // A trailing `**` needs something under it (Docker: `a/**` is `^a/.*$`); elsewhere it
        // stands for any number of elements, none included.
        Some(&"**") if pat.len() == 1 => !path.is_empty(),
        Some(&"**") => (0..=path.len()).any(|k| naive_parts(&pat[1..], &path[k..])),
        Some(p) => {
            !path.is_empty()
                && naive_glob(
                    &p.chars().collect::<Vec<_>>(),
                    &path[0].chars().collect::<Vec<_>>(),
                )
                && naive_parts(&pat[1..], &path[1..])
        }
    }
}

/// Docker's decision for one path: the last matching pattern (on the path or a parent) wins.
fn naive_excludes(patterns: &[(bool, String)], path: &str) -> bool {
    let elems: Vec<&str> = path.split('/').collect();
    let mut excluded = false;
    for (neg, pat) in patterns {
        let parts: Vec<&str> = pat.split('/').collect();
        if (1..=elems.len()).any(|n| naive_parts(&parts, &elems[..n])) {
            excluded = !neg;
        }
    }
    excluded
}

fn pattern_element() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        Just("?".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        Just("a*".to_string()),
        Just("*b".to_string()),
        Just("a?b".to_string()),
        Just(".go".to_string()),
    ]
}

fn pattern() -> impl Strategy<Value = (bool, String)> {
    (
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![4 => pattern_element(), 1 => Just("**".to_string())],
            1..4,
        ),
    )
        .prop_map(|(neg, parts)| (neg, parts.join("/")))
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec("[ab]{1,3}(\\.go)?", 1..4).prop_map(|p| p.join("/"))
}

/// Pieces of Dockerfile syntax that stress the parser and the rules.
const TOKENS: &[&str] = &[
    "\\\n",
    "`\n",
    "<<EOF\n",
    "EOF\n",
    "<<-'X'\n",
    "[\"",
    "\"]",
    "\"",
    "'",
    "$",
    "${A:-b}",
    "#",
    "# gopack ignore=GO101\n",
    "# escape=`\n",
    "FROM ",
    " AS ",
    "--from=",
    "RUN ",
    "COPY ",
    "ONBUILD ",
    "\r\n",
    "\t",
    "\u{0}",
    "é",
    "|",
    "&&",
    "go build -a ",
    "CGO_ENABLED=0 ",
    "USER ",
    "EXPOSE 99999\n",
    "HEALTHCHECK ",
    "scratch\n",
    "\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, usize),
    Delete(usize, usize),
    DuplicateLine(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (any::<usize>(), 1usize..20).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match *m {
        Mutation::Insert(p, t) => {
            let i = at(p, bytes.len());
            bytes.splice(i..i, TOKENS[t].bytes());
        }
        Mutation::Delete(p, n) => {
            let i = at(p, bytes.len());
            let j = (i + n).min(bytes.len());
            bytes.drain(i..j);
        }
        Mutation::DuplicateLine(p) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let k = p % lines.len();
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    out.push_str(l);
                    if i == k {
                        out.push_str(l);
                    }
                }
                bytes = out.into_bytes();
            }
        }
        Mutation::Truncate(p) => bytes.truncate(at(p, bytes.len())),
    }
    // Mutations may split a UTF-8 sequence; the CLI reads files the same lossy way.
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn dockerignore_matcher_agrees_with_the_reference(
        patterns in proptest::collection::vec(pattern(), 1..5),
        paths in proptest::collection::vec(path(), 1..8),
    ) {
        let text: String = patterns
            .iter()
            .map(|(neg, p)| format!("{}{p}\n", if *neg { "!" } else { "" }))
            .collect();
        let di = df::ignore::Dockerignore::parse(&text);
        for p in &paths {
            prop_assert_eq!(di.excludes(p), naive_excludes(&patterns, p), "{:?} on {}", text, p);
        }
    }

    #[test]
    fn dockerignore_matching_is_fast_on_adversarial_patterns(
        stars in 1usize..60,
        len in 1usize..400,
        tail in "[a-c]{0,3}",
    ) {
        let text = format!("{}b{tail}\n**/{}\n!{}x\n", "*a".repeat(stars), "*a*".repeat(stars), "a*".repeat(stars));
        let di = df::ignore::Dockerignore::parse(&text);
        let start = Instant::now();
        for path in [&"a".repeat(len), &format!("{}/{}", "a".repeat(len), "a".repeat(len))] {
            let _ = di.excludes(path);
        }
        prop_assert!(start.elapsed() < Duration::from_millis(500), "{:?}", start.elapsed());
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                ignore in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let ign = String::from_utf8_lossy(&ignore);
        check(&text, Some(&ign));
        check(&format!("FROM scratch\n{text}"), None);
    }

    #[test]
    fn random_token_soup_never_panics(toks in proptest::collection::vec(0..TOKENS.len(), 0..60)) {
        let text: String = toks.iter().map(|&t| TOKENS[t]).collect();
        check(&text, Some(".git\n!x\n**/*.go\n[a-\n"));
        check(&format!("FROM golang:1.23.5 AS b\n{text}"), None);
    }

    #[test]
    fn mutated_corpus_never_panics(idx in any::<usize>(), muts in proptest::collection::vec(mutation(), 1..8)) {
        let corpus = corpus_texts();
        let mut text = corpus[idx % corpus.len()].clone();
        for m in &muts {
            text = apply(&text, m);
        }
        check(&text, Some(".git\n*_test.go\n"));
    }
}
