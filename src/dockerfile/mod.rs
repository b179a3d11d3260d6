//! Dockerfiles: a parser wrapper with spans ([`model`]), lint rules with Go expertise
//! ([`rules`]), `.dockerignore` checks ([`ignore`]), pragmas ([`pragma`]), the `[lint]` section
//! of `gopack.toml` ([`config`]), output formats ([`format`](mod@format)) and the generator
//! ([`generate`]).
//!
//! [`lint`] is a pure function of the Dockerfile text, the optional `.dockerignore`, and the
//! options: it reads no files itself except, when a build context directory is given, the
//! names of files in it (to know which sources a `.dockerignore` must keep).

pub mod config;
pub mod format;
pub mod generate;
pub mod ignore;
pub mod input;
pub mod model;
pub mod pragma;
pub mod rules;
pub mod shell;
pub mod syntax;

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;

pub use config::LintConfig;
pub use model::{Dockerfile, ParseError};
pub use rules::{RULES, RuleId, RuleInfo};

/// How bad a finding is. Ordered: `Style < Info < Warning < Error`. Same names as hadolint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A matter of taste or convention.
    Style,
    /// Worth knowing; the image works.
    Info,
    /// Likely a problem: a bigger, slower or less safe image, or a build that may break.
    Warning,
    /// The build or the image is broken or unsafe.
    Error,
}

impl Severity {
    /// The lowercase name used in output and config: `style`, `info`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Style => "style",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not `error`, `warning`, `info` or `style` (the text given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}` (expected error, warning, info or style)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(Severity::Error),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            "style" => Ok(Severity::Style),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}

/// Which file a finding points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingFile {
    /// The Dockerfile linted.
    Dockerfile,
    /// The `.dockerignore` of its build context.
    Dockerignore,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub code: RuleId,
    /// Its severity after the rule's own choice and `[lint.severity]` overrides.
    pub severity: Severity,
    /// What is wrong here, in one or two sentences.
    pub message: String,
    /// Which file `span` and the positions are in.
    pub file: FindingFile,
    /// 1-based position of the start of `span`.
    pub line: usize,
    /// 1-based column, in characters, of the start of `span`.
    pub column: usize,
    /// 1-based line of the end of `span`.
    pub end_line: usize,
    /// 1-based column, in characters, of the end of `span` (exclusive).
    pub end_column: usize,
    /// Byte span in the file the finding points into.
    pub span: Range<usize>,
    /// A suggested replacement text for `span`, when one is safe.
    pub fix: Option<String>,
}

/// What lint knows about the program being built, when a plan is available. `None` means
/// unknown, and the rules that depend on it either stay quiet or soften their severity.
#[derive(Debug, Clone, Default)]
pub struct ProgramFacts {
    /// The module needs cgo (from `go list`). `Some(false)` makes cgo-off advice certain.
    pub needs_cgo: Option<bool>,
    /// The program makes TLS connections (loads system roots).
    pub needs_tls: Option<bool>,
}

/// Everything `lint` looks at.
#[derive(Debug, Clone, Default)]
pub struct LintInput<'a> {
    /// The Dockerfile text.
    pub dockerfile: &'a str,
    /// The `.dockerignore` text, or `None` when the context has none.
    pub dockerignore: Option<&'a str>,
    /// Whether `.dockerignore` checks apply (off when linting stdin or with `--no-dockerignore`).
    pub check_dockerignore: bool,
    /// The build context directory, to learn which source files exist.
    pub context_dir: Option<PathBuf>,
    /// What is known about the Go program built (cgo, TLS), when a plan was made.
    pub facts: ProgramFacts,
}

/// Lints one Dockerfile. Config ignores, severity overrides and pragmas are applied; the
/// failure threshold is the caller's business. Findings are sorted by file, line and code.
pub fn lint(input: &LintInput<'_>, config: &LintConfig) -> Vec<Finding> {
    let raw = match Dockerfile::parse(input.dockerfile) {
        Ok(df) if df.instructions.len() > MAX_INSTRUCTIONS || df.stages.len() > MAX_STAGES => {
            let mut too_large = parse_error_finding(
                input.dockerfile,
                &ParseError {
                    message: String::new(),
                    line: 1,
                    column: 1,
                },
            );
            too_large.message = format!(
                "not linted: {} instructions in {} stages; gopack lints Dockerfiles of at most \
                 {MAX_INSTRUCTIONS} instructions and {MAX_STAGES} stages",
                df.instructions.len(),
                df.stages.len()
            );
            vec![too_large]
        }
        Ok(df) => {
            let mut f = rules::check(&df, input);
            if input.check_dockerignore {
                f.extend(ignore::check(&df, input));
            }
            let pragmas = pragma::Pragmas::scan(input.dockerfile, &df);
            f.retain(|x| x.file != FindingFile::Dockerfile || !pragmas.suppresses(x.code, x.line));
            f.retain(|x| !pragmas.globally_ignored(x.code));
            f
        }
        Err(e) => vec![parse_error_finding(input.dockerfile, &e)],
    };
    let mut findings: Vec<Finding> = raw
        .into_iter()
        .filter(|f| !config.ignores(f.code.as_str()))
        .map(|mut f| {
            if let Some(s) = config.severity_for(f.code.as_str()) {
                f.severity = s;
            }
            f
        })
        .collect();
    findings.sort_by(|a, b| {
        (a.file as u8, a.line, a.column, a.code).cmp(&(b.file as u8, b.line, b.column, b.code))
    });
    findings.dedup_by(|a, b| {
        a.code == b.code && a.line == b.line && a.file == b.file && a.message == b.message
    });
    findings
}

/// Most instructions lint checks in one Dockerfile (real ones have hundreds); some rules
/// compare instructions with the ones before them, so the bound keeps lint's time bounded.
pub const MAX_INSTRUCTIONS: usize = 5_000;

/// Most stages lint checks in one Dockerfile (stage references are followed stage by stage).
pub const MAX_STAGES: usize = 500;

/// How the message of a GO001 finding for a file that does not parse starts.
pub(crate) const PARSE_ERROR: &str = "cannot parse the Dockerfile";

fn parse_error_finding(text: &str, e: &ParseError) -> Finding {
    let start = text
        .split_inclusive('\n')
        .take(e.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let line_len = text[start.min(text.len())..]
        .find('\n')
        .unwrap_or(text.len() - start.min(text.len()));
    Finding {
        code: RuleId::GO001,
        severity: Severity::Error,
        message: format!("{PARSE_ERROR}: {}", e.message),
        file: FindingFile::Dockerfile,
        line: e.line,
        column: e.column,
        end_line: e.line,
        end_column: e.column + line_len,
        span: start.min(text.len())..(start + line_len).min(text.len()),
        fix: None,
    }
}

/// The rule with this ID (case-insensitive), for `--explain` and SARIF.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    RuleId::parse(id).map(RuleId::info)
}
