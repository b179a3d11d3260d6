//! Property tests: size attribution of damaged binaries either fails with an error or still
//! puts every byte in exactly one bucket; it never panics and stays within a time budget.
//! Damage lands in a random section (headers, function table, symbol table, compressed DWARF…)
//! or truncates the file.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gopack::binary::attribution::attribute;
use gopack::binary::layout::read_layout;
use proptest::prelude::*;

/// A binary and the (offset, size) file ranges of its sections.
type Sample = (Vec<u8>, Vec<(u64, u64)>);

/// A real unstripped binary (symtab and compressed DWARF) and its sections' file ranges.
fn real() -> &'static Sample {
    static REAL: OnceLock<Sample> = OnceLock::new();
    REAL.get_or_init(|| {
        let path = crate::needs_support::built("compute", crate::needs_support::AMD64);
        let bytes = std::fs::read(path).unwrap();
        let mut ranges: Vec<(u64, u64)> = read_layout(&bytes)
            .unwrap()
            .sections
            .iter()
            .filter(|s| s.file_size > 0)
            .map(|s| (s.offset, s.file_size))
            .collect();
        ranges.push((0, 0x200)); // ELF and program headers
        (bytes, ranges)
    })
}

/// Budget per attribution of a ~2 MB binary in a debug build, generous for a loaded machine.
const BUDGET: Duration = Duration::from_secs(20);

fn check(data: &[u8]) {
    let started = Instant::now();
    if let Ok(a) = attribute(data, &[]) {
        assert_eq!(a.total(), data.len() as u64);
    }
    assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn damaged_sections_never_panic(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        patch in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let (bytes, ranges) = real();
        let (start, len) = ranges[which.index(ranges.len())];
        let mut data = bytes.clone();
        let off = (start + at.index(len.max(1) as usize) as u64) as usize;
        for (i, b) in patch.iter().enumerate() {
            if let Some(slot) = data.get_mut(off + i) {
                *slot = *b;
            }
        }
        check(&data);
    }

    #[test]
    fn truncated_binaries_never_panic(cut in any::<prop::sample::Index>()) {
        let (bytes, _) = real();
        check(&bytes[..cut.index(bytes.len())]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(attribute(&bytes, &[]).is_err());
    }
}
