//! gzip engines side by side on one file, on a given number of threads (issue 15):
//! zlib-rs as gopack used it before (pigz-style 1 MiB blocks, each primed with the previous
//! 32 KiB and ended by a sync flush: one deflate stream) and libdeflate as gopack uses it now
//! (one gzip member per 1 MiB block, no history across blocks).
//!
//! `cargo run --release --example gzip_engines -- FILE THREADS ENGINE:LEVEL...`
//! prints per engine and level: output bytes, seconds (best of 3), MB/s of input.

use std::time::Instant;

use flate2::{Compress, Compression, FlushCompress};

const BLOCK: usize = 1 << 20;

fn zlib_block(dictionary: &[u8], data: &[u8], level: u32, last: bool) -> usize {
    let mut c = Compress::new(Compression::new(level), false);
    if !dictionary.is_empty() {
        c.set_dictionary(dictionary).expect("dictionary");
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() + 1024);
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(1 << 16);
        }
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate");
        let all_in = c.total_in() as usize == data.len();
        if status == flate2::Status::StreamEnd || (all_in && !last && out.capacity() > out.len()) {
            return out.len();
        }
    }
}

fn libdeflate_member(data: &[u8], level: i32) -> usize {
    let lvl = libdeflater::CompressionLvl::new(level).expect("level 1..=12");
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0; c.deflate_compress_bound(data.len())];
    c.deflate_compress(data, &mut out).expect("deflate") + 18
}

fn run(data: &[u8], threads: usize, engine: &str, level: i32) -> usize {
    let blocks: Vec<&[u8]> = data.chunks(BLOCK).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(block) = blocks.get(i) else { return };
                    let n = match engine {
                        "zlib-rs" => {
                            let dictionary = match i {
                                0 => &[][..],
                                _ => &blocks[i - 1][BLOCK - 32 * 1024..],
                            };
                            zlib_block(dictionary, block, level as u32, i + 1 == blocks.len())
                        }
                        "libdeflate" => libdeflate_member(block, level),
                        other => panic!("unknown engine {other}: zlib-rs or libdeflate"),
                    };
                    total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    total.into_inner() + if engine == "zlib-rs" { 18 } else { 0 }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, threads, specs @ ..] = args.as_slice() else {
        panic!("usage: gzip_engines FILE THREADS ENGINE:LEVEL...");
    };
    let data = std::fs::read(file).expect("read FILE");
    let threads: usize = threads.parse().expect("THREADS");
    for spec in specs {
        let (engine, level) = spec.split_once(':').expect("ENGINE:LEVEL");
        let level: i32 = level.parse().expect("LEVEL");
        let mut best = f64::MAX;
        let mut bytes = 0;
        for _ in 0..3 {
            let started = Instant::now();
            bytes = run(&data, threads, engine, level);
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{spec:<14}\t{bytes:>10} B\t{best:6.3} s\t{:7.1} MB/s",
            data.len() as f64 / 1e6 / best
        );
    }
}
