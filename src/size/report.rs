//! The size report: every file byte of a Go binary, grouped symbol → package → module, plus the
//! section remainders, headers and padding that no owner claims. All sizes are file bytes
//! (uncompressed, as on disk).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::binary::attribution::{Attribution, EmbedFile, OwnedSymbol, Part, SymbolKind};
use crate::binary::buildinfo::{BuildInfo, read_build_info};

/// Version of the JSON layout of [`SizeReport`]; raised on any incompatible change.
pub const SIZE_SCHEMA_VERSION: u32 = 1;

/// Package name for symbols that no Go package owns (linker tables, carriers).
pub const LINKER: &str = "(linker)";

/// What kind of owner a package or module is (the treemap's colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The standard library (including its `vendor/` copies).
    Std,
    /// The main module.
    Main,
    /// A dependency module.
    Deps,
    /// C code linked through cgo.
    Cgo,
    /// Made by the compiler or linker, with no Go package.
    Generated,
}

/// One symbol (or embedded file, or C compile unit) and its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymbolSize {
    /// Symbol name as Go spells it (`net/http.(*Server).Serve`); `embed:<file>` or
    /// `cgo:<unit>` for embeds and C code.
    pub name: String,
    /// Import path of the owning package; [`LINKER`] when no package owns it.
    pub package: String,
    /// File bytes it owns.
    pub size: u64,
    /// Which reader named it (function table, `.symtab`, DWARF, an embed search).
    pub kind: SymbolKind,
    /// Made by the compiler or linker (type algorithms, dictionaries, wrappers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated: bool,
}

/// A package's bytes, by part.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackageSize {
    /// Import path (`net/http`), `cgo:<unit>` for C code, [`LINKER`] for linker tables.
    pub path: String,
    /// Path of the module holding the package (`std` for the standard library).
    pub module: String,
    /// Where its module comes from; `None` when no module owns it.
    pub class: Option<Class>,
    /// All its file bytes.
    pub size: u64,
    /// Machine code.
    pub code: u64,
    /// Its functions' entries in `.gopclntab`.
    pub func_table: u64,
    /// Data named by `.symtab`.
    pub data: u64,
    /// Its symbols' `.symtab`/`.strtab` entries.
    pub symbol_table: u64,
    /// `go:embed` files.
    pub embed: u64,
    /// Its share of the DWARF sections (file bytes, compressed as stored).
    #[serde(default)]
    pub debug: u64,
    /// Number of its symbols that own bytes.
    pub symbols: usize,
}

/// A module's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleSize {
    /// Module path; `std` for the standard library, `cgo` for C code, [`LINKER`] otherwise.
    pub path: String,
    /// Module version from the build information (`v0.30.0`); empty for `std`, `cgo` and the
    /// linker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Standard library, main module, dependency, cgo or generated.
    pub class: Class,
    /// All file bytes of its packages.
    pub size: u64,
    /// Number of its packages that own bytes.
    pub packages: usize,
}

/// A section and how much of it owners claimed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionSize {
    /// Section name, e.g. `.text`, `.rodata`, `.gopclntab`.
    pub name: String,
    /// Bytes in the file (0 for memory-only sections, listed for reference).
    pub file_size: u64,
    /// Bytes of it that symbols own.
    pub attributed: u64,
    /// The section's own bucket: bytes no symbol claimed.
    pub remainder: u64,
    /// Memory only (`SHT_NOBITS`, e.g. `.bss`): owns no file byte.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memory_only: bool,
    /// A DWARF section (`.debug_*`, `.zdebug_*`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
}

/// How the file size splits into buckets; the fields add up to `file_size`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totals {
    /// Size of the binary in bytes.
    pub file_size: u64,
    /// Bytes owned by Go packages, cgo compile units and embedded files.
    pub owners: u64,
    /// Bytes of named symbols that no package owns (linker tables).
    pub linker_symbols: u64,
    /// Unclaimed bytes of sections, summed.
    pub section_remainders: u64,
    /// ELF header and header tables.
    pub headers: u64,
    /// Alignment padding between sections.
    pub padding: u64,
    /// `owners / file_size`, in percent.
    pub owner_share: f64,
}

