//! A streaming tar reader with hard bounds, for untrusted layers and archives.
//!
//! It reads the formats layers are written in — POSIX ustar and pax (POSIX.1-2001 `pax`
//! extended headers `x`), GNU (`L`/`K` long names, base-256 numbers, old sparse `S`) — one
//! 512-byte header at a time, and never holds more than one extension header in memory: a GNU
//! long name or pax header larger than [`TarLimits::max_extension_header`] is refused before a
//! byte of it is allocated (issue 8, item 11), and a resolved path or link target longer than
//! [`TarLimits::max_path`] is refused. Entry data is never buffered: it is read through
//! [`TarReader::read_data`] or skipped (by seeking when the input can).
//!
//! The `tar` crate is not used for reading because it reads long names and pax headers whole,
//! whatever size they declare, and its raw mode also drops pax `size` overrides.
#![warn(missing_docs)]

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

const BLOCK: u64 = 512;

/// Bounds on what one tar stream may make gopack hold in memory.
#[derive(Clone, Copy, Debug)]
pub struct TarLimits {
    /// Longest path or link target, in bytes, after long-name and pax handling (Linux PATH_MAX).
    pub max_path: usize,
    /// Largest GNU long-name/long-link or pax extended header, in bytes.
    pub max_extension_header: u64,
}

impl Default for TarLimits {
    fn default() -> Self {
        TarLimits {
            max_path: 4096,
            max_extension_header: 1 << 20,
        }
    }
}

/// The type of a tar member, from its typeflag (POSIX `ustar` and GNU values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `0`, NUL or `7`: a regular file.
    Regular,
    /// `1`: a hard link to an earlier member (its link target).
    Hardlink,
    /// `2`: a symbolic link.
    Symlink,
    /// `3`: a character device.
    CharDevice,
    /// `4`: a block device.
    BlockDevice,
    /// `5`: a directory.
    Directory,
    /// `6`: a named pipe.
    Fifo,
    /// GNU `S` or pax sparse: a sparse file (listed with its real size; content not readable).
    Sparse,
    /// Any other typeflag (volume labels, vendor types), listed but not interpreted.
    Other(u8),
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileType::Regular => f.write_str("file"),
            FileType::Hardlink => f.write_str("hard link"),
            FileType::Symlink => f.write_str("symlink"),
            FileType::CharDevice => f.write_str("character device"),
            FileType::BlockDevice => f.write_str("block device"),
            FileType::Directory => f.write_str("directory"),
            FileType::Fifo => f.write_str("fifo"),
            FileType::Sparse => f.write_str("sparse file"),
            FileType::Other(b) => write!(f, "tar type {:?}", *b as char),
        }
    }
}

/// One member's header after extension headers are applied. `path` and `link_target` are the
/// raw names as stored (not yet normalised; see [`super::layer_reader`] for that).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarHeader {
    /// The member's name as stored (pax `path`, else GNU long name, else ustar prefix + name).
    pub path: String,
    /// What it is.
    pub file_type: FileType,
    /// Permission bits and set-id/sticky bits (the low 12 bits of the mode field).
    pub mode: u32,
    /// Owner user id (pax `uid` overrides the header field).
    pub uid: u64,
    /// Owner group id (pax `gid` overrides the header field).
    pub gid: u64,
    /// Size in bytes of the file content (the real size for sparse files; 0 for links, dirs).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Symlink or hard-link target as stored, when the member is a link.
    pub link_target: Option<String>,
    /// Bytes of data that follow the header in the stream (what is skipped after it).
    pub data_size: u64,
    /// Offset in the stream of the first data byte (for random access into an archive file).
    pub data_offset: u64,
    /// Offset in the stream of this member's first header (extension headers included).
    pub header_offset: u64,
}

/// Why a tar stream was refused; `offset` is the byte offset of the offending header.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    /// A header that is not a tar header (bad checksum, unparsable number).
    #[error("not a valid tar: the header at byte {offset} {reason}")]
    BadHeader {
        /// Byte offset of the header in the (uncompressed) stream.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An extension header or path over the limits.
    #[error("refused: the tar header at byte {offset} {reason}")]
    OverLimit {
        /// Byte offset of the header.
        offset: u64,
        /// Which limit, and the size declared.
        reason: String,
    },
    /// The stream ended inside a header or inside a member's data.
    #[error("the tar stream is truncated: it ends inside {what} (at byte {offset})")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where the stream ended.
        offset: u64,
    },
    /// Reading the underlying stream failed (including decompression and verification errors).
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// An input a [`TarReader`] reads from: any `Read`; skipping member data seeks when the
/// input is a file ([`SeekInput`]) and reads through it otherwise ([`StreamInput`]).
pub trait TarInput: Read {
    /// Skips `n` bytes; returns how many were skipped (fewer only at end of input).
    fn skip(&mut self, n: u64) -> io::Result<u64>;
}

