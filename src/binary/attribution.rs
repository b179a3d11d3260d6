//! Puts every byte of an ELF Go binary in exactly one bucket: a symbol (with its package when it
//! has one), the unattributed remainder of a section, a header table, or padding between
//! sections. Memory-only sections (`.bss`, `.noptrbss`, `.tbss`) take no file bytes and so take
//! no part. Nothing is clamped: the buckets add up to the file size by construction, and
//! [`Attribution::total`] lets callers check it.
//!
//! Who claims which bytes, most precise first (a byte goes to the first claim that covers it):
//! 1. the function table (works on stripped binaries): each function's code, and its entry,
//!    record, name and pc-value tables inside `.gopclntab` ([`super::pclnsize`]);
//! 2. `go:embed` files the caller names (found by content in the read-only data);
//! 3. `.symtab` symbols with a size (data and C functions), and every symbol's own table entry
//!    and name in `.symtab`/`.strtab`; with `.symtab`'s `go:func.*` area, each function's
//!    funcdata blobs (stack maps, inlining trees) inside it;
//! 4. non-Go DWARF compile units (cgo C code) for code nothing else claimed;
//! 5. the DWARF sections, split by compile unit (Go writes one per package) and by function
//!    (`.debug_frame` FDEs), see [`super::dwarf`].

use std::collections::HashMap;

use super::dwarf::{self, DebugOwner, DwarfInfo, ForeignUnit};
use super::elf::ElfError;
use super::layout::{FileLayout, SectionInfo, read_layout};
use super::pclnsize::{self, PclnPart};
use super::pclntab::{self, PclntabError};
use super::symbols::{self, Symtab};

/// What kind of bytes of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Machine code.
    Code,
    /// The function's entry, record, name and pc-value tables in `.gopclntab`.
    FuncTable,
    /// Data (variables, read-only data) named by `.symtab`.
    Data,
    /// The symbol's own `.symtab` entry and `.strtab` name.
    SymbolTable,
    /// A `go:embed` file's contents.
    Embed,
    /// DWARF: the compile unit's or function's share of the `.debug_*` sections (file bytes,
    /// compressed when the sections are).
    Debug,
}

impl Part {
    /// Every part, in report order.
    pub const ALL: [Part; 6] = [
        Part::Code,
        Part::FuncTable,
        Part::Data,
        Part::SymbolTable,
        Part::Embed,
        Part::Debug,
    ];
}

/// Where a symbol's name and owner come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    /// A Go function (in the function table).
    Function,
    /// Data named by `.symtab`.
    Data,
    /// C/C++/assembly code of a cgo binary (named by `.symtab` or a DWARF compile unit).
    Cgo,
    /// A `go:embed` file.
    Embed,
    /// The DWARF of a Go compile unit (`dwarf:<package>`).
    Debug,
    /// A symbol with no file bytes of its own (a carrier such as `type:*`), owning only its
    /// symbol table entry.
    Other,
}

/// A symbol and the file bytes it owns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OwnedSymbol {
    /// Name (`.symtab`'s `.abi0` suffix dropped, `·` written `.`); for embeds `embed:<file>`,
    /// for DWARF-only C code `cgo:<compile unit>`.
    pub name: String,
    /// Import path of the owning package; `cgo:<unit>` for C code; `None` when no Go package
    /// owns the name (linker-made symbols and carriers).
    pub package: Option<String>,
    /// Which reader named it (function table, `.symtab`, DWARF, an embed search).
    pub kind: SymbolKind,
    /// Made by the compiler or linker (type algorithms, dictionaries, wrappers).
    pub generated: bool,
    /// Bytes per part, indexed like [`Part::ALL`].
    pub bytes: [u64; 6],
}

impl OwnedSymbol {
    /// All file bytes of the symbol.
    pub fn total(&self) -> u64 {
        self.bytes.iter().sum()
    }
}

