//! gopack builds itself as one static binary (issue 13 §4): the musl build CI makes
//! (`cargo build --target x86_64-unknown-linux-musl`, in `.ci/run`) has no ELF
//! interpreter and no shared libraries (read with binutils' readelf), says so in
//! `gopack version`, and starts in an image holding nothing but itself, under runc.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{self, gopack, repo_root, run_ok};

const MUSL: &str = "x86_64-unknown-linux-musl";

/// The musl build (dev profile), when it was made (CI makes it before the tests; a developer with
/// `rustup target add x86_64-unknown-linux-musl` and musl-tools can too).
pub(crate) fn musl_gopack() -> Option<PathBuf> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let binary = target_dir.join(MUSL).join("debug/gopack");
    if binary.is_file() {
        return Some(binary);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: CI builds it first (.ci/run: cargo build --target {MUSL})",
        binary.display()
    );
    eprintln!("skipped: needs the static gopack: `cargo build --target {MUSL}`");
    None
}

fn readelf(args: &[&str], binary: &PathBuf) -> String {
    let out = run_ok(Command::new("readelf").args(args).arg(binary));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gopack_builds_as_one_static_musl_binary() {
    let Some(binary) = musl_gopack() else {
        return;
    };
    if !common::require_tool("readelf") {
        return;
    }
    let headers = readelf(&["-lW"], &binary);
    assert!(
        !headers.contains("INTERP"),
        "no ELF interpreter:\n{headers}"
    );
    let dynamic = readelf(&["-dW"], &binary);
    assert!(
        !dynamic.contains("(NEEDED)"),
        "no shared library:\n{dynamic}"
    );
    // It says what it is.
    let out = run_ok(Command::new(&binary).args(["version", "--json"]));
    let version: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(version["gopack"]["target"], MUSL, "{version}");
    assert_eq!(version["gopack"]["static"], true, "{version}");
    assert!(
        version["gopack"]["commit"]
            .as_str()
            .is_some_and(|c| c.len() == 40),
        "{version}"
    );
}

#[test]
fn the_static_gopack_runs_in_an_image_holding_only_itself_under_runc() {
    let Some(binary) = musl_gopack() else {
        return;
    };
    if !common::require_tool("umoci") || !common::require_tool("runc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("img");
    let image = format!("{}:gopack", layout.display());
    run_ok(
        Command::new("umoci")
            .arg("init")
            .arg("--layout")
            .arg(&layout),
    );
    run_ok(Command::new("umoci").args(["new", "--image", &image]));
    // umoci 0.4's `insert` ends the layer's tar stream right after the file's data, without
    // padding or end blocks (opencontainers/umoci#436); gopack reads it as Go's archive/tar
    // (and so Docker and containerd) does.
    run_ok(
        Command::new("umoci")
            .args(["insert", "--image", &image])
            .arg(&binary)
            .arg("/gopack"),
    );
    run_ok(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.entrypoint",
        "/gopack",
    ]));
    // No libc, no loader, no /etc: only a static binary starts here.
    let out = run_ok(
        gopack(&dir.path().join("cache"))
            .arg("run")
            .arg(format!("oci:{image}"))
            .args(["--", "version", "--json"]),
    );
    let version: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(version["gopack"]["static"], true, "{version}");
    assert_eq!(version["gopack"]["target"], MUSL, "{version}");
}
