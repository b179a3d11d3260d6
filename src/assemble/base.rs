//! What gopack reads from a base image for one platform: its file system (paths and links, from
//! `base`), and the few files whose content it must extend — the CA bundle (for `--ca-file`),
//! /etc/passwd and /etc/group (for the run user). Reading streams each layer once, keeps only
//! the wanted files (each at most [`MAX_FILE`] bytes) and applies whiteouts.

use std::collections::BTreeMap;
use std::io::Read;

use crate::base::{BaseError, BaseFileSystem, BaseImage};
use crate::oci::tree::LayerFailure;
use crate::oci::{
    BlobStore, FileType, Image, LayerReadError, Platform, SourceError, StoreBlobs, TarLimits,
    open_layer, tar_reader::TarError,
};
use crate::plan::UserPlan;
use crate::plan::files::BaseProvides;
use crate::rootfs::{CA_BUNDLE_PATH, ZONEINFO_DIR};

/// A wanted file larger than this is refused (a CA bundle is ~200 KB; passwd a few KB).
const MAX_FILE: u64 = 16 << 20;

/// Paths Go's crypto/x509 reads a CA bundle from on Linux (go-facts §7), in its order.
const CA_FILES: &[&str] = &[
    CA_BUNDLE_PATH,
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// One platform's base image, as far as the build needs to know it.
#[derive(Clone, Debug)]
pub struct BaseView {
    /// The base as the user named it.
    pub name: String,
    /// The name recorded in `org.opencontainers.image.base.name` (see
    /// [`super::config::stable_base_name`]).
    pub recorded_name: Option<String>,
    /// The base's image for this platform (config, manifest, layers in the store).
    pub image: Image,
    /// Its paths and symlinks, whiteouts applied.
    pub fs: BaseFileSystem,
    /// Where the base keeps its CA bundle (its SSL_CERT_FILE, else the first of Go's list).
    pub ca_bundle: Option<String>,
    /// Contents of the base's files gopack may extend (CA bundle, /etc/passwd, /etc/group).
    files: BTreeMap<String, Vec<u8>>,
}

impl BaseView {
    /// Reads the base image for `platform`.
    pub fn read(
        store: &BlobStore,
        base: &BaseImage,
        platform: &Platform,
    ) -> Result<BaseView, BaseError> {
        let image = base.for_platform(platform)?.clone();
        let fs = BaseFileSystem::read(store, &image, &base.name)?;
        let ssl_cert_file = image
            .config
            .config
            .env
            .iter()
            .flatten()
            .find_map(|e| e.strip_prefix("SSL_CERT_FILE="))
            .map(str::to_string);
        let ca_bundle = ssl_cert_file
            .into_iter()
            .chain(CA_FILES.iter().map(|p| p.to_string()))
            .find(|p| fs.exists(p));
        let mut wanted = vec!["/etc/passwd".to_string(), "/etc/group".to_string()];
        wanted.extend(ca_bundle.clone());
        let files = read_files(store, &image, &base.name, &fs, &wanted)?;
        Ok(BaseView {
            name: base.name.clone(),
            recorded_name: None,
            image,
            fs,
            ca_bundle,
            files,
        })
    }

    /// The content of a file read from the base (CA bundle, /etc/passwd, /etc/group).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files
            .get(path.trim_start_matches('/'))
            .map(Vec::as_slice)
    }

    /// What the base provides of gopack's base files, for `user`.
    pub fn provides(&self, user: &UserPlan) -> BaseProvides {
        let passwd = self.file("/etc/passwd").map(String::from_utf8_lossy);
        BaseProvides {
            ca_bundle: self.ca_bundle.clone(),
            zoneinfo: self.fs.exists(ZONEINFO_DIR),
            user_database: self.fs.exists("/etc/passwd") && self.fs.exists("/etc/group"),
            knows_user: passwd.is_some_and(|p| user.known_in(&p)),
            tmp: self.fs.exists("/tmp"),
        }
    }

    /// The run user, resolved against the base's /etc/passwd.
    pub fn resolve_user(&self, user: &UserPlan) -> UserPlan {
        match self.file("/etc/passwd") {
            Some(passwd) => user.with_base_passwd(&String::from_utf8_lossy(passwd)),
            None => user.clone(),
        }
    }
}

/// The contents of `wanted` (absolute paths) in the merged image, symlinks and hard links
/// followed through the base's tree. Each file is read from the one layer that last wrote it,
/// by streaming that layer with the bounded reader; files over [`MAX_FILE`] are refused.
fn read_files(
    store: &BlobStore,
    image: &Image,
    base: &str,
    fs: &BaseFileSystem,
    wanted: &[String],
) -> Result<BTreeMap<String, Vec<u8>>, BaseError> {
    let tree = fs.tree();
    // layer index → (real path in that layer → the wanted paths it answers)
    let mut by_layer: BTreeMap<u32, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for asked in wanted {
        let mut id = tree.lookup(asked);
        for _ in 0..8 {
            let Some(node) = id else { break };
            let info = tree.info(node);
            match (info.file_type, info.link_target.as_deref()) {
                (FileType::Hardlink, Some(target)) => id = tree.lookup(target),
                (FileType::Regular, _) => {
                    by_layer
                        .entry(info.layer)
                        .or_default()
                        .entry(tree.path(node))
                        .or_default()
                        .push(asked.trim_start_matches('/').to_string());
                    break;
                }
                _ => break,
            }
        }
    }
    let mut found = BTreeMap::new();
    for (layer, paths) in by_layer {
        let Some(descriptor) = image.manifest.layers.get(layer as usize) else {
            continue;
        };
        let err = |error: LayerReadError| BaseError::Layer {
            base: base.to_string(),
            failure: Box::new(LayerFailure {
                index: layer as usize,
                digest: descriptor.digest.clone(),
                origin: format!("the base image {base}"),
                error: Box::new(error),
            }),
        };
        let mut reader =
            open_layer(&StoreBlobs(store), descriptor, TarLimits::default()).map_err(err)?;
        while let Some(mut entry) = reader.next_entry().map_err(err)? {
            let Some(askers) = paths.get(&entry.path) else {
                continue;
            };
            if entry.file_type != FileType::Regular {
                continue;
            }
            if entry.size > MAX_FILE {
                return Err(BaseError::Source(SourceError::Invalid {
                    origin: format!("the base image {base}"),
                    reason: format!(
                        "/{} is {} bytes; gopack reads at most {MAX_FILE} bytes of it",
                        entry.path, entry.size
                    ),
                }));
            }
            let mut bytes = Vec::with_capacity(entry.size as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| err(LayerReadError::Tar(TarError::Io(e))))?;
            for asked in askers {
                found.insert(asked.clone(), bytes.clone());
            }
        }
    }
    Ok(found)
}
