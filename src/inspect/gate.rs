//! The CI gate: thresholds on waste and size, and which findings fail the run. Rules come from
//! `gopack.toml`'s `[inspect]` table, or else from dive's `.dive-ci` read as dive reads it
//! (`rules:` with `lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`, or their
//! kebab-case spellings; `disabled`/`off`/`false`/empty turn a rule off; byte sizes as
//! go-humanize parses them), so a team can switch from `dive --ci` without rewriting its file.
//! The thresholds apply to gopack's waste figures, which do not count the kept copy as waste.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::findings::Finding;
use super::report::ImageReport;
use super::rules::{RULES, RuleId};
use crate::dockerfile::Severity;

/// A mistake in a gate setting (a bad number, an unknown rule, a bad glob).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct GateError {
    /// The file or flag.
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

fn err(origin: &str, message: String) -> GateError {
    GateError {
        origin: origin.to_string(),
        message,
    }
}

/// What fails a finding: a severity (that one and worse) or one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Findings at least this severe.
    Severity(Severity),
    /// This rule's findings, whatever their severity.
    Rule(RuleId),
}

/// Parses `--fail-on` items: severities (`error`, `warning`, `info`, `style`), rule codes
/// (`IMG401`), rule names (`setuid-setgid`) or dockle/CIS IDs (every rule carrying it), and
/// `none` (nothing fails).
pub fn parse_fail_on(items: &[String], origin: &str) -> Result<Vec<FailOn>, GateError> {
    let mut out = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')).map(str::trim) {
        if item.is_empty() || item.eq_ignore_ascii_case("none") {
            continue;
        }
        if let Ok(s) = Severity::from_str(item) {
            out.push(FailOn::Severity(s));
            continue;
        }
        let matched: Vec<RuleId> = RULES
            .iter()
            .filter(|r| {
                r.code.eq_ignore_ascii_case(item)
                    || r.name.eq_ignore_ascii_case(item)
                    || r.peer_ids.iter().any(|p| p.eq_ignore_ascii_case(item))
            })
            .map(|r| r.id)
            .collect();
        if matched.is_empty() {
            return Err(err(
                origin,
                format!(
                    "`{item}` is neither a severity (error, warning, info, style) nor a rule; \
                     `gopack inspect --list-rules` shows them"
                ),
            ));
        }
        out.extend(matched.into_iter().map(FailOn::Rule));
    }
    Ok(out)
}

/// The gate's settings.
#[derive(Clone, Debug, Default)]
pub struct GateConfig {
    /// Where the settings came from (`gopack.toml [inspect]`, `.dive-ci`, flags, defaults).
    pub origin: String,
    /// Fail below this efficiency (0–1).
    pub lowest_efficiency: Option<f64>,
    /// Fail above this many reclaimable bytes.
    pub highest_wasted_bytes: Option<u64>,
    /// Fail above this share of reclaimable bytes in the "user" layers (0–1).
    pub highest_user_wasted_percent: Option<f64>,
    /// Fail above this many compressed bytes (what a node pulls).
    pub max_size: Option<u64>,
    /// Which findings fail.
    pub fail_on: Vec<FailOn>,
    /// Paths (globs, absolute or not) whose findings and waste are ignored.
    pub ignore_paths: Vec<String>,
    /// Rules whose findings are ignored.
    pub ignore_rules: Vec<RuleId>,
}

impl GateConfig {
    /// dive's defaults (`lowestEfficiency` 0.9, `highestUserWastedPercent` 0.1, wasted bytes
    /// off) and failing on error findings: what `--ci` uses when no file configures it.
    pub fn ci_defaults() -> GateConfig {
        GateConfig {
            origin: "defaults (dive's thresholds, fail on errors)".into(),
            lowest_efficiency: Some(0.9),
            highest_wasted_bytes: None,
            highest_user_wasted_percent: Some(0.1),
            fail_on: vec![FailOn::Severity(Severity::Error)],
            ..GateConfig::default()
        }
    }

