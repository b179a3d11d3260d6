//! Shared by the `gopack size` tests: Go binaries of many shapes, built once per test binary with
//! the machine's Go (stripped and not, other architectures, PIE, cgo with DWARF, external
//! linking), and `go tool nm -size` read back.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::needs_support::{self, Flavor};

/// A Go program of `testdata/` built with `env` and `args`, once per test binary.
pub fn go_build(program: &str, name: &str, env: &[(&str, &str)], args: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gopack-size-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(name);
    let mut cmd = go();
    cmd.current_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(program),
    )
    .env("CGO_ENABLED", "0")
    .envs(env.iter().copied())
    .arg("build")
    .args(args)
    .arg("-o")
    .arg(&out)
    .arg(".");
    let result = cmd.output().expect("run go build");
    assert!(
        result.status.success(),
        "go build of {program} ({name}) failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    built.insert(name.to_string(), out.clone());
    out
}

pub fn go() -> Command {
    let mut cmd = Command::new(needs_support::go());
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    cmd
}

/// Whether a C compiler is there for cgo builds (skips with a printed reason, fails under CI).
pub fn have_cc() -> bool {
    crate::common::require_tool("gcc")
}

/// Every binary shape the size tests cover, as (label, path).
pub fn all_binaries() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (goarch, stripped) in [
        ("amd64", false),
        ("amd64", true),
        ("arm64", false),
        ("386", false),
        ("arm", true),
        ("s390x", false),
        ("mips", true),
    ] {
        let p = needs_support::built("tlsclient", Flavor { goarch, stripped });
        out.push((
            format!("tlsclient {goarch}{}", if stripped { " -s" } else { "" }),
            p,
        ));
    }
    out.push((
        "compute amd64".into(),
        needs_support::built("compute", needs_support::AMD64),
    ));
    out.push((
        "hello pie".into(),
        go_build("hello", "hello-pie", &[], &["-buildmode=pie"]),
    ));
    out.push((
        "hello -s -w".into(),
        go_build("hello", "hello-sw", &[], &["-ldflags=-s -w"]),
    ));
    out.push((
        "embed".into(),
        go_build("size/embed", "embed", &[], &["-trimpath"]),
    ));
    if have_cc() {
        out.push((
            "cgo dynamic".into(),
            go_build("size/cgo", "cgo", &[("CGO_ENABLED", "1")], &[]),
        ));
        out.push((
            "cgo external static".into(),
            go_build(
                "size/cgo",
                "cgo-static",
                &[("CGO_ENABLED", "1")],
                &["-ldflags=-linkmode external -extldflags -static"],
            ),
        ));
    }
    out
}

/// `go tool nm -size` of an unstripped binary: (address, size, kind, name).
pub fn nm_sizes(binary: &Path) -> Vec<(u64, u64, char, String)> {
    let out = go()
        .args(["tool", "nm", "-size"])
        .arg(binary)
        .output()
        .expect("run go tool nm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            // "<addr> <size> <kind> <name>"; generic names contain spaces.
            let (addr, rest) = l.trim_start().split_once(' ')?;
            let (size, rest) = rest.trim_start().split_once(' ')?;
            let (kind, name) = rest.trim_start().split_once(' ')?;
            Some((
                u64::from_str_radix(addr, 16).ok()?,
                size.parse().ok()?,
                kind.chars().next()?,
                name.to_string(),
            ))
        })
        .collect()
}
