//! The ELF symbol table (`.symtab`, absent after `-ldflags=-s`) and the Go naming rules that
//! turn a symbol name into the package that owns it.

use object::read::elf::{FileHeader, Sym as _};
use object::{Endianness, FileKind, elf};

use super::elf::ElfError;

/// One `.symtab` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymtabSymbol {
    /// Index of the entry in `.symtab`.
    pub index: usize,
    /// Name as written (`.symtab` spells `·` as `.`).
    pub name: String,
    /// Offset of the name in the linked string table.
    pub name_offset: u64,
    /// `st_value`: the address for defined symbols.
    pub address: u64,
    /// `st_size` in bytes (0 for carriers such as `type:*` and `go:string.*`).
    pub size: u64,
    /// `st_shndx`: the section the symbol is defined in (0 when undefined, or special).
    pub section_index: usize,
    /// `STT_FUNC`.
    pub function: bool,
}

/// The symbol table of a binary and where its two sections lie in the file.
#[derive(Debug, Clone, Default)]
pub struct Symtab {
    /// Entries in table order (entry 0, the null symbol, left out).
    pub symbols: Vec<SymtabSymbol>,
    /// File offset and entry size of `.symtab`.
    pub symtab_offset: u64,
    /// `sh_entsize` of `.symtab`: 24 bytes for ELF64, 16 for ELF32.
    pub entry_size: u64,
    /// File offset of the string table it links to.
    pub strtab_offset: u64,
}

/// Reads `.symtab`; `Ok(None)` for a stripped binary.
pub fn read_symtab(data: &[u8]) -> Result<Option<Symtab>, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => symtab::<elf::FileHeader64<Endianness>>(data),
        Ok(FileKind::Elf32) => symtab::<elf::FileHeader32<Endianness>>(data),
        _ => Err(ElfError::NotElf("unknown format".into())),
    }
}

fn symtab<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Option<Symtab>, ElfError> {
    use object::read::elf::SectionHeader as _;
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let header = H::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    let sections = header.sections(endian, data).map_err(bad)?;
    let table = sections
        .symbols(endian, data, elf::SHT_SYMTAB)
        .map_err(bad)?;
    if table.is_empty() {
        return Ok(None);
    }
    let sym_section = sections.section(table.section()).map_err(bad)?;
    let str_section = sections.section(table.string_section()).map_err(bad)?;
    let strings = table.strings();
    let mut symbols = Vec::with_capacity(table.len());
    for (index, sym) in table.enumerate() {
        if index.0 == 0 {
            continue;
        }
        let name = sym.name(endian, strings).unwrap_or_default();
        symbols.push(SymtabSymbol {
            index: index.0,
            name: String::from_utf8_lossy(name).into_owned(),
            name_offset: sym.st_name(endian).into(),
            address: sym.st_value(endian).into(),
            size: sym.st_size(endian).into(),
            section_index: usize::from(sym.st_shndx(endian).0),
            function: sym.st_type() == elf::STT_FUNC,
        });
    }
    Ok(Some(Symtab {
        symbols,
        symtab_offset: sym_section.sh_offset(endian).into(),
        entry_size: sym_section.sh_entsize(endian).into(),
        strtab_offset: str_section.sh_offset(endian).into(),
    }))
}

/// The import path of the package a Go symbol belongs to, following `debug/gosym`'s rule: drop
/// every `[...]` part (generic instantiations go to their defining package), then take the
/// text before the first `.` after the last `/`. Compiler-generated names are placed under the
/// package of the type they were made for (`type:.eq.net/http.Header` → `net/http`). A dot
/// escaped by the linker (`gopkg.in/yaml%2ev3`) is unescaped. `None` when the name holds no
/// Go package (C symbols of a cgo binary, linker-made symbols such as `runtime.text`'s
/// neighbours `go:buildinfo`, carriers like `type:*`).
pub fn package_of(symbol: &str) -> Option<String> {
    let mut name = strip_brackets(symbol);
    let mut generated = false;
    for prefix in ["type:.eq.", "type..eq.", "type:.hash.", "type..hash."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest
                .trim_start_matches(|c: char| c == '*' || c.is_ascii_digit())
                .to_string();
            generated = true;
            break;
        }
    }
    if !generated
        && (name.starts_with("type:") || name.starts_with("go:") || name.starts_with("type."))
    {
        return None;
    }
    let after_slash = name.rfind('/').map_or(0, |i| i + 1);
    let dot = name[after_slash..].find('.')? + after_slash;
    let pkg = &name[..dot];
    if pkg.is_empty()
        || pkg == "go"
        || pkg == "type"
        || pkg.starts_with('_')
        || pkg.contains(['(', '*', ' ', '$'])
    {
        return None;
    }
    Some(pkg.replace("%2e", ".").replace("%2E", "."))
}

/// True for names the compiler or linker makes rather than the programmer writes: type
/// algorithms, dictionaries, wrappers, closures of package initialisers.
pub fn is_generated(symbol: &str) -> bool {
    symbol.starts_with("type:")
        || symbol.starts_with("type.")
        || symbol.starts_with("go:")
        || symbol.contains("..dict.")
        || symbol.contains("-fm")
        || symbol.ends_with("-tramp0")
}

fn strip_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_follow_go_naming() {
        let cases = [
            ("main.main", Some("main")),
            ("net/http.(*Client).Do", Some("net/http")),
            ("net/http.(*Client).Do.func1", Some("net/http")),
            (
                "slices.SortFunc[go.shape.[]uint8,go.shape.*net/http.Request]",
                Some("slices"),
            ),
            (
                "example.com/m/pkg.(*T[go.shape.*net/url.URL]).M",
                Some("example.com/m/pkg"),
            ),
            (
                "internal/sync..dict.HashTrieMap[interface {},interface {}]",
                Some("internal/sync"),
            ),
            ("gopkg.in/yaml%2ev3.Marshal", Some("gopkg.in/yaml.v3")),
            ("type:.eq.net/http.Header", Some("net/http")),
            ("type:.eq.[8]internal/cpu.option", Some("internal/cpu")),
            ("type:*", None),
            ("go:string.*", None),
            ("go:itab.*bufio.Reader,io.Reader", None),
            ("sqlite3_open_v2", None),
            ("_cgo_topofstack", None),
            ("runtime.memmove.abi0", Some("runtime")),
            (
                "vendor/golang.org/x/net/idna.ToASCII",
                Some("vendor/golang.org/x/net/idna"),
            ),
            ("$f64.3ff0000000000000", None),
        ];
        for (name, want) in cases {
            assert_eq!(package_of(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn generated_names_are_recognised() {
        assert!(is_generated("type:.eq.net/http.Header"));
        assert!(is_generated("internal/sync..dict.HashTrieMap[int]"));
        assert!(is_generated("net/http.(*Server).Serve-fm"));
        assert!(!is_generated("main.main"));
    }
}
