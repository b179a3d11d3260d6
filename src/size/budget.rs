//! Size budgets: the `[size]` section of `gopack.toml`, and the check of a report against it.
//!
//! ```toml
//! [size]
//! max = "12MB"                    # file size limit: B, kB/MB/GB (decimal), KiB/MiB/GiB
//! max_growth = "2%"               # against the baseline: a percentage or a size ("200kB")
//! baseline = "release/api.json"   # a binary or a `gopack size --json` report (relative to
//!                                 # the gopack.toml directory)
//! ```
//! Other tables of the file belong to other commands and are left alone here.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::diff::{Change, SizeDiff};
use super::render::human;
use super::report::SizeReport;

/// A growth limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Growth {
    /// Percent of the baseline's file size.
    Percent(f64),
    /// Bytes.
    Bytes(u64),
}

/// The `[size]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SizeBudget {
    /// Largest allowed file size in bytes.
    pub max: Option<u64>,
    /// Largest allowed growth against the baseline (`max_growth`: `2%` or `200kB`).
    pub max_growth: Option<Growth>,
    /// Baseline path, resolved against the config file's directory.
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct RawBudget {
    max: Option<toml::Value>,
    max_growth: Option<String>,
    baseline: Option<String>,
}

/// What can be wrong with a config.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// The config file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The `gopack.toml` file.
        path: PathBuf,
        /// The read's error.
        source: std::io::Error,
    },
    /// The `[size]` table is not valid TOML or holds an unknown key or a bad size.
    #[error("{path} is not valid: [size]: {message}")]
    Invalid {
        /// The `gopack.toml` file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// Parses a size: `12MB`, `12 MiB`, `900kB`, `1048576` (bytes); decimal units are powers of
/// 1000, binary ones (`KiB`) of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (expected e.g. 12MB, 900kB, 5MiB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "unknown unit `{}` in `{text}` (use B, kB, MB, GB, KiB, MiB or GiB)",
                unit.trim()
            ));
        }
    };
    Ok((value * mult).round() as u64)
}

/// Parses a growth limit: `2%`, `0.5 %` or a size.
pub fn parse_growth(text: &str) -> Result<Growth, String> {
    match text.trim().strip_suffix('%') {
        Some(p) => p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Growth::Percent)
            .ok_or_else(|| format!("`{text}` is not a percentage (expected e.g. 2%)")),
        None => parse_size(text).map(Growth::Bytes),
    }
}

impl SizeBudget {
    /// Parses the `[size]` table of a gopack.toml text; the default (no limits) when absent.
    pub fn from_toml(text: &str, path: &Path) -> Result<SizeBudget, BudgetError> {
        let invalid = |message: String| BudgetError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.message().to_string()))?;
        let Some(size) = table.get("size") else {
            return Ok(SizeBudget::default());
        };
        let raw: RawBudget = size
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.message().to_string()))?;
        let max = match raw.max {
            None => None,
            Some(toml::Value::Integer(n)) if n >= 0 => Some(n as u64),
            Some(toml::Value::String(s)) => Some(parse_size(&s).map_err(invalid)?),
            Some(other) => return Err(invalid(format!("max = {other} is not a size"))),
        };
        let max_growth = raw
            .max_growth
            .as_deref()
            .map(parse_growth)
            .transpose()
            .map_err(invalid)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(SizeBudget {
            max,
            max_growth,
            baseline: raw.baseline.map(|b| baseline_path(dir, &b)),
        })
    }

    /// Reads the `[size]` table of `path`.
    pub fn load(path: &Path) -> Result<SizeBudget, BudgetError> {
        let text = std::fs::read_to_string(path).map_err(|source| BudgetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        self.max.is_none() && self.max_growth.is_none()
    }
}

/// A limit the binary exceeds, with the owners that grew most.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Violation {
    /// The sentence a person reads.
    pub message: String,
    /// Packages that grew most against the baseline (empty without one).
    pub top_growth: Vec<Change>,
}

