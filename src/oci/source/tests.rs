use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::oci::testing::{Member, gzip, image_of, tar_of};
use crate::oci::{
    Image, MEDIA_TYPE_LAYER_GZIP, PlatformSelector, StoreBlobs, fetch_layers, resolve,
};
use crate::sink::{ImageSet, write_docker_archive, write_oci_archive, write_oci_layout};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: BlobStore,
    image: Image,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let store = BlobStore::open(root.join("store")).unwrap();
    let image = image_of(
        &store,
        &[
            tar_of(&[Member::File("etc/passwd", b"root:x:0:0::/:/bin/sh\n")]),
            tar_of(&[Member::Symlink("bin/sh", "busybox")]),
        ],
    );
    Fixture {
        _dir: dir,
        root,
        store,
        image,
    }
}

fn set(image: &Image) -> ImageSet {
    ImageSet {
        name: "app".into(),
        images: vec![image.clone()],
        index: None,
    }
}

fn read(source: &dyn ImageSource, store_dir: &Path) -> Result<Image, SourceError> {
    let store = BlobStore::open(store_dir).unwrap();
    let resolved = resolve(source, &PlatformSelector::All, &store, &Limits::default())?;
    fetch_layers(source, &resolved.images, &store, 2)?;
    Ok(resolved.images.into_iter().next().unwrap())
}

#[test]
fn layout_oci_archive_and_docker_archive_give_the_same_image() {
    let f = fixture();
    let layout = f.root.join("layout");
    write_oci_layout(&f.store, &layout, &[set(&f.image)], Some("v1")).unwrap();
    let oci_tar = f.root.join("oci.tar");
    write_oci_archive(&f.store, &oci_tar, &[set(&f.image)], Some("v1")).unwrap();
    let docker_tar = f.root.join("docker.tar");
    write_docker_archive(
        &f.store,
        &docker_tar,
        &[set(&f.image)],
        Some("example.com/app:v1".parse().unwrap()),
    )
    .unwrap();
    let limits = Limits::default();
    let sources: Vec<Box<dyn ImageSource>> = vec![
        Box::new(LayoutSource::open(&layout, Some("v1".into()), limits).unwrap()),
        Box::new(OciArchiveSource::open(&oci_tar, None, limits).unwrap()),
        Box::new(
            DockerArchiveSource::open(
                &docker_tar,
                Some("example.com/app:v1".parse().unwrap()),
                limits,
            )
            .unwrap(),
        ),
    ];
    for (i, source) in sources.iter().enumerate() {
        let image = read(source.as_ref(), &f.root.join(format!("s{i}"))).unwrap();
        assert_eq!(
            image.manifest_digest,
            f.image.manifest_digest,
            "{}",
            source.name()
        );
        assert_eq!(image.config, f.image.config);
        assert_eq!(image.platform, f.image.platform);
    }
}

/// A docker-archive without an OCI layout inside (what `docker save` before 25 and skopeo
/// write): the manifest is derived, config and diff_ids are the archive's.
#[test]
fn a_plain_docker_archive_is_read_through_its_manifest_json() {
    let f = fixture();
    let config = f
        .store
        .read_blob(&f.image.config_descriptor.digest)
        .unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let config_name = format!("{}.json", f.image.config_descriptor.digest.hex());
    add(&config_name, &config);
    let mut layers = Vec::new();
    for (i, l) in f.image.manifest.layers.iter().enumerate() {
        let name = format!("{i}/layer.tar");
        add(&name, &f.store.read_blob(&l.digest).unwrap());
        layers.push(name);
    }
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": ["app:v1"], "Layers": layers}]);
    add("manifest.json", manifest.to_string().as_bytes());
    let tar_path = f.root.join("save.tar");
    std::fs::write(&tar_path, b.into_inner().unwrap()).unwrap();
    let source = DockerArchiveSource::open(&tar_path, None, Limits::default()).unwrap();
    let image = read(&source, &f.root.join("s")).unwrap();
    assert_eq!(
        image.config_descriptor.digest,
        f.image.config_descriptor.digest
    );
    assert_eq!(image.config.rootfs.diff_ids, f.image.config.rootfs.diff_ids);
    let digests: Vec<_> = image
        .manifest
        .layers
        .iter()
        .map(|l| l.digest.clone())
        .collect();
    assert_eq!(
        digests, f.image.config.rootfs.diff_ids,
        "uncompressed layers: digest = diff_id"
    );
    let err = DockerArchiveSource::open(
        &tar_path,
        Some("other:v1".parse().unwrap()),
        Limits::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no image tagged") && err.contains("app:v1"),
        "{err}"
    );
}

fn layout_with(f: &Fixture, edit: impl FnOnce(&Path, &Image)) -> PathBuf {
    let layout = f.root.join("edited");
    let _ = std::fs::remove_dir_all(&layout);
    write_oci_layout(&f.store, &layout, &[set(&f.image)], None).unwrap();
    edit(&layout, &f.image);
    layout
}

