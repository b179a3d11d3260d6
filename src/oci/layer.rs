//! Layers: the entries gopack writes into an image (paths, modes, owners fixed by gopack), the
//! compression choice, and [`LayerWriter`], which streams them as a deterministic tar into the
//! blob store as one compressed blob (OCI image spec, layer.md: `tar+gzip` or `tar+zstd`).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::digest::{Digest, Sha256Writer};
use super::gzip::{MAX_LEVEL, MemberEntry, MemberSource, ParallelGzipWriter, default_threads};
use super::store::{BlobStore, StoreError};
use super::{MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD};

/// One file system entry of a layer, with its ownership and mode fixed by gopack rather than
/// taken from the build machine.
#[derive(Clone, Debug)]
pub struct LayerEntry {
    /// Path inside the image, without a leading `/`.
    pub path: String,
    /// Directory, regular file (with where its bytes come from) or symbolic link.
    pub kind: EntryKind,
    /// Permission bits as written in the tar header, e.g. `0o755` (no file-type bits).
    pub mode: u32,
    /// Owner user ID in the image (0 = root).
    pub uid: u64,
    /// Owner group ID in the image (0 = root).
    pub gid: u64,
}

/// What a [`LayerEntry`] is, as a tar entry type.
#[derive(Clone, Debug)]
pub enum EntryKind {
    /// A directory (tar type `5`).
    Dir,
    /// A regular file (tar type `0`) and where its bytes come from.
    File(FileSource),
    /// A symbolic link (tar type `2`) to this target, written as given (relative or absolute).
    Symlink(String),
}

/// Where a file's bytes come from: built in memory (passwd, certs) or read from disk (the binary,
/// data files), streamed so memory does not grow with file size.
#[derive(Clone, Debug)]
pub enum FileSource {
    /// The file's whole content, held in memory.
    Bytes(Arc<[u8]>),
    /// A file on the build machine, read (streamed) when the layer is written.
    Path(PathBuf),
}

impl LayerEntry {
    /// A directory at `path` (leading and trailing `/` dropped) with permission bits `mode` and
    /// owner `uid`:`gid`.
    pub fn dir(path: &str, mode: u32, uid: u64, gid: u64) -> LayerEntry {
        LayerEntry {
            path: clean(path),
            kind: EntryKind::Dir,
            mode,
            uid,
            gid,
        }
    }

