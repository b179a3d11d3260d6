//! `gopack build` with registries: --push/docker:// outputs, GOPACK_REPO naming, and --base
//! images from a registry or a layout, against a real docker-registry, read back with skopeo
//! and run with runc.

use crate::common;
use crate::registry_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use gopack::oci::{
    BlobStore, Compression, Descriptor, EntryKind, Image, ImageConfig, LayerEntry, LayerSpec,
    LayerWriter, Platform, RootFs, RuntimeConfig, index_for,
};
use gopack::sink::{ImageSet, IndexBlob, write_oci_layout};
use registry_support::Registry;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-registry-cache")
}

fn gp() -> Command {
    let mut cmd = gopack(&cache());
    cmd.env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE");
    cmd
}

fn skopeo_raw(reference: &str) -> Value {
    skopeo_inspect(
        &format!("docker://{reference}"),
        &["--raw", "--tls-verify=false"],
    )
}

fn run_pushed_hello(reference: &str, tmp: &Path) -> Value {
    let layout = tmp.join("pulled");
    run_ok(tool("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{reference}"),
        &format!("oci:{}:x", layout.display()),
    ]));
    let bundle = tmp.join("bundle");
    umoci_unpack(&format!("{}:x", layout.display()), &bundle);
    let port = free_port();
    let _c = RuncContainer::start(&bundle, &[("PORT", &port.to_string())]);
    assert_eq!(
        http_get(port, "/healthz", Duration::from_secs(20)).as_deref(),
        Some("ok\n")
    );
    serde_json::from_str(&http_get(port, "/info", Duration::from_secs(5)).unwrap()).unwrap()
}

#[test]
fn push_single_and_multi_platform_then_re_push_sends_nothing() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/hello",
        "--push",
        "-t",
        &format!("{host}/team/hello:v1"),
        "-t",
        &format!("{host}/team/hello:latest"),
        "--insecure-registry",
        &host,
        "-q",
    ]));
    let printed = String::from_utf8(out.stdout).unwrap();
    // `-q` pins the image by digest, in the form docker, kubectl and skopeo take.
    let (reference, digest) = printed.trim().split_once('@').expect("REF@DIGEST");
    assert_eq!(reference, format!("{host}/team/hello"));
    let raw = skopeo_raw(&format!("{host}/team/hello:latest"));
    assert_eq!(
        raw["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let inspected = skopeo_inspect(
        &format!("docker://{host}/team/hello:v1"),
        &["--tls-verify=false"],
    );
    assert_eq!(inspected["Digest"], digest);
    let mut tags = registry.tags("team/hello");
    tags.sort();
    assert_eq!(tags, ["latest", "v1"]);
    let info = run_pushed_hello(&format!("{host}/team/hello:v1"), tmp.path());
    assert_eq!(info["uid"], 65532);
    assert!(info["ca_roots"].as_u64().unwrap() > 100);

    let again = run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/hello",
        "--json",
        "--push",
        "-t",
        &format!("{host}/team/hello:v1"),
        "--insecure-registry",
        &host,
    ]));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        again["images"][0]["push"]["blob_bytes_uploaded"], 0,
        "an unchanged re-push uploads no blob bytes"
    );

    let multi = run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/hello",
        "--platform",
        "linux/amd64,linux/arm64",
        "--output",
        &format!("docker://{host}/multi:dev"),
        "--insecure-registry",
        &host,
        "-q",
    ]));
    let (_, index_digest) = String::from_utf8(multi.stdout)
        .unwrap()
        .trim()
        .split_once('@')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let raw = skopeo_raw(&format!("{host}/multi:dev"));
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    let archs: Vec<&str> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["amd64", "arm64"]);
    let inspected = skopeo_inspect(
        &format!("docker://{host}/multi@{index_digest}"),
        &["--raw", "--tls-verify=false"],
    );
    assert_eq!(inspected, raw);
}

#[test]
fn gopack_repo_names_one_repository_per_binary() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let out = run_ok(
        gp().current_dir(testdata("multi"))
            .env("GOPACK_REPO", format!("{host}/team"))
            .args([
                "build",
                "./cmd/...",
                "--push",
                "-t",
                "v2",
                "--insecure-registry",
                &host,
                "-q",
            ]),
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('@').next().unwrap().to_string())
        .collect();
    assert_eq!(
        lines,
        [format!("{host}/team/api"), format!("{host}/team/worker")]
    );
    assert_eq!(registry.tags("team/worker"), ["v2"]);
}

