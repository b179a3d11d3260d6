//! One streaming pass over one layer blob, producing its [`LayerRecord`]: every member's
//! metadata, the sha256 of every regular file's content, ELF files analysed on the way (Go
//! binaries, with a build-info blob, in full; the others by their headers), and the few
//! small files later checks read.
//!
//! Memory stays bounded whatever the layer holds: content is hashed in 64 KiB chunks and
//! dropped, except ELF files, which are kept until their end to be analysed — in memory up to
//! [`ScanLimits::spill_over`] bytes, beyond that in an unnamed temporary file (`O_TMPFILE`:
//! it has no name, is never reachable by path, and vanishes when closed). ELF files over
//! [`ScanLimits::max_binary`] are listed with their file header only, as too large to
//! analyse. Nothing from a layer is ever written under a path taken from the layer.

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

use super::record::{
    CAPTURED_PATHS, Captured, ElfFile, Entry, FLAG_ELF, FLAG_PRIVATE_KEY, GoBinary, Kind,
    LayerRecord, MAX_CAPTURED, PathProblem, RECORD_FORMAT,
};
use super::{elffile, gobin};
use crate::oci::{Descriptor, FileEntry, ImageSource, TarLimits, Whiteout, open_layer};

/// Bounds of one scan.
#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    /// Bounds on the tar stream (path length, extension headers).
    pub tar: TarLimits,
    /// Largest ELF file analysed (as a Go binary or by its headers), bytes; a larger one is
    /// recorded with its file header only, as too large to analyse.
    pub max_binary: u64,
    /// ELF files larger than this are kept in an unnamed temporary file instead of memory.
    pub spill_over: u64,
    /// Most members read from one layer (each costs about 500 bytes of memory once replayed).
    pub max_entries: usize,
    /// Most members replayed across all layers of one image: bounds memory and the time an
    /// image listing one big layer thousands of times can take.
    pub max_image_entries: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            tar: TarLimits::default(),
            max_binary: 1 << 30,
            spill_over: 16 << 20,
            max_entries: 1_000_000,
            max_image_entries: 2_000_000,
        }
    }
}

const CHUNK: usize = 64 << 10;

/// Reads `layer` from `source` once. Never fails: a layer that cannot be read whole gives a
/// partial record with [`LayerRecord::error`] set (blob truncated, digest or size mismatch,
/// corrupt compression, a tar header over the limits), and the caller reports it.
pub fn scan_layer<S: ImageSource + ?Sized>(
    source: &S,
    layer: &Descriptor,
    limits: &ScanLimits,
) -> LayerRecord {
    let mut record = LayerRecord {
        format: RECORD_FORMAT,
        digest: layer.digest.to_string(),
        ..LayerRecord::default()
    };
    let mut reader = match open_layer(source, layer, limits.tar) {
        Ok(r) => r,
        Err(e) => {
            record.error = Some(e.to_string());
            return record;
        }
    };
    let mut buf = vec![0u8; CHUNK];
    loop {
        let entry = match reader.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                record.error = Some(e.to_string());
                return record;
            }
        };
        if record.entries.len() >= limits.max_entries {
            record.error = Some(format!(
                "the layer has more than {} members; gopack stops reading it there",
                limits.max_entries
            ));
            return record;
        }
        if let Err(e) = scan_entry(entry, &mut record, &mut buf, limits) {
            record.error = Some(e.to_string());
            return record;
        }
    }
    match reader.finish(None) {
        Ok(d) => {
            record.diff_id = d.diff_id.to_string();
            record.uncompressed_size = d.uncompressed_size;
            record.compression = match d.compression {
                crate::oci::LayerCompression::None => "none",
                crate::oci::LayerCompression::Gzip => "gzip",
                crate::oci::LayerCompression::Zstd => "zstd",
            }
            .to_string();
        }
        Err(e) => record.error = Some(e.to_string()),
    }
    record
}

