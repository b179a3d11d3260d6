//! gopack's cache: one directory (`GOPACK_CACHE`, else `~/.cache/gopack`) and one type,
//! [`Cache`], that owns its layout. Everything in it can be rebuilt: deleting it costs time,
//! never correctness.
//!
//! On-disk format 1 (recorded in `gopack-cache.json`; a gopack that finds a newer format
//! refuses to touch the cache and says which one it found):
//!
//! ```text
//! <root>/
//!   gopack-cache.json              {"format":1}
//!   CACHEDIR.TAG                   marks the directory as a cache (backup tools skip it)
//!   store/blobs/sha256/<hex>       content store: layers, configs, manifests, indexes
//!   store/tmp/                     blobs being written (locked by their writer)
//!   store/layers/<key>.json        layer records: the inputs of a layer → the layer written
//!   store/layers/size-<hex>        uncompressed size of a (base) layer blob, in bytes
//!   store/layers/lineage-<key>.json where the gzip members of the last layer with these paths
//!                                  and level lie, so unchanged 1 MiB blocks are copied, not compressed
//!   store/registries/<host>/<hex>  registry hints: a repository of <host> holding the blob
//!   store/build/<key>/             built binaries, one directory per module
//!   golist/<key>.json              `go list` answers
//!   inspect/layers-v<N>/<hex>       inspect's layer records (what one pass over a layer learnt)
//! ```
//!
//! `gopack cache info` reports each part; `gopack cache prune` removes what has not been used
//! for a while (and temp files of killed runs).

#![warn(missing_docs)]

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::fsutil;
use crate::oci::{BlobStore, Descriptor, StoreError, default_cache_dir};

/// The on-disk format this gopack reads and writes.
pub const FORMAT: u32 = 1;

const FORMAT_FILE: &str = "gopack-cache.json";
const CACHEDIR_TAG: &str = "CACHEDIR.TAG";
const CACHEDIR_TAG_TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
     # This file is a cache directory tag created by gopack.\n\
     # For information about cache directory tags see https://bford.info/cachedir/\n";

/// Why the cache cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file of the cache could not be read or written.
    #[error("cannot use gopack's cache at {}: {error}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// A newer gopack wrote the cache in a format this one does not know.
    #[error(
        "gopack's cache at {} has format {found}, newer than this gopack's {FORMAT}; use the \
         newer gopack, or point GOPACK_CACHE at another directory",
        .root.display()
    )]
    NewerFormat {
        /// The cache directory.
        root: PathBuf,
        /// The format recorded there.
        found: u32,
    },
    /// The content store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |error| CacheError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The parts of the cache, as `cache info` and `cache prune` name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// `store/blobs/`: the content store.
    Blobs,
    /// `store/layers/`: layer records and sizes.
    LayerRecords,
    /// `store/registries/`: which repository of a registry holds which blob.
    RegistryHints,
    /// `store/build/`: built binaries.
    Binaries,
    /// `golist/`: `go list` answers.
    GoList,
    /// `inspect/`: inspect's records of layers already read.
    InspectRecords,
    /// `store/tmp/` and every `.gopack-*.tmp`: writes in progress, or of killed runs.
    Temp,
}

impl Part {
    /// Every part, in the order `cache info` lists them.
    pub const ALL: [Part; 7] = [
        Part::Blobs,
        Part::LayerRecords,
        Part::RegistryHints,
        Part::Binaries,
        Part::GoList,
        Part::InspectRecords,
        Part::Temp,
    ];

    /// The part's directory under the cache root.
    pub fn dir(self, root: &Path) -> PathBuf {
        root.join(match self {
            Part::Blobs => "store/blobs",
            Part::LayerRecords => "store/layers",
            Part::RegistryHints => "store/registries",
            Part::Binaries => "store/build",
            Part::GoList => "golist",
            Part::InspectRecords => "inspect",
            Part::Temp => "store/tmp",
        })
    }

