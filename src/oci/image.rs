//! Content descriptors and the image documents (config, manifest, index), image-spec v1.1.
#![warn(missing_docs)]
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::layer::WrittenLayer;
use super::platform::Platform;
use super::store::{BlobStore, StoreError};
use super::{MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST};

/// A content descriptor: what a manifest or index points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is ([`super::media::classify`] says how gopack reads it).
    pub media_type: String,
    /// sha256 of the blob's bytes.
    pub digest: Digest,
    /// The blob's size in bytes, as stored (compressed for compressed layers); a hard limit
    /// when reading.
    pub size: u64,
    /// The platform an index entry is for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub platform: Option<Platform>,
    /// What an artifact is (`application/spdx+json`…): set on referrers-list and layout
    /// `index.json` entries for artifacts (image-spec `descriptor.md`, v1.1), kept through a
    /// read-modify-write.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact_type: Option<String>,
    /// Annotations (`org.opencontainers.image.ref.name` in layouts).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    /// A descriptor without platform or annotations.
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            platform: None,
            artifact_type: None,
            annotations: None,
        }
    }

    /// The descriptor of a layer gopack wrote.
    pub fn of_layer(layer: &WrittenLayer) -> Descriptor {
        Descriptor::new(&layer.media_type, layer.digest.clone(), layer.size)
    }
}

/// The OCI image configuration. Fields gopack does not model are kept in `extra` so a base
/// image's config survives a read-modify-write unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// RFC 3339 creation time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    /// GOARCH of the image's binaries.
    pub architecture: String,
    /// GOOS.
    pub os: String,
    /// CPU variant (`v7`, `v8`…).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variant: Option<String>,
    /// How containers start (`config` in the JSON).
    #[serde(default)]
    pub config: RuntimeConfig,
    /// The layers' diff_ids, bottom first.
    pub rootfs: RootFs,
    /// One entry per build step, including steps that made no layer.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub history: Vec<HistoryEntry>,
    /// Every other field, kept as read.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `config` object of an image config: how a container starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    /// `User`: `uid[:gid]` or a name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// `ExposedPorts`: `"8080/tcp": {}`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `Env`: `KEY=value` strings.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub env: Option<Vec<String>>,
    /// `Entrypoint`, exec form.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`, exec form.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cmd: Option<Vec<String>>,
    /// `WorkingDir`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub working_dir: Option<String>,
    /// `Labels`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// Every other field, kept as read.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `rootfs`: the layers as diff_ids (sha256 of each uncompressed tar), bottom first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One per layer, in manifest order.
    pub diff_ids: Vec<Digest>,
}

/// One `history` entry of an image config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// RFC 3339 time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    /// The step that made it (a Dockerfile line, a gopack sentence).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_by: Option<String>,
    /// A free comment.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    /// True when the step made no layer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub empty_layer: Option<bool>,
}

/// An image manifest (image-spec `manifest.md`; Docker schema 2 has the same shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type (OCI or Docker).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub media_type: Option<String>,
    /// The image config.
    pub config: Descriptor,
    /// The layers, bottom first (sizes compressed, as stored).
    pub layers: Vec<Descriptor>,
    /// Annotations (`org.opencontainers.image.base.*`…).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index (image-spec `image-index.md`; a Docker manifest list has the same shape),
/// also the shape of a layout's `index.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type (OCI or Docker).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub media_type: Option<String>,
    /// The manifests (or nested indexes) it lists.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// One single-platform image whose config and manifest are in the store. `manifest_bytes` are
/// the exact bytes the digest was computed over; sinks write and push those bytes, never a
/// re-serialisation.
#[derive(Clone, Debug)]
pub struct Image {
    /// The platform it runs on (normalised).
    pub platform: Platform,
    /// Its config, parsed.
    pub config: ImageConfig,
    /// The config's descriptor (its bytes are in the store under that digest).
    pub config_descriptor: Descriptor,
    /// Its manifest, parsed.
    pub manifest: ImageManifest,
    /// The manifest's exact bytes.
    pub manifest_bytes: Vec<u8>,
    /// sha256 of `manifest_bytes`.
    pub manifest_digest: Digest,
}

impl Image {
    /// Writes `config` and a manifest over `layers` into the store.
    pub fn assemble(
        store: &BlobStore,
        platform: Platform,
        config: ImageConfig,
        layers: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Result<Image, StoreError> {
        let config_bytes = serde_json::to_vec(&config).expect("image config serialises");
        let (config_digest, config_size) = store.put_bytes(&config_bytes)?;
        let config_descriptor = Descriptor::new(MEDIA_TYPE_CONFIG, config_digest, config_size);
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_MANIFEST.into()),
            config: config_descriptor.clone(),
            layers,
            annotations: (!annotations.is_empty()).then_some(annotations),
        };
        let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
        let (manifest_digest, _) = store.put_bytes(&manifest_bytes)?;
        Ok(Image {
            platform,
            config,
            config_descriptor,
            manifest,
            manifest_bytes,
            manifest_digest,
        })
    }

    /// The descriptor an index or `index.json` uses to point at this image.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::new(
            MEDIA_TYPE_MANIFEST,
            self.manifest_digest.clone(),
            self.manifest_bytes.len() as u64,
        );
        d.platform = Some(self.platform.clone());
        d
    }

    /// Bytes a registry stores for it: layers as stored (compressed), config and manifest.
    pub fn compressed_size(&self) -> u64 {
        self.manifest.layers.iter().map(|l| l.size).sum::<u64>()
            + self.config_descriptor.size
            + self.manifest_bytes.len() as u64
    }
}

/// Writes an index over several platform images into the store; returns it with its bytes and digest.
pub fn index_for(
    store: &BlobStore,
    images: &[Image],
    annotations: BTreeMap<String, String>,
) -> Result<(ImageIndex, Vec<u8>, Digest), StoreError> {
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.into()),
        manifests: images.iter().map(Image::descriptor).collect(),
        annotations: (!annotations.is_empty()).then_some(annotations),
    };
    let bytes = serde_json::to_vec(&index).expect("index serialises");
    let (digest, _) = store.put_bytes(&bytes)?;
    Ok((index, bytes, digest))
}
