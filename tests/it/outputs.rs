//! What `gopack build` writes, and never loses (issues 8, 9 and 10): OCI layouts as multi-image
//! stores, every `--tag` applied, `-q` references skopeo accepts, honest summaries, the umask,
//! concurrency, and leftovers of killed runs. Results are read back with skopeo and umoci.

use crate::common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outputs-cache")
}

pub fn gp() -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(repo_root())
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE");
    cmd
}

fn build(args: &[&str]) -> Value {
    let out = run_ok(gp().arg("build").args(args).arg("--json"));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

/// The summary a build prints (on stderr: stdout carries only the references).
fn build_text(args: &[&str]) -> String {
    String::from_utf8(run_ok(gp().arg("build").args(args)).stderr).unwrap()
}

fn build_quiet(args: &[&str]) -> Vec<String> {
    let out = run_ok(gp().arg("build").args(args).arg("-q"));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

pub fn oci(dir: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", dir.display())
}

/// The ref names in a layout's index.json, in order.
pub fn ref_names(dir: &Path) -> Vec<String> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .map(str::to_string)
        .collect()
}

/// The manifest digest skopeo reads for a single-platform image.
fn digest_of(reference: &str) -> String {
    skopeo_inspect(reference, &[])["Digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_build_moves_only_its_own_tag_and_keeps_the_base_it_read_from_the_same_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    build(&["./testdata/hello", "-o", &oci(&shared, "base")]);
    // An image put there by another tool stays too.
    run_ok(tool("skopeo").args(["copy", &oci(&shared, "base"), &oci(&shared, "other")]));
    let base_digest = digest_of(&oci(&shared, "base"));

    let app = build(&[
        "./testdata/withdep",
        "--base",
        &oci(&shared, "base"),
        "-o",
        &oci(&shared, "app"),
    ]);
    assert_eq!(ref_names(&shared), ["base", "other", "app"]);
    assert_eq!(digest_of(&oci(&shared, "app")), app["images"][0]["digest"]);
    assert_eq!(digest_of(&oci(&shared, "base")), base_digest);

    // Moving `app` to another image touches no other name.
    build(&["./testdata/hello", "-o", &oci(&shared, "app")]);
    assert_eq!(ref_names(&shared), ["base", "other", "app"]);
    assert_eq!(digest_of(&oci(&shared, "app")), base_digest);
    assert_eq!(digest_of(&oci(&shared, "other")), base_digest);
    // umoci reads every blob of the untouched names.
    umoci_unpack(
        &format!("{}:other", shared.display()),
        &tmp.path().join("bundle"),
    );
}

#[test]
fn a_directory_with_an_oci_layout_file_and_user_files_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let (code, err) = run_fail(gp().args([
        "build",
        "./testdata/hello",
        "-o",
        &format!("oci:{}", dir.display()),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("is not an OCI image layout") && err.contains("notes.txt"),
        "{err}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["notes.txt", "oci-layout"],
        "nothing added or removed"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn the_current_directory_can_be_the_output_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = run_ok(
        gopack(&cache())
            .current_dir(tmp.path())
            .args(["build", &testdata("hello").display().to_string()])
            .args(["-o", "oci:.", "-q"]),
    );
    let printed = String::from_utf8(lines.stdout).unwrap();
    assert_eq!(printed.trim(), "oci:.:latest");
    skopeo_inspect(&oci(tmp.path(), "latest"), &[]);
    // A second image goes beside the first.
    run_ok(
        gopack(&cache())
            .current_dir(tmp.path())
            .args(["build", &testdata("hello").display().to_string()])
            .args(["-o", "oci:.:two"]),
    );
    assert_eq!(ref_names(tmp.path()), ["latest", "two"]);
}

#[test]
fn every_tag_names_the_image_in_layouts_and_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build(&[
        "./testdata/hello",
        "-o",
        &format!("oci:{}", layout.display()),
        "-t",
        "v1",
        "-t",
        "stable",
    ]);
    assert_eq!(ref_names(&layout), ["v1", "stable"]);
    // The output's own tag and every --tag.
    let layout2 = tmp.path().join("out2");
    build(&["./testdata/hello", "-o", &oci(&layout2, "dev"), "-t", "v1"]);
    assert_eq!(ref_names(&layout2), ["dev", "v1"]);

    let archive = tmp.path().join("hello-oci.tar");
    build(&[
        "./testdata/hello",
        "-o",
        &format!("oci-archive:{}", archive.display()),
        "-t",
        "v1",
        "-t",
        "stable",
    ]);
    for tag in ["v1", "stable"] {
        skopeo_inspect(&format!("oci-archive:{}:{tag}", archive.display()), &[]);
    }

    let docker = tmp.path().join("hello-docker.tar");
    build(&[
        "./testdata/hello",
        "-o",
        &format!("docker-archive:{}", docker.display()),
        "-t",
        "example.com/app:v1",
        "-t",
        "example.com/app:stable",
    ]);
    let manifest = tar_member(&docker, "manifest.json");
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!(["example.com/app:v1", "example.com/app:stable"])
    );
    for tag in ["v1", "stable"] {
        let inspected = skopeo_inspect(
            &format!("docker-archive:{}:example.com/app:{tag}", docker.display()),
            &[],
        );
        assert_eq!(inspected["Name"], "example.com/app");
    }
}

/// A JSON member of a tar file, read with `tar` (an independent reader).
pub fn tar_member(tar: &Path, member: &str) -> Value {
    let out = run_ok(Command::new("tar").arg("-xOf").arg(tar).arg(member));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn quiet_output_is_a_reference_skopeo_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let archive = tmp.path().join("a.tar");
    let docker = tmp.path().join("d.tar");
    for output in [
        format!("oci:{}", layout.display()),
        format!("oci-archive:{}", archive.display()),
        format!(
            "docker-archive:{}:example.org/webcheck:v1",
            docker.display()
        ),
    ] {
        let lines = build_quiet(&["./testdata/hello", "-o", &output]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let built = build(&["./testdata/hello", "-o", &output]);
        let inspected = skopeo_inspect(&lines[0], &[]);
        if output.starts_with("docker-archive:") {
            // skopeo reads a docker archive as a Docker manifest of its own making.
            assert_eq!(inspected["Name"], "example.org/webcheck");
            assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
        } else {
            assert_eq!(
                inspected["Digest"], built["images"][0]["digest"],
                "{output}"
            );
        }
    }
}

#[test]
fn annotations_reach_the_index_of_a_multi_platform_image() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("multi");
    build(&[
        "./testdata/hello",
        "--platform",
        "linux/amd64,linux/arm64",
        "--annotation",
        "org.example.team=core",
        "-o",
        &format!("oci:{}", layout.display()),
    ]);
    let raw = skopeo_inspect(&oci(&layout, "latest"), &["--raw"]);
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["annotations"]["org.example.team"], "core", "{raw}");
    assert_eq!(
        raw["annotations"]["org.opencontainers.image.title"],
        "hello"
    );
}

#[test]
fn the_summary_counts_and_lists_every_layer_of_an_image_on_a_base() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    build(&["./testdata/hello", "-o", &oci(&shared, "base")]);
    let args = [
        "./testdata/withdep",
        "--base",
        &oci(&shared, "base"),
        "-o",
        &oci(&shared, "app"),
    ];
    let built = build(&args);
    let manifest = skopeo_inspect(&oci(&shared, "app"), &["--raw"]);
    let digests: Vec<&Value> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["digest"])
        .collect();
    let platform = &built["images"][0]["platforms"][0];
    let listed: Vec<&Value> = platform["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["digest"])
        .collect();
    assert_eq!(listed, digests, "every layer, the base's first");
    assert!(
        platform["uncompressed_size"].as_u64() > platform["compressed_size"].as_u64(),
        "one scope for both sizes: {platform}"
    );
    let text = build_text(&args);
    assert!(
        text.contains(&format!("{} layers", digests.len())),
        "{text}"
    );
}

