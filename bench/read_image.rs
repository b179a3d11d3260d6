//! Benchmark helper for the image reader (bench/image_read.sh).
//!
//! `make DIR FILES BYTES LAYERS` writes an OCI layout at DIR holding one image of LAYERS gzip
//! layers with FILES files adding up to about BYTES uncompressed bytes (incompressible content,
//! sizes 1 KiB–128 KiB, spread over nested directories, with some whiteouts and symlinks in the
//! upper layers), streamed through gopack's own layer writer so memory stays flat.
//!
//! `list REF` reads the image REF names (any transport) the way `--base` and inspect do: resolve,
//! then every layer in one streaming pass into the merged tree, diff_ids checked; it prints the
//! counts, the time and the peak RSS (VmHWM).

use std::sync::Arc;
use std::time::Instant;

use gopack::oci::source::{self, SourceOptions};
use gopack::oci::{
    Bare, BlobStore, Compression, Descriptor, FileTree, ImageConfig, ImageRef, LayerEntry,
    LayerSpec, LayerWriter, Platform, PlatformSelector, RootFs, TarLimits, resolve,
};
use gopack::sink::{ImageSet, write_oci_layout};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("make") if args.len() == 5 => make(
            &args[1],
            args[2].parse().expect("FILES"),
            args[3].parse().expect("BYTES"),
            args[4].parse().expect("LAYERS"),
        ),
        Some("list") if args.len() == 2 => list(&args[1]),
        _ => {
            eprintln!("usage: read_image make DIR FILES BYTES LAYERS | read_image list REF");
            std::process::exit(2);
        }
    }
}

fn noise(seed: u64, len: usize) -> Arc<[u8]> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn make(dir: &str, files: usize, bytes: u64, layers: usize) {
    let work = tempfile::tempdir_in(std::path::Path::new(dir).parent().unwrap()).unwrap();
    let store = BlobStore::open(work.path()).unwrap();
    let writer = LayerWriter::new(&store, Compression::Gzip(1));
    // Size classes whose mean is scaled to reach `bytes`; each a distinct incompressible blob.
    let classes = [1usize << 10, 4 << 10, 16 << 10, 128 << 10];
    let weights = [40usize, 30, 20, 10];
    let mean: usize = classes
        .iter()
        .zip(weights)
        .map(|(c, w)| c * w)
        .sum::<usize>()
        / 100;
    let scale = (bytes as f64 / files as f64 / mean as f64).max(0.01);
    let blobs: Vec<Arc<[u8]>> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| noise(i as u64 + 1, ((*c as f64) * scale) as usize))
        .collect();
    let per_layer = files / layers;
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for layer in 0..layers {
        let mut entries = Vec::with_capacity(per_layer + 64);
        for i in 0..per_layer {
            let n = layer * per_layer + i;
            let class = match n % 10 {
                0..=3 => 0,
                4..=6 => 1,
                7 | 8 => 2,
                _ => 3,
            };
            let path = format!("usr/share/l{layer}/d{}/e{}/f{n}", n % 97, n % 13);
            entries.push(LayerEntry::file(&path, blobs[class].clone(), 0o644));
        }
        if layer > 0 {
            for i in (0..per_layer).step_by(50) {
                let n = (layer - 1) * per_layer + i;
                let hidden = format!("usr/share/l{}/d{}/e{}/.wh.f{n}", layer - 1, n % 97, n % 13);
                entries.push(LayerEntry::file(&hidden, Vec::new(), 0o644));
                let mut link = LayerEntry::dir(&format!("usr/lib/link{layer}-{i}"), 0o777, 0, 0);
                link.kind = gopack::oci::EntryKind::Symlink(format!("../share/l{layer}"));
                entries.push(link);
            }
        }
        let spec = LayerSpec {
            entries,
            mtime: 0,
            description: format!("layer {layer}"),
        }
        .with_parent_dirs();
        let written = writer.write(&spec).unwrap();
        eprintln!(
            "layer {layer}: {} entries, {} bytes compressed, {} uncompressed",
            spec.entries.len(),
            written.size,
            written.uncompressed_size
        );
        diff_ids.push(written.diff_id.clone());
        descriptors.push(Descriptor::of_layer(&written));
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
    let image = gopack::oci::Image::assemble(
        &store,
        Platform::linux("amd64"),
        config,
        descriptors,
        Default::default(),
    )
    .unwrap();
    let set = ImageSet {
        name: "big".into(),
        images: vec![image],
        index: None,
    };
    write_oci_layout(&store, std::path::Path::new(dir), &[set], Some("big")).unwrap();
}

fn list(reference: &str) {
    let started = Instant::now();
    let reference = ImageRef::parse(reference, Bare::Registry).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let store = BlobStore::open(cache.path()).unwrap();
    let options = SourceOptions::default();
    let source = source::open(&reference, &store, &options).unwrap();
    let resolved = resolve(
        source.as_ref(),
        &PlatformSelector::All,
        &store,
        &options.limits,
    )
    .unwrap();
    let image = &resolved.images[0];
    let tree = FileTree::read_image(source.as_ref(), image, TarLimits::default()).unwrap();
    let compressed: u64 = image.manifest.layers.iter().map(|l| l.size).sum();
    let files = tree
        .walk()
        .filter(|(_, id)| tree.info(*id).file_type == gopack::oci::FileType::Regular)
        .count();
    let bytes: u64 = tree.walk().map(|(_, id)| tree.info(id).size).sum();
    println!(
        "{} layers, {compressed} bytes compressed; merged: {} paths, {files} files, {bytes} bytes; \
         {:.2} s wall, {:.2} s CPU; peak RSS {} MB",
        image.manifest.layers.len(),
        tree.len(),
        started.elapsed().as_secs_f64(),
        cpu_seconds(),
        peak_rss_kb() / 1024
    );
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
