//! Property tests: the pclntab reader returns an error, never panics, on any input: arbitrary
//! bytes, arbitrary bytes behind a valid magic, and mutated real tables and binaries.

use crate::needs_support;

use std::sync::OnceLock;

use gopack::binary::pclntab::{self, PclnTable};
use proptest::prelude::*;

/// A real stripped binary and the file range of its pclntab.
fn real() -> &'static (Vec<u8>, std::ops::Range<usize>) {
    static REAL: OnceLock<(Vec<u8>, std::ops::Range<usize>)> = OnceLock::new();
    REAL.get_or_init(|| {
        let bytes = std::fs::read(needs_support::built(
            "compute",
            needs_support::AMD64_STRIPPED,
        ))
        .unwrap();
        let table = pclntab::locate(&bytes).unwrap().table.bytes();
        // The table borrows from `bytes`: its file offset is the pointer distance.
        let start = table.as_ptr() as usize - bytes.as_ptr() as usize;
        let end = bytes.len().min(start + 0x200000);
        (bytes.clone(), start..end)
    })
}

fn exercise(data: &[u8]) {
    if let Ok(table) = PclnTable::parse(data) {
        for f in table.functions().take(100_000) {
            if f.is_err() {
                break;
            }
        }
        // Out-of-range index is an error, not a panic.
        assert!(table.function(table.len()).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = pclntab::parse_elf(&bytes);
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_tables_behind_a_valid_header_never_panic(
        big_endian in any::<bool>(),
        min_lc in prop_oneof![Just(1u8), Just(2), Just(4)],
        ptr_size in prop_oneof![Just(4u8), Just(8)],
        words in proptest::collection::vec(0u64..512, 8),
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut data = if big_endian { vec![0xff, 0xff, 0xff, 0xf1] } else { vec![0xf1, 0xff, 0xff, 0xff] };
        data.extend([0, 0, min_lc, ptr_size]);
        for w in words {
            match (ptr_size, big_endian) {
                (4, false) => data.extend((w as u32).to_le_bytes()),
                (4, true) => data.extend((w as u32).to_be_bytes()),
                (_, false) => data.extend(w.to_le_bytes()),
                (_, true) => data.extend(w.to_be_bytes()),
            }
        }
        data.extend(tail);
        exercise(&data);
    }

    #[test]
    fn mutated_real_tables_never_panic(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        header_mutations in proptest::collection::vec((0usize..72, any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let (bytes, range) = real();
        let mut table = bytes[range.clone()].to_vec();
        for (at, value) in mutations {
            let i = at.index(table.len());
            table[i] = value;
        }
        for (at, value) in header_mutations {
            table[at] = value;
        }
        exercise(&table);
        exercise(&table[..cut.index(table.len())]);
    }

    #[test]
    fn mutated_real_binaries_never_panic(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..32),
        cut in any::<prop::sample::Index>(),
    ) {
        let (bytes, range) = real();
        let mut elf = bytes.clone();
        for (k, (at, value)) in mutations.into_iter().enumerate() {
            // Half the mutations hit the ELF and program headers, half the table itself.
            let i = if k % 2 == 0 { at.index(0x200) } else { range.start + at.index(range.len()) };
            elf[i] = value;
        }
        let _ = pclntab::parse_elf(&elf);
        let _ = pclntab::parse_elf(&elf[..cut.index(elf.len())]);
    }
}

#[test]
fn the_real_table_used_by_the_properties_parses() {
    let (bytes, range) = real();
    let table = PclnTable::parse(&bytes[range.clone()]).unwrap();
    assert_eq!(
        table.len(),
        pclntab::parse_elf(bytes).unwrap().functions.len()
    );
}
