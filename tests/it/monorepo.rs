//! Many binaries: `gopack build ./...` runs one `go build` per platform for all packages, the
//! summary table and metadata per target, `--shard` (the union of the shards is the full
//! build, digest for digest), `--changed-since` (unchanged targets keep their digest), shared
//! blobs pushed once and mounted, and the stdout/stderr split scripts rely on.

use crate::common;
use crate::registry_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use registry_support::Registry;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monorepo-cache")
}

fn gp(cwd: &Path) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(cwd)
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE")
        .env_remove("GOFLAGS")
        .env("GOENV", "off")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

/// A module with `n` main packages `cmd/cNN`, all importing `internal/shared`, and `cmd/c01`
/// also importing `internal/one` and embedding `cmd/c01/banner.txt`.
pub fn generate_module(dir: &Path, n: usize) {
    std::fs::write(dir.join("go.mod"), "module example.com/mono\n\ngo 1.22\n").unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "internal/shared/shared.go",
        "package shared\n\nimport \"strings\"\n\nfunc Greet(n string) string { return strings.ToUpper(\"hello \" + n) }\n",
    );
    write("internal/one/one.go", "package one\n\nconst Value = 1\n");
    for i in 0..n {
        let (extra_import, extra) = if i == 1 {
            (
                "\t_ \"embed\"\n\t\"example.com/mono/internal/one\"\n",
                "\n//go:embed banner.txt\nvar banner string\n\nfunc init() { _ = one.Value; _ = banner }\n",
            )
        } else {
            ("", "")
        };
        write(
            &format!("cmd/c{i:02}/main.go"),
            &format!(
                "package main\n\nimport (\n\t\"fmt\"\n{extra_import}\n\t\"example.com/mono/internal/shared\"\n)\n{extra}\nfunc main() {{ fmt.Println(shared.Greet(\"c{i:02}\")) }}\n"
            ),
        );
    }
    write("cmd/c01/banner.txt", "banner\n");
}

fn git(dir: &Path, args: &[&str]) {
    run_ok(
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir),
    );
}

fn digests(built: &Value) -> BTreeMap<String, String> {
    built["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["package"].as_str().unwrap().to_string(),
                t["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn one_go_build_links_every_package_of_a_platform() {
    let tmp = tempfile::tempdir().unwrap();
    generate_module(tmp.path(), 6);
    let out = run_ok(
        gp(tmp.path())
            .args(["build", "./...", "-v", "-o"])
            .arg(format!("oci:{}", tmp.path().join("out").display())),
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let go_builds: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("gopack: run: ") && l.contains(" go build "))
        .collect();
    assert_eq!(go_builds.len(), 1, "{stderr}");
    // -v also says how much runs at once, bounded by cores and memory.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("gopack: schedule: ") && l.contains(" cores, ")),
        "{stderr}"
    );
    for i in 0..6 {
        assert!(
            go_builds[0].contains(&format!("example.com/mono/cmd/c{i:02}")),
            "{stderr}"
        );
    }
    // One summary table, one reference per image on stdout.
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert!(stderr.contains("built 6 images"), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("IMAGE ")), "{stderr}");
}