    /// The nearest `gopack.toml` from `dir` upwards that has an `[inspect]` table.
    pub fn discover_toml(dir: &Path) -> Option<PathBuf> {
        crate::config::file::discover(dir)
    }

    /// Reads `[inspect]` of a gopack.toml; `Ok(None)` when the file has no such table.
    pub fn from_toml(path: &Path) -> Result<Option<GateConfig>, GateError> {
        let origin = format!("{} [inspect]", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| err(&origin, e.to_string()))?;
        // The whole file through the one gopack.toml parser: an unknown key anywhere is an
        // error with its line and the valid keys, as for every verb that reads the file.
        let file = crate::config::file::ConfigFile::parse(&text, path).map_err(|e| match e {
            crate::config::file::ConfigFileError::Invalid { message, .. } => GateError {
                origin: format!("{} is not valid", path.display()),
                message,
            },
            other => err(&origin, other.to_string()),
        })?;
        let Some(section) = file.inspect else {
            return Ok(None);
        };
        let table = InspectTable::from(section);
        let mut c = GateConfig {
            origin: origin.clone(),
            fail_on: parse_fail_on(
                &table.fail_on.unwrap_or_else(|| vec!["error".into()]),
                &origin,
            )?,
            ignore_paths: table.ignore_paths,
            ..GateConfig::default()
        };
        c.lowest_efficiency = ratio(
            table.lowest_efficiency.as_ref(),
            &origin,
            "lowest-efficiency",
        )?;
        c.highest_user_wasted_percent = ratio(
            table.highest_user_wasted_percent.as_ref(),
            &origin,
            "highest-user-wasted-percent",
        )?;
        c.highest_wasted_bytes = bytes(table.highest_wasted_bytes.as_ref(), &origin)?;
        c.max_size = bytes(table.max_size.as_ref(), &origin)?;
        for r in &table.ignore_rules {
            for f in parse_fail_on(std::slice::from_ref(r), &origin)? {
                if let FailOn::Rule(id) = f {
                    c.ignore_rules.push(id);
                }
            }
        }
        c.check_globs()?;
        Ok(Some(c))
    }

    /// Reads a `.dive-ci` file as dive does: dive's defaults, overridden by its `rules:`.
    pub fn from_dive_ci(path: &Path) -> Result<GateConfig, GateError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| err(&origin, e.to_string()))?;
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .map_err(|e| err(&origin, format!("not valid YAML: {e}")))?;
        let mut c = GateConfig::ci_defaults();
        c.origin = origin.clone();
        let Some(rules) = docs.first().map(|d| &d["rules"]) else {
            return Ok(c);
        };
        let value = |camel: &str, kebab: &str| -> Option<TomlOrYaml> {
            [camel, kebab].iter().find_map(|k| yaml_scalar(&rules[*k]))
        };
        if let Some(v) = value("lowestEfficiency", "lowest-efficiency") {
            c.lowest_efficiency = ratio(Some(&v), &origin, "lowestEfficiency")?;
        }
        if let Some(v) = value("highestWastedBytes", "highest-wasted-bytes") {
            c.highest_wasted_bytes = bytes(Some(&v), &origin)?;
        }
        if let Some(v) = value("highestUserWastedPercent", "highest-user-wasted-percent") {
            c.highest_user_wasted_percent = ratio(Some(&v), &origin, "highestUserWastedPercent")?;
        }
        Ok(c)
    }

    /// Checks every ignore glob compiles.
    pub fn check_globs(&self) -> Result<(), GateError> {
        self.globs().map(|_| ())
    }

    fn globs(&self) -> Result<GlobSet, GateError> {
        let mut b = GlobSetBuilder::new();
        for g in &self.ignore_paths {
            let pattern = g.trim_start_matches('/');
            let glob = Glob::new(pattern)
                .map_err(|e| err(&self.origin, format!("ignore path `{g}`: {e}")))?;
            b.add(glob);
        }
        b.build().map_err(|e| err(&self.origin, e.to_string()))
    }

    /// Whether a finding is ignored (by rule, or by a path glob).
    pub fn ignores(&self, f: &Finding, globs: &GlobSet) -> bool {
        self.ignore_rules.contains(&f.rule)
            || f.path
                .as_deref()
                .is_some_and(|p| globs.is_match(p.trim_start_matches('/')))
    }

    /// Whether a finding fails the gate.
    pub fn fails(&self, f: &Finding) -> bool {
        self.fail_on.iter().any(|x| match x {
            FailOn::Severity(s) => f.severity >= *s,
            FailOn::Rule(r) => *r == f.rule,
        })
    }
}

