//! The build information the Go linker writes into every binary (`.go.buildinfo`): Go version,
//! main module, dependencies with sums, and build settings. Both layouts are read: inline
//! strings (Go ≥ 1.18) and the older pointer form (Go 1.13–1.17). Layout: go-facts §5.

use object::{Object as _, ObjectSection as _, ObjectSegment as _};

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE_STRINGS: u8 = 2;
/// cmd/go wraps modinfo in 16-byte sentinels so it can be found in binaries; they are stripped.
const SENTINEL_LEN: usize = 16;

/// A binary's build information, as `go version -m` prints it (Go's debug/buildinfo and
/// runtime/debug.BuildInfo).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildInfo {
    /// As the toolchain spells it, e.g. `go1.26.8` or `go1.26.0-X:nodwarf5`.
    pub go_version: String,
    /// Import path of the main package.
    pub path: String,
    /// The main module (`mod` line); `None` for a binary built outside a module.
    pub main: Option<Module>,
    /// Dependency modules (`dep` lines) in the order written, with their replacements.
    pub deps: Vec<Module>,
    /// `build` lines in order: `-trimpath=true`, `GOARCH=amd64`, `vcs.revision=…`.
    pub settings: Vec<(String, String)>,
}

/// One module line of the build information (runtime/debug.Module).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Module {
    /// Module path, e.g. `golang.org/x/net`.
    pub path: String,
    /// Module version, e.g. `v0.30.0`; `(devel)` for a main module built from a checkout.
    pub version: String,
    /// go.sum hash (`h1:…`); `None` for the main module and for local replacements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// The module that replaced this one (`=>` line), when go.mod has a `replace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<Module>>,
}

impl BuildInfo {
    /// The value of the build setting `key` (`GOARCH`, `CGO_ENABLED`, `vcs.revision`…), the
    /// first if repeated.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why the build information could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BuildInfoError {
    /// No `\xff Go buildinf:` magic: not a Go binary, or one older than Go 1.13.
    #[error("no Go build information found: not a Go binary, or built by a Go older than 1.13")]
    NotFound,
    /// The header or a string it points at lies outside the file; names the part.
    #[error("Go build information is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    /// A modinfo line whose fields do not fit its kind (`path`, `mod`, `dep`, `=>`, `build`).
    #[error("Go build information line {line} is malformed: `{text}`")]
    BadLine {
        /// 1-based line number in the modinfo text.
        line: usize,
        /// The line, cut at 200 characters.
        text: String,
    },
}

/// Reads the build information of a Go executable. In an ELF file the blob is looked for where
/// Go's debug/buildinfo looks (so `go version -m` and gopack agree on what is a Go binary): the
/// `.go.buildinfo` section, else the first 64 KiB of the first writable, non-executable
/// PT_LOAD segment, the magic on a 16-byte boundary. A program that only holds the magic as a
/// constant in its read-only data (gopack itself) is not a Go binary. Other data (another
/// format, a bare blob) is scanned whole on 16-byte boundaries.
pub fn read_build_info(data: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    let file = object::File::parse(data).ok();
    let blob_offset = match &file {
        Some(f) => blob_in_elf(f, data),
        None => scan_for_magic(data),
    }
    .ok_or(BuildInfoError::NotFound)?;
    let memory = |addr: u64, len: u64| -> Option<&[u8]> {
        let file = file.as_ref()?;
        file.segments().find_map(|seg| {
            let (file_off, file_size) = seg.file_range();
            let start = addr.checked_sub(seg.address())?;
            let end = start.checked_add(len)?;
            (end <= file_size)
                .then(|| data.get((file_off + start) as usize..(file_off + end) as usize))?
        })
    };
    let (version, modinfo) = parse_blob(&data[blob_offset..], &memory)?;
    let mut info = parse_modinfo(&modinfo)?;
    info.go_version = String::from_utf8_lossy(&version).into_owned();
    Ok(info)
}

