//! OCI image layouts (image-spec `image-layout.md`) as multi-image stores, the way skopeo and
//! umoci treat them: writing `oci:DIR:TAG` adds blobs and moves only the names it writes in
//! `index.json` (an entry whose `org.opencontainers.image.ref.name` is one of them is replaced);
//! every other entry and blob stays. [`gc_layout`] removes blobs no entry reaches.
//!
//! Write order (each file written to a temp name, flushed, renamed; directories flushed after):
//! 1. a new layout is assembled in a staging directory beside DIR and renamed to DIR whole;
//! 2. an existing one is locked (`DIR/.gopack.lock`, `flock(2)`: concurrent writers take turns;
//!    the kernel releases it if a writer dies), temp files of dead writers are removed, blobs
//!    are added (hard links to the store when possible), and `index.json` is replaced last.
//!
//! So readers always see an `index.json` whose blobs are all present, and a crash at any point
//! leaves the previous `index.json` in force.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::fsutil::{self, FileLock, LOCK_FILE};
use crate::oci::{
    ANNOTATION_REF_NAME, BlobStore, Descriptor, Digest, ImageIndex, MEDIA_TYPE_INDEX,
};

use super::naming::{check_layout_tags, layout_names};
use super::{ImageSet, ImageSink, Published, SinkError, check_creatable, export_err, write_err};

/// The `oci-layout` file's content.
pub(super) const OCI_LAYOUT_FILE: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// How long a write waits for another writer of the same layout before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// Largest manifest or index [`gc_layout`] reads while following references.
const MAX_DOCUMENT: u64 = 4 << 20;

/// Writes to an OCI layout directory (`oci:DIR[:TAG]`).
#[derive(Clone, Debug)]
pub struct LayoutSink {
    dir: PathBuf,
    tags: Vec<String>,
}

impl LayoutSink {
    /// A sink writing under `tags` (see [`ImageSink`] docs in the module for the naming);
    /// refuses a tag that is not a valid ref name.
    pub fn new(dir: PathBuf, tags: Vec<String>) -> Result<LayoutSink, SinkError> {
        check_layout_tags(&tags)?;
        Ok(LayoutSink { dir, tags })
    }
}

impl ImageSink for LayoutSink {
    fn destination(&self) -> String {
        format!("oci:{}", self.dir.display())
    }

    fn check(&self, _platforms: usize) -> Result<(), SinkError> {
        check_target(&self.dir)
    }

    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        let names = layout_names(sets, &self.tags);
        let mut entries = Vec::new();
        for (set, names) in sets.iter().zip(&names) {
            for name in names {
                entries.push(named_descriptor(set, name));
            }
        }
        let blobs: BTreeSet<Digest> = sets.iter().flat_map(ImageSet::blobs).collect();
        update_layout(store, &self.dir, &blobs, &entries, status)?;
        Ok(sets
            .iter()
            .zip(names)
            .map(|(set, names)| {
                let references: Vec<String> = names
                    .iter()
                    .map(|n| format!("oci:{}:{n}", self.dir.display()))
                    .collect();
                Published {
                    name: set.name.clone(),
                    digest: set.top_descriptor().digest,
                    pinned: references[0].clone(),
                    references,
                    push: None,
                }
            })
            .collect())
    }
}

/// The `index.json` entry naming `set` as `name` (a single manifest carries its platform, as
/// skopeo writes it).
pub(super) fn named_descriptor(set: &ImageSet, name: &str) -> Descriptor {
    let mut d = set.top_descriptor();
    if set.index.is_none() {
        d.platform = Some(set.images[0].platform.clone());
    }
    d.annotations = Some([(ANNOTATION_REF_NAME.to_string(), name.to_string())].into());
    d
}

