//! Shared by the pclntab and needs tests: builds the programs of `testdata/needs/` with the
//! machine's Go (once per test binary, reusing Go's build cache) and reads `go tool nm`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The Go command: `GOPACK_GO` if set, else `go` on PATH.
pub fn go() -> String {
    std::env::var("GOPACK_GO").unwrap_or_else(|_| "go".to_owned())
}

fn go_command() -> Command {
    let mut cmd = Command::new(go());
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    cmd
}

/// Directory of a test program.
pub fn program_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/needs")
        .join(name)
}

/// How a test binary is built.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Flavor {
    pub goarch: &'static str,
    /// `-ldflags=-s`: no .symtab.
    pub stripped: bool,
}

pub const AMD64: Flavor = Flavor {
    goarch: "amd64",
    stripped: false,
};
pub const AMD64_STRIPPED: Flavor = Flavor {
    goarch: "amd64",
    stripped: true,
};

/// Builds `testdata/needs/<name>` for linux/`goarch` with `CGO_ENABLED=0 -trimpath` (plus
/// `-ldflags=-s` when stripped), once per test binary, and returns the binary's path.
pub fn built(name: &str, flavor: Flavor) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, Flavor), PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(&(name.to_owned(), flavor)) {
        return path.clone();
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gopack-needs-bin");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!(
        "{name}-{}{}",
        flavor.goarch,
        if flavor.stripped { "-s" } else { "" }
    ));
    let mut cmd = go_command();
    cmd.current_dir(program_dir(name))
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", flavor.goarch)
        .args(["build", "-trimpath"]);
    if flavor.stripped {
        cmd.arg("-ldflags=-s");
    }
    cmd.arg("-o").arg(&out).arg(".");
    let result = cmd.output().expect("run go build");
    assert!(
        result.status.success(),
        "go build of {name} ({flavor:?}) failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    built.insert((name.to_owned(), flavor), out.clone());
    out
}

/// Text symbols (`T`/`t`) of an unstripped binary as `go tool nm` prints them: (address, name).
pub fn nm_text_symbols(binary: &Path) -> Vec<(u64, String)> {
    let result = go_command()
        .args(["tool", "nm"])
        .arg(binary)
        .output()
        .expect("run go tool nm");
    assert!(
        result.status.success(),
        "go tool nm failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    String::from_utf8(result.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            // "<addr> <kind> <name>"; generic names contain spaces ("[go.shape.interface {}]").
            let (addr, rest) = line.trim_start().split_once(' ')?;
            let (kind, name) = rest.trim_start().split_once(' ')?;
            matches!(kind, "T" | "t")
                .then(|| (u64::from_str_radix(addr, 16).unwrap(), name.to_owned()))
        })
        .collect()
}
