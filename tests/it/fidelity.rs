//! Build fidelity (issue 9): every input the user gives — flags, GOFLAGS, `go env -w` settings,
//! GOAMD64 and friends, env, user, CA files, data dirs — reaches the binary and the image as
//! `go build` and docker would treat it, or the build is refused with the reason. Real go, real
//! images read back with skopeo and umoci, and runc where the failure only shows at run time.

use crate::common;
use crate::needs_e2e::{https_server, test_pki};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fidelity-cache")
}

fn fidelity(name: &str) -> PathBuf {
    testdata("fidelity").join(name)
}

/// A gopack command with the Go environment of the developer removed, so each test states the
/// Go settings it depends on (GOFLAGS, GOENV, GOAMD64…) itself.
fn clean_gopack() -> Command {
    let mut cmd = gopack(&cache());
    for k in [
        "GOFLAGS",
        "CGO_ENABLED",
        "GOOS",
        "GOARCH",
        "GOAMD64",
        "GOARM",
        "GOARM64",
        "GOTOOLCHAIN",
        "CC",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("GOENV", "off");
    cmd
}

/// An image built into a fresh layout, with the build's JSON summary.
struct Built {
    tmp: tempfile::TempDir,
    json: Value,
    layout: PathBuf,
}

impl Built {
    fn platform(&self) -> &Value {
        &self.json["images"][0]["platforms"][0]
    }

    fn reference(&self) -> String {
        format!("oci:{}:latest", self.layout.display())
    }

    /// The image unpacked by umoci (runc bundle).
    fn unpack(&self) -> PathBuf {
        let bundle = self.tmp.path().join("bundle");
        if !bundle.exists() {
            umoci_unpack(&format!("{}:latest", self.layout.display()), &bundle);
        }
        bundle
    }

    fn binary(&self) -> PathBuf {
        let name = self.json["images"][0]["name"].as_str().unwrap();
        self.unpack().join("rootfs/usr/local/bin").join(name)
    }

    /// Runs the binary on the host (it is built for the host platform), outside any container.
    fn run_on_host(&self) -> String {
        let out = run_ok(&mut Command::new(self.binary()));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `go version -m` of the binary: its build settings, whatever its architecture.
    fn go_version_m(&self) -> String {
        let out = run_ok(
            Command::new("go")
                .args(["version", "-m"])
                .arg(self.binary()),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the image's entrypoint with `args` under runc, with `env` added to the image's.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
        let bundle = self.unpack();
        let config_path = bundle.join("config.json");
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        let process_args = config["process"]["args"].as_array_mut().unwrap();
        process_args.truncate(1);
        process_args.extend(args.iter().map(|a| Value::from(*a)));
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        RuncContainer::start(&bundle, env).wait_output(Duration::from_secs(60))
    }
}

fn build_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Built {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let mut cmd = clean_gopack();
    cmd.current_dir(dir).arg("build").args(args).args([
        "--json",
        "-o",
        &format!("oci:{}", layout.display()),
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_ok(&mut cmd);
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    Built { tmp, json, layout }
}

fn plan_json(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = clean_gopack();
    cmd.current_dir(dir).arg("plan").arg("--json").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    serde_json::from_slice(&run_ok(&mut cmd).stdout).expect("plan --json prints JSON")
}

fn build_fails(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = clean_gopack();
    cmd.current_dir(dir)
        .arg("build")
        .args(args)
        .args(["-o", &format!("oci:{}", tmp.path().join("o").display())]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (_, err) = run_fail(&mut cmd);
    assert!(!tmp.path().join("o").exists(), "no output after a refusal");
    err
}

// Item 1: Go's own quoting (cmd/internal/quoted) for --ldflags, which is repeatable.
#[test]
fn ldflags_with_quoted_spaces_reach_the_binary() {
    let built = build_with(
        &fidelity("msg"),
        &[
            "--ldflags",
            "-X 'main.msg=hello world'",
            "--ldflags",
            "-X main.version=1.2.3 -X \"main.other=it's here\"",
        ],
        &[],
    );
    assert_eq!(
        built.run_on_host(),
        "msg=hello world version=1.2.3 other=it's here tag=none\n"
    );
    let go_build = built.platform()["go_build"].as_str().unwrap();
    assert!(go_build.contains("'main.msg=hello world'"), "{go_build}");
}

// Item 2: GOFLAGS' -ldflags and -tags are merged with gopack's, as one value each.
#[test]
fn goflags_ldflags_and_tags_are_merged_not_overridden() {
    let goflags = [("GOFLAGS", "-ldflags=-X=main.version=fromgoflags -tags=prod")];
    let built = build_with(&fidelity("msg"), &["--tags", "extra"], &goflags);
    assert_eq!(
        built.run_on_host(),
        "msg=unset version=fromgoflags other=unset tag=prod\n"
    );
    let go_build = built.platform()["go_build"].as_str().unwrap();
    assert!(
        go_build.contains("-ldflags=-s -X=main.version=fromgoflags")
            && go_build.contains("-tags=prod,extra"),
        "the plan shows the effective command: {go_build}"
    );
    let plan = plan_json(&fidelity("msg"), &[], &goflags);
    let flags = plan["flags"].to_string();
    assert!(flags.contains("GOFLAGS"), "{flags}");
    assert!(
        !plan["warnings"].to_string().contains("go applies it"),
        "{}",
        plan["warnings"]
    );

    // cgo static adds netgo,osusergo to the user's tags instead of replacing them.
    let cgo = build_with(&fidelity("cgotags"), &[], &goflags);
    assert_eq!(cgo.json["cgo"]["mode"], "static");
    assert_eq!(
        cgo.run_on_host(),
        "answer=42 version=fromgoflags tag=prod\n"
    );
    let go_build = cgo.platform()["go_build"].as_str().unwrap();
    assert!(go_build.contains("-tags=prod,netgo,osusergo"), "{go_build}");
}

// Item 3: GOAMD64/GOARM64/GOARM set the platform variant, or are overridden for real; the
// image platform always equals the binary's.
#[test]
fn level_variables_set_the_image_variant_of_the_binary() {
    let cases = [
        ("GOAMD64", "v3", "linux/amd64", Some("v3"), "GOAMD64=v3"),
        (
            "GOARM64",
            "v8.2",
            "linux/arm64",
            Some("v8.2"),
            "GOARM64=v8.2",
        ),
        ("GOARM", "6", "linux/arm", Some("v6"), "GOARM=6"),
        ("GOAMD64", "v3", "linux/amd64/v2", Some("v2"), "GOAMD64=v2"),
    ];
    for (var, value, platform, variant, setting) in cases {
        let built = build_with(&fidelity("msg"), &["--platform", platform], &[(var, value)]);
        let config = skopeo_inspect(&built.reference(), &["--config"]);
        assert_eq!(
            config["variant"].as_str(),
            variant,
            "{var}={value} --platform {platform}"
        );
        let info = built.go_version_m();
        assert!(info.contains(setting), "{var}={value} {platform}:\n{info}");
    }
    let plan = plan_json(
        &fidelity("msg"),
        &["--platform", "linux/amd64/v2"],
        &[("GOAMD64", "v3")],
    );
    assert!(
        plan["warnings"].to_string().contains("GOAMD64=v3"),
        "the override is said: {}",
        plan["warnings"]
    );
}

// Item 4: a dynamic binary caused by the build mode is blamed on the build mode.
#[test]
fn pie_build_mode_is_named_as_the_cause_of_a_dynamic_binary() {
    let err = build_fails(&fidelity("msg"), &[], &[("GOFLAGS", "-buildmode=pie")]);
    assert!(err.contains("-buildmode=pie"), "{err}");
    assert!(!err.contains("cgo packages"), "not blamed on cgo: {err}");
    let plan = plan_json(&fidelity("msg"), &[], &[("GOFLAGS", "-buildmode=pie")]);
    assert!(
        plan["warnings"].to_string().contains("-buildmode=pie"),
        "{}",
        plan["warnings"]
    );
}

// Item 5: `go env -w` settings (the GOENV file) count, are read as go reads them, and are shown.
#[test]
fn go_env_file_settings_are_read_like_go_and_shown_in_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let envfile = tmp.path().join("go-env");
    std::fs::write(
        &envfile,
        "GOFLAGS=-ldflags=-X=main.version=fromfile -buildvcs=false\nGOTOOLCHAIN=go1.26.0+auto\n",
    )
    .unwrap();
    let envfile_str = envfile.to_str().unwrap();
    // GOTOOLCHAIN= (empty) is unset for go, so the file's value is the one in effect.
    let env = [("GOENV", envfile_str), ("GOTOOLCHAIN", "")];
    let plan = plan_json(&fidelity("msg"), &[], &env);
    assert_eq!(plan["go"]["gotoolchain"], "go1.26.0+auto");
    let settings = plan["go"]["environment"].as_array().unwrap();
    let goflags = settings
        .iter()
        .find(|s| s["name"] == "GOFLAGS")
        .unwrap_or_else(|| panic!("GOFLAGS is listed: {settings:?}"));
    assert_eq!(goflags["source"], "go_env_file");
    assert!(
        plan["warnings"].to_string().contains("-buildvcs=false"),
        "{}",
        plan["warnings"]
    );
    let built = build_with(&fidelity("msg"), &[], &[("GOENV", envfile_str)]);
    assert_eq!(
        built.run_on_host(),
        "msg=unset version=fromfile other=unset tag=none\n"
    );
}

/// A `go` wrapper that records the GOTOOLCHAIN each run sees, then runs the real go.
fn recording_go(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("gotoolchain.log");
    let script = dir.join("go");
    let real = String::from_utf8(
        run_ok(Command::new("sh").args(["-c", "command -v go"]))
            .stdout
            .trim_ascii()
            .to_vec(),
    )
    .unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"GOTOOLCHAIN=${{GOTOOLCHAIN-unset}}\" >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

// Issue 10: `GOTOOLCHAIN=` is unset, as go treats it: gopack's `local` applies and is reported.
#[test]
fn an_empty_gotoolchain_is_unset_for_every_go_command() {
    let tmp = tempfile::tempdir().unwrap();
    let (go, log) = recording_go(tmp.path());
    let mut cmd = clean_gopack();
    cmd.current_dir(fidelity("msg"))
        .env("GOPACK_GO", &go)
        .env("GOTOOLCHAIN", "")
        .env("GOPACK_NO_LIST_CACHE", "1")
        .args(["plan", "--json", "--deep"]);
    let plan: Value = serde_json::from_slice(&run_ok(&mut cmd).stdout).unwrap();
    assert_eq!(plan["go"]["gotoolchain"], "local");
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(
        !seen.is_empty() && seen.lines().all(|l| l == "GOTOOLCHAIN=local"),
        "every go command runs with GOTOOLCHAIN=local:\n{seen}"
    );
}

// Item 6: a build must not make the next one `+dirty`.
#[test]
fn two_builds_in_a_git_work_tree_give_the_same_digest() {
    if !require_tool("git") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("repo");
    copy_tree(&fidelity("msg"), &src);
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(&src),
        )
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let digest = || {
        let out = run_ok(
            clean_gopack()
                .current_dir(&src)
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["build", "--json"]),
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["images"][0]["digest"].as_str().unwrap().to_string()
    };
    let first = digest();
    let second = digest();
    assert_eq!(
        first, second,
        "the first build's output made the second +dirty"
    );
    let status = git(&["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "the default output is ignored by git: {}",
        String::from_utf8_lossy(&status.stdout)
    );
}

// Item 7: the GOTOOLCHAIN advice names a toolchain go accepts.
#[test]
fn too_new_go_line_suggests_a_toolchain_name_go_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fidelity("msg"), tmp.path());
    std::fs::write(
        tmp.path().join("go.mod"),
        "module example.com/msg\n\ngo 1.99\n",
    )
    .unwrap();
    let err = build_fails(tmp.path(), &[], &[]);
    assert!(err.contains("GOTOOLCHAIN=go1.99.0"), "{err}");
    assert!(!err.contains("GOTOOLCHAIN=go1.99 "), "{err}");
    // go itself accepts the suggested name as a toolchain (it fails only because it cannot
    // download it here), where `go1.99` is refused as a language version.
    let out = Command::new("go")
        .arg("version")
        .env("GOTOOLCHAIN", "go1.99.0")
        .env("GOPROXY", "off")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("not a toolchain version"), "{stderr}");
}

const BERLIN: &str = "CET";

// Item 8: TZ in the config, or a program that reads TZ, gets the zone database.
#[test]
fn tz_reaches_the_program_in_a_scratch_image_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let configured = build_with(&fidelity("tzlocal"), &["--env", "TZ=Europe/Berlin"], &[]);
    let zone = &configured.platform()["files"][1];
    assert_eq!(zone["files"], "/usr/share/zoneinfo");
    assert_eq!(zone["included"], true, "{zone}");
    assert!(zone["reason"].as_str().unwrap().contains("TZ"), "{zone}");
    let (status, stdout, stderr) = configured.run(&[], &[]);
    assert_eq!((status, stdout.as_str()), (Some(0), "CET\n"), "{stderr}");

    // No TZ in the config: a deployment may still set it, and it must work.
    let plain = build_with(&fidelity("tzlocal"), &[], &[]);
    let (status, stdout, stderr) = plain.run(&[], &[("TZ", "Europe/Berlin")]);
    assert_eq!((status, stdout.as_str()), (Some(0), "CET\n"), "{stderr}");
    // --tz=no is obeyed, and then the zone is UTC: that is what the flag means.
    let without = build_with(&fidelity("tzlocal"), &["--tz=no"], &[]);
    let (_, stdout, _) = without.run(&[], &[("TZ", "Europe/Berlin")]);
    assert_eq!(stdout, "UTC\n");
}

#[test]
fn embedded_tzdata_does_not_cover_tz_read_during_init_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let built = build_with(&fidelity("tzinit"), &["--env", "TZ=Europe/Berlin"], &[]);
    let zone = &built.platform()["files"][1];
    assert_eq!(zone["included"], true, "{zone}");
    let reason = zone["reason"].as_str().unwrap();
    assert!(
        reason.contains("time/tzdata") && reason.contains("init"),
        "{reason}"
    );
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), format!("{BERLIN} {BERLIN}\n").as_str()),
        "{stderr}"
    );
}