    /// A regular file at `path` holding `bytes`, owned by root, with permission bits `mode`.
    pub fn file(path: &str, bytes: impl Into<Arc<[u8]>>, mode: u32) -> LayerEntry {
        let kind = EntryKind::File(FileSource::Bytes(bytes.into()));
        LayerEntry {
            path: clean(path),
            kind,
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A regular file at `path` whose bytes are read from `source` when the layer is written,
    /// owned by root, with permission bits `mode` (the source file's own mode is not used).
    pub fn file_from_disk(path: &str, source: PathBuf, mode: u32) -> LayerEntry {
        let kind = EntryKind::File(FileSource::Path(source));
        LayerEntry {
            path: clean(path),
            kind,
            mode,
            uid: 0,
            gid: 0,
        }
    }
}

fn clean(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// A whole layer: its entries (sorted when written), the mtime every entry gets, and the
/// sentence that describes it in the image history.
#[derive(Clone, Debug)]
pub struct LayerSpec {
    /// The entries, in any order; they are sorted by path and deduplicated (the first of a
    /// path wins) when written.
    pub entries: Vec<LayerEntry>,
    /// Modification time of every entry, in seconds since the Unix epoch (the build picks
    /// `SOURCE_DATE_EPOCH`, else the HEAD commit time, else 0, so the same inputs give the same
    /// bytes).
    pub mtime: u64,
    /// The `created_by` sentence of this layer's history entry in the image config.
    pub description: String,
}

impl LayerSpec {
    /// Adds directory entries (0755, root) for every missing parent of every entry, so
    /// unpackers never have to invent them with their own modes.
    pub fn with_parent_dirs(mut self) -> LayerSpec {
        let mut have: std::collections::BTreeSet<String> =
            self.entries.iter().map(|e| e.path.clone()).collect();
        let mut parents = Vec::new();
        for entry in &self.entries {
            let mut path = entry.path.as_str();
            while let Some((parent, _)) = path.rsplit_once('/') {
                if have.insert(parent.to_string()) {
                    parents.push(LayerEntry::dir(parent, 0o755, 0, 0));
                }
                path = parent;
            }
        }
        self.entries.extend(parents);
        self
    }
}

/// How layer tars are compressed; parsed from `gzip[:LEVEL]` or `zstd[:LEVEL]` (`--compression`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip (libdeflate) at a level chosen from the layer's content size: [`MAX_LEVEL`] up to
    /// [`SMALL_LAYER`] bytes (the base-files layer and small data layers, written once and then
    /// served from the layer cache), [`LARGE_LAYER_LEVEL`] above (binaries: fast enough for the
    /// edit loop, and still smaller than `gzip -9`). The default; chosen by `bench/compression.sh`
    /// (see BENCHMARKS.md).
    GzipAuto,
    /// gzip (libdeflate) at a fixed level, 1..=12.
    Gzip(u32),
    /// zstd at a fixed level, 1..=19 (3 when none is given); media type
    /// `application/vnd.oci.image.layer.v1.tar+zstd`, which older runtimes cannot pull.
    Zstd(i32),
}

/// Layers whose files hold at most this many bytes are compressed at [`MAX_LEVEL`] by
/// [`Compression::GzipAuto`].
pub const SMALL_LAYER: u64 = 1 << 20;

/// The [`Compression::GzipAuto`] level above [`SMALL_LAYER`].
pub const LARGE_LAYER_LEVEL: u32 = 6;

impl Compression {
    /// The compression used when none is asked for: [`Compression::GzipAuto`].
    pub const DEFAULT: Compression = Compression::GzipAuto;

    /// The OCI layer media type of a layer compressed this way (`…tar+gzip` or `…tar+zstd`).
    pub fn media_type(&self) -> &'static str {
        match self {
            Compression::GzipAuto | Compression::Gzip(_) => MEDIA_TYPE_LAYER_GZIP,
            Compression::Zstd(_) => MEDIA_TYPE_LAYER_ZSTD,
        }
    }

    /// The gzip level for a layer whose files hold `content_bytes` bytes (`None` for zstd).
    pub fn gzip_level(&self, content_bytes: u64) -> Option<u32> {
        match self {
            Compression::GzipAuto if content_bytes <= SMALL_LAYER => Some(MAX_LEVEL),
            Compression::GzipAuto => Some(LARGE_LAYER_LEVEL),
            Compression::Gzip(level) => Some(*level),
            Compression::Zstd(_) => None,
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compression::GzipAuto => write!(f, "gzip"),
            Compression::Gzip(l) => write!(f, "gzip:{l}"),
            Compression::Zstd(l) => write!(f, "zstd:{l}"),
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Compression, String> {
        let (name, level) = match s.split_once(':') {
            Some((n, l)) => (n, Some(l)),
            None => (s, None),
        };
        let bad_level = |range: &str| {
            format!(
                "compression level `{}` for {name} must be a whole number in {range}",
                level.unwrap_or("")
            )
        };
        match name {
            "gzip" => match level {
                None => Ok(Compression::DEFAULT),
                Some(l) => l
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_LEVEL).contains(l))
                    .map(Compression::Gzip)
                    .ok_or_else(|| bad_level("1..=12")),
            },
            "zstd" => match level {
                None => Ok(Compression::Zstd(3)),
                Some(l) => l
                    .parse()
                    .ok()
                    .filter(|l| (1..=19).contains(l))
                    .map(Compression::Zstd)
                    .ok_or_else(|| bad_level("1..=19")),
            },
            _ => Err(format!(
                "unknown compression `{s}`: use gzip[:LEVEL] or zstd[:LEVEL]"
            )),
        }
    }
}

/// A layer as stored: its compressed blob and the digest of the uncompressed tar (`diff_id`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WrittenLayer {
    /// Digest of the compressed blob: the layer descriptor's `digest`.
    pub digest: Digest,
    /// Size of the compressed blob in bytes: the layer descriptor's `size`.
    pub size: u64,
    /// Digest of the uncompressed tar: the image config's `rootfs.diff_ids` entry.
    pub diff_id: Digest,
    /// Size of the uncompressed tar in bytes (headers and padding included).
    pub uncompressed_size: u64,
    /// The layer's OCI media type, from [`Compression::media_type`].
    pub media_type: String,
    /// True when the blob was already in the store and nothing was compressed.
    #[serde(skip)]
    pub reused: bool,
}