/// A section's bytes: how many went to symbols, and what is left.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SectionBytes {
    /// Section name, e.g. `.text`, `.gopclntab`, `.debug_info`.
    pub name: String,
    /// `sh_offset`: where the section starts in the file.
    pub offset: u64,
    /// Bytes the section takes in the file (0 for `SHT_NOBITS`; compressed size for
    /// `SHF_COMPRESSED` DWARF).
    pub file_size: u64,
    /// Bytes given to symbols.
    pub attributed: u64,
    /// Bytes no symbol claimed (the section's own bucket).
    pub remainder: u64,
    /// Bytes that another header or section already covered (overlapping file ranges).
    pub overlapped: u64,
    /// Memory only (`SHT_NOBITS`): listed for reference, owns no file byte.
    pub memory_only: bool,
    /// `SHF_ALLOC`: loaded into memory when the program runs.
    pub alloc: bool,
    /// A DWARF section (`.debug_*`, `.zdebug_*`).
    pub debug: bool,
}

/// Which readers contributed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Sources {
    /// Functions read from the function table.
    pub pclntab_functions: usize,
    /// Symbols read from `.symtab` (0 when stripped).
    pub symtab_symbols: usize,
    /// Symbols read from an unstripped twin's `.symtab` (for a stripped binary).
    pub twin_symbols: usize,
    /// Non-Go DWARF compile units.
    pub dwarf_foreign_units: usize,
    /// `go:embed` files found in the binary, of those the caller named.
    pub embeds_found: usize,
    /// `go:embed` files the caller named (at least [`MIN_EMBED_LEN`] bytes long).
    pub embeds_named: usize,
    /// Why a reader could not be used (a stripped symbol table is not a problem and is not
    /// listed).
    pub notes: Vec<String>,
}

/// Every file byte, bucketed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attribution {
    /// Size of the binary in bytes.
    pub file_size: u64,
    /// Symbols owning at least one byte, in no particular order.
    pub symbols: Vec<OwnedSymbol>,
    /// Every section with a header, in file order.
    pub sections: Vec<SectionBytes>,
    /// ELF header, program header table and section header table.
    pub headers: u64,
    /// Bytes between (and after) headers and sections that nothing describes: alignment
    /// padding.
    pub padding: u64,
    /// Which readers contributed, and why some could not.
    pub sources: Sources,
}

impl Attribution {
    /// Sum of every bucket; equals `file_size`.
    pub fn total(&self) -> u64 {
        self.symbols.iter().map(OwnedSymbol::total).sum::<u64>()
            + self.sections.iter().map(|s| s.remainder).sum::<u64>()
            + self.headers
            + self.padding
    }
}

/// A file embedded with `//go:embed`, as `go list` reports it.
#[derive(Debug, Clone)]
pub struct EmbedFile {
    /// Import path of the package whose directive embeds it.
    pub package: String,
    /// Path relative to the package directory.
    pub path: String,
    /// Its contents.
    pub contents: Vec<u8>,
}

/// Files smaller than this are not searched for: short contents could match by chance.
pub const MIN_EMBED_LEN: usize = 64;

/// What can stop attribution.
#[derive(Debug, thiserror::Error)]
pub enum AttributionError {
    /// The file is not an ELF executable, or its headers are malformed.
    #[error(transparent)]
    Elf(#[from] ElfError),
    /// The Go function table (`.gopclntab`) is missing or unreadable.
    #[error("{0}")]
    Pclntab(#[from] PclntabError),
}

#[derive(Clone, Copy)]
struct Claim {
    start: u64,
    end: u64,
    rank: u8,
    owner: u32,
    part: Part,
}

#[derive(Default)]
struct Owners {
    index: HashMap<String, u32>,
    list: Vec<OwnedSymbol>,
}

impl Owners {
    fn get(&mut self, name: &str, package: Option<String>, kind: SymbolKind) -> u32 {
        let key = normalise(name);
        if let Some(&i) = self.index.get(key.as_ref()) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(OwnedSymbol {
            generated: symbols::is_generated(&key),
            name: key.to_string(),
            package,
            kind,
            bytes: [0; 6],
        });
        self.index.insert(key.into_owned(), i);
        i
    }
}

fn normalise(name: &str) -> std::borrow::Cow<'_, str> {
    let name = name.strip_suffix(".abi0").unwrap_or(name);
    if name.contains('·') {
        name.replace('·', ".").into()
    } else {
        name.into()
    }
}

/// Claims grouped by the section (position in `layout.sections`) they fall in.
struct Claims<'l> {
    layout: &'l FileLayout,
    /// (offset, end, position) of file-backed sections, sorted by offset.
    spans: Vec<(u64, u64, usize)>,
    by_section: Vec<Vec<Claim>>,
}

