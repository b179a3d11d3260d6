//! Reader for the Go function table (`.gopclntab`) of ELF Go binaries.
//!
//! The table survives `-ldflags=-s`, so it lists every function that survived dead-code
//! elimination even in a stripped binary. Supported layouts: Go 1.18–1.19 (magic `0xfffffff0`)
//! and Go 1.20–1.26 (magic `0xfffffff1`), which share one layout; 32- and 64-bit pointers; little
//! and big endian (the magic tells which, as in `debug/gosym`).
//!
//! Layout (writer: `cmd/link/internal/ld/pcln.go`; reader: `runtime/symtab.go`):
//! ```text
//! pcHeader: magic u32 | pad1 pad2 u8 = 0 | minLC u8 | ptrSize u8 |
//!           nfunc, nfiles, textStart (0 since Go 1.26), funcnameOffset, cuOffset,
//!           filetabOffset, pctabOffset, pclnOffset          (ptrSize words each)
//! functab at pclnOffset: nfunc × {entryOff u32, funcOff u32}, then the end PC offset u32
//! _func at pclnOffset+funcOff: entryOff u32 | nameOff i32 | …
//! names: NUL-terminated strings at funcnameOffset+nameOff
//! ```
//! Entry offsets are relative to the start of the text (`runtime.text`). That address is read
//! from the module data (`runtime.firstmoduledata`, whose first word points at the pcHeader),
//! else from the header's old `textStart` word, else from the `.text` section.
//!
//! The table is found by section name; when section headers are missing it is found by
//! scanning the read-only `PT_LOAD` segments for a valid header.
//!
//! Every read is bounds-checked: no input makes this module panic.

use object::{Object, ObjectSection, ObjectSegment, SegmentFlags};

/// What can go wrong while reading a Go function table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PclntabError {
    /// The bytes are not an ELF file `object` can read.
    #[error("not a readable ELF file: {0}")]
    NotElf(String),
    /// No `.gopclntab` section and no pclntab header in any read-only segment.
    #[error(
        "no Go function table: no .gopclntab section and no pclntab header in the read-only data (not a Go binary, or built by Go older than 1.18)"
    )]
    NotFound,
    /// The table is shorter than its header or than an offset it contains.
    #[error(
        "Go function table truncated: {what} needs bytes up to offset {needed}, table has {len}"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// End offset that was needed.
        needed: u64,
        /// Length of the table.
        len: u64,
    },
    /// The first four bytes are not a pclntab magic number.
    #[error("bad Go function table magic {0:#010x}")]
    BadMagic(u32),
    /// A magic number of a layout older than Go 1.18.
    #[error("Go function table of {0} is not supported (Go 1.18 or newer is)")]
    UnsupportedVersion(&'static str),
    /// Padding, instruction size or pointer size of the header is invalid.
    #[error("bad Go function table header: {0}")]
    BadHeader(String),
    /// Function entries are not in increasing address order.
    #[error(
        "Go function table entries out of order at function {index}: {entry:#x} < {previous:#x}"
    )]
    Unsorted {
        /// Index of the offending function.
        index: usize,
        /// Its entry offset.
        entry: u64,
        /// The entry offset of the function before it.
        previous: u64,
    },
    /// A function record disagrees with the function table.
    #[error("Go function record {index} is inconsistent: {detail}")]
    BadFunc {
        /// Index of the function.
        index: usize,
        /// What is wrong.
        detail: String,
    },
    /// A function name is not valid UTF-8 or is not NUL-terminated.
    #[error("Go function name at name offset {offset} is invalid: {detail}")]
    BadName {
        /// Offset into the function name table.
        offset: u64,
        /// What is wrong.
        detail: &'static str,
    },
}

/// Byte order of the table (and of the binary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ByteOrder {
    /// amd64, arm64, 386, arm, riscv64, loong64, ppc64le, mipsle…
    Little,
    /// ppc64, s390x, mips, mips64.
    Big,
}