/// Why writing a layer failed.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A [`FileSource::Path`] could not be read.
    #[error("cannot read {path} for the image: {source}")]
    Source {
        /// The file on the build machine.
        path: PathBuf,
        /// The read's error.
        source: io::Error,
    },
    /// Building the tar or compressing it failed.
    #[error("cannot write layer: {0}")]
    Write(#[source] io::Error),
    /// The blob store could not take the blob or its cache record.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes layers into a [`BlobStore`]: tar → diff_id hash → compressor → digest hash → blob,
/// all streaming. A layer whose inputs were written before (same entries, contents, mtime and
/// compression) is found by its cache key and never compressed again.
pub struct LayerWriter<'a> {
    store: &'a BlobStore,
    compression: Compression,
}

/// Changes when the tar encoding changes, so old cache records are not reused for new bytes.
/// v2: gzip by libdeflate, one member per block (before: zlib-rs, one stream).
const LAYER_FORMAT: &str = "gopack-layer-v2";

impl<'a> LayerWriter<'a> {
    /// A writer that puts layers compressed with `compression` into `store`.
    pub fn new(store: &'a BlobStore, compression: Compression) -> LayerWriter<'a> {
        LayerWriter { store, compression }
    }

    /// Writes `spec` as one layer blob (or finds it by its cache key), returning its
    /// descriptor facts. The same spec always gives the same bytes and digest.
    ///
    /// Errors: a source file that cannot be read, or a store that cannot be written.
    pub fn write(&self, spec: &LayerSpec) -> Result<WrittenLayer, LayerError> {
        let mut entries: Vec<&LayerEntry> = spec.entries.iter().collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|a, b| a.path == b.path);

        let (key, content_bytes) = self.cache_key(&entries, spec.mtime)?;
        let record = crate::cache::layer_records_dir(self.store).join(format!("{key}.json"));
        if let Some(mut cached) = fs::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<WrittenLayer>(&b).ok())
            .filter(|l| self.store.contains(&l.digest))
        {
            cached.reused = true;
            return Ok(cached);
        }

        let blob = self.store.writer()?;
        let mut lineage = None;
        let (blob, diff_id, uncompressed_size) = match self.compression {
            Compression::GzipAuto | Compression::Gzip(_) => {
                let level = self
                    .compression
                    .gzip_level(content_bytes)
                    .unwrap_or(MAX_LEVEL);
                let record = self.lineage_record(&entries, level);
                let earlier = Lineage::read(&record, self.store);
                let gz = ParallelGzipWriter::reusing(blob, level, default_threads(), earlier);
                let (gz, diff_id, n) = write_tar(Sha256Writer::new(gz), &entries, spec.mtime)?;
                let (blob, members) = gz.finish_with_index().map_err(LayerError::Write)?;
                crate::trace::mark(&format!(
                    "layer compressed at gzip level {level}: {} of {} members copied",
                    members.iter().filter(|m| m.copied).count(),
                    members.len()
                ));
                lineage = Some((record, members));
                (blob, diff_id, n)
            }
            Compression::Zstd(level) => {
                let enc =
                    zstd::stream::write::Encoder::new(blob, level).map_err(LayerError::Write)?;
                let (enc, diff_id, n) = write_tar(Sha256Writer::new(enc), &entries, spec.mtime)?;
                (enc.finish().map_err(LayerError::Write)?, diff_id, n)
            }
        };
        let (digest, size) = blob.commit()?;
        if let Some((record, members)) = lineage {
            save_record(
                &record,
                &Lineage {
                    digest: digest.clone(),
                    members,
                },
            );
        }
        let layer = WrittenLayer {
            digest,
            size,
            diff_id,
            uncompressed_size,
            media_type: self.compression.media_type().to_string(),
            reused: false,
        };
        save_record(&record, &layer);
        Ok(layer)
    }

    /// Where the members of the last layer with the same paths and level are listed: the
    /// previous build of the same binary, whose unchanged blocks need no compression.
    fn lineage_record(&self, entries: &[&LayerEntry], level: u32) -> PathBuf {
        let mut h = Sha256::new();
        h.update(format!("{LAYER_FORMAT}\nlineage\ngzip {level}\n"));
        for e in entries {
            h.update(format!("{}\n", e.path));
        }
        crate::cache::layer_records_dir(self.store)
            .join(format!("lineage-{}.json", hex::encode(h.finalize())))
    }

    /// The layer record's key, and the number of content bytes in the layer's files.
    fn cache_key(&self, entries: &[&LayerEntry], mtime: u64) -> Result<(String, u64), LayerError> {
        let mut h = Sha256::new();
        let mut content_bytes = 0;
        h.update(format!("{LAYER_FORMAT}\n{}\n{mtime}\n", self.compression));
        for e in entries {
            let what = match &e.kind {
                EntryKind::Dir => "dir".to_string(),
                EntryKind::Symlink(t) => format!("symlink {t}"),
                EntryKind::File(src) => {
                    let (digest, size) = content_digest(src)?;
                    content_bytes += size;
                    format!("file {digest}")
                }
            };
            h.update(format!(
                "{}\t{:o}\t{}\t{}\t{what}\n",
                e.path, e.mode, e.uid, e.gid
            ));
        }
        Ok((hex::encode(h.finalize()), content_bytes))
    }
}