/// Adds `referrers` (artifact manifests with a `subject`, blobs in the store) to the layout at
/// `dir` as unnamed `index.json` entries carrying their `artifactType` and annotations, the
/// way oras keeps referrers in a layout; an entry already listed (same digest) is not
/// repeated. Same locking and write order as an image write: blobs first, `index.json` last.
pub fn add_layout_referrers(
    store: &BlobStore,
    dir: &Path,
    referrers: &[crate::registry::referrers::Artifact],
    status: &dyn Fn(&str),
) -> Result<(), SinkError> {
    let mut blobs = BTreeSet::new();
    let mut entries = Vec::new();
    for artifact in referrers {
        let (digest, _) = store.put_bytes(&artifact.bytes)?;
        blobs.insert(digest);
        blobs.extend(artifact.blobs().into_iter().map(|d| d.digest));
        entries.push(artifact.referrer_descriptor());
    }
    update_layout(store, dir, &blobs, &entries, status)
}

/// Removes the unnamed SBOM referrer entries (SPDX or CycloneDX `artifactType`) whose subject
/// no named entry reaches any more (its name was moved to a new build), so they do not keep a
/// replaced image alive through [`gc_layout`]. Entries of other artifact types, and any entry
/// whose manifest cannot be read (or is larger than a document), stay; when a named index
/// cannot be read, nothing is dropped.
fn drop_stale_sboms(dir: &Path, index: &mut Value) {
    let Some(manifests) = index["manifests"].as_array_mut() else {
        return;
    };
    let read = |digest: &str| -> Option<Value> {
        let d: Digest = digest.parse().ok()?;
        let path = dir.join("blobs/sha256").join(d.hex());
        // Only documents are read: an entry pointing at a large blob is left alone.
        let meta = fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_DOCUMENT {
            return None;
        }
        serde_json::from_slice(&fs::read(&path).ok()?).ok()
    };
    let mut live = BTreeSet::new();
    for m in manifests.iter() {
        if m["annotations"][ANNOTATION_REF_NAME].is_null() {
            continue;
        }
        let Some(digest) = m["digest"].as_str() else {
            continue;
        };
        live.insert(digest.to_string());
        if m["mediaType"] == MEDIA_TYPE_INDEX {
            // An index that cannot be read hides which manifests are live: drop nothing.
            let Some(children) = read(digest).map(|i| i["manifests"].clone()) else {
                return;
            };
            for child in children.as_array().into_iter().flatten() {
                live.extend(child["digest"].as_str().map(str::to_string));
            }
        }
    }
    let sbom_types = [
        crate::sbom::MEDIA_TYPE_SPDX,
        crate::sbom::MEDIA_TYPE_CYCLONEDX,
    ];
    manifests.retain(|m| {
        let is_sbom = m["artifactType"]
            .as_str()
            .is_some_and(|t| sbom_types.contains(&t));
        if !is_sbom || !m["annotations"][ANNOTATION_REF_NAME].is_null() {
            return true;
        }
        let subject = m["digest"]
            .as_str()
            .and_then(read)
            .and_then(|a| a["subject"]["digest"].as_str().map(str::to_string));
        subject.is_none_or(|s| live.contains(&s))
    });
}

/// A fresh `index.json` listing `entries`.
pub(super) fn index_of(entries: &[Descriptor]) -> Vec<u8> {
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.into()),
        manifests: entries.to_vec(),
        annotations: None,
    };
    serde_json::to_vec(&index).expect("an index serialises")
}

/// Writes image sets into the layout at `dir` with the compatibility naming of earlier
/// versions: one set is named `tag` (default `latest`), several `<name>-<tag>` or `<name>`.
/// Other images in the layout stay. For `pull` and tests; builds go through [`super::publish`].
pub fn write_oci_layout(
    store: &BlobStore,
    dir: &Path,
    sets: &[ImageSet],
    tag: Option<&str>,
) -> Result<(), SinkError> {
    let tags: Vec<String> = tag.map(str::to_string).into_iter().collect();
    let sink = LayoutSink::new(dir.to_path_buf(), tags)?;
    sink.check(1)?;
    sink.write(store, sets, &|_| {}).map(drop)
}