#[test]
fn push_without_a_destination_or_to_a_dead_registry_says_what_to_do() {
    let (code, err) = run_fail(
        gp().current_dir(testdata("hello"))
            .args(["build", "--push"]),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--push needs a destination") && err.contains("GOPACK_REPO"),
        "{err}"
    );
    let port = free_port();
    let (code, err) = run_fail(gp().current_dir(testdata("hello")).args([
        "build",
        "--push",
        "-t",
        &format!("127.0.0.1:{port}/app:v1"),
        "--insecure-registry",
        &format!("127.0.0.1:{port}"),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

/// A busybox base for amd64 and arm64 (the arm64 one carries the same files; only its
/// structure is checked), with an env var, a working directory, a label and a Cmd of its own.
fn busybox_base(store: &BlobStore, dir: &Path) {
    let busybox = which("busybox");
    let writer = LayerWriter::new(store, Compression::DEFAULT);
    let mut entries = vec![
        LayerEntry::file_from_disk("/bin/busybox", busybox, 0o755),
        LayerEntry::file(
            "/etc/passwd",
            &b"root:x:0:0:root:/root:/bin/sh\n"[..],
            0o644,
        ),
        LayerEntry::file("/etc/group", &b"root:x:0:\n"[..], 0o644),
        LayerEntry::dir("/tmp", 0o1777, 0, 0),
        LayerEntry::dir("/work", 0o755, 0, 0),
    ];
    for applet in ["sh", "ls", "cat"] {
        let mut e = LayerEntry::dir(&format!("/bin/{applet}"), 0o777, 0, 0);
        e.kind = EntryKind::Symlink("busybox".into());
        entries.push(e);
    }
    let layer = writer
        .write(
            &LayerSpec {
                entries,
                mtime: 0,
                description: "busybox".into(),
            }
            .with_parent_dirs(),
        )
        .unwrap();
    let images: Vec<Image> = ["linux/amd64", "linux/arm64"]
        .iter()
        .map(|p| {
            let platform: Platform = p.parse().unwrap();
            let config = ImageConfig {
                architecture: platform.architecture.clone(),
                os: "linux".into(),
                config: RuntimeConfig {
                    env: Some(vec!["PATH=/bin".into(), "BASE_GREETING=hi".into()]),
                    working_dir: Some("/work".into()),
                    cmd: Some(vec!["sh".into()]),
                    labels: Some(BTreeMap::from([(
                        "base.label".to_string(),
                        "from-base".to_string(),
                    )])),
                    ..RuntimeConfig::default()
                },
                rootfs: RootFs {
                    kind: "layers".into(),
                    diff_ids: vec![layer.diff_id.clone()],
                },
                ..ImageConfig::default()
            };
            Image::assemble(
                store,
                platform,
                config,
                vec![Descriptor::of_layer(&layer)],
                BTreeMap::new(),
            )
            .unwrap()
        })
        .collect();
    let (_, bytes, digest) = index_for(store, &images, BTreeMap::new()).unwrap();
    let set = ImageSet {
        name: "base".into(),
        images,
        index: Some(IndexBlob::oci(bytes, digest)),
    };
    write_oci_layout(store, dir, &[set], Some("1")).unwrap();
}

fn which(program: &str) -> PathBuf {
    let out = run_ok(
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {program}")),
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn builds_on_a_registry_base_for_two_platforms_and_offline_from_the_store() {
    let mut registry = Registry::start_plain();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    let store = BlobStore::open(tmp.path().join("store")).unwrap();
    let base_layout = tmp.path().join("base");
    busybox_base(&store, &base_layout);
    // The base reaches the registry through skopeo, an independent client.
    run_ok(tool("skopeo").args([
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:1", base_layout.display()),
        &format!("docker://{host}/base:1"),
    ]));
    let base_index = skopeo_raw(&format!("{host}/base:1"));
    let base_amd64 = base_index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();

    let layout = tmp.path().join("out");
    let build = |base: &str, layout: &Path| -> Value {
        let out = run_ok(gp().current_dir(repo_root()).args([
            "build",
            "./testdata/hello",
            "--base",
            base,
            "--platform",
            "linux/amd64,linux/arm64",
            "--insecure-registry",
            &host,
            "--json",
            "-o",
            &format!("oci:{}", layout.display()),
        ]));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let built = build(&format!("{host}/base:1"), &layout);

    let reference = format!("oci:{}:latest", layout.display());
    let manifest = platform_manifest(&layout, "amd64");
    let layers = manifest["layers"].as_array().unwrap();
    let base_layer = platform_manifest(&base_layout, "amd64")["layers"][0]["digest"].clone();
    assert_eq!(
        layers[0]["digest"], base_layer,
        "the base's layers come first"
    );
    assert_eq!(
        layers.len(),
        3,
        "base, gopack base files (certs only), binary"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        format!("{host}/base:1")
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        base_amd64
    );

    let config = skopeo_inspect(
        &reference,
        &[
            "--config",
            "--override-arch",
            "amd64",
            "--override-os",
            "linux",
        ],
    );
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(env.contains(&"BASE_GREETING=hi"), "{env:?}");
    assert!(env.contains(&"PATH=/usr/local/bin:/bin"), "{env:?}");
    assert_eq!(config["config"]["WorkingDir"], "/work");
    assert_eq!(config["config"]["User"], "65532:65532");
    assert!(
        config["config"]["Cmd"].is_null(),
        "the base's Cmd is not inherited"
    );
    assert!(
        config["config"]["Labels"].get("base.label").is_none(),
        "base labels are not copied (ko #1231)"
    );
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 3);
    assert_eq!(built["plan"]["base"]["image"], format!("{host}/base:1"));
    assert_eq!(built["plan"]["base"]["embedded"], false);
    let files = &built["images"][0]["platforms"][0]["files"];
    let tmp_decision = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["files"] == "/tmp")
        .unwrap();
    assert!(
        tmp_decision["reason"]
            .as_str()
            .unwrap()
            .contains("the base image provides /tmp"),
        "{tmp_decision}"
    );

    // umoci unpacks single-platform images: take the amd64 one out of the index first.
    let single = tmp.path().join("amd64");
    run_ok(tool("skopeo").args([
        "copy",
        "--override-arch",
        "amd64",
        &reference,
        &format!("oci:{}:x", single.display()),
    ]));
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:x", single.display()), &bundle);
    assert!(bundle.join("rootfs/bin/busybox").is_file());
    let port = free_port();
    let _c = RuncContainer::start(&bundle, &[("PORT", &port.to_string())]);
    let info: Value = serde_json::from_str(
        &http_get(port, "/info", Duration::from_secs(20)).expect("runs on the base"),
    )
    .unwrap();
    assert_eq!(info["has_shell"], true, "the busybox base brings its shell");
    assert!(info["ca_roots"].as_u64().unwrap() > 100);

    // With the registry gone, a digest-pinned base already in the store still builds.
    let pinned = format!("{host}/base@{}", digest_of_layout(&base_layout));
    build(&pinned, &tmp.path().join("warm"));
    registry.stop();
    let offline = build(&pinned, &tmp.path().join("offline"));
    assert_eq!(offline["images"][0]["digest"].as_str().unwrap().len(), 71);
}

/// The manifest for `arch` of the image index a layout's index.json points at, read directly.
fn platform_manifest(layout: &Path, arch: &str) -> Value {
    let blob = |digest: &str| -> Value {
        let path = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let index = blob(&digest_of_layout(layout));
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == arch)
        .unwrap();
    blob(entry["digest"].as_str().unwrap())
}

fn digest_of_layout(dir: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_local_layout_base_needs_no_network_and_a_glibc_base_runs_a_dynamic_cgo_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let store = BlobStore::open(tmp.path().join("store")).unwrap();
    let busybox = tmp.path().join("busybox");
    busybox_base(&store, &busybox);

    // Dynamic cgo on a base without libc: refused before any image is written, naming what is missing.
    let (code, err) = run_fail(gp().current_dir(testdata("cgoonly")).args([
        "build",
        "--cgo",
        "dynamic",
        "--base",
        &format!("oci:{}:1", busybox.display()),
        "-o",
        &format!("oci:{}", tmp.path().join("nope").display()),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("lacks") && err.contains("libc.so.6"), "{err}");
    assert!(!tmp.path().join("nope").exists());

    // A base holding the host's loader and libc (as a distro base would) runs it.
    let writer = LayerWriter::new(&store, Compression::DEFAULT);
    let mut entries = Vec::new();
    for path in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libc.so.6",
    ] {
        let real = std::fs::canonicalize(path).unwrap();
        entries.push(LayerEntry::file_from_disk(path, real, 0o755));
    }
    let layer = writer
        .write(
            &LayerSpec {
                entries,
                mtime: 0,
                description: "glibc".into(),
            }
            .with_parent_dirs(),
        )
        .unwrap();
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        ..ImageConfig::default()
    };
    let image = Image::assemble(
        &store,
        Platform::linux("amd64"),
        config,
        vec![Descriptor::of_layer(&layer)],
        BTreeMap::new(),
    )
    .unwrap();
    let glibc = tmp.path().join("glibc");
    write_oci_layout(
        &store,
        &glibc,
        &[ImageSet {
            name: "glibc".into(),
            images: vec![image],
            index: None,
        }],
        None,
    )
    .unwrap();
    let layout = tmp.path().join("out");
    run_ok(gp().current_dir(testdata("cgoonly")).args([
        "build",
        "--cgo",
        "dynamic",
        "--base",
        &format!("oci:{}", glibc.display()),
        "-o",
        &format!("oci:{}", layout.display()),
    ]));
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
    let (status, stdout, stderr) =
        RuncContainer::start(&bundle, &[]).wait_output(Duration::from_secs(20));
    assert_eq!((status, stdout.as_str()), (Some(0), "42\n"), "{stderr}");
}
