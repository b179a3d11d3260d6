//! The one walk from what a reference names to images: index → (nested indexes) → manifest →
//! config, for every [`ImageSource`] alike (image-spec `image-index.md`, `manifest.md`,
//! `config.md`). Every document is read verified and bounded ([`Limits`]), every media type
//! goes through the one table ([`super::media`]), and platforms are chosen by the one matcher
//! ([`Platform::match_score`]). Layers are not read here; [`fetch_layers`] brings them into the
//! store and [`open_layer`] streams one.
#![warn(missing_docs)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::image::{Descriptor, Image, ImageConfig, ImageIndex, ImageManifest};
use super::layer_reader::{LayerReadError, LayerReader};
use super::media::{MediaKind, classify, unsupported_reason};
use super::platform::{Platform, PlatformSelector, best_match};
use super::source::{
    ImageSource, Limits, SourceError, fetch_blob, open_blob, parse_json, read_blob,
};
use super::store::BlobStore;
use super::tar_reader::TarLimits;
use crate::text::printable;

/// What a reference resolved to.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The source, as the user named it.
    pub origin: String,
    /// The document the reference names (index or manifest), as its source describes it.
    pub top: Descriptor,
    /// That document's exact bytes (also put in the store).
    pub top_bytes: Vec<u8>,
    /// The top document parsed, when it is an index.
    pub index: Option<ImageIndex>,
    /// The selected single-platform images; manifests and configs are in the store, layers are
    /// not (see [`fetch_layers`]).
    pub images: Vec<Image>,
    /// True when the images are exactly what the top document lists (a single manifest, or an
    /// index none of whose entries was left out), so the top document can be copied as is.
    pub complete: bool,
}

/// One manifest an index offers.
struct Candidate {
    descriptor: Descriptor,
    platform: Option<Platform>,
}

/// Resolves what `source` names to images for `selector`, keeping their manifests and configs in
/// `store`. Errors: a document over its limit, of an unknown media type or malformed; indexes
/// nested deeper than [`Limits::max_depth`]; a requested platform no image serves (the message
/// lists what the source has).
pub fn resolve<S: ImageSource + ?Sized>(
    source: &S,
    selector: &PlatformSelector,
    store: &BlobStore,
    limits: &Limits,
) -> Result<Resolved, SourceError> {
    let origin = source.name();
    let top = source.top()?;
    let kind = document_kind(&top, &origin)?;
    let limit = match kind {
        MediaKind::Index => limits.max_index,
        _ => limits.max_manifest,
    };
    let top_bytes = read_blob(source, &top, limit, kind_name(kind))?;
    store.put_bytes(&top_bytes)?;
    if kind == MediaKind::Manifest {
        let image = load_image(source, &top, &top_bytes, None, store, limits)?;
        check_serves(&image, selector, &origin)?;
        return Ok(Resolved {
            origin,
            top,
            top_bytes,
            index: None,
            images: vec![image],
            complete: true,
        });
    }
    let what = format!("the index {} of {origin}", top.digest.short());
    let index: ImageIndex = parse_document(&top_bytes, &what, MediaKind::Index)?;
    let mut candidates = Vec::new();
    let mut nested = false;
    collect(source, &index, 0, &mut candidates, &mut nested, limits)?;
    let mut loaded: Vec<Option<Image>> = candidates.iter().map(|_| None).collect();
    // Entries without a platform say which one they are only in their config.
    for (i, c) in candidates.iter_mut().enumerate() {
        if c.platform.is_none() {
            let bytes = read_blob(source, &c.descriptor, limits.max_manifest, "a manifest")?;
            let image = load_image(source, &c.descriptor, &bytes, None, store, limits)?;
            c.platform = Some(image.platform.clone());
            loaded[i] = Some(image);
        }
    }
    let chosen = choose(&candidates, selector, &origin, index.manifests.len())?;
    let mut images = Vec::new();
    for i in &chosen {
        let image = match loaded[*i].take() {
            Some(image) => image,
            None => {
                let c = &candidates[*i];
                let bytes = read_blob(source, &c.descriptor, limits.max_manifest, "a manifest")?;
                load_image(
                    source,
                    &c.descriptor,
                    &bytes,
                    c.platform.clone(),
                    store,
                    limits,
                )?
            }
        };
        images.push(image);
    }
    let complete = !nested && images.len() == index.manifests.len();
    Ok(Resolved {
        origin,
        top,
        top_bytes,
        index: Some(index),
        images,
        complete,
    })
}

/// A single-platform image must serve every platform asked for.
fn check_serves(
    image: &Image,
    selector: &PlatformSelector,
    origin: &str,
) -> Result<(), SourceError> {
    let PlatformSelector::Only(wanted) = selector else {
        return Ok(());
    };
    match wanted
        .iter()
        .find(|w| w.match_score(&image.platform).is_none())
    {
        Some(w) => Err(SourceError::NoPlatform {
            origin: origin.to_string(),
            wanted: w.to_string(),
            available: format!("only {}, a single-platform image", image.platform),
        }),
        None => Ok(()),
    }
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Index => "an index",
        MediaKind::Manifest => "a manifest",
        MediaKind::Config => "a config",
        MediaKind::Layer(_) => "a layer",
    }
}