/// Which pclntab layout the magic number announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PclntabVersion {
    /// Magic `0xfffffff0`: Go 1.18 and 1.19.
    Go118,
    /// Magic `0xfffffff1`: Go 1.20 to 1.26 (current).
    Go120,
}

/// How the table was found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PclntabLocation {
    /// The `.gopclntab` section.
    Section,
    /// A header found by scanning a read-only segment (no section headers).
    SegmentScan,
}

/// Where the text start address (base of the entry offsets) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextStartSource {
    /// `moduledata.text` of the module data that points at this table.
    ModuleData,
    /// The header's `textStart` word (written up to Go 1.25).
    Header,
    /// The address of the `.text` section.
    TextSection,
}

/// One function of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Function {
    /// Full symbol name, e.g. `crypto/x509.loadSystemRoots`, `main.main`.
    pub name: String,
    /// Entry address: text start + entry offset (just the offset when the text start is unknown,
    /// see [`Pclntab::text_start`]).
    pub entry: u64,
    /// Bytes up to the next function's entry (code plus alignment padding).
    pub size: u64,
}

/// A function borrowed from the table, without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    /// Full symbol name.
    pub name: &'a str,
    /// Entry offset relative to the text start.
    pub entry_offset: u64,
    /// Bytes up to the next function's entry.
    pub size: u64,
}

/// The parsed header of a pclntab, borrowing the table's bytes.
#[derive(Debug, Clone, Copy)]
pub struct PclnTable<'a> {
    data: &'a [u8],
    order: ByteOrder,
    version: PclntabVersion,
    min_lc: u8,
    ptr_size: u8,
    nfunc: usize,
    header_text_start: u64,
    funcname_offset: usize,
    functab_offset: usize,
}

/// The function table of a binary, with owned function names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pclntab {
    /// Layout version from the magic number.
    pub version: PclntabVersion,
    /// Byte order.
    pub byte_order: ByteOrder,
    /// Pointer size in bytes (4 or 8).
    pub ptr_size: u8,
    /// Minimum instruction size (the PC quantum): 1 on x86, 4 on arm64/arm/ppc64/mips…
    pub min_lc: u8,
    /// How the table was found.
    pub location: PclntabLocation,
    /// Virtual address of the table, when known.
    pub address: Option<u64>,
    /// Start of the text; function entries are relative to it when this is `None`.
    pub text_start: Option<u64>,
    /// Where `text_start` came from.
    pub text_start_source: Option<TextStartSource>,
    /// Functions in address order.
    pub functions: Vec<Function>,
}

const MAGIC_GO118: u32 = 0xffff_fff0;
const MAGIC_GO120: u32 = 0xffff_fff1;
const MAGIC_GO116: u32 = 0xffff_fffa;
const MAGIC_GO12: u32 = 0xffff_fffb;

fn read_u32(
    data: &[u8],
    off: usize,
    order: ByteOrder,
    what: &'static str,
) -> Result<u32, PclntabError> {
    let bytes: [u8; 4] = off
        .checked_add(4)
        .and_then(|end| data.get(off..end))
        .and_then(|b| b.try_into().ok())
        .ok_or(PclntabError::Truncated {
            what,
            needed: off as u64 + 4,
            len: data.len() as u64,
        })?;
    Ok(match order {
        ByteOrder::Little => u32::from_le_bytes(bytes),
        ByteOrder::Big => u32::from_be_bytes(bytes),
    })
}

fn read_word(
    data: &[u8],
    off: usize,
    ptr_size: u8,
    order: ByteOrder,
    what: &'static str,
) -> Result<u64, PclntabError> {
    if ptr_size == 4 {
        return read_u32(data, off, order, what).map(u64::from);
    }
    let bytes: [u8; 8] = off
        .checked_add(8)
        .and_then(|end| data.get(off..end))
        .and_then(|b| b.try_into().ok())
        .ok_or(PclntabError::Truncated {
            what,
            needed: off as u64 + 8,
            len: data.len() as u64,
        })?;
    Ok(match order {
        ByteOrder::Little => u64::from_le_bytes(bytes),
        ByteOrder::Big => u64::from_be_bytes(bytes),
    })
}

