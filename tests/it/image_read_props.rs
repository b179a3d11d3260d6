//! Properties of the image reader under random and hostile input (issue 8): reading N entries
//! of random layers — files, deep directories, whiteouts, opaque directories, hard links and
//! symlink chains and fans — grows like N log N (8N entries take at most a bounded multiple of
//! 8× the time of N, where quadratic growth would take 64×); and random or mutated layers and
//! documents end in a result or an error, never a panic or a hang. Case counts scale with
//! `GOPACK_FUZZ_CASES` for longer runs (recorded in BENCHMARKS.md).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use gopack::oci::source::{self, LayoutSource, SourceOptions};
use gopack::oci::{
    BlobStore, Descriptor, Digest, FileTree, Image, ImageConfig, Limits, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_MANIFEST, Platform, PlatformSelector,
    RootFs, StoreBlobs, TarLimits, resolve,
};
use gopack::sink::{ImageSet, write_oci_layout};
use proptest::prelude::*;

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Appends one empty member (long names and targets get GNU long-name headers).
fn add(b: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, link: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(0);
    h.set_mode(0o644);
    if link.is_empty() {
        b.append_data(&mut h, name, &[][..]).unwrap();
    } else {
        b.append_link(&mut h, name, link).unwrap();
    }
}

/// Three layers with about `n` entries in all: a tree of files, then whiteouts, opaque
/// markers and replacements of random lower paths, then links (chains, fans, hard links).
fn random_layers(n: usize, seed: u64) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut rng = Rng(seed | 1);
    let mut paths: Vec<String> = Vec::new();
    let mut dirs: Vec<String> = vec!["d".into()];
    let mut base = tar::Builder::new(Vec::new());
    for i in 0..n / 2 {
        let dir = if rng.below(8) == 0 && dirs.len() < n / 16 + 2 {
            let parent = dirs[rng.below(dirs.len())].clone();
            let d = format!("{parent}/s{i}");
            dirs.push(d.clone());
            d
        } else {
            dirs[rng.below(dirs.len())].clone()
        };
        let path = format!("{dir}/f{i}");
        add(&mut base, &path, tar::EntryType::Regular, "");
        paths.push(path);
    }
    let mut upper = tar::Builder::new(Vec::new());
    for i in 0..n / 4 {
        let entry = match rng.below(4) {
            0 => {
                let d = &dirs[rng.below(dirs.len())];
                format!("{d}/.wh..wh..opq")
            }
            1 => format!("{}/n{i}", dirs[rng.below(dirs.len())]),
            _ => {
                let p = &paths[rng.below(paths.len())];
                let (dir, name) = p.rsplit_once('/').unwrap();
                format!("{dir}/.wh.{name}")
            }
        };
        add(&mut upper, &entry, tar::EntryType::Regular, "");
    }
    let mut links = tar::Builder::new(Vec::new());
    for i in 0..n / 4 {
        let (name, kind, target) = match rng.below(4) {
            0 if i > 0 => (
                format!("l/c{i}"),
                tar::EntryType::Symlink,
                format!("c{}", i - 1),
            ),
            1 if i > 0 => (
                format!("l/f{i}"),
                tar::EntryType::Symlink,
                format!("f{0}/../f{0}", i - 1),
            ),
            2 => (
                format!("l/h{i}"),
                tar::EntryType::Link,
                paths[rng.below(paths.len())].clone(),
            ),
            _ => (
                format!("l/t{i}"),
                tar::EntryType::Symlink,
                format!("/{}", paths[rng.below(paths.len())]),
            ),
        };
        add(&mut links, &name, kind, &target);
    }
    let mut lookups: Vec<String> = (0..n / 4)
        .map(|_| paths[rng.below(paths.len())].clone())
        .collect();
    lookups.extend((1..n / 4).step_by(3).map(|i| format!("l/c{i}/x")));
    lookups.extend((1..n / 4).step_by(5).map(|i| format!("l/f{i}/y")));
    let layers = [base, upper, links]
        .into_iter()
        .map(|b| b.into_inner().unwrap())
        .collect();
    (layers, lookups)
}

fn image_over(store: &BlobStore, layers: &[Vec<u8>]) -> Image {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for tar in layers {
        let (d, n) = store.put_bytes(tar).unwrap();
        descriptors.push(Descriptor::new(MEDIA_TYPE_LAYER_TAR, d, n));
        diff_ids.push(Digest::of(tar));
    }
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        ..ImageConfig::default()
    };
    Image::assemble(
        store,
        Platform::linux("amd64"),
        config,
        descriptors,
        BTreeMap::new(),
    )
    .unwrap()
}

