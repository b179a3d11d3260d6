//! Size budgets: the `[size]` table of `gopack.toml`, and the check of a report against it.
//!
//! ```toml
//! [size]
//! max = "12MB"                    # file size limit: B, kB/MB/GB (decimal), KiB/MiB/GiB
//! max_growth = "2%"               # against the baseline: a percentage or a size ("200kB")
//! baseline = "release/api.json"   # a binary or a `gopack size --json` report (relative to
//!                                 # the gopack.toml directory)
//! ```
//! The file is read by the one gopack.toml parser ([`crate::config::ConfigFile`]): the whole
//! file is checked (an unknown key or a wrong type anywhere is an error with the line and the
//! valid keys), and this module turns its [`SizeSection`] into limits.

use std::path::{Path, PathBuf};

use super::diff::{Change, SizeDiff};
use super::render::human;
use super::report::SizeReport;
use crate::config::file::{ConfigFile, ConfigFileError, LoadedConfig, NumberOrText, SizeSection};

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

/// What can be wrong with a config.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// The file could not be read, or is not a valid gopack.toml (syntax, an unknown key or a
    /// wrong type in any table: the line, column and valid keys).
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// A `[size]` value of the right type that is not a size or a growth limit.
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
    /// The limits of a `[size]` table (none when it is absent); `path` is the gopack.toml it
    /// was read from: it names the file in errors, and a relative baseline is taken from its
    /// directory. Fails on a `max` or `max_growth` that is not a size or limit.
    pub fn from_section(
        section: Option<&SizeSection>,
        path: &Path,
    ) -> Result<SizeBudget, BudgetError> {
        let invalid = |message: String| BudgetError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let Some(section) = section else {
            return Ok(SizeBudget::default());
        };
        let max = match &section.max {
            None => None,
            Some(NumberOrText::Number(n)) if *n >= 0.0 && n.fract() == 0.0 && n.is_finite() => {
                Some(*n as u64)
            }
            Some(NumberOrText::Number(n)) => {
                return Err(invalid(format!("max = {n} is not a size in bytes")));
            }
            Some(NumberOrText::Text(s)) => Some(parse_size(s).map_err(invalid)?),
        };
        let max_growth = section
            .max_growth
            .as_deref()
            .map(parse_growth)
            .transpose()
            .map_err(invalid)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Ok(SizeBudget {
            max,
            max_growth,
            baseline: section.baseline.as_deref().map(|b| baseline_path(dir, b)),
        })
    }

    /// The limits of a gopack.toml that was read.
    pub fn of_config(config: &LoadedConfig) -> Result<SizeBudget, BudgetError> {
        Self::from_section(config.file.size.as_ref(), &config.path)
    }

    /// Parses gopack.toml text (the whole file, by the one parser) and takes its limits.
    pub fn from_toml(text: &str, path: &Path) -> Result<SizeBudget, BudgetError> {
        let file = ConfigFile::parse(text, path)?;
        Self::from_section(file.size.as_ref(), path)
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
    fn the_size_table_is_read_through_the_one_parser() {
        let text = "[lint]\nignore = [\"GO101\"]\n\n[size]\nmax = \"12MB\"\nmax_growth = \"2%\"\nbaseline = \"base.json\"\n";
        let b = SizeBudget::from_toml(text, Path::new("/p/gopack.toml")).unwrap();
        assert_eq!(b.max, Some(12_000_000));
        assert_eq!(b.max_growth, Some(Growth::Percent(2.0)));
        assert_eq!(b.baseline, Some(PathBuf::from("/p/base.json")));
        let none = SizeBudget::from_toml("[lint]\n", Path::new("gopack.toml")).unwrap();
        assert!(none.is_empty());
        let bytes = SizeBudget::from_toml("[size]\nmax = 4096\n", Path::new("g.toml")).unwrap();
        assert_eq!(bytes.max, Some(4096));
        // An unknown key: the line and the valid keys, as in every other table.
        let err = SizeBudget::from_toml("[size]\nmaxx = 1\n", Path::new("g.toml")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line 2") && text.contains("unknown field `maxx`"),
            "{text}"
        );
        assert!(text.contains("`max_growth`"), "{text}");
        // The rest of the file is checked too.
        let err = SizeBudget::from_toml(
            "[defaults]\nusr = \"1\"\n[size]\nmax = 1\n",
            Path::new("g.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `usr`"), "{err}");
        let err =
            SizeBudget::from_toml("[size]\nmax = \"big\"\n", Path::new("g.toml")).unwrap_err();
        assert!(
            err.to_string().contains("[size]: `big` is not a size"),
            "{err}"
        );
        let err = SizeBudget::from_toml("[size]\nmax = 1.5\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().contains("not a size in bytes"), "{err}");
    }
}
