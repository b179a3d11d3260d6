//! Where the bytes of an ELF file are: its headers, its sections (with the file range each one
//! occupies, if any) and the address-to-offset mapping of loaded sections.
//!
//! Sections that take no file space (`SHT_NOBITS`: `.bss`, `.noptrbss`, `.tbss`) are listed with
//! `file_size == 0`, so nothing built on this layout can count their memory size as file bytes.

use object::read::elf::{FileHeader, SectionHeader as _};
use object::{Endianness, FileKind, elf};

use super::elf::ElfError;

/// One section header, as the file describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SectionInfo {
    /// Index in the section header table.
    pub index: usize,
    /// Name from `.shstrtab` (`.text`, `.gopclntab`…); empty when unnamed.
    pub name: String,
    /// File offset of the section's bytes.
    pub offset: u64,
    /// Bytes the section occupies in the file (0 for `SHT_NOBITS`).
    pub file_size: u64,
    /// Bytes the section occupies in memory (`sh_size`; for compressed sections, compressed).
    pub mem_size: u64,
    /// Virtual address when loaded (`SHF_ALLOC`), else 0.
    pub address: u64,
    /// `SHF_ALLOC`: part of the running program's image.
    pub alloc: bool,
    /// `SHF_EXECINSTR`.
    pub exec: bool,
    /// `SHF_WRITE`.
    pub write: bool,
    /// `SHT_NOBITS`: memory only.
    pub nobits: bool,
    /// `SHF_COMPRESSED` (DWARF written with `-compressdwarf`).
    pub compressed: bool,
    /// `SHT_SYMTAB`.
    pub symtab: bool,
}

/// A range of file bytes `[offset, offset + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileRange {
    /// First byte, from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// The layout of an ELF file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileLayout {
    /// Length of the file in bytes.
    pub file_size: u64,
    /// The ELF header (52 or 64 bytes).
    pub elf_header: FileRange,
    /// The program header table, when present.
    pub program_headers: Option<FileRange>,
    /// The section header table, when present.
    pub section_headers: Option<FileRange>,
    /// Every section except the null section 0, in header order.
    pub sections: Vec<SectionInfo>,
    /// The ELF machine as a GOARCH name, when known.
    pub goarch: Option<&'static str>,
    /// 4 or 8.
    pub ptr_size: u8,
    /// Big-endian file.
    pub big_endian: bool,
}

impl FileLayout {
    /// The file offset of `addr` when a file-backed loaded section holds it, with the section.
    pub fn offset_of(&self, addr: u64) -> Option<(u64, &SectionInfo)> {
        self.sections
            .iter()
            .filter(|s| s.alloc && !s.nobits && s.file_size > 0)
            .find(|s| addr >= s.address && addr - s.address < s.file_size)
            .map(|s| (s.offset + (addr - s.address), s))
    }

    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.name == name)
    }
}

/// Reads the layout of an ELF file (32- or 64-bit, either endianness).
///
/// Errors: [`ElfError::NotElf`] for other formats, [`ElfError::Malformed`] when a header table
/// lies outside the file.
pub fn read_layout(data: &[u8]) -> Result<FileLayout, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => layout::<elf::FileHeader64<Endianness>>(data, 8),
        Ok(FileKind::Elf32) => layout::<elf::FileHeader32<Endianness>>(data, 4),
        Ok(other) => Err(ElfError::NotElf(format!("{other:?} file"))),
        Err(_) => Err(ElfError::NotElf("unknown format".into())),
    }
}

