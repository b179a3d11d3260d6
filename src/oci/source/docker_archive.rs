//! `docker-archive:FILE[:REF]`: what `docker save` and `skopeo copy … docker-archive:` write.
//! Its truth is `manifest.json` (`[{"Config", "RepoTags", "Layers"}]`, Docker's image spec
//! "combined image JSON + filesystem changeset format"): a config file and layer tars by path.
//!
//! Such an archive has no manifest of its own, so gopack derives one — an OCI manifest whose
//! config is the archive's config bytes (same digest) and whose layers are the archive's layer
//! files with the media type their first bytes show (`docker save` and skopeo write uncompressed
//! tars, whose digest is the config's diff_id). When the archive also carries an OCI layout
//! (Docker ≥ 25, and gopack's own archives), the manifest in it whose config matches is used
//! instead, so the manifest digest survives.
#![warn(missing_docs)]

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::archive::ArchiveIndex;
use super::{ImageSource, Limits, SourceError, check_len, parse_json, read_blob};
use crate::oci::media::{LayerCompression, MediaKind, classify};
use crate::oci::{
    Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest, MEDIA_TYPE_CONFIG,
    MEDIA_TYPE_MANIFEST,
};
use crate::registry::Reference;
use crate::text::printable;

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A docker-archive, read in place.
#[derive(Debug)]
pub struct DockerArchiveSource {
    archive: ArchiveIndex,
    origin: String,
    /// The manifest the image is read through (derived, or the archive's own).
    top: Descriptor,
    /// A derived manifest's bytes (absent when the archive's own manifest is used).
    derived: Option<Vec<u8>>,
    /// Archive member holding each blob, by digest.
    paths: HashMap<Digest, String>,
}

impl DockerArchiveSource {
    /// Indexes the archive at `file` and picks the image `reference` names in `RepoTags` (or
    /// the only image). Reads `manifest.json` and the config; layers are not read, except the
    /// first bytes of each to see its compression.
    pub fn open(
        file: &Path,
        reference: Option<Reference>,
        limits: Limits,
    ) -> Result<DockerArchiveSource, SourceError> {
        let origin = match &reference {
            Some(r) => format!("docker-archive:{}:{r}", file.display()),
            None => format!("docker-archive:{}", file.display()),
        };
        let archive = ArchiveIndex::open(file, &origin, &limits)?;
        let invalid = |reason: String| SourceError::Invalid {
            origin: origin.clone(),
            reason,
        };
        if !archive.contains("manifest.json") {
            return Err(invalid(
                "it has no manifest.json, so it is not a docker-archive; for a tar of an OCI \
                 layout use oci-archive:FILE"
                    .into(),
            ));
        }
        let what = format!("manifest.json of {origin}");
        let bytes = archive.read_member("manifest.json", limits.max_index, &what, "an index")?;
        let entries: Vec<Entry> = parse_json(&bytes, &what, "docker-archive manifest.json")?;
        let entry = select(&entries, reference.as_ref()).map_err(invalid)?;
        let mut source = DockerArchiveSource {
            archive,
            origin: origin.clone(),
            top: Descriptor::new(MEDIA_TYPE_MANIFEST, Digest::of(b""), 0),
            derived: None,
            paths: HashMap::new(),
        };
        let config_what = format!("config {} of {origin}", printable(&entry.config, 100));
        let config_bytes = source.archive.read_member(
            &entry.config,
            limits.max_config,
            &config_what,
            "a config",
        )?;
        let config_digest = Digest::of(&config_bytes);
        source
            .paths
            .insert(config_digest.clone(), entry.config.clone());
        if let Some(found) = source.own_manifest(&config_digest, &limits) {
            source.top = found;
            return Ok(source);
        }
        let config: ImageConfig = parse_json(&config_bytes, &config_what, "image config")?;
        source.derive(entry, &config, config_digest, config_bytes.len() as u64)?;
        Ok(source)
    }

