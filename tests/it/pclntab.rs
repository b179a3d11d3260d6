//! The pclntab reader against `go tool nm` on binaries built here by the machine's Go.
//!
//! Legitimate differences between the two lists, normalised by `nm_functions`:
//! - ABI0 (assembly) functions that also have an ABIInternal symbol are named `<name>.abi0` in
//!   `.symtab` (`mangleABIName`, cmd/link/internal/ld/symtab.go); the pclntab keeps `<name>`.
//! - `.symtab` rewrites `·` to `.` "for ASCII-only tools" (ld/symtab.go); the pclntab keeps `·`
//!   (e.g. `type:.eq.runtime.untracedG·7`).
//! - `runtime.text` and `runtime.etext` are linker-defined boundary symbols with no function
//!   record; they are dropped from the nm side.

use crate::needs_support;

use std::collections::BTreeSet;
use std::path::Path;

use gopack::binary::pclntab::{
    self, ByteOrder, PclnTable, PclntabError, PclntabLocation, PclntabVersion, TextStartSource,
};
use needs_support::{AMD64, AMD64_STRIPPED, Flavor, built, nm_text_symbols};

fn nm_functions(unstripped: &Path) -> BTreeSet<(u64, String)> {
    nm_text_symbols(unstripped)
        .into_iter()
        .filter(|(_, name)| name != "runtime.text" && name != "runtime.etext")
        .map(|(addr, name)| (addr, name.strip_suffix(".abi0").unwrap_or(&name).to_owned()))
        .collect()
}

fn pclntab_functions(table: &pclntab::Pclntab) -> BTreeSet<(u64, String)> {
    table
        .functions
        .iter()
        .map(|f| (f.entry, f.name.replace('·', ".")))
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Checks one architecture: stripped and unstripped binaries give the same table, whose
/// (address, name) set equals nm's, and whose sizes cover nm's symbol sizes.
fn check_against_nm(program: &str, goarch: &'static str, order: ByteOrder, ptr_size: u8) {
    let unstripped = built(
        program,
        Flavor {
            goarch,
            stripped: false,
        },
    );
    let stripped = built(
        program,
        Flavor {
            goarch,
            stripped: true,
        },
    );
    let full = pclntab::parse_elf(&read(&unstripped)).expect("parse unstripped");
    let strip = pclntab::parse_elf(&read(&stripped)).expect("parse stripped");

    assert_eq!(full.version, PclntabVersion::Go120);
    assert_eq!(full.byte_order, order, "{goarch}");
    assert_eq!(full.ptr_size, ptr_size, "{goarch}");
    assert_eq!(full.location, PclntabLocation::Section);
    assert_eq!(
        strip.text_start_source,
        Some(TextStartSource::ModuleData),
        "{goarch}"
    );
    assert!(
        full.functions.len() > 1000,
        "{goarch}: only {} functions",
        full.functions.len()
    );
    assert_eq!(
        full.functions, strip.functions,
        "{goarch}: -s changed the function table"
    );

    let ours = pclntab_functions(&full);
    let nm = nm_functions(&unstripped);
    let only_ours: Vec<_> = ours.difference(&nm).take(10).collect();
    let only_nm: Vec<_> = nm.difference(&ours).take(10).collect();
    assert!(
        only_ours.is_empty() && only_nm.is_empty(),
        "{program}/{goarch}: only in pclntab {only_ours:?}; only in nm {only_nm:?}"
    );
    assert!(full.functions.iter().any(|f| f.name == "main.main"));

    // A function's pclntab size runs to the next entry: nm's symbol size plus alignment padding.
    let nm_sizes = nm_sizes(&unstripped);
    for f in &full.functions {
        if let Some(&nm_size) = nm_sizes.get(&f.entry) {
            assert!(
                nm_size <= f.size && f.size - nm_size < 64,
                "{goarch} {}: pclntab size {} vs nm size {nm_size}",
                f.name,
                f.size
            );
        }
    }
}

fn nm_sizes(binary: &Path) -> std::collections::HashMap<u64, u64> {
    let out = std::process::Command::new(needs_support::go())
        .env("GOTOOLCHAIN", "local")
        .args(["tool", "nm", "-size"])
        .arg(binary)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            // "<addr> <size> <kind> <name>"
            let f: Vec<&str> = l.split_whitespace().take(3).collect();
            (f.len() == 3 && matches!(f[2], "T" | "t") && f[1] != "0").then(|| {
                (
                    u64::from_str_radix(f[0], 16).unwrap(),
                    f[1].parse().unwrap(),
                )
            })
        })
        .collect()
}

#[test]
fn amd64_functions_match_go_tool_nm() {
    check_against_nm("tlsclient", "amd64", ByteOrder::Little, 8);
    check_against_nm("compute", "amd64", ByteOrder::Little, 8);
}

#[test]
fn arm64_cross_build_matches_go_tool_nm() {
    check_against_nm("tlsclient", "arm64", ByteOrder::Little, 8);
}

#[test]
fn thirty_two_bit_layouts_match_go_tool_nm() {
    check_against_nm("userdb", "386", ByteOrder::Little, 4);
    check_against_nm("userdb", "arm", ByteOrder::Little, 4);
}