/// A baseline as written in gopack.toml: a file relative to the file's directory, or an image
/// reference (`oci:DIR[:TAG]`, `oci-archive:`, `docker-archive:`, `docker://`) kept as written,
/// its path relative to that directory too.
fn baseline_path(dir: &Path, written: &str) -> PathBuf {
    for prefix in ["oci:", "oci-archive:", "docker-archive:"] {
        if let Some(rest) = written.strip_prefix(prefix) {
            let joined = if rest.starts_with('/') {
                rest.to_string()
            } else {
                dir.join(rest).to_string_lossy().into_owned()
            };
            return PathBuf::from(format!("{prefix}{joined}"));
        }
    }
    if written.starts_with("docker://") {
        return PathBuf::from(written);
    }
    dir.join(written)
}

/// Checks `report` against `budget`; `diff` is the comparison with the baseline, when there is
/// one. An empty list means the binary is within budget. A growth limit without a baseline is
/// not checked (the caller says so).
pub fn check(
    report: &SizeReport,
    budget: &SizeBudget,
    diff: Option<&SizeDiff>,
    top: usize,
) -> Vec<Violation> {
    let grown = |d: &SizeDiff| -> Vec<Change> {
        d.packages
            .iter()
            .filter(|c| c.delta() > 0)
            .take(top)
            .cloned()
            .collect()
    };
    let mut out = Vec::new();
    let size = report.totals.file_size;
    if let Some(max) = budget.max
        && size > max
    {
        out.push(Violation {
            message: format!(
                "{} is {} ({size} bytes), over the budget of {} ({max} bytes) by {}",
                report.binary.path,
                human(size),
                human(max),
                human(size - max)
            ),
            top_growth: diff.map(grown).unwrap_or_default(),
        });
    }
    if let (Some(limit), Some(d)) = (budget.max_growth, diff) {
        let delta = d.delta();
        let over = match limit {
            Growth::Percent(p) => d.growth_percent() > p,
            Growth::Bytes(b) => delta > b as i64,
        };
        if over {
            let limit_text = match limit {
                Growth::Percent(p) => format!("{p}%"),
                Growth::Bytes(b) => human(b),
            };
            out.push(Violation {
                message: format!(
                    "{} grew by {} ({:+.2}%) against {}, over the allowed growth of {limit_text}",
                    report.binary.path,
                    human(delta.unsigned_abs()),
                    d.growth_percent(),
                    d.old_name
                ),
                top_growth: grown(d),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_growth_parse_like_people_write_them() {
        assert_eq!(parse_size("12MB"), Ok(12_000_000));
        assert_eq!(parse_size("1.5 MiB"), Ok(1_572_864));
        assert_eq!(parse_size("900kB"), Ok(900_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert_eq!(parse_growth("2%"), Ok(Growth::Percent(2.0)));
        assert_eq!(parse_growth("200kB"), Ok(Growth::Bytes(200_000)));
        assert!(parse_growth("-1%").is_err());
    }

    #[test]
    fn the_size_table_is_read_and_other_tables_left_alone() {
        let text = "[lint]\nignore = [\"GO101\"]\n\n[size]\nmax = \"12MB\"\nmax_growth = \"2%\"\nbaseline = \"base.json\"\n";
        let b = SizeBudget::from_toml(text, Path::new("/p/gopack.toml")).unwrap();
        assert_eq!(b.max, Some(12_000_000));
        assert_eq!(b.max_growth, Some(Growth::Percent(2.0)));
        assert_eq!(b.baseline, Some(PathBuf::from("/p/base.json")));
        let none = SizeBudget::from_toml("[lint]\n", Path::new("gopack.toml")).unwrap();
        assert!(none.is_empty());
        let err = SizeBudget::from_toml("[size]\nmaxx = 1\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().contains("[size]"), "{err}");
        let err =
            SizeBudget::from_toml("[size]\nmax = \"big\"\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().contains("not a size"), "{err}");
    }
}
