//! Base images: `--base REF` (a registry) or `--base oci:DIR[:TAG]` (a local layout), resolved
//! per target platform into the store, and read for the files they already provide, so the
//! build adds only what is missing and can check that a dynamic binary's loader and libraries
//! are really there.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::oci::{
    ANNOTATION_REF_NAME, BlobStore, Descriptor, Digest, Image, ImageConfig, ImageIndex,
    ImageManifest, MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_MANIFEST, Platform,
};
use crate::registry::{Reference, RegistryClient, RegistryError, RegistryOptions};

/// What `--base` names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BaseSpec {
    /// The empty base (gopack's default).
    #[default]
    Scratch,
    Registry(Reference),
    Layout {
        dir: PathBuf,
        tag: Option<String>,
    },
}

impl FromStr for BaseSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<BaseSpec, String> {
        if s.is_empty() || s == "scratch" {
            return Ok(BaseSpec::Scratch);
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, tag) = match rest.split_once(':') {
                Some((d, t)) if !t.is_empty() => (d, Some(t.to_string())),
                _ => (rest.trim_end_matches(':'), None),
            };
            if dir.is_empty() {
                return Err("--base oci: needs a directory, e.g. oci:./bases/static".into());
            }
            return Ok(BaseSpec::Layout {
                dir: PathBuf::from(dir),
                tag,
            });
        }
        s.parse::<Reference>()
            .map(BaseSpec::Registry)
            .map_err(|e| e.to_string())
    }
}

impl fmt::Display for BaseSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseSpec::Scratch => write!(f, "scratch"),
            BaseSpec::Registry(r) => write!(f, "{r}"),
            BaseSpec::Layout { dir, tag: Some(t) } => write!(f, "oci:{}:{t}", dir.display()),
            BaseSpec::Layout { dir, tag: None } => write!(f, "oci:{}", dir.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(
        "cannot read the base layout {dir}: {reason}. An OCI layout holds index.json, oci-layout \
         and blobs/; save one with `gopack pull REF oci:DIR` or `skopeo copy docker://REF oci:DIR`"
    )]
    Layout { dir: PathBuf, reason: String },
    #[error(
        "base image {base} has no image for {platform} (it has: {available}); gopack does not \
         build for a platform its base cannot serve. Build --platform {available}, or choose a \
         base that is an image index with {platform}"
    )]
    NoPlatform {
        base: String,
        platform: Platform,
        available: String,
    },
    #[error("cannot read layer {digest} of base image {base}: {reason}")]
    Layer {
        base: String,
        digest: Digest,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
}

/// A base resolved to images whose blobs are in the store.
#[derive(Clone, Debug)]
pub struct BaseImage {
    /// The base as the user named it (for `org.opencontainers.image.base.name`).
    pub name: String,
    pub images: Vec<Image>,
}

/// Pulls or reads the base for the given platforms. Scratch gives `None`.
pub fn resolve(
    spec: &BaseSpec,
    store: &BlobStore,
    platforms: &[Platform],
    registry: &RegistryOptions,
) -> Result<Option<BaseImage>, BaseError> {
    match spec {
        BaseSpec::Scratch => Ok(None),
        BaseSpec::Registry(reference) => {
            let client = RegistryClient::new(registry.clone())?;
            let pulled = client.pull(store, reference, platforms)?;
            Ok(Some(BaseImage {
                name: reference.to_string(),
                images: pulled.images,
            }))
        }
        BaseSpec::Layout { dir, tag } => {
            let images = read_layout(store, dir, tag.as_deref())?;
            Ok(Some(BaseImage {
                name: spec.to_string(),
                images,
            }))
        }
    }
}

