//! What gopack reads from a base image for one platform: its file system (paths and links, from
//! `base`), and the few files whose content it must extend — the CA bundle (for `--ca-file`),
//! /etc/passwd and /etc/group (for the run user). Reading streams each layer once, keeps only
//! the wanted files (each at most [`MAX_FILE`] bytes) and applies whiteouts.

use std::collections::BTreeMap;
use std::io::Read;

use crate::base::{BaseError, BaseFileSystem, BaseImage};
use crate::oci::{BlobStore, Image, Platform};
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
        let files = read_files(store, &image, &base.name, &wanted)?;
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

fn normalise(path: &str) -> String {
    path.trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// The contents of `wanted` (absolute paths) in the image's layers, last layer winning, with
/// whiteouts applied. A wanted path that is a symlink is followed (to a bounded depth).
fn read_files(
    store: &BlobStore,
    image: &Image,
    base: &str,
    wanted: &[String],
) -> Result<BTreeMap<String, Vec<u8>>, BaseError> {
    let mut found = BTreeMap::new();
    let mut targets: Vec<(String, String)> = wanted
        .iter()
        .map(|w| (normalise(w), normalise(w)))
        .collect();
    for _ in 0..8 {
        let paths: Vec<String> = targets.iter().map(|(_, real)| real.clone()).collect();
        let (files, links) = scan_layers(store, image, base, &paths)?;
        let mut next = Vec::new();
        for (asked, real) in targets {
            match (files.get(&real), links.get(&real)) {
                (Some(bytes), _) => {
                    found.insert(asked, bytes.clone());
                }
                (None, Some(target)) => {
                    let joined = if target.starts_with('/') {
                        normalise(target)
                    } else {
                        let parent = real.rsplit_once('/').map_or("", |(p, _)| p);
                        normalise(&format!("{parent}/{target}"))
                    };
                    next.push((asked, joined));
                }
                (None, None) => {}
            }
        }
        if next.is_empty() {
            break;
        }
        targets = next;
    }
    Ok(found)
}

type Scanned = (BTreeMap<String, Vec<u8>>, BTreeMap<String, String>);

/// One pass over every layer: the contents of `paths` and the symlinks among them.
fn scan_layers(
    store: &BlobStore,
    image: &Image,
    base: &str,
    paths: &[String],
) -> Result<Scanned, BaseError> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    for layer in &image.manifest.layers {
        let err = |reason: String| BaseError::Layer {
            base: base.into(),
            digest: layer.digest.clone(),
            reason,
        };
        let blob = store.open_blob(&layer.digest)?;
        let reader: Box<dyn Read> = if layer.media_type.ends_with("zstd") {
            Box::new(zstd::stream::read::Decoder::new(blob).map_err(|e| err(e.to_string()))?)
        } else if layer.media_type.ends_with("gzip") {
            Box::new(flate2::read::GzDecoder::new(blob))
        } else {
            Box::new(blob)
        };
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(|e| err(e.to_string()))? {
            let mut entry = entry.map_err(|e| err(e.to_string()))?;
            let path = normalise(
                &entry
                    .path()
                    .map_err(|e| err(e.to_string()))?
                    .to_string_lossy(),
            );
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", &path));
            if name == ".wh..wh..opq" || name.starts_with(".wh.") {
                let gone = match name.strip_prefix(".wh.").filter(|n| *n != ".wh..opq") {
                    Some(hidden) if parent.is_empty() => hidden.to_string(),
                    Some(hidden) => format!("{parent}/{hidden}"),
                    None => parent.to_string(),
                };
                let under = format!("{gone}/");
                files.retain(|p, _| *p != gone && !p.starts_with(&under));
                links.retain(|p, _| *p != gone && !p.starts_with(&under));
                continue;
            }
            if !paths.contains(&path) {
                continue;
            }
            files.remove(&path);
            links.remove(&path);
            if entry.header().entry_type().is_symlink() {
                if let Ok(Some(target)) = entry.link_name() {
                    links.insert(path, target.to_string_lossy().into_owned());
                }
            } else if entry.header().entry_type().is_file() {
                if entry.size() > MAX_FILE {
                    return Err(err(format!("{path} is larger than {MAX_FILE} bytes")));
                }
                let mut bytes = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| err(e.to_string()))?;
                files.insert(path, bytes);
            }
        }
    }
    Ok((files, links))
}