fn document_kind(d: &Descriptor, origin: &str) -> Result<MediaKind, SourceError> {
    match classify(&d.media_type) {
        Some(k @ (MediaKind::Index | MediaKind::Manifest)) => Ok(k),
        _ => Err(SourceError::Unsupported {
            what: format!("{} of {origin}", d.digest.short()),
            reason: unsupported_reason(&d.media_type, "an image index or manifest type"),
        }),
    }
}

/// The image manifests an index offers, through nested indexes. Entries that are not images
/// (attestations, `unknown/unknown`, artifacts of other types) are left out.
fn collect<S: ImageSource + ?Sized>(
    source: &S,
    index: &ImageIndex,
    depth: usize,
    out: &mut Vec<Candidate>,
    nested: &mut bool,
    limits: &Limits,
) -> Result<(), SourceError> {
    for d in &index.manifests {
        if out.len() >= limits.max_manifests {
            return Err(SourceError::Invalid {
                origin: source.name(),
                reason: format!(
                    "its indexes list more than {} manifests, more than gopack reads",
                    limits.max_manifests
                ),
            });
        }
        let attestation = d.annotations.as_ref().is_some_and(|a| {
            a.get("vnd.docker.reference.type").map(String::as_str) == Some("attestation-manifest")
        });
        let unknown = d
            .platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" || p.architecture == "unknown");
        match classify(&d.media_type) {
            Some(MediaKind::Manifest) if !attestation && !unknown => out.push(Candidate {
                descriptor: d.clone(),
                platform: d.platform.as_ref().map(Platform::normalise),
            }),
            Some(MediaKind::Index) => {
                if depth + 1 > limits.max_depth {
                    return Err(SourceError::Invalid {
                        origin: source.name(),
                        reason: format!(
                            "its indexes nest more than {} deep, more than gopack reads",
                            limits.max_depth
                        ),
                    });
                }
                *nested = true;
                let bytes = read_blob(source, d, limits.max_index, "an index")?;
                let what = format!("the index {} of {}", d.digest.short(), source.name());
                let inner: ImageIndex = parse_document(&bytes, &what, MediaKind::Index)?;
                collect(source, &inner, depth + 1, out, nested, limits)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Indexes into `candidates` of the images `selector` asks for, in the order asked.
fn choose(
    candidates: &[Candidate],
    selector: &PlatformSelector,
    origin: &str,
    listed: usize,
) -> Result<Vec<usize>, SourceError> {
    let mut available: Vec<String> = Vec::new();
    for c in candidates {
        let p = c
            .platform
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !available.contains(&p) {
            available.push(p);
        }
    }
    let available = if available.is_empty() && listed == 0 {
        "no images at all: the index is empty".to_string()
    } else if available.is_empty() {
        format!(
            "no platform images: none of the {listed} entries of the index is an image manifest"
        )
    } else {
        available.join(", ")
    };
    let wanted = match selector {
        PlatformSelector::All if candidates.is_empty() => {
            return Err(SourceError::NoPlatform {
                origin: origin.to_string(),
                wanted: "any platform".into(),
                available,
            });
        }
        PlatformSelector::All => return Ok((0..candidates.len()).collect()),
        PlatformSelector::Only(wanted) => wanted,
    };
    let mut chosen = Vec::new();
    for w in wanted {
        let found = best_match(
            w,
            candidates
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.platform.as_ref().map(|p| (p, i))),
        );
        match found {
            Some(i) if !chosen.contains(&i) => chosen.push(i),
            Some(_) => {}
            None => {
                return Err(SourceError::NoPlatform {
                    origin: origin.to_string(),
                    wanted: w.to_string(),
                    available,
                });
            }
        }
    }
    Ok(chosen)
}

/// Parses an index or manifest, checking its `schemaVersion` and that its own `mediaType` (when
/// present) agrees with the kind it was reached as.
fn parse_document<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    kind: MediaKind,
) -> Result<T, SourceError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        schema_version: Option<u64>,
        media_type: Option<String>,
    }
    let name = if kind == MediaKind::Index {
        "image index"
    } else {
        "image manifest"
    };
    let head: Head = parse_json(bytes, what, name)?;
    if head.schema_version != Some(2) {
        let reason = match head.schema_version {
            Some(1) => "it is a Docker schema 1 manifest, which is deprecated and not supported; \
                        push the image again with a current tool"
                .to_string(),
            other => format!("its schemaVersion is {other:?}, not 2"),
        };
        return Err(SourceError::Unsupported {
            what: what.to_string(),
            reason,
        });
    }
    if let Some(t) = &head.media_type
        && classify(t) != Some(kind)
    {
        return Err(SourceError::Unsupported {
            what: what.to_string(),
            reason: format!(
                "it was listed as {} but says it is `{}`",
                kind_name(kind),
                printable(t, 100)
            ),
        });
    }
    parse_json(bytes, what, name)
}