#[test]
fn a_docker_archive_of_several_binaries_says_the_names_it_really_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let docker = tmp.path().join("multi.tar");
    let out = run_ok(
        gopack(&cache())
            .current_dir(testdata("multi"))
            .args(["build", "./cmd/..."])
            .arg("-o")
            .arg(format!(
                "docker-archive:{}:example.com/team:v2",
                docker.display()
            )),
    );
    // stdout: one reference per image, the name the archive really holds; stderr: the table.
    let printed = String::from_utf8(out.stdout).unwrap();
    let table = String::from_utf8(out.stderr).unwrap();
    let manifest = tar_member(&docker, "manifest.json");
    for (i, name) in ["api", "worker"].iter().enumerate() {
        let tag = format!("example.com/team/{name}:v2");
        assert_eq!(manifest[i]["RepoTags"], serde_json::json!([tag]));
        let reference = format!("docker-archive:{}:{tag}", docker.display());
        assert_eq!(
            printed.lines().nth(i),
            Some(reference.as_str()),
            "{printed}"
        );
        assert!(table.contains(&reference), "{table}");
    }
}

#[test]
fn a_docker_archive_refused_for_several_platforms_says_nothing_was_built_yet() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = run_fail(gp().args([
        "build",
        "./testdata/hello",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("docker-archive:{}", tmp.path().join("x.tar").display()),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("2 platforms were asked for") && !err.contains("were built"),
        "{err}"
    );
}

#[test]
fn the_base_name_annotation_does_not_depend_on_how_the_path_was_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let bases = tmp.path().join("bases");
    std::fs::create_dir(&bases).unwrap();
    build(&["./testdata/hello", "-o", &oci(&bases.join("dl"), "nonroot")]);
    let app = testdata("withdep").display().to_string();
    let mut digests = BTreeSet::new();
    for base in [
        "oci:./bases/dl:nonroot".to_string(),
        format!("oci:{}:nonroot", bases.join("dl").display()),
    ] {
        let out = run_ok(
            gopack(&cache())
                .current_dir(tmp.path())
                .args(["build", &app, "--base", &base, "--json", "-o"])
                .arg(format!("oci:{}", tmp.path().join("out").display())),
        );
        let built: Value = serde_json::from_slice(&out.stdout).unwrap();
        digests.insert(built["images"][0]["digest"].as_str().unwrap().to_string());
    }
    assert_eq!(digests.len(), 1, "{digests:?}");
    let manifest = skopeo_inspect(&oci(&tmp.path().join("out"), "latest"), &["--raw"]);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        "nonroot"
    );
}