/// Most bytes of the data start searched for the blob, as debug/buildinfo reads (64 KiB).
const SEARCHED: u64 = 64 << 10;

/// The file offset of the blob in an ELF file: in `.go.buildinfo`, else in the first writable,
/// non-executable PT_LOAD segment (debug/buildinfo's `DataStart`).
fn blob_in_elf(file: &object::File<'_>, data: &[u8]) -> Option<usize> {
    let (offset, size) = file
        .section_by_name(".go.buildinfo")
        .and_then(|s| s.file_range())
        .or_else(|| {
            file.segments()
                .find(|seg| match seg.flags() {
                    object::SegmentFlags::Elf { p_flags, .. } => {
                        let (x, w) = (object::elf::PF_X.0, object::elf::PF_W.0);
                        p_flags.0 & (x | w) == w
                    }
                    _ => false,
                })
                .map(|seg| seg.file_range())
        })?;
    let start = usize::try_from(offset).ok()?;
    let end = usize::try_from(offset.saturating_add(size.min(SEARCHED)))
        .ok()?
        .min(data.len());
    let region = data.get(start..end)?;
    scan_for_magic(region).map(|i| start + i)
}

fn scan_for_magic(data: &[u8]) -> Option<usize> {
    (0..data.len().saturating_sub(MAGIC.len()))
        .step_by(16)
        .find(|&i| &data[i..i + MAGIC.len()] == MAGIC)
}

type Memory<'m> = dyn Fn(u64, u64) -> Option<&'m [u8]> + 'm;

/// Returns the raw version and modinfo strings from the 32-byte header and what follows it.
fn parse_blob<'m>(blob: &[u8], memory: &Memory<'m>) -> Result<(Vec<u8>, Vec<u8>), BuildInfoError> {
    let header = blob
        .get(..32)
        .ok_or(BuildInfoError::Corrupt("header shorter than 32 bytes"))?;
    let flags = header[15];
    if flags & FLAG_INLINE_STRINGS != 0 {
        let mut rest = &blob[32..];
        let version = read_varint_string(&mut rest)?;
        let modinfo = read_varint_string(&mut rest)?;
        return Ok((version.to_vec(), strip_sentinels(modinfo).to_vec()));
    }
    let ptr_size = header[14] as usize;
    if ptr_size != 4 && ptr_size != 8 {
        return Err(BuildInfoError::Corrupt("pointer size is neither 4 nor 8"));
    }
    let big_endian = flags & FLAG_BIG_ENDIAN != 0;
    let read_ptr = |bytes: &[u8]| -> u64 {
        let mut v = 0u64;
        for i in 0..ptr_size {
            let b = if big_endian {
                bytes[i]
            } else {
                bytes[ptr_size - 1 - i]
            };
            v = (v << 8) | u64::from(b);
        }
        v
    };
    let read_go_string = |header_addr: u64| -> Result<Vec<u8>, BuildInfoError> {
        let hdr = memory(header_addr, 2 * ptr_size as u64).ok_or(BuildInfoError::Corrupt(
            "string header points outside the binary",
        ))?;
        let (data_addr, len) = (read_ptr(&hdr[..ptr_size]), read_ptr(&hdr[ptr_size..]));
        if len > 1 << 24 {
            return Err(BuildInfoError::Corrupt(
                "string length is implausibly large",
            ));
        }
        memory(data_addr, len)
            .map(<[u8]>::to_vec)
            .ok_or(BuildInfoError::Corrupt(
                "string data points outside the binary",
            ))
    };
    let version = read_go_string(read_ptr(&header[16..16 + ptr_size]))?;
    let modinfo = read_go_string(read_ptr(&header[16 + ptr_size..16 + 2 * ptr_size]))?;
    Ok((version, strip_sentinels(&modinfo).to_vec()))
}

