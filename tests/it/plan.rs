//! `gopack plan` end to end with the real go: the JSON schema (snapshot), the cgo report, the
//! reasons for every flag, `--deep`, what build takes from the plan, and bad input.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plan-cache")
}

/// `gopack plan` with an environment that does not leak the developer's Go settings.
fn plan_cmd(cwd: &Path) -> Command {
    let mut cmd = clean_gopack();
    cmd.current_dir(cwd).arg("plan");
    cmd
}

/// gopack without the developer's Go settings (environment or `go env -w`).
fn clean_gopack() -> Command {
    let mut cmd = gopack(&cache());
    for k in [
        "GOFLAGS",
        "CGO_ENABLED",
        "GOOS",
        "GOARCH",
        "GOAMD64",
        "GOTOOLCHAIN",
        "CC",
    ] {
        cmd.env_remove(k);
    }
    // Neither the developer's `go env -w` settings.
    cmd.env("GOENV", "off");
    cmd
}

/// linux/ARCH of the machine the tests run on (cgo builds need a native C compiler).
fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("linux/{arch}")
}

fn plan_json(cwd: &Path, args: &[&str]) -> Value {
    let out = run_ok(plan_cmd(cwd).args(args).arg("--json"));
    serde_json::from_slice(&out.stdout).expect("plan --json prints one JSON document")
}

fn plan_text(cwd: &Path, args: &[&str]) -> String {
    String::from_utf8(run_ok(plan_cmd(cwd).args(args)).stdout).unwrap()
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort();
    k
}

