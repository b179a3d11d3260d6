//! Reading a layer in one streaming pass: decompression (gzip, zstd or none, sniffed from the
//! first bytes because archives often declare the wrong type), the diff_id (sha256 of the
//! uncompressed tar, image-spec `config.md` "Layer DiffID") computed on the way, and each member
//! as a [`FileEntry`] with a normalised path and access to its content.
//!
//! Memory is bounded whatever the layer holds: one decompression window (zstd windows are capped
//! at 2^27 bytes, zstd's own default limit), a 64 KiB buffer, and one tar extension header at most
//! [`TarLimits::max_extension_header`] bytes. Whiteouts are recognised here
//! ([`EntryMeta::whiteout`]) and applied by [`super::FileTree`].
#![warn(missing_docs)]

use std::io::{self, BufReader, Read};

use sha2::{Digest as _, Sha256};

use super::digest::Digest;
use super::media::LayerCompression;
use super::source::SourceError;
use super::tar_reader::{FileType, StreamInput, TarError, TarHeader, TarLimits, TarReader};

/// What was odd about a member's stored path; the path itself is still normalised and kept
/// inside the image root, as containerd's unpacker treats it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathIssue {
    /// It started with `/`.
    Absolute,
    /// It had `..` components that stayed inside the root (`a/../b`).
    DotDot,
    /// Its `..` components climbed above the root (`../../etc/passwd`); they were dropped.
    EscapesRoot,
}

/// A whiteout member (image-spec `layer.md` "Whiteouts"): it deletes, it adds nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Whiteout {
    /// `DIR/.wh.NAME`: `DIR/NAME` (and everything under it) from lower layers is deleted.
    Remove(String),
    /// `DIR/.wh..wh..opq`: everything lower layers put in `DIR` is hidden.
    Opaque(String),
    /// Another `.wh..wh.` name (aufs metadata such as `.wh..wh.plnk`): neither a file nor a deletion.
    Meta,
}

/// What a layer member is, without its content. `path` is normalised: relative to the image
/// root, no leading `/`, no `.` or `..` components, no trailing `/`; the root itself is `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMeta {
    /// The normalised path.
    pub path: String,
    /// What was wrong with the stored path, if anything.
    pub path_issue: Option<PathIssue>,
    /// What the member is.
    pub file_type: FileType,
    /// Permission, set-id and sticky bits (`0o7777` at most).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Content size in bytes (uncompressed; 0 for anything but regular and sparse files).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// A symlink's target exactly as stored, or a hard link's target path normalised like `path`.
    pub link_target: Option<String>,
    /// What was wrong with a hard link's stored target, if anything.
    pub link_issue: Option<PathIssue>,
}

impl EntryMeta {
    /// Whether this member is a whiteout, and what it deletes.
    pub fn whiteout(&self) -> Option<Whiteout> {
        let (parent, name) = match self.path.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", self.path.as_str()),
        };
        let hidden = name.strip_prefix(".wh.")?;
        if hidden == ".wh..opq" {
            return Some(Whiteout::Opaque(parent.to_string()));
        }
        if hidden.starts_with(".wh.") || hidden.is_empty() {
            return Some(Whiteout::Meta);
        }
        Some(Whiteout::Remove(join(parent, hidden)))
    }
}

/// One member of a layer as it is read: its [`EntryMeta`] (fields reachable directly, e.g.
/// `entry.path`) and its content, read through `Read` until the next call to
/// [`LayerReader::next_entry`].
pub struct FileEntry<'r> {
    meta: EntryMeta,
    tar: &'r mut TarReader<StreamInput<DiffHasher>>,
}

impl FileEntry<'_> {
    /// The member without its content.
    pub fn meta(&self) -> &EntryMeta {
        &self.meta
    }

    /// The member without its content, owned.
    pub fn into_meta(self) -> EntryMeta {
        self.meta
    }
}

impl std::ops::Deref for FileEntry<'_> {
    type Target = EntryMeta;
    fn deref(&self) -> &EntryMeta {
        &self.meta
    }
}

