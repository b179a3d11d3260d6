//! What the kernel and loader need to start a binary: interpreter and shared libraries.

use object::elf;
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _, SectionHeader as _};
use object::{Endianness, FileKind};

/// How a binary is linked, read from its ELF headers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Linkage {
    /// The dynamic loader named by PT_INTERP (`/lib64/ld-linux-x86-64.so.2`), if any.
    pub interpreter: Option<String>,
    /// Shared libraries from DT_NEEDED, in order.
    pub needed_libraries: Vec<String>,
    /// True when `.symtab` is absent (built with `-ldflags=-s`).
    pub stripped: bool,
    /// True when DWARF sections are present.
    pub has_debug_info: bool,
    /// The ELF machine as a GOARCH name, when known.
    pub goarch: Option<&'static str>,
}

impl Linkage {
    /// A static binary runs on an empty (scratch) file system.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed_libraries.is_empty()
    }
}

/// Why an ELF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Another format (Mach-O, PE, a script…), named in the message.
    #[error("not an ELF executable ({0}); gopack images run Linux binaries")]
    NotElf(String),
    /// An ELF file whose headers or tables do not hold together; says which.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

/// Reads the linkage of an ELF binary (32- or 64-bit, either endianness).
pub fn read_linkage(data: &[u8]) -> Result<Linkage, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => linkage::<elf::FileHeader64<Endianness>>(data),
        Ok(FileKind::Elf32) => linkage::<elf::FileHeader32<Endianness>>(data),
        Ok(other) => Err(ElfError::NotElf(format!("{other:?} file"))),
        Err(_) => Err(ElfError::NotElf("unknown format".into())),
    }
}

fn linkage<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Linkage, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let header = H::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;

    let mut interpreter = None;
    for segment in header.program_headers(endian, data).map_err(bad)? {
        if let Some(interp) = segment.interpreter(endian, data).map_err(bad)? {
            interpreter = Some(String::from_utf8_lossy(interp).into_owned());
        }
    }

    let sections = header.sections(endian, data).map_err(bad)?;
    let mut needed_libraries = Vec::new();
    if let Some((entries, link)) = sections.dynamic(endian, data).map_err(bad)? {
        let strings = sections.strings(endian, data, link).map_err(bad)?;
        for entry in entries {
            if entry.tag(endian) == elf::DT_NEEDED {
                let name = entry.string(endian, strings).map_err(bad)?;
                needed_libraries.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }

    let mut stripped = true;
    let mut has_debug_info = false;
    for section in sections.iter() {
        let name = sections.section_name(endian, section).unwrap_or_default();
        if section.sh_type(endian) == elf::SHT_SYMTAB {
            stripped = false;
        }
        if name.starts_with(b".debug_") || name.starts_with(b".zdebug_") {
            has_debug_info = true;
        }
    }

    let goarch = match header.e_machine(endian) {
        elf::EM_X86_64 => Some("amd64"),
        elf::EM_AARCH64 => Some("arm64"),
        elf::EM_ARM => Some("arm"),
        elf::EM_386 => Some("386"),
        elf::EM_PPC64 if endian == Endianness::Little => Some("ppc64le"),
        elf::EM_PPC64 => Some("ppc64"),
        elf::EM_S390 => Some("s390x"),
        elf::EM_RISCV => Some("riscv64"),
        elf::EM_LOONGARCH => Some("loong64"),
        elf::EM_MIPS => Some("mips"),
        _ => None,
    };

    Ok(Linkage {
        interpreter,
        needed_libraries,
        stripped,
        has_debug_info,
        goarch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_elf_input() {
        assert!(matches!(
            read_linkage(b"#!/bin/sh\necho hi\n"),
            Err(ElfError::NotElf(_))
        ));
        assert!(read_linkage(&[0x7f, b'E', b'L', b'F', 2, 1, 1]).is_err());
    }

    #[test]
    fn a_dynamic_host_binary_names_its_loader_and_libc() {
        let data = std::fs::read("/bin/ls").expect("/bin/ls exists on Linux");
        let linkage = read_linkage(&data).unwrap();
        assert!(!linkage.is_static());
        assert!(linkage.interpreter.unwrap().contains("ld-linux"));
        assert!(
            linkage
                .needed_libraries
                .iter()
                .any(|l| l.starts_with("libc.so"))
        );
    }
}