/// A streaming input (a decompressor, a network body): skipped data is read and dropped.
pub struct StreamInput<R>(pub R);

impl<R: Read> Read for StreamInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> TarInput for StreamInput<R> {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut (&mut self.0).take(n), &mut io::sink())
    }
}

/// A seekable input of known length (an archive file): skipped data is seeked over.
pub struct SeekInput<R> {
    inner: R,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> SeekInput<R> {
    /// Wraps `inner`, positioned at its start, whose total length is `len` bytes.
    pub fn new(inner: R, len: u64) -> SeekInput<R> {
        SeekInput { inner, pos: 0, len }
    }
}

impl<R: Read + Seek> Read for SeekInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> TarInput for SeekInput<R> {
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let n = n.min(self.len.saturating_sub(self.pos));
        self.inner.seek(SeekFrom::Current(n as i64))?;
        self.pos += n;
        Ok(n)
    }
}

/// Reads members one after the other. Call [`TarReader::next_header`] for each member, and
/// optionally [`TarReader::read_data`] for its content before the next call.
pub struct TarReader<R> {
    input: R,
    limits: TarLimits,
    /// Bytes consumed from the input so far.
    pos: u64,
    /// Data bytes of the current member not yet read, then its padding.
    remaining: u64,
    padding: u64,
    done: bool,
}

/// Extension headers seen before the member they describe.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Vec<(String, Vec<u8>)>,
    first_offset: Option<u64>,
}

impl<R: TarInput> TarReader<R> {
    /// A reader at the start of a tar stream.
    pub fn new(input: R, limits: TarLimits) -> TarReader<R> {
        TarReader {
            input,
            limits,
            pos: 0,
            remaining: 0,
            padding: 0,
            done: false,
        }
    }

    /// Bytes consumed from the input so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The input, for draining it after the end-of-archive marker.
    pub fn into_inner(self) -> R {
        self.input
    }

    /// The next member's header, after skipping what is left of the previous member; `None` at
    /// the end-of-archive marker (a zero block) or at the end of the input between members.
    pub fn next_header(&mut self) -> Result<Option<TarHeader>, TarError> {
        if self.done {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut pending = Pending::default();
        loop {
            let offset = self.pos;
            let mut block = [0u8; BLOCK as usize];
            if !self.read_block(&mut block)? {
                if pending.first_offset.is_some() {
                    return Err(TarError::Truncated {
                        what: "a member described by extension headers",
                        offset: self.pos,
                    });
                }
                self.done = true;
                return Ok(None);
            }
            if block.iter().all(|b| *b == 0) {
                self.done = true;
                return Ok(None);
            }
            pending.first_offset.get_or_insert(offset);
            let raw = RawHeader::parse(&block, offset)?;
            match raw.typeflag {
                b'L' | b'K' | b'x' | b'g' => {
                    let data = self.read_extension(&raw, offset)?;
                    match raw.typeflag {
                        b'L' => pending.long_name = Some(data),
                        b'K' => pending.long_link = Some(data),
                        b'x' => pending.pax = parse_pax(&data, offset)?,
                        _ => {} // pax global headers: read and ignored, as Docker does.
                    }
                }
                _ => return self.finish_header(raw, pending, offset).map(Some),
            }
        }
    }

    /// Reads content of the current member (at most its remaining bytes; 0 at its end).
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, TarError> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.input.read(&mut buf[..want])?;
        if n == 0 {
            return Err(TarError::Truncated {
                what: "a member's data",
                offset: self.pos,
            });
        }
        self.pos += n as u64;
        self.remaining -= n as u64;
        Ok(n)
    }