    /// What the part holds, for people.
    pub fn description(self) -> &'static str {
        match self {
            Part::Blobs => "layers, configs and manifests (content store)",
            Part::LayerRecords => "layer records (skip recompressing unchanged layers)",
            Part::RegistryHints => "registry hints (cross-repository mounts)",
            Part::Binaries => "built Go binaries (skip relinking)",
            Part::GoList => "go list answers",
            Part::InspectRecords => "inspect layer records (skip re-reading layers)",
            Part::Temp => "writes in progress or left by killed runs",
        }
    }
}

/// The directory of layer records for a store.
pub fn layer_records_dir(store: &BlobStore) -> PathBuf {
    store.root().join("layers")
}

/// The directory of registry hints for a store.
pub fn registry_hints_dir(store: &BlobStore) -> PathBuf {
    store.root().join("registries")
}

/// The directory under which built binaries are kept, one subdirectory per module.
pub fn binaries_dir(store: &BlobStore) -> PathBuf {
    store.root().join("build")
}

/// The directory of `go list` answers in the default cache.
pub fn golist_dir() -> PathBuf {
    default_cache_dir().join("golist")
}

/// gopack's cache directory, opened: format checked, content store ready.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
    store: BlobStore,
}

impl Cache {
    /// Opens the cache under `GOPACK_CACHE`, else `~/.cache/gopack`.
    pub fn open_default() -> Result<Cache, CacheError> {
        Cache::open(default_cache_dir())
    }

    /// Opens (creating when missing) the cache at `root`: refuses a newer format, records
    /// ours, and removes the store's temp files of killed runs.
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_err(&root))?;
        let format_file = root.join(FORMAT_FILE);
        match fs::read(&format_file) {
            Ok(bytes) => {
                let found = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("format")?.as_u64())
                    .unwrap_or(0) as u32;
                if found > FORMAT {
                    return Err(CacheError::NewerFormat { root, found });
                }
                if found < FORMAT {
                    write_marker(&format_file, &format!("{{\"format\":{FORMAT}}}\n"))?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_marker(&format_file, &format!("{{\"format\":{FORMAT}}}\n"))?;
                write_marker(&root.join(CACHEDIR_TAG), CACHEDIR_TAG_TEXT)?;
            }
            Err(e) => return Err(io_err(&format_file)(e)),
        }
        let store = BlobStore::open(root.join("store"))?;
        Ok(Cache { root, store })
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The content store.
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// Files and bytes per part.
    pub fn info(&self) -> Result<CacheInfo, CacheError> {
        let mut parts = Vec::new();
        for part in Part::ALL {
            let dir = part.dir(&self.root);
            let usage = usage_of(&dir).map_err(io_err(&dir))?;
            parts.push(PartInfo {
                part,
                path: dir,
                files: usage.0,
                bytes: usage.1,
            });
        }
        Ok(CacheInfo {
            root: self.root.clone(),
            format: FORMAT,
            parts,
        })
    }

    /// Removes temp files of killed runs, and entries not used for `older_than` (all entries
    /// with `None`). "Used" is the later of an entry's modification and access times, so a
    /// file system mounted `noatime` counts only writes.
    pub fn prune(&self, older_than: Option<Duration>) -> Result<PruneReport, CacheError> {
        let mut report = PruneReport::default();
        let tmp = Part::Temp.dir(&self.root);
        let (n, bytes) = fsutil::remove_stale_files(&tmp).map_err(io_err(&tmp))?;
        report.add(Part::Temp, n, bytes);
        let cutoff = older_than.map(|d| SystemTime::now() - d);
        for part in [
            Part::Blobs,
            Part::LayerRecords,
            Part::RegistryHints,
            Part::Binaries,
            Part::GoList,
            Part::InspectRecords,
        ] {
            let dir = part.dir(&self.root);
            let (n, bytes) = prune_dir(&dir, part, cutoff).map_err(io_err(&dir))?;
            report.add(part, n, bytes);
        }
        Ok(report)
    }
}