/// The binary the report is about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BinarySummary {
    /// The binary's path as given on the command line.
    pub path: String,
    /// The Go version from its build information, e.g. `go1.26.0`.
    pub go_version: String,
    /// Path of its main module; empty when built outside a module.
    pub main_module: String,
    /// Go's name of its architecture (`amd64`, `arm64`…) from the ELF machine; `unknown`
    /// otherwise.
    pub goarch: String,
    /// No `.symtab` (`-ldflags=-s`): data symbols are not named.
    pub stripped: bool,
    /// Has DWARF sections (not built with `-ldflags=-w`).
    pub dwarf: bool,
    /// Functions read from the function table, symbols from `.symtab`, C units from DWARF,
    /// embedded files found.
    pub functions: usize,
    /// Symbols read from `.symtab` (0 when stripped).
    pub symtab_symbols: usize,
    /// Symbols named from an unstripped twin build (for a stripped binary).
    #[serde(default)]
    pub twin_symbols: usize,
    /// Non-Go DWARF compile units (C, C++, assembly linked through cgo).
    pub cgo_units: usize,
    /// `go:embed` files found in the binary, of those named.
    pub embeds_found: usize,
    /// `go:embed` files of its packages long enough to look for.
    pub embeds_named: usize,
    /// Why a reader could not be used, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The whole report (`gopack size --json` prints exactly this).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeReport {
    /// [`SIZE_SCHEMA_VERSION`] of the JSON form.
    pub schema: u32,
    /// The binary measured.
    pub binary: BinarySummary,
    /// How the file size splits into buckets.
    pub totals: Totals,
    /// Largest first.
    pub modules: Vec<ModuleSize>,
    /// Largest first.
    pub packages: Vec<PackageSize>,
    /// Largest first.
    pub sections: Vec<SectionSize>,
    /// Largest first.
    pub symbols: Vec<SymbolSize>,
}

/// What can stop a report.
#[derive(Debug, thiserror::Error)]
pub enum SizeError {
    /// The binary could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The binary's path.
        path: String,
        /// The read's error.
        source: std::io::Error,
    },
    /// The binary is not an ELF Go binary gopack can attribute.
    #[error("{path}: {source}")]
    Attribution {
        /// The binary's path.
        path: String,
        /// Why attribution failed.
        source: crate::binary::attribution::AttributionError,
    },
}

/// Reads `path` and reports where its bytes go. `embeds`: `go:embed` files of its packages.
///
/// Errors: unreadable file, not an ELF Go binary (≥ Go 1.18).
pub fn report_file(path: &Path, embeds: &[EmbedFile]) -> Result<SizeReport, SizeError> {
    report_file_with_twin(path, embeds, None)
}

/// As [`report_file`]; a stripped binary's data is named from `twin`, an unstripped build with
/// the same flags, when its loaded sections are identical (see
/// [`crate::binary::attribution::attribute_with_twin`]).
pub fn report_file_with_twin(
    path: &Path,
    embeds: &[EmbedFile],
    twin: Option<&Path>,
) -> Result<SizeReport, SizeError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SizeError::Read {
        path: shown.clone(),
        source,
    })?;
    // SAFETY: the map is read-only and private; a file changed while mapped gives wrong numbers
    // or an error, never undefined behaviour in safe code that only reads bytes.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| SizeError::Read {
        path: shown.clone(),
        source,
    })?;
    let twin_bytes = match twin {
        Some(t) => Some(std::fs::read(t).map_err(|source| SizeError::Read {
            path: t.display().to_string(),
            source,
        })?),
        None => None,
    };
    let attribution =
        crate::binary::attribution::attribute_with_twin(&map, embeds, twin_bytes.as_deref())
            .map_err(|source| SizeError::Attribution {
                path: shown.clone(),
                source,
            })?;
    let info = read_build_info(&map).unwrap_or_default();
    let linkage = crate::binary::elf::read_linkage(&map).ok();
    Ok(build_report(&shown, attribution, &info, linkage.as_ref()))
}

