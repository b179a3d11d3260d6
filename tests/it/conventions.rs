//! The conventions ko and docker users rely on: exit codes in `--help`, a `--platform` that
//! the base cannot serve refused (never ignored, ko#699), counts in the right number, `plan
//! --deep` not advising itself, a module root without a main package naming the commands,
//! and pull's errors naming only what pull has.

use crate::common;
use crate::registry_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use registry_support::Registry;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conventions-cache")
}

fn gp(cwd: &Path) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(cwd)
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE")
        .env_remove("GOFLAGS")
        .env("GOENV", "off");
    cmd
}

#[test]
fn help_documents_the_exit_codes_and_the_streams() {
    let out = run_ok(gp(&repo_root()).arg("--help"));
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Exit status: 0 success; 1 failure"), "{help}");
    assert!(help.contains("2 usage error"), "{help}");
    assert!(help.contains("stdout carries results"), "{help}");
}

#[test]
fn a_platform_the_base_cannot_serve_is_refused_with_what_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    let base = format!("oci:{}:amd64-only", tmp.path().join("base").display());
    run_ok(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "--platform",
        "linux/amd64",
        "-q",
        "-o",
        &base,
    ]));
    let out = tmp.path().join("out");
    let (code, err) = run_fail(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "--base",
        &base,
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("oci:{}", out.display()),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("has no image for linux/arm64 (it has: only linux/amd64"),
        "{err}"
    );
    assert!(
        err.contains("does not build for a platform its base cannot serve"),
        "{err}"
    );
    assert!(!out.join("index.json").exists(), "nothing is written");
}

#[test]
fn a_single_manifest_registry_base_refuses_another_platform() {
    if !require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let base = format!("{host}/bases/hello:amd64");
    run_ok(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "--platform",
        "linux/amd64",
        "--push",
        "-q",
        "-t",
        &base,
    ]));
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = run_fail(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "--base",
        &base,
        "--platform",
        "linux/arm64",
        "-o",
        &format!("oci:{}", tmp.path().join("out").display()),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("has no image for linux/arm64 (it has: only linux/amd64"),
        "{err}"
    );
    assert!(
        err.contains("does not build for a platform its base cannot serve"),
        "{err}"
    );
}

#[test]
fn one_layer_is_one_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(gp(&repo_root()).args([
        "build",
        "./testdata/multi/cmd/api",
        "--tmp=no",
        "-o",
        &format!("oci:{}", tmp.path().join("o").display()),
    ]));
    let talk = String::from_utf8(out.stderr).unwrap();
    assert!(talk.contains(", 1 layer\n"), "{talk}");
    assert!(!talk.contains("1 layers"), "{talk}");
}

