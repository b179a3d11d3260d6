//! `gopack size PKG --variants`: the same package built with the flag sets people compare by
//! hand, in parallel with the user's shared GOCACHE, each measured as file, gzip and zstd bytes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::config::GoEnv;

/// One build of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// Short name: `default`, `-s -w`, `cgo off`…
    pub name: String,
    /// Extra `go build` arguments.
    pub args: Vec<String>,
    /// Extra environment (`CGO_ENABLED`, `GOAMD64`).
    pub env: Vec<(String, String)>,
}

/// A measured variant.
#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    /// The variant's short name (`default`, `-s -w`, `cgo off`…).
    pub name: String,
    /// The command as a person would type it.
    pub command: String,
    /// File bytes, gzip bytes (level 6) and zstd bytes (level 3); `None` when the build failed.
    pub file: Option<u64>,
    /// Size of the binary gzip-compressed at level 6, in bytes.
    pub gzip: Option<u64>,
    /// Size of the binary zstd-compressed at level 3, in bytes.
    pub zstd: Option<u64>,
    /// Why the build failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn v(name: &str, args: &[&str], env: &[(&str, &str)]) -> Variant {
    Variant {
        name: name.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The matrix for `goarch`: plain `go build`, `-s`, `-w`, `-s -w`, `-trimpath`, cgo on and off,
/// `GOAMD64=v3` (amd64 only), `netgo,osusergo`, `+time/tzdata`, and `gopack build`'s own flags
/// (`gopack_flags`).
pub fn matrix(goarch: &str, gopack_flags: Variant) -> Vec<Variant> {
    let mut m = vec![
        v("default", &[], &[]),
        v("-s", &["-ldflags=-s"], &[]),
        v("-w", &["-ldflags=-w"], &[]),
        v("-s -w", &["-ldflags=-s -w"], &[]),
        v("-trimpath", &["-trimpath"], &[]),
        v("cgo on", &[], &[("CGO_ENABLED", "1")]),
        v("cgo off", &[], &[("CGO_ENABLED", "0")]),
    ];
    if goarch == "amd64" {
        m.push(v("GOAMD64=v3", &[], &[("GOAMD64", "v3")]));
    }
    m.push(v("netgo,osusergo", &["-tags=netgo,osusergo"], &[]));
    m.push(v("+time/tzdata", &["-tags=timetzdata"], &[]));
    m.push(gopack_flags);
    m
}

/// Builds every variant of `package` (an import path or `./dir`) from `module_root` into
/// `out_dir`, `jobs` at a time, with `env` (GOOS/GOARCH, user tags are in each variant's args)
/// under each variant's own settings. A failed build is a row with its error, not a failure.
pub fn build_all(
    goenv: &GoEnv,
    module_root: &Path,
    package: &str,
    env: &[(String, String)],
    variants: &[Variant],
    out_dir: &Path,
    jobs: usize,
) -> Vec<VariantResult> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<VariantResult>>> = Mutex::new(vec![None; variants.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(variants.len()) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(variant) = variants.get(i) else {
                        break;
                    };
                    let out = out_dir.join(format!("variant-{i}"));
                    let r = build_one(goenv, module_root, package, env, variant, &out);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

fn build_one(
    goenv: &GoEnv,
    module_root: &Path,
    package: &str,
    env: &[(String, String)],
    variant: &Variant,
    out: &PathBuf,
) -> VariantResult {
    let mut cmd = goenv.command(module_root);
    cmd.arg("build")
        .args(&variant.args)
        .arg("-o")
        .arg(out)
        .arg(package);
    let mut shown_env: Vec<String> = Vec::new();
    for (k, val) in env.iter().chain(&variant.env) {
        cmd.env(k, val);
        shown_env.push(format!("{k}={val}"));
    }
    let command = format!(
        "{}{}go build {}{}",
        shown_env.join(" "),
        if shown_env.is_empty() { "" } else { " " },
        variant
            .args
            .iter()
            .map(|a| if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            })
            .collect::<Vec<_>>()
            .join(" "),
        if variant.args.is_empty() {
            package.to_string()
        } else {
            format!(" {package}")
        }
    );
    let failed = |error: String| VariantResult {
        name: variant.name.clone(),
        command: command.clone(),
        file: None,
        gzip: None,
        zstd: None,
        error: Some(error),
    };
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => return failed(format!("cannot run go: {e}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return failed(
            stderr
                .lines()
                .last()
                .unwrap_or("go build failed")
                .to_string(),
        );
    }
    match compressed_sizes(out) {
        Ok((file, gzip, zstd)) => VariantResult {
            name: variant.name.clone(),
            command,
            file: Some(file),
            gzip: Some(gzip),
            zstd: Some(zstd),
            error: None,
        },
        Err(e) => failed(format!("cannot read the built binary: {e}")),
    }
}

struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// File, gzip (level 6) and zstd (level 3) sizes of a file, compressed as a stream (memory does
/// not grow with the file).
pub fn compressed_sizes(path: &Path) -> std::io::Result<(u64, u64, u64)> {
    let data = std::fs::read(path)?;
    let mut gz = flate2::write::GzEncoder::new(Counter(0), flate2::Compression::new(6));
    gz.write_all(&data)?;
    let gzip = gz.finish()?.0;
    let mut zs = zstd::stream::write::Encoder::new(Counter(0), 3)?;
    zs.write_all(&data)?;
    let zstd = zs.finish()?.0;
    Ok((data.len() as u64, gzip, zstd))
}

/// The variants as a table (text or Markdown), with the change against `default`.
pub fn table(results: &[VariantResult], markdown: bool) -> String {
    use super::render::human;
    let base = results
        .iter()
        .find(|r| r.name == "default")
        .and_then(|r| r.file);
    let mut rows = vec![vec![
        "variant".to_string(),
        "file".into(),
        "vs default".into(),
        "gzip".into(),
        "zstd".into(),
        "command".into(),
    ]];
    for r in results {
        let vs = match (r.file, base) {
            (Some(f), Some(b)) if b > 0 => {
                format!("{:+.1}%", (f as f64 - b as f64) * 100.0 / b as f64)
            }
            _ => String::new(),
        };
        let cell = |x: Option<u64>| x.map(human).unwrap_or_else(|| "failed".into());
        rows.push(vec![
            r.name.clone(),
            cell(r.file),
            vs,
            cell(r.gzip),
            cell(r.zstd),
            match &r.error {
                Some(e) => format!("{} — {e}", r.command),
                None => r.command.clone(),
            },
        ]);
    }
    let mut out = String::new();
    if markdown {
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
            if i == 0 {
                out.push_str("|---|---:|---:|---:|---:|---|\n");
            }
        }
        return out;
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if (1..5).contains(&c) {
                line.push_str(&format!("{pad}{cell}  "));
            } else {
                line.push_str(&format!("{cell}{pad}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_every_variant_the_issue_names() {
        let own = v(
            "gopack build",
            &["-trimpath", "-ldflags=-s"],
            &[("CGO_ENABLED", "0")],
        );
        let names: Vec<String> = matrix("amd64", own.clone())
            .into_iter()
            .map(|v| v.name)
            .collect();
        for want in [
            "default",
            "-s",
            "-w",
            "-s -w",
            "-trimpath",
            "cgo on",
            "cgo off",
            "GOAMD64=v3",
            "netgo,osusergo",
            "+time/tzdata",
            "gopack build",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        assert!(!matrix("arm64", own).iter().any(|v| v.name == "GOAMD64=v3"));
    }

    #[test]
    fn compressed_sizes_are_smaller_for_repetitive_data() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, vec![7u8; 100_000]).unwrap();
        let (file, gz, zs) = compressed_sizes(&f).unwrap();
        assert_eq!(file, 100_000);
        assert!(gz < 1000 && zs < 1000, "{gz} {zs}");
    }
}