fn write_marker(path: &Path, text: &str) -> Result<(), CacheError> {
    let dir = fsutil::parent_of(path);
    let mut temp = fsutil::temp_file_in(&dir).map_err(io_err(path))?;
    io::Write::write_all(&mut temp, text.as_bytes()).map_err(io_err(path))?;
    fsutil::commit(temp, path).map_err(io_err(path))?;
    Ok(())
}

/// `cache info`'s answer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CacheInfo {
    /// The cache directory.
    pub root: PathBuf,
    /// Its on-disk format.
    pub format: u32,
    /// Each part, in [`Part::ALL`] order.
    pub parts: Vec<PartInfo>,
}

/// One part's usage.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartInfo {
    /// Which part.
    pub part: Part,
    /// Its directory.
    pub path: PathBuf,
    /// Regular files in it.
    pub files: u64,
    /// Their bytes (apparent sizes; hard links to outputs count here too).
    pub bytes: u64,
}

/// What `cache prune` removed, per part.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PruneReport {
    /// (part, entries removed, bytes freed), parts with nothing removed left out.
    pub removed: Vec<(Part, u64, u64)>,
}

impl PruneReport {
    fn add(&mut self, part: Part, n: usize, bytes: u64) {
        if n > 0 {
            self.removed.push((part, n as u64, bytes));
        }
    }

    /// Entries removed in all parts.
    pub fn entries(&self) -> u64 {
        self.removed.iter().map(|r| r.1).sum()
    }

    /// Bytes freed in all parts.
    pub fn bytes(&self) -> u64 {
        self.removed.iter().map(|r| r.2).sum()
    }
}

/// (files, bytes) under `dir`, recursively.
fn usage_of(dir: &Path) -> io::Result<(u64, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok((0, 0));
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            // Not followed: a symbolic link in the cache is counted as itself.
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files += 1;
                bytes += entry.metadata()?.len();
            }
        }
    }
    Ok((files, bytes))
}

/// The time an entry was last used: the latest modification or access time of it or, for a
/// directory, of anything inside.
fn last_used(path: &Path) -> io::Result<SystemTime> {
    let meta = fs::symlink_metadata(path)?;
    let mut latest = meta
        .modified()?
        .max(meta.accessed().unwrap_or(SystemTime::UNIX_EPOCH));
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            latest = latest.max(last_used(&entry?.path())?);
        }
    }
    Ok(latest)
}