/// `[inspect]` as read by [`crate::config::file::ConfigFile`], with values as the YAML reader
/// gives them.
struct InspectTable {
    fail_on: Option<Vec<String>>,
    max_size: Option<TomlOrYaml>,
    lowest_efficiency: Option<TomlOrYaml>,
    highest_wasted_bytes: Option<TomlOrYaml>,
    highest_user_wasted_percent: Option<TomlOrYaml>,
    ignore_paths: Vec<String>,
    ignore_rules: Vec<String>,
}

impl From<crate::config::file::InspectSection> for InspectTable {
    fn from(s: crate::config::file::InspectSection) -> InspectTable {
        let value = |v: Option<crate::config::file::NumberOrText>| {
            v.map(|v| match v {
                crate::config::file::NumberOrText::Number(n) => TomlOrYaml::Number(n),
                crate::config::file::NumberOrText::Text(t) => TomlOrYaml::Text(t),
            })
        };
        InspectTable {
            fail_on: s.fail_on,
            max_size: value(s.max_size),
            lowest_efficiency: value(s.lowest_efficiency),
            highest_wasted_bytes: value(s.highest_wasted_bytes),
            highest_user_wasted_percent: value(s.highest_user_wasted_percent),
            ignore_paths: s.ignore_paths,
            ignore_rules: s.ignore_rules,
        }
    }
}

/// A setting written as a number or a string.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(untagged)]
enum TomlOrYaml {
    Number(f64),
    Text(String),
}

fn yaml_scalar(y: &yaml_rust2::Yaml) -> Option<TomlOrYaml> {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s.parse().ok().map(TomlOrYaml::Number),
        Yaml::Integer(i) => Some(TomlOrYaml::Number(*i as f64)),
        Yaml::String(s) => Some(TomlOrYaml::Text(s.clone())),
        Yaml::Boolean(b) => Some(TomlOrYaml::Text(b.to_string())),
        Yaml::Null => Some(TomlOrYaml::Text(String::new())),
        _ => None,
    }
}

fn disabled(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "disabled" | "off" | "false"
    )
}

fn ratio(v: Option<&TomlOrYaml>, origin: &str, key: &str) -> Result<Option<f64>, GateError> {
    let n = match v {
        None => return Ok(None),
        Some(TomlOrYaml::Number(n)) => *n,
        Some(TomlOrYaml::Text(s)) if disabled(s) => return Ok(None),
        Some(TomlOrYaml::Text(s)) => s
            .trim()
            .parse()
            .map_err(|_| err(origin, format!("{key}: `{s}` is not a number")))?,
    };
    if !(0.0..=1.0).contains(&n) {
        return Err(err(origin, format!("{key}: {n} is outside 0–1")));
    }
    Ok(Some(n))
}

fn bytes(v: Option<&TomlOrYaml>, origin: &str) -> Result<Option<u64>, GateError> {
    match v {
        None => Ok(None),
        Some(TomlOrYaml::Number(n)) => Ok(Some(*n as u64)),
        Some(TomlOrYaml::Text(s)) if disabled(s) => Ok(None),
        Some(TomlOrYaml::Text(s)) => parse_bytes(s).map(Some).map_err(|m| err(origin, m)),
    }
}

