//! The `go list` answer cache (issue 15): an edit inside a function body reuses the answer, so
//! the edit loop runs only `go build`; an edit that changes what `go list` reads (imports, cgo
//! files and `#cgo` lines, embed patterns and embedded files) is seen by the very next command.

use crate::common;

use std::io::Read;
use std::path::Path;

use common::*;
use serde_json::Value;

fn plan(cache: &Path, dir: &Path) -> Value {
    let out = run_ok(gopack(cache).current_dir(dir).args(["plan", "--json"]));
    serde_json::from_slice(&out.stdout).expect("plan --json prints JSON")
}

fn answers(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("golist")).map_or(0, |d| d.count())
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn cgo_package(plan: &Value) -> &Value {
    &plan["cgo"]["packages"][0]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_function_body_edit_reuses_the_go_list_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    plan(&cache, &src);
    assert_eq!(answers(&cache), 1);
    edit(&src.join("main.go"), "\"ok\\n\"", "\"ok, edited\\n\"");
    edit(
        &src.join("main.go"),
        "return fallback",
        "return fallback + \"\"",
    );
    plan(&cache, &src);
    assert_eq!(
        answers(&cache),
        1,
        "a body edit must not need a new go list answer"
    );
}

#[test]
fn copies_of_a_module_in_two_places_never_share_an_answer() {
    // `gopack dockerfile . --main .` asks go list in the relative directory `.`: the key must
    // still tell the copies apart, since the answer holds absolute package directories.
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    for name in ["a", "b"] {
        let src = tmp.path().join(name);
        copy_tree(&testdata("hello"), &src);
        run_ok(gopack(&cache).current_dir(&src).args([
            "dockerfile",
            ".",
            "--main",
            ".",
            "--force",
        ]));
        let p = plan(&cache, &src);
        let dir = p["images"][0]["dir"].as_str().unwrap().to_string();
        assert!(
            Path::new(&dir).ends_with(name),
            "the plan for {name} names {dir}"
        );
    }
}

#[test]
fn import_and_cgo_edits_are_seen_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let main = src.join("main.go");
    let first = plan(&cache, &src);
    assert!(!strings(&first["cgo"]["std_packages"]).contains(&"os/user".to_string()));

    edit(&main, "\"os\"\n", "\"os\"\n\t_ \"os/user\"\n");
    let p = plan(&cache, &src);
    assert!(
        strings(&p["cgo"]["std_packages"]).contains(&"os/user".to_string()),
        "a new import is seen at once: {}",
        p["cgo"]
    );

    edit(
        &main,
        "import (",
        "// #cgo LDFLAGS: -lm\n// static int one(void) { return 1; }\nimport \"C\"\n\nimport (",
    );
    edit(&main, "func main() {", "var _ = C.one\n\nfunc main() {");
    let p = plan(&cache, &src);
    assert_eq!(
        p["cgo"]["mode"], "static",
        "import \"C\" in an existing file"
    );
    assert_eq!(strings(&cgo_package(&p)["libraries"]), ["m"]);

    edit(&main, "-lm", "-lm -lz");
    let p = plan(&cache, &src);
    assert_eq!(
        strings(&cgo_package(&p)["libraries"]),
        ["m", "z"],
        "a changed #cgo line is seen at once"
    );

    std::fs::write(src.join("extra.c"), "int two(void) { return 2; }\n").unwrap();
    let p = plan(&cache, &src);
    assert_eq!(
        strings(&cgo_package(&p)["native_files"]),
        ["extra.c"],
        "a new C file is seen at once"
    );
}

