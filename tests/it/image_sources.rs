//! The four image sources read the same image the same way: one image written by skopeo (an
//! independent writer) to an OCI layout, an oci-archive, a docker-archive and a registry, read
//! back through `oci::resolve`, gives identical configs and diff_ids (and manifests where the
//! format keeps them); `--base` and `pull` accept every one of them.

use crate::common;
use crate::registry_support;

use sha2::{Digest as _, Sha256};
use std::path::Path;

use common::*;
use gopack::oci::source::{self, SourceOptions};
use gopack::oci::{
    Bare, BlobStore, FileTree, Image, ImageRef, Limits, PlatformSelector, TarLimits, fetch_layers,
    resolve,
};
use gopack::sink::{ImageSet, write_oci_layout};
use registry_support::{Registry, build_images, test_options};

struct Read {
    images: Vec<Image>,
    files: Vec<String>,
}

fn read(reference: &str, insecure: &str, store_dir: &Path) -> Read {
    let store = BlobStore::open(store_dir).unwrap();
    let reference = ImageRef::parse(reference, Bare::Registry).unwrap();
    let options = SourceOptions {
        registry: test_options(&[insecure.to_string()]),
        limits: Limits::default(),
    };
    let source = source::open(&reference, &store, &options).unwrap();
    let resolved = resolve(
        source.as_ref(),
        &PlatformSelector::All,
        &store,
        &options.limits,
    )
    .unwrap_or_else(|e| panic!("{reference}: {e}"));
    fetch_layers(source.as_ref(), &resolved.images, &store, 2).unwrap();
    let tree = FileTree::read_image(source.as_ref(), &resolved.images[0], TarLimits::default())
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
    Read {
        images: resolved.images,
        files: tree.walk().map(|(p, _)| p).collect(),
    }
}

fn host_platform() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "linux/arm64"
    } else {
        "linux/amd64"
    }
}

#[test]
fn one_image_from_layout_oci_archive_docker_archive_and_registry_reads_the_same() {
    if !require_tool("skopeo") || !require_tool("docker-registry") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let store = BlobStore::open(t.join("store")).unwrap();
    let (images, _) = build_images(&store, 42, &[host_platform()], 200_000);
    let original = t.join("original");
    write_oci_layout(
        &store,
        &original,
        &[ImageSet {
            name: "app".into(),
            images: images.clone(),
            index: None,
        }],
        Some("1"),
    )
    .unwrap();
    let registry = Registry::start_plain();
    let host = registry.host();
    let from = format!("oci:{}:1", original.display());
    let destinations = [
        format!("oci:{}:x", t.join("layout").display()),
        format!("oci-archive:{}:x", t.join("oci.tar").display()),
        format!(
            "docker-archive:{}:example.com/app:v1",
            t.join("docker.tar").display()
        ),
        format!("docker://{host}/app:v1"),
    ];
    for dest in &destinations {
        run_ok(tool("skopeo").args(["copy", "--dest-tls-verify=false", &from, dest]));
    }
    let want = &images[0];
    for (i, dest) in destinations.iter().enumerate() {
        let got = read(dest, &host, &t.join(format!("s{i}")));
        assert_eq!(got.images.len(), 1, "{dest}");
        let image = &got.images[0];
        assert_eq!(
            image.config_descriptor.digest, want.config_descriptor.digest,
            "{dest}: same config bytes"
        );
        assert_eq!(
            image.config.rootfs.diff_ids, want.config.rootfs.diff_ids,
            "{dest}"
        );
        assert_eq!(image.platform, want.platform, "{dest}");
        assert_eq!(
            got.files,
            [
                "etc",
                "etc/passwd",
                "tmp",
                "usr",
                "usr/local",
                "usr/local/bin",
                "usr/local/bin/app"
            ],
            "{dest}"
        );
        if !dest.starts_with("docker-archive:") {
            assert_eq!(
                image.manifest_digest, want.manifest_digest,
                "{dest}: same manifest"
            );
        }
    }

    // `pull` saves each of them as a layout skopeo reads; `--base` builds on each.
    for (i, dest) in destinations.iter().enumerate() {
        let layout = t.join(format!("pulled{i}"));
        run_ok(
            gopack(&t.join("cache"))
                .args(["pull", "--insecure-registry", &host, dest])
                .arg(format!("oci:{}:saved", layout.display())),
        );
        skopeo_inspect(&format!("oci:{}:saved", layout.display()), &[]);
        let out = t.join(format!("built{i}"));
        run_ok(
            gopack(&t.join("cache"))
                .current_dir(testdata("hello"))
                .env_remove("GOPACK_BASE")
                .args([
                    "build",
                    "-q",
                    "--insecure-registry",
                    &host,
                    "--base",
                    dest,
                    "-o",
                ])
                .arg(format!("oci:{}", out.display())),
        );
        let config = skopeo_inspect(&format!("oci:{}:latest", out.display()), &["--config"]);
        let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
        assert_eq!(
            diff_ids[..2],
            want.config
                .rootfs
                .diff_ids
                .iter()
                .map(|d| serde_json::Value::String(d.to_string()))
                .collect::<Vec<_>>()[..],
            "{dest}: the base's layers come first"
        );
        if i == 2 && require_tool("umoci") {
            umoci_unpack(&format!("{}:latest", out.display()), &t.join("bundle"));
        }
    }

    // Every source copied by `pull` to every sink: skopeo reads each result, the config bytes
    // are the same everywhere, and the manifest digest too wherever neither end is a
    // docker-archive (which keeps Docker's manifest.json form).
    for (i, from) in destinations.iter().enumerate() {
        let sinks = [
            format!("oci:{}:c", t.join(format!("copy{i}")).display()),
            format!("oci-archive:{}:c", t.join(format!("copy{i}.tar")).display()),
            format!(
                "docker-archive:{}:example.com/copy:v{i}",
                t.join(format!("copy{i}-docker.tar")).display()
            ),
            format!("docker://{host}/copy{i}:v1"),
        ];
        for to in &sinks {
            run_ok(gopack(&t.join("cache")).args(["pull", "--insecure-registry", &host, from, to]));
            let raw = run_ok(tool("skopeo").args(["inspect", "--raw", "--tls-verify=false", to]));
            let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
            assert_eq!(
                manifest["config"]["digest"].as_str(),
                Some(want.config_descriptor.digest.to_string().as_str()),
                "{from} -> {to}"
            );
            if !from.starts_with("docker-archive:") && !to.starts_with("docker-archive:") {
                let digest = format!("sha256:{}", hex::encode(Sha256::digest(&raw.stdout)));
                assert_eq!(digest, want.manifest_digest.to_string(), "{from} -> {to}");
            }
        }
    }
}
