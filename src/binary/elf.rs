//! What the kernel and loader need to start a binary: interpreter and shared libraries; and
//! what an ELF header says a file is (class, machine, executable, PIE or shared object).
//!
//! Every read is bounded by the bytes given and by the limits the kernel and loader keep:
//! PT_INTERP, DT_NEEDED and DT_RUNPATH names longer than `PATH_MAX`, more than
//! [`MAX_NEEDED`] DT_NEEDED entries or [`MAX_NEEDED_BYTES`] of their names make the file
//! malformed instead of growing what is kept.

use object::elf;
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _, SectionHeader as _};
use object::{Endianness, FileKind};

/// Longest PT_INTERP or DT_NEEDED name kept, bytes: Linux's `PATH_MAX` (the kernel refuses a
/// longer PT_INTERP with ENOEXEC).
pub const MAX_NAME: usize = 4096;

/// Most DT_NEEDED entries read from one file (real programs have a few dozen).
pub const MAX_NEEDED: usize = 1024;

/// Most bytes of DT_NEEDED, DT_RUNPATH and DT_RPATH names kept from one file (real programs:
/// under 2 KiB), so entries that all point at one long name cannot make a small file a large
/// record.
pub const MAX_NEEDED_BYTES: usize = 16 << 10;

/// How a binary is linked, read from its ELF headers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Linkage {
    /// The dynamic loader named by PT_INTERP (`/lib64/ld-linux-x86-64.so.2`), if any.
    pub interpreter: Option<String>,
    /// Shared libraries from DT_NEEDED, in order.
    pub needed_libraries: Vec<String>,
    /// Directories of DT_RUNPATH (else DT_RPATH), in order, as written (`$ORIGIN` kept).
    pub runpath: Vec<String>,
    /// True when `.symtab` is absent (built with `-ldflags=-s`).
    pub stripped: bool,
    /// True when DWARF sections are present.
    pub has_debug_info: bool,
    /// The ELF machine as a GOARCH name, when known.
    pub goarch: Option<&'static str>,
    /// DT_FLAGS_1 has DF_1_PIE: a position-independent executable (static or not), not a
    /// shared library (the test `file` makes).
    pub pie: bool,
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

/// `e_type`, with PIE told apart from shared objects as `file` does (DF_1_PIE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElfKind {
    /// ET_EXEC: a position-dependent executable.
    Executable,
    /// ET_DYN with DF_1_PIE: a position-independent executable (static-pie included).
    Pie,
    /// ET_DYN without DF_1_PIE: a shared library (or a loader such as `ld-linux`).
    SharedObject,
    /// ET_REL: an object file.
    Relocatable,
    /// ET_CORE: a core dump.
    Core,
    /// Any other `e_type` (ET_NONE, OS- or processor-specific).
    Other,
}

impl ElfKind {
    /// The kind of an ELF header's `e_type`, with `pie` from DT_FLAGS_1.
    pub fn of(e_type: u16, pie: bool) -> ElfKind {
        match elf::FileType(e_type) {
            elf::ET_EXEC => ElfKind::Executable,
            elf::ET_DYN if pie => ElfKind::Pie,
            elf::ET_DYN => ElfKind::SharedObject,
            elf::ET_REL => ElfKind::Relocatable,
            elf::ET_CORE => ElfKind::Core,
            _ => ElfKind::Other,
        }
    }

    /// A program the kernel starts (an executable or a PIE).
    pub fn is_program(self) -> bool {
        matches!(self, ElfKind::Executable | ElfKind::Pie)
    }

    /// Name in reports: `executable`, `pie`, `shared_object`, `relocatable`, `core`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            ElfKind::Executable => "executable",
            ElfKind::Pie => "pie",
            ElfKind::SharedObject => "shared_object",
            ElfKind::Relocatable => "relocatable",
            ElfKind::Core => "core",
            ElfKind::Other => "other",
        }
    }
}

/// What the ELF identification and file header say (the first 52 or 64 bytes only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfIdentity {
    /// 32 or 64 (EI_CLASS).
    pub bits: u8,
    /// EI_DATA is ELFDATA2MSB.
    pub big_endian: bool,
    /// `e_type`.
    pub e_type: u16,
    /// `e_machine`.
    pub e_machine: u16,
}