/// Reads one manifest's config and checks the manifest describes a container image: a config
/// of a config type, layers of layer types, as many diff_ids as layers.
fn load_image<S: ImageSource + ?Sized>(
    source: &S,
    descriptor: &Descriptor,
    bytes: &[u8],
    platform: Option<Platform>,
    store: &BlobStore,
    limits: &Limits,
) -> Result<Image, SourceError> {
    let origin = source.name();
    let what = format!("the manifest {} of {origin}", descriptor.digest.short());
    let manifest: ImageManifest = parse_document(bytes, &what, MediaKind::Manifest)?;
    if classify(&manifest.config.media_type) != Some(MediaKind::Config) {
        return Err(SourceError::Unsupported {
            what: format!("{what}: its config"),
            reason: unsupported_reason(&manifest.config.media_type, "an image config type")
                + "; it may be an artifact (a chart, a signature, an SBOM), not a container image",
        });
    }
    if manifest.layers.len() > limits.max_layers {
        return Err(SourceError::Invalid {
            origin,
            reason: format!(
                "{what} has {} layers, more than the {} gopack reads",
                manifest.layers.len(),
                limits.max_layers
            ),
        });
    }
    for (i, layer) in manifest.layers.iter().enumerate() {
        if !matches!(classify(&layer.media_type), Some(MediaKind::Layer(_))) {
            return Err(SourceError::Unsupported {
                what: format!("{what}: layer {} ({})", i + 1, layer.digest.short()),
                reason: unsupported_reason(&layer.media_type, "a layer type"),
            });
        }
    }
    let config_bytes = read_blob(source, &manifest.config, limits.max_config, "a config")?;
    let config_what = format!("the config {} of {origin}", manifest.config.digest.short());
    let config: ImageConfig = parse_json(&config_bytes, &config_what, "image config")?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(SourceError::Invalid {
            origin,
            reason: format!(
                "{what} lists {} layers but its config lists {} diff_ids; the image is \
                 inconsistent",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        });
    }
    store.put_bytes(bytes)?;
    store.put_bytes(&config_bytes)?;
    let platform = platform
        .unwrap_or_else(|| Platform {
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
        })
        .normalise();
    Ok(Image {
        platform,
        config,
        config_descriptor: manifest.config.clone(),
        manifest,
        manifest_bytes: bytes.to_vec(),
        manifest_digest: descriptor.digest.clone(),
    })
}

/// Brings every layer of `images` into the store (each blob once, `concurrency` at a time),
/// verifying size and digest.
pub fn fetch_layers<S: ImageSource + ?Sized>(
    source: &S,
    images: &[Image],
    store: &BlobStore,
    concurrency: usize,
) -> Result<(), SourceError> {
    let mut blobs: Vec<&Descriptor> = Vec::new();
    for image in images {
        for layer in &image.manifest.layers {
            if !blobs.iter().any(|b| b.digest == layer.digest) {
                blobs.push(layer);
            }
        }
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<SourceError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, blobs.len().max(1)) {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(blob) = blobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    if let Err(e) = fetch_blob(source, blob, store) {
                        failed.store(true, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Opens one layer for a streaming pass, its blob verified as it is read (size and digest);
/// call [`LayerReader::finish`] with the config's diff_id to check that too.
pub fn open_layer<S: ImageSource + ?Sized>(
    source: &S,
    layer: &Descriptor,
    limits: TarLimits,
) -> Result<LayerReader, LayerReadError> {
    if !matches!(classify(&layer.media_type), Some(MediaKind::Layer(_))) {
        return Err(LayerReadError::Source(SourceError::Unsupported {
            what: format!("layer {} of {}", layer.digest.short(), source.name()),
            reason: unsupported_reason(&layer.media_type, "a layer type"),
        }));
    }
    let blob = open_blob(source, layer)?;
    LayerReader::new(Box::new(blob), limits)
}

/// The blob store seen as a source of blobs (for reading layers already fetched); it names no
/// top document.
pub struct StoreBlobs<'s>(pub &'s BlobStore);

impl ImageSource for StoreBlobs<'_> {
    fn name(&self) -> String {
        format!("the blob store at {}", self.0.root().display())
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        Err(SourceError::Invalid {
            origin: self.name(),
            reason: "the blob store holds blobs, not a named image".into(),
        })
    }

    fn open_raw(&self, d: &Descriptor) -> Result<Box<dyn std::io::Read + Send>, SourceError> {
        Ok(Box::new(self.0.open_blob(&d.digest)?))
    }
}