/// The JSON plan has the documented shape (every key, with its type) and carries the
/// decisions; the English sentences are free to improve.
#[test]
fn plan_json_has_the_schema_and_the_decisions() {
    let dir = testdata("cgo/twocgo");
    let json = plan_json(&dir, &["--platform", "linux/amd64"]);
    assert_eq!(
        json["schema"], 2,
        "raise PLAN_SCHEMA_VERSION on incompatible changes"
    );
    assert_eq!(
        keys(&json),
        [
            "base",
            "cgo",
            "data",
            "files",
            "flags",
            "flags_not_used",
            "go",
            "images",
            "module",
            "platforms",
            "problems",
            "schema",
            "settings",
            "targets",
            "user",
            "warnings",
            "writable"
        ]
    );
    assert_eq!(
        keys(&json["go"]),
        [
            "environment",
            "gotoolchain",
            "installed",
            "required",
            "satisfied",
            "suggestion",
            "toolchain"
        ]
    );
    assert_eq!(
        keys(&json["images"][0]),
        ["cgo", "dir", "entrypoint", "name", "package"]
    );
    assert_eq!(
        keys(&json["targets"][0]),
        ["go_build", "image", "package", "platform"]
    );
    assert_eq!(keys(&json["user"]), ["gid", "reason", "uid", "user"]);
    assert_eq!(keys(&json["writable"]), ["paths", "read_only", "user"]);
    for list in ["flags", "flags_not_used"] {
        for f in json[list].as_array().unwrap() {
            assert_eq!(keys(f), ["flag", "why"]);
            assert!(!f["why"].as_str().unwrap().is_empty());
        }
    }
    // The decisions.
    assert_eq!(json["module"]["path"], "example.com/cgo/twocgo");
    assert_eq!(json["go"]["required"], "1.22");
    assert_eq!(json["go"]["gotoolchain"], "local");
    assert_eq!(json["go"]["environment"], serde_json::json!([]));
    assert_eq!(json["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(json["images"][0]["name"], "twocgo");
    assert_eq!(json["images"][0]["cgo"]["mode"], "static");
    assert_eq!(json["cgo"]["mode"], "static");
    assert_eq!(json["cgo"]["choice"], "auto");
    assert_eq!(json["cgo"]["c_compiler"], "gcc");
    assert_eq!(
        json["cgo"]["std_packages"],
        serde_json::json!(["net", "runtime/cgo"])
    );
    assert_eq!(
        json["targets"][0]["go_build"],
        "CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -trimpath '-ldflags=-s -linkmode \
         external -extldflags \"-static\"' -tags=netgo,osusergo -o twocgo example.com/cgo/twocgo"
    );
    let flags: Vec<&str> = json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert_eq!(
        flags,
        [
            "CGO_ENABLED=1",
            "GOOS=linux GOARCH=amd64",
            "GOTOOLCHAIN=local",
            "-trimpath",
            "-ldflags=-s",
            "-ldflags=-linkmode external -extldflags \"-static\"",
            "-tags=netgo,osusergo"
        ]
    );
    assert_eq!(json["base"]["image"], "scratch");
    assert_eq!(json["base"]["embedded"], true);
    assert_eq!(json["user"]["user"], "65532:65532");
    let rules: Vec<(&str, &str)> = json["files"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["flag"].as_str().unwrap(), r["choice"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("--certs", "auto"),
            ("--tz", "auto"),
            ("--userdb", "auto"),
            ("--tmp", "auto")
        ]
    );
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(json["problems"], serde_json::json!([]));
}

#[test]
fn plan_for_two_cgo_modules_names_every_package_module_library_and_alternative() {
    let dir = testdata("cgo/twocgo");
    let json = plan_json(&dir, &[]);
    let cgo = &json["cgo"];
    assert_eq!(cgo["mode"], "static");
    let packages: Vec<(&str, &str)> = cgo["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["import_path"].as_str().unwrap(),
                p["module"]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            ("github.com/DataDog/zstd", "github.com/DataDog/zstd"),
            ("github.com/mattn/go-sqlite3", "github.com/mattn/go-sqlite3"),
            ("github.com/pebbe/zmq4", "github.com/pebbe/zmq4"),
        ]
    );
    assert_eq!(cgo["packages"][2]["pkg_config"][0], "libzmq");
    assert_eq!(
        cgo["packages"][1]["alternatives"][0]["module"],
        "modernc.org/sqlite"
    );
    let text = plan_text(&dir, &[]);
    for needle in [
        "uses cgo: github.com/DataDog/zstd (module github.com/DataDog/zstd v1.5.7)",
        "uses cgo: github.com/mattn/go-sqlite3 (module github.com/mattn/go-sqlite3 v1.14.53)",
        "uses cgo: github.com/pebbe/zmq4 (module github.com/pebbe/zmq4 v1.4.0)",
        "C libraries: pkg-config libzmq",
        "pure-Go alternative: modernc.org/sqlite",
        "pure-Go alternative: github.com/klauspost/compress",
        "never forces cgo",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn plan_text_says_why_each_flag_is_there() {
    let text = plan_text(&testdata("hello"), &["--platform", "linux/amd64"]);
    let why = |flag: &str| -> String {
        let at = text
            .find(&format!("\n    {flag}\n"))
            .unwrap_or_else(|| panic!("no line for {flag} in:\n{text}"));
        text[at..].lines().nth(2).unwrap_or_default().to_string()
    };
    assert!(why("CGO_ENABLED=0").contains("static binary"));
    assert!(why("-trimpath").contains("paths"));
    assert!(why("-ldflags=-s").contains("implies -w"));
    assert!(why("GOOS=linux GOARCH=amd64").contains("target platform"));
    assert!(why("GOTOOLCHAIN=local").contains("never download"));
    assert!(why("-a").contains("obsolete since Go 1.10"));
    assert!(why("-installsuffix cgo").contains("no effect"));
    assert!(text.contains(
        "CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags=-s -o hello example.com/hello"
    ));
    assert!(text.contains("Base: scratch (embedded in gopack"));
    assert!(text.contains("decided from the linked binary"));

    let cgo_text = plan_text(&testdata("cgoonly"), &["--platform", &host_platform()]);
    assert!(cgo_text.contains("-tags=netgo,osusergo\n        pure-Go DNS resolver"));
    assert!(cgo_text.contains("-extldflags \"-static\"\n        links the C code statically"));
    assert!(cgo_text.contains(
        "go build -trimpath '-ldflags=-s -linkmode external -extldflags \"-static\"' -tags=netgo,osusergo"
    ));
    for t in [&text, &cgo_text] {
        let commands: Vec<&str> = t.lines().filter(|l| l.contains(" go build ")).collect();
        assert!(!commands.is_empty());
        for c in commands {
            assert!(!c.contains(" -a ") && !c.contains("-installsuffix"), "{c}");
        }
    }
}

#[test]
fn plan_deep_builds_and_names_the_function_behind_each_need() {
    let json = plan_json(&testdata("needs/tzload"), &["--deep"]);
    let built = &json["targets"][0]["built"];
    assert_eq!(built["static_binary"], true);
    assert_eq!(built["needs"][0]["need"], "zoneinfo");
    assert_eq!(built["needs"][0]["function"], "time.LoadLocation");
    let zone = &built["files"][1];
    assert_eq!(zone["files"], "/usr/share/zoneinfo");
    assert_eq!(zone["included"], true);

    let text = plan_text(&testdata("needs/userdb"), &["--deep", "--certs=yes"]);
    assert!(
        text.contains("needs user and group database because os/user.current is linked"),
        "{text}"
    );
    assert!(text.contains("+ /etc/ssl/certs/ca-certificates.crt: forced on by flag"));
    assert!(text.contains("- /usr/share/zoneinfo: not needed"));
    // --deep does not advise running --deep (issue 13 §5); the plan without it does.
    assert!(!text.contains("plan --deep"), "{text}");
    let shallow_text = plan_text(&testdata("needs/userdb"), &[]);
    assert!(
        shallow_text.contains("(run `gopack plan --deep` to build now and see them)"),
        "{shallow_text}"
    );
    // Without --deep nothing is built, and the plan says where files come from instead.
    let shallow = plan_json(&testdata("needs/userdb"), &[]);
    assert!(shallow["targets"][0].get("built").is_none());
    assert_eq!(shallow["files"]["rules"][2]["flag"], "--userdb");
}

#[test]
fn build_follows_the_plan_and_prints_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = testdata("needs/tlsclient");
    let plan = plan_json(&dir, &[]);
    let out = run_ok(plan_cmd(&dir).args(["--json", "--deep", "--tz=yes"]));
    let deep: Value = serde_json::from_slice(&out.stdout).unwrap();

    let mut build = clean_gopack();
    build.current_dir(&dir).args([
        "build",
        "--json",
        "--tz=yes",
        "-o",
        &format!("oci:{}", tmp.path().join("a").display()),
    ]);
    let built: Value = serde_json::from_slice(&run_ok(&mut build).stdout).unwrap();
    let followed = &built["plan"];
    assert_eq!(followed["cgo"], plan["cgo"]);
    assert_eq!(followed["flags"], plan["flags"]);
    assert_eq!(
        followed["targets"][0]["go_build"],
        plan["targets"][0]["go_build"]
    );
    // What build decided per file is what plan --deep predicted.
    assert_eq!(
        followed["targets"][0]["built"]["files"],
        deep["targets"][0]["built"]["files"]
    );
    assert_eq!(
        built["images"][0]["platforms"][0]["files"],
        deep["targets"][0]["built"]["files"]
    );

    let text = String::from_utf8(
        run_ok(clean_gopack().current_dir(&dir).args([
            "build",
            "-o",
            &format!("oci:{}", tmp.path().join("b").display()),
        ]))
        .stderr,
    )
    .unwrap();
    let plan_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("plan: ")).collect();
    assert!(plan_lines.iter().any(|l| l.starts_with("plan: cgo off: ")));
    assert!(
        plan_lines
            .iter()
            .any(|l| l.contains("+ /etc/ssl/certs/ca-certificates.crt: crypto/x509"))
    );
    assert!(text.find("plan: ").unwrap() < text.find("built tlsclient").unwrap());

    let explained = String::from_utf8(
        run_ok(clean_gopack().current_dir(&dir).args([
            "build",
            "--explain",
            "-o",
            &format!("oci:{}", tmp.path().join("c").display()),
        ]))
        .stderr,
    )
    .unwrap();
    assert!(explained.contains("flags and why:"));
    assert!(
        explained.contains("needs CA certificates because crypto/x509.loadSystemRoots is linked")
    );
}

#[test]
fn a_broken_go_mod_shows_go_own_error() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("hello"), tmp.path());
    std::fs::write(
        tmp.path().join("go.mod"),
        "module example.com/hello\n\ngo 1.22\n\nrequire (\n\tgithub.com/x/y\n",
    )
    .unwrap();
    let (code, err) = run_fail(&mut plan_cmd(tmp.path()));
    assert_eq!(code, 1);
    assert!(
        err.contains("errors parsing go.mod") && err.contains("unterminated block"),
        "{err}"
    );

    std::fs::write(tmp.path().join("go.mod"), "go 1.22\n").unwrap();
    let (code, err) = run_fail(&mut plan_cmd(tmp.path()));
    assert_eq!(code, 1);
    assert!(
        err.contains("no `module` line") && err.contains("go mod init"),
        "{err}"
    );
}