fn scan_entry(
    mut entry: FileEntry<'_>,
    record: &mut LayerRecord,
    buf: &mut [u8],
    limits: &ScanLimits,
) -> io::Result<()> {
    let index = record.entries.len() as u32;
    let (kind, path) = match entry.whiteout() {
        Some(Whiteout::Meta) => return Ok(()),
        Some(Whiteout::Remove(p)) => (Kind::Whiteout, p),
        Some(Whiteout::Opaque(p)) => (Kind::Opaque, p),
        None => (Kind::of(entry.file_type), entry.path.clone()),
    };
    if let Some(issue) = entry.path_issue {
        record.path_problems.push(PathProblem {
            entry: index,
            in_link: false,
            issue: issue.into(),
        });
    }
    if let Some(issue) = entry.link_issue {
        record.path_problems.push(PathProblem {
            entry: index,
            in_link: true,
            issue: issue.into(),
        });
    }
    let mut e = Entry {
        path,
        kind,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: entry.size,
        mtime: entry.mtime,
        link: entry.link_target.clone(),
        sha256: None,
        flags: 0,
    };
    if kind == Kind::File {
        let captured = CAPTURED_PATHS.contains(&e.path.as_str()) && e.size <= MAX_CAPTURED;
        let content = read_content(&mut entry, buf, limits, captured)?;
        e.sha256 = Some(content.sha256);
        e.flags = content.flags;
        if let Some(bytes) = content.captured {
            record.captured.push(Captured {
                entry: index,
                bytes,
            });
        }
        if let Some(spool) = content.elf {
            match spool.analyse(index)? {
                Analysed::Go(binary) => record.binaries.push(binary),
                Analysed::Other(file) => record.elf_files.push(file),
            }
        } else if let Some(head) = content.elf_head {
            let file = elffile::too_large(&head, index, e.size, limits.max_binary);
            record.elf_files.push(file);
        }
    }
    record.entries.push(e);
    Ok(())
}

struct Content {
    sha256: [u8; 32],
    flags: u8,
    captured: Option<Vec<u8>>,
    elf: Option<Spool>,
    /// The first bytes (the file header) of an ELF file too large to keep.
    elf_head: Option<Vec<u8>>,
}

/// Bytes kept of an ELF file too large to analyse: its file header (52 or 64 bytes).
const ELF_HEADER_BYTES: usize = 64;