/// Whether `dir` can take a layout write: missing (and creatable), or a directory holding only
/// layout parts (an empty one included).
fn check_target(dir: &Path) -> Result<(), SinkError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => check_creatable(dir),
        Err(e) => Err(write_err(dir)(e)),
        Ok(m) if !m.is_dir() => Err(SinkError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            check_only_layout_parts(dir)?;
            fsutil::dir_is_writable(dir).map_err(write_err(dir))
        }
    }
}

fn check_only_layout_parts(dir: &Path) -> Result<(), SinkError> {
    let foreign = foreign_entries(dir).map_err(write_err(dir))?;
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(SinkError::NotALayout {
            dir: dir.to_path_buf(),
            foreign,
        })
    }
}

/// Names in `dir` that are no part of an OCI layout or of gopack's bookkeeping in one
/// (at most 5, then `…`).
fn foreign_entries(dir: &Path) -> io::Result<Vec<String>> {
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        let ok = match name.as_str() {
            "oci-layout" | "index.json" => kind.is_file(),
            "blobs" => kind.is_dir() && blobs_are_layout_parts(&entry.path())?,
            LOCK_FILE => kind.is_file(),
            // Written by the build so git ignores the layout (issue 9, item 6).
            ".gitignore" => kind.is_file(),
            n => fsutil::is_temp_name(n),
        };
        if !ok {
            if foreign.len() == 5 {
                foreign.push("…".into());
                break;
            }
            foreign.push(name);
        }
    }
    foreign.sort();
    Ok(foreign)
}