fn read_varint_string<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], BuildInfoError> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest
            .split_first()
            .ok_or(BuildInfoError::Corrupt("length runs past the end"))?;
        *rest = tail;
        if shift > 63 {
            return Err(BuildInfoError::Corrupt("length varint overflows"));
        }
        len |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let len = usize::try_from(len).map_err(|_| BuildInfoError::Corrupt("length too large"))?;
    if len > rest.len() {
        return Err(BuildInfoError::Corrupt("string runs past the end"));
    }
    let (s, tail) = rest.split_at(len);
    *rest = tail;
    Ok(s)
}

fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n > 2 * SENTINEL_LEN && modinfo[n - SENTINEL_LEN - 1] == b'\n' {
        &modinfo[SENTINEL_LEN..n - SENTINEL_LEN]
    } else {
        modinfo
    }
}

/// Parses the text form `runtime/debug.BuildInfo.String` writes (and `go version -m` prints).
pub fn parse_modinfo(text: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    let text = String::from_utf8_lossy(text);
    let mut info = BuildInfo::default();
    for (i, line) in text.lines().enumerate() {
        let bad = || BuildInfoError::BadLine {
            line: i + 1,
            text: line.chars().take(200).collect(),
        };
        if line.is_empty() {
            continue;
        }
        let (kind, rest) = line.split_once('\t').ok_or_else(bad)?;
        match kind {
            "path" => info.path = rest.to_string(),
            "mod" | "dep" | "=>" => {
                let fields: Vec<&str> = rest.split('\t').collect();
                let module = match fields.as_slice() {
                    [path, version] => Module {
                        path: (*path).into(),
                        version: (*version).into(),
                        ..Module::default()
                    },
                    [path, version, sum] => Module {
                        path: (*path).into(),
                        version: (*version).into(),
                        sum: (!sum.is_empty()).then(|| (*sum).into()),
                        replace: None,
                    },
                    _ => return Err(bad()),
                };
                match kind {
                    "mod" => info.main = Some(module),
                    "dep" => info.deps.push(module),
                    _ => {
                        let last = info
                            .deps
                            .last_mut()
                            .or(info.main.as_mut())
                            .ok_or_else(bad)?;
                        last.replace = Some(Box::new(module));
                    }
                }
            }
            "build" => {
                let (key, value) = parse_setting(rest).ok_or_else(bad)?;
                info.settings.push((key, value));
            }
            _ => return Err(bad()),
        }
    }
    Ok(info)
}

fn parse_setting(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') {
        let (k, used) = unquote_prefix(s)?;
        (k, s.get(used..)?.strip_prefix('=')?)
    } else {
        let (k, v) = s.split_once('=')?;
        (k.to_string(), v)
    };
    let value = if rest.starts_with('"') {
        let (v, used) = unquote_prefix(rest)?;
        if used != rest.len() {
            return None;
        }
        v
    } else {
        rest.to_string()
    };
    Some((key, value))
}

