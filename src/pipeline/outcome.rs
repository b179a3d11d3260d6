//! What a build reports: per image, per platform, per layer (sizes in bytes), and the plan it
//! followed. `gopack build --json` prints [`BuildOutcome`].

use crate::assemble::{self, BaseView};
use crate::binary::needs::DetectedNeed;
use crate::gobuild::CgoMode;
use crate::oci::{BlobStore, Digest, Platform, WrittenLayer, index_for};
use crate::plan::report::PlanReport;
use crate::plan::{FileDecisions, ImagePlan};
use crate::sink::{self, ImageSet, IndexBlob, PushStats};

use super::{BuildError, PreparedTarget};

/// What one platform image turned out to be.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlatformImage {
    /// The platform.
    pub platform: Platform,
    /// The manifest's digest.
    pub manifest_digest: Digest,
    /// Binary size in bytes.
    pub binary_size: u64,
    /// Bytes of every layer blob (base included), the config and the manifest.
    pub compressed_size: u64,
    /// Uncompressed bytes of every layer (base included): one scope for both sizes.
    pub uncompressed_size: u64,
    /// Every layer, the base's first.
    pub layers: Vec<LayerSummary>,
    /// The `go build` command that made the binary.
    pub go_build: String,
    /// What the linked binary needs at run time, with the function that shows each need.
    pub needs: Vec<DetectedNeed>,
    /// Which base files went in, and why.
    pub files: FileDecisions,
    /// What may fail at run time in this image.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The binary's build info.
    #[serde(skip)]
    pub build_info: Option<crate::binary::buildinfo::BuildInfo>,
    /// `--sbom`: the SBOMs attached to this platform manifest as referrers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sboms: Vec<super::SbomReferrer>,
}

/// One layer of a built image, the base's included. Sizes are in bytes: `size` as stored
/// (compressed), `uncompressed_size` of the tar.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerSummary {
    /// Its digest.
    pub digest: Digest,
    /// Compressed bytes.
    pub size: u64,
    /// Uncompressed bytes (the tar).
    pub uncompressed_size: u64,
    /// The history sentence.
    pub description: String,
    /// Already in the store: nothing was compressed.
    pub reused: bool,
    /// A layer of the `--base` image, reused as it is.
    pub from_base: bool,
}

/// What one main package became.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuiltImage {
    /// The image name (the binary's).
    pub name: String,
    /// The main package's import path.
    pub package: String,
    /// The digest of the index (several platforms) or of the single manifest.
    pub digest: Digest,
    /// The media type of the top descriptor.
    pub media_type: String,
    /// The config's `User`.
    pub user: String,
    /// The config's `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// One entry per platform.
    pub platforms: Vec<PlatformImage>,
    /// The reference that pins the result (what `-q` prints): `REGISTRY/REPO@sha256:…` for a
    /// push, else `oci:DIR:NAME`, `oci-archive:FILE:NAME` or `docker-archive:FILE:REPO:TAG`.
    pub reference: String,
    /// Every name the image was written under (see [`sink::Published::references`]).
    pub references: Vec<String>,
    /// For registry outputs: what the push sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushStats>,
}

/// The cgo mode of the build: one mode when every image shares it (`null` when they differ).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CgoSummary {
    /// The mode.
    pub mode: Option<CgoMode>,
    /// Why.
    pub reason: String,
}

/// What `gopack build` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuildOutcome {
    /// Every output of the build (each once, a target's own repository included), in the
    /// order given, `, `-separated.
    pub output: String,
    /// The cgo decision.
    pub cgo: CgoSummary,
    /// One entry per main package.
    pub images: Vec<BuiltImage>,
    /// The plan the build followed, with what each linked binary needed.
    pub plan: PlanReport,
    /// About the output itself (e.g. inside a git work tree that does not ignore it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

pub(super) fn platform_image(
    store: &BlobStore,
    prepared: &PreparedTarget,
    assembled: &assemble::AssembledImage,
    base: Option<&BaseView>,
) -> Result<PlatformImage, BuildError> {
    let layers = layer_summaries(store, base, &assembled.layers)?;
    Ok(PlatformImage {
        platform: assembled.image.platform.clone(),
        manifest_digest: assembled.image.manifest_digest.clone(),
        binary_size: prepared.binary.size,
        compressed_size: assembled.image.compressed_size(),
        uncompressed_size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
        go_build: prepared.binary.command_line.clone(),
        needs: prepared.report.needs.clone(),
        files: prepared.files.clone(),
        warnings: prepared.report.warnings.clone(),
        build_info: prepared.checked.build_info.clone(),
        sboms: Vec::new(),
    })
}

/// The summary of every layer of an image: the base's first (sizes read from the store), then
/// the layers gopack wrote. One scope for every size: the whole image.
fn layer_summaries(
    store: &BlobStore,
    base: Option<&BaseView>,
    ours: &[(WrittenLayer, String)],
) -> Result<Vec<LayerSummary>, BuildError> {
    let mut out = Vec::new();
    for d in base
        .map(|b| b.image.manifest.layers.as_slice())
        .unwrap_or_default()
    {
        out.push(LayerSummary {
            digest: d.digest.clone(),
            size: d.size,
            uncompressed_size: crate::cache::uncompressed_size(store, d)?,
            description: format!("base image {}", base.map_or("", |b| b.name.as_str())),
            reused: true,
            from_base: true,
        });
    }
    out.extend(ours.iter().map(|(l, d)| LayerSummary {
        digest: l.digest.clone(),
        size: l.size,
        uncompressed_size: l.uncompressed_size,
        description: d.clone(),
        reused: l.reused,
        from_base: false,
    }));
    Ok(out)
}

pub(super) fn image_set(
    store: &BlobStore,
    image: &ImagePlan,
    name: &str,
    index_annotations: &std::collections::BTreeMap<String, String>,
    images: Vec<crate::oci::Image>,
) -> Result<ImageSet, BuildError> {
    let index = if images.len() > 1 {
        let mut annotations = sink::index_annotations(&images);
        annotations.extend(index_annotations.clone());
        let (_, bytes, digest) = index_for(store, &images, annotations)?;
        Some(IndexBlob::oci(bytes, digest))
    } else {
        None
    };
    debug_assert!(!image.name.is_empty());
    Ok(ImageSet {
        name: name.to_string(),
        images,
        index,
    })
}

pub(super) fn built_image(
    image: &ImagePlan,
    name: &str,
    set: &ImageSet,
    platforms: Vec<PlatformImage>,
    user: String,
) -> BuiltImage {
    let top = set.top_descriptor();
    BuiltImage {
        name: name.to_string(),
        package: image.package.clone(),
        digest: top.digest,
        media_type: top.media_type,
        user,
        entrypoint: image.entrypoint.clone(),
        platforms,
        reference: String::new(),
        references: Vec::new(),
        push: None,
    }
}
