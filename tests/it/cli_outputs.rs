//! Several `--output`s in one build (issue 13 §5: push *and* keep a local layout): every output
//! checked before building, all written, one pin per image on `-q` (the registry's when there is
//! a push), and usage errors for what cannot be meant.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, gopack, repo_root, run_fail, run_ok, testdata};

fn gp(cache: &Path) -> std::process::Command {
    let mut cmd = gopack(cache);
    cmd.current_dir(repo_root())
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE");
    cmd
}

#[test]
fn one_build_writes_a_layout_and_an_archive_with_the_same_image() {
    if !common::require_tool("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}", dir.path().join("out").display());
    let archive = format!("docker-archive:{}", dir.path().join("hello.tar").display());
    let out = run_ok(
        gp(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", &archive, "-o", &layout, "-t", "v1", "--json"]),
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let refs: Vec<&str> = summary["images"][0]["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    // Local files in the order given, each under its names.
    assert_eq!(
        refs,
        [format!("{archive}:hello:v1"), format!("{layout}:v1"),]
    );
    let from_layout = common::skopeo_inspect(&format!("{layout}:v1"), &["--config"]);
    let from_archive = common::skopeo_inspect(&format!("{archive}:hello:v1"), &["--config"]);
    assert_eq!(from_layout["rootfs"], from_archive["rootfs"]);
}

#[test]
fn push_and_keep_a_local_layout_in_one_build() {
    if !common::require_tool("docker-registry") || !common::require_tool("skopeo") {
        return;
    }
    let registry = crate::registry_support::Registry::start_plain();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("local");
    let reference = format!("{}/team/hello", registry.host());
    let out = run_ok(
        gp(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args(["--push", "-t", &format!("{reference}:v1"), "-t", "latest"])
            .args(["-o", &format!("oci:{}", layout.display()), "-q"]),
    );
    let pinned = String::from_utf8(out.stdout).unwrap();
    let pinned = pinned.trim();
    // -q prints the one reference that pins the image: the registry's.
    assert!(
        pinned.starts_with(&format!("{reference}@sha256:")),
        "{pinned}"
    );
    let digest = pinned.split('@').nth(1).unwrap();
    let remote =
        common::skopeo_inspect(&format!("docker://{reference}:v1"), &["--tls-verify=false"]);
    assert_eq!(remote["Digest"], digest);
    // The layout holds the same image under the push's tags.
    for tag in ["v1", "latest"] {
        let local = common::skopeo_inspect(&format!("oci:{}:{tag}", layout.display()), &[]);
        assert_eq!(local["Digest"], digest, "{tag}");
    }
}

#[test]
fn every_output_is_checked_before_anything_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("out");
    let started = Instant::now();
    let (code, err) = run_fail(
        gp(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args([
                "-o",
                &format!("oci:{}", layout.display()),
                "-o",
                &format!("docker-archive:{}", dir.path().join("x.tar").display()),
                "--platform",
                "linux/amd64,linux/arm64",
            ]),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("docker-archive holds one platform per image"),
        "{err}"
    );
    assert!(!layout.exists(), "nothing written");
    assert!(started.elapsed() < Duration::from_secs(20), "no build ran");
    // The same destination twice, and two registries, are usage errors.
    let same = format!("oci:{}", layout.display());
    let (code, err) = run_fail(
        gp(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", &same, "-o", &same]),
    );
    assert_eq!(code, 2);
    assert!(err.contains("given twice"), "{err}");
    let (code, err) = run_fail(
        gp(&dir.path().join("cache"))
            .arg("build")
            .arg(testdata("hello"))
            .args([
                "-o",
                "docker://localhost:1/a:v1",
                "-o",
                "docker://localhost:1/b:v1",
            ]),
    );
    assert_eq!(code, 2);
    assert!(err.contains("one registry repository"), "{err}");
}

#[test]
fn platform_all_builds_every_platform_the_base_offers() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // On scratch: the documented set, as plan shows it.
    let out =
        run_ok(
            gp(&cache)
                .arg("plan")
                .arg(testdata("hello"))
                .args(["--platform", "all", "--json"]),
        );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["platforms"],
        serde_json::json!(gopack::base::SCRATCH_ALL_PLATFORMS)
    );
    // On a base with two platforms: an index over exactly those.
    let store = gopack::oci::BlobStore::open(dir.path().join("store")).unwrap();
    let (images, index) =
        crate::registry_support::build_images(&store, 9, &["linux/arm64", "linux/amd64"], 1000);
    let set = gopack::sink::ImageSet {
        name: "base".into(),
        images,
        index: index.map(|(b, d)| gopack::sink::IndexBlob::oci(b, d)),
    };
    let base = dir.path().join("base");
    gopack::sink::write_oci_layout(&store, &base, &[set], Some("v1")).unwrap();
    let layout = dir.path().join("out");
    let out = run_ok(
        gp(&cache)
            .arg("build")
            .arg(testdata("hello"))
            .args(["--platform", "all"])
            .args(["--base", &format!("oci:{}:v1", base.display())])
            .args(["-o", &format!("oci:{}", layout.display()), "--json"]),
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let platforms: Vec<String> = summary["images"][0]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = &p["platform"];
            format!(
                "{}/{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/arm64", "linux/amd64"]);
    if common::require_tool("skopeo") {
        let raw = common::skopeo_inspect(&format!("oci:{}:latest", layout.display()), &["--raw"]);
        assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);
    }
    let (code, err) = run_fail(
        gp(&cache)
            .arg("build")
            .arg(testdata("hello"))
            .args(["--platform", "all,linux/amd64"]),
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot be mixed"), "{err}");
}
