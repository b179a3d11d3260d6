//! Property tests: size attribution of damaged binaries either fails with an error or still
//! puts every byte in exactly one bucket; it never panics and stays within a time budget.
//! Damage lands in a random section (headers, function table, symbol table, compressed DWARF…)
//! or truncates the file.

use std::sync::OnceLock;
use std::time::Duration;

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

/// CPU-time budget per attribution of a ~2 MB binary in a debug build (~0.3 s unloaded).
/// CPU time of this thread, not wall time, so a loaded machine does not fail the property.
const BUDGET: Duration = Duration::from_secs(10);

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn check(data: &[u8]) {
    let started = thread_cpu_time();
    if let Ok(a) = attribute(data, &[]) {
        assert_eq!(a.total(), data.len() as u64);
    }
    let spent = thread_cpu_time() - started;
    assert!(spent < BUDGET, "took {spent:?} of CPU");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, max_shrink_iters: 32, .. ProptestConfig::default() })]

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

/// Found by `damaged_sections_never_panic`: a record whose `npcdata` is damaged to 4 billion
/// made attribution loop over 4 billion offsets. Such a record's counts are now not trusted.
#[test]
fn a_damaged_pcdata_count_is_not_followed() {
    let (bytes, _) = real();
    let located = gopack::binary::pclntab::locate(bytes).unwrap();
    let table_start = located.table.bytes().as_ptr() as usize - bytes.as_ptr() as usize;
    let mut data = bytes.clone();
    for index in [0, located.table.len() / 2] {
        let rec = table_start + located.table.func_record_offset(index).unwrap() as usize;
        data[rec + 28..rec + 32].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    check(&data);
}
