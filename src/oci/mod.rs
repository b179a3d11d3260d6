//! The image model at the centre of gopack: content-addressed blobs, deterministic layers,
//! config/manifest/index documents, and platforms. Sources produce an [`Image`]; sinks consume one.
//!
//! Reading, for every verb (`pull`, `--base`, `inspect`, `sbom`):
//! - [`source::open`] turns an [`ImageRef`] into an [`ImageSource`] (registry, OCI layout,
//!   oci-archive, docker-archive);
//! - [`resolve`] walks index → manifest → config with one platform matcher
//!   ([`PlatformSelector`]), one media-type table ([`media`]) and verified, bounded reads
//!   ([`Limits`]), giving [`Image`]s whose manifests and configs are in the [`BlobStore`];
//! - [`fetch_layers`] copies layers into the store; [`open_layer`] streams one layer as
//!   [`FileEntry`]s (one pass, diff_id checked at [`LayerReader::finish`]);
//! - [`FileTree`] merges layers (whiteouts, opaque directories) and resolves paths through
//!   symlinks, bounded.
//!
//! Writing: [`LayerWriter`] makes deterministic layers, [`Image::assemble`] the config and
//! manifest, and `crate::sink` the outputs.

mod digest;
mod gzip;
mod image;
mod layer;
pub mod layer_reader;
pub mod media;
mod platform;
mod resolve;
pub mod source;
mod store;
pub mod tar_reader;
#[cfg(test)]
pub(crate) mod testing;
mod transport;
pub mod tree;

pub use digest::{Digest, DigestError, Sha256Writer};
pub use image::{
    Descriptor, HistoryEntry, Image, ImageConfig, ImageIndex, ImageManifest, RootFs, RuntimeConfig,
    index_for,
};
pub use layer::{
    Compression, EntryKind, FileSource, LayerEntry, LayerError, LayerSpec, LayerWriter,
    WrittenLayer,
};
pub use layer_reader::{
    EntryMeta, FileEntry, LayerDigests, LayerReadError, LayerReader, PathIssue, Whiteout,
};
pub use media::{LayerCompression, MediaKind};
pub use platform::{Platform, PlatformError, PlatformSelector, best_match, parse_platform_list};
pub use resolve::{Resolved, StoreBlobs, fetch_layers, open_layer, resolve};
pub use source::{ImageSource, Limits, SourceError, SourceOptions};
pub use store::{BlobStore, BlobWriter, ExportError, Exported, StoreError, default_cache_dir};
pub use tar_reader::{FileType, TarLimits};
pub use transport::{Bare, ImageRef, ImageRefError, check_ref_name};
pub use tree::{Applied, FileTree, NodeId, NodeInfo};

/// OCI image index (image-spec `image-index.md`).
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest (image-spec `manifest.md`).
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config (image-spec `config.md`).
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layer, gzip-compressed tar.
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd-compressed tar.
pub const MEDIA_TYPE_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI layer, uncompressed tar.
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// Docker image manifest, schema 2.
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (the index of schema 2).
pub const MEDIA_TYPE_DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const MEDIA_TYPE_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker layer, gzip-compressed tar.
pub const MEDIA_TYPE_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The annotation OCI layouts use to name an image in `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
