//! Base images: `--base` names any image gopack reads (`REF` or `docker://REF`, `oci:DIR[:TAG]`,
//! `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]`). It is resolved per target platform
//! through [`crate::oci::resolve`] with its layers brought into the store (sizes and digests
//! verified), and read for the files it already provides — every layer's diff_id checked in the
//! same pass — so the build adds only what is missing and can check that a dynamic binary's
//! loader and libraries are really there. What is specific to bases lives here; reading images
//! is the image model's.

use std::fmt;
use std::str::FromStr;

use crate::oci::source::{self, SourceOptions};
use crate::oci::tree::LayerFailure;
use crate::oci::{
    Bare, BlobStore, FileTree, Image, ImageRef, Limits, Platform, PlatformSelector, SourceError,
    StoreBlobs, TarLimits, best_match, fetch_layers,
};
use crate::registry::RegistryOptions;

/// What `--base` names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BaseSpec {
    /// The empty base (gopack's default).
    #[default]
    Scratch,
    /// An image from any source gopack reads.
    Image(ImageRef),
}

impl FromStr for BaseSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<BaseSpec, String> {
        if s.is_empty() || s == "scratch" {
            return Ok(BaseSpec::Scratch);
        }
        ImageRef::parse(s, Bare::Registry)
            .map(BaseSpec::Image)
            .map_err(|e| format!("--base {e}"))
    }
}

impl fmt::Display for BaseSpec {
    /// `scratch`, a registry reference as written without `docker://` (as it appears in
    /// `org.opencontainers.image.base.name`), or the transport reference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseSpec::Scratch => write!(f, "scratch"),
            BaseSpec::Image(ImageRef::Registry(r)) => write!(f, "{r}"),
            BaseSpec::Image(other) => write!(f, "{other}"),
        }
    }
}

/// Why a base could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// The base could not be resolved or fetched (network, layout, archive, verification).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// It has no image for a target platform (found after resolving: the base's images
    /// were selected for other platforms).
    #[error(
        "base image {base} has no image for {platform} (it has: {available}); gopack does not \
         build for a platform its base cannot serve. Build only for the base's platforms \
         (--platform), or choose a base that is an image index with {platform}"
    )]
    NoPlatform {
        /// The base as named.
        base: String,
        /// The target platform.
        platform: Platform,
        /// The platforms it has.
        available: String,
    },
    /// It has no image for a target platform (the source said so while resolving: a
    /// single-platform base, or an index without that platform).
    #[error(
        "base image {base} has no image for {wanted} (it has: {available}); gopack does not \
         build for a platform its base cannot serve. Build only for the base's platforms \
         (--platform), or choose a base that is an image index with {wanted}"
    )]
    Unserved {
        /// The base as named.
        base: String,
        /// The platform asked for.
        wanted: String,
        /// What the base has.
        available: String,
    },
    /// One of its layers is broken (not a tar, over a limit, wrong diff_id).
    #[error("cannot use {failure}")]
    Layer {
        /// The base as named.
        base: String,
        /// Which layer, and why.
        failure: Box<LayerFailure>,
    },
}

/// A base resolved to images whose blobs are in the store.
#[derive(Clone, Debug)]
pub struct BaseImage {
    /// The base as the user named it (for `org.opencontainers.image.base.name`).
    pub name: String,
    /// One image per target platform (fewer when several targets share one).
    pub images: Vec<Image>,
}

/// Resolves the base for the given platforms and brings its blobs into the store. Scratch
/// gives `None`.
pub fn resolve(
    spec: &BaseSpec,
    store: &BlobStore,
    platforms: &[Platform],
    registry: &RegistryOptions,
) -> Result<Option<BaseImage>, BaseError> {
    let BaseSpec::Image(reference) = spec else {
        return Ok(None);
    };
    let options = SourceOptions {
        registry: registry.clone(),
        limits: Limits::default(),
    };
    let source = source::open(reference, store, &options)?;
    let selector = PlatformSelector::from_list(platforms);
    let resolved = crate::oci::resolve(source.as_ref(), &selector, store, &options.limits)
        .map_err(|e| match e {
            SourceError::NoPlatform {
                wanted, available, ..
            } => BaseError::Unserved {
                base: spec.to_string(),
                wanted,
                available,
            },
            other => BaseError::Source(other),
        })?;
    fetch_layers(
        source.as_ref(),
        &resolved.images,
        store,
        registry.concurrency,
    )?;
    Ok(Some(BaseImage {
        name: spec.to_string(),
        images: resolved.images,
    }))
}