// Item 9: users the config names exist in the image the way runtimes and os/user need them.
#[test]
fn a_numeric_user_gets_its_passwd_entry_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let built = build_with(&testdata("needs/userdb"), &["--user", "1234:1234"], &[]);
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words[0], "1234", "{stdout}");
    let passwd = std::fs::read_to_string(built.unpack().join("rootfs/etc/passwd")).unwrap();
    assert!(passwd.contains(":1234:1234:"), "{passwd}");
}

#[test]
fn a_named_user_is_created_with_a_printed_uid_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let built = build_with(&testdata("needs/userdb"), &["--user", "app"], &[]);
    let user = built.json["images"][0]["user"]
        .as_str()
        .unwrap()
        .to_string();
    let (uid, _) = user.split_once(':').expect("numeric uid:gid");
    assert!(uid.parse::<u32>().is_ok_and(|u| u >= 1000), "{user}");
    let plan_user = built.json["plan"]["user"].to_string();
    assert!(
        plan_user.contains(uid) && plan_user.contains("app"),
        "{plan_user}"
    );
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(stdout, format!("{uid} app /home/app\n"));
}

#[test]
fn running_as_root_is_warned_about() {
    for user in ["root", "0", "0:0"] {
        let plan = plan_json(&fidelity("msg"), &["--user", user], &[]);
        assert!(
            plan["warnings"].to_string().contains("root"),
            "--user {user}: {}",
            plan["warnings"]
        );
    }
}