impl BaseImage {
    /// The base image for `platform`, matched as containerd does (variant normalised; a base
    /// without a variant serves any variant of its architecture).
    pub fn for_platform(&self, platform: &Platform) -> Result<&Image, BaseError> {
        let exact = self.images.iter().find(|i| &i.platform == platform);
        let loose = || {
            self.images.iter().find(|i| {
                i.platform.os == platform.os
                    && i.platform.architecture == platform.architecture
                    && (i.platform.variant.is_none() || platform.variant.is_none())
            })
        };
        exact.or_else(loose).ok_or_else(|| BaseError::NoPlatform {
            base: self.name.clone(),
            platform: platform.clone(),
            available: self
                .images
                .iter()
                .map(|i| i.platform.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

fn layout_err(dir: &Path, reason: impl fmt::Display) -> BaseError {
    BaseError::Layout {
        dir: dir.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads the image (or index) named `tag` (or the only one) from an OCI layout, copying and
/// verifying its blobs into the store.
pub fn read_layout(
    store: &BlobStore,
    dir: &Path,
    tag: Option<&str>,
) -> Result<Vec<Image>, BaseError> {
    let index_bytes = std::fs::read(dir.join("index.json"))
        .map_err(|e| layout_err(dir, format!("index.json: {e}")))?;
    let index: ImageIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| layout_err(dir, format!("index.json: {e}")))?;
    let name = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .cloned()
    };
    let chosen = match tag {
        Some(t) => index
            .manifests
            .iter()
            .find(|d| name(d).as_deref() == Some(t)),
        None if index.manifests.len() == 1 => index.manifests.first(),
        None => None,
    }
    .ok_or_else(|| {
        let names: Vec<String> = index.manifests.iter().filter_map(name).collect();
        layout_err(
            dir,
            format!(
                "no image {} in it (names: {}); add :TAG",
                tag.unwrap_or("without a tag"),
                names.join(", ")
            ),
        )
    })?;
    let import = |digest: &Digest| -> Result<Vec<u8>, BaseError> {
        if !store.contains(digest) {
            let path = dir.join("blobs/sha256").join(digest.hex());
            let mut file = std::fs::File::open(&path)
                .map_err(|e| layout_err(dir, format!("blob {digest}: {e}")))?;
            store.put_verified(digest, &mut file)?;
        }
        Ok(store.read_blob(digest)?)
    };
    let mut images = Vec::new();
    let top = import(&chosen.digest)?;
    let manifests: Vec<(Descriptor, Vec<u8>)> = if is_index(&chosen.media_type) {
        let index: ImageIndex = serde_json::from_slice(&top)
            .map_err(|e| layout_err(dir, format!("index {}: {e}", chosen.digest)))?;
        index
            .manifests
            .into_iter()
            .filter(|d| is_manifest(&d.media_type))
            .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
            .map(|d| import(&d.digest).map(|b| (d, b)))
            .collect::<Result<_, _>>()?
    } else {
        vec![(chosen.clone(), top)]
    };
    for (descriptor, bytes) in manifests {
        let manifest: ImageManifest = serde_json::from_slice(&bytes)
            .map_err(|e| layout_err(dir, format!("manifest {}: {e}", descriptor.digest)))?;
        let config_bytes = import(&manifest.config.digest)?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| layout_err(dir, format!("config {}: {e}", manifest.config.digest)))?;
        for layer in &manifest.layers {
            import(&layer.digest)?;
        }
        let platform = Platform {
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
        };
        images.push(Image {
            platform,
            config,
            config_descriptor: manifest.config.clone(),
            manifest,
            manifest_digest: descriptor.digest.clone(),
            manifest_bytes: bytes,
        });
    }
    Ok(images)
}

fn is_index(media_type: &str) -> bool {
    media_type == MEDIA_TYPE_INDEX || media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST
}

fn is_manifest(media_type: &str) -> bool {
    media_type == MEDIA_TYPE_MANIFEST || media_type == MEDIA_TYPE_DOCKER_MANIFEST
}

/// The file system a base image's layers add up to: paths, and where symlinks point.
#[derive(Clone, Debug, Default)]
pub struct BaseFileSystem {
    entries: BTreeSet<String>,
    symlinks: BTreeMap<String, String>,
}

impl BaseFileSystem {
    /// Reads every layer's tar listing in order, applying whiteouts.
    pub fn read(store: &BlobStore, image: &Image, base: &str) -> Result<BaseFileSystem, BaseError> {
        let mut fs = BaseFileSystem::default();
        for layer in &image.manifest.layers {
            let err = |reason: String| BaseError::Layer {
                base: base.into(),
                digest: layer.digest.clone(),
                reason,
            };
            let blob = store.open_blob(&layer.digest)?;
            let reader: Box<dyn Read> = if layer.media_type.ends_with("zstd") {
                Box::new(zstd::stream::read::Decoder::new(blob).map_err(|e| err(e.to_string()))?)
            } else if layer.media_type.ends_with("gzip") || layer.media_type.ends_with(".gzip") {
                Box::new(flate2::read::GzDecoder::new(blob))
            } else {
                Box::new(blob)
            };
            let mut archive = tar::Archive::new(reader);
            for entry in archive.entries().map_err(|e| err(e.to_string()))? {
                let entry = entry.map_err(|e| err(e.to_string()))?;
                let path = normalise(
                    &entry
                        .path()
                        .map_err(|e| err(e.to_string()))?
                        .to_string_lossy(),
                );
                let (parent, file) = path.rsplit_once('/').unwrap_or(("", &path));
                if file == ".wh..wh..opq" {
                    let prefix = format!("{parent}/");
                    fs.entries.retain(|p| !p.starts_with(&prefix));
                    fs.symlinks.retain(|p, _| !p.starts_with(&prefix));
                    continue;
                }
                if let Some(hidden) = file.strip_prefix(".wh.") {
                    let gone = if parent.is_empty() {
                        hidden.to_string()
                    } else {
                        format!("{parent}/{hidden}")
                    };
                    let prefix = format!("{gone}/");
                    fs.entries.retain(|p| p != &gone && !p.starts_with(&prefix));
                    fs.symlinks
                        .retain(|p, _| p != &gone && !p.starts_with(&prefix));
                    continue;
                }
                if entry.header().entry_type().is_symlink() {
                    if let Ok(Some(target)) = entry.link_name() {
                        fs.symlinks
                            .insert(path.clone(), target.to_string_lossy().into_owned());
                    }
                } else {
                    fs.symlinks.remove(&path);
                }
                fs.entries.insert(path);
            }
        }
        Ok(fs)
    }

    /// Whether `path` exists, following symlinks in every component (at most 40, like Linux).
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path, 0)
            .is_some_and(|p| p.is_empty() || self.entries.contains(&p))
    }

    fn resolve(&self, path: &str, depth: usize) -> Option<String> {
        if depth > 40 {
            return None;
        }
        let mut resolved = String::new();
        let normalised = normalise(path);
        for part in normalised.split('/').filter(|p| !p.is_empty()) {
            let candidate = if resolved.is_empty() {
                part.to_string()
            } else {
                format!("{resolved}/{part}")
            };
            match self.symlinks.get(&candidate) {
                Some(target) => {
                    let joined = if target.starts_with('/') {
                        target.clone()
                    } else {
                        format!("{resolved}/{target}")
                    };
                    resolved = self.resolve(&joined, depth + 1)?;
                }
                None => resolved = candidate,
            }
        }
        Some(resolved)
    }
}

/// `./usr/lib/` → `usr/lib`, with `.` and `..` folded.
fn normalise(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
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
mod tests {
    use super::*;

    fn fs(entries: &[&str], links: &[(&str, &str)]) -> BaseFileSystem {
        BaseFileSystem {
            entries: entries
                .iter()
                .map(|s| s.to_string())
                .chain(links.iter().map(|(p, _)| p.to_string()))
                .collect(),
            symlinks: links
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        }
    }

    #[test]
    fn symlinked_directories_are_followed() {
        let f = fs(
            &[
                "usr",
                "usr/lib",
                "usr/lib/libc.so.6",
                "usr/lib64",
                "usr/lib64/ld-linux-x86-64.so.2",
            ],
            &[("lib", "usr/lib"), ("lib64", "/usr/lib64")],
        );
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
        let f = fs(&[], &[("a", "b"), ("b", "a")]);
        assert!(!f.exists("a/x"));
    }

    fn image_with_layer(store: &BlobStore, blob: &[u8], media_type: &str) -> Image {
        let (digest, size) = store.put_bytes(blob).unwrap();
        let config = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..ImageConfig::default()
        };
        let (config_digest, config_size) = store
            .put_bytes(&serde_json::to_vec(&config).unwrap())
            .unwrap();
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_MANIFEST.into()),
            config: Descriptor::new(
                crate::oci::MEDIA_TYPE_CONFIG,
                config_digest.clone(),
                config_size,
            ),
            layers: vec![Descriptor::new(media_type, digest, size)],
            annotations: None,
        };
        Image {
            platform: Platform::linux("amd64"),
            config,
            config_descriptor: Descriptor::new(
                crate::oci::MEDIA_TYPE_CONFIG,
                config_digest,
                config_size,
            ),
            manifest_bytes: serde_json::to_vec(&manifest).unwrap(),
            manifest_digest: Digest::of(b"m"),
            manifest,
        }
    }