fn offset_in(data: &[u8], value: u64, what: &'static str) -> Result<usize, PclntabError> {
    if value >= data.len() as u64 {
        return Err(PclntabError::Truncated {
            what,
            needed: value.saturating_add(1),
            len: data.len() as u64,
        });
    }
    Ok(value as usize)
}

/// The byte order and layout version from the table's 4-byte magic (runtime/symtab.go's
/// `go12magic` … `go120magic`), refusing the layouts before Go 1.18.
fn magic(data: &[u8]) -> Result<(ByteOrder, PclntabVersion), PclntabError> {
    let head: [u8; 4] =
        data.get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(PclntabError::Truncated {
                what: "magic",
                needed: 4,
                len: data.len() as u64,
            })?;
    let le = u32::from_le_bytes(head);
    let be = u32::from_be_bytes(head);
    match (le, be) {
        (MAGIC_GO120, _) => Ok((ByteOrder::Little, PclntabVersion::Go120)),
        (_, MAGIC_GO120) => Ok((ByteOrder::Big, PclntabVersion::Go120)),
        (MAGIC_GO118, _) => Ok((ByteOrder::Little, PclntabVersion::Go118)),
        (_, MAGIC_GO118) => Ok((ByteOrder::Big, PclntabVersion::Go118)),
        (MAGIC_GO116, _) | (_, MAGIC_GO116) => {
            Err(PclntabError::UnsupportedVersion("Go 1.16–1.17"))
        }
        (MAGIC_GO12, _) | (_, MAGIC_GO12) => Err(PclntabError::UnsupportedVersion("Go 1.2–1.15")),
        _ => Err(PclntabError::BadMagic(le)),
    }
}

/// Header bytes 4..8: two zero pads, the instruction size quantum (1, 2 or 4) and the pointer
/// size (4 or 8), returned as `(min_lc, ptr_size)`.
fn fixed_header(data: &[u8]) -> Result<(u8, u8), PclntabError> {
    let fixed = data.get(4..8).ok_or(PclntabError::Truncated {
        what: "header",
        needed: 8,
        len: data.len() as u64,
    })?;
    let (pad1, pad2, min_lc, ptr_size) = (fixed[0], fixed[1], fixed[2], fixed[3]);
    if pad1 != 0 || pad2 != 0 {
        return Err(PclntabError::BadHeader(format!(
            "padding bytes are {pad1:#x} {pad2:#x}, not zero"
        )));
    }
    if !matches!(min_lc, 1 | 2 | 4) {
        return Err(PclntabError::BadHeader(format!(
            "instruction size quantum {min_lc} is not 1, 2 or 4"
        )));
    }
    if !matches!(ptr_size, 4 | 8) {
        return Err(PclntabError::BadHeader(format!(
            "pointer size {ptr_size} is not 4 or 8"
        )));
    }
    Ok((min_lc, ptr_size))
}

impl<'a> PclnTable<'a> {
    /// Parses and validates the header of a table that starts at `data[0]`. `data` may extend
    /// past the end of the table.
    pub fn parse(data: &'a [u8]) -> Result<Self, PclntabError> {
        let (order, version) = magic(data)?;
        let (min_lc, ptr_size) = fixed_header(data)?;
        let ps = usize::from(ptr_size);
        let word = |i: usize, what| read_word(data, 8 + i * ps, ptr_size, order, what);
        let nfunc = word(0, "header nfunc")?;
        let header_text_start = word(2, "header textStart")?;
        let funcname_offset = offset_in(
            data,
            word(3, "header funcnameOffset")?,
            "function name table",
        )?;
        let functab_offset = offset_in(data, word(7, "header pclnOffset")?, "function table")?;
        // Each function takes 8 bytes of functab plus its _func record, so nfunc is bounded by
        // the data length; checking it here keeps allocations proportional to the input.
        let functab_len = nfunc
            .checked_mul(8)
            .and_then(|n| n.checked_add(4))
            .ok_or_else(|| PclntabError::BadHeader(format!("function count {nfunc} overflows")))?;
        let functab_end = (functab_offset as u64).saturating_add(functab_len);
        if functab_end > data.len() as u64 {
            return Err(PclntabError::Truncated {
                what: "function table",
                needed: functab_end,
                len: data.len() as u64,
            });
        }
        Ok(PclnTable {
            data,
            order,
            version,
            min_lc,
            ptr_size,
            nfunc: nfunc as usize,
            header_text_start,
            funcname_offset,
            functab_offset,
        })
    }