#[test]
fn plan_deep_does_not_advise_running_plan_deep() {
    let out = run_ok(gp(&repo_root()).args(["plan", "./testdata/hello", "--deep"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("run `gopack plan --deep`"), "{text}");
    assert!(text.contains("decided from the linked binaries"), "{text}");
    let out = run_ok(gp(&repo_root()).args(["plan", "./testdata/hello"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("run `gopack plan --deep`"), "{text}");
}

#[test]
fn a_module_root_without_a_main_package_names_the_commands() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    let (code, err) = run_fail(gp(tmp.path()).arg("build"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("The module's commands: ./cmd/api, ./cmd/worker"),
        "{err}"
    );
    assert!(err.contains("gopack build ./..."), "{err}");
    // A library package named directly says the same.
    let (_, err) = run_fail(gp(tmp.path()).args(["build", "./internal/greet"]));
    assert!(err.contains("not a main package"), "{err}");
    assert!(err.contains("./cmd/api, ./cmd/worker"), "{err}");
}

#[test]
fn pull_errors_name_only_pull_own_arguments() {
    if !require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    run_ok(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "--push",
        "-q",
        "-t",
        &format!("{host}/x/hello:v1"),
    ]));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let (code, err) = run_fail(gp(&repo_root()).args([
        "pull",
        &format!("{host}/x/hello:v1"),
        &format!("oci:{}", tmp.path().display()),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not an OCI image layout"), "{err}");
    assert!(!err.contains("--output"), "pull has no --output: {err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// `-v` shows the exact go command and every registry request (method, URL, status) on
/// stderr, and never a credential: not the password, not the basic-auth header, not a token.
#[test]
fn verbose_prints_go_and_registry_requests_but_never_credentials() {
    if !require_tool("docker-registry") {
        return;
    }
    use base64::Engine as _;
    use registry_support::{PASSWORD, USER};
    let registry = Registry::start_tls_auth();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        tmp.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{basic}"}}}}}}"#),
    )
    .unwrap();
    let out = run_ok(
        gp(&repo_root())
            .env("DOCKER_CONFIG", tmp.path())
            .env_remove("REGISTRY_AUTH_FILE")
            .args(["build", "./testdata/hello", "--push", "-v", "--registry-ca"])
            .arg(registry.ca_pem.as_ref().unwrap())
            .args(["-t", &format!("{host}/verbose/hello:v1")]),
    );
    let err = String::from_utf8(out.stderr).unwrap();
    // The go command is printed whether go ran or was skipped because nothing changed.
    assert!(
        err.lines().any(
            |l| (l.starts_with("gopack: run: ") || l.starts_with("gopack: skip: "))
                && l.contains(" go build ")
        ),
        "{err}"
    );
    let put_manifest = format!("PUT https://{host}/v2/verbose/hello/manifests/");
    assert!(err.contains(&put_manifest), "{err}");
    assert!(err.contains(&format!("https://{host}/v2/")), "{err}");
    for secret in [PASSWORD, basic.as_str()] {
        assert!(!err.contains(secret), "a credential leaked: {err}");
    }
    assert!(
        !err.to_ascii_lowercase().contains("authorization:"),
        "{err}"
    );
    assert!(String::from_utf8(out.stdout).unwrap().starts_with(&host));
}

/// On a terminal the build draws its progress (a line for the build, one per image) and clears
/// it; in a pipe nothing of it appears: no escape sequences, no step lines.
#[test]
fn progress_draws_on_a_terminal_and_stays_out_of_pipes() {
    if !require_tool("script") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let command = format!(
        "{} build ./testdata/hello -o oci:{}",
        env!("CARGO_BIN_EXE_gopack"),
        tmp.path().join("tty").display()
    );
    // util-linux script: the command runs on a pseudo-terminal; the transcript is its stdout.
    let tty = run_ok(
        Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(repo_root())
            .env("GOPACK_CACHE", cache())
            .env("GOENV", "off")
            .env_remove("GOFLAGS")
            .env_remove("NO_COLOR"),
    );
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(shown.contains("reading the Go project"), "{shown}");
    assert!(
        shown.contains("\u{1b}[2K"),
        "the display clears its lines: {shown}"
    );
    let piped = run_ok(gp(&repo_root()).args([
        "build",
        "./testdata/hello",
        "-o",
        &format!("oci:{}", tmp.path().join("pipe").display()),
    ]));
    let err = String::from_utf8(piped.stderr).unwrap();
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(!err.contains("reading the Go project"), "{err}");
    assert!(err.contains("built hello"), "{err}");
}

/// A push on a terminal shows the blob bytes sent so far (48 MiB of incompressible data take
/// longer to send than the 100 ms between updates).
#[test]
fn a_push_on_a_terminal_shows_the_bytes_sent() {
    if !require_tool("script") || !require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("go.mod"),
        "module example.com/pushtty\n\ngo 1.22\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("main.go"),
        "package main\n\nfunc main() {}\n",
    )
    .unwrap();
    std::fs::create_dir(tmp.path().join("data")).unwrap();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..48 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(tmp.path().join("data/noise.bin"), noise).unwrap();
    let command = format!(
        "{} build . --data data --push -t {}/pushtty/app:v1",
        env!("CARGO_BIN_EXE_gopack"),
        registry.host()
    );
    let tty = run_ok(
        Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(tmp.path())
            .env("GOPACK_CACHE", cache())
            .env("GOENV", "off")
            .env_remove("GOFLAGS"),
    );
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        shown.contains(&format!("pushing to {}: ", registry.host())) && shown.contains("MiB sent"),
        "{shown}"
    );
}

/// `-q` keeps stdout to the references, but a warning that may hurt (root, a secret in the
/// config) still reaches stderr (newcomer: `-q` dropped them all).
#[test]
fn quiet_builds_still_warn_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        gp(&repo_root())
            .args(["build", "./testdata/hello", "-q", "--user", "root", "-o"])
            .arg(format!("oci:{}", tmp.path().join("out").display())),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("warning: --user root"), "{stderr}");
    assert!(!stderr.contains("plan: base"), "only warnings: {stderr}");
}
