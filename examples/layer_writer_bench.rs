//! Throughput and peak memory of the layer writer on real Go binaries.
//!
//! `cargo run --release --example layer_writer_bench -- COMPRESSION FILE...`
//! prints one line: compression, input MB, output MB, seconds, MB/s, peak RSS MB.
//! Each run uses a fresh store, so nothing is served from the layer cache.

use std::path::PathBuf;
use std::time::Instant;

use gopack::oci::{BlobStore, Compression, LayerEntry, LayerSpec, LayerWriter};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let compression: Compression = args
        .next()
        .expect("COMPRESSION")
        .parse()
        .expect("gzip[:N] or zstd[:N]");
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    assert!(!files.is_empty(), "give the binaries to pack");
    let entries: Vec<LayerEntry> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            LayerEntry::file_from_disk(
                &format!("bin/{i}-{}", f.file_name().unwrap().to_string_lossy()),
                f.clone(),
                0o755,
            )
        })
        .collect();
    let input: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let spec = LayerSpec {
        entries,
        mtime: 0,
        description: "bench".into(),
    };
    let started = Instant::now();
    let layer = LayerWriter::new(&store, compression).write(&spec).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "{compression}\tin {:.1} MB\tout {:.2} MB\t{:.2} s\t{:.1} MB/s\tpeak RSS {:.1} MB",
        mb(input),
        mb(layer.size),
        secs,
        mb(input) / secs,
        peak_rss_mb()
    );
}