    /// The bytes from the table's header to the end of its section (or segment).
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Number of functions the header announces.
    pub fn len(&self) -> usize {
        self.nfunc
    }

    /// True when the table has no function.
    pub fn is_empty(&self) -> bool {
        self.nfunc == 0
    }

    /// Byte order.
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// Pointer size in bytes.
    pub fn ptr_size(&self) -> u8 {
        self.ptr_size
    }

    /// Offset of the function name table from the start of the table.
    pub fn funcname_offset(&self) -> u64 {
        self.funcname_offset as u64
    }

    fn functab(&self, i: usize) -> Result<u32, PclntabError> {
        read_u32(
            self.data,
            self.functab_offset + i * 4,
            self.order,
            "function table",
        )
    }

    /// The `index`-th function (`index < len()`).
    pub fn function(&self, index: usize) -> Result<FunctionRef<'a>, PclntabError> {
        if index >= self.nfunc {
            return Err(PclntabError::BadFunc {
                index,
                detail: format!("index past the {} functions", self.nfunc),
            });
        }
        let entry = self.functab(2 * index)?;
        let func_off = self.functab(2 * index + 1)?;
        let next = self.functab(2 * index + 2)?;
        if next < entry {
            return Err(PclntabError::Unsorted {
                index: index + 1,
                entry: next.into(),
                previous: entry.into(),
            });
        }
        let rec = (self.functab_offset as u64).saturating_add(func_off.into());
        let rec = offset_in(self.data, rec, "function record")?;
        let rec_entry = read_u32(self.data, rec, self.order, "function record entryOff")?;
        if rec_entry != entry {
            return Err(PclntabError::BadFunc {
                index,
                detail: format!("record entry {rec_entry:#x} differs from table entry {entry:#x}"),
            });
        }
        let name_off = read_u32(self.data, rec + 4, self.order, "function record nameOff")? as i32;
        if name_off < 0 {
            return Err(PclntabError::BadFunc {
                index,
                detail: format!("negative name offset {name_off}"),
            });
        }
        let name = self.name_at(name_off as u64)?;
        Ok(FunctionRef {
            name,
            entry_offset: entry.into(),
            size: u64::from(next - entry),
        })
    }

    fn name_at(&self, name_off: u64) -> Result<&'a str, PclntabError> {
        let start = (self.funcname_offset as u64).saturating_add(name_off);
        let tail = usize::try_from(start)
            .ok()
            .and_then(|s| self.data.get(s..))
            .filter(|t| !t.is_empty())
            .ok_or(PclntabError::BadName {
                offset: name_off,
                detail: "offset past the end of the table",
            })?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or(PclntabError::BadName {
                offset: name_off,
                detail: "no terminating NUL",
            })?;
        std::str::from_utf8(&tail[..end]).map_err(|_| PclntabError::BadName {
            offset: name_off,
            detail: "not UTF-8",
        })
    }

    /// Layout version from the magic number.
    pub fn version(&self) -> PclntabVersion {
        self.version
    }

    /// Offset of the function table (`pclnOffset`) from the start of the table.
    pub fn functab_offset(&self) -> u64 {
        self.functab_offset as u64
    }

    /// Offset of the pc-value tables (`pctabOffset`, header word 6) from the start of the table.
    pub fn pctab_offset(&self) -> Result<u64, PclntabError> {
        let ps = usize::from(self.ptr_size);
        read_word(
            self.data,
            8 + 6 * ps,
            self.ptr_size,
            self.order,
            "header pctabOffset",
        )
    }

    /// Offset of the compilation unit table (`cuOffset`, header word 4).
    pub fn cutab_offset(&self) -> Result<u64, PclntabError> {
        let ps = usize::from(self.ptr_size);
        read_word(
            self.data,
            8 + 4 * ps,
            self.ptr_size,
            self.order,
            "header cuOffset",
        )
    }

    /// Offset of the file name table (`filetabOffset`, header word 5).
    pub fn filetab_offset(&self) -> Result<u64, PclntabError> {
        let ps = usize::from(self.ptr_size);
        read_word(
            self.data,
            8 + 5 * ps,
            self.ptr_size,
            self.order,
            "header filetabOffset",
        )
    }

    /// Offset of the `index`-th function's `_func` record from the start of the table.
    pub fn func_record_offset(&self, index: usize) -> Result<u64, PclntabError> {
        let func_off = self.functab(2 * index + 1)?;
        Ok((self.functab_offset as u64).saturating_add(func_off.into()))
    }

    /// All functions in table order, stopping at the first malformed record.
    pub fn functions(&self) -> impl Iterator<Item = Result<FunctionRef<'a>, PclntabError>> + '_ {
        (0..self.nfunc).map(move |i| self.function(i))
    }
}