/// The digest and size of a file's content.
fn content_digest(src: &FileSource) -> Result<(Digest, u64), LayerError> {
    match src {
        FileSource::Bytes(b) => Ok((Digest::of(b), b.len() as u64)),
        FileSource::Path(p) => {
            let mut file = File::open(p).map_err(|source| LayerError::Source {
                path: p.clone(),
                source,
            })?;
            let mut w = Sha256Writer::new(io::sink());
            let size = io::copy(&mut file, &mut w).map_err(|source| LayerError::Source {
                path: p.clone(),
                source,
            })?;
            Ok((w.finish().1, size))
        }
    }
}

/// The members of the last gzip layer written for a lineage (see `lineage_record`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Lineage {
    digest: Digest,
    members: Vec<MemberEntry>,
}

impl Lineage {
    fn read(record: &std::path::Path, store: &BlobStore) -> Option<MemberSource> {
        let lineage: Lineage = serde_json::from_slice(&fs::read(record).ok()?).ok()?;
        let blob = File::open(store.path(&lineage.digest)).ok()?;
        Some(MemberSource::new(blob, &lineage.members))
    }
}

fn save_record(record: &std::path::Path, layer: &impl serde::Serialize) {
    // The record is only an optimisation: failing to save it costs a recompression next time.
    let Some(dir) = record.parent() else { return };
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && let Ok(json) = serde_json::to_vec(layer)
        && tmp.write_all(&json).is_ok()
    {
        let _ = tmp.persist(record);
    }
}

