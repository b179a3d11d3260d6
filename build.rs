//! Records what `gopack version` reports about the build itself: the git commit the binary was
//! built from (`GOPACK_GIT_COMMIT` when set, e.g. for builds from a source archive; else
//! `git rev-parse HEAD`), its commit date, and the target triple. Re-runs only when HEAD or the
//! branch it points at moves, so ordinary edits do not rebuild more than they did before.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn watch_git_path(name: &str) {
    if let Some(path) = git(&["rev-parse", "--git-path", name]) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GOPACK_GIT_COMMIT");
    let from_env = std::env::var("GOPACK_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let (commit, date) = match from_env {
        Some(c) => (c.trim().to_string(), String::new()),
        None => {
            watch_git_path("HEAD");
            watch_git_path("packed-refs");
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch_git_path(&branch);
            }
            (
                git(&["rev-parse", "HEAD"]).unwrap_or_default(),
                git(&["show", "-s", "--format=%cI", "HEAD"]).unwrap_or_default(),
            )
        }
    };
    println!("cargo:rustc-env=GOPACK_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=GOPACK_GIT_COMMIT_DATE={date}");
    println!(
        "cargo:rustc-env=GOPACK_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
}