/// Every file mode under `dir` (or of `dir` itself when it is a file), by kind.
fn modes(path: &Path) -> BTreeSet<(bool, u32)> {
    let mut out = BTreeSet::new();
    let meta = std::fs::symlink_metadata(path).unwrap();
    out.insert((meta.is_dir(), meta.permissions().mode() & 0o777));
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            out.extend(modes(&entry.unwrap().path()));
        }
    }
    out
}

#[test]
fn outputs_follow_the_umask_like_cp() {
    let tmp = tempfile::tempdir().unwrap();
    for (umask, file, dir) in [("022", 0o644, 0o755), ("027", 0o640, 0o750)] {
        let layout = tmp.path().join(format!("layout-{umask}"));
        let archive = tmp.path().join(format!("a-{umask}.tar"));
        let docker = tmp.path().join(format!("d-{umask}.tar"));
        for output in [
            format!("oci:{}", layout.display()),
            format!("oci-archive:{}", archive.display()),
            format!("docker-archive:{}", docker.display()),
        ] {
            run_ok(
                Command::new("sh")
                    .arg("-c")
                    .arg(format!(
                        "umask {umask} && exec \"$0\" build ./testdata/hello -o \"$1\" -q"
                    ))
                    .arg(env!("CARGO_BIN_EXE_gopack"))
                    .arg(&output)
                    .env("GOPACK_CACHE", cache())
                    .current_dir(repo_root()),
            );
        }
        let want: BTreeSet<(bool, u32)> = [(false, file), (true, dir)].into();
        assert_eq!(modes(&layout), want, "umask {umask}");
        assert_eq!(modes(&archive), [(false, file)].into(), "umask {umask}");
        assert_eq!(modes(&docker), [(false, file)].into(), "umask {umask}");
    }
}

