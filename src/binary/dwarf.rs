//! What a binary's DWARF says about ownership:
//! - the compile units that are not Go (the C, C++ and assembly code a cgo binary links), with
//!   the address ranges each covers;
//! - which bytes of the DWARF sections belong to which compile unit (Go writes one unit per
//!   package, named by its import path) or function: a unit's `.debug_info` entries, its
//!   `.debug_line` program, the `.debug_loclists`/`.debug_rnglists`/`.debug_addr` span it
//!   references, and each `.debug_frame` FDE (owned by the function at its start address).
//!
//! Offsets of [`DebugPiece`] are in the uncompressed section; [`compressed_positions`] maps
//! them into a zlib-compressed section (`SHF_COMPRESSED`, as `go build` writes DWARF): a
//! compressed byte belongs to the unit whose bytes the decoder was producing when it read it.
//! Decompressed DWARF is capped at [`MAX_DWARF_BYTES`] (bounded memory).

use std::borrow::Cow;
use std::collections::HashMap;

use gimli::{AttributeValue, UnwindSection as _};
use object::{Object, ObjectSection};

/// The most decompressed DWARF bytes read; past it the DWARF is not used.
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

/// Who owns a piece of a DWARF section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugOwner {
    /// The compile unit at this index of [`DwarfInfo::units`].
    Unit(usize),
    /// The function whose code starts at this address.
    Function(u64),
}

/// `[start, end)` of the uncompressed section `section`, and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugPiece {
    /// The DWARF section, e.g. `.debug_info`, `.debug_line`, `.debug_frame`.
    pub section: &'static str,
    /// First byte, as an offset in the uncompressed section.
    pub start: u64,
    /// One past the last byte, as an offset in the uncompressed section.
    pub end: u64,
    /// The compile unit or function these bytes describe.
    pub owner: DebugOwner,
}

/// A compile unit: its name and whether it is Go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName {
    /// `DW_AT_name`: a Go package's import path, or a C source file.
    pub name: String,
    /// Written in Go (`DW_AT_language` is `DW_LANG_Go`).
    pub go: bool,
}

/// What the DWARF of a binary tells.
#[derive(Debug, Clone, Default)]
pub struct DwarfInfo {
    /// Non-Go compile units that cover code, with their address ranges.
    pub foreign: Vec<ForeignUnit>,
    /// Every compile unit in `.debug_info` order; [`DebugOwner::Unit`] indexes it.
    pub units: Vec<UnitName>,
    /// Which bytes of each DWARF section belong to which unit or function.
    pub pieces: Vec<DebugPiece>,
}

/// Reads the DWARF of an ELF file; empty when it has none.
///
/// Errors: a message when the DWARF is present but malformed or too large.
pub fn read_dwarf(data: &[u8]) -> Result<DwarfInfo, String> {
    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    if file.section_by_name(".debug_info").is_none() {
        return Ok(DwarfInfo::default());
    }
    let mut budget = MAX_DWARF_BYTES;
    let mut load = |name: &str| -> Result<Cow<'_, [u8]>, String> {
        match file.section_by_name(name) {
            Some(section) => section_bytes(&section, &mut budget),
            None => Ok(Cow::Borrowed(&[][..])),
        }
    };
    let sections = gimli::DwarfSections::load(|id| load(id.name()))?;
    let frame = load(".debug_frame")?;
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let len = |name: &str| {
        file.section_by_name(name)
            .and_then(|s| s.compressed_data().ok())
            .map_or(0, |c| c.uncompressed_size)
    };
    let lens = [
        len(".debug_loclists"),
        len(".debug_rnglists"),
        len(".debug_addr"),
    ];
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, endian));
    let mut info = units(&dwarf, lens).map_err(|e| format!("malformed DWARF: {e}"))?;
    let address_size = if file.is_64() { 8 } else { 4 };
    let mut debug_frame = gimli::DebugFrame::new(&frame, endian);
    debug_frame.set_address_size(address_size);
    frames(&debug_frame, &mut info.pieces).map_err(|e| format!("malformed .debug_frame: {e}"))?;
    Ok(info)
}

/// Span of each offsets-referenced section a unit uses: (min, max) offsets.
#[derive(Default, Clone, Copy)]
struct Span(Option<(u64, u64)>);