    fn finish_header(
        &mut self,
        raw: RawHeader,
        pending: Pending,
        offset: u64,
    ) -> Result<TarHeader, TarError> {
        let mut data_size = raw.size;
        let sparse_extended = raw.sparse_extended;
        let legacy_regular = raw.typeflag == 0;
        let mut header = raw.into_header(self.pos);
        if let Some(name) = pending.long_name {
            header.path = text_until_nul(&name);
        }
        if let Some(link) = pending.long_link {
            header.link_target = Some(text_until_nul(&link));
        }
        let number = |v: &[u8]| -> Result<u64, TarError> {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.split('.').next())
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| TarError::BadHeader {
                    offset,
                    reason: "has a pax number that is not a number".into(),
                })
        };
        let mut sparse_name = None;
        for (key, value) in &pending.pax {
            match key.as_str() {
                "path" => header.path = name_text(value),
                "linkpath" => header.link_target = Some(name_text(value)),
                "size" => data_size = number(value)?,
                "uid" => header.uid = number(value)?,
                "gid" => header.gid = number(value)?,
                "mtime" => header.mtime = pax_mtime(value),
                "GNU.sparse.name" => sparse_name = Some(name_text(value)),
                "GNU.sparse.realsize" | "GNU.sparse.size" => header.size = number(value)?,
                _ => {}
            }
        }
        // Pre-POSIX tars (typeflag NUL) mark directories only by a trailing slash, as Go reads them.
        if legacy_regular && header.path.ends_with('/') {
            header.file_type = FileType::Directory;
        }
        if let Some(name) = sparse_name {
            header.path = name;
            header.file_type = FileType::Sparse;
        } else if header.file_type != FileType::Sparse {
            header.size = data_size;
        }
        if header.file_type == FileType::Sparse && sparse_extended {
            self.skip_sparse_extensions(offset)?;
        }
        let limit = self.limits.max_path;
        for (what, text) in [
            ("path", Some(&header.path)),
            ("link target", header.link_target.as_ref()),
        ] {
            if let Some(t) = text.filter(|t| t.len() > limit) {
                return Err(TarError::OverLimit {
                    offset,
                    reason: format!("has a {what} of {} bytes (limit {limit})", t.len()),
                });
            }
        }
        if !matches!(header.file_type, FileType::Regular | FileType::Sparse) {
            header.size = 0;
        }
        header.data_size = data_size;
        header.data_offset = self.pos;
        header.header_offset = pending.first_offset.unwrap_or(offset);
        self.remaining = data_size;
        self.padding = padding(data_size);
        Ok(header)
    }

    /// Reads an extension header's data, refusing it before allocating if it is over the limit.
    fn read_extension(&mut self, raw: &RawHeader, offset: u64) -> Result<Vec<u8>, TarError> {
        let limit = self.limits.max_extension_header;
        if raw.size > limit {
            let kind = match raw.typeflag {
                b'L' => "GNU long name",
                b'K' => "GNU long link",
                _ => "pax extended header",
            };
            return Err(TarError::OverLimit {
                offset,
                reason: format!("is a {kind} declaring {} bytes (limit {limit})", raw.size),
            });
        }
        let mut data = vec![0u8; raw.size as usize];
        let mut filled = 0;
        while filled < data.len() {
            let n = self.input.read(&mut data[filled..])?;
            if n == 0 {
                return Err(TarError::Truncated {
                    what: "an extension header",
                    offset: self.pos,
                });
            }
            filled += n;
            self.pos += n as u64;
        }
        self.padding = padding(raw.size);
        self.remaining = 0;
        self.skip_rest()?;
        Ok(data)
    }

    fn skip_sparse_extensions(&mut self, offset: u64) -> Result<(), TarError> {
        loop {
            let mut block = [0u8; BLOCK as usize];
            if !self.read_block(&mut block)? {
                return Err(TarError::Truncated {
                    what: "a sparse file's extension headers",
                    offset,
                });
            }
            if block[504] == 0 {
                return Ok(());
            }
        }
    }

    fn skip_rest(&mut self) -> Result<(), TarError> {
        let n = self.remaining + self.padding;
        if n > 0 {
            let data = self.remaining;
            let skipped = self.input.skip(n)?;
            self.pos += skipped;
            self.remaining = 0;
            self.padding = 0;
            // The member's data is whole and the input ends in its padding: the end of the
            // archive, as Go's archive/tar (Docker, containerd, umoci) reads it; umoci 0.4's
            // `insert` writes such layers (opencontainers/umoci#436).
            if skipped < n && skipped >= data {
                self.done = true;
                return Ok(());
            }
            if skipped < n {
                return Err(TarError::Truncated {
                    what: "a member's data",
                    offset: self.pos,
                });
            }
        }
        Ok(())
    }

    /// Reads one whole block; `false` at a clean end of input, an error inside a block.
    fn read_block(&mut self, block: &mut [u8; BLOCK as usize]) -> Result<bool, TarError> {
        let mut filled = 0;
        while filled < block.len() {
            let n = self.input.read(&mut block[filled..])?;
            if n == 0 {
                if filled == 0 {
                    return Ok(false);
                }
                return Err(TarError::Truncated {
                    what: "a header",
                    offset: self.pos,
                });
            }
            filled += n;
            self.pos += n as u64;
        }
        Ok(true)
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// The fields of one 512-byte header block.
struct RawHeader {
    name: String,
    typeflag: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: i64,
    link_name: String,
    sparse_extended: bool,
    real_size: Option<u64>,
}

impl RawHeader {
    fn parse(block: &[u8; BLOCK as usize], offset: u64) -> Result<RawHeader, TarError> {
        let bad = |reason: String| TarError::BadHeader { offset, reason };
        let stored = number(&block[148..156]).map_err(|r| bad(format!("has a checksum {r}")))?;
        let unsigned: u64 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    *b as u64
                }
            })
            .sum();
        let signed: i64 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    *b as i8 as i64
                }
            })
            .sum();
        if stored != unsigned && stored as i64 != signed {
            return Err(bad("has a wrong checksum".into()));
        }
        let field = |range: std::ops::Range<usize>, what: &str| {
            number(&block[range]).map_err(|r| bad(format!("has a {what} field {r}")))
        };
        let magic = &block[257..263];
        let ustar = magic == b"ustar\0";
        let gnu = magic == b"ustar ";
        let mut name = text_until_nul(&block[0..100]);
        if ustar && block[345] != 0 {
            name = format!("{}/{name}", text_until_nul(&block[345..500]));
        }
        let typeflag = block[156];
        Ok(RawHeader {
            name,
            typeflag,
            mode: (field(100..108, "mode")? & 0o7777) as u32,
            uid: field(108..116, "uid")?,
            gid: field(116..124, "gid")?,
            size: field(124..136, "size")?,
            // A pre-1970 (negative) or garbled mtime is not worth refusing a layer for.
            mtime: number(&block[136..148]).map_or(0, |t| t.min(i64::MAX as u64) as i64),
            link_name: text_until_nul(&block[157..257]),
            sparse_extended: gnu && typeflag == b'S' && block[482] != 0,
            real_size: if gnu && typeflag == b'S' {
                Some(field(483..495, "sparse size")?)
            } else {
                None
            },
        })
    }

    fn into_header(self, data_offset: u64) -> TarHeader {
        let file_type = match self.typeflag {
            b'0' | 0 | b'7' => FileType::Regular,
            b'1' => FileType::Hardlink,
            b'2' => FileType::Symlink,
            b'3' => FileType::CharDevice,
            b'4' => FileType::BlockDevice,
            b'5' => FileType::Directory,
            b'6' => FileType::Fifo,
            b'S' => FileType::Sparse,
            other => FileType::Other(other),
        };
        let is_link = matches!(file_type, FileType::Hardlink | FileType::Symlink);
        TarHeader {
            path: self.name,
            file_type,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            size: self.real_size.unwrap_or(self.size),
            mtime: self.mtime,
            link_target: is_link.then_some(self.link_name),
            data_size: self.size,
            data_offset,
            header_offset: 0,
        }
    }
}