/// Hashes a regular file's content, keeping it only when it is a small captured file or an
/// ELF file (up to [`ScanLimits::max_binary`]; beyond, only its header).
fn read_content(
    entry: &mut FileEntry<'_>,
    buf: &mut [u8],
    limits: &ScanLimits,
    capture: bool,
) -> io::Result<Content> {
    let mut hasher = Sha256::new();
    let mut flags = 0u8;
    let mut captured = capture.then(Vec::new);
    let mut elf: Option<Spool> = None;
    let mut elf_head = None;
    let mut first = true;
    loop {
        let n = read_full(entry, buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        if first {
            first = false;
            if chunk.starts_with(b"\x7fELF") {
                flags |= FLAG_ELF;
                if entry.size <= limits.max_binary {
                    elf = Some(Spool::new(entry.size, limits.spill_over)?);
                } else {
                    elf_head = Some(chunk[..n.min(ELF_HEADER_BYTES)].to_vec());
                }
            }
            if holds_private_key(chunk) {
                flags |= FLAG_PRIVATE_KEY;
            }
        }
        if let Some(c) = captured.as_mut() {
            c.extend_from_slice(chunk);
        }
        if let Some(s) = elf.as_mut() {
            s.write_all(chunk)?;
        }
    }
    Ok(Content {
        sha256: hasher.finalize().into(),
        flags,
        captured,
        elf,
        elf_head,
    })
}

/// Fills `buf` as far as the entry allows (fewer bytes only at its end).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether `bytes` hold a PEM private key header (`-----BEGIN RSA PRIVATE KEY-----`,
/// `-----BEGIN OPENSSH PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY-----`…).
pub fn holds_private_key(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(at) = memchr::memmem::find(rest, b"-----BEGIN ") {
        let line = &rest[at + 11..];
        let end = line.len().min(48);
        if memchr::memmem::find(&line[..end], b"PRIVATE KEY-----").is_some() {
            return true;
        }
        rest = &rest[at + 11..];
    }
    false
}

/// What an ELF file is.
enum Analysed {
    /// It holds a Go build-info blob.
    Go(GoBinary),
    /// Any other ELF file.
    Other(ElfFile),
}

/// An ELF file's bytes, kept in memory or, when large, in an unnamed temporary file.
enum Spool {
    Memory(Vec<u8>),
    File(std::fs::File),
}

impl Spool {
    fn new(size: u64, spill_over: u64) -> io::Result<Spool> {
        if size > spill_over {
            Ok(Spool::File(tempfile::tempfile()?))
        } else {
            Ok(Spool::Memory(Vec::with_capacity(size as usize)))
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Spool::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Spool::File(f) => f.write_all(bytes),
        }
    }

    /// The Go binary these bytes are, if they hold a build-info blob; else what their ELF
    /// headers say.
    fn analyse(self, entry: u32) -> io::Result<Analysed> {
        let of = |bytes: &[u8]| match gobin::analyse(bytes, entry) {
            Some(binary) => Analysed::Go(binary),
            None => Analysed::Other(elffile::analyse(bytes, entry)),
        };
        match self {
            Spool::Memory(v) => Ok(of(&v)),
            Spool::File(f) => {
                // SAFETY: the file is unnamed and private to this process; nothing else can
                // change it while it is mapped.
                let map = unsafe { memmap2::Mmap::map(&f)? };
                Ok(of(&map))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer of `n` empty files in a one-image layout at `dir`; its descriptor.
    fn layer_of_many_files(dir: &std::path::Path, n: usize) -> Descriptor {
        let files: Vec<(String, Vec<u8>)> = (0..n).map(|i| (format!("f{i}"), Vec::new())).collect();
        layer_of(dir, &files)
    }

    /// A layer of `files` (path, content) in a one-image layout at `dir`; its descriptor.
    fn layer_of(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> Descriptor {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(content.len() as u64);
            h.set_mode(0o755);
            h.set_cksum();
            tar.append_data(&mut h, path, &content[..]).unwrap();
        }
        let bytes = tar.into_inner().unwrap();
        let digest = crate::oci::Digest::of(&bytes);
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join(digest.hex()), &bytes).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(
            dir.join("index.json"),
            r#"{"schemaVersion":2,"manifests":[]}"#,
        )
        .unwrap();
        serde_json::from_value(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest.to_string(),
            "size": bytes.len(),
        }))
        .unwrap()
    }

    #[test]
    fn a_layer_with_more_members_than_the_bound_stops_there_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let layer = layer_of_many_files(dir.path(), 50);
        let source =
            crate::oci::source::LayoutSource::open(dir.path(), None, Default::default()).unwrap();
        let limits = ScanLimits {
            max_entries: 20,
            ..ScanLimits::default()
        };
        let record = scan_layer(&source, &layer, &limits);
        assert_eq!(record.entries.len(), 20);
        assert!(
            record
                .error
                .as_deref()
                .unwrap_or("")
                .contains("more than 20 members"),
            "{:?}",
            record.error
        );
        let whole = scan_layer(&source, &layer, &ScanLimits::default());
        assert_eq!((whole.entries.len(), whole.error), (50, None));
    }

    #[test]
    fn elf_files_that_are_not_go_are_read_by_their_headers_up_to_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let ls = std::fs::read("/bin/ls").expect("/bin/ls exists on Linux");
        let files = [
            ("bin/ls".to_string(), ls.clone()),
            ("etc/hostname".to_string(), b"box\n".to_vec()),
        ];
        let layer = layer_of(dir.path(), &files);
        let source =
            crate::oci::source::LayoutSource::open(dir.path(), None, Default::default()).unwrap();
        let record = scan_layer(&source, &layer, &ScanLimits::default());
        assert!(record.binaries.is_empty());
        assert_eq!(record.elf_files.len(), 1, "{:?}", record.elf_files);
        let f = &record.elf_files[0];
        assert_eq!((f.entry, &f.error), (0, &None));
        assert!(f.interpreter.as_deref().unwrap().contains("ld-linux"));
        assert!(f.needed.iter().any(|l| l.starts_with("libc.so")));
        // Over the bound: the header only, and why.
        let small = ScanLimits {
            max_binary: ls.len() as u64 - 1,
            ..ScanLimits::default()
        };
        let record = scan_layer(&source, &layer, &small);
        let f = &record.elf_files[0];
        assert!(
            f.error
                .as_deref()
                .unwrap()
                .starts_with("too large to analyse")
        );
        assert_eq!(f.header.as_ref().unwrap().class, "ELF64");
        assert!(f.interpreter.is_none() && f.needed.is_empty());
    }

    #[test]
    fn private_keys_are_recognised_by_their_pem_header() {
        assert!(holds_private_key(
            b"x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc"
        ));
        assert!(holds_private_key(b"-----BEGIN PRIVATE KEY-----"));
        assert!(!holds_private_key(
            b"-----BEGIN CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----"
        ));
        assert!(!holds_private_key(b"PRIVATE KEY----- without a header"));
    }
}
