//! `gopack size` on binaries built by other Go releases, fetched through the module proxy by
//! the go command itself (`GOTOOLCHAIN=go1.N.M`, see `go help toolchain`; kept in Go's module
//! cache, outside the repository). Nothing in gopack knows Go versions: tables are found by
//! magic and structure, and these binaries prove it.
//!
//! Always tested: the installed Go and go1.27.3 (newer than the installed one). More releases:
//! `GOPACK_SIZE_TOOLCHAINS=go1.22.12,go1.24.4 cargo test size_toolchains`. A toolchain the proxy
//! does not serve is skipped with the reason printed; under `CI`, go1.27.3 must be fetchable.

use std::path::{Path, PathBuf};
use std::process::Command;

use gopack::binary::attribution::{Part, SymbolKind, attribute};

const REQUIRED: &[&str] = &["go1.27.3"];

fn toolchains() -> Vec<(String, bool)> {
    let mut list: Vec<(String, bool)> = REQUIRED.iter().map(|t| (t.to_string(), true)).collect();
    if let Ok(extra) = std::env::var("GOPACK_SIZE_TOOLCHAINS") {
        for t in extra.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            list.push((t.to_string(), false));
        }
    }
    list
}

fn go_with(toolchain: &str) -> Command {
    let mut cmd = Command::new(crate::needs_support::go());
    cmd.env("GOTOOLCHAIN", toolchain);
    cmd
}

/// `go version` under the toolchain; `Err` with Go's message when it cannot be fetched.
fn fetch(toolchain: &str) -> Result<String, String> {
    let out = go_with(toolchain)
        .arg("version")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Builds testdata/needs/tlsclient with `toolchain` for `goarch`, with a go.mod whose go line
/// any release since 1.18 accepts.
fn build(toolchain: &str, goarch: &str, stripped: bool) -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gopack-size-toolchains");
    let src = base.join(format!("src-{toolchain}"));
    std::fs::create_dir_all(&src).unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/needs/tlsclient/main.go");
    std::fs::copy(program, src.join("main.go")).unwrap();
    std::fs::write(
        src.join("go.mod"),
        "module example.com/tlsclient\n\ngo 1.18\n",
    )
    .unwrap();
    let out = base.join(format!(
        "tlsclient-{toolchain}-{goarch}{}",
        if stripped { "-s" } else { "" }
    ));
    let mut cmd = go_with(toolchain);
    cmd.current_dir(&src)
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", goarch)
        .args(["build", "-trimpath"]);
    if stripped {
        cmd.arg("-ldflags=-s");
    }
    let r = cmd.arg("-o").arg(&out).arg(".").output().unwrap();
    assert!(
        r.status.success(),
        "{toolchain} build: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    out
}

#[test]
fn binaries_of_other_go_releases_are_attributed_byte_for_byte() {
    for (toolchain, required) in toolchains() {
        let version = match fetch(&toolchain) {
            Ok(v) => v,
            Err(e) => {
                assert!(
                    !(required && std::env::var_os("CI").is_some()),
                    "{toolchain} must be fetchable in CI: {e}"
                );
                eprintln!("skipped: {toolchain}: not fetchable through the module proxy: {e}");
                continue;
            }
        };
        eprintln!("checking {version}");
        for goarch in ["amd64", "arm64"] {
            let full = std::fs::read(build(&toolchain, goarch, false)).unwrap();
            let stripped = std::fs::read(build(&toolchain, goarch, true)).unwrap();
            let a = attribute(&full, &[]).unwrap_or_else(|e| panic!("{toolchain} {goarch}: {e}"));
            let b = attribute(&stripped, &[])
                .unwrap_or_else(|e| panic!("{toolchain} {goarch} -s: {e}"));
            assert_eq!(a.total(), full.len() as u64, "{toolchain} {goarch}");
            assert_eq!(b.total(), stripped.len() as u64, "{toolchain} {goarch} -s");
            assert!(a.sources.pclntab_functions > 1000, "{toolchain} {goarch}");
            assert_eq!(a.sources.pclntab_functions, b.sources.pclntab_functions);
            let code = |x: &gopack::binary::attribution::Attribution| -> u64 {
                x.symbols
                    .iter()
                    .filter(|s| s.kind == SymbolKind::Function)
                    .map(|s| s.bytes[Part::Code as usize])
                    .sum()
            };
            assert_eq!(
                code(&a),
                code(&b),
                "{toolchain} {goarch}: -s changed the code"
            );
            let text = a.sections.iter().find(|s| s.name == ".text").unwrap();
            assert!(
                text.remainder < text.file_size / 100,
                "{toolchain} {goarch}: {} of .text unattributed",
                text.remainder
            );
            let functab = b.sections.iter().find(|s| s.name == ".gopclntab").unwrap();
            assert!(
                functab.attributed > functab.file_size / 2,
                "{toolchain} {goarch}: only {} of {} function-table bytes given to functions",
                functab.attributed,
                functab.file_size
            );
        }
    }
}
