use proptest::prelude::*;

use super::*;
use crate::inspect::record::{Entry, Kind, LayerRecord};
use crate::oci::FileType;

fn file(path: &str, size: u64, content: u8, mode: u32) -> Entry {
    Entry {
        path: path.into(),
        kind: Kind::File,
        mode,
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
        link: None,
        sha256: Some([content; 32]),
        flags: 0,
    }
}

fn other(path: &str, kind: Kind) -> Entry {
    Entry {
        path: path.into(),
        kind,
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
        link: (kind == Kind::Symlink).then(|| "target".into()),
        sha256: None,
        flags: 0,
    }
}

fn merge(layers: Vec<Vec<Entry>>) -> Merged {
    let mut m = Merger::new();
    for entries in layers {
        m.apply(LayerRecord {
            entries,
            ..LayerRecord::default()
        });
    }
    m.finish()
}

fn kept(m: &Merged) -> u64 {
    m.tree
        .walk()
        .map(|(_, id)| m.tree.info(id))
        .filter(|i| matches!(i.file_type, FileType::Regular | FileType::Sparse))
        .map(|i| i.size)
        .sum()
}

#[test]
fn overwrite_delete_and_chmod_are_told_apart_and_never_double_counted() {
    // Layer 1 adds a (100), b (50), c (30); layer 2 rewrites a and deletes b; layer 3 chmods c.
    let m = merge(vec![
        vec![
            file("a", 100, 1, 0o644),
            file("b", 50, 2, 0o644),
            file("c", 30, 3, 0o644),
        ],
        vec![file("a", 100, 9, 0o644), other("b", Kind::Whiteout)],
        vec![file("c", 30, 3, 0o755)],
    ]);
    assert_eq!(m.waste.total, 310);
    assert_eq!(m.waste.overwritten, 100);
    assert_eq!(m.waste.deleted, 50);
    assert_eq!(m.waste.metadata_only, 30);
    assert_eq!(kept(&m), 130);
    assert_eq!(m.waste.total - m.waste.reclaimable(), kept(&m));
    // dive: a visited twice (200, smallest 100), b twice (50 + its whiteout's 0), c twice (60):
    // efficiency 130/310, wasted 310 = ours (180) + the copies that stay (100 + 30).
    assert!((m.dive.efficiency - 130.0 / 310.0).abs() < 1e-12);
    assert_eq!(m.dive.wasted_bytes, 310);
    assert_eq!(m.dive.wasted_bytes - (100 + 30), m.waste.reclaimable());
    assert_eq!(m.layers[0].reclaimable, 180);
    assert_eq!(m.dive.user_wasted_percent, Some(310.0 / 130.0));
}

#[test]
fn opaque_dirs_and_kind_changes_count_every_hidden_copy() {
    let m = merge(vec![
        vec![
            other("opt", Kind::Dir),
            file("opt/x", 10, 1, 0o644),
            file("opt/y", 20, 2, 0o644),
            file("var/f", 5, 3, 0o644),
            file("etc/conf/a", 7, 4, 0o644),
        ],
        vec![
            other("opt", Kind::Opaque),
            file("opt/z", 1, 5, 0o644),
            // A file where a directory was drops what was below it.
            file("etc/conf", 2, 6, 0o644),
            // A member below a file turns the file into a directory.
            file("var/f/g", 3, 7, 0o644),
        ],
    ]);
    assert_eq!(m.waste.deleted, 30);
    assert_eq!(m.waste.overwritten, 7 + 5);
    assert_eq!(m.waste.total, 10 + 20 + 5 + 7 + 1 + 2 + 3);
    assert_eq!(kept(&m), 1 + 2 + 3);
    assert_eq!(m.waste.total - m.waste.reclaimable(), kept(&m));
}

#[test]
fn a_deleted_secret_is_buried_in_its_layer() {
    let mut key = file("root/.ssh/id_ed25519", 400, 1, 0o600);
    key.flags = crate::inspect::record::FLAG_PRIVATE_KEY;
    let m = merge(vec![
        vec![
            file("app/.env", 64, 1, 0o644),
            key,
            file("app/main", 9, 2, 0o755),
        ],
        vec![
            other("app/.env", Kind::Whiteout),
            other("root", Kind::Whiteout),
        ],
    ]);
    let mut buried: Vec<(&str, u32)> = m
        .buried
        .iter()
        .map(|b| (b.path.as_str(), b.layer))
        .collect();
    buried.sort();
    assert_eq!(buried, [("app/.env", 0), ("root/.ssh/id_ed25519", 0)]);
    assert!(m.buried.iter().all(|b| b.hidden_by == WasteKind::Deleted));
}

#[test]
fn dive_sizes_a_directory_whiteout_by_what_it_deletes() {
    // dive visits /d's whiteout with the 30 bytes below it (once, a single visit of /d): its
    // efficiency and wasted bytes do not move, while 30 bytes are in fact reclaimable.
    let m = merge(vec![
        vec![file("d/x", 10, 1, 0o644), file("d/y", 20, 2, 0o644)],
        vec![other("d", Kind::Whiteout)],
    ]);
    assert_eq!(m.waste.deleted, 30);
    assert_eq!(m.dive.wasted_bytes, 0);
    assert!((m.dive.efficiency - 1.0).abs() < 1e-12);
}

/// One random operation on a small universe of paths.
fn op() -> impl Strategy<Value = Entry> {
    let path = prop::sample::select(vec!["a", "b", "d", "d/x", "d/y", "d/e/z", "l"]);
    (path, 0u8..6, 0u64..50, 0u8..3).prop_map(|(p, k, size, content)| match k {
        0 | 1 => file(p, size, content, 0o644),
        2 => file(p, size, content, 0o755),
        3 => other(p, Kind::Whiteout),
        4 => other(p, Kind::Dir),
        _ => other(p, Kind::Symlink),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, timeout: 2_000, ..ProptestConfig::default() })]

    /// Whatever the layers do, every file byte is kept or reclaimable exactly once.
    #[test]
    fn every_copy_is_kept_or_reclaimable_once(layers in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..6)) {
        let m = merge(layers);
        prop_assert_eq!(m.waste.total, kept(&m) + m.waste.reclaimable());
        let per_layer: u64 = m.layers.iter().map(|l| l.reclaimable).sum();
        prop_assert_eq!(per_layer, m.waste.reclaimable());
        prop_assert!(m.dive.efficiency >= 0.0 && m.dive.efficiency <= 1.0);
    }
}

#[test]
fn many_whiteouts_merge_in_near_linear_time() {
    let n = 50_000;
    let base: Vec<Entry> = (0..n)
        .map(|i| file(&format!("d{}/f{i}", i % 100), 1, 1, 0o644))
        .collect();
    let outs: Vec<Entry> = (0..n)
        .map(|i| other(&format!("d{}/f{i}", i % 100), Kind::Whiteout))
        .collect();
    let start = std::time::Instant::now();
    let m = merge(vec![base, outs]);
    assert_eq!(m.waste.deleted, n as u64);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