impl Span {
    fn add(&mut self, off: u64) {
        self.0 = Some(match self.0 {
            None => (off, off),
            Some((a, b)) => (a.min(off), b.max(off)),
        });
    }
}

fn units<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    lens: [u64; 3],
) -> gimli::Result<DwarfInfo> {
    let mut info = DwarfInfo::default();
    // Per unit: first offset used in loclists, rnglists, addr (the sections are written unit
    // by unit, so each unit owns the span from its first offset to the next unit's).
    let mut starts: [Vec<(u64, usize)>; 3] = Default::default();
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        let index = info.units.len();
        let (info_start, info_len) = (
            header.offset().0 as u64,
            header.length_including_self() as u64,
        );
        let unit = dwarf.unit(header)?;
        let scan = scan_unit(dwarf, &unit)?;
        for (k, s) in scan.spans.iter().enumerate() {
            if let Some((min, _)) = s.0 {
                starts[k].push((min, index));
            }
        }
        let owner = DebugOwner::Unit(index);
        if info_len > 0 {
            info.pieces.push(DebugPiece {
                section: ".debug_info",
                start: info_start,
                end: info_start + info_len,
                owner,
            });
        }
        if let Some(program) = &unit.line_program {
            let header = program.header();
            let start = header.offset().0 as u64;
            let length_field = match header.format() {
                gimli::Format::Dwarf32 => 4,
                gimli::Format::Dwarf64 => 12,
            };
            info.pieces.push(DebugPiece {
                section: ".debug_line",
                start,
                end: start + header.unit_length() as u64 + length_field,
                owner,
            });
        }
        let go = scan.language == Some(gimli::DW_LANG_Go);
        if let Some(language) = scan.language.filter(|_| !go) {
            let mut ranges = Vec::new();
            let mut iter = dwarf.unit_ranges(&unit)?;
            while let Some(r) = iter.next()? {
                if r.end > r.begin {
                    ranges.push((r.begin, r.end));
                }
            }
            if !ranges.is_empty() {
                info.foreign.push(ForeignUnit {
                    name: scan.name.clone(),
                    language: language.static_string().unwrap_or("unknown").to_string(),
                    ranges,
                });
            }
        }
        info.units.push(UnitName {
            name: scan.name,
            go,
        });
    }
    span_pieces(starts, lens, &mut info.pieces);
    Ok(info)
}

/// What one pass over a unit's entries finds.
struct UnitScan {
    /// loclists, rnglists, addr offsets the unit uses.
    spans: [Span; 3],
    name: String,
    language: Option<gimli::DwLang>,
}

fn scan_unit<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
) -> gimli::Result<UnitScan> {
    let mut scan = UnitScan {
        spans: [Span::default(); 3],
        name: String::new(),
        language: None,
    };
    let mut entries = unit.entries();
    let mut first = true;
    while let Some(entry) = entries.next_dfs()? {
        for attr in entry.attrs() {
            match attr.value() {
                AttributeValue::LocationListsRef(o) => scan.spans[0].add(o.0 as u64),
                AttributeValue::DebugLocListsIndex(i) => {
                    if let Ok(o) = dwarf.locations_offset(unit, i) {
                        scan.spans[0].add(o.0 as u64);
                    }
                }
                AttributeValue::RangeListsRef(o) => scan.spans[1].add(o.0 as u64),
                AttributeValue::DebugRngListsIndex(i) => {
                    if let Ok(o) = dwarf.ranges_offset(unit, i) {
                        scan.spans[1].add(o.0 as u64);
                    }
                }
                _ => {}
            }
        }
        if first {
            first = false;
            if let Some(AttributeValue::Language(l)) = entry.attr_value(gimli::DW_AT_language) {
                scan.language = Some(l);
            }
            if let Some(v) = entry.attr_value(gimli::DW_AT_name) {
                scan.name = dwarf
                    .attr_string(unit, v)
                    .ok()
                    .and_then(|s| s.to_string_lossy().ok().map(|c| c.into_owned()))
                    .unwrap_or_default();
            }
        }
    }
    if unit.addr_base.0 > 0 {
        scan.spans[2].add(unit.addr_base.0 as u64);
    }
    Ok(scan)
}