/// Writes sorted entries as a tar stream with fixed metadata; returns the stream's sink and the
/// digest and size of the uncompressed tar.
fn write_tar<W: Write>(
    out: Sha256Writer<W>,
    entries: &[&LayerEntry],
    mtime: u64,
) -> Result<(W, Digest, u64), LayerError> {
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    for e in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(e.mode);
        header.set_uid(e.uid);
        header.set_gid(e.gid);
        header.set_mtime(mtime);
        match &e.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                tar.append_data(&mut header, format!("{}/", e.path), io::empty())
            }
            EntryKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                tar.append_link(&mut header, &e.path, target)
            }
            EntryKind::File(FileSource::Bytes(bytes)) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, &e.path, &bytes[..])
            }
            EntryKind::File(FileSource::Path(p)) => {
                let file = File::open(p).map_err(|source| LayerError::Source {
                    path: p.clone(),
                    source,
                })?;
                let len = file
                    .metadata()
                    .map_err(|source| LayerError::Source {
                        path: p.clone(),
                        source,
                    })?
                    .len();
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(len);
                tar.append_data(&mut header, &e.path, file.take(len))
            }
        }
        .map_err(LayerError::Write)?;
    }
    let hashed = tar.into_inner().map_err(LayerError::Write)?;
    Ok(hashed.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(entries: Vec<LayerEntry>) -> LayerSpec {
        LayerSpec {
            entries,
            mtime: 0,
            description: "test".into(),
        }
        .with_parent_dirs()
    }

    fn unpack(store: &BlobStore, layer: &WrittenLayer) -> Vec<(String, u32, u64, Vec<u8>)> {
        let blob = store.read_blob(&layer.digest).unwrap();
        let tar_bytes = match layer.media_type.as_str() {
            MEDIA_TYPE_LAYER_GZIP => {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&blob[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            _ => zstd::decode_all(&blob[..]).unwrap(),
        };
        assert_eq!(Digest::of(&tar_bytes), layer.diff_id);
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    data,
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_with_parents_and_fixed_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let layer = LayerWriter::new(&store, Compression::DEFAULT)
            .write(&spec(vec![
                LayerEntry::file("/usr/local/bin/app", &b"binary"[..], 0o755),
                LayerEntry::file("/etc/passwd", &b"root"[..], 0o644),
            ]))
            .unwrap();
        let names: Vec<_> = unpack(&store, &layer)
            .into_iter()
            .map(|(n, m, _, _)| (n, m))
            .collect();
        assert_eq!(
            names,
            vec![
                ("etc/".to_string(), 0o755),
                ("etc/passwd".into(), 0o644),
                ("usr/".into(), 0o755),
                ("usr/local/".into(), 0o755),
                ("usr/local/bin/".into(), 0o755),
                ("usr/local/bin/app".into(), 0o755)
            ]
        );
    }

    #[test]
    fn same_input_same_digest_and_second_write_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let big: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let s = spec(vec![LayerEntry::file("data/big", big.clone(), 0o644)]);
        let writer = LayerWriter::new(&store, Compression::Gzip(6));
        let first = writer.write(&s).unwrap();
        assert!(!first.reused);
        let second = writer.write(&s).unwrap();
        assert!(second.reused);
        assert_eq!(
            (&first.digest, &first.diff_id, first.size),
            (&second.digest, &second.diff_id, second.size)
        );
        let other_store = BlobStore::open(dir.path().join("other")).unwrap();
        let third = LayerWriter::new(&other_store, Compression::Gzip(6))
            .write(&s)
            .unwrap();
        assert_eq!(first.digest, third.digest);
        let files = unpack(&store, &first);
        assert_eq!(
            files.last().unwrap().3,
            big,
            "multi-block gzip must round-trip"
        );
    }

    #[test]
    fn the_default_compresses_small_layers_at_the_highest_level() {
        let auto = Compression::DEFAULT;
        assert_eq!(auto.gzip_level(0), Some(MAX_LEVEL));
        assert_eq!(auto.gzip_level(SMALL_LAYER), Some(MAX_LEVEL));
        assert_eq!(auto.gzip_level(SMALL_LAYER + 1), Some(LARGE_LAYER_LEVEL));
        assert_eq!(Compression::Gzip(3).gzip_level(0), Some(3));
        assert_eq!(Compression::Zstd(3).gzip_level(0), None);
    }

    #[test]
    fn a_rewritten_layer_has_the_digest_of_a_fresh_write_whatever_was_cached() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("warm")).unwrap();
        let mut big: Vec<u8> = (0..3_500_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 & 0x3f)
            .collect();
        let file = dir.path().join("app");
        let write = |store: &BlobStore, bytes: &[u8]| {
            std::fs::write(&file, bytes).unwrap();
            LayerWriter::new(store, Compression::DEFAULT)
                .write(&spec(vec![LayerEntry::file_from_disk(
                    "usr/local/bin/app",
                    file.clone(),
                    0o755,
                )]))
                .unwrap()
        };
        write(&store, &big);
        big[1_500_000] ^= 1;
        let warm = write(&store, &big);
        let fresh = write(&BlobStore::open(dir.path().join("fresh")).unwrap(), &big);
        assert_eq!(warm.digest, fresh.digest);
        assert_eq!(unpack(&store, &warm).last().unwrap().3, big);
    }

    #[test]
    fn zstd_layers_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let layer = LayerWriter::new(&store, Compression::Zstd(3))
            .write(&spec(vec![LayerEntry::file("a", &b"hello"[..], 0o644)]))
            .unwrap();
        assert_eq!(layer.media_type, MEDIA_TYPE_LAYER_ZSTD);
        assert_eq!(unpack(&store, &layer)[0].3, b"hello");
    }

    #[test]
    fn compression_flags_parse_with_reasons() {
        assert_eq!(
            "gzip:9".parse::<Compression>().unwrap(),
            Compression::Gzip(9)
        );
        assert_eq!("zstd".parse::<Compression>().unwrap(), Compression::Zstd(3));
        assert_eq!("gzip".parse::<Compression>().unwrap(), Compression::DEFAULT);
        assert_eq!(
            "gzip:12".parse::<Compression>().unwrap(),
            Compression::Gzip(12)
        );
        assert!("gzip:13".parse::<Compression>().is_err());
        assert!(
            "gzip:0"
                .parse::<Compression>()
                .unwrap_err()
                .contains("1..=12")
        );
        assert!(
            "lz4"
                .parse::<Compression>()
                .unwrap_err()
                .contains("gzip[:LEVEL]")
        );
    }
}
