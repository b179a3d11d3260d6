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

/// The `[lint]` settings, read from [`crate::config::file::LintSection`].
#[derive(Debug, Clone, Default)]
pub struct LintConfig {
    /// Rule IDs never reported (`GO106`), matched without regard to case.
    pub ignore: Vec<String>,
    /// Severity overrides by rule ID (`GO103 = "warning"`).
    pub severity: BTreeMap<String, Severity>,
    /// `failure-threshold`: when lint exits 1; `None` leaves the command line's choice.
    pub failure_threshold: Option<Threshold>,
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
    /// Parses the `[lint]` table of a gopack.toml text, through the one gopack.toml parser
    /// (so the whole file is checked: unknown keys and wrong types anywhere are errors).
    pub fn from_toml(text: &str, path: &Path) -> Result<LintConfig, ConfigError> {
        let file = crate::config::ConfigFile::parse(text, path).map_err(|e| match e {
            crate::config::ConfigFileError::Invalid { path, message } => {
                ConfigError::Invalid { path, message }
            }
            crate::config::ConfigFileError::Read { path, reason } => ConfigError::Read {
                path,
                message: reason,
            },
        })?;
        Self::from_section(file.lint.as_ref()).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// The lint settings of a `[lint]` table (the default when there is none); `Err` names
    /// an unknown rule.
    pub fn from_section(
        section: Option<&crate::config::file::LintSection>,
    ) -> Result<LintConfig, String> {
        use crate::config::file::{SeverityName, ThresholdName};
        let Some(section) = section else {
            return Ok(LintConfig::default());
        };
        let severity = |s: SeverityName| match s {
            SeverityName::Error => Severity::Error,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Info => Severity::Info,
            SeverityName::Style => Severity::Style,
        };
        let cfg = LintConfig {
            ignore: section.ignore.clone(),
            severity: section
                .severity
                .iter()
                .map(|(k, v)| (k.clone(), severity(*v)))
                .collect(),
            failure_threshold: section.failure_threshold.map(|t| match t {
                ThresholdName::Error => Threshold::Error,
                ThresholdName::Warning => Threshold::Warning,
                ThresholdName::Info => Threshold::Info,
                ThresholdName::Style => Threshold::Style,
                ThresholdName::None => Threshold::None,
            }),
        };
        for id in cfg.ignore.iter().chain(cfg.severity.keys()) {
            if super::rule(id).is_none() {
                return Err(format!(
                    "[lint]: unknown rule `{id}` (see `gopack lint --explain`)"
                ));
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
        crate::config::file::discover(dir)
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
