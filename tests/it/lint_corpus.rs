//! Differential parsing: gopack's Dockerfile model against BuildKit's own parser (PyPI
//! `dockerfile`, a binding to moby/buildkit's `frontend/dockerfile/parser`) on the corpus in
//! testdata/dockerfiles/corpus. Instruction keywords and start/end lines must agree, except for
//! the documented cases below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gopack::dockerfile::Dockerfile;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dockerfiles/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    files.sort();
    files
}

/// Where gopack and BuildKit's *syntax* parser differ on purpose. BuildKit's parser builds an
/// AST and leaves these errors to its later instruction stage (`instructions.Parse`), which
/// rejects them at build time; gopack reports them at once as GO001.
const REJECTED_LATER_BY_BUILDKIT: &[&str] = &[
    "090-broken-no-from",              // "no build stage in current context"
    "093-broken-unknown-instruction",  // "unknown instruction: BOGUS"
    "094-broken-from-as-missing",      // "AS requires an argument" (FROM with 3 words)
    "096-broken-duplicate-stage",      // "duplicate stage name"
    "097-broken-copy-one-arg",         // "COPY requires at least two arguments"
    "099-broken-env-no-value",         // "ENV requires at least one argument"
    "092-broken-only-comments",        // empty AST: no FROM
    "091-broken-empty",                // "file with no instructions"
    "095-broken-unterminated-heredoc", // heredoc runs to EOF; BuildKit accepts, build fails
];

fn buildkit(files: &[PathBuf]) -> BTreeMap<String, serde_json::Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dockerfiles/buildkit_dump.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .expect("python3 is needed for this test (BuildKit's parser oracle)");
    assert!(
        out.status.success(),
        "BuildKit parser oracle failed; install it with `pip install dockerfile`:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle prints JSON")
}

#[test]
fn corpus_has_at_least_sixty_dockerfiles() {
    assert!(corpus().len() >= 60, "corpus has {} files", corpus().len());
}

#[test]
fn instructions_and_lines_agree_with_buildkit() {
    let files = corpus();
    let oracle = buildkit(&files);
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let ours = Dockerfile::parse(&text);
        let theirs = &oracle[&file.display().to_string()];
        if REJECTED_LATER_BY_BUILDKIT.contains(&stem.as_str()) {
            if ours.is_ok() {
                mismatches.push(format!("{stem}: gopack should reject this file"));
            }
            continue;
        }
        let ours = match ours {
            Ok(df) => df,
            Err(e) => {
                mismatches.push(format!(
                    "{stem}: gopack failed to parse: {e}; BuildKit: {theirs}"
                ));
                continue;
            }
        };
        let Some(expected) = theirs.get("instructions") else {
            mismatches.push(format!(
                "{stem}: BuildKit failed ({theirs}) but gopack parsed it"
            ));
            continue;
        };
        let expected: Vec<(String, usize, usize)> =
            serde_json::from_value(expected.clone()).unwrap();
        let got: Vec<(String, usize, usize)> = ours
            .instructions
            .iter()
            .map(|i| (i.keyword.to_string(), i.line, i.end_line))
            .collect();
        if got != expected {
            mismatches.push(format!(
                "{stem}:\n  gopack:   {got:?}\n  buildkit: {expected:?}"
            ));
        }
        compared += 1;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} files differ:\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
    assert!(compared >= 60, "only {compared} files compared");
}
