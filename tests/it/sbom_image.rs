//! `gopack sbom IMAGE`: every Go binary in an image, from an OCI layout gopack built and the
//! same image as oci-archive and docker-archive (written by skopeo), plus an image whose
//! layers overwrite and delete binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gopack::oci::{
    BlobStore, Compression, Descriptor, Image, ImageConfig, LayerEntry, LayerSpec, LayerWriter,
    Platform, RootFs,
};
use gopack::sink::{ImageSet, write_oci_layout};

use crate::common::{self, repo_root, run_fail, run_ok, tool};
use crate::sbom::{build_app, cdx_modules, gp, sbom_json, validate_cdx, validate_spdx};

/// `gopack build ./testdata/sbomapp` into `oci:<dir>:app`.
pub fn build_image(dir: &Path) {
    run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "-o",
        &format!("oci:{}:app", dir.display()),
        "-q",
    ]));
}

fn expected_modules() -> BTreeSet<(String, String)> {
    [
        ("example.com/sbomapp", "(devel)"),
        ("github.com/google/uuid", "v1.6.0"),
        ("github.com/spf13/cobra", "v1.10.2"),
        ("github.com/spf13/pflag", "v1.0.9"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[test]
fn every_transport_gives_the_same_bill_of_materials_needs_skopeo() {
    if !common::require_tool("skopeo") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build_image(&layout);
    let oci = format!("oci:{}:app", layout.display());
    let archive = tmp.path().join("app.oci.tar");
    let docker = tmp.path().join("app.docker.tar");
    run_ok(tool("skopeo").args([
        "copy",
        &oci,
        &format!("oci-archive:{}:app", archive.display()),
    ]));
    run_ok(tool("skopeo").args([
        "copy",
        &oci,
        &format!("docker-archive:{}:app:v1", docker.display()),
    ]));
    let mut binary_hashes = BTreeSet::new();
    for target in [
        oci.clone(),
        format!("oci-archive:{}:app", archive.display()),
        format!("docker-archive:{}", docker.display()),
    ] {
        let cdx = sbom_json(&["-f", "cyclonedx", &target]);
        assert_eq!(cdx_modules(&cdx), expected_modules(), "{target}");
        let root = &cdx["metadata"]["component"];
        assert_eq!(root["type"], "container", "{target}");
        assert!(
            root["purl"].as_str().unwrap().starts_with("pkg:oci/"),
            "{root}"
        );
        let app = cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "application")
            .unwrap();
        assert_eq!(
            app["evidence"]["occurrences"][0]["location"],
            "/usr/local/bin/sbomapp"
        );
        binary_hashes.insert(app["hashes"][0]["content"].as_str().unwrap().to_string());
        // The image contains the binary; the binary depends on its modules.
        let deps = cdx["dependencies"].as_array().unwrap();
        let root_deps = deps.iter().find(|d| d["ref"] == root["bom-ref"]).unwrap();
        assert_eq!(root_deps["dependsOn"][0], app["bom-ref"]);
    }
    assert_eq!(binary_hashes.len(), 1, "the same binary in every transport");

    // The OCI layout's document names the image by its manifest digest and is valid.
    let spdx = sbom_json(&[&oci]);
    let digest = common::skopeo_inspect(&oci, &[])["Digest"]
        .as_str()
        .unwrap()
        .to_string();
    let image = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .unwrap();
    assert_eq!(image["versionInfo"], digest.as_str());
    let purl = image["externalRefs"][0]["referenceLocator"]
        .as_str()
        .unwrap();
    assert_eq!(
        purl,
        format!(
            "pkg:oci/out@{}?arch=amd64&tag=app",
            digest.replace(':', "%3A")
        )
    );
    let contains = spdx["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "CONTAINS")
        .count();
    assert_eq!(contains, 1);
    if common::require_tool("pyspdxtools") {
        let f = tmp.path().join("image.spdx.json");
        run_ok(gp().args(["sbom", "-o"]).arg(&f).arg(&oci));
        validate_spdx(&f);
        let f = tmp.path().join("image.cdx.json");
        run_ok(
            gp().args(["sbom", "-f", "cyclonedx", "-o"])
                .arg(&f)
                .arg(&oci),
        );
        validate_cdx(&f);
    }
}

/// An image whose second layer deletes one binary (whiteout), replaces another with a text
/// file, and whose third layer hides a directory (opaque whiteout) and adds a binary back.
#[test]
fn only_binaries_in_the_final_file_system_are_described() {
    let (dir, bin) = build_app(&[], &[]);
    let bytes = std::fs::read(&bin).unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let writer = LayerWriter::new(&store, Compression::Gzip(1));
    let layer = |entries: Vec<LayerEntry>| {
        writer
            .write(
                &LayerSpec {
                    entries,
                    mtime: 0,
                    description: "test".into(),
                }
                .with_parent_dirs(),
            )
            .unwrap()
    };
    let exe = |path: &str| LayerEntry::file(path, bytes.clone(), 0o755);
    let l1 = layer(vec![
        exe("bin/kept"),
        exe("bin/deleted"),
        exe("bin/replaced"),
        exe("opt/hidden/tool"),
    ]);
    let l2 = layer(vec![
        LayerEntry::file("bin/.wh.deleted", Vec::new(), 0o644),
        LayerEntry::file("bin/replaced", b"#!/bin/sh\n".to_vec(), 0o755),
        LayerEntry::file("etc/not-elf", b"hello".to_vec(), 0o644),
    ]);
    let l3 = layer(vec![
        LayerEntry::file("opt/hidden/.wh..wh..opq", Vec::new(), 0o644),
        exe("opt/hidden/new"),
    ]);
    let config = ImageConfig {
        created: Some("2026-01-01T00:00:00Z".into()),
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![l1.diff_id.clone(), l2.diff_id.clone(), l3.diff_id.clone()],
        },
        ..ImageConfig::default()
    };
    let layers = [&l1, &l2, &l3]
        .iter()
        .map(|l| Descriptor::of_layer(l))
        .collect();
    let platform: Platform = "linux/amd64".parse().unwrap();
    let image = Image::assemble(&store, platform, config, layers, BTreeMap::new()).unwrap();
    let out = dir.path().join("layout");
    let set = ImageSet {
        name: "layers".into(),
        images: vec![image],
        index: None,
    };
    write_oci_layout(&store, &out, &[set], Some("t")).unwrap();
    let cdx = sbom_json(&["-f", "cyclonedx", &format!("oci:{}:t", out.display())]);
    let locations: BTreeSet<String> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "application")
        .map(|c| {
            c["evidence"]["occurrences"][0]["location"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        locations,
        BTreeSet::from(["/bin/kept".to_string(), "/opt/hidden/new".to_string()])
    );
    // The created time is the image's: the same image gives the same document.
    assert_eq!(cdx["metadata"]["timestamp"], "2026-01-01T00:00:00Z");
    let again = sbom_json(&["-f", "cyclonedx", &format!("oci:{}:t", out.display())]);
    assert_eq!(cdx, again);
}

#[test]
fn images_without_go_binaries_and_multi_platform_images_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let writer = LayerWriter::new(&store, Compression::Gzip(1));
    let mut images = Vec::new();
    for arch in ["amd64", "arm64"] {
        let l = writer
            .write(
                &LayerSpec {
                    entries: vec![LayerEntry::file("etc/motd", b"hi".to_vec(), 0o644)],
                    mtime: 0,
                    description: "x".into(),
                }
                .with_parent_dirs(),
            )
            .unwrap();
        let config = ImageConfig {
            architecture: arch.into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![l.diff_id.clone()],
            },
            ..ImageConfig::default()
        };
        let platform: Platform = format!("linux/{arch}").parse().unwrap();
        images.push(
            Image::assemble(
                &store,
                platform,
                config,
                vec![Descriptor::of_layer(&l)],
                BTreeMap::new(),
            )
            .unwrap(),
        );
    }
    let (_, bytes, digest) = gopack::oci::index_for(&store, &images, BTreeMap::new()).unwrap();
    let set = ImageSet {
        name: "nogo".into(),
        images,
        index: Some(gopack::sink::IndexBlob {
            bytes,
            digest,
            media_type: gopack::oci::MEDIA_TYPE_INDEX.into(),
        }),
    };
    let out = dir.path().join("layout");
    write_oci_layout(&store, &out, &[set], Some("t")).unwrap();
    let target = format!("oci:{}:t", out.display());
    let (code, err) = run_fail(gp().args(["sbom", &target]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("linux/amd64") && err.contains("--platform"),
        "{err}"
    );
    let (code, err) = run_fail(gp().args(["sbom", "--platform", "linux/arm64", &target]));
    assert_eq!(code, 1);
    assert!(err.contains("no Go binary found"), "{err}");
    let (code, err) = run_fail(gp().args(["sbom", out.to_str().unwrap()]));
    assert_eq!(code, 2);
    assert!(err.contains("oci:"), "{err}");
}