/// Reads the function table of an ELF Go binary.
pub fn parse_elf(bytes: &[u8]) -> Result<Pclntab, PclntabError> {
    let found = locate(bytes)?;
    let mut functions = Vec::with_capacity(found.table.len());
    let base = found.text_start.map_or(0, |(t, _)| t);
    for f in found.table.functions() {
        let f = f?;
        functions.push(Function {
            name: f.name.to_owned(),
            entry: base.wrapping_add(f.entry_offset),
            size: f.size,
        });
    }
    Ok(Pclntab {
        version: found.table.version,
        byte_order: found.table.order,
        ptr_size: found.table.ptr_size,
        min_lc: found.table.min_lc,
        location: found.location,
        address: found.address,
        text_start: found.text_start.map(|(t, _)| t),
        text_start_source: found.text_start.map(|(_, s)| s),
        functions,
    })
}

/// Calls `visit` with each function name of an ELF Go binary, without allocating.
pub fn for_each_function_name(
    bytes: &[u8],
    mut visit: impl FnMut(&str),
) -> Result<(), PclntabError> {
    let found = locate(bytes)?;
    for f in found.table.functions() {
        visit(f?.name);
    }
    Ok(())
}

/// A table located in an ELF file.
#[derive(Debug, Clone, Copy)]
pub struct LocatedTable<'a> {
    /// The table.
    pub table: PclnTable<'a>,
    /// How it was found.
    pub location: PclntabLocation,
    /// Its virtual address, when known.
    pub address: Option<u64>,
    /// Text start address and its source, when known.
    pub text_start: Option<(u64, TextStartSource)>,
}

struct Segment<'a> {
    address: u64,
    data: &'a [u8],
    writable: bool,
    executable: bool,
}

/// Finds the function table of an ELF Go binary and the text start address.
pub fn locate(bytes: &[u8]) -> Result<LocatedTable<'_>, PclntabError> {
    let file = object::File::parse(bytes).map_err(|e| PclntabError::NotElf(e.to_string()))?;
    if !matches!(file.format(), object::BinaryFormat::Elf) {
        return Err(PclntabError::NotElf(format!("{:?} file", file.format())));
    }
    let segments: Vec<Segment<'_>> = file
        .segments()
        .filter_map(|s| {
            let (writable, executable) = match s.flags() {
                SegmentFlags::Elf { p_flags, .. } => (p_flags.0 & 2 != 0, p_flags.0 & 1 != 0),
                _ => (false, false),
            };
            Some(Segment {
                address: s.address(),
                data: s.data().ok()?,
                writable,
                executable,
            })
        })
        .collect();

    let (table, location, address) = match file.section_by_name(".gopclntab") {
        Some(section) => {
            let data = section
                .data()
                .map_err(|e| PclntabError::NotElf(format!(".gopclntab: {e}")))?;
            (
                PclnTable::parse(data)?,
                PclntabLocation::Section,
                Some(section.address()),
            )
        }
        None => scan_segments(&segments, bytes)?,
    };

    let text_start = address
        .and_then(|a| find_module_text(&segments, &table, a))
        .map(|t| (t, TextStartSource::ModuleData))
        .or_else(|| {
            (table.header_text_start != 0)
                .then_some((table.header_text_start, TextStartSource::Header))
        })
        .or_else(|| {
            file.section_by_name(".text")
                .map(|s| (s.address(), TextStartSource::TextSection))
        });
    Ok(LocatedTable {
        table,
        location,
        address,
        text_start,
    })
}

