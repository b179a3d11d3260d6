//! Builders for tests: raw tar layers (including the hostile ones the writer never makes) and
//! layouts around them.

use std::io::Write;

use super::{
    BlobStore, Descriptor, Digest, Image, ImageConfig, MEDIA_TYPE_LAYER_TAR, Platform, RootFs,
};

/// One member of a test tar.
pub(crate) enum Member<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

/// A tar of `members`, in order, with raw (unchecked) names.
pub(crate) fn tar_of(members: &[Member<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(0);
        let (name, kind, data, link): (&str, tar::EntryType, &[u8], Option<&str>) = match m {
            Member::File(n, d) => (n, tar::EntryType::Regular, d, None),
            Member::Dir(n) => (n, tar::EntryType::Directory, b"", None),
            Member::Symlink(n, t) => (n, tar::EntryType::Symlink, b"", Some(t)),
            Member::Hardlink(n, t) => (n, tar::EntryType::Link, b"", Some(t)),
        };
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        // Raw names: the tar crate's own setters refuse `..`, which the tests need.
        if name.len() <= 100 {
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        } else {
            b.append_data(&mut h.clone(), name, data).unwrap();
            continue;
        }
        if let Some(t) = link {
            h.set_link_name(t).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An amd64 image over uncompressed `layers` (tars), its blobs in `store`.
pub(crate) fn image_of(store: &BlobStore, layers: &[Vec<u8>]) -> Image {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for tar in layers {
        let (d, n) = store.put_bytes(tar).unwrap();
        descriptors.push(Descriptor::new(MEDIA_TYPE_LAYER_TAR, d, n));
        diff_ids.push(Digest::of(tar));
    }
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        ..ImageConfig::default()
    };
    Image::assemble(
        store,
        Platform::linux("amd64"),
        config,
        descriptors,
        Default::default(),
    )
    .unwrap()
}
