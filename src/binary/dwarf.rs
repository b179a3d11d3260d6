//! The compile units of a binary's DWARF that are not Go: the C, C++ and assembly code a cgo
//! binary links, with the address ranges each one covers. Go's own compile units are left out
//! (the function table already names every Go function).
//!
//! Compressed sections (`SHF_COMPRESSED`, zlib or zstd, as `go build` writes them) are
//! decompressed; the total decompressed size is capped at [`MAX_DWARF_BYTES`].

use std::borrow::Cow;

use object::{Object, ObjectSection};

/// The most decompressed DWARF bytes read; past it the units are not read (bounded memory).
pub const MAX_DWARF_BYTES: u64 = 1 << 30;

/// A non-Go compile unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignUnit {
    /// `DW_AT_name`: usually the source file (`sqlite3.c`, `gcc_linux_amd64.c`).
    pub name: String,
    /// Language as DWARF names it (`DW_LANG_C11`…).
    pub language: String,
    /// `[start, end)` address ranges of its code.
    pub ranges: Vec<(u64, u64)>,
}

/// Reads the non-Go compile units; an empty list when the binary has no DWARF.
///
/// Errors: a message when the DWARF is present but malformed or too large.
pub fn foreign_units(data: &[u8]) -> Result<Vec<ForeignUnit>, String> {
    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    if file.section_by_name(".debug_info").is_none() {
        return Ok(Vec::new());
    }
    let mut budget = MAX_DWARF_BYTES;
    let mut load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, String> {
        let Some(section) = file.section_by_name(id.name()) else {
            return Ok(Cow::Borrowed(&[][..]));
        };
        let bytes = section_bytes(&section, &mut budget)?;
        Ok(bytes)
    };
    let sections = gimli::DwarfSections::load(&mut load)?;
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, endian));
    units(&dwarf).map_err(|e| format!("malformed DWARF: {e}"))
}

fn units<R: gimli::Reader>(dwarf: &gimli::Dwarf<R>) -> gimli::Result<Vec<ForeignUnit>> {
    let mut out = Vec::new();
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        let unit = dwarf.unit(header)?;
        let mut entries = unit.entries();
        let Some(root) = entries.next_dfs()? else {
            continue;
        };
        let language = match root.attr_value(gimli::DW_AT_language) {
            Some(gimli::AttributeValue::Language(l)) => l,
            _ => continue,
        };
        if language == gimli::DW_LANG_Go {
            continue;
        }
        let name = match root.attr_value(gimli::DW_AT_name) {
            Some(v) => dwarf
                .attr_string(&unit, v)
                .ok()
                .and_then(|s| s.to_string_lossy().ok().map(|c| c.into_owned()))
                .unwrap_or_default(),
            None => String::new(),
        };
        let mut ranges = Vec::new();
        let mut iter = dwarf.unit_ranges(&unit)?;
        while let Some(r) = iter.next()? {
            if r.end > r.begin {
                ranges.push((r.begin, r.end));
            }
        }
        if !ranges.is_empty() {
            out.push(ForeignUnit {
                name,
                language: language.static_string().unwrap_or("unknown").to_string(),
                ranges,
            });
        }
    }
    Ok(out)
}

fn section_bytes<'a>(
    section: &object::Section<'a, '_>,
    budget: &mut u64,
) -> Result<Cow<'a, [u8]>, String> {
    let compressed = section
        .compressed_data()
        .map_err(|e| format!("{}: {e}", section.name().unwrap_or("?")))?;
    let size = compressed.uncompressed_size;
    if size > *budget {
        return Err(format!(
            "DWARF larger than {} bytes uncompressed; not read",
            MAX_DWARF_BYTES
        ));
    }
    *budget -= size;
    match compressed.format {
        object::CompressionFormat::None => Ok(Cow::Borrowed(compressed.data)),
        object::CompressionFormat::Zlib => {
            use std::io::Read as _;
            let mut out = Vec::with_capacity(size as usize);
            flate2::read::ZlibDecoder::new(compressed.data)
                .take(size)
                .read_to_end(&mut out)
                .map_err(|e| format!("zlib DWARF: {e}"))?;
            Ok(Cow::Owned(out))
        }
        object::CompressionFormat::Zstandard => {
            use std::io::Read as _;
            let mut out = Vec::with_capacity(size as usize);
            zstd::stream::read::Decoder::new(compressed.data)
                .map_err(|e| format!("zstd DWARF: {e}"))?
                .take(size)
                .read_to_end(&mut out)
                .map_err(|e| format!("zstd DWARF: {e}"))?;
            Ok(Cow::Owned(out))
        }
        other => Err(format!("DWARF compressed with {other:?}, not supported")),
    }
}