// Item 10: --ca-file is appended to the base's CA bundle, never dropped.
#[test]
fn ca_file_is_merged_into_the_base_bundle_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A base with a CA bundle: an image gopack builds with --certs=yes.
    let base = tmp.path().join("base");
    run_ok(clean_gopack().current_dir(fidelity("msg")).args([
        "build",
        "--certs=yes",
        "-o",
        &format!("oci:{}:base", base.display()),
    ]));
    let (ca, cert, key) = test_pki();
    let port = https_server(&cert, &key, "hello over tls");
    let ca_file = tmp.path().join("company.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let built = build_with(
        &testdata("needs/tlsclient"),
        &[
            "--base",
            &format!("oci:{}:base", base.display()),
            "--ca-file",
            ca_file.to_str().unwrap(),
        ],
        &[],
    );
    let bundle = std::fs::read_to_string(
        built
            .unpack()
            .join("rootfs/etc/ssl/certs/ca-certificates.crt"),
    )
    .unwrap();
    assert!(bundle.ends_with(&ca), "the company CA is in the bundle");
    assert!(
        bundle.matches("BEGIN CERTIFICATE").count() > 100,
        "base roots kept"
    );
    let url = format!("https://127.0.0.1:{port}/");
    let (status, stdout, stderr) = built.run(&[&url], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "200 OK 14\n"),
        "{stderr}"
    );
}