#[test]
fn three_concurrent_builds_to_one_layout_all_succeed_and_each_tag_lands() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build(&["./testdata/hello", "-o", &oci(&layout, "warm")]);
    for round in 0..3 {
        let children: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|tag| {
                gp().args(["build", "./testdata/hello", "-q", "-o"])
                    .arg(oci(&layout, &format!("{tag}{round}")))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let names: BTreeSet<String> = ref_names(&layout).into_iter().collect();
    assert_eq!(names.len(), 10, "{names:?}");
    for name in names {
        skopeo_inspect(&oci(&layout, &name), &[]);
    }
}

#[test]
fn leftovers_of_a_run_killed_between_renames_are_recovered() {
    // Older versions replaced `out` by renaming it to `.out.old`, then the staging dir to
    // `out`. A run killed between the two left no `out`; one killed after left `.out.old`,
    // which made every later build fail with "Directory not empty".
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let old = tmp.path().join(".out.old");
    build(&["./testdata/hello", "-o", &oci(&layout, "keep")]);
    std::fs::rename(&layout, &old).unwrap();
    std::fs::create_dir(tmp.path().join(".out.tmp-AbC123")).unwrap();
    build(&["./testdata/hello", "-o", &oci(&layout, "new")]);
    assert_eq!(
        ref_names(&layout),
        ["keep", "new"],
        "the old layout is back"
    );
    assert!(!old.exists() && !tmp.path().join(".out.tmp-AbC123").exists());

    run_ok(Command::new("cp").arg("-a").arg(&layout).arg(&old));
    build(&["./testdata/hello", "-o", &oci(&layout, "again")]);
    assert!(!old.exists(), "a stale .out.old is cleaned");
    assert_eq!(ref_names(&layout), ["keep", "new", "again"]);
}

#[test]
fn temp_files_of_killed_runs_do_not_accumulate() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let layout = tmp.path().join("out");
    let archive = tmp.path().join("x.tar");
    let run = |output: &str| {
        run_ok(gopack(&cache).current_dir(repo_root()).args([
            "build",
            "./testdata/hello",
            "-q",
            "-o",
            output,
        ]))
    };
    run(&format!("oci:{}", layout.display()));
    // What a SIGKILL leaves: unlocked temp files in the store, the layout, the archive's
    // directory and a layout's blobs, and a staging directory beside the layout.
    let leftovers = [
        cache.join("store/tmp/.gopack-dead01.tmp"),
        cache.join("store/tmp/.tmpXyZ123"),
        layout.join(".gopack-dead02.tmp"),
        layout.join("blobs/sha256/.gopack-dead03.tmp"),
        tmp.path().join(".gopack-dead04.tmp"),
    ];
    for f in &leftovers {
        std::fs::write(f, b"partial").unwrap();
    }
    let staging = tmp.path().join(".gopack-dead05.tmp");
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join(".gopack.lock"), b"").unwrap();
    run(&format!("oci:{}", layout.display()));
    run(&format!("oci-archive:{}", archive.display()));
    for f in &leftovers {
        assert!(!f.exists(), "{} remains", f.display());
    }
    assert!(!staging.exists());
    assert_eq!(
        std::fs::read_dir(cache.join("store/tmp")).unwrap().count(),
        0
    );
}

