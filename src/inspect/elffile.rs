//! ELF files inside images that are not Go binaries (no build-info magic): what their headers
//! say — class, machine, executable, PIE or shared object, PT_INTERP, DT_NEEDED, stripped —
//! read with the reader Go binaries go through ([`crate::binary::elf`]). Found by content (the
//! first bytes are `\x7fELF`), never by name, and bounded as the Go analysis is: a file over
//! [`super::ScanLimits::max_binary`] is not read whole, only its file header.

use super::record::{ElfFile, ElfHeader};
use crate::binary::elf::{ElfKind, read_identity, read_linkage};

/// Reads an ELF file's bytes (all of them). Never fails: what cannot be read is kept in
/// [`ElfFile::error`].
pub fn analyse(bytes: &[u8], entry: u32) -> ElfFile {
    let mut file = ElfFile {
        entry,
        ..ElfFile::default()
    };
    let pie = match read_linkage(bytes) {
        Ok(l) => {
            file.interpreter = l.interpreter;
            file.needed = l.needed_libraries;
            file.runpath = l.runpath;
            file.stripped = l.stripped;
            l.pie
        }
        Err(e) => {
            file.error = Some(format!("ELF headers: {e}"));
            false
        }
    };
    file.header = header_of(bytes, pie);
    file
}

/// An ELF file of `size` bytes, over `limit`, of which only `first` (its first bytes) was
/// kept: its file header, and why nothing else.
pub fn too_large(first: &[u8], entry: u32, size: u64, limit: u64) -> ElfFile {
    ElfFile {
        entry,
        header: header_of(first, false),
        error: Some(format!(
            "too large to analyse: {size} bytes, over the {limit} bytes gopack reads of one \
             ELF file"
        )),
        ..ElfFile::default()
    }
}

fn header_of(bytes: &[u8], pie: bool) -> Option<ElfHeader> {
    let id = read_identity(bytes).ok()?;
    Some(ElfHeader {
        class: id.class().to_string(),
        machine: id.machine(),
        goarch: id.goarch().map(String::from),
        kind: ElfKind::of(id.e_type, pie),
    })
}

impl ElfFile {
    /// Static: read whole, with no interpreter and no shared libraries. `None` when its
    /// linkage could not be read.
    pub fn is_static(&self) -> Option<bool> {
        self.error
            .is_none()
            .then(|| self.interpreter.is_none() && self.needed.is_empty())
    }

    /// A program the kernel starts (an executable or a PIE), as far as its header says.
    pub fn is_program(&self) -> bool {
        self.header.as_ref().is_some_and(|h| h.kind.is_program())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_too_large_file_keeps_its_header_and_says_why_nothing_else() {
        let ls = std::fs::read("/bin/ls").expect("/bin/ls exists on Linux");
        let f = too_large(&ls[..64], 7, 5 << 30, 1 << 30);
        assert_eq!(f.entry, 7);
        assert_eq!(f.header.as_ref().unwrap().class, "ELF64");
        assert!(
            f.error
                .as_deref()
                .unwrap()
                .starts_with("too large to analyse")
        );
        assert_eq!(f.is_static(), None);
    }

    #[test]
    fn garbage_after_the_magic_is_an_error_not_a_panic() {
        let f = analyse(b"\x7fELF\x02\x01\x01garbage", 0);
        assert!(f.error.is_some());
        assert_eq!(f.is_static(), None);
        assert!(!f.is_program());
    }
}
