//! The one media-type table: every OCI (image-spec v1.1 `media-types.md`) and Docker (image
//! manifest v2 schema 2) type gopack reads, and what each one is. Readers classify a descriptor
//! here and nowhere else, so an unknown type (`text/plain`, an artifact, schema 1) always gets the
//! same readable error instead of being parsed as something it is not.
#![warn(missing_docs)]

use std::fmt;

use crate::text::printable;

/// What a descriptor's media type says its blob is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// An image index (OCI) or manifest list (Docker): a list of manifests, usually one per platform.
    Index,
    /// A single-platform image manifest (OCI or Docker schema 2).
    Manifest,
    /// An image configuration (OCI or Docker; the JSON is the same).
    Config,
    /// A layer: a tar archive, possibly compressed.
    Layer(LayerCompression),
}

/// How a layer's tar stream is compressed, as its media type declares it. The layer reader also
/// sniffs the first bytes, because docker-archives routinely declare the wrong one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerCompression {
    /// A plain tar.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard (RFC 8878) frames.
    Zstd,
}

impl LayerCompression {
    /// The OCI layer media type for this compression (`application/vnd.oci.image.layer.v1.tar…`).
    pub fn oci_media_type(self) -> &'static str {
        match self {
            LayerCompression::None => super::MEDIA_TYPE_LAYER_TAR,
            LayerCompression::Gzip => super::MEDIA_TYPE_LAYER_GZIP,
            LayerCompression::Zstd => super::MEDIA_TYPE_LAYER_ZSTD,
        }
    }

    /// Recognises a compressed stream by its magic number (gzip `1f 8b`, zstd `28 b5 2f fd`);
    /// anything else is taken as a plain tar (whose first bytes are a file name).
    pub fn sniff(first_bytes: &[u8]) -> LayerCompression {
        if first_bytes.starts_with(&[0x1f, 0x8b]) {
            LayerCompression::Gzip
        } else if first_bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            LayerCompression::Zstd
        } else {
            LayerCompression::None
        }
    }
}

impl fmt::Display for LayerCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LayerCompression::None => "uncompressed",
            LayerCompression::Gzip => "gzip",
            LayerCompression::Zstd => "zstd",
        })
    }
}

/// Every media type gopack reads, with its kind. Sources: image-spec `media-types.md` (including
/// the deprecated non-distributable layers, which are still plain layers) and the Docker schema 2
/// spec (`rootfs.diff.tar` without gzip is not in that spec but Docker and skopeo write it).
const TABLE: &[(&str, MediaKind)] = &[
    (super::MEDIA_TYPE_INDEX, MediaKind::Index),
    (super::MEDIA_TYPE_DOCKER_MANIFEST_LIST, MediaKind::Index),
    (super::MEDIA_TYPE_MANIFEST, MediaKind::Manifest),
    (super::MEDIA_TYPE_DOCKER_MANIFEST, MediaKind::Manifest),
    (super::MEDIA_TYPE_CONFIG, MediaKind::Config),
    (super::MEDIA_TYPE_DOCKER_CONFIG, MediaKind::Config),
    (
        super::MEDIA_TYPE_LAYER_TAR,
        MediaKind::Layer(LayerCompression::None),
    ),
    (
        super::MEDIA_TYPE_LAYER_GZIP,
        MediaKind::Layer(LayerCompression::Gzip),
    ),
    (
        super::MEDIA_TYPE_LAYER_ZSTD,
        MediaKind::Layer(LayerCompression::Zstd),
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        MediaKind::Layer(LayerCompression::None),
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        MediaKind::Layer(LayerCompression::Gzip),
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        MediaKind::Layer(LayerCompression::Zstd),
    ),
    (
        super::MEDIA_TYPE_DOCKER_LAYER_GZIP,
        MediaKind::Layer(LayerCompression::Gzip),
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        MediaKind::Layer(LayerCompression::Gzip),
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        MediaKind::Layer(LayerCompression::None),
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        MediaKind::Layer(LayerCompression::Zstd),
    ),
];

/// The kind of `media_type`, or `None` for a type gopack does not read. Parameters after `;`
/// are ignored, as RFC 6838 allows.
pub fn classify(media_type: &str) -> Option<MediaKind> {
    let bare = media_type.split(';').next().unwrap_or("").trim();
    TABLE.iter().find(|(t, _)| *t == bare).map(|(_, k)| *k)
}

/// Why a media type is refused, in words a person can act on. `media_type` is shown through
/// [`crate::text::printable`], so a hostile value cannot put control characters or megabytes on a terminal.
pub fn unsupported_reason(media_type: &str, expected: &str) -> String {
    let shown = printable(media_type, 100);
    let hint = if media_type.starts_with("application/vnd.docker.distribution.manifest.v1") {
        "; Docker schema 1 is deprecated and not supported: push the image again with a current tool"
    } else if media_type.is_empty() {
        "; the descriptor names no media type"
    } else {
        ""
    };
    format!(
        "media type `{shown}` is not {expected} gopack reads (OCI or Docker index, manifest, \
         config, or tar / tar+gzip / tar+zstd layer){hint}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_and_docker_types_are_classified() {
        assert_eq!(
            classify("application/vnd.docker.distribution.manifest.list.v2+json"),
            Some(MediaKind::Index)
        );
        assert_eq!(
            classify("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(MediaKind::Layer(LayerCompression::Zstd))
        );
        assert_eq!(
            classify("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(MediaKind::Layer(LayerCompression::Gzip))
        );
        assert_eq!(
            classify("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            Some(MediaKind::Manifest)
        );
        assert_eq!(classify("text/plain"), None);
    }

    #[test]
    fn refusals_are_printable() {
        let reason = unsupported_reason("text/plain\u{1b}[31m\0\u{7f}", "a layer type");
        assert!(
            reason.contains("`text/plain\\u{1b}[31m\\u{0}\\u{7f}`"),
            "{reason}"
        );
        assert!(!reason.chars().any(char::is_control));
        let long = "x".repeat(10_000);
        assert!(unsupported_reason(&long, "a layer type").len() < 400);
        assert!(
            unsupported_reason(
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "an image type"
            )
            .contains("schema 1")
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            LayerCompression::sniff(&[0x1f, 0x8b, 8]),
            LayerCompression::Gzip
        );
        assert_eq!(
            LayerCompression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            LayerCompression::Zstd
        );
        assert_eq!(LayerCompression::sniff(b"etc/\0"), LayerCompression::None);
    }
}