// Item 11: --data symlinks that point nowhere in the image are refused with the list.
#[test]
fn data_symlinks_that_leave_the_directory_are_refused_with_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    let web = tmp.path().join("web");
    std::fs::create_dir_all(web.join("css")).unwrap();
    std::fs::write(web.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "outside").unwrap();
    use std::os::unix::fs::symlink;
    symlink("index.html", web.join("home.html")).unwrap();
    symlink("../secret.txt", web.join("escape")).unwrap();
    symlink("missing.txt", web.join("dangling")).unwrap();
    symlink("loop", web.join("loop")).unwrap();
    symlink("/etc/hostname", web.join("absolute")).unwrap();
    let data = format!("{}:/srv/web", web.display());
    let err = build_fails(&fidelity("msg"), &["--data", &data], &[]);
    for name in ["escape", "dangling", "loop", "absolute"] {
        assert!(err.contains(name), "{name} is listed: {err}");
    }
    assert!(!err.contains("home.html"), "a link inside is fine: {err}");
    assert!(
        err.contains("--data-symlinks"),
        "the way out is named: {err}"
    );

    // Following: the escaping link's target is copied; dangling and looping links still stop it.
    std::fs::remove_file(web.join("dangling")).unwrap();
    std::fs::remove_file(web.join("loop")).unwrap();
    let built = build_with(
        &fidelity("msg"),
        &["--data", &data, "--data-symlinks", "follow"],
        &[],
    );
    let root = built.unpack().join("rootfs");
    assert_eq!(
        std::fs::read_to_string(root.join("srv/web/escape")).unwrap(),
        "outside"
    );
    let home = root.join("srv/web/home.html");
    assert!(home.is_symlink(), "links inside stay links");
}