impl<'l> Claims<'l> {
    fn new(layout: &'l FileLayout) -> Self {
        let mut spans: Vec<(u64, u64, usize)> = layout
            .sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.file_size > 0)
            .map(|(i, s)| (s.offset, s.offset + s.file_size, i))
            .collect();
        spans.sort_unstable();
        Claims {
            layout,
            spans,
            by_section: vec![Vec::new(); layout.sections.len()],
        }
    }

    /// Claims `[start, start+len)` of the file, clipped to the section holding `start`.
    fn file(&mut self, start: u64, len: u64, rank: u8, owner: u32, part: Part) {
        let i = self.spans.partition_point(|s| s.0 <= start);
        let Some(&(_, end, pos)) = i.checked_sub(1).and_then(|i| self.spans.get(i)) else {
            return;
        };
        if start >= end || len == 0 {
            return;
        }
        let stop = start.saturating_add(len).min(end);
        self.by_section[pos].push(Claim {
            start,
            end: stop,
            rank,
            owner,
            part,
        });
    }

    /// Claims `[addr, addr+len)` of the loaded image, when a file-backed section holds it.
    fn memory(&mut self, addr: u64, len: u64, rank: u8, owner: u32, part: Part) {
        if let Some((off, _)) = self.layout.offset_of(addr) {
            self.file(off, len, rank, owner, part);
        }
    }
}

/// Buckets every byte of `data`, an ELF Go binary. `embeds` are the `go:embed` files of its
/// packages (empty when unknown).
///
/// Errors: not an ELF file, malformed headers, or no Go function table.
pub fn attribute(data: &[u8], embeds: &[EmbedFile]) -> Result<Attribution, AttributionError> {
    attribute_with_twin(data, embeds, None)
}

/// As [`attribute`], and when `data` is stripped, names its data from `twin`: a build of the
/// same program with the same flags but without `-s` (go-facts §6: identical loaded sections).
/// The twin is used only when every loaded section of it is byte-identical, at the same
/// address, to the same section of `data`; otherwise a note says why it was not.
pub fn attribute_with_twin(
    data: &[u8],
    embeds: &[EmbedFile],
    twin: Option<&[u8]>,
) -> Result<Attribution, AttributionError> {
    let layout = read_layout(data)?;
    let mut owners = Owners::default();
    let mut claims = Claims::new(&layout);
    let functions = claim_functions(data, &layout, &mut owners, &mut claims)?;
    let mut sources = Sources {
        pclntab_functions: functions.entries.len(),
        ..Default::default()
    };
    let (found, named) = claim_embeds(data, &layout, embeds, &mut owners, &mut claims);
    sources.embeds_found = found;
    sources.embeds_named = named;
    let dwarf = match dwarf::read_dwarf(data) {
        Ok(d) => d,
        Err(e) => {
            sources.notes.push(format!("DWARF not used: {e}"));
            DwarfInfo::default()
        }
    };
    let units = &dwarf.foreign;
    sources.dwarf_foreign_units = units.len();
    match symbols::read_symtab(data) {
        Ok(Some(symtab)) => {
            sources.symtab_symbols = symtab.symbols.len();
            claim_symtab(&symtab, &layout, units, &mut owners, &mut claims, true);
            claim_funcdata(&symtab, &functions.funcdata, &mut claims);
        }
        Ok(None) => match twin.map(|t| twin_symtab(&layout, data, t)) {
            Some(Ok((symtab, twin_layout))) => {
                sources.twin_symbols = symtab.symbols.len();
                claim_symtab(
                    &symtab,
                    &twin_layout,
                    units,
                    &mut owners,
                    &mut claims,
                    false,
                );
                claim_funcdata(&symtab, &functions.funcdata, &mut claims);
            }
            Some(Err(why)) => sources
                .notes
                .push(format!("unstripped twin not used: {why}")),
            None => {}
        },
        Err(e) => sources.notes.push(format!(".symtab not used: {e}")),
    }
    for unit in units {
        let owner = owners.get(
            &format!("cgo:{}", unit.name),
            Some(cgo_package(&unit.name)),
            SymbolKind::Cgo,
        );
        for &(start, end) in &unit.ranges {
            claims.memory(start, end - start, 4, owner, Part::Code);
        }
    }
    claim_dwarf(data, &dwarf, &functions.entries, &mut owners, &mut claims);
    Ok(sweep(&layout, claims.by_section, owners.list, sources))
}