/// A numeric header field: octal text (NUL/space padded) or GNU base-256 (high bit set).
fn number(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return Err("that is negative".into());
        }
        let mut value: u64 = (field[0] & 0x3f) as u64;
        for b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(*b as u64))
                .ok_or("that overflows 64 bits")?;
        }
        return Ok(value);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ' || *b == 0)
        .take_while(|b| *b != b' ' && *b != 0)
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let text = std::str::from_utf8(&text).map_err(|_| "that is not octal")?;
    u64::from_str_radix(text, 8).map_err(|_| format!("`{}` that is not octal", text.escape_debug()))
}

/// A pax `mtime`: seconds with an optional fraction, negative before 1970 (POSIX pax); like a
/// garbled ustar mtime, a bad one is not worth refusing a layer for (0).
fn pax_mtime(value: &[u8]) -> i64 {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.split('.').next())
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0)
}

fn text_until_nul(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    name_text(&bytes[..end])
}

/// Marks an escaped character in [`name_text`] (a noncharacter of plane 16).
const NAME_ESCAPE: char = '\u{10FFFF}';

/// A member name as text, one-to-one with its bytes: tar names are bytes, and two names that
/// differ only in bytes that are not UTF-8 must stay two names (a whiteout for `.ssh\xfe` must
/// not delete `.ssh\xff`, which a lossy conversion would make the same `.ssh\u{fffd}`). Valid
/// UTF-8 passes unchanged; a byte that is not becomes [`NAME_ESCAPE`] + U+10FE00+byte, and a
/// literal [`NAME_ESCAPE`] is doubled.
pub fn name_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            out.push(c);
            if c == NAME_ESCAPE {
                out.push(NAME_ESCAPE);
            }
        }
        for b in chunk.invalid() {
            out.push(NAME_ESCAPE);
            out.push(char::from_u32(0x10FE00 + u32::from(*b)).expect("plane 16 is valid"));
        }
    }
    out
}

