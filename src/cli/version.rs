//! `gopack version [--json]`: this gopack (version, the git commit it was built from, its
//! target and whether the binary is static) and the Go it would build with (`GOPACK_GO`, else
//! `go` on PATH; asked with `GOTOOLCHAIN=local`, so nothing is downloaded). A missing Go is
//! reported, not an error: `version` is what people run to find out what is installed.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::CommandResult;

#[derive(Args)]
pub struct VersionArgs {
    /// Print one JSON document: {"gopack": {...}, "go": {...}}
    #[arg(long)]
    pub json: bool,
}

/// What `version` reports.
#[derive(Serialize)]
pub struct VersionReport {
    pub gopack: GopackVersion,
    pub go: GoVersion,
}

/// This binary.
#[derive(Serialize)]
pub struct GopackVersion {
    /// The crate version (Cargo.toml).
    pub version: &'static str,
    /// The full git commit it was built from; empty when it was built outside a git checkout
    /// without `GOPACK_GIT_COMMIT`.
    pub commit: &'static str,
    /// That commit's date (ISO 8601), when known.
    pub commit_date: &'static str,
    /// The Rust target triple (`x86_64-unknown-linux-musl` for the static build).
    pub target: &'static str,
    /// Whether this executable is statically linked (no ELF interpreter, no DT_NEEDED);
    /// `None` when it cannot be read. `static` in JSON, as in `gopack inspect`'s reports.
    #[serde(rename = "static")]
    pub is_static: Option<bool>,
}

/// The Go toolchain gopack finds.
#[derive(Serialize)]
pub struct GoVersion {
    /// The program gopack runs (`GOPACK_GO` or `go`).
    pub program: PathBuf,
    /// `go env GOVERSION` (`go1.26.8`), when Go answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `go env GOROOT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goroot: Option<String>,
    /// `go env GOHOSTOS`/`GOHOSTARCH`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Why Go did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How long `go env` may take (a cold GOROOT on a slow disk takes well under a second).
const GO_ENV_TIMEOUT: Duration = Duration::from_secs(20);

pub fn run(args: VersionArgs) -> CommandResult {
    let report = VersionReport {
        gopack: gopack_version(),
        go: go_version(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// This binary's facts, from build.rs and the executable itself.
pub fn gopack_version() -> GopackVersion {
    let is_static = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::read(exe).ok())
        .and_then(|bytes| gopack::binary::elf::read_linkage(&bytes).ok())
        .map(|l| l.is_static());
    GopackVersion {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("GOPACK_GIT_COMMIT"),
        commit_date: env!("GOPACK_GIT_COMMIT_DATE"),
        target: env!("GOPACK_TARGET"),
        is_static,
    }
}

/// The line `gopack --version` prints after the name: `0.1.0 (commit 1a2b3c4d5e6f)`.
pub fn long_version() -> String {
    let commit = env!("GOPACK_GIT_COMMIT");
    if commit.is_empty() {
        env!("CARGO_PKG_VERSION").to_string()
    } else {
        format!(
            "{} (commit {})",
            env!("CARGO_PKG_VERSION"),
            &commit[..commit.len().min(12)]
        )
    }
}

fn go_program() -> PathBuf {
    std::env::var_os("GOPACK_GO")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| "go".into())
}

fn go_version() -> GoVersion {
    let program = go_program();
    let mut report = GoVersion {
        program: program.clone(),
        version: None,
        goroot: None,
        host: None,
        error: None,
    };
    let mut cmd = Command::new(&program);
    cmd.args(["env", "GOVERSION", "GOROOT", "GOHOSTOS", "GOHOSTARCH"])
        .stdin(Stdio::null());
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    match run_bounded(cmd, GO_ENV_TIMEOUT) {
        Ok(out) => {
            let lines: Vec<&str> = out.lines().collect();
            if let [version, goroot, os, arch, ..] = lines[..] {
                report.version = Some(version.to_string());
                report.goroot = Some(goroot.to_string());
                report.host = Some(format!("{os}/{arch}"));
            } else {
                report.error = Some("`go env` printed something unexpected".into());
            }
        }
        Err(e) => report.error = Some(e),
    }
    report
}

/// Runs `cmd`, giving its stdout, or a sentence saying why not; kills it after `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run `{program}`: {e}. Install Go (https://go.dev/dl) and put it on PATH, \
                 or set GOPACK_GO=/path/to/go"
            )
        })?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{program} env` did not answer within {}s",
                    timeout.as_secs()
                ));
            }
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let stderr = gopack::text::printable_bytes(&out.stderr, 300);
        return Err(format!("`{program} env` failed ({}): {stderr}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The human-readable form.
pub fn text(report: &VersionReport) -> String {
    let g = &report.gopack;
    let mut out = format!("gopack {}\n", g.version);
    if g.commit.is_empty() {
        out.push_str("  commit  unknown (built outside a git checkout)\n");
    } else if g.commit_date.is_empty() {
        out.push_str(&format!("  commit  {}\n", g.commit));
    } else {
        out.push_str(&format!("  commit  {} ({})\n", g.commit, g.commit_date));
    }
    let linkage = match g.is_static {
        Some(true) => ", static",
        Some(false) => ", dynamically linked",
        None => "",
    };
    out.push_str(&format!("  target  {}{linkage}\n", g.target));
    let go = &report.go;
    match (&go.version, &go.error) {
        (Some(v), _) => out.push_str(&format!(
            "go {v} {} ({}, GOROOT {})\n",
            go.host.as_deref().unwrap_or(""),
            go.program.display(),
            go.goroot.as_deref().unwrap_or("")
        )),
        (None, Some(e)) => out.push_str(&format!("go: not usable: {e}\n")),
        (None, None) => out.push_str("go: unknown\n"),
    }
    out
}
