//! The image model at the centre of gopack: content-addressed blobs, deterministic layers,
//! config/manifest/index documents, and platforms. Sources produce an [`Image`]; sinks consume one.

mod digest;
mod gzip;
mod image;
mod layer;
mod platform;
mod store;
mod transport;

pub use digest::{Digest, DigestError, Sha256Writer};
pub use image::{
    Descriptor, HistoryEntry, Image, ImageConfig, ImageIndex, ImageManifest, RootFs, RuntimeConfig,
    index_for,
};
pub use layer::{
    Compression, EntryKind, FileSource, LayerEntry, LayerError, LayerSpec, LayerWriter,
    WrittenLayer,
};
pub use platform::{Platform, PlatformError, parse_platform_list};
pub use store::{BlobStore, BlobWriter, ExportError, Exported, StoreError, default_cache_dir};
pub use transport::{Bare, ImageRef, ImageRefError, check_ref_name};

pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_TYPE_DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_TYPE_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const MEDIA_TYPE_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The annotation OCI layouts use to name an image in `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