/// Seconds to merge the layers and look every path up (best of three).
fn time_to_read(n: usize, seed: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let (layers, lookups) = random_layers(n, seed);
    let image = image_over(&store, &layers);
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let tree =
                FileTree::read_image(&StoreBlobs(&store), &image, TarLimits::default()).unwrap();
            let found = lookups.iter().filter(|p| tree.exists(p)).count();
            std::hint::black_box(found);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn cases(default: u32) -> u32 {
    std::env::var("GOPACK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2), ..ProptestConfig::default() })]

    /// N log N from 3,000 to 24,000 entries: the time ratio stays well under the 64 a quadratic
    /// reader would show (allowing 3× for N log N's log factor and a loaded machine).
    #[test]
    fn reading_grows_like_n_log_n(seed in 1u64..u64::MAX) {
        let small = time_to_read(3_000, seed);
        let large = time_to_read(24_000, seed);
        let ratio = large / small.max(1e-4);
        prop_assert!(ratio < 24.0, "8x the entries took {ratio:.1}x the time ({small:.3}s → {large:.3}s)");
    }
}

/// A valid gzip layer with random damage (bytes flipped, cut short, garbage appended).
fn damaged_layer(seed: u64, damage: &[(usize, u8)], cut: Option<usize>, tail: &[u8]) -> Vec<u8> {
    let (layers, _) = random_layers(64, seed);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&layers[0]).unwrap();
    let mut blob = gz.finish().unwrap();
    for (at, xor) in damage {
        let i = at % blob.len();
        blob[i] ^= xor;
    }
    if let Some(c) = cut {
        blob.truncate(c % (blob.len() + 1));
    }
    blob.extend_from_slice(tail);
    blob
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), timeout: 5_000, ..ProptestConfig::default() })]

    /// The layer lister on damaged layers: an error or a listing, within the time budget.
    #[test]
    fn damaged_layers_end_in_a_listing_or_an_error(
        seed in 1u64..1000,
        damage in proptest::collection::vec((0usize..100_000, 1u8..=255), 0..4),
        cut in proptest::option::of(0usize..100_000),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let blob = damaged_layer(seed, &damage, cut, &tail);
        let (d, n) = store.put_bytes(&blob).unwrap();
        let mut image = image_over(&store, &[]);
        image.manifest.layers.push(Descriptor::new(MEDIA_TYPE_LAYER_GZIP, d, n));
        image.config.rootfs.diff_ids.push(Digest::of(b"?"));
        let _ = FileTree::read_image(&StoreBlobs(&store), &image, TarLimits::default());
    }
}

/// JSON values shaped like image documents, with random fields, types and sizes.
fn document() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        "[a-z/.+:0-9]{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(
            "application/vnd.oci.image.index.v1+json"
        )),
        Just(serde_json::Value::from(
            "application/vnd.oci.image.manifest.v1+json"
        )),
        Just(serde_json::Value::from(
            "application/vnd.oci.image.config.v1+json"
        )),
        Just(serde_json::Value::from("text/plain")),
        Just(serde_json::Value::from(format!(
            "sha256:{}",
            "0".repeat(64)
        ))),
        Just(serde_json::Value::from(2)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("schemaVersion".to_string()),
                    Just("mediaType".to_string()),
                    Just("manifests".to_string()),
                    Just("config".to_string()),
                    Just("layers".to_string()),
                    Just("digest".to_string()),
                    Just("size".to_string()),
                    Just("platform".to_string()),
                    Just("rootfs".to_string()),
                    Just("diff_ids".to_string()),
                    Just("architecture".to_string()),
                    Just("os".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(128), timeout: 5_000, ..ProptestConfig::default() })]

    /// The index, manifest and config readers on random documents: valid ones are read,
    /// others are refused with an error, never a panic.
    #[test]
    fn random_documents_are_read_or_refused(
        index in document(),
        manifest in document(),
        config in document(),
        replace in 0usize..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("store")).unwrap();
        let (layers, _) = random_layers(8, 7);
        let image = image_over(&store, &layers[..1]);
        let layout = dir.path().join("layout");
        let set = ImageSet { name: "x".into(), images: vec![image.clone()], index: None };
        write_oci_layout(&store, &layout, &[set], Some("1")).unwrap();
        // Each random document is stored under its own digest and pointed at, so the parsers
        // (not the digest check) are what meet it.
        let put = |bytes: &[u8]| {
            let d = Digest::of(bytes);
            std::fs::write(layout.join("blobs/sha256").join(d.hex()), bytes).unwrap();
            serde_json::json!({"digest": d.to_string(), "size": bytes.len()})
        };
        let point = |mut d: serde_json::Value, media_type: &str| {
            d["mediaType"] = media_type.into();
            let index = serde_json::json!({"schemaVersion": 2, "manifests": [d]});
            std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
        };
        match replace {
            0 => std::fs::write(layout.join("index.json"), index.to_string()).unwrap(),
            1 => point(put(manifest.to_string().as_bytes()), MEDIA_TYPE_MANIFEST),
            2 => point(put(index.to_string().as_bytes()), MEDIA_TYPE_INDEX),
            _ => {
                let mut m: serde_json::Value = serde_json::from_slice(&image.manifest_bytes).unwrap();
                let c = put(config.to_string().as_bytes());
                m["config"]["digest"] = c["digest"].clone();
                m["config"]["size"] = c["size"].clone();
                point(put(m.to_string().as_bytes()), MEDIA_TYPE_MANIFEST);
            }
        }
        let fresh = BlobStore::open(dir.path().join("fresh")).unwrap();
        if let Ok(source) = LayoutSource::open(&layout, None, Limits::default()) {
            let _ = resolve(&source, &PlatformSelector::All, &fresh, &Limits::default());
        }
        let reference = gopack::oci::ImageRef::Layout { dir: layout, tag: None };
        let _ = source::open(&reference, &fresh, &SourceOptions::default());
    }
}

#[test]
fn the_growth_generator_makes_what_it_says() {
    let (layers, lookups) = random_layers(1000, 3);
    assert_eq!(layers.len(), 3);
    assert!(lookups.len() > 200);
}