#[test]
fn the_plan_says_where_a_non_root_program_can_write() {
    let plan = plan_json(&fidelity("msg"), &["--writable", "/var/lib/app"], &[]);
    let writable = plan["writable"].to_string();
    for path in ["/tmp", "/var/lib/app"] {
        assert!(writable.contains(path), "{writable}");
    }
    assert!(
        writable.contains("/usr/local/bin"),
        "read-only next to the binary: {writable}"
    );
}

/// pocketbase v0.36.8 from the module proxy: it writes pb_data next to its binary.
fn pocketbase_source(into: &Path) -> Option<PathBuf> {
    let out = Command::new("go")
        .args([
            "mod",
            "download",
            "-json",
            "github.com/pocketbase/pocketbase@v0.36.8",
        ])
        .env("GOFLAGS", "-mod=mod")
        .output()
        .ok()?;
    let info: Value = serde_json::from_slice(&out.stdout).ok()?;
    let dir = PathBuf::from(info["Dir"].as_str()?);
    copy_tree(&dir, into);
    use std::os::unix::fs::PermissionsExt;
    for entry in walk(into) {
        let mode = std::fs::metadata(&entry).unwrap().permissions().mode();
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode | 0o200)).unwrap();
    }
    Some(into.to_path_buf())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn pocketbase_runs_as_nonroot_with_a_writable_data_dir_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(src) = pocketbase_source(&tmp.path().join("pocketbase")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the module proxy is reachable in CI"
        );
        eprintln!("skipped: pocketbase: the module proxy is not reachable");
        return;
    };
    let serve = |built: &Built| {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let bundle = built.unpack();
        let config_path = bundle.join("config.json");
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        let args = config["process"]["args"].as_array_mut().unwrap();
        args.truncate(1);
        args.extend(["serve", "--http", &addr].map(Value::from));
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        let container = RuncContainer::start(&bundle, &[]);
        let health = http_get(port, "/api/health", Duration::from_secs(60));
        (health, container)
    };
    let base = build_with(&src, &["./examples/base"], &[]);
    let plan = base.json["plan"]["writable"].to_string();
    assert!(plan.contains("/usr/local/bin"), "{plan}");
    let (health, container) = serve(&base);
    assert!(
        health.is_none(),
        "pb_data next to a root-owned binary is not writable"
    );
    let (_, _, stderr) = container.wait_output(Duration::from_secs(10));
    assert!(stderr.contains("permission denied"), "{stderr}");

    let fixed = build_with(
        &src,
        &["./examples/base", "--writable", "/usr/local/bin/pb_data"],
        &[],
    );
    let (health, _container) = serve(&fixed);
    let health = health.expect("pocketbase answers once pb_data is writable");
    assert!(health.contains("healthy"), "{health}");
}

// Item 12: absolute program paths the binary runs but the image lacks are reported.
#[test]
fn a_program_running_bin_sh_is_warned_about_and_fails_without_it_under_runc() {
    if !require_tool("runc") {
        return;
    }
    let deep = plan_json(&fidelity("shell"), &["--deep"], &[]);
    let built_plan = deep["targets"][0]["built"].to_string();
    assert!(
        built_plan.contains("/bin/sh"),
        "plan --deep warns: {built_plan}"
    );
    let built = build_with(&fidelity("shell"), &[], &[]);
    let warnings = built.platform()["warnings"].to_string();
    assert!(warnings.contains("/bin/sh"), "build warns: {warnings}");
    let (status, _, stderr) = built.run(&[], &[]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("/bin/sh"), "{stderr}");
}