/// Groups an attribution into packages and modules.
pub fn build_report(
    path: &str,
    attribution: Attribution,
    info: &BuildInfo,
    linkage: Option<&crate::binary::elf::Linkage>,
) -> SizeReport {
    let modules_index = ModuleIndex::new(info);
    let mut packages: HashMap<String, PackageSize> = HashMap::new();
    let mut symbols = Vec::with_capacity(attribution.symbols.len());
    let mut linker_symbols = 0;
    for s in &attribution.symbols {
        let pkg_name = s.package.clone().unwrap_or_else(|| LINKER.to_string());
        if s.package.is_none() {
            linker_symbols += s.total();
        }
        let pkg = packages.entry(pkg_name.clone()).or_insert_with(|| {
            let (module, class) = modules_index.module_of(&pkg_name);
            PackageSize {
                path: pkg_name.clone(),
                module,
                class: Some(class),
                ..Default::default()
            }
        });
        add_parts(pkg, s);
        symbols.push(SymbolSize {
            name: s.name.clone(),
            package: pkg_name,
            size: s.total(),
            kind: s.kind,
            generated: s.generated,
        });
    }
    let mut modules: BTreeMap<String, ModuleSize> = BTreeMap::new();
    for p in packages.values() {
        let m = modules
            .entry(p.module.clone())
            .or_insert_with(|| ModuleSize {
                path: p.module.clone(),
                version: modules_index.version(&p.module),
                class: p.class.unwrap_or(Class::Generated),
                size: 0,
                packages: 0,
            });
        m.size += p.size;
        m.packages += 1;
    }
    let mut packages: Vec<PackageSize> = packages.into_values().collect();
    packages.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    let mut modules: Vec<ModuleSize> = modules.into_values().collect();
    modules.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    symbols.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
    let section_remainders = attribution.sections.iter().map(|s| s.remainder).sum();
    let all_symbols: u64 = attribution.symbols.iter().map(OwnedSymbol::total).sum();
    let owners = all_symbols - linker_symbols;
    let totals = Totals {
        file_size: attribution.file_size,
        owners,
        linker_symbols,
        section_remainders,
        headers: attribution.headers,
        padding: attribution.padding,
        owner_share: percent(owners, attribution.file_size),
    };
    SizeReport {
        schema: SIZE_SCHEMA_VERSION,
        binary: summary(path, info, linkage, &attribution.sources),
        totals,
        modules,
        packages,
        sections: section_sizes(&attribution),
        symbols,
    }
}

fn section_sizes(attribution: &Attribution) -> Vec<SectionSize> {
    let mut sections: Vec<SectionSize> = attribution
        .sections
        .iter()
        .map(|s| SectionSize {
            name: s.name.clone(),
            file_size: s.file_size,
            attributed: s.attributed,
            remainder: s.remainder,
            memory_only: s.memory_only,
            debug: s.debug,
        })
        .collect();
    sections.sort_by(|a, b| {
        b.file_size
            .cmp(&a.file_size)
            .then_with(|| a.name.cmp(&b.name))
    });
    sections
}

fn summary(
    path: &str,
    info: &BuildInfo,
    linkage: Option<&crate::binary::elf::Linkage>,
    src: &crate::binary::attribution::Sources,
) -> BinarySummary {
    BinarySummary {
        path: path.to_string(),
        go_version: info.go_version.clone(),
        main_module: info
            .main
            .as_ref()
            .map(|m| m.path.clone())
            .unwrap_or_default(),
        goarch: linkage
            .and_then(|l| l.goarch)
            .unwrap_or("unknown")
            .to_string(),
        stripped: linkage.is_none_or(|l| l.stripped),
        dwarf: linkage.is_some_and(|l| l.has_debug_info),
        functions: src.pclntab_functions,
        symtab_symbols: src.symtab_symbols,
        twin_symbols: src.twin_symbols,
        cgo_units: src.dwarf_foreign_units,
        embeds_found: src.embeds_found,
        embeds_named: src.embeds_named,
        notes: src.notes.clone(),
    }
}

