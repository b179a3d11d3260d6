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
    Error,
    Warning,
    Info,
    Style,
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintConfig {
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    pub failure_threshold: Option<Threshold>,
}

#[derive(Debug, Deserialize)]
struct File {
    lint: Option<LintConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
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

    pub fn ignores(&self, code: &str) -> bool {
        self.ignore.iter().any(|i| i.eq_ignore_ascii_case(code))
    }

    pub fn severity_for(&self, code: &str) -> Option<Severity> {
        self.severity
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(code))
            .map(|(_, v)| *v)
    }
}