/// Parses a byte size as go-humanize's `ParseBytes` does (and so as dive reads
/// `highestWastedBytes`): a number, optional space, a unit — `B`, SI `kB/MB/GB/TB/PB/EB`
/// (powers of 1000; `K`, `M`, `G` alone too) or IEC `KiB/MiB/GiB/TiB/PiB/EiB` (powers of 1024),
/// case-insensitive; commas are ignored. Written here because the Rust crates read `MB` as 2^20.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.replace(',', "");
    let t = t.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 20MB, 512KiB, 1000000)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        "e" | "eb" => 1e18,
        "ei" | "eib" => 1024f64.powi(6),
        other => return Err(format!("`{text}`: unknown unit `{other}`")),
    };
    Ok((n * factor) as u64)
}

/// One evaluated rule of the gate.
#[derive(Clone, Debug, Serialize)]
pub struct GateCheck {
    /// `lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`, `maxSize`, `findings`.
    pub name: &'static str,
    /// `pass`, `fail` or `skip`.
    pub status: &'static str,
    /// The threshold and the measured value, or why it was skipped.
    pub detail: String,
}

/// The gate's verdict for one or more images.
#[derive(Clone, Debug, Serialize)]
pub struct GateReport {
    /// Where the settings came from.
    pub config: String,
    /// True when nothing failed.
    pub passed: bool,
    /// Each rule per image.
    pub checks: Vec<GateCheck>,
}

/// Applies the ignores to `reports` (dropping ignored findings, discounting ignored paths from
/// the waste the thresholds see) and evaluates the gate. `wasted` lists, per report, every path
/// with reclaimable bytes (normalised, no leading `/`) and those bytes.
pub fn evaluate(
    config: &GateConfig,
    reports: &mut [ImageReport],
    wasted: &[Vec<(String, u64)>],
) -> Result<GateReport, GateError> {
    let globs = config.globs()?;
    let mut checks = Vec::new();
    for (report, wasted) in reports.iter_mut().zip(wasted) {
        report.findings.retain(|f| !config.ignores(f, &globs));
        let ignored: u64 = wasted
            .iter()
            .filter(|(p, _)| globs.is_match(p))
            .map(|(_, b)| *b)
            .sum();
        checks.extend(evaluate_one(config, report, ignored));
    }
    Ok(GateReport {
        config: config.origin.clone(),
        passed: checks.iter().all(|c| c.status != "fail"),
        checks,
    })
}

/// The five checks of one image, `ignored` reclaimable bytes left out of the waste.
fn evaluate_one(config: &GateConfig, report: &ImageReport, ignored: u64) -> Vec<GateCheck> {
    let w = &report.waste;
    let reclaimable = w.reclaimable_bytes.saturating_sub(ignored);
    let efficiency = if w.total_file_bytes == 0 {
        1.0
    } else {
        (w.total_file_bytes - reclaimable) as f64 / w.total_file_bytes as f64
    };
    let user = (w.user_bytes > 0).then(|| reclaimable as f64 / w.user_bytes as f64);
    let size = report.totals.compressed_bytes;
    let failing: Vec<&Finding> = report.findings.iter().filter(|f| config.fails(f)).collect();
    vec![
        threshold("lowestEfficiency", config.lowest_efficiency, |t| {
            (
                efficiency >= t,
                format!("efficiency {efficiency:.4} (threshold {t})"),
            )
        }),
        threshold("highestWastedBytes", config.highest_wasted_bytes, |t| {
            (
                reclaimable <= t,
                format!("{reclaimable} reclaimable bytes (threshold {t})"),
            )
        }),
        threshold(
            "highestUserWastedPercent",
            config.highest_user_wasted_percent,
            |t| match user {
                Some(u) => (
                    u <= t,
                    format!("{u:.4} of user bytes reclaimable (threshold {t})"),
                ),
                None => (true, "the layers after the first add no file bytes".into()),
            },
        ),
        threshold("maxSize", config.max_size, |t| {
            (
                size <= t,
                format!("{size} compressed bytes (threshold {t})"),
            )
        }),
        GateCheck {
            name: "findings",
            status: if config.fail_on.is_empty() {
                "skip"
            } else if failing.is_empty() {
                "pass"
            } else {
                "fail"
            },
            detail: if failing.is_empty() {
                format!(
                    "{}, none failing",
                    crate::text::counted(report.findings.len() as u64, "finding", "findings")
                )
            } else {
                let codes: Vec<&str> = failing.iter().map(|f| f.rule.code()).collect();
                format!(
                    "{}: {}",
                    crate::text::counted(
                        failing.len() as u64,
                        "failing finding",
                        "failing findings"
                    ),
                    codes.join(", ")
                )
            },
        },
    ]
}