/// What `--platform all` means on `scratch`: the platforms distroless/static publishes, all of
/// which Go builds without cgo and Kubernetes nodes run.
pub const SCRATCH_ALL_PLATFORMS: &[&str] = &[
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/ppc64le",
    "linux/s390x",
];

/// The platforms `--platform all` means: every platform the base offers, in its index's order
/// (attestations and `unknown/unknown` entries left out by the one resolver), or
/// [`SCRATCH_ALL_PLATFORMS`] on scratch. Reads the base's index, manifests and configs only.
pub fn all_platforms(
    spec: &BaseSpec,
    store: &BlobStore,
    registry: &RegistryOptions,
) -> Result<Vec<Platform>, BaseError> {
    let BaseSpec::Image(reference) = spec else {
        return Ok(SCRATCH_ALL_PLATFORMS
            .iter()
            .map(|p| p.parse().expect("the scratch platforms parse"))
            .collect());
    };
    let options = SourceOptions {
        registry: registry.clone(),
        limits: Limits::default(),
    };
    let source = source::open(reference, store, &options)?;
    let resolved = crate::oci::resolve(
        source.as_ref(),
        &PlatformSelector::All,
        store,
        &options.limits,
    )?;
    let mut platforms: Vec<Platform> = Vec::new();
    for image in resolved.images {
        if !platforms.contains(&image.platform) {
            platforms.push(image.platform);
        }
    }
    Ok(platforms)
}

impl BaseImage {
    /// The base image for `platform`, chosen by the image model's one matcher
    /// ([`Platform::match_score`]: containerd's normalisation, closest compatible variant).
    pub fn for_platform(&self, platform: &Platform) -> Result<&Image, BaseError> {
        best_match(platform, self.images.iter().map(|i| (&i.platform, i))).ok_or_else(|| {
            BaseError::NoPlatform {
                base: self.name.clone(),
                platform: platform.clone(),
                available: self
                    .images
                    .iter()
                    .map(|i| i.platform.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
    }
}

/// The file system a base image's layers add up to.
#[derive(Clone, Debug, Default)]
pub struct BaseFileSystem {
    tree: FileTree,
}

impl BaseFileSystem {
    /// Reads every layer of `image` from the store in one streaming pass each, applying
    /// whiteouts, and checks each layer's size, digest and diff_id on the way (a base whose
    /// descriptors or config lie is refused, not reused). `base` names it in errors.
    pub fn read(store: &BlobStore, image: &Image, base: &str) -> Result<BaseFileSystem, BaseError> {
        FileTree::read_image(&StoreBlobs(store), image, TarLimits::default())
            .map(|tree| BaseFileSystem { tree })
            .map_err(|mut failure| {
                failure.origin = format!("the base image {base}");
                BaseError::Layer {
                    base: base.to_string(),
                    failure: Box::new(failure),
                }
            })
    }

    /// Whether `path` exists, following symlinks in every component (bounded, memoised).
    pub fn exists(&self, path: &str) -> bool {
        self.tree.exists(path)
    }

    /// The merged tree, for callers that need more than existence.
    pub fn tree(&self) -> &FileTree {
        &self.tree
    }
}

/// Where the dynamic loader looks for libraries when nothing else is configured.
const LIBRARY_DIRS: &[&str] = &[
    "lib",
    "lib64",
    "usr/lib",
    "usr/lib64",
    "usr/local/lib",
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib/aarch64-linux-gnu",
    "usr/lib/aarch64-linux-gnu",
    "lib/arm-linux-gnueabihf",
    "usr/lib/arm-linux-gnueabihf",
];

impl BaseFileSystem {
    /// The interpreter and libraries from `needed` that this file system does not have.
    pub fn missing_for_dynamic(&self, interpreter: Option<&str>, needed: &[String]) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(interp) = interpreter
            && !self.exists(interp)
        {
            missing.push(interp.to_string());
        }
        for lib in needed {
            if !LIBRARY_DIRS
                .iter()
                .any(|dir| self.exists(&format!("{dir}/{lib}")))
            {
                missing.push(lib.clone());
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests;
