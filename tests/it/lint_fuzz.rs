//! Property tests: random bytes and mutated Dockerfiles never panic the linter, and every finding
//! points inside the text it talks about.

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

fn check(dockerfile: &str, dockerignore: Option<&str>) {
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
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

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