/// Replaces a file with new bytes without writing through a hard link (layouts link blobs to
/// the store).
fn replace(path: &Path, bytes: &[u8]) {
    std::fs::remove_file(path).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn blob(layout: &Path, d: &crate::oci::Digest) -> PathBuf {
    layout.join("blobs/sha256").join(d.hex())
}

fn read_layout(f: &Fixture, layout: &Path) -> Result<Image, SourceError> {
    let _ = std::fs::remove_dir_all(f.root.join("fresh"));
    let source = LayoutSource::open(layout, None, Limits::default())?;
    read(&source, &f.root.join("fresh"))
}

/// Issue 8, item 12: a blob that is a FIFO or a link to /dev/zero is refused, not read.
#[test]
fn fifos_and_devices_in_a_layout_are_refused_without_hanging() {
    let f = fixture();
    let layer = f.image.manifest.layers[0].digest.clone();
    let layout = layout_with(&f, |l, _| {
        std::fs::remove_file(blob(l, &layer)).unwrap();
        let c = std::ffi::CString::new(blob(l, &layer).to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(err.contains("named pipe"), "{err}");
    let layout = layout_with(&f, |l, _| {
        std::fs::remove_file(blob(l, &layer)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", blob(l, &layer)).unwrap();
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(err.contains("character device"), "{err}");
}

/// Issue 8, item 14 (sizes): a descriptor whose size lies, and a blob cut short.
#[test]
fn sizes_and_digests_are_checked_on_every_read() {
    let f = fixture();
    let layer = f.image.manifest.layers[1].digest.clone();
    let layout = layout_with(&f, |l, _| {
        let path = blob(l, &layer);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 100);
        replace(&path, &bytes);
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(
        err.contains("descriptor says") && err.contains("the file has"),
        "{err}"
    );
    let layout = layout_with(&f, |l, _| {
        let path = blob(l, &layer);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 1;
        replace(&path, &bytes);
    });
    let err = read_layout(&f, &layout).unwrap_err();
    assert!(matches!(err, SourceError::Digest { .. }), "{err}");
}

fn rewrite_manifest(f: &Fixture, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let layout = layout_with(f, |_, _| {});
    let mut manifest: serde_json::Value = serde_json::from_slice(&f.image.manifest_bytes).unwrap();
    edit(&mut manifest);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = crate::oci::Digest::of(&bytes);
    std::fs::write(blob(&layout, &digest), &bytes).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": crate::oci::MEDIA_TYPE_MANIFEST, "digest": digest.to_string(), "size": bytes.len()
    }]});
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    layout
}

/// Issue 8, item 16: a `text/plain` layer gets a readable error, never raw bytes.
#[test]
fn unknown_media_types_get_a_printable_error() {
    let f = fixture();
    let layout = rewrite_manifest(&f, |m| {
        m["layers"][0]["mediaType"] = "text/plain\u{1b}[2J".into();
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(
        err.contains(r"media type `text/plain\u{1b}[2J` is not a layer type"),
        "{err}"
    );
    assert!(!err.chars().any(char::is_control), "{err:?}");
}

/// Issue 8, item 16: an empty index says so instead of "(it has: )".
#[test]
fn an_empty_layout_or_index_says_it_is_empty() {
    let f = fixture();
    let layout = layout_with(&f, |l, _| {
        std::fs::write(
            l.join("index.json"),
            r#"{"schemaVersion":2,"manifests":[]}"#,
        )
        .unwrap();
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(err.contains("holds no image"), "{err}");
    // An index blob that is empty, named by a layout.
    let empty = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let digest = crate::oci::Digest::of(empty);
    std::fs::write(blob(&layout, &digest), empty).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": crate::oci::MEDIA_TYPE_INDEX, "digest": digest.to_string(), "size": empty.len()
    }]});
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(
        err.contains("no images at all: the index is empty"),
        "{err}"
    );
}

#[test]
fn size_limits_apply_before_reading() {
    let f = fixture();
    let layout = rewrite_manifest(&f, |m| {
        m["config"]["size"] = (1u64 << 40).into();
    });
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(
        err.contains("declares 1099511627776 bytes, more than"),
        "{err}"
    );
}

#[test]
fn indexes_nested_too_deep_are_refused() {
    let f = fixture();
    let layout = layout_with(&f, |_, _| {});
    let mut top = f.image.descriptor();
    for _ in 0..6 {
        let index = crate::oci::ImageIndex {
            schema_version: 2,
            media_type: Some(crate::oci::MEDIA_TYPE_INDEX.into()),
            manifests: vec![top.clone()],
            annotations: None,
        };
        let bytes = serde_json::to_vec(&index).unwrap();
        let digest = crate::oci::Digest::of(&bytes);
        std::fs::write(blob(&layout, &digest), &bytes).unwrap();
        top = Descriptor::new(crate::oci::MEDIA_TYPE_INDEX, digest, bytes.len() as u64);
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    let err = read_layout(&f, &layout).unwrap_err().to_string();
    assert!(err.contains("nest more than 4 deep"), "{err}");
}

#[test]
fn platforms_are_chosen_by_the_one_matcher() {
    let f = fixture();
    let layout = layout_with(&f, |_, _| {});
    let source = LayoutSource::open(&layout, None, Limits::default()).unwrap();
    let store = BlobStore::open(f.root.join("p")).unwrap();
    let only = |p: &str| PlatformSelector::Only(vec![p.parse().unwrap()]);
    assert!(resolve(&source, &only("linux/amd64/v3"), &store, &Limits::default()).is_ok());
    let err = resolve(&source, &only("linux/arm64"), &store, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no image for linux/arm64") && err.contains("linux/amd64"),
        "{err}"
    );
}

#[test]
fn gzip_layers_stream_with_their_diff_ids_checked() {
    let f = fixture();
    let tar = tar_of(&[Member::File("x", b"y")]);
    let gz = gzip(&tar);
    let (digest, size) = f.store.put_bytes(&gz).unwrap();
    let d = Descriptor::new(MEDIA_TYPE_LAYER_GZIP, digest, size);
    let mut r = crate::oci::open_layer(&StoreBlobs(&f.store), &d, Default::default()).unwrap();
    while r.next_entry().unwrap().is_some() {}
    let wrong = crate::oci::Digest::of(b"not it");
    assert!(matches!(
        r.finish(Some(&wrong)),
        Err(crate::oci::LayerReadError::DiffId { .. })
    ));
    let _ = BTreeMap::<(), ()>::new();
}