/// Removes the entries of a part older than `cutoff` (all with `None`): the files of the
/// flat parts, the per-module directories of binaries, the per-host files of hints.
fn prune_dir(dir: &Path, part: Part, cutoff: Option<SystemTime>) -> io::Result<(usize, u64)> {
    let units: Vec<PathBuf> = match part {
        Part::Blobs | Part::RegistryHints | Part::InspectRecords => subdir_entries(dir)?,
        _ => entries(dir)?,
    };
    let (mut n, mut bytes) = (0, 0);
    for unit in units {
        let stale_temp = unit
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with(".tmp"))
            && last_used(&unit)?.elapsed().unwrap_or_default() > Duration::from_secs(3600);
        let old = match cutoff {
            None => true,
            Some(c) => last_used(&unit)? < c,
        };
        if !(old || stale_temp) {
            continue;
        }
        let unit_is_dir = is_real_dir(&unit);
        let size = if unit_is_dir {
            usage_of(&unit)?.1
        } else {
            fs::symlink_metadata(&unit).map_or(0, |m| m.len())
        };
        // remove_dir_all does not follow symbolic links inside; a link itself is unlinked.
        let removed = if unit_is_dir {
            fs::remove_dir_all(&unit)
        } else {
            fs::remove_file(&unit)
        };
        match removed {
            Ok(()) => {
                n += 1;
                bytes += size;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok((n, bytes))
}

/// A directory itself, not a symbolic link to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// The entries of `dir`; none when `dir` is a symbolic link (whatever it points at is not the
/// cache's to remove).
fn entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(Vec::new());
    }
    match fs::read_dir(dir) {
        Ok(e) => e.map(|e| e.map(|e| e.path())).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The entries one level down (`blobs/sha256/*`, `registries/<host>/*`).
fn subdir_entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for sub in entries(dir)? {
        if is_real_dir(&sub) {
            out.extend(entries(&sub)?);
        }
    }
    Ok(out)
}

/// The uncompressed size in bytes of a layer blob in the store (gzip, zstd or plain tar, by
/// media type), remembered in the layer records so each blob is read once.
pub fn uncompressed_size(store: &BlobStore, layer: &Descriptor) -> Result<u64, CacheError> {
    let record = layer_records_dir(store).join(format!("size-{}", layer.digest.hex()));
    if let Some(size) = fs::read_to_string(&record)
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return Ok(size);
    }
    let blob = store.open_blob(&layer.digest)?;
    let path = store.path(&layer.digest);
    let mut reader: Box<dyn Read> = if layer.media_type.contains("zstd") {
        Box::new(zstd::stream::read::Decoder::new(blob).map_err(io_err(&path))?)
    } else if layer.media_type.contains("gzip") {
        Box::new(flate2::read::MultiGzDecoder::new(blob))
    } else {
        Box::new(blob)
    };
    let size = io::copy(&mut reader, &mut io::sink()).map_err(io_err(&path))?;
    // Only an optimisation: failing to record costs a read next time.
    let dir = layer_records_dir(store);
    if fs::create_dir_all(&dir).is_ok()
        && let Ok(mut temp) = fsutil::temp_file_in(&dir)
        && io::Write::write_all(&mut temp, size.to_string().as_bytes()).is_ok()
    {
        let _ = temp.persist(&record);
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_format_is_refused_and_an_unmarked_cache_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert!(dir.path().join(CACHEDIR_TAG).is_file());
        assert_eq!(cache.info().unwrap().format, FORMAT);
        fs::write(dir.path().join(FORMAT_FILE), r#"{"format":99}"#).unwrap();
        let err = Cache::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("format 99"), "{err}");
    }

    /// A cache restored from an untrusted artifact may hold symbolic links in place of its
    /// directories: prune removes nothing they lead to.
    #[test]
    fn prune_all_removes_nothing_through_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::create_dir_all(victim.join("sub")).unwrap();
        fs::write(victim.join("file1"), b"mine").unwrap();
        fs::write(victim.join("sub/file2"), b"mine").unwrap();
        let root = dir.path().join("cache");
        let cache = Cache::open(&root).unwrap();
        cache.store().put_bytes(b"ours").unwrap();
        for part in [Part::Blobs, Part::InspectRecords, Part::GoList, Part::Temp] {
            let d = part.dir(&root);
            fs::create_dir_all(&d).unwrap();
            let link = d.join("sha256-link");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
        }
        let blobs = Part::Blobs.dir(&root);
        fs::create_dir_all(blobs.join("sha256")).unwrap();
        let sha = blobs.join("sha512");
        std::os::unix::fs::symlink(&victim, &sha).unwrap();
        let records = Part::InspectRecords.dir(&root);
        let moved = records.with_extension("real");
        fs::rename(&records, &moved).unwrap();
        std::os::unix::fs::symlink(&victim, &records).unwrap();
        cache.prune(None).unwrap();
        cache.info().unwrap();
        assert!(victim.join("file1").is_file() && victim.join("sub/file2").is_file());
    }

    #[test]
    fn prune_removes_old_entries_and_keeps_fresh_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (fresh, _) = cache.store().put_bytes(b"fresh").unwrap();
        let (old, _) = cache.store().put_bytes(b"old").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(90 * 86_400);
        let f = fs::File::options()
            .write(true)
            .open(cache.store().path(&old))
            .unwrap();
        f.set_times(
            fs::FileTimes::new()
                .set_accessed(long_ago)
                .set_modified(long_ago),
        )
        .unwrap();
        let report = cache.prune(Some(Duration::from_secs(30 * 86_400))).unwrap();
        assert_eq!(report.entries(), 1);
        assert!(cache.store().contains(&fresh) && !cache.store().contains(&old));
        cache.prune(None).unwrap();
        assert!(!cache.store().contains(&fresh));
    }
}