impl ElfIdentity {
    /// `ELF32` or `ELF64`, as readelf prints the class.
    pub fn class(&self) -> &'static str {
        if self.bits == 64 { "ELF64" } else { "ELF32" }
    }

    /// The machine as `uname -m` names it (`x86_64`, `aarch64`, `i386`, `ppc64le`…), or
    /// `EM_<number>` for one gopack does not name.
    pub fn machine(&self) -> String {
        let name = match (elf::Machine(self.e_machine), self.bits, self.big_endian) {
            (elf::EM_X86_64, _, _) => "x86_64",
            (elf::EM_386, _, _) => "i386",
            (elf::EM_AARCH64, _, _) => "aarch64",
            (elf::EM_ARM, _, _) => "arm",
            (elf::EM_PPC64, _, false) => "ppc64le",
            (elf::EM_PPC64, _, true) => "ppc64",
            (elf::EM_PPC, _, _) => "ppc",
            (elf::EM_S390, 64, _) => "s390x",
            (elf::EM_S390, _, _) => "s390",
            (elf::EM_RISCV, 64, _) => "riscv64",
            (elf::EM_RISCV, _, _) => "riscv32",
            (elf::EM_LOONGARCH, _, _) => "loongarch64",
            (elf::EM_MIPS, 64, false) => "mips64el",
            (elf::EM_MIPS, 64, true) => "mips64",
            (elf::EM_MIPS, _, false) => "mipsel",
            (elf::EM_MIPS, _, true) => "mips",
            (elf::EM_SPARCV9, _, _) => "sparc64",
            _ => return format!("EM_{}", self.e_machine),
        };
        name.to_string()
    }

    /// The machine as a GOARCH name (`amd64`, `arm64`…), what image platforms use; `None` for
    /// a machine Go does not build for.
    pub fn goarch(&self) -> Option<&'static str> {
        let endian = if self.big_endian {
            Endianness::Big
        } else {
            Endianness::Little
        };
        goarch(elf::Machine(self.e_machine), endian)
    }
}

/// Reads the identification and file header of an ELF file: needs only its first 52 (ELF32)
/// or 64 (ELF64) bytes, so it also reads the start of a file too large to read whole.
pub fn read_identity(data: &[u8]) -> Result<ElfIdentity, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => identity::<elf::FileHeader64<Endianness>>(data),
        Ok(FileKind::Elf32) => identity::<elf::FileHeader32<Endianness>>(data),
        Ok(other) => Err(ElfError::NotElf(format!("{other:?} file"))),
        Err(_) => Err(ElfError::NotElf("unknown format".into())),
    }
}

fn identity<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<ElfIdentity, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let header = H::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    Ok(ElfIdentity {
        bits: if header.is_class_64() { 64 } else { 32 },
        big_endian: endian == Endianness::Big,
        e_type: header.e_type(endian).0,
        e_machine: header.e_machine(endian).0,
    })
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