fn blobs_are_layout_parts(blobs: &Path) -> io::Result<bool> {
    for entry in fs::read_dir(blobs)? {
        if !entry?.file_type()?.is_dir() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Adds `blobs` to the layout at `dir` (created when missing) and points each entry's ref
/// name at its descriptor, keeping every other entry.
fn update_layout(
    store: &BlobStore,
    dir: &Path,
    blobs: &BTreeSet<Digest>,
    entries: &[Descriptor],
    status: &dyn Fn(&str),
) -> Result<(), SinkError> {
    let parent = fsutil::parent_of(dir);
    fsutil::create_dirs(&parent).map_err(write_err(&parent))?;
    recover_legacy(dir, &parent, status)?;
    fsutil::remove_stale_temps(&parent).map_err(write_err(&parent))?;
    if !dir.exists() && create_layout(store, dir, blobs, entries)? {
        return Ok(());
    }
    check_target(dir)?;
    let _lock = FileLock::acquire(&dir.join(LOCK_FILE), LOCK_TIMEOUT, &|| {
        status(&format!(
            "waiting for another gopack writing {}",
            dir.display()
        ))
    })?;
    check_only_layout_parts(dir)?;
    for d in [dir.to_path_buf(), dir.join("blobs/sha256")] {
        fsutil::remove_stale_temps(&d).map_err(write_err(&d))?;
    }
    fill_layout(store, dir, blobs, entries)
}

/// Assembles a new layout in a staging directory beside `dir` and renames it into place.
/// `Ok(false)` when another writer created `dir` first (then the caller merges into it).
fn create_layout(
    store: &BlobStore,
    dir: &Path,
    blobs: &BTreeSet<Digest>,
    entries: &[Descriptor],
) -> Result<bool, SinkError> {
    let parent = fsutil::parent_of(dir);
    let (staging, _lock) = fsutil::staging_dir_in(&parent).map_err(write_err(&parent))?;
    fill_layout(store, staging.path(), blobs, entries).map_err(|e| e.at(dir))?;
    match fs::rename(staging.path(), dir) {
        Ok(()) => {
            let _ = staging.keep();
            fsutil::sync_dir(&parent).map_err(write_err(&parent))?;
            Ok(true)
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {
            // Removed while still locked, so no cleaner races the removal.
            drop(staging);
            Ok(false)
        }
        Err(e) => Err(write_err(dir)(e)),
    }
}

/// Writes `oci-layout` (when missing), the blobs, then `index.json` with `entries` merged in.
fn fill_layout(
    store: &BlobStore,
    dir: &Path,
    blobs: &BTreeSet<Digest>,
    entries: &[Descriptor],
) -> Result<(), SinkError> {
    let layout_file = dir.join("oci-layout");
    if !layout_file.is_file() {
        write_file(&layout_file, OCI_LAYOUT_FILE)?;
    }
    let blob_dir = dir.join("blobs/sha256");
    fsutil::create_dirs(&blob_dir).map_err(write_err(&blob_dir))?;
    for digest in blobs {
        store
            .export(digest, &blob_dir.join(digest.hex()))
            .map_err(export_err)?;
    }
    for d in [blob_dir.as_path(), &dir.join("blobs"), dir] {
        fsutil::sync_dir(d).map_err(write_err(d))?;
    }
    let mut index = merge_index(read_index_value(dir)?, entries);
    drop_stale_sboms(dir, &mut index);
    let bytes = serde_json::to_vec(&index).expect("an index serialises");
    write_file(&dir.join("index.json"), &bytes)
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the directory).
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
    let parent = fsutil::parent_of(path);
    let mut temp = fsutil::temp_file_in(&parent).map_err(write_err(path))?;
    temp.as_file_mut()
        .write_all(bytes)
        .map_err(write_err(path))?;
    fsutil::commit(temp, path).map_err(write_err(path))?;
    Ok(())
}

/// The layout's `index.json` as JSON (every field kept), `None` when there is none yet.
fn read_index_value(dir: &Path) -> Result<Option<Value>, SinkError> {
    let bad = |reason: String| SinkError::BadIndex {
        dir: dir.to_path_buf(),
        reason,
    };
    let bytes = match fs::read(dir.join("index.json")) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if !value.get("manifests").is_some_and(Value::is_array) {
        return Err(bad("it has no `manifests` list".into()));
    }
    Ok(Some(value))
}

/// `index` with each of `entries` in place of the entry that had its ref name (or appended),
/// and every other entry and field as it was.
fn merge_index(index: Option<Value>, entries: &[Descriptor]) -> Value {
    let mut index = index.unwrap_or_else(
        || serde_json::json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": []}),
    );
    let manifests = index["manifests"]
        .as_array_mut()
        .expect("checked when read");
    let name_of = |v: &Value| {
        v.get("annotations")
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    for entry in entries {
        let name = entry
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .cloned();
        let value = serde_json::to_value(entry).expect("a descriptor serialises");
        if name.is_none() {
            // An unnamed entry (a referrer): listed once, by digest.
            let digest = entry.digest.to_string();
            if !manifests
                .iter()
                .any(|m| name_of(m).is_none() && m["digest"].as_str() == Some(&digest))
            {
                manifests.push(value);
            }
            continue;
        }
        match manifests.iter().position(|m| name_of(m) == name) {
            Some(i) => {
                manifests[i] = value;
                let mut j = i + 1;
                while j < manifests.len() {
                    if name_of(&manifests[j]) == name {
                        manifests.remove(j);
                    } else {
                        j += 1;
                    }
                }
            }
            None => manifests.push(value),
        }
    }
    index
}

/// Older gopack versions replaced a layout by renaming `DIR` to `.DIR.old` and a staging
/// `.DIR.tmp-XXXXXX` to `DIR`. A run killed between the two left `DIR` missing: its previous
/// layout is put back. A leftover `.DIR.old` beside a present `DIR`, or a staging directory,
/// holds only layout parts and is removed.
fn recover_legacy(dir: &Path, parent: &Path, status: &dyn Fn(&str)) -> Result<(), SinkError> {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(());
    };
    let old = parent.join(format!(".{name}.old"));
    let is_gopack_layout =
        |p: &Path| p.join("oci-layout").is_file() && foreign_entries(p).is_ok_and(|f| f.is_empty());
    if old.is_dir() && is_gopack_layout(&old) {
        if !dir.exists() {
            fs::rename(&old, dir).map_err(write_err(dir))?;
            status(&format!(
                "recovered {} from an interrupted earlier write",
                dir.display()
            ));
        } else {
            fs::remove_dir_all(&old).map_err(write_err(&old))?;
        }
    }
    let prefix = format!(".{name}.tmp-");
    for entry in fs::read_dir(parent).map_err(write_err(parent))?.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if file_name.len() == prefix.len() + 6
            && file_name.starts_with(&prefix)
            && path.is_dir()
            && foreign_entries(&path).is_ok_and(|f| f.is_empty())
        {
            fs::remove_dir_all(&path).map_err(write_err(&path))?;
        }
    }
    Ok(())
}

/// What [`gc_layout`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    /// Blobs still referenced from `index.json`.
    pub kept: usize,
    /// Blobs removed.
    pub removed: usize,
    /// Bytes of the removed blobs (as stored: compressed for layers).
    pub removed_bytes: u64,
    /// Temp files of killed writers removed.
    pub temps_removed: usize,
}