impl Read for FileEntry<'_> {
    /// Reads the member's content (regular files; nothing for other types).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.file_type == FileType::Sparse {
            return Err(io::Error::other(
                "sparse files in layers are listed but their content is not read",
            ));
        }
        if self.file_type != FileType::Regular {
            return Ok(0);
        }
        self.tar.read_data(buf).map_err(tar_to_io)
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Normalises a stored member path (see [`EntryMeta::path`]), saying what was odd about it.
pub fn normalise_path(raw: &str) -> (String, Option<PathIssue>) {
    let mut issue = raw.starts_with('/').then_some(PathIssue::Absolute);
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    issue = Some(PathIssue::EscapesRoot);
                } else if issue != Some(PathIssue::EscapesRoot) {
                    issue = Some(PathIssue::DotDot);
                }
            }
            p => parts.push(p),
        }
    }
    (parts.join("/"), issue)
}

/// What one pass over a layer found, besides its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerDigests {
    /// sha256 of the uncompressed tar stream: the layer's diff_id.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub uncompressed_size: u64,
    /// The compression actually found (sniffed), whatever the media type said.
    pub compression: LayerCompression,
}

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerReadError {
    /// The blob itself failed verification (size, digest) or could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Its tar stream is malformed, truncated or over the limits.
    #[error("{0}")]
    Tar(TarError),
    /// Decompression failed (corrupt or truncated compressed data).
    #[error("cannot decompress it ({compression}): {detail}")]
    Decompress {
        /// The compression sniffed from its first bytes.
        compression: LayerCompression,
        /// The decompressor's message.
        detail: String,
    },
    /// The uncompressed stream does not hash to the diff_id the config lists for it.
    #[error(
        "its uncompressed content has diff_id {actual}, but the image config lists {expected}; \
         the image is inconsistent (a runtime such as umoci refuses it)"
    )]
    DiffId {
        /// The config's `rootfs.diff_ids` entry.
        expected: Digest,
        /// What the content hashes to.
        actual: Digest,
    },
}

impl From<TarError> for LayerReadError {
    fn from(e: TarError) -> LayerReadError {
        match e {
            TarError::Io(io) => LayerReadError::from_io(io, None),
            other => LayerReadError::Tar(other),
        }
    }
}

impl LayerReadError {
    fn from_io(e: io::Error, compression: Option<LayerCompression>) -> LayerReadError {
        match SourceError::from_verification(e) {
            Ok(source) => LayerReadError::Source(source),
            Err(e) => LayerReadError::Decompress {
                compression: compression.unwrap_or(LayerCompression::None),
                detail: e.to_string(),
            },
        }
    }
}