/// A name from the file, refused over [`MAX_NAME`] bytes.
fn bounded_name(bytes: &[u8], what: &str) -> Result<String, ElfError> {
    if bytes.len() > MAX_NAME {
        return Err(ElfError::Malformed(format!(
            "{what} is {} bytes long, over PATH_MAX ({MAX_NAME})",
            bytes.len()
        )));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn linkage<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Linkage, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let header = H::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;

    let mut interpreter = None;
    for segment in header.program_headers(endian, data).map_err(bad)? {
        if let Some(interp) = segment.interpreter(endian, data).map_err(bad)? {
            interpreter = Some(bounded_name(interp, "PT_INTERP")?);
        }
    }

    let sections = header.sections(endian, data).map_err(bad)?;
    let dynamic = dynamic_facts(&sections, endian, data)?;

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

    Ok(Linkage {
        interpreter,
        needed_libraries: dynamic.needed,
        runpath: dynamic.runpath,
        stripped,
        has_debug_info,
        goarch: goarch(header.e_machine(endian), endian),
        pie: dynamic.pie,
    })
}

/// What the dynamic section says.
#[derive(Default)]
struct DynamicFacts {
    needed: Vec<String>,
    runpath: Vec<String>,
    pie: bool,
}

/// DT_NEEDED names, DT_RUNPATH (else DT_RPATH) directories and DF_1_PIE, within the bounds.
fn dynamic_facts<H: FileHeader<Endian = Endianness>>(
    sections: &object::read::elf::SectionTable<'_, H>,
    endian: Endianness,
    data: &[u8],
) -> Result<DynamicFacts, ElfError> {
    let bad = |e: object::Error| ElfError::Malformed(e.to_string());
    let mut facts = DynamicFacts::default();
    let Some((entries, link)) = sections.dynamic(endian, data).map_err(bad)? else {
        return Ok(facts);
    };
    let strings = sections.strings(endian, data, link).map_err(bad)?;
    let (mut runpath, mut rpath) = (None, None);
    let mut kept = 0usize;
    for entry in entries {
        let tag = entry.tag(endian);
        if tag == elf::DT_FLAGS_1 {
            facts.pie |= entry.val(endian) & elf::DF_1_PIE.0 != 0;
            continue;
        }
        if ![elf::DT_NEEDED, elf::DT_RUNPATH, elf::DT_RPATH].contains(&tag) {
            continue;
        }
        let bytes = entry.string(endian, strings).map_err(bad)?;
        kept += bytes.len();
        if kept > MAX_NEEDED_BYTES {
            return Err(ElfError::Malformed(format!(
                "DT_NEEDED, DT_RUNPATH and DT_RPATH names add up to more than \
                 {MAX_NEEDED_BYTES} bytes"
            )));
        }
        if tag == elf::DT_NEEDED {
            if facts.needed.len() == MAX_NEEDED {
                return Err(ElfError::Malformed(format!(
                    "more than {MAX_NEEDED} DT_NEEDED entries"
                )));
            }
            facts.needed.push(bounded_name(bytes, "a DT_NEEDED name")?);
        } else if tag == elf::DT_RUNPATH {
            runpath = Some(bounded_name(bytes, "DT_RUNPATH")?);
        } else {
            rpath = Some(bounded_name(bytes, "DT_RPATH")?);
        }
    }
    // The loader ignores DT_RPATH when DT_RUNPATH is there.
    facts.runpath = runpath
        .or(rpath)
        .map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(facts)
}

/// The GOARCH name of an ELF machine, when Go has one.
fn goarch(machine: elf::Machine, endian: Endianness) -> Option<&'static str> {
    match machine {
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
    }
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_host_program_is_a_pie_and_its_libc_a_shared_object() {
        let ls = std::fs::read("/bin/ls").unwrap();
        let id = read_identity(&ls[..64]).unwrap();
        assert_eq!(
            (id.class(), id.machine().as_str(), id.goarch()),
            ("ELF64", "x86_64", Some("amd64"))
        );
        let linkage = read_linkage(&ls).unwrap();
        assert_eq!(ElfKind::of(id.e_type, linkage.pie), ElfKind::Pie);
        let libc = read_linkage(&std::fs::read("/lib/x86_64-linux-gnu/libc.so.6").unwrap());
        let libc = libc.unwrap();
        assert!(!libc.pie, "glibc's libc.so.6 has PT_INTERP but no DF_1_PIE");
        assert_eq!(ElfKind::of(3, libc.pie), ElfKind::SharedObject);
        assert_eq!(ElfKind::of(2, false), ElfKind::Executable);
    }

    /// /bin/ls with its PT_INTERP pointed at `interp` (appended to the file).
    #[cfg(target_arch = "x86_64")]
    fn with_interpreter(interp: &[u8]) -> Vec<u8> {
        let mut data = std::fs::read("/bin/ls").unwrap();
        let u16_at = |d: &[u8], at: usize| u16::from_le_bytes([d[at], d[at + 1]]) as usize;
        let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().unwrap()) as usize;
        let (size, count) = (u16_at(&data, 0x36), u16_at(&data, 0x38));
        let end = data.len() as u64;
        for i in 0..count {
            let ph = phoff + i * size;
            if u32::from_le_bytes(data[ph..ph + 4].try_into().unwrap()) == 3 {
                data[ph + 8..ph + 16].copy_from_slice(&end.to_le_bytes());
                let len = interp.len() as u64 + 1;
                data[ph + 32..ph + 40].copy_from_slice(&len.to_le_bytes());
            }
        }
        data.extend_from_slice(interp);
        data.push(0);
        data
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_loader_name_longer_than_path_max_is_malformed_not_kept() {
        let ok = read_linkage(&with_interpreter(b"/lib/ld.so")).unwrap();
        assert_eq!(ok.interpreter.as_deref(), Some("/lib/ld.so"));
        let long = vec![b'a'; MAX_NAME + 1];
        let err = read_linkage(&with_interpreter(&long)).unwrap_err();
        assert!(err.to_string().contains("PATH_MAX"), "{err}");
    }
}