#[test]
fn big_endian_layouts_match_go_tool_nm() {
    check_against_nm("tzload", "s390x", ByteOrder::Big, 8);
    check_against_nm("tzload", "mips", ByteOrder::Big, 4);
}

/// Zeroes e_shoff, e_shnum and e_shstrndx: the file keeps its segments but has no sections.
fn drop_section_headers(elf: &mut [u8]) {
    let (shoff, shnum, shstrndx) = match elf[4] {
        1 => (0x20..0x24, 0x30..0x32, 0x32..0x34),
        _ => (0x28..0x30, 0x3c..0x3e, 0x3e..0x40),
    };
    for range in [shoff, shnum, shstrndx] {
        elf[range].fill(0);
    }
}

#[test]
fn without_section_headers_the_table_is_found_in_the_read_only_segment() {
    for flavor in [
        AMD64_STRIPPED,
        Flavor {
            goarch: "s390x",
            stripped: true,
        },
        Flavor {
            goarch: "arm",
            stripped: true,
        },
    ] {
        let bytes = read(&built("tlsclient", flavor));
        let with_sections = pclntab::parse_elf(&bytes).unwrap();
        let mut headless = bytes.clone();
        drop_section_headers(&mut headless);
        let scanned = pclntab::parse_elf(&headless).unwrap_or_else(|e| panic!("{flavor:?}: {e}"));
        assert_eq!(scanned.location, PclntabLocation::SegmentScan);
        assert_eq!(scanned.address, with_sections.address, "{flavor:?}");
        assert_eq!(scanned.text_start, with_sections.text_start, "{flavor:?}");
        assert_eq!(scanned.functions, with_sections.functions, "{flavor:?}");
    }
}

/// In a little-endian ELF64, marks the executable PT_LOAD read-only (so a read-only segment
/// without the table exists) and every other PT_LOAD writable, as when an external linker (lld)
/// leaves the table inside the RELRO part of `.data.rel.ro`.
fn move_table_to_writable_data(elf: &mut [u8]) {
    let u = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let phoff = u(&elf[0x20..0x28]) as usize;
    let phentsize = u16::from_le_bytes([elf[0x36], elf[0x37]]) as usize;
    let phnum = u16::from_le_bytes([elf[0x38], elf[0x39]]) as usize;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (p_type, flags) = (&elf[ph..ph + 4], ph + 4);
        if p_type == [1, 0, 0, 0] {
            if elf[flags] & 1 != 0 {
                elf[flags] &= !1;
            } else {
                elf[flags] |= 2;
            }
        }
    }
}

#[test]
fn without_section_headers_the_table_is_also_found_in_writable_data() {
    let bytes = read(&built("tlsclient", AMD64_STRIPPED));
    let expected = pclntab::parse_elf(&bytes).unwrap();
    let mut relro = bytes.clone();
    drop_section_headers(&mut relro);
    move_table_to_writable_data(&mut relro);
    let scanned = pclntab::parse_elf(&relro).unwrap();
    assert_eq!(scanned.location, PclntabLocation::SegmentScan);
    assert_eq!(scanned.text_start, expected.text_start);
    assert_eq!(scanned.functions, expected.functions);
}

#[test]
fn names_are_visited_without_allocation_in_table_order() {
    let bytes = read(&built("compute", AMD64));
    let table = pclntab::parse_elf(&bytes).unwrap();
    let mut names = Vec::new();
    pclntab::for_each_function_name(&bytes, |n| names.push(n.to_owned())).unwrap();
    let expected: Vec<String> = table.functions.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, expected);
}

#[test]
fn a_rust_elf_has_no_go_function_table() {
    let me = read(&std::env::current_exe().unwrap());
    assert_eq!(pclntab::parse_elf(&me), Err(PclntabError::NotFound));
}

#[test]
fn garbage_is_not_elf() {
    let err = pclntab::parse_elf(b"#!/bin/sh\necho hello\n").unwrap_err();
    assert!(matches!(err, PclntabError::NotElf(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("not a readable ELF file"),
        "{err}"
    );
}

#[test]
fn truncated_and_old_tables_give_typed_errors() {
    let bytes = read(&built("compute", AMD64));
    let located = pclntab::locate(&bytes).unwrap();
    let start = (located.address.unwrap() - 0x400000) as usize; // amd64: file offset = vaddr - 0x400000
    let table = &bytes[start..];
    assert!(PclnTable::parse(table).is_ok());

    let err = PclnTable::parse(&table[..0x30]).unwrap_err();
    assert!(matches!(err, PclntabError::Truncated { .. }), "{err:?}");

    let mut old = table[..0x100].to_vec();
    old[..4].copy_from_slice(&0xffff_fffau32.to_le_bytes());
    assert_eq!(
        PclnTable::parse(&old).unwrap_err(),
        PclntabError::UnsupportedVersion("Go 1.16–1.17")
    );

    let mut bad_ptr = table[..0x100].to_vec();
    bad_ptr[7] = 3;
    let err = PclnTable::parse(&bad_ptr).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad Go function table header: pointer size 3 is not 4 or 8"
    );

    assert_eq!(
        PclnTable::parse(&[0x7f, b'E', b'L', b'F', 0, 0, 1, 8]).unwrap_err(),
        PclntabError::BadMagic(0x464c_457f)
    );
}