/// Pax records (`"%d %s=%s\n"`, the length counting the whole record).
fn parse_pax(data: &[u8], offset: u64) -> Result<Vec<(String, Vec<u8>)>, TarError> {
    let bad = || TarError::BadHeader {
        offset,
        reason: "has a malformed pax record".into(),
    };
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let space = rest.iter().position(|b| *b == b' ').ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = &rest[space + 1..len - 1];
        let eq = record.iter().position(|b| *b == b'=').ok_or_else(bad)?;
        records.push((
            String::from_utf8_lossy(&record[..eq]).into_owned(),
            record[eq + 1..].to_vec(),
        ));
        rest = &rest[len..];
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, typeflag: u8, size: u64) -> [u8; 512] {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_entry_type(tar::EntryType::new(typeflag));
        h.set_mode(0o644);
        h.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        *h.as_bytes()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<TarHeader>, TarError> {
        let mut r = TarReader::new(StreamInput(bytes), TarLimits::default());
        let mut out = Vec::new();
        while let Some(h) = r.next_header()? {
            out.push(h);
        }
        Ok(out)
    }

    #[test]
    fn reads_what_the_tar_crate_writes_including_long_names_and_links() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("{}/file", "d".repeat(300));
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o4755);
        h.set_uid(1000);
        b.append_data(&mut h, &long, &b"hello"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "lib", "x".repeat(200)).unwrap();
        let bytes = b.into_inner().unwrap();
        let mut r = TarReader::new(StreamInput(&bytes[..]), TarLimits::default());
        let first = r.next_header().unwrap().unwrap();
        assert_eq!(
            (first.path.as_str(), first.size, first.mode, first.uid),
            (long.as_str(), 5, 0o4755, 1000)
        );
        let mut data = [0u8; 16];
        let n = r.read_data(&mut data).unwrap();
        assert_eq!(&data[..n], b"hello");
        let link = r.next_header().unwrap().unwrap();
        assert_eq!(link.file_type, FileType::Symlink);
        assert_eq!(link.link_target.unwrap(), "x".repeat(200));
        assert!(r.next_header().unwrap().is_none());
    }

    #[test]
    fn input_ending_in_the_last_members_padding_is_the_end_as_go_reads_it() {
        // umoci 0.4's `insert` (opencontainers/umoci#436): the data, then nothing.
        let mut bytes = header("a", b'0', 3).to_vec();
        bytes.extend(b"abc");
        let all = read_all(&bytes).unwrap();
        assert_eq!(all.len(), 1);
        bytes.extend([0u8; 100]); // part of the padding
        assert_eq!(read_all(&bytes).unwrap().len(), 1);
        // Data cut short is still truncated.
        let mut cut = header("a", b'0', 600).to_vec();
        cut.extend([b'x'; 599]);
        assert!(matches!(read_all(&cut), Err(TarError::Truncated { .. })));
        // An extension header whose member never comes is still truncated.
        let mut ext = header("././@LongLink", b'L', 3).to_vec();
        ext.extend(b"abc");
        assert!(matches!(read_all(&ext), Err(TarError::Truncated { .. })));
    }

    #[test]
    fn pax_overrides_path_size_and_ids() {
        let records = "18 path=a/b/c.txt\n11 size=11\n12 uid=4242\n";
        let mut bytes = Vec::new();
        bytes.extend(header("././@PaxHeader", b'x', records.len() as u64));
        let mut data = records.as_bytes().to_vec();
        data.resize(512, 0);
        bytes.extend(data);
        bytes.extend(header("short", b'0', 3));
        let mut content = b"hello world".to_vec();
        content.resize(512, 0);
        bytes.extend(content);
        bytes.extend([0u8; 1024]);
        let all = read_all(&bytes).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].path.as_str(), all[0].size, all[0].uid),
            ("a/b/c.txt", 11, 4242)
        );
    }

    /// Attacker case U1: a whiteout for `.ssh\xfe` must not hide `.ssh\xff`.
    #[test]
    fn names_that_differ_in_non_utf8_bytes_stay_different() {
        let a = name_text(b".ssh\xff");
        let b = name_text(b".ssh\xfe");
        assert_ne!(a, b);
        assert_eq!(name_text("d\u{e9}j\u{e0}".as_bytes()), "d\u{e9}j\u{e0}");
        // A literal escape character cannot forge an escaped byte.
        let forged = format!(".ssh{NAME_ESCAPE}\u{10feff}");
        assert_ne!(name_text(forged.as_bytes()), a);
    }

    /// POSIX pax allows mtimes before 1970 and fractions (attacker case T9: `mtime=-1`).
    #[test]
    fn pax_mtimes_may_be_negative_or_fractional() {
        for (record, want) in [("12 mtime=-1\n", -1), ("20 mtime=1700.12345\n", 1700)] {
            let mut bytes = Vec::new();
            bytes.extend(header("././@PaxHeader", b'x', record.len() as u64));
            let mut data = record.as_bytes().to_vec();
            data.resize(512, 0);
            bytes.extend(data);
            bytes.extend(header("f", b'0', 0));
            bytes.extend([0u8; 1024]);
            let all = read_all(&bytes).unwrap();
            assert_eq!(all[0].mtime, want, "{record:?}");
        }
    }

    #[test]
    fn a_huge_long_name_is_refused_before_it_is_read() {
        let mut bytes = header("././@LongLink", b'L', 1 << 30).to_vec();
        bytes.extend([b'a'; 512]);
        let err = read_all(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("GNU long name declaring 1073741824 bytes"),
            "{err}"
        );
        let mut bytes = header("././@PaxHeader", b'x', 1 << 30).to_vec();
        bytes.extend([b'a'; 512]);
        let err = read_all(&bytes).unwrap_err().to_string();
        assert!(err.contains("pax extended header"), "{err}");
    }

    #[test]
    fn truncation_and_corruption_are_errors() {
        let mut bytes = header("f", b'0', 1000).to_vec();
        bytes.extend([1u8; 100]);
        assert!(matches!(
            read_all(&bytes),
            Ok(_) | Err(TarError::Truncated { .. })
        ));
        let mut r = TarReader::new(StreamInput(&bytes[..]), TarLimits::default());
        r.next_header().unwrap();
        assert!(
            r.next_header().is_err(),
            "skipping past the end is truncation"
        );
        let mut bad = header("f", b'0', 0);
        bad[0] = b'g';
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        assert!(read_all(&[]).unwrap().is_empty());
    }

    #[test]
    fn old_style_directories_and_negative_mtimes_are_read() {
        let mut dir = header("old/", b'0', 0);
        dir[156] = 0;
        dir[136] = 0xff;
        dir[147] = 0xff;
        let mut h = tar::Header::from_byte_slice(&dir).clone();
        h.set_cksum();
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend([0u8; 1024]);
        let all = read_all(&bytes).unwrap();
        assert_eq!(all[0].file_type, FileType::Directory);
        assert_eq!(all[0].mtime, 0);
    }

    #[test]
    fn base256_numbers() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 5;
        f[10] = 1;
        assert_eq!(number(&f).unwrap(), 261);
        assert_eq!(number(b"0000644\0").unwrap(), 0o644);
        assert_eq!(number(b"        ").unwrap(), 0);
        assert!(number(b"99\0").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, timeout: 2000, ..Default::default() })]
        #[test]
        fn any_bytes_end_in_a_list_or_an_error(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let _ = read_all(&bytes);
        }
    }
}