#[test]
fn embed_patterns_and_new_embedded_files_are_seen_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let layout = tmp.path().join("out");
    let build = || {
        run_ok(gopack(&cache).current_dir(&src).args([
            "build",
            "-q",
            "-o",
            &format!("oci:{}", layout.display()),
        ]))
    };
    std::fs::create_dir(src.join("static")).unwrap();
    std::fs::write(src.join("static/a.txt"), "marker-a-5f1c").unwrap();
    std::fs::write(
        src.join("assets.go"),
        "package main\n\nimport \"embed\"\n\n//go:embed static\nvar assets embed.FS\n\nfunc init() { _, _ = assets.ReadFile(\"static/a.txt\") }\n",
    )
    .unwrap();
    build();
    assert!(contains(&binary_of(&layout), b"marker-a-5f1c"));

    std::fs::write(src.join("static/b.txt"), "marker-b-93e0").unwrap();
    build();
    assert!(
        contains(&binary_of(&layout), b"marker-b-93e0"),
        "a new file under an embedded directory is in the very next image"
    );

    edit(
        &src.join("assets.go"),
        "//go:embed static",
        "//go:embed static missing.txt",
    );
    let (_, stderr) = run_fail(gopack(&cache).current_dir(&src).args([
        "build",
        "-o",
        &format!("oci:{}", layout.display()),
    ]));
    assert!(
        stderr.contains("missing.txt"),
        "a new embed pattern is checked at once:\n{stderr}"
    );
    std::fs::write(src.join("missing.txt"), "marker-c-0b7d").unwrap();
    build();
    assert!(contains(&binary_of(&layout), b"marker-c-0b7d"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The binary from the top layer of the single image in an OCI layout.
fn binary_of(layout: &Path) -> Vec<u8> {
    let json = |digest: &str| -> Value {
        let path = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = json(index["manifests"][0]["digest"].as_str().unwrap());
    let layer = manifest["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let blob = std::fs::File::open(layout.join("blobs/sha256").join(layer)).unwrap();
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(blob));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().starts_with("usr/local/bin") && entry.header().size().unwrap() > 0
        {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("no binary in the top layer of {}", layout.display());
}

// ---- Skipping `go build` when nothing it reads changed (src/gobuild/stamp.rs) ----

/// A `go` that appends a line to `go.log` for every `go build` it is asked for, then runs the
/// real go: how the tests below see whether gopack ran go.
fn logging_go(dir: &Path) -> std::path::PathBuf {
    let real = String::from_utf8(
        tool("sh")
            .args(["-c", "command -v go"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = dir.join("go");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = build ] && echo build >> '{}'\nexec '{}' \"$@\"\n",
            dir.join("go.log").display(),
            real.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn go_builds(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("go.log")).map_or(0, |t| t.lines().count())
}

/// `gopack build --json` of `src` into `layout` with the logging go: the manifest digest.
fn stamped_build(
    cache: &Path,
    go: &Path,
    src: &Path,
    layout: &Path,
    env: &[(&str, &str)],
) -> String {
    let mut cmd = gopack(cache);
    cmd.current_dir(src)
        .env("GOPACK_GO", go)
        .env("GOENV", "off")
        .env_remove("GOFLAGS")
        .env_remove("GOPACK_ALWAYS_GO_BUILD")
        .args(["build", "--json", "-o"])
        .arg(format!("oci:{}", layout.display()));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_ok(&mut cmd);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["images"][0]["platforms"][0]["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_unchanged_module_is_not_built_again_and_every_change_is() {
    if !require_tool("go") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let go = logging_go(tmp.path());
    let layout = tmp.path().join("out");
    let flags = [("GOFLAGS", "-buildvcs=false")];
    let first = stamped_build(&cache, &go, &src, &layout, &flags);
    assert_eq!(go_builds(tmp.path()), 1);
    // Nothing changed: go is not run, the image is the same.
    assert_eq!(stamped_build(&cache, &go, &src, &layout, &flags), first);
    assert_eq!(go_builds(tmp.path()), 1, "an unchanged build ran go again");
    // A file touched but not changed: still nothing to do (contents count, not mtimes).
    let main = src.join("main.go");
    std::fs::write(&main, std::fs::read(&main).unwrap()).unwrap();
    assert_eq!(stamped_build(&cache, &go, &src, &layout, &flags), first);
    assert_eq!(go_builds(tmp.path()), 1);
    // A body edit: go runs and the image holds the new code.
    edit(&main, "hello listening on", "hello stamp-9f3e on");
    let edited = stamped_build(&cache, &go, &src, &layout, &flags);
    assert_eq!(go_builds(tmp.path()), 2);
    assert_ne!(edited, first);
    assert!(contains(&binary_of(&layout), b"hello stamp-9f3e on"));
    // A new file in a directory go list never reads (`_assets`, embedded with `all:`).
    std::fs::create_dir_all(src.join("_assets")).unwrap();
    std::fs::write(src.join("_assets/a.txt"), "asset-one-51c0").unwrap();
    std::fs::write(
        src.join("assets.go"),
        "package main\n\nimport \"embed\"\n\n//go:embed all:_assets\nvar assets embed.FS\n\nfunc init() { _, _ = assets.ReadDir(\"_assets\") }\n",
    )
    .unwrap();
    stamped_build(&cache, &go, &src, &layout, &flags);
    assert_eq!(go_builds(tmp.path()), 3);
    std::fs::write(src.join("_assets/b.txt"), "asset-two-77d2").unwrap();
    stamped_build(&cache, &go, &src, &layout, &flags);
    assert_eq!(go_builds(tmp.path()), 4, "a new embedded file must rebuild");
    assert!(contains(&binary_of(&layout), b"asset-two-77d2"));
    // The Go environment and gopack's flags are part of the build.
    stamped_build(
        &cache,
        &go,
        &src,
        &layout,
        &[("GOFLAGS", "-buildvcs=false -tags=x")],
    );
    assert_eq!(go_builds(tmp.path()), 5);
    let mut cmd = gopack(&cache);
    cmd.current_dir(&src)
        .env("GOPACK_GO", &go)
        .env("GOENV", "off")
        .env("GOFLAGS", "-buildvcs=false")
        .args(["build", "-q", "--ldflags", "-X main.v=1", "-o"])
        .arg(format!("oci:{}", layout.display()));
    run_ok(&mut cmd);
    assert_eq!(go_builds(tmp.path()), 6);
    // go.mod is read by go.
    let gomod = src.join("go.mod");
    let text = std::fs::read_to_string(&gomod).unwrap();
    std::fs::write(&gomod, format!("{text}\n// a comment\n")).unwrap();
    stamped_build(&cache, &go, &src, &layout, &flags);
    assert_eq!(go_builds(tmp.path()), 7);
    // The escape hatch.
    stamped_build(
        &cache,
        &go,
        &src,
        &layout,
        &[
            ("GOFLAGS", "-buildvcs=false"),
            ("GOPACK_ALWAYS_GO_BUILD", "1"),
        ],
    );
    assert_eq!(go_builds(tmp.path()), 8);
}

#[test]
fn a_new_commit_or_a_dirty_work_tree_is_built_again_when_go_stamps_vcs_information() {
    if !require_tool("go") || !require_tool("git") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let git = |args: &[&str]| {
        run_ok(
            tool("git")
                .current_dir(&src)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args),
        )
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    let cache = tmp.path().join("cache");
    let go = logging_go(tmp.path());
    // The layout outside the work tree, so the build does not dirty it.
    let layout = tmp.path().join("out");
    let first = stamped_build(&cache, &go, &src, &layout, &[]);
    assert_eq!(stamped_build(&cache, &go, &src, &layout, &[]), first);
    assert_eq!(go_builds(tmp.path()), 1);
    // A commit without a source change: go stamps a new vcs.revision.
    git(&["commit", "-q", "--allow-empty", "-m", "two"]);
    let second = stamped_build(&cache, &go, &src, &layout, &[]);
    assert_eq!(go_builds(tmp.path()), 2);
    assert_ne!(second, first, "vcs.revision is in the binary");
    let head = git(&["rev-parse", "HEAD"]).stdout;
    let head = String::from_utf8(head).unwrap();
    assert!(contains(&binary_of(&layout), head.trim().as_bytes()));
    // An untracked file outside the module's packages makes go stamp vcs.modified=true.
    std::fs::write(src.join("NOTES"), "x").unwrap();
    let dirty = stamped_build(&cache, &go, &src, &layout, &[]);
    assert_eq!(go_builds(tmp.path()), 3);
    assert_ne!(dirty, second);
    assert!(contains(&binary_of(&layout), b"vcs.modified=true"));
}

#[test]
fn a_build_of_many_packages_skips_go_only_when_none_of_them_changed() {
    if !require_tool("go") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("multi");
    copy_tree(&testdata("multi"), &src);
    let cache = tmp.path().join("cache");
    let go = logging_go(tmp.path());
    let layout = tmp.path().join("out");
    let build = || {
        let mut cmd = gopack(&cache);
        cmd.current_dir(&src)
            .env("GOPACK_GO", &go)
            .env("GOENV", "off")
            .env("GOFLAGS", "-buildvcs=false")
            .args(["build", "-q", "./...", "-o"])
            .arg(format!("oci:{}", layout.display()));
        String::from_utf8(run_ok(&mut cmd).stdout).unwrap()
    };
    let first = build();
    assert_eq!(first.lines().count(), 2, "{first}");
    let after_one = go_builds(tmp.path());
    assert_eq!(build(), first);
    assert_eq!(
        go_builds(tmp.path()),
        after_one,
        "nothing changed: no go build"
    );
    // A change in the shared package: both binaries are linked again, in one go build.
    let greet = src.join("internal/greet/greet.go");
    let text = std::fs::read_to_string(&greet).unwrap();
    std::fs::write(
        &greet,
        format!("{text}\nvar Marker = \"batch-stamp-3a1c\"\n"),
    )
    .unwrap();
    build();
    assert_eq!(go_builds(tmp.path()), after_one + 1);
}