/// Each unit owns its loclists/rnglists/addr bytes from its first offset to the next unit's.
fn span_pieces(mut starts: [Vec<(u64, usize)>; 3], lens: [u64; 3], pieces: &mut Vec<DebugPiece>) {
    for (k, section) in [".debug_loclists", ".debug_rnglists", ".debug_addr"]
        .into_iter()
        .enumerate()
    {
        let list = &mut starts[k];
        list.sort_unstable();
        for (i, &(start, unit)) in list.iter().enumerate() {
            let end = list.get(i + 1).map_or(lens[k], |n| n.0);
            if end > start {
                pieces.push(DebugPiece {
                    section,
                    start,
                    end,
                    owner: DebugOwner::Unit(unit),
                });
            }
        }
    }
}

fn frames<R: gimli::Reader<Offset = usize>>(
    frame: &gimli::DebugFrame<R>,
    pieces: &mut Vec<DebugPiece>,
) -> gimli::Result<()> {
    let bases = gimli::BaseAddresses::default();
    let mut entries = frame.entries(&bases);
    let mut cies = HashMap::new();
    while let Some(entry) = entries.next()? {
        if let gimli::CieOrFde::Fde(partial) = entry {
            let start = partial.offset() as u64;
            let len = partial.entry_len() as u64 + 4;
            let fde = partial.parse(|section, bases, offset| {
                if let Some(c) = cies.get(&offset.0) {
                    return Ok(gimli::CommonInformationEntry::clone(c));
                }
                let cie = section.cie_from_offset(bases, offset)?;
                cies.insert(offset.0, cie.clone());
                Ok(cie)
            })?;
            pieces.push(DebugPiece {
                section: ".debug_frame",
                start,
                end: start + len,
                owner: DebugOwner::Function(fde.initial_address()),
            });
        }
    }
    Ok(())
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
            "DWARF larger than {MAX_DWARF_BYTES} bytes uncompressed; not read"
        ));
    }
    *budget -= size;
    use std::io::Read as _;
    match compressed.format {
        object::CompressionFormat::None => Ok(Cow::Borrowed(compressed.data)),
        object::CompressionFormat::Zlib => {
            let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
            flate2::read::ZlibDecoder::new(compressed.data)
                .take(size)
                .read_to_end(&mut out)
                .map_err(|e| format!("zlib DWARF: {e}"))?;
            Ok(Cow::Owned(out))
        }
        object::CompressionFormat::Zstandard => {
            let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
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

/// For each uncompressed offset in `boundaries` (sorted ascending), how many bytes of the zlib
/// `stream` the decoder had read when its output reached that offset. Non-decreasing;
/// `None` when the stream is corrupt.
pub fn compressed_positions(stream: &[u8], boundaries: &[u64]) -> Option<Vec<u64>> {
    let mut d = flate2::Decompress::new(true);
    let mut out = vec![0u8; 64 * 1024];
    let mut positions = Vec::with_capacity(boundaries.len());
    for &b in boundaries {
        while d.total_out() < b {
            let need = (b - d.total_out()).min(out.len() as u64) as usize;
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let input = stream.get(in_before as usize..)?;
            let status = d
                .decompress(input, &mut out[..need], flate2::FlushDecompress::None)
                .ok()?;
            if d.total_in() == in_before && d.total_out() == out_before {
                return None;
            }
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        positions.push(d.total_in());
    }
    Some(positions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn compressed_positions_grow_with_the_output_and_end_at_the_stream_end() {
        let mut plain = Vec::new();
        for i in 0..20_000u32 {
            plain.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
        z.write_all(&plain).unwrap();
        let stream = z.finish().unwrap();
        let n = plain.len() as u64;
        let pos = compressed_positions(&stream, &[0, n / 4, n / 2, n]).unwrap();
        assert_eq!(pos[0], 0);
        assert!(pos.windows(2).all(|w| w[0] <= w[1]), "{pos:?}");
        // The end of the output is reached at (nearly) the end of the stream; the adler32
        // trailer comes after the last output byte.
        assert!(
            stream.len() as u64 - pos[3] <= 8,
            "{pos:?} of {}",
            stream.len()
        );
        // Incompressible data: input and output advance together.
        let mid = pos[2] as f64 / stream.len() as f64;
        assert!((0.4..0.6).contains(&mid), "{mid}");
        assert!(compressed_positions(&stream[..10], &[n]).is_none());
    }
}
