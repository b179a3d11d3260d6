//! Base layers that already live in the destination registry are mounted from the base's
//! repository (`POST …/blobs/uploads/?mount=…&from=…`), never uploaded again — also when the
//! blobs were already in gopack's store before the base was pulled. Checked in the access log
//! of a real docker-registry.

use crate::common;
use crate::registry_support;

use std::collections::BTreeMap;

use gopack::oci::{
    BlobStore, Compression, Descriptor, Image, ImageConfig, LayerEntry, LayerSpec, LayerWriter,
    RootFs, RuntimeConfig,
};
use gopack::sink::{ImageSet, write_oci_layout};
use registry_support::{Registry, noise};

#[test]
fn base_layers_in_the_same_registry_are_mounted_even_when_already_in_the_store() {
    if !common::require_tool("go")
        || !common::require_tool("skopeo")
        || !common::require_tool("docker-registry")
    {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // The base is made in gopack's own store (as when a base was built or pulled before),
    // and reaches the registry through skopeo, so gopack never saw it pushed.
    let store = BlobStore::open(cache.join("store")).unwrap();
    let writer = LayerWriter::new(&store, Compression::DEFAULT);
    let written: Vec<_> = (0..2u64)
        .map(|i| {
            writer
                .write(
                    &LayerSpec {
                        entries: vec![LayerEntry::file(
                            &format!("opt/base/file{i}"),
                            noise(70 + i, 40_000),
                            0o644,
                        )],
                        mtime: 0,
                        description: format!("base layer {i}"),
                    }
                    .with_parent_dirs(),
                )
                .unwrap()
        })
        .collect();
    let layers: Vec<Descriptor> = written.iter().map(Descriptor::of_layer).collect();
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        config: RuntimeConfig::default(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: written.iter().map(|l| l.diff_id.clone()).collect(),
        },
        ..ImageConfig::default()
    };
    let image = Image::assemble(
        &store,
        "linux/amd64".parse().unwrap(),
        config,
        layers.clone(),
        BTreeMap::new(),
    )
    .unwrap();
    let layout = tmp.path().join("base-layout");
    write_oci_layout(
        &store,
        &layout,
        &[ImageSet {
            name: "base".into(),
            images: vec![image],
            index: None,
        }],
        Some("1"),
    )
    .unwrap();
    common::run_ok(common::tool("skopeo").args([
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1", layout.display()),
        &format!("docker://{host}/base:1"),
    ]));

    let build = |destination: &str| -> serde_json::Value {
        let out = common::run_ok(
            common::gopack(&cache)
                .current_dir(common::repo_root())
                .args([
                    "build",
                    "./testdata/hello",
                    "--base",
                    &format!("{host}/base:1"),
                    "--platform",
                    "linux/amd64",
                    "--insecure-registry",
                    &host,
                    "--json",
                    "-o",
                    &format!("docker://{host}/{destination}"),
                ]),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let built = build("app:1");
    let push = &built["images"][0]["push"];
    assert!(
        push["blobs_mounted"].as_u64().unwrap() >= 2,
        "both base layers mounted: {push}"
    );
    let log = registry.access_log();
    for layer in &layers {
        let mount = format!(
            "POST /v2/app/blobs/uploads/?mount=sha256%3A{}&from=base",
            layer.digest.hex()
        );
        assert!(log.contains(&mount), "no `{mount}` in the log:\n{log}");
        assert!(
            !log.contains(&format!("PUT /v2/app/blobs/uploads/{}", layer.digest.hex())),
            "{log}"
        );
    }

    // Another repository of the same registry: everything mounts, nothing is uploaded.
    let again = build("team/other:1");
    let push = &again["images"][0]["push"];
    assert_eq!(push["blobs_uploaded"], 0, "{push}");
    assert_eq!(push["blob_bytes_uploaded"], 0, "{push}");
}