fn tar_to_io(e: TarError) -> io::Error {
    match e {
        TarError::Io(io) => io,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// The compressed stream with its first bytes peeked (for sniffing) and put back.
struct Peeked {
    head: Vec<u8>,
    at: usize,
    inner: Box<dyn Read + Send + 'static>,
}

impl Read for Peeked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

enum Decoder {
    Plain(BufReader<Peeked>),
    Gzip(Box<flate2::bufread::MultiGzDecoder<BufReader<Peeked>>>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<Peeked>>),
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

impl Decoder {
    fn into_inner(self) -> BufReader<Peeked> {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(r) => r.into_inner(),
            Decoder::Zstd(r) => r.finish(),
        }
    }
}

/// The uncompressed stream, hashed as it is read (the diff_id).
struct DiffHasher {
    inner: Decoder,
    hasher: Sha256,
    count: u64,
}

impl Read for DiffHasher {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// One pass over one layer. Create it over the layer's compressed bytes (normally a verified
/// blob reader from [`super::open_layer`]), call [`LayerReader::next_entry`] until `None`, then
/// [`LayerReader::finish`] to read to the end and get the diff_id.
pub struct LayerReader {
    tar: TarReader<StreamInput<DiffHasher>>,
    compression: LayerCompression,
}

impl LayerReader {
    /// Starts reading `compressed` (the blob's bytes). The compression is sniffed from the
    /// first bytes; an empty blob reads as an empty layer.
    pub fn new(
        compressed: Box<dyn Read + Send + 'static>,
        limits: TarLimits,
    ) -> Result<LayerReader, LayerReadError> {
        let mut peeked = Peeked {
            head: Vec::with_capacity(4),
            at: 0,
            inner: compressed,
        };
        let mut head = [0u8; 4];
        let mut filled = 0;
        while filled < head.len() {
            let n = peeked
                .inner
                .read(&mut head[filled..])
                .map_err(|e| LayerReadError::from_io(e, None))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        peeked.head.extend_from_slice(&head[..filled]);
        let compression = LayerCompression::sniff(&head[..filled]);
        let buffered = BufReader::with_capacity(64 << 10, peeked);
        let decoder = match compression {
            LayerCompression::None => Decoder::Plain(buffered),
            LayerCompression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
            }
            LayerCompression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|e| LayerReadError::from_io(e, Some(compression)))?;
                d.window_log_max(27)
                    .map_err(|e| LayerReadError::from_io(e, Some(compression)))?;
                Decoder::Zstd(d)
            }
        };
        let hasher = DiffHasher {
            inner: decoder,
            hasher: Sha256::new(),
            count: 0,
        };
        Ok(LayerReader {
            tar: TarReader::new(StreamInput(hasher), limits),
            compression,
        })
    }

    /// The compression found in the first bytes.
    pub fn compression(&self) -> LayerCompression {
        self.compression
    }

    /// The next member, or `None` after the last one. Reading the previous entry's content is
    /// optional; what is left of it is skipped.
    pub fn next_entry(&mut self) -> Result<Option<FileEntry<'_>>, LayerReadError> {
        let compression = self.compression;
        let header = match self.tar.next_header() {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(TarError::Io(e)) => return Err(LayerReadError::from_io(e, Some(compression))),
            Err(e) => return Err(LayerReadError::Tar(e)),
        };
        Ok(Some(entry_of(header, &mut self.tar)))
    }

    /// Reads the rest of the layer (after the end-of-archive marker) so the whole blob is
    /// hashed and verified, and returns its diff_id. With `expected` (the config's diff_id for
    /// this layer), a different diff_id is an error.
    pub fn finish(self, expected: Option<&Digest>) -> Result<LayerDigests, LayerReadError> {
        let compression = self.compression;
        let io_err = |e| LayerReadError::from_io(e, Some(compression));
        let StreamInput(mut hashed) = self.tar.into_inner();
        io::copy(&mut hashed, &mut io::sink()).map_err(io_err)?;
        let diff_id = Digest::from_sha256(hashed.hasher.finalize().as_slice());
        // The decompressor may stop before the end of its input (zstd after the last frame):
        // drain the compressed stream too, so its digest and size are checked.
        let mut rest = hashed.inner.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(io_err)?;
        if let Some(expected) = expected
            && expected != &diff_id
        {
            return Err(LayerReadError::DiffId {
                expected: expected.clone(),
                actual: diff_id,
            });
        }
        Ok(LayerDigests {
            diff_id,
            uncompressed_size: hashed.count,
            compression,
        })
    }
}