#[test]
fn gc_removes_only_blobs_no_name_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build(&["./testdata/hello", "-o", &oci(&layout, "a")]);
    build(&["./testdata/withdep", "-o", &oci(&layout, "b")]);
    let before = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .count();
    // Moving `b` to hello's image leaves withdep's binary layer, config and manifest unused.
    build(&["./testdata/hello", "-o", &oci(&layout, "b")]);
    let out = run_ok(gp().args(["gc", &format!("oci:{}", layout.display()), "--json"]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let after = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(after, 4, "hello's manifest, config and two layers remain");
    assert_eq!(report["removed"], before - after, "{report}");
    assert_eq!(report["kept"], 4, "{report}");
    for tag in ["a", "b"] {
        umoci_unpack(
            &format!("{}:{tag}", layout.display()),
            &tmp.path().join(format!("bundle-{tag}")),
        );
    }
    let (code, err) = run_fail(gp().args(["gc", &oci(&layout, "a")]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn cache_info_and_prune_report_and_empty_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    run_ok(
        gopack(&cache)
            .current_dir(repo_root())
            .args(["build", "./testdata/hello", "-q", "-o"])
            .arg(format!("oci:{}", tmp.path().join("out").display())),
    );
    let info = |cache: &Path| -> Value {
        let out = run_ok(gopack(cache).args(["cache", "info", "--json"]));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = info(&cache);
    assert_eq!(before["format"], 1);
    let part = |v: &Value, name: &str| -> u64 {
        v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["part"] == name)
            .unwrap()["files"]
            .as_u64()
            .unwrap()
    };
    assert!(part(&before, "blobs") >= 4, "{before}");
    assert!(part(&before, "layer-records") >= 2, "{before}");
    assert!(part(&before, "binaries") >= 1, "{before}");
    // Nothing is old enough for the default prune.
    run_ok(gopack(&cache).args(["cache", "prune"]));
    assert_eq!(part(&info(&cache), "blobs"), part(&before, "blobs"));
    run_ok(gopack(&cache).args(["cache", "prune", "--all"]));
    let after = info(&cache);
    assert_eq!(part(&after, "blobs"), 0, "{after}");
    // The layout's hard-linked blobs are the layout's own: it still reads.
    skopeo_inspect(&oci(&tmp.path().join("out"), "latest"), &[]);
    let (code, err) = run_fail(gopack(&cache).args(["cache", "prune", "--older-than", "soon"]));
    assert_eq!(code, 2, "{err}");
}

/// A tmpfs of `kib` KiB mounted at `dir` (root only); unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, kib: u32) -> Option<SmallDisk> {
        let uid = run_ok(Command::new("id").arg("-u")).stdout;
        if String::from_utf8_lossy(&uid).trim() != "0" {
            assert!(
                std::env::var_os("CI").is_none(),
                "this test needs root (CI runs as root)"
            );
            eprintln!("skipped: needs root to mount a small tmpfs");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        run_ok(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
                .arg(dir),
        );
        Some(SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

#[test]
fn a_full_output_disk_is_blamed_on_the_output_and_leaves_nothing_needs_root() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let Some(_disk) = SmallDisk::mount(&small, 256) else {
        return;
    };
    for output in [
        format!("oci:{}", small.join("out").display()),
        format!("oci-archive:{}", small.join("app.tar").display()),
        format!("docker-archive:{}", small.join("app-docker.tar").display()),
    ] {
        let (code, err) = run_fail(gp().args(["build", "./testdata/hello", "-o", &output]));
        assert_eq!(code, 1);
        assert!(
            err.contains(&small.display().to_string())
                && err.contains("is full")
                && !err.contains("outputs-cache"),
            "{output}: {err}"
        );
        let left: Vec<_> = std::fs::read_dir(&small).unwrap().collect();
        assert!(left.is_empty(), "{output}: {left:?}");
    }
}

#[test]
fn quiet_push_output_pins_the_digest_and_the_summary_lists_only_the_other_tags() {
    if !require_tool("docker-registry") {
        return;
    }
    let registry = crate::registry_support::Registry::start_plain();
    let host = registry.host();
    let push = |extra: &[&str]| {
        let mut cmd = gp();
        cmd.args([
            "build",
            "./testdata/hello",
            "--push",
            "--insecure-registry",
            &host,
        ])
        .args(["-t", &format!("{host}/team/app:v1.4"), "-t", "latest"])
        .args(extra);
        let out = run_ok(&mut cmd);
        // The references on stdout with -q; the summary on stderr otherwise.
        String::from_utf8(if extra.contains(&"-q") {
            out.stdout
        } else {
            out.stderr
        })
        .unwrap()
    };
    let quiet = push(&["-q"]);
    let line = quiet.trim();
    assert!(
        line.starts_with(&format!("{host}/team/app@sha256:")),
        "{line}"
    );
    // The printed reference is what skopeo (with its transport), docker and kubectl take.
    let inspected = skopeo_inspect(&format!("docker://{line}"), &["--tls-verify=false"]);
    assert_eq!(inspected["Digest"], line.split_once('@').unwrap().1);

    let text = push(&[]);
    assert!(
        text.contains(&format!("pushed to   {host}/team/app:v1.4")),
        "{text}"
    );
    assert!(text.contains("also tagged latest\n"), "{text}");
    let mut tags = registry.tags("team/app");
    tags.sort();
    assert_eq!(tags, ["latest", "v1.4"]);
}

#[test]
fn a_docker_archive_loads_into_podman_under_the_name_it_was_given() {
    let Some(podman) = crate::daemon::PodmanService::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("app.tar");
    build(&[
        "./testdata/hello",
        "-o",
        &format!(
            "docker-archive:{}:example.org/webcheck:v1",
            archive.display()
        ),
    ]);
    let index = tar_member(&archive, "index.json");
    let annotations = &index["manifests"][0]["annotations"];
    assert_eq!(
        annotations["io.containerd.image.name"],
        "example.org/webcheck:v1"
    );
    assert_eq!(annotations["org.opencontainers.image.ref.name"], "v1");

    let loaded = podman.request(
        "POST",
        "/v1.41/images/load",
        &std::fs::read(&archive).unwrap(),
    );
    assert!(loaded.contains("example.org/webcheck:v1"), "{loaded}");
    let images: Value =
        serde_json::from_str(&podman.request("GET", "/v1.41/images/json", b"")).unwrap();
    let tags: Vec<&Value> = images
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["RepoTags"].as_array().unwrap())
        .collect();
    assert_eq!(tags, [&Value::from("example.org/webcheck:v1")]);
}

#[test]
fn layout_blobs_are_hard_links_to_the_store() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let layout = tmp.path().join("out");
    run_ok(
        gopack(&cache)
            .current_dir(repo_root())
            .args(["build", "./testdata/hello", "-q", "-o"])
            .arg(format!("oci:{}", layout.display())),
    );
    let blobs: Vec<_> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(blobs.len(), 4);
    for blob in blobs {
        let stored = cache.join("store/blobs/sha256").join(blob.file_name());
        assert_eq!(
            blob.metadata().unwrap().ino(),
            std::fs::metadata(&stored).unwrap().ino(),
            "{:?} is a copy",
            blob.file_name()
        );
    }
}

#[test]
fn output_paths_are_checked_before_building_with_messages_that_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let dir = tmp.path().join("a-dir");
    std::fs::create_dir(&dir).unwrap();
    for (output, words) in [
        (
            format!("oci:{}", file.display()),
            "is a file, not a directory",
        ),
        (format!("oci-archive:{}", dir.display()), "is a directory"),
        (
            format!("docker-archive:{}", dir.display()),
            "is a directory",
        ),
        (format!("oci:{}/sub/out", file.display()), "not a directory"),
    ] {
        let (code, err) = run_fail(gp().args(["build", "./testdata/hello", "-o", &output]));
        assert_eq!(code, 1, "{output}");
        assert!(
            err.contains(words) && !err.contains("caused by"),
            "{output}: {err}"
        );
        assert!(
            !err.contains("go build"),
            "{output}: checked before building: {err}"
        );
    }
    // Missing parent directories are made.
    let deep = tmp.path().join("new/deeper/out");
    build(&["./testdata/hello", "-o", &format!("oci:{}", deep.display())]);
    skopeo_inspect(&oci(&deep, "latest"), &[]);
}