/// An OCI layout holding one image whose only file is busybox at /bin/sh (built with umoci).
fn busybox_base(dir: &Path) -> Option<String> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())?;
    let layout = dir.join("bb");
    run_ok(tool("umoci").args(["init", "--layout"]).arg(&layout));
    let image = format!("{}:latest", layout.display());
    run_ok(tool("umoci").args(["new", "--image", &image]));
    let bundle = dir.join("bb-bundle");
    run_ok(
        tool("umoci")
            .args(["unpack", "--image", &image])
            .arg(&bundle),
    );
    let bin = bundle.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(busybox, bin.join("sh")).unwrap();
    run_ok(
        tool("umoci")
            .args(["repack", "--image", &image])
            .arg(&bundle),
    );
    run_ok(tool("umoci").args([
        "config",
        "--image",
        &image,
        "--os",
        "linux",
        "--architecture",
        host_arch(),
    ]));
    Some(format!("oci:{}:latest", layout.display()))
}

#[test]
fn a_base_with_bin_sh_silences_the_warning_and_the_program_runs_under_runc() {
    if !require_tool("runc") || !require_tool("busybox") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = busybox_base(tmp.path()).expect("busybox is installed");
    let built = build_with(&fidelity("shell"), &["--base", &base], &[]);
    let warnings = built.platform()["warnings"].to_string();
    assert!(!warnings.contains("/bin/sh"), "{warnings}");
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "hi from sh\n"),
        "{stderr}"
    );
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

// Item 19: cgo is decided per binary, not once for the module.
#[test]
fn cgo_is_decided_per_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = clean_gopack();
    cmd.current_dir(fidelity("mixed")).args([
        "build",
        "./cmd/...",
        "--json",
        "-o",
        &format!("oci:{}", tmp.path().join("o").display()),
    ]);
    let json: Value = serde_json::from_slice(&run_ok(&mut cmd).stdout).unwrap();
    let go_build = |name: &str| -> String {
        json["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()["platforms"][0]["go_build"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        go_build("pure").contains("CGO_ENABLED=0"),
        "{}",
        go_build("pure")
    );
    assert!(
        go_build("native").contains("CGO_ENABLED=1") && go_build("native").contains("-extldflags"),
        "{}",
        go_build("native")
    );
    let plan = plan_json(&fidelity("mixed"), &["./cmd/..."], &[]);
    let modes: Vec<(String, String)> = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["cgo"]["mode"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("native".to_string(), "static".to_string()),
            ("pure".to_string(), "off".to_string())
        ]
    );
}

// Issue 8 item 8: secrets in --env are warned about; values can come from the environment or a
// file instead of the command line.
#[test]
fn secret_looking_env_is_warned_and_can_come_from_the_environment_or_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let env_file = tmp.path().join("app.env");
    std::fs::write(&env_file, "# comment\nLOG_LEVEL=debug\nAPI_TOKEN\n").unwrap();
    let built = build_with(
        &fidelity("msg"),
        &[
            "--env",
            "DB_PASSWORD",
            "--env-file",
            env_file.to_str().unwrap(),
        ],
        &[("DB_PASSWORD", "hunter2"), ("API_TOKEN", "t0k3n")],
    );
    let config = skopeo_inspect(&built.reference(), &["--config"]);
    let env = config["config"]["Env"].to_string();
    for kv in ["DB_PASSWORD=hunter2", "LOG_LEVEL=debug", "API_TOKEN=t0k3n"] {
        assert!(env.contains(kv), "{kv} in {env}");
    }
    let warnings = built.json["plan"]["warnings"].to_string();
    for name in ["DB_PASSWORD", "API_TOKEN"] {
        assert!(warnings.contains(name), "{name}: {warnings}");
    }
    assert!(
        !warnings.contains("hunter2"),
        "values are never printed: {warnings}"
    );
    assert!(!warnings.contains("LOG_LEVEL"), "{warnings}");
    // A name that is not set anywhere is an error, not an empty variable.
    let err = build_fails(&fidelity("msg"), &["--env", "NOT_SET_ANYWHERE_42"], &[]);
    assert!(err.contains("NOT_SET_ANYWHERE_42"), "{err}");
}