#[test]
fn a_package_that_does_not_compile_fails_plan_deep_with_go_own_error() {
    let dir = testdata("broken");
    // A plain plan builds nothing, so it works.
    run_ok(&mut plan_cmd(&dir));
    let (code, err) = run_fail(plan_cmd(&dir).arg("--deep"));
    assert_eq!(code, 1);
    assert!(
        err.contains("go build failed") && err.contains("undefined: undefinedFunction"),
        "{err}"
    );
}

#[test]
fn cgo_without_a_c_compiler_is_a_clear_error_in_plan_and_build() {
    let dir = testdata("cgo/sqlite");
    let out = plan_cmd(&dir)
        .env("CC", "/nonexistent/cc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("Problems (the build cannot start)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("the C compiler `/nonexistent/cc` is not installed")
            && stderr.contains("github.com/mattn/go-sqlite3")
            && stderr.contains("modernc.org/sqlite"),
        "{stderr}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = run_fail(
        gopack(&cache())
            .current_dir(&dir)
            .env("CC", "/nonexistent/cc")
            .args([
                "build",
                "-o",
                &format!("oci:{}", tmp.path().join("o").display()),
            ]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("`/nonexistent/cc` is not installed"), "{err}");
    assert!(!tmp.path().join("o").exists());
}

#[test]
fn cgo_off_on_a_cgo_program_is_refused_by_plan_with_the_reason() {
    let (code, err) = run_fail(plan_cmd(&testdata("cgo/sqlite")).args(["--cgo", "off"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("--cgo off is refused")
            && err.contains("github.com/mattn/go-sqlite3")
            && err.contains("stub that fails at run time")
            && err.contains("modernc.org/sqlite"),
        "{err}"
    );
}

#[test]
fn a_dynamic_cgo_binary_stops_the_build_with_its_libraries_and_the_ways_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = run_fail(gopack(&cache()).current_dir(testdata("cgoonly")).args([
        "build",
        "--cgo",
        "dynamic",
        "-o",
        &format!("oci:{}", tmp.path().join("o").display()),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("is dynamically linked")
            && err.contains("interpreter: /lib")
            && err.contains("libc.so")
            && err.contains("Two ways out")
            && err.contains("--cgo static"),
        "{err}"
    );
    assert!(!tmp.path().join("o").exists());
    // plan --deep runs the very same checks, so it stops with the very same error.
    let (code, deep) =
        run_fail(plan_cmd(&testdata("cgoonly")).args(["--deep", "--cgo", "dynamic"]));
    assert_eq!(code, 1);
    let first_line = |e: &str| {
        e.lines()
            .find(|l| l.contains("dynamically linked"))
            .map(str::to_string)
    };
    assert_eq!(first_line(&deep), first_line(&err), "{deep}");
    assert!(deep.contains("Two ways out"), "{deep}");
}

#[test]
fn go_mod_needing_a_newer_go_gets_the_exact_toolchain_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("hello"), tmp.path());
    std::fs::write(
        tmp.path().join("go.mod"),
        "module example.com/hello\n\ngo 1.99\n\ntoolchain go1.99.3\n",
    )
    .unwrap();
    let out = plan_cmd(tmp.path()).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["go"]["required"], "1.99");
    assert_eq!(json["go"]["toolchain"], "go1.99.3");
    assert_eq!(json["go"]["satisfied"], false);
    let suggestion = json["go"]["suggestion"].as_str().unwrap();
    assert!(
        suggestion.contains("`GOTOOLCHAIN=go1.99.0 gopack build`")
            && suggestion.contains("`go mod edit -toolchain=go1.99.0`"),
        "{suggestion}"
    );
    let out = plan_cmd(tmp.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("TOO OLD") && text.contains(suggestion),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the build cannot start"));
}

#[test]
fn environment_and_vendoring_show_up_as_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("withdep"), tmp.path());
    run_ok(
        Command::new("go")
            .args(["mod", "vendor"])
            .current_dir(tmp.path())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod"),
    );
    let json = plan_json(tmp.path(), &["--ldflags", "-w -X main.v=1"]);
    assert_eq!(json["module"]["vendored"], true);
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("vendor/modules.txt is present"),
        "{warnings}"
    );
    assert!(warnings.contains("--ldflags -w is redundant"), "{warnings}");
    // Offline: vendored modules need no proxy.
    let out = run_ok(
        plan_cmd(tmp.path())
            .args(["--json", "--deep"])
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=vendor"),
    );
    let offline: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        offline["warnings"]
            .to_string()
            .contains("GOFLAGS=\\\"-mod=vendor\\\"")
    );
    assert_eq!(offline["targets"][0]["built"]["static_binary"], true);
}
