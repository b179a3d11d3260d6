//! Property tests: the ELF header reader (identity, linkage) and inspect's analysis of ELF files
//! that are not Go return an error, never panic, on any input — arbitrary bytes, arbitrary bytes
//! behind a valid identification, and truncated or mutated real programs — and what they keep
//! stays within the bounds (names up to PATH_MAX, at most 1024 DT_NEEDED entries and 16 KiB
//! of their names).

use std::sync::OnceLock;

use gopack::binary::elf::{MAX_NAME, MAX_NEEDED, MAX_NEEDED_BYTES, read_identity, read_linkage};
use gopack::inspect::elffile;
use gopack::inspect::record::ElfFile;
use proptest::prelude::*;

/// A real dynamic program of the host (a PIE with PT_INTERP, DT_NEEDED, sections).
fn real() -> &'static [u8] {
    static REAL: OnceLock<Vec<u8>> = OnceLock::new();
    REAL.get_or_init(|| std::fs::read("/bin/true").expect("/bin/true exists on Linux"))
}

/// Reads `data` every way inspect does and checks what is kept is bounded.
fn exercise(data: &[u8]) {
    let _ = read_identity(data);
    if let Ok(l) = read_linkage(data) {
        assert!(
            l.interpreter
                .as_ref()
                .is_none_or(|i| i.len() <= 3 * MAX_NAME)
        );
        assert!(l.needed_libraries.len() <= MAX_NEEDED);
        // Lossy UTF-8 may grow a byte to three; never beyond.
        let kept: usize = l.needed_libraries.iter().map(String::len).sum();
        assert!(kept <= 3 * MAX_NEEDED_BYTES);
        assert!(l.needed_libraries.iter().all(|n| n.len() <= 3 * MAX_NAME));
    }
    let f: ElfFile = elffile::analyse(data, 0);
    assert!(f.error.is_some() || f.header.is_some(), "{f:?}");
    if f.error.is_some() {
        assert!(f.interpreter.is_none() && f.needed.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_headers_behind_a_valid_identification_never_panic(
        class in prop_oneof![Just(1u8), Just(2)],
        data in prop_oneof![Just(1u8), Just(2)],
        tail in proptest::collection::vec(any::<u8>(), 0..8192),
    ) {
        let mut bytes = vec![0x7f, b'E', b'L', b'F', class, data, 1, 0];
        bytes.extend([0; 8]);
        bytes.extend(tail);
        exercise(&bytes);
    }

    #[test]
    fn truncated_real_programs_never_panic(cut in 0usize..65536) {
        let real = real();
        let cut = cut.min(real.len());
        exercise(&real[..cut]);
        // Whatever the cut, the header alone is read once 64 bytes are there.
        if cut >= 64 {
            prop_assert!(read_identity(&real[..cut]).is_ok());
        }
    }

    #[test]
    fn mutated_real_programs_never_panic(
        edits in proptest::collection::vec((0usize..8192, any::<u8>()), 1..16),
        far in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let mut bytes = real().to_vec();
        let len = bytes.len();
        for (at, b) in edits {
            bytes[at % len] = b;
        }
        // Section headers and .dynamic lie at the end of the file: mutate there too.
        for (at, b) in far {
            bytes[at.index(len)] = b;
        }
        exercise(&bytes);
    }
}

#[test]
fn the_real_program_is_read_whole() {
    let f = elffile::analyse(real(), 3);
    assert_eq!(f.error, None);
    assert_eq!(f.entry, 3);
    assert!(f.interpreter.is_some() && f.needed.iter().any(|n| n.starts_with("libc.so")));
}