/// The package name given to C code of a DWARF compile unit: `cgo:<file name>`.
pub fn cgo_package(unit: &str) -> String {
    let base = unit.rsplit('/').next().unwrap_or(unit);
    format!("cgo:{base}")
}

fn claim_functions(
    data: &[u8],
    layout: &FileLayout,
    owners: &mut Owners,
    claims: &mut Claims<'_>,
) -> Result<Functions, AttributionError> {
    let found = pclntab::locate(data)?;
    let table = found.table;
    let table_offset = match found.address {
        Some(addr) => layout.offset_of(addr).map(|(o, _)| o),
        None => None,
    }
    .or_else(|| layout.section(".gopclntab").map(|s| s.offset));
    let base = found.text_start.map_or(0, |(t, _)| t);
    let mut ids = Vec::with_capacity(table.len());
    let mut entries = Vec::with_capacity(table.len());
    for (index, f) in table.functions().enumerate() {
        let f = f?;
        // Static assembly functions (`·name<>`) have no package in their name: their source
        // file's directory names it.
        let package = symbols::package_of(f.name)
            .or_else(|| pclnsize::function_file(&table, index).and_then(pclnsize::package_of_file));
        let owner = owners.get(f.name, package, SymbolKind::Function);
        ids.push(owner);
        let entry = base.wrapping_add(f.entry_offset);
        entries.push((entry, owner));
        claims.memory(entry, f.size, 0, owner, Part::Code);
    }
    if let Some(table_offset) = table_offset {
        pclnsize::for_each_piece(&table, |index, part, offset, len| {
            let rank = if part == PclnPart::PcValue { 1 } else { 0 };
            claims.file(
                table_offset + offset,
                len,
                rank,
                ids[index],
                Part::FuncTable,
            );
        })?;
    }
    let mut funcdata = Vec::new();
    pclnsize::for_each_funcdata(&table, |index, off| funcdata.push((off, ids[index])))?;
    entries.sort_unstable();
    Ok(Functions { entries, funcdata })
}

/// What the function table gave: (entry address, owner) sorted by address, and (funcdata
/// offset from `go:func.*`, owner) in table order.
struct Functions {
    entries: Vec<(u64, u32)>,
    funcdata: Vec<(u64, u32)>,
}

/// Splits the `go:func.*` area (funcdata blobs, laid out one after another) at every offset a
/// function points at; each blob goes to the first function that points at it. Needs the
/// area's address and size from `.symtab`.
fn claim_funcdata(symtab: &Symtab, funcdata: &[(u64, u32)], claims: &mut Claims<'_>) {
    let Some(area) = symtab
        .symbols
        .iter()
        .find(|s| (s.name == "go:func.*" || s.name == "go.func.*") && s.size > 0)
    else {
        return;
    };
    let mut first: HashMap<u64, u32> = HashMap::new();
    for &(off, owner) in funcdata {
        first.entry(off).or_insert(owner);
    }
    let mut starts: Vec<(u64, u32)> = first.into_iter().filter(|(o, _)| *o < area.size).collect();
    starts.sort_unstable();
    for (i, &(off, owner)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(area.size, |n| n.0);
        claims.memory(area.address + off, end - off, 2, owner, Part::FuncTable);
    }
}

