//! The conventions every verb shares: conflicting output flags are usage errors, error chains
//! are printed once each and without terminal escapes, messages name only flags the verb has,
//! `--color`/NO_COLOR, `version`, `completions` and `man`.

use std::process::Command;
use std::sync::Arc;

use crate::common::{self, gopack, repo_root, run_ok, testdata};
use crate::registry_support::hostile::{FakeImage, HostileServer, Reply};

fn stderr_of(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("gopack starts");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn quiet_with_json_or_explain_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [["--json", "-q"], ["--explain", "-q"], ["--quiet", "--json"]] {
        let (code, err) = stderr_of(
            gopack(&dir.path().join("cache"))
                .current_dir(dir.path())
                .arg("build")
                .args(flags),
        );
        assert_eq!(code, 2, "build {flags:?}: {err}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

#[test]
fn a_cause_already_in_its_message_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = stderr_of(
        gopack(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args(["--ca-file", "/nonexistent/company-root.pem"])
            .args(["-o", &format!("oci:{}", dir.path().join("out").display())]),
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "the io error is shown once:\n{err}"
    );
}

#[test]
fn error_chains_carry_no_terminal_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("root\u{1b}]0;pwned\u{7}\u{1b}[2J.pem");
    let (code, err) = stderr_of(
        gopack(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .arg("--ca-file")
            .arg(&evil)
            .args(["-o", &format!("oci:{}", dir.path().join("out").display())]),
    );
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(
        err.contains("\\u{1b}]0;pwned"),
        "the name stays readable: {err}"
    );
}

/// A directory holding something else than an OCI layout.
fn not_a_layout(dir: &std::path::Path) -> std::path::PathBuf {
    let target = dir.join("notes");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("todo.txt"), "mine").unwrap();
    target
}

#[test]
fn gc_errors_name_no_flag_gc_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let target = not_a_layout(dir.path());
    let (code, err) = stderr_of(
        gopack(&dir.path().join("cache"))
            .arg("gc")
            .arg(format!("oci:{}", target.display())),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an OCI image layout"), "{err}");
    assert!(!err.contains("--output"), "gc has no --output: {err}");
}

#[test]
fn pull_errors_name_no_flag_pull_does_not_have() {
    let image = Arc::new(FakeImage::new("app", 7));
    let registry = {
        let image = image.clone();
        HostileServer::plain(move |r| image.answer(r).unwrap_or(Reply::status(404)))
    };
    let dir = tempfile::tempdir().unwrap();
    let target = not_a_layout(dir.path());
    let (code, err) = stderr_of(
        gopack(&dir.path().join("cache"))
            .arg("pull")
            .arg(format!("{}/app:v1", registry.localhost()))
            .arg(format!("oci:{}", target.display())),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an OCI image layout"), "{err}");
    assert!(!err.contains("--output"), "pull has no --output: {err}");
    assert_eq!(
        std::fs::read_to_string(target.join("todo.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn color_follows_the_flag_then_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |extra: &[&str], no_color: bool| {
        let mut cmd = gopack(&dir.path().join("cache"));
        cmd.arg("gc").arg("oci:/nonexistent/layout").args(extra);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        stderr_of(&mut cmd).1
    };
    assert!(bad(&["--color", "always"], true).contains("\u{1b}[1;31merror:"));
    assert!(bad(&["--color=always"], false).contains("\u{1b}["));
    assert!(!bad(&["--color", "never"], false).contains('\u{1b}'));
    // Not a terminal: auto means plain.
    assert!(!bad(&[], false).contains('\u{1b}'));
    let (code, err) =
        stderr_of(gopack(&dir.path().join("cache")).args(["version", "--color", "sometimes"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn version_names_the_commit_and_the_go_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(gopack(&dir.path().join("cache")).args(["version", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert_eq!(v["gopack"]["version"], env!("CARGO_PKG_VERSION"));
    // The test build links glibc dynamically (the static build: tests/it/static_build.rs).
    assert_eq!(v["gopack"]["static"], false, "{v}");
    if !head.is_empty() {
        // The binary under test was built from this checkout (possibly with later edits).
        assert_eq!(v["gopack"]["commit"].as_str().unwrap().len(), 40, "{v}");
    }
    let go = Command::new("go")
        .args(["env", "GOVERSION"])
        .output()
        .unwrap();
    assert_eq!(
        v["go"]["version"].as_str().unwrap(),
        String::from_utf8_lossy(&go.stdout).trim()
    );
    // Without Go, version still answers and says why Go is missing.
    let out = run_ok(
        gopack(&dir.path().join("cache"))
            .arg("version")
            .env("GOPACK_GO", "/nonexistent/go"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("gopack "), "{text}");
    assert!(
        text.contains("go: not usable: cannot run `/nonexistent/go`"),
        "{text}"
    );
}

#[test]
fn completion_scripts_load_in_their_shells() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run_ok(gopack(&dir.path().join("cache")).args(["completions", shell]));
        let script = String::from_utf8(out.stdout).unwrap();
        for verb in ["build", "run", "version", "completions", "man"] {
            assert!(script.contains(verb), "{shell} completes `{verb}`");
        }
        std::fs::write(dir.path().join(shell), &script).unwrap();
    }
    let powershell = std::fs::read_to_string(dir.path().join("powershell")).unwrap();
    assert!(powershell.contains("Register-ArgumentCompleter -Native -CommandName 'gopack'"));
    let script = |shell: &str| dir.path().join(shell).display().to_string();
    // bash: the completion function completes a verb and a flag of that verb.
    if common::require_tool("bash") {
        let complete = |words: &str, cword: usize| {
            let check = format!(
                "source {} && COMP_WORDS=({words}) && COMP_CWORD={cword} && \
                 _gopack gopack \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\" && \
                 echo \"${{COMPREPLY[@]}}\"",
                script("bash")
            );
            let out = run_ok(Command::new("bash").args(["-c", &check]));
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(complete("gopack bu", 1), "build");
        assert_eq!(complete("gopack build --pla", 2), "--platform");
    }
    // fish: its own completer, asked as it would ask on Tab.
    if common::require_tool("fish") {
        let check = format!(
            "source {} && complete -C 'gopack bu' && complete -C 'gopack run --runt'",
            script("fish")
        );
        let out = run_ok(Command::new("fish").args(["-c", &check]));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.lines().any(|l| l.starts_with("build\t")), "{text}");
        assert!(text.lines().any(|l| l.starts_with("--runtime\t")), "{text}");
    }
    // zsh: the script loads under compinit and defines its completion function.
    if common::require_tool("zsh") {
        let check = format!(
            "autoload -Uz compinit && compinit -u -d {}/zcompdump && source {} && \
             print ${{+functions[_gopack]}}",
            dir.path().display(),
            script("zsh")
        );
        let out = run_ok(Command::new("zsh").args(["-f", "-c", &check]));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
    }
}

#[test]
fn man_pages_cover_every_verb_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(gopack(&dir.path().join("cache")).arg("man"));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH gopack"),
        "{page}"
    );
    let pages = dir.path().join("man1");
    run_ok(
        gopack(&dir.path().join("cache"))
            .arg("man")
            .arg("--dir")
            .arg(&pages),
    );
    for verb in ["build", "run", "version", "completions", "pull", "gc"] {
        let page = std::fs::read_to_string(pages.join(format!("gopack-{verb}.1")))
            .unwrap_or_else(|e| panic!("gopack-{verb}.1: {e}"));
        assert!(page.contains(&format!(".TH gopack-{verb}")), "{page}");
    }
    let build = std::fs::read_to_string(pages.join("gopack-build.1")).unwrap();
    assert!(build.contains("\\-\\-platform") || build.contains("--platform"));
    if common::require_tool("man") {
        let out = run_ok(
            Command::new("man")
                .arg("-l")
                .arg(pages.join("gopack-build.1"))
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100"),
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("platform"));
    }
}

#[test]
fn platform_all_means_every_platform_the_base_offers_or_a_documented_set_on_scratch() {
    use gopack::base::{BaseSpec, SCRATCH_ALL_PLATFORMS, all_platforms};
    let dir = tempfile::tempdir().unwrap();
    let store = gopack::oci::BlobStore::open(dir.path().join("store")).unwrap();
    let registry = gopack::registry::RegistryOptions::default();
    let scratch = all_platforms(&BaseSpec::Scratch, &store, &registry).unwrap();
    let names: Vec<String> = scratch.iter().map(ToString::to_string).collect();
    assert_eq!(names, SCRATCH_ALL_PLATFORMS);
    // A base with three platforms (and an attestation-free index): exactly those, in order.
    let (images, index) = crate::registry_support::build_images(
        &store,
        5,
        &["linux/arm64", "linux/amd64", "linux/s390x"],
        1000,
    );
    let set = gopack::sink::ImageSet {
        name: "base".into(),
        images,
        index: index.map(|(b, d)| gopack::sink::IndexBlob::oci(b, d)),
    };
    let layout = dir.path().join("base");
    gopack::sink::write_oci_layout(&store, &layout, &[set], Some("v1")).unwrap();
    let spec: BaseSpec = format!("oci:{}:v1", layout.display()).parse().unwrap();
    let offered = all_platforms(&spec, &store, &registry).unwrap();
    let names: Vec<String> = offered.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["linux/arm64", "linux/amd64", "linux/s390x"]);
}

#[test]
fn one_cgo_package_uses_cgo_and_several_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan_text = |pkg: &str| {
        let out = run_ok(
            gopack(&dir.path().join("cache"))
                .arg("plan")
                .arg(testdata(pkg)),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let one = plan_text("cgo/sqlite");
    assert!(
        one.contains("(module github.com/mattn/go-sqlite3) uses cgo:"),
        "{one}"
    );
    assert!(!one.contains(") use cgo"), "{one}");
    let several = plan_text("cgo/twocgo");
    assert!(
        several.contains("(module github.com/pebbe/zmq4) use cgo:"),
        "{several}"
    );
    let (code, err) = stderr_of(
        gopack(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("cgo/sqlite"))
            .args(["--cgo", "off"]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("go-sqlite3) uses cgo."), "{err}");
}

#[test]
fn counts_agree_with_their_nouns() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("static");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("index.html"), "<p>hi</p>").unwrap();
    let out = run_ok(
        gopack(&dir.path().join("cache"))
            .arg("plan")
            .arg(testdata("hello"))
            .arg("--data")
            .arg(&data),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(1 file, 0 symlinks)"), "{text}");
    // The build summary of an image with one layer (a scratch base, nothing but the binary).
    let layout = dir.path().join("out");
    let out = run_ok(
        gopack(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args(["--certs=no", "--tz=no", "--userdb=no", "--tmp=no"])
            .arg("-o")
            .arg(format!("oci:{}", layout.display())),
    );
    let summary = String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains(", 1 layer\n"), "{summary}");
    assert!(!summary.contains(" 1 layers"), "{summary}");
    // inspect of that image: one file (the binary).
    let out = run_ok(
        gopack(&dir.path().join("cache"))
            .arg("inspect")
            .arg(format!("oci:{}", layout.display())),
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains(" uncompressed, 1 file ("), "{report}");
}

#[test]
fn a_package_path_that_does_not_exist_is_named_as_such() {
    // Not "no go.mod found in <cwd>": the directory the user typed is what is missing.
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    for verb in ["build", "plan"] {
        let (code, err) = stderr_of(
            gopack(&cache)
                .current_dir(tmp.path())
                .args([verb, "./cmd/nope"]),
        );
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains("./cmd/nope: no such directory"),
            "{verb}: {err}"
        );
        assert!(!err.contains("no go.mod"), "{verb}: {err}");
    }
}