    proptest::proptest! {
        #[test]
        fn garbage_layers_are_errors_not_panics(blob in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), kind in 0usize..3) {
            let dir = tempfile::tempdir().unwrap();
            let store = BlobStore::open(dir.path()).unwrap();
            let media_type = [crate::oci::MEDIA_TYPE_LAYER_GZIP, crate::oci::MEDIA_TYPE_LAYER_ZSTD, crate::oci::MEDIA_TYPE_LAYER_TAR][kind];
            let image = image_with_layer(&store, &blob, media_type);
            let _ = BaseFileSystem::read(&store, &image, "fuzz");
        }
    }

    #[test]
    fn whiteouts_remove_what_lower_layers_added() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let tar = |names: &[&str]| {
            let mut b = tar::Builder::new(Vec::new());
            for n in names {
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, n, std::io::empty()).unwrap();
            }
            b.into_inner().unwrap()
        };
        let mut image = image_with_layer(
            &store,
            &tar(&["etc/passwd", "etc/group", "opt/a/x"]),
            crate::oci::MEDIA_TYPE_LAYER_TAR,
        );
        let (d, n) = store
            .put_bytes(&tar(&["etc/.wh.passwd", "opt/a/.wh..wh..opq"]))
            .unwrap();
        image
            .manifest
            .layers
            .push(Descriptor::new(crate::oci::MEDIA_TYPE_LAYER_TAR, d, n));
        let fs = BaseFileSystem::read(&store, &image, "test").unwrap();
        assert!(!fs.exists("/etc/passwd") && fs.exists("/etc/group") && !fs.exists("/opt/a/x"));
    }

    #[test]
    fn a_broken_layout_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("store")).unwrap();
        std::fs::write(dir.path().join("index.json"), b"{not json").unwrap();
        let err = read_layout(&store, dir.path(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("index.json"), "{err}");
    }

    #[test]
    fn base_specs_parse() {
        assert_eq!("scratch".parse::<BaseSpec>().unwrap(), BaseSpec::Scratch);
        assert_eq!(
            "oci:./bases/static:v1".parse::<BaseSpec>().unwrap(),
            BaseSpec::Layout {
                dir: "./bases/static".into(),
                tag: Some("v1".into())
            }
        );
        assert!(matches!(
            "gcr.io/distroless/static-debian12:nonroot"
                .parse::<BaseSpec>()
                .unwrap(),
            BaseSpec::Registry(_)
        ));
        assert!("oci:".parse::<BaseSpec>().is_err());
    }
}