fn threshold<T: Copy>(
    name: &'static str,
    t: Option<T>,
    eval: impl FnOnce(T) -> (bool, String),
) -> GateCheck {
    match t {
        None => GateCheck {
            name,
            status: "skip",
            detail: "disabled".into(),
        },
        Some(t) => {
            let (ok, detail) = eval(t);
            GateCheck {
                name,
                status: if ok { "pass" } else { "fail" },
                detail,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_go_humanize() {
        assert_eq!(parse_bytes("20MB").unwrap(), 20_000_000);
        assert_eq!(parse_bytes("20 MiB").unwrap(), 20 << 20);
        assert_eq!(parse_bytes("1,000").unwrap(), 1000);
        assert_eq!(parse_bytes("1.5kb").unwrap(), 1500);
        assert_eq!(parse_bytes("7").unwrap(), 7);
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("3 parsecs").is_err());
    }

    #[test]
    fn dive_ci_files_are_read_as_dive_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".dive-ci");
        std::fs::write(
            &path,
            "rules:\n  # comment\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: disabled\n",
        )
        .unwrap();
        let c = GateConfig::from_dive_ci(&path).unwrap();
        assert_eq!(c.lowest_efficiency, Some(0.95));
        assert_eq!(c.highest_wasted_bytes, Some(20_000_000));
        assert_eq!(c.highest_user_wasted_percent, None);
        std::fs::write(&path, "rules:\n  lowestEfficiency: 2\n").unwrap();
        assert!(GateConfig::from_dive_ci(&path).is_err());
        // Keys left out keep dive's defaults.
        std::fs::write(&path, "rules:\n  highest-wasted-bytes: 1KiB\n").unwrap();
        let c = GateConfig::from_dive_ci(&path).unwrap();
        assert_eq!(
            (c.lowest_efficiency, c.highest_wasted_bytes),
            (Some(0.9), Some(1024))
        );
    }

    #[test]
    fn fail_on_takes_severities_codes_names_and_peer_ids() {
        let f = parse_fail_on(
            &["warning,IMG401".into(), "CIS-DI-0010".into()],
            "--fail-on",
        )
        .unwrap();
        assert!(f.contains(&FailOn::Severity(Severity::Warning)));
        assert!(f.contains(&FailOn::Rule(RuleId::MissingCaBundle)));
        assert!(f.contains(&FailOn::Rule(RuleId::SecretInEnv)));
        assert!(f.contains(&FailOn::Rule(RuleId::BuriedSecret)));
        assert!(parse_fail_on(&["IMG999".into()], "--fail-on").is_err());
    }

    #[test]
    fn inspect_table_of_gopack_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gopack.toml");
        std::fs::write(
            &path,
            "[inspect]\nfail-on = [\"warning\"]\nmax-size = \"50MB\"\nlowest-efficiency = 0.8\nignore-paths = [\"/var/lib/dpkg/**\"]\nignore-rules = [\"shell-present\"]\n",
        )
        .unwrap();
        let c = GateConfig::from_toml(&path).unwrap().unwrap();
        assert_eq!(c.max_size, Some(50_000_000));
        assert_eq!(c.ignore_rules, [RuleId::ShellPresent]);
        std::fs::write(&path, "[inspect]\nmax-sise = 3\n").unwrap();
        assert!(GateConfig::from_toml(&path).is_err());
        std::fs::write(&path, "[lint]\n").unwrap();
        assert!(GateConfig::from_toml(&path).unwrap().is_none());
    }
}