fn entry_of(header: TarHeader, tar: &mut TarReader<StreamInput<DiffHasher>>) -> FileEntry<'_> {
    let (path, path_issue) = normalise_path(&header.path);
    let (link_target, link_issue) = match (header.file_type, header.link_target) {
        (FileType::Hardlink, Some(t)) => {
            let (t, issue) = normalise_path(&t);
            (Some(t), issue)
        }
        (_, t) => (t, None),
    };
    FileEntry {
        meta: EntryMeta {
            path,
            path_issue,
            file_type: header.file_type,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            size: header.size,
            mtime: header.mtime,
            link_target,
            link_issue,
        },
        tar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn list(blob: Vec<u8>) -> (Vec<(String, Vec<u8>)>, LayerDigests) {
        let mut r =
            LayerReader::new(Box::new(io::Cursor::new(blob)), TarLimits::default()).unwrap();
        let mut out = Vec::new();
        while let Some(mut e) = r.next_entry().unwrap() {
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.push((e.path.clone(), data));
        }
        (out, r.finish(None).unwrap())
    }

    #[test]
    fn same_entries_and_diff_id_whatever_the_compression() {
        let tar = tar_of(&[("./etc/passwd", b"root"), ("usr/bin/x", b"")]);
        let diff_id = Digest::of(&tar);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 3).unwrap();
        for (blob, compression) in [
            (tar.clone(), LayerCompression::None),
            (gz, LayerCompression::Gzip),
            (zst, LayerCompression::Zstd),
        ] {
            let (entries, digests) = list(blob);
            assert_eq!(entries[0], ("etc/passwd".to_string(), b"root".to_vec()));
            assert_eq!(entries[1].0, "usr/bin/x");
            assert_eq!(digests.diff_id, diff_id);
            assert_eq!(digests.compression, compression);
            assert_eq!(digests.uncompressed_size, tar.len() as u64);
        }
    }

    #[test]
    fn paths_are_normalised_and_their_oddities_reported() {
        assert_eq!(normalise_path("./usr/lib/"), ("usr/lib".into(), None));
        assert_eq!(
            normalise_path("/etc/passwd"),
            ("etc/passwd".into(), Some(PathIssue::Absolute))
        );
        assert_eq!(
            normalise_path("a/../b"),
            ("b".into(), Some(PathIssue::DotDot))
        );
        assert_eq!(
            normalise_path("../../etc/shadow"),
            ("etc/shadow".into(), Some(PathIssue::EscapesRoot))
        );
        assert_eq!(normalise_path("./"), (String::new(), None));
    }

    #[test]
    fn whiteouts_are_recognised() {
        let tar = tar_of(&[
            ("etc/.wh.passwd", b""),
            ("opt/.wh..wh..opq", b""),
            (".wh.top", b""),
            ("x/.wh..wh.plnk", b""),
        ]);
        let mut r = LayerReader::new(Box::new(io::Cursor::new(tar)), TarLimits::default()).unwrap();
        let mut seen = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            seen.push(e.whiteout());
        }
        assert_eq!(
            seen,
            [
                Some(Whiteout::Remove("etc/passwd".into())),
                Some(Whiteout::Opaque("opt".into())),
                Some(Whiteout::Remove("top".into())),
                Some(Whiteout::Meta),
            ]
        );
    }

    #[test]
    fn hostile_members_are_reported_and_kept_inside_the_root() {
        use crate::oci::testing::{Member, tar_of};
        let tar = tar_of(&[
            Member::File("../../etc/shadow", b"x"),
            Member::File("/etc/passwd", b"y"),
            Member::Hardlink("lnk", "../../../root/.ssh/id_rsa"),
            Member::Symlink("abs", "/etc/shadow"),
        ]);
        let mut cut = tar.clone();
        cut.truncate(1024 + 100); // inside the second member's header
        let mut r = LayerReader::new(Box::new(io::Cursor::new(tar)), TarLimits::default()).unwrap();
        let mut seen = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            seen.push((
                e.path.clone(),
                e.path_issue,
                e.link_target.clone(),
                e.link_issue,
            ));
        }
        assert_eq!(
            seen,
            [
                (
                    "etc/shadow".into(),
                    Some(PathIssue::EscapesRoot),
                    None,
                    None
                ),
                ("etc/passwd".into(), Some(PathIssue::Absolute), None, None),
                (
                    "lnk".into(),
                    None,
                    Some("root/.ssh/id_rsa".into()),
                    Some(PathIssue::EscapesRoot)
                ),
                ("abs".into(), None, Some("/etc/shadow".into()), None),
            ]
        );
        let mut r = LayerReader::new(Box::new(io::Cursor::new(cut)), TarLimits::default()).unwrap();
        let err = loop {
            match r.next_entry() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a truncated layer read to the end"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn a_wrong_diff_id_is_an_error_naming_both() {
        let tar = tar_of(&[("a", b"1")]);
        let r = LayerReader::new(Box::new(io::Cursor::new(tar)), TarLimits::default()).unwrap();
        let wrong = Digest::of(b"other");
        let err = r.finish(Some(&wrong)).unwrap_err().to_string();
        assert!(
            err.contains(&wrong.to_string()) && err.contains("diff_id"),
            "{err}"
        );
    }

    #[test]
    fn corrupt_gzip_is_a_decompression_error() {
        let mut blob = vec![0x1f, 0x8b, 8, 0];
        blob.extend([0xff; 64]);
        let mut r =
            LayerReader::new(Box::new(io::Cursor::new(blob)), TarLimits::default()).unwrap();
        let err = loop {
            match r.next_entry() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("garbage read as a layer"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("gzip"), "{err}");
    }
}