    /// The manifest of the archive's OCI layout whose config is `config`, if it has one.
    fn own_manifest(&self, config: &Digest, limits: &Limits) -> Option<Descriptor> {
        if !self.archive.contains("index.json") || !self.archive.contains("oci-layout") {
            return None;
        }
        let bytes = self
            .archive
            .read_member("index.json", limits.max_index, "index.json", "an index")
            .ok()?;
        let index: ImageIndex = serde_json::from_slice(&bytes).ok()?;
        let mut queue: Vec<(Descriptor, usize)> =
            index.manifests.into_iter().map(|d| (d, 0)).collect();
        let mut seen = 0;
        while let Some((d, depth)) = queue.pop() {
            seen += 1;
            if seen > limits.max_manifests {
                return None;
            }
            let path = format!("blobs/sha256/{}", d.digest.hex());
            self.archive.contains(&path).then_some(())?;
            let lookup = LayoutBlobs(self);
            match classify(&d.media_type) {
                Some(MediaKind::Index) if depth < limits.max_depth => {
                    let bytes = read_blob(&lookup, &d, limits.max_index, "an index").ok()?;
                    let nested: ImageIndex = serde_json::from_slice(&bytes).ok()?;
                    queue.extend(nested.manifests.into_iter().map(|n| (n, depth + 1)));
                }
                Some(MediaKind::Manifest) => {
                    let bytes = read_blob(&lookup, &d, limits.max_manifest, "a manifest").ok()?;
                    let m: ImageManifest = serde_json::from_slice(&bytes).ok()?;
                    if &m.config.digest == config {
                        let mut top = d.clone();
                        top.annotations = None;
                        top.platform = None;
                        return Some(top);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Builds the manifest the archive implies.
    fn derive(
        &mut self,
        entry: &Entry,
        config: &ImageConfig,
        config_digest: Digest,
        config_size: u64,
    ) -> Result<(), SourceError> {
        let mut layers = Vec::new();
        for (i, path) in entry.layers.iter().enumerate() {
            let what = format!(
                "layer {} ({}) of {}",
                i + 1,
                printable(path, 100),
                self.origin
            );
            let (mut reader, size) = self.archive.open_member(path, &what)?;
            let mut head = [0u8; 4];
            let n = read_up_to(&mut reader, &mut head).map_err(|error| SourceError::Io {
                what: what.clone(),
                error,
            })?;
            let compression = LayerCompression::sniff(&head[..n]);
            let digest = match (blob_name(path), config.rootfs.diff_ids.get(i)) {
                (Some(d), _) => d,
                (None, Some(diff_id)) if compression == LayerCompression::None => diff_id.clone(),
                _ => self.hash_member(path, &what)?,
            };
            self.paths.insert(digest.clone(), path.clone());
            layers.push(Descriptor::new(compression.oci_media_type(), digest, size));
        }
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_MANIFEST.into()),
            config: Descriptor::new(MEDIA_TYPE_CONFIG, config_digest, config_size),
            layers,
            annotations: None,
        };
        let bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
        self.top = Descriptor::new(MEDIA_TYPE_MANIFEST, Digest::of(&bytes), bytes.len() as u64);
        self.derived = Some(bytes);
        Ok(())
    }

    fn hash_member(&self, path: &str, what: &str) -> Result<Digest, SourceError> {
        let (mut reader, _) = self.archive.open_member(path, what)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = reader.read(&mut buf).map_err(|error| SourceError::Io {
                what: what.to_string(),
                error,
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Digest::from_sha256(hasher.finalize().as_slice()))
    }
}

/// Blob lookup in the archive's own OCI layout part (`blobs/sha256/<hex>`), used to find its
/// manifest with the usual verified reads.
struct LayoutBlobs<'a>(&'a DockerArchiveSource);

impl ImageSource for LayoutBlobs<'_> {
    fn name(&self) -> String {
        self.0.origin.clone()
    }
    fn top(&self) -> Result<Descriptor, SourceError> {
        Ok(self.0.top.clone())
    }
    fn open_raw(&self, d: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        let what = format!("blob {} of {}", d.digest.short(), self.0.origin);
        let (reader, size) = self
            .0
            .archive
            .open_member(&format!("blobs/sha256/{}", d.digest.hex()), &what)?;
        check_len(&what, d, size)?;
        Ok(Box::new(reader))
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = r.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The digest a member's path names: `blobs/sha256/<hex>` (Docker ≥ 25) or `<hex>.tar` (skopeo).
fn blob_name(path: &str) -> Option<Digest> {
    let name = path.rsplit('/').next()?;
    let hex = name.strip_suffix(".tar").unwrap_or(name);
    let by_layout = path.trim_start_matches("./").starts_with("blobs/sha256/");
    if !by_layout && !name.ends_with(".tar") {
        return None;
    }
    format!("sha256:{hex}").parse().ok()
}

/// The `manifest.json` entry `reference` names in its `RepoTags`, or the only entry.
fn select<'e>(entries: &'e [Entry], reference: Option<&Reference>) -> Result<&'e Entry, String> {
    let tags = |e: &Entry| e.repo_tags.clone().unwrap_or_default();
    let all: Vec<String> = entries
        .iter()
        .flat_map(tags)
        .map(|t| printable(&t, 100))
        .collect();
    let listed = if all.is_empty() {
        "no tagged images".to_string()
    } else {
        all.join(", ")
    };
    match reference {
        None if entries.len() == 1 => Ok(&entries[0]),
        None if entries.is_empty() => Err("its manifest.json lists no image".into()),
        None => Err(format!(
            "it has {} entries; name one as docker-archive:FILE:REF (it has: {listed})",
            entries.len()
        )),
        Some(wanted) => entries
            .iter()
            .find(|e| {
                tags(e).iter().any(|t| {
                    t.parse::<Reference>().is_ok_and(|r| {
                        r.registry == wanted.registry
                            && r.repository == wanted.repository
                            && r.tag.as_deref().unwrap_or("latest")
                                == wanted.tag.as_deref().unwrap_or("latest")
                    })
                })
            })
            .ok_or_else(|| format!("it has no image tagged {wanted} (it has: {listed})")),
    }
}

impl ImageSource for DockerArchiveSource {
    fn name(&self) -> String {
        self.origin.clone()
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        Ok(self.top.clone())
    }

    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        if let Some(bytes) = &self.derived
            && descriptor.digest == self.top.digest
        {
            return Ok(Box::new(io::Cursor::new(bytes.clone())));
        }
        let what = format!("blob {} of {}", descriptor.digest.short(), self.origin);
        let path = match self.paths.get(&descriptor.digest) {
            Some(p) => p.clone(),
            None => format!("blobs/sha256/{}", descriptor.digest.hex()),
        };
        let (reader, size) = self.archive.open_member(&path, &what)?;
        check_len(&what, descriptor, size)?;
        Ok(Box::new(reader))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_names() {
        let hex = "a".repeat(64);
        assert!(blob_name(&format!("blobs/sha256/{hex}")).is_some());
        assert!(blob_name(&format!("{hex}.tar")).is_some());
        assert!(blob_name(&format!("{hex}/layer.tar")).is_none());
        assert!(blob_name("x.tar").is_none());
    }
}