/// Gives each DWARF compile unit's and FDE's bytes to its package or function.
fn claim_dwarf(
    data: &[u8],
    dwarf: &DwarfInfo,
    functions: &[(u64, u32)],
    owners: &mut Owners,
    claims: &mut Claims<'_>,
) {
    let Ok(file) = object::File::parse(data) else {
        return;
    };
    let unit_owners: Vec<u32> = dwarf
        .units
        .iter()
        .map(|u| {
            if u.go {
                owners.get(
                    &format!("dwarf:{}", u.name),
                    Some(u.name.clone()),
                    SymbolKind::Debug,
                )
            } else {
                owners.get(
                    &format!("cgo:{}", u.name),
                    Some(cgo_package(&u.name)),
                    SymbolKind::Cgo,
                )
            }
        })
        .collect();
    let mut by_section: HashMap<&str, Vec<&dwarf::DebugPiece>> = HashMap::new();
    for p in &dwarf.pieces {
        by_section.entry(p.section).or_default().push(p);
    }
    for (name, pieces) in by_section {
        let Some(section) = object::Object::section_by_name(&file, name) else {
            continue;
        };
        let Ok(stored) = object::ObjectSection::compressed_data(&section) else {
            continue;
        };
        let stream_offset = stored.data.as_ptr() as u64 - data.as_ptr() as u64;
        let mut bounds: Vec<u64> = pieces.iter().flat_map(|p| [p.start, p.end]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        let map: HashMap<u64, u64> = match stored.format {
            object::CompressionFormat::None => bounds.iter().map(|&b| (b, b)).collect(),
            object::CompressionFormat::Zlib => {
                match dwarf::compressed_positions(stored.data, &bounds) {
                    Some(pos) => bounds.iter().copied().zip(pos).collect(),
                    None => continue,
                }
            }
            _ => continue,
        };
        for p in pieces {
            let owner = match p.owner {
                DebugOwner::Unit(i) => unit_owners[i],
                DebugOwner::Function(addr) => {
                    let i = functions.partition_point(|f| f.0 <= addr);
                    match i.checked_sub(1).map(|i| functions[i]) {
                        Some((entry, owner)) if entry == addr => owner,
                        _ => continue,
                    }
                }
            };
            let (start, end) = (map[&p.start], map[&p.end]);
            claims.file(stream_offset + start, end - start, 5, owner, Part::Debug);
        }
    }
}

fn claim_embeds(
    data: &[u8],
    layout: &FileLayout,
    embeds: &[EmbedFile],
    owners: &mut Owners,
    claims: &mut Claims<'_>,
) -> (usize, usize) {
    let searchable: Vec<&SectionInfo> = layout
        .sections
        .iter()
        .filter(|s| s.alloc && !s.exec && s.file_size > 0)
        .collect();
    let mut found = 0;
    let named = embeds
        .iter()
        .filter(|e| e.contents.len() >= MIN_EMBED_LEN)
        .count();
    for embed in embeds.iter().filter(|e| e.contents.len() >= MIN_EMBED_LEN) {
        let finder = memchr::memmem::Finder::new(&embed.contents);
        for s in &searchable {
            let bytes = &data[s.offset as usize..(s.offset + s.file_size) as usize];
            if let Some(pos) = finder.find(bytes) {
                let owner = owners.get(
                    &format!("embed:{}/{}", embed.package, embed.path),
                    Some(embed.package.clone()),
                    SymbolKind::Embed,
                );
                let len = embed.contents.len() as u64;
                claims.file(s.offset + pos as u64, len, 2, owner, Part::Embed);
                found += 1;
                break;
            }
        }
    }
    (found, named)
}

/// The symbol table of `twin` and its layout, when every loaded section of `twin` is in
/// `data` at the same address with the same bytes.
fn twin_symtab(
    layout: &FileLayout,
    data: &[u8],
    twin: &[u8],
) -> Result<(Symtab, FileLayout), String> {
    let twin_layout = read_layout(twin).map_err(|e| e.to_string())?;
    let symtab = symbols::read_symtab(twin)
        .map_err(|e| e.to_string())?
        .ok_or("it has no .symtab either")?;
    for t in twin_layout
        .sections
        .iter()
        .filter(|s| s.alloc && s.file_size > 0)
    {
        let same = layout
            .sections
            .iter()
            .find(|s| s.name == t.name && s.address == t.address && s.file_size == t.file_size);
        let bytes = |d: &[u8], s: &SectionInfo| {
            d.get(s.offset as usize..(s.offset + s.file_size) as usize)
                .map(<[u8]>::to_vec)
        };
        // The build ID and the build settings (`-ldflags=-w` for `-s`, same length) differ by
        // design; only their place must match.
        let id_only = matches!(
            t.name.as_str(),
            ".note.go.buildid" | ".note.gnu.build-id" | ".go.buildinfo"
        );
        match same {
            Some(_) if id_only => {}
            Some(s) if bytes(data, s).is_some() && bytes(data, s) == bytes(twin, t) => {}
            _ => return Err(format!("its {} section differs", t.name)),
        }
    }
    Ok((symtab, twin_layout))
}

/// Claims the bytes `.symtab` names; with `own_entries`, also the table's own entries and
/// names (false for a twin's table, which is not in this file).
fn claim_symtab(
    symtab: &Symtab,
    layout: &FileLayout,
    units: &[ForeignUnit],
    owners: &mut Owners,
    claims: &mut Claims<'_>,
    own_entries: bool,
) {
    let section_at = |index: usize| layout.sections.iter().find(|s| s.index == index);
    for sym in &symtab.symbols {
        if sym.name.is_empty() {
            continue;
        }
        let section = section_at(sym.section_index);
        let exec = section.is_some_and(|s| s.exec);
        let go_package = symbols::package_of(&sym.name);
        let c_unit = (go_package.is_none() && exec)
            .then(|| {
                units.iter().find(|u| {
                    u.ranges
                        .iter()
                        .any(|&(a, b)| sym.address >= a && sym.address < b)
                })
            })
            .flatten();
        let (package, kind) = match (go_package, c_unit) {
            (Some(p), _) => (
                Some(p),
                if exec {
                    SymbolKind::Function
                } else {
                    SymbolKind::Data
                },
            ),
            (None, Some(u)) => (Some(cgo_package(&u.name)), SymbolKind::Cgo),
            (None, None) if exec && !is_go_linker_name(&sym.name) => {
                (Some("cgo".to_string()), SymbolKind::Cgo)
            }
            (None, None) if sym.size > 0 => (None, SymbolKind::Data),
            (None, None) => (None, SymbolKind::Other),
        };
        let owner = owners.get(&sym.name, package, kind);
        if sym.size > 0 && section.is_some_and(|s| s.alloc && !s.nobits) {
            let part = if exec { Part::Code } else { Part::Data };
            claims.memory(sym.address, sym.size, 3, owner, part);
        }
        if !own_entries {
            continue;
        }
        let entry = symtab.symtab_offset + sym.index as u64 * symtab.entry_size;
        claims.file(entry, symtab.entry_size, 3, owner, Part::SymbolTable);
        claims.file(
            symtab.strtab_offset + sym.name_offset,
            sym.name.len() as u64 + 1,
            3,
            owner,
            Part::SymbolTable,
        );
    }
}

/// Names the Go linker makes for its own tables and boundaries (`runtime.text`, `go:buildid`,
/// `type:*`), as opposed to C symbols.
fn is_go_linker_name(name: &str) -> bool {
    name.starts_with("go:")
        || name.starts_with("type:")
        || name.starts_with("go.")
        || name.starts_with("type.")
        || name.contains('.')
}

/// Gives the bytes of `[from, end)` to `claims`: a lower rank wins over a higher one wherever
/// they overlap; within a rank, the claim that starts first. Returns the bytes given.
fn assign(claims: &mut [Claim], from: u64, end: u64, symbols: &mut [OwnedSymbol]) -> u64 {
    use std::collections::BTreeMap;
    claims.sort_unstable_by_key(|c| (c.rank, c.start));
    // Taken ranges, start → end, disjoint and merged when adjacent.
    let mut taken: BTreeMap<u64, u64> = BTreeMap::new();
    let mut given = 0;
    for c in claims.iter() {
        let (mut s, e) = (c.start.max(from), c.end.min(end));
        // A range taken before `s` may reach into the claim.
        if let Some((_, &prev_end)) = taken.range(..=s).next_back() {
            s = s.max(prev_end);
        }
        while s < e {
            // The next taken range at or after `s` bounds this free piece.
            let next = taken.range(s..).next().map(|(&a, &b)| (a, b));
            let stop = next.map_or(e, |(a, _)| a.min(e));
            if stop > s {
                symbols[c.owner as usize].bytes[c.part as usize] += stop - s;
                given += stop - s;
                insert_merged(&mut taken, s, stop);
            }
            match next {
                Some((a, b)) if a < e => s = b.max(stop),
                _ => break,
            }
        }
    }
    given
}

fn insert_merged(taken: &mut std::collections::BTreeMap<u64, u64>, start: u64, end: u64) {
    let (mut start, mut end) = (start, end);
    if let Some((&a, &b)) = taken.range(..=start).next_back()
        && b >= start
    {
        start = a;
        end = end.max(b);
        taken.remove(&a);
    }
    if let Some(&b) = taken.get(&end) {
        taken.remove(&end);
        end = b;
    }
    taken.insert(start, end);
}

fn sweep(
    layout: &FileLayout,
    mut by_section: Vec<Vec<Claim>>,
    mut symbols: Vec<OwnedSymbol>,
    sources: Sources,
) -> Attribution {
    // Headers and sections as file regions, in file order; overlaps go to the earlier region.
    enum Region {
        Header,
        Section(usize),
    }
    let mut regions: Vec<(u64, u64, Region)> = Vec::new();
    for h in [
        Some(layout.elf_header),
        layout.program_headers,
        layout.section_headers,
    ]
    .into_iter()
    .flatten()
    {
        regions.push((h.offset, h.offset + h.size, Region::Header));
    }
    for (pos, s) in layout.sections.iter().enumerate() {
        if s.file_size > 0 {
            regions.push((s.offset, s.offset + s.file_size, Region::Section(pos)));
        }
    }
    regions.sort_by_key(|r| (r.0, r.1));
    let mut sections: Vec<SectionBytes> = layout
        .sections
        .iter()
        .map(|s| SectionBytes {
            name: s.name.clone(),
            offset: s.offset,
            file_size: s.file_size,
            attributed: 0,
            remainder: 0,
            overlapped: 0,
            memory_only: s.nobits,
            alloc: s.alloc,
            debug: s.name.starts_with(".debug_") || s.name.starts_with(".zdebug_"),
        })
        .collect();
    let (mut headers, mut padding, mut cursor) = (0u64, 0u64, 0u64);
    for (start, end, region) in regions {
        let from = start.max(cursor);
        if from > cursor {
            padding += from - cursor;
        }
        if let Region::Section(pos) = region {
            sections[pos].overlapped = from.min(end) - start;
        }
        if end <= from {
            continue;
        }
        match region {
            Region::Header => headers += end - from,
            Region::Section(pos) => {
                let given = assign(&mut by_section[pos], from, end, &mut symbols);
                sections[pos].attributed = given;
                sections[pos].remainder = (end - from) - given;
            }
        }
        cursor = end;
    }
    padding += layout.file_size.saturating_sub(cursor);
    symbols.retain(|s| s.total() > 0);
    let mut sections_in_order = sections;
    sections_in_order.sort_by_key(|s| (s.memory_only, s.offset));
    Attribution {
        file_size: layout.file_size,
        symbols,
        sections: sections_in_order,
        headers,
        padding,
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str) -> OwnedSymbol {
        OwnedSymbol {
            name: name.into(),
            package: None,
            kind: SymbolKind::Other,
            generated: false,
            bytes: [0; 6],
        }
    }

    fn claim(start: u64, end: u64, rank: u8, owner: u32) -> Claim {
        Claim {
            start,
            end,
            rank,
            owner,
            part: Part::Data,
        }
    }

    #[test]
    fn lower_ranks_win_overlaps_and_every_byte_is_given_once() {
        let mut symbols = vec![sym("carrier"), sym("a"), sym("b"), sym("c")];
        // A carrier (rank 3) spans 0..100; precise claims (rank 2) sit inside it and overlap
        // each other; one claim runs past the section end.
        let mut claims = vec![
            claim(0, 100, 3, 0),
            claim(10, 20, 2, 1),
            claim(15, 30, 2, 2),
            claim(90, 150, 2, 3),
        ];
        let given = assign(&mut claims, 0, 120, &mut symbols);
        let bytes: Vec<u64> = symbols.iter().map(OwnedSymbol::total).collect();
        assert_eq!(bytes, vec![10 + 60, 10, 10, 30]);
        assert_eq!(given, 120);
        let mut none = vec![claim(200, 300, 0, 1)];
        assert_eq!(assign(&mut none, 0, 120, &mut symbols), 0);
    }
}
