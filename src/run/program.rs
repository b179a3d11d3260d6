//! The program an image starts, checked before the runtime runs it: a dynamically linked ELF
//! whose loader (PT_INTERP) the image lacks would fail inside the runtime with only
//! `exec /app: no such file or directory`, which names the program, not the missing loader.

use std::io::Read as _;
use std::os::fd::OwnedFd;
use std::path::Path;

use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, FileKind, elf};
use rustix::fs::{Mode, OFlags, ResolveFlags};

/// How much of the program is read to find its ELF headers (program headers sit at the start;
/// a loader path is short): bytes.
const HEAD_BYTES: u64 = 64 * 1024;

/// The PT_INTERP of the ELF file starting with `head`; `None` when it is not ELF, names none,
/// or its program headers lie beyond `head`.
fn interpreter(head: &[u8]) -> Option<String> {
    match FileKind::parse(head).ok()? {
        FileKind::Elf64 => interp_of::<elf::FileHeader64<Endianness>>(head),
        FileKind::Elf32 => interp_of::<elf::FileHeader32<Endianness>>(head),
        _ => None,
    }
}

fn interp_of<H: FileHeader<Endian = Endianness>>(head: &[u8]) -> Option<String> {
    let header = H::parse(head).ok()?;
    let endian = header.endian().ok()?;
    header
        .program_headers(endian, head)
        .ok()?
        .iter()
        .find_map(|p| p.interpreter(endian, head).ok().flatten())
        .map(|i| String::from_utf8_lossy(i).into_owned())
}

/// `path` opened inside `root` as the kernel would resolve it there (symlinks stay inside).
fn open_in_root(root: &OwnedFd, path: &str, flags: OFlags) -> Option<OwnedFd> {
    rustix::fs::openat2(
        root,
        path.trim_start_matches('/'),
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()
}

/// The loader `argv0` needs and `rootfs` lacks: `Some(loader)` when `argv0` is an ELF file in
/// the image naming a PT_INTERP that is not there. `argv0` without a `/` is looked up in
/// `path_var` (the image's `PATH`) as the runtime would. `None` when all is well or cannot be
/// told (not ELF, unreadable: the runtime then says what it says).
pub fn missing_loader(rootfs: &Path, argv0: &str, path_var: &str) -> Option<String> {
    let root = rustix::fs::open(
        rootfs,
        OFlags::DIRECTORY | OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let candidates: Vec<String> = if argv0.contains('/') {
        vec![argv0.to_string()]
    } else {
        path_var
            .split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| format!("{}/{argv0}", d.trim_end_matches('/')))
            .collect()
    };
    let file = candidates
        .iter()
        .find_map(|p| open_in_root(&root, p, OFlags::RDONLY))?;
    let mut head = Vec::new();
    std::fs::File::from(file)
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    let interpreter = interpreter(&head)?;
    open_in_root(&root, &interpreter, OFlags::PATH)
        .is_none()
        .then_some(interpreter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_program_without_its_loader_is_found_and_a_present_one_is_not() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // This test binary is dynamically linked (glibc): its loader is not in the empty root.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let loader = interpreter(&me).unwrap();
        std::fs::write(bin.join("app"), &me).unwrap();
        assert_eq!(
            missing_loader(root.path(), "/bin/app", "").as_deref(),
            Some(loader.as_str())
        );
        assert_eq!(
            missing_loader(root.path(), "app", "/usr/bin:/bin").as_deref(),
            Some(loader.as_str())
        );
        // With the loader present (any file at its path), nothing is said.
        let at = root.path().join(loader.trim_start_matches('/'));
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, b"").unwrap();
        assert_eq!(missing_loader(root.path(), "/bin/app", ""), None);
        // Not ELF, or not there: nothing to say.
        std::fs::write(bin.join("script"), b"#!/bin/sh\n").unwrap();
        assert_eq!(missing_loader(root.path(), "/bin/script", ""), None);
        assert_eq!(missing_loader(root.path(), "/nope", ""), None);
    }
}