/// Removes the blobs of the layout at `dir` that no entry of its `index.json` reaches
/// (following indexes, manifests, configs, layers and subjects), and the temp files of killed
/// writers, holding the layout's lock. Refuses (removing nothing) when a document it must
/// follow cannot be read.
pub fn gc_layout(dir: &Path, status: &dyn Fn(&str)) -> Result<GcReport, SinkError> {
    if !dir.join("oci-layout").is_file() {
        return Err(SinkError::NotALayout {
            dir: dir.to_path_buf(),
            foreign: vec!["no oci-layout file".into()],
        });
    }
    let _lock = FileLock::acquire(&dir.join(LOCK_FILE), LOCK_TIMEOUT, &|| {
        status(&format!(
            "waiting for another gopack writing {}",
            dir.display()
        ))
    })?;
    let mut report = GcReport::default();
    // Every directory gc reads or removes from must be the layout's own: a symbolic link in
    // its place would turn "remove unused blobs" into removing files elsewhere.
    let blobs = dir.join("blobs");
    real_dir(&blobs)?;
    let mut algorithms = Vec::new();
    for alg in fs::read_dir(&blobs).map_err(write_err(&blobs))?.flatten() {
        let name = alg.file_name().to_string_lossy().into_owned();
        // Only algorithms whose blob names gopack can check; anything else is left alone.
        if let Some(hex_len) = digest_hex_len(&name) {
            real_dir(&alg.path())?;
            algorithms.push((name, alg.path(), hex_len));
        }
    }
    report.temps_removed += fsutil::remove_stale_temps(dir).map_err(write_err(dir))?.0;
    for (_, path, _) in &algorithms {
        report.temps_removed += fsutil::remove_stale_temps(path).map_err(write_err(path))?.0;
    }
    let index = read_index_value(dir)?.ok_or_else(|| SinkError::BadIndex {
        dir: dir.to_path_buf(),
        reason: "there is no index.json".into(),
    })?;
    let reachable = reachable_blobs(dir, &index)?;
    for (alg_name, alg_path, hex_len) in &algorithms {
        for blob in fs::read_dir(alg_path)
            .map_err(write_err(alg_path))?
            .flatten()
        {
            let name = blob.file_name().to_string_lossy().into_owned();
            // Names that are not digests (notes, directories) are not blobs: never removed.
            let is_blob_name = name.len() == *hex_len
                && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            let is_dir = blob.file_type().map(|t| t.is_dir()).unwrap_or(true);
            if !is_blob_name || is_dir {
                continue;
            }
            if reachable.contains(&format!("{alg_name}:{name}")) {
                report.kept += 1;
                continue;
            }
            let size = blob.metadata().map(|m| m.len()).unwrap_or(0);
            fs::remove_file(blob.path()).map_err(write_err(&blob.path()))?;
            report.removed += 1;
            report.removed_bytes += size;
        }
        fsutil::sync_dir(alg_path).map_err(write_err(alg_path))?;
    }
    Ok(report)
}