/// Looks for a valid pclntab header in the segments: read-only data first (internal linking),
/// then writable data (external linking of PIE or cgo binaries puts the table in the RELRO part
/// of `.data.rel.ro`), then the rest; in the whole file when there is no segment.
fn scan_segments<'a>(
    segments: &[Segment<'a>],
    whole: &'a [u8],
) -> Result<(PclnTable<'a>, PclntabLocation, Option<u64>), PclntabError> {
    let rank = |s: &Segment<'_>| match (s.writable, s.executable) {
        (false, false) => 0,
        (true, _) => 1,
        (false, true) => 2,
    };
    let mut ordered: Vec<&Segment<'a>> = segments.iter().collect();
    ordered.sort_by_key(|s| rank(s));
    let mut regions: Vec<(Option<u64>, &'a [u8])> =
        ordered.iter().map(|s| (Some(s.address), s.data)).collect();
    if regions.is_empty() {
        regions.push((None, whole));
    }
    for (base, data) in regions {
        // The linker aligns the table to the pointer size; 4 covers both.
        let start_pad = base.map_or(0, |b| ((4 - (b % 4)) % 4) as usize);
        let mut off = start_pad;
        while off + 8 <= data.len() {
            let w = &data[off..off + 4];
            if w == [0xf1, 0xff, 0xff, 0xff]
                || w == [0xff, 0xff, 0xff, 0xf1]
                || w == [0xf0, 0xff, 0xff, 0xff]
                || w == [0xff, 0xff, 0xff, 0xf0]
            {
                let candidate = &data[off..];
                if let Ok(table) = PclnTable::parse(candidate)
                    && table.nfunc > 0
                    && table.functions().all(|f| f.is_ok())
                {
                    return Ok((
                        table,
                        PclntabLocation::SegmentScan,
                        base.map(|b| b + off as u64),
                    ));
                }
            }
            off += 4;
        }
    }
    Err(PclntabError::NotFound)
}

/// Finds `runtime.firstmoduledata` (its first word is the table's address, its second the
/// address of the function name table) and returns its `text` field (word 22 in Go 1.18–1.26:
/// pcHeader, six slices of three words, findfunctab, minpc, maxpc, then text).
fn find_module_text(
    segments: &[Segment<'_>],
    table: &PclnTable<'_>,
    table_addr: u64,
) -> Option<u64> {
    let ps = usize::from(table.ptr_size);
    let names_addr = table_addr.checked_add(table.funcname_offset as u64)?;
    let first_entry = u64::from(table.functab(0).ok()?);
    for seg in segments.iter().filter(|s| s.writable) {
        let start_pad = ((ps as u64 - seg.address % ps as u64) % ps as u64) as usize;
        let mut off = start_pad;
        while off + 23 * ps <= seg.data.len() {
            let word = |i: usize| {
                read_word(
                    seg.data,
                    off + i * ps,
                    table.ptr_size,
                    table.order,
                    "moduledata",
                )
                .ok()
            };
            if word(0) == Some(table_addr) && word(1) == Some(names_addr) {
                let text = word(22)?;
                let minpc = word(20)?;
                // minpc is the first function's entry: it must agree with the table.
                if text.checked_add(first_entry) == Some(minpc) {
                    return Some(text);
                }
            }
            off += ps;
        }
    }
    None
}