fn add_parts(pkg: &mut PackageSize, s: &OwnedSymbol) {
    let b = |p: Part| s.bytes[p as usize];
    pkg.code += b(Part::Code);
    pkg.func_table += b(Part::FuncTable);
    pkg.data += b(Part::Data);
    pkg.symbol_table += b(Part::SymbolTable);
    pkg.embed += b(Part::Embed);
    pkg.debug += b(Part::Debug);
    pkg.size += s.total();
    pkg.symbols += 1;
}

/// `part / whole` in percent (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Maps packages to the modules of the build information (longest module path prefix wins).
struct ModuleIndex {
    main: String,
    /// (path, version), longest path first.
    modules: Vec<(String, String)>,
}

impl ModuleIndex {
    fn new(info: &BuildInfo) -> Self {
        let mut modules: Vec<(String, String)> = info
            .deps
            .iter()
            .map(|m| (m.path.clone(), m.version.clone()))
            .collect();
        let main = info
            .main
            .as_ref()
            .map(|m| m.path.clone())
            .unwrap_or_default();
        if !main.is_empty() {
            modules.push((main.clone(), String::new()));
        }
        modules.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
        ModuleIndex { main, modules }
    }

    fn module_of(&self, package: &str) -> (String, Class) {
        if package == LINKER {
            return (LINKER.to_string(), Class::Generated);
        }
        if package == "cgo" || package.starts_with("cgo:") {
            return ("cgo".to_string(), Class::Cgo);
        }
        if package == "main" {
            let m = if self.main.is_empty() {
                "main"
            } else {
                &self.main
            };
            return (m.to_string(), Class::Main);
        }
        for (path, _) in &self.modules {
            let inside = package == path
                || (package.starts_with(path.as_str())
                    && package.as_bytes().get(path.len()) == Some(&b'/'));
            if inside {
                let class = if *path == self.main {
                    Class::Main
                } else {
                    Class::Deps
                };
                return (path.clone(), class);
            }
        }
        let first = package.split('/').next().unwrap_or(package);
        if !first.contains('.') {
            ("std".to_string(), Class::Std)
        } else {
            // A package outside every module the binary lists: its own path stands in.
            (package.to_string(), Class::Deps)
        }
    }

    fn version(&self, module: &str) -> String {
        self.modules
            .iter()
            .find(|(p, _)| p == module)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::buildinfo::Module;

    #[test]
    fn packages_map_to_the_longest_module_path() {
        let info = BuildInfo {
            main: Some(Module {
                path: "example.com/app".into(),
                ..Default::default()
            }),
            deps: vec![
                Module {
                    path: "cloud.google.com/go".into(),
                    version: "v0.1.0".into(),
                    ..Default::default()
                },
                Module {
                    path: "cloud.google.com/go/storage".into(),
                    version: "v1.2.0".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let idx = ModuleIndex::new(&info);
        let m = |p| idx.module_of(p);
        assert_eq!(
            m("cloud.google.com/go/storage/internal").0,
            "cloud.google.com/go/storage"
        );
        assert_eq!(m("cloud.google.com/go/iam").0, "cloud.google.com/go");
        assert_eq!(m("cloud.google.com/gopher").0, "cloud.google.com/gopher");
        assert_eq!(m("main"), ("example.com/app".into(), Class::Main));
        assert_eq!(m("example.com/app/internal/x").1, Class::Main);
        assert_eq!(m("net/http"), ("std".into(), Class::Std));
        assert_eq!(
            m("vendor/golang.org/x/net/idna"),
            ("std".into(), Class::Std)
        );
        assert_eq!(m("cgo:sqlite3.c"), ("cgo".into(), Class::Cgo));
        assert_eq!(m(LINKER).1, Class::Generated);
        assert_eq!(idx.version("cloud.google.com/go/storage"), "v1.2.0");
    }
}