/// Hex digits of a digest's encoded part for the registered algorithms (OCI image spec,
/// descriptor.md "Registered algorithms").
fn digest_hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    }
}

/// `path` is a directory itself, not a symbolic link to one.
fn real_dir(path: &Path) -> Result<(), SinkError> {
    let meta = fs::symlink_metadata(path).map_err(write_err(path))?;
    let what = if meta.file_type().is_symlink() {
        "a symbolic link"
    } else if meta.is_dir() {
        return Ok(());
    } else {
        "not a directory"
    };
    Err(SinkError::UnsafePart {
        path: path.to_path_buf(),
        what,
    })
}

/// Every `algorithm:hex` reachable from the index's entries.
fn reachable_blobs(dir: &Path, index: &Value) -> Result<BTreeSet<String>, SinkError> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Value> = index["manifests"].as_array().cloned().unwrap_or_default();
    if let Some(subject) = index.get("subject") {
        stack.push(subject.clone());
    }
    while let Some(descriptor) = stack.pop() {
        let Some(digest) = descriptor.get("digest").and_then(Value::as_str) else {
            continue;
        };
        if !seen.insert(digest.to_string()) {
            continue;
        }
        let media_type = descriptor
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !is_document(media_type) {
            continue;
        }
        let Some((alg, hex)) = digest.split_once(':') else {
            continue;
        };
        let path = dir.join("blobs").join(alg).join(hex);
        let doc = match read_document(&path) {
            Ok(Some(doc)) => doc,
            Ok(None) => continue,
            Err(reason) => {
                return Err(SinkError::BadIndex {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "blob {digest} cannot be followed ({reason}), so which blobs are in use is \
                         unknown; nothing was removed"
                    ),
                });
            }
        };
        for key in ["manifests", "layers", "blobs"] {
            if let Some(list) = doc.get(key).and_then(Value::as_array) {
                stack.extend(list.iter().cloned());
            }
        }
        for key in ["config", "subject"] {
            if let Some(d) = doc.get(key) {
                stack.push(d.clone());
            }
        }
    }
    Ok(seen)
}

fn is_document(media_type: &str) -> bool {
    media_type.contains("manifest") || media_type.contains("index")
}

