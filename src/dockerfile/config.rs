//! The `[lint]` section of `gopack.toml`:
//!
//! ```toml
//! [lint]
//! ignore = ["GO106", "GO107"]
//! failure-threshold = "warning"   # error | warning | info | style | none
//!
//! [lint.severity]
//! GO103 = "warning"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Severity;

/// When lint exits non-zero: on findings at or above this severity, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Threshold {
    /// Fail on errors only.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on info, warnings and errors.
    Info,
    /// Fail on any finding.
    Style,
    /// Never fail because of findings.
    None,
}

impl Threshold {
    /// Whether a finding of this severity fails the run.
    pub fn fails(self, s: Severity) -> bool {
        match self {
            Threshold::None => false,
            Threshold::Error => s >= Severity::Error,
            Threshold::Warning => s >= Severity::Warning,
            Threshold::Info => s >= Severity::Info,
            Threshold::Style => true,
        }
    }
}

impl std::str::FromStr for Threshold {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(Threshold::Error),
            "warning" => Ok(Threshold::Warning),
            "info" => Ok(Threshold::Info),
            "style" => Ok(Threshold::Style),
            "none" => Ok(Threshold::None),
            _ => Err(format!(
                "unknown failure threshold `{s}` (expected error, warning, info, style or none)"
            )),
        }
    }
}

/// The `[lint]` table; every key optional, unknown keys and rule IDs refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintConfig {
    /// Rule IDs never reported (`GO106`), matched without regard to case.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity overrides by rule ID (`GO103 = "warning"`).
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// `failure-threshold`: when lint exits 1; `None` leaves the command line's choice.
    pub failure_threshold: Option<Threshold>,
}

#[derive(Debug, Deserialize)]
struct File {
    lint: Option<LintConfig>,
}

/// Why the `[lint]` configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, not regular, over 1 MiB, unreadable).
    #[error("cannot read {path}: {message}")]
    Read {
        /// The `gopack.toml` file.
        path: PathBuf,
        /// Why it could not be read.
        message: String,
    },
    /// Not valid TOML, an unknown key, or an unknown rule ID.
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// The `gopack.toml` file.
        path: PathBuf,
        /// What is wrong, naming the key or rule.
        message: String,
    },
}

impl LintConfig {
    /// Parses the `[lint]` table of a gopack.toml text (other tables are left to their owners).
    pub fn from_toml(text: &str, path: &Path) -> Result<LintConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.message().to_string()))?;
        let Some(lint) = table.get("lint") else {
            return Ok(LintConfig::default());
        };
        let wrapped = toml::Table::from_iter([("lint".to_string(), lint.clone())]);
        let file: File = wrapped
            .try_into()
            .map_err(|e: toml::de::Error| invalid(format!("[lint]: {}", e.message())))?;
        let cfg = file.lint.unwrap_or_default();
        for id in cfg.ignore.iter().chain(cfg.severity.keys()) {
            if super::rule(id).is_none() {
                return Err(invalid(format!(
                    "[lint]: unknown rule `{id}` (see `gopack lint --explain`)"
                )));
            }
        }
        Ok(cfg)
    }

    /// Reads `path` (a regular file of at most 1 MiB; a symlink must stay in its directory).
    pub fn load(path: &Path) -> Result<LintConfig, ConfigError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let text = super::input::read_text(
            path,
            super::input::Origin::Found,
            dir,
            super::input::MAX_SIDE_FILE_BYTES,
        )
        .map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// The nearest `gopack.toml` in `dir` or its ancestors.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        dir.ancestors()
            .map(|d| d.join("gopack.toml"))
            .find(|p| p.is_file())
    }

    /// Whether rule `code` is in `ignore` (case-insensitive).
    pub fn ignores(&self, code: &str) -> bool {
        self.ignore.iter().any(|i| i.eq_ignore_ascii_case(code))
    }

    /// The severity `[lint.severity]` sets for rule `code` (case-insensitive), if any.
    pub fn severity_for(&self, code: &str) -> Option<Severity> {
        self.severity
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(code))
            .map(|(_, v)| *v)
    }
}