fn layout<H: FileHeader<Endian = Endianness>>(
    data: &[u8],
    ptr_size: u8,
) -> Result<FileLayout, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let header = H::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    let file_size = data.len() as u64;
    let table = |off: u64, num: u64, entsize: u64, what: &str| -> Result<_, ElfError> {
        if off == 0 || num == 0 {
            return Ok(None);
        }
        let size = num.saturating_mul(entsize);
        if off.checked_add(size).is_none_or(|end| end > file_size) {
            return Err(ElfError::Malformed(format!(
                "{what} table at {off:#x} ({size} bytes) is past the end of the file"
            )));
        }
        Ok(Some(FileRange { offset: off, size }))
    };
    let program_headers = table(
        header.e_phoff(endian).into(),
        header.phnum(endian, data).map_err(bad)? as u64,
        header.e_phentsize(endian).into(),
        "program header",
    )?;
    let section_headers = table(
        header.e_shoff(endian).into(),
        header.shnum(endian, data).map_err(bad)? as u64,
        header.e_shentsize(endian).into(),
        "section header",
    )?;
    let elf_header = FileRange {
        offset: 0,
        size: u64::from(header.e_ehsize(endian)).min(file_size),
    };

    let sections = section_infos::<H>(header, endian, data)?;
    let goarch = super::elf::read_linkage(data).ok().and_then(|l| l.goarch);
    Ok(FileLayout {
        file_size,
        elf_header,
        program_headers,
        section_headers,
        sections,
        goarch,
        ptr_size,
        big_endian: !object::Endian::is_little_endian(endian),
    })
}

/// Every section header but the null one, checked to lie inside the file.
fn section_infos<H: FileHeader<Endian = Endianness>>(
    header: &H,
    endian: Endianness,
    data: &[u8],
) -> Result<Vec<SectionInfo>, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let table = header.sections(endian, data).map_err(bad)?;
    let mut sections = Vec::new();
    for (index, sh) in table.enumerate() {
        if index.0 == 0 {
            continue;
        }
        let flags: u64 = sh.sh_flags(endian).0;
        let nobits = sh.sh_type(endian) == elf::SHT_NOBITS;
        let offset: u64 = sh.sh_offset(endian).into();
        let mem_size: u64 = sh.sh_size(endian).into();
        let file_size = if nobits || sh.sh_type(endian) == elf::SHT_NULL {
            0
        } else {
            mem_size
        };
        if file_size > 0
            && offset
                .checked_add(file_size)
                .is_none_or(|end| end > file_size_of(data))
        {
            return Err(ElfError::Malformed(format!(
                "section {} ({offset:#x}, {file_size} bytes) is past the end of the file",
                index.0
            )));
        }
        let alloc = flags & elf::SHF_ALLOC.0 != 0;
        sections.push(SectionInfo {
            index: index.0,
            name: String::from_utf8_lossy(table.section_name(endian, sh).unwrap_or_default())
                .into_owned(),
            offset,
            file_size,
            mem_size,
            address: if alloc { sh.sh_addr(endian).into() } else { 0 },
            alloc,
            exec: flags & elf::SHF_EXECINSTR.0 != 0,
            write: flags & elf::SHF_WRITE.0 != 0,
            nobits,
            compressed: flags & elf::SHF_COMPRESSED.0 != 0,
            symtab: sh.sh_type(endian) == elf::SHT_SYMTAB,
        });
    }
    Ok(sections)
}

fn file_size_of(data: &[u8]) -> u64 {
    data.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_binary_has_headers_and_sections_inside_the_file() {
        let data = std::fs::read("/bin/ls").unwrap();
        let layout = read_layout(&data).unwrap();
        assert_eq!(layout.elf_header.size, 64);
        assert!(layout.program_headers.is_some());
        let text = layout.section(".text").unwrap();
        assert!(text.exec && text.alloc && text.file_size > 0);
        let bss = layout.section(".bss").unwrap();
        assert!(bss.nobits && bss.file_size == 0 && bss.mem_size > 0);
        assert_eq!(layout.offset_of(text.address).unwrap().0, text.offset);
    }

    #[test]
    fn garbage_is_not_elf() {
        assert!(matches!(read_layout(b"MZ\x90\0"), Err(ElfError::NotElf(_))));
    }
}
