//! Times runtime-needs detection (pclntab scan + table lookup) on real Go binaries.
//!
//! ```text
//! cargo run --release --example needs_bench -- [BINARY…]
//! ```
//! Without arguments it uses the Go toolchain's own compiler
//! (`$(go env GOROOT)/pkg/tool/<os>_<arch>/compile`). The file is read once; the figure is the
//! time of `needs_of_binary` on the bytes in memory (ELF parse, pclntab location, every function
//! name visited), best and median of 20 runs, then the same for a full `parse_elf` (owned names,
//! addresses and sizes), and of `needs_of_file` from the path (reads only the headers and the
//! `.gopclntab` section when there is one).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use gopack::binary::{needs, pclntab};

fn default_binary() -> PathBuf {
    let go = std::env::var("GOPACK_GO").unwrap_or_else(|_| "go".to_owned());
    let out = Command::new(&go)
        .args(["env", "GOROOT", "GOHOSTOS", "GOHOSTARCH"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("run go env");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let (root, os, arch) = (
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
    );
    PathBuf::from(root).join(format!("pkg/tool/{os}_{arch}/compile"))
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[runs / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(default_binary());
    }
    for path in paths {
        let start = Instant::now();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
        };
        let read = start.elapsed();
        let report = match needs::needs_of_binary(&bytes) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
        };
        let (best, median) = time(20, || needs::needs_of_binary(&bytes));
        let (full_best, full_median) = time(20, || pclntab::parse_elf(&bytes));
        // End to end from the path (page cache warm after the runs above).
        let (file_best, file_median) = time(20, || needs::needs_of_file(&path));
        let needs: Vec<String> = report
            .needs
            .iter()
            .map(|n| format!("{:?} ({})", n.need, n.function))
            .collect();
        println!(
            "{}: {:.1} MB, {} functions, read {}; needs_of_binary best {} median {}; parse_elf best {} median {}; needs_of_file (read + detect) best {} median {}; needs: [{}]",
            path.display(),
            bytes.len() as f64 / 1e6,
            report.functions_scanned,
            ms(read),
            ms(best),
            ms(median),
            ms(full_best),
            ms(full_median),
            ms(file_best),
            ms(file_median),
            needs.join(", ")
        );
    }
}