#[test]
fn the_union_of_the_shards_is_the_full_build_digest_for_digest() {
    if !require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    generate_module(tmp.path(), 7);
    let push = |extra: &[&str]| -> Value {
        let out = run_ok(
            gp(tmp.path())
                .env("GOPACK_REPO", format!("{host}/mono"))
                .args(["build", "./...", "--push", "--json"])
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let full = push(&[]);
    assert!(full["schedule"]["jobs"].as_u64().unwrap() >= 1, "{full}");
    assert!(full["schedule"]["cores"].as_u64().unwrap() >= 1, "{full}");
    let mut union = BTreeMap::new();
    for i in 1..=3 {
        let shard = push(&["--shard", &format!("{i}/3")]);
        let mine = digests(&shard);
        assert!(mine.len() == 2 || mine.len() == 3, "{shard}");
        assert_eq!(
            shard["other_shards"].as_array().unwrap().len(),
            7 - mine.len()
        );
        for (k, v) in mine {
            assert!(union.insert(k, v).is_none(), "shards overlap");
        }
    }
    assert_eq!(union, digests(&full));
    // Shared blobs (the base-files layer) went up once and were mounted into the others.
    let mounted: u64 = full["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["push"]["blobs_mounted"].as_u64().unwrap())
        .sum();
    assert!(mounted >= 6, "{full}");
}

#[test]
fn changed_since_rebuilds_only_what_changed_and_the_rest_keeps_its_digest() {
    let tmp = tempfile::tempdir().unwrap();
    generate_module(tmp.path(), 5);
    std::fs::write(tmp.path().join(".gitignore"), "out/\nmeta*.json\n").unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "."]);
    git(tmp.path(), &["commit", "-qm", "init"]);
    let layout = format!("oci:{}", tmp.path().join("out").display());
    // Go stamps vcs.modified into every binary of a dirty tree (and vcs.revision changes with
    // each commit): without the stamp, a rebuild of an unaffected target is byte-identical,
    // which is what makes keeping its previous image safe.
    let build = |extra: &[&str]| -> Value {
        let out = run_ok(
            gp(tmp.path())
                .env("GOFLAGS", "-buildvcs=false")
                .args(["build", "./...", "--json", "-o", &layout])
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = digests(&build(&[]));
    assert_eq!(first.len(), 5);

    // Nothing changed: nothing to build.
    let none = build(&["--changed-since", "HEAD"]);
    assert!(none["targets"].as_array().unwrap().is_empty(), "{none}");
    assert_eq!(none["unchanged"].as_array().unwrap().len(), 5);

    // A file embedded by c01 changed: only c01.
    std::fs::write(tmp.path().join("cmd/c01/banner.txt"), "changed\n").unwrap();
    let metadata = tmp.path().join("meta.json");
    let one = build(&[
        "--changed-since",
        "HEAD",
        "--metadata-file",
        metadata.to_str().unwrap(),
    ]);
    let rebuilt = digests(&one);
    assert_eq!(
        rebuilt.keys().collect::<Vec<_>>(),
        ["example.com/mono/cmd/c01"]
    );
    assert_ne!(
        rebuilt["example.com/mono/cmd/c01"],
        first["example.com/mono/cmd/c01"]
    );
    let meta: Value = serde_json::from_slice(&std::fs::read(&metadata).unwrap()).unwrap();
    assert_eq!(meta["schema"], 1);
    assert_eq!(meta["targets"][0]["package"], "example.com/mono/cmd/c01");
    let platform = &meta["targets"][0]["platforms"][0];
    assert!(platform["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(platform["compressed_size"].as_u64().unwrap() > 0);
    assert!(platform["referrers"].is_array());

    // The layout still names the unchanged images by their previous digest.
    if require_tool("skopeo") {
        let kept = skopeo_inspect(&format!("{layout}:c00"), &[]);
        assert_eq!(kept["Digest"], first["example.com/mono/cmd/c00"].as_str());
    }
    // The unchanged ones would have built to the digest they kept.
    let all = digests(&build(&[]));
    for (package, digest) in &first {
        if package != "example.com/mono/cmd/c01" {
            assert_eq!(&all[package], digest, "{package}");
        }
    }

    // A package every command imports changed: all of them.
    std::fs::write(
        tmp.path().join("internal/shared/shared.go"),
        "package shared\n\nfunc Greet(n string) string { return \"hi \" + n }\n",
    )
    .unwrap();
    let everything = build(&["--changed-since", "HEAD"]);
    assert_eq!(digests(&everything).len(), 5);

    // A ref git does not know: git's words and what to do, not a go error.
    let (_, err) =
        run_fail(gp(tmp.path()).args(["build", "./...", "--changed-since", "nosuchref"]));
    assert!(err.contains("`git diff"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");
    assert!(!err.contains("`go "), "{err}");
}

#[test]
fn stdout_captures_exactly_the_pushed_references_in_a_shell() {
    if !require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let script = format!(
        "set -e\nIMG=$({gp} build ./testdata/multi/cmd/api --push -t {host}/team/api:v1 2>err.txt)\n\
         printf '%s' \"$IMG\" > img.txt\n\
         IMG=$({gp} build ./testdata/multi/cmd/api --push -t {host}/team/api:v1 -q 2>quiet.txt)\n\
         printf '%s' \"$IMG\" > img-q.txt\n",
        gp = env!("CARGO_BIN_EXE_gopack")
    );
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("testdata/multi"),
        &tmp.path().join("testdata/multi"),
    );
    run_ok(
        Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(tmp.path())
            .env("GOPACK_CACHE", cache())
            .env("GOENV", "off")
            .env_remove("GOFLAGS"),
    );
    let img = std::fs::read_to_string(tmp.path().join("img.txt")).unwrap();
    let (repo, digest) = img.split_once('@').expect("REF@DIGEST");
    assert_eq!(repo, format!("{host}/team/api"));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{img:?}"
    );
    let talk = std::fs::read_to_string(tmp.path().join("err.txt")).unwrap();
    assert!(talk.contains("plan: "), "{talk}");
    assert!(talk.contains("pushed to"), "{talk}");
    // -q: the same reference on stdout, nothing at all on stderr.
    let quiet = std::fs::read_to_string(tmp.path().join("img-q.txt")).unwrap();
    assert_eq!(quiet, img);
    let quiet_talk = std::fs::read_to_string(tmp.path().join("quiet.txt")).unwrap();
    assert_eq!(quiet_talk, "", "-q prints nothing on stderr");
}

#[test]
fn gocacheprog_reaches_go() {
    let tmp = tempfile::tempdir().unwrap();
    generate_module(tmp.path(), 2);
    let (_, err) = run_fail(
        gp(tmp.path())
            .env("GOCACHEPROG", "/nonexistent/cacheprog")
            .args(["build", "./...", "-o"])
            .arg(format!("oci:{}", tmp.path().join("out").display())),
    );
    assert!(
        err.contains("GOCACHEPROG") || err.contains("/nonexistent/cacheprog"),
        "{err}"
    );
}
