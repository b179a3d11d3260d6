use super::*;
use crate::oci::testing::{Member, gzip, image_of, tar_of};
use crate::oci::{Descriptor, MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_LAYER_ZSTD};
use crate::sink::{ImageSet, write_oci_layout};

fn fs_of(layers: &[Vec<u8>]) -> Result<BaseFileSystem, BaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let image = image_of(&store, layers);
    BaseFileSystem::read(&store, &image, "test")
}

#[test]
fn symlinked_directories_are_followed() {
    use Member::*;
    let f = fs_of(&[tar_of(&[
        File("usr/lib/libc.so.6", b""),
        File("usr/lib64/ld-linux-x86-64.so.2", b""),
        Symlink("lib", "usr/lib"),
        Symlink("lib64", "/usr/lib64"),
    ])])
    .unwrap();
    assert!(f.exists("/lib/libc.so.6"));
    assert!(f.exists("/lib64/ld-linux-x86-64.so.2"));
    assert!(!f.exists("/lib/libm.so.6"));
    assert_eq!(
        f.missing_for_dynamic(
            Some("/lib64/ld-linux-x86-64.so.2"),
            &["libc.so.6".into(), "libsqlite3.so.0".into()]
        ),
        vec!["libsqlite3.so.0"]
    );
}

#[test]
fn symlink_loops_end() {
    use Member::*;
    let f = fs_of(&[tar_of(&[Symlink("a", "b"), Symlink("b", "a")])]).unwrap();
    assert!(!f.exists("a/x"));
}

#[test]
fn whiteouts_remove_what_lower_layers_added() {
    use Member::*;
    let f = fs_of(&[
        tar_of(&[
            File("etc/passwd", b""),
            File("etc/group", b""),
            File("opt/a/x", b""),
        ]),
        tar_of(&[File("etc/.wh.passwd", b""), File("opt/a/.wh..wh..opq", b"")]),
    ])
    .unwrap();
    assert!(!f.exists("/etc/passwd") && f.exists("/etc/group") && !f.exists("/opt/a/x"));
}

#[test]
fn a_lying_diff_id_is_refused_naming_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let mut image = image_of(&store, &[tar_of(&[Member::File("a", b"1")])]);
    image.config.rootfs.diff_ids[0] = crate::oci::Digest::of(b"lie");
    let err = BaseFileSystem::read(&store, &image, "oci:base")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("oci:base") && err.contains("layer 1") && err.contains("diff_id"),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, timeout: 5000, ..Default::default() })]
    #[test]
    fn garbage_layers_are_errors_not_panics(blob in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), kind in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let mut image = image_of(&store, &[]);
        let media_type = [MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD, MEDIA_TYPE_LAYER_TAR][kind];
        let (d, n) = store.put_bytes(&blob).unwrap();
        image.manifest.layers.push(Descriptor::new(media_type, d, n));
        image.config.rootfs.diff_ids.push(crate::oci::Digest::of(&blob));
        let _ = BaseFileSystem::read(&store, &image, "fuzz");
    }
}

#[test]
fn a_broken_layout_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    std::fs::write(dir.path().join("index.json"), b"{not json").unwrap();
    let spec: BaseSpec = format!("oci:{}", dir.path().display()).parse().unwrap();
    let err = resolve(&spec, &store, &[], &RegistryOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("index.json"), "{err}");
}

#[test]
fn layouts_and_archives_resolve_and_layers_land_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("a")).unwrap();
    let tar = tar_of(&[Member::File("etc/passwd", b"root")]);
    let image = image_of(&store, &[gzip(&tar)]);
    let set = ImageSet {
        name: "b".into(),
        images: vec![image.clone()],
        index: None,
    };
    let layout = dir.path().join("layout");
    write_oci_layout(&store, &layout, &[set], Some("1")).unwrap();
    let fresh = BlobStore::open(dir.path().join("b")).unwrap();
    let spec: BaseSpec = format!("oci:{}:1", layout.display()).parse().unwrap();
    let base = resolve(
        &spec,
        &fresh,
        &["linux/amd64".parse().unwrap()],
        &Default::default(),
    )
    .unwrap()
    .unwrap();
    let got = base
        .for_platform(&"linux/amd64/v2".parse().unwrap())
        .unwrap();
    assert_eq!(got.manifest_digest, image.manifest_digest);
    assert!(fresh.contains(&got.manifest.layers[0].digest));
    let err = base
        .for_platform(&"linux/arm64".parse().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("linux/amd64"), "{err}");
}

#[test]
fn base_specs_parse() {
    assert_eq!("scratch".parse::<BaseSpec>().unwrap(), BaseSpec::Scratch);
    assert_eq!(
        "oci:./bases/static:v1".parse::<BaseSpec>().unwrap(),
        BaseSpec::Image(ImageRef::Layout {
            dir: "./bases/static".into(),
            tag: Some("v1".into())
        })
    );
    for archive in [
        "oci-archive:base.tar",
        "docker-archive:base.tar:example.com/app:v1",
    ] {
        let spec: BaseSpec = archive.parse().unwrap();
        assert_eq!(spec.to_string(), archive);
    }
    let registry: BaseSpec = "gcr.io/distroless/static-debian12:nonroot".parse().unwrap();
    assert_eq!(
        registry.to_string(),
        "gcr.io/distroless/static-debian12:nonroot"
    );
    assert!("oci:".parse::<BaseSpec>().is_err());
}