/// Decodes a Go double-quoted string at the start of `s`; returns it and the bytes consumed.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, esc) = chars.next()?;
                match esc {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '"' | '\'' => out.push(esc),
                    'x' | 'u' | 'U' => {
                        let n = match esc {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    '0'..='7' => {
                        let mut code = esc.to_digit(8)?;
                        for _ in 0..2 {
                            code = code * 8 + chars.next()?.1.to_digit(8)?;
                        }
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgithub.com/a/b\tv1.2.3\th1:abc=\ndep\tgithub.com/c/d\tv0.1.0\t\n=>\t../d\t(devel)\t\nbuild\t-trimpath=true\nbuild\t-ldflags=\"-s -X main.v=1\"\nbuild\tCGO_ENABLED=0\nbuild\tGOARM=7,hardfloat\n";

    #[test]
    fn modinfo_lines_become_modules_and_settings() {
        let info = parse_modinfo(MODINFO.as_bytes()).unwrap();
        assert_eq!(info.path, "example.com/app");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].sum.as_deref(), Some("h1:abc="));
        assert_eq!(info.deps[1].replace.as_ref().unwrap().path, "../d");
        assert_eq!(info.setting("-ldflags"), Some("-s -X main.v=1"));
        assert_eq!(info.setting("GOARM"), Some("7,hardfloat"));
    }

    fn inline_blob(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut blob = MAGIC.to_vec();
        blob.extend([8, FLAG_INLINE_STRINGS]);
        blob.extend([0u8; 16]);
        for s in [version.as_bytes(), modinfo] {
            blob.push(s.len() as u8 | if s.len() >= 128 { 0x80 } else { 0 });
            if s.len() >= 128 {
                blob.push((s.len() >> 7) as u8);
            }
            blob.extend(s);
        }
        blob
    }

    #[test]
    fn inline_layout_with_sentinels() {
        let mut wrapped = vec![0x30; 16];
        wrapped.extend(MODINFO.as_bytes());
        wrapped.extend([0xf9; 16]);
        let mut data = vec![0u8; 48];
        data.extend(inline_blob("go1.26.0-X:nodwarf5", &wrapped));
        let info = read_build_info(&data).unwrap();
        assert_eq!(info.go_version, "go1.26.0-X:nodwarf5");
        assert_eq!(info.deps.len(), 2);
    }

    #[test]
    fn legacy_pointer_layout() {
        // 64-bit little endian: header at 0, string headers at 0x40, strings at 0x80.
        let mut mem = vec![0u8; 0x200];
        mem[..14].copy_from_slice(MAGIC);
        mem[14] = 8;
        mem[15] = 0;
        mem[16..24].copy_from_slice(&0x1040u64.to_le_bytes());
        mem[24..32].copy_from_slice(&0x1050u64.to_le_bytes());
        let version = b"go1.17.13";
        mem[0x40..0x48].copy_from_slice(&0x1080u64.to_le_bytes());
        mem[0x48..0x50].copy_from_slice(&(version.len() as u64).to_le_bytes());
        mem[0x50..0x58].copy_from_slice(&0x1100u64.to_le_bytes());
        mem[0x58..0x60].copy_from_slice(&(MODINFO.len() as u64).to_le_bytes());
        mem[0x80..0x80 + version.len()].copy_from_slice(version);
        mem[0x100..0x100 + MODINFO.len()].copy_from_slice(MODINFO.as_bytes());
        let memory = |addr: u64, len: u64| -> Option<&[u8]> {
            let start = addr.checked_sub(0x1000)? as usize;
            mem.get(start..start + len as usize)
        };
        let (v, m) = parse_blob(&mem, &memory).unwrap();
        assert_eq!(v, version);
        assert_eq!(parse_modinfo(&m).unwrap().path, "example.com/app");
    }

    #[test]
    fn truncated_and_missing_are_errors_not_panics() {
        assert_eq!(read_build_info(b"hello"), Err(BuildInfoError::NotFound));
        let blob = inline_blob("go1.26.8", MODINFO.as_bytes());
        for cut in [20, 33, 40, blob.len() - 1] {
            let mut data = vec![0u8; 16];
            data.extend(&blob[..cut]);
            assert!(read_build_info(&data).is_err(), "cut at {cut}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600), flags in 0u8..4, ptr in 0u8..10) {
            let mut data = MAGIC.to_vec();
            data.extend([ptr, flags]);
            data.extend(tail);
            let _ = read_build_info(&data);
            let _ = parse_modinfo(&data);
        }

        #[test]
        fn never_panics_on_mutated_blobs(pos in 0usize..400, byte in proptest::num::u8::ANY) {
            let mut data = vec![0u8; 16];
            data.extend(inline_blob("go1.26.8", MODINFO.as_bytes()));
            let pos = pos % data.len();
            data[pos] = byte;
            let _ = read_build_info(&data);
        }
    }
}