/// A manifest or index as JSON; `None` when the blob is missing (nothing below it to keep).
fn read_document(path: &Path) -> Result<Option<Value>, String> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if !meta.is_file() || meta.len() > MAX_DOCUMENT {
        return Err(format!("not a file of at most {MAX_DOCUMENT} bytes"));
    }
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

    /// Stores `doc` as a blob of the layout at `dir`; returns its digest.
    fn put(dir: &Path, doc: &Value) -> String {
        let bytes = serde_json::to_vec(doc).unwrap();
        let digest = Digest::of(&bytes);
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
        digest.to_string()
    }

    fn referrer(dir: &Path, artifact_type: &str, subject: &str) -> Value {
        let digest = put(
            dir,
            &json!({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
                    "subject": {"mediaType": MANIFEST, "digest": subject, "size": 1}}),
        );
        json!({"mediaType": MANIFEST, "digest": digest, "size": 1, "artifactType": artifact_type})
    }

    fn named(digest: &str, media_type: &str, name: &str) -> Value {
        json!({"mediaType": media_type, "digest": digest, "size": 1,
               "annotations": {ANNOTATION_REF_NAME: name}})
    }

    fn bare_layout(dir: &Path) {
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        fs::write(
            dir.join("index.json"),
            r#"{"schemaVersion":2,"manifests":[]}"#,
        )
        .unwrap();
    }

    /// The attacker's cases: `blobs` or `blobs/sha256` a symbolic link to a directory of the
    /// user's files; gc refused, and nothing there is removed.
    #[test]
    fn gc_refuses_symlinked_blob_directories_and_removes_nothing_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::create_dir_all(victim.join("sha256")).unwrap();
        let hex = "a".repeat(64);
        for f in [
            victim.join(&hex),
            victim.join("keep.txt"),
            victim.join("sha256/keep.doc"),
        ] {
            fs::write(f, b"mine").unwrap();
        }
        let alg_link = tmp.path().join("alg");
        fs::create_dir_all(alg_link.join("blobs")).unwrap();
        bare_layout(&alg_link);
        std::os::unix::fs::symlink(&victim, alg_link.join("blobs/sha256")).unwrap();
        let blobs_link = tmp.path().join("blobs");
        fs::create_dir_all(&blobs_link).unwrap();
        bare_layout(&blobs_link);
        std::os::unix::fs::symlink(&victim, blobs_link.join("blobs")).unwrap();
        for layout in [&alg_link, &blobs_link] {
            let err = gc_layout(layout, &|_| {}).unwrap_err();
            assert!(
                matches!(
                    err,
                    SinkError::UnsafePart {
                        what: "a symbolic link",
                        ..
                    }
                ),
                "{err}"
            );
        }
        for f in [
            victim.join(&hex),
            victim.join("keep.txt"),
            victim.join("sha256/keep.doc"),
        ] {
            assert!(f.is_file(), "{} was removed", f.display());
        }
    }

    #[test]
    fn gc_removes_only_unreferenced_files_named_by_a_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        bare_layout(dir);
        let unused = put(dir, &json!({"unused": true}));
        let sha256 = dir.join("blobs/sha256");
        fs::write(sha256.join("notes.txt"), b"mine").unwrap();
        fs::create_dir(sha256.join("b".repeat(64))).unwrap();
        fs::create_dir_all(dir.join("blobs/md5")).unwrap();
        fs::write(dir.join("blobs/md5").join("c".repeat(32)), b"other tool").unwrap();
        let report = gc_layout(dir, &|_| {}).unwrap();
        assert_eq!(report.removed, 1);
        assert!(!sha256.join(unused.trim_start_matches("sha256:")).exists());
        assert!(sha256.join("notes.txt").is_file());
        assert!(sha256.join("b".repeat(64)).is_dir());
        assert!(dir.join("blobs/md5").join("c".repeat(32)).is_file());
    }

    #[test]
    fn only_sboms_of_images_no_name_reaches_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = put(d, &json!({"config": {}, "layers": []}));
        let child = put(d, &json!({"config": {}, "layers": [1]}));
        let index = put(d, &json!({"manifests": [{"digest": child}]}));
        let gone = format!("sha256:{}", "9".repeat(64));
        let spdx = crate::sbom::MEDIA_TYPE_SPDX;
        let kept = [
            named(&live, MANIFEST, "a"),
            named(&index, MEDIA_TYPE_INDEX, "b"),
            referrer(d, spdx, &live),
            referrer(d, spdx, &child),
            referrer(d, "application/vnd.dev.cosign.simplesigning.v1+json", &gone),
            json!({"mediaType": MANIFEST, "digest": format!("sha256:{}", "8".repeat(64)),
                   "size": 1, "artifactType": spdx}),
        ];
        let stale = referrer(d, crate::sbom::MEDIA_TYPE_CYCLONEDX, &gone);
        let mut all: Vec<Value> = kept.to_vec();
        all.push(stale);
        let mut value = json!({"schemaVersion": 2, "manifests": all});
        drop_stale_sboms(d, &mut value);
        assert_eq!(value["manifests"].as_array().unwrap(), &kept.to_vec());

        // A named index that cannot be read: nothing is dropped.
        let missing = format!("sha256:{}", "7".repeat(64));
        let mut all: Vec<Value> = vec![named(&missing, MEDIA_TYPE_INDEX, "c")];
        all.push(referrer(d, spdx, &gone));
        let mut value = json!({"schemaVersion": 2, "manifests": all.clone()});
        drop_stale_sboms(d, &mut value);
        assert_eq!(value["manifests"].as_array().unwrap(), &all);
    }
}
