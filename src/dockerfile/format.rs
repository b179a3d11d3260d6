//! Output formats for lint results: text (rustc-style snippets), JSON (hadolint's fields) and
//! SARIF 2.1.0.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::{Value, json};

use super::{Finding, FindingFile, RULES, Severity};

/// The findings of one linted Dockerfile with the texts they point into.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The Dockerfile path as the user gave it (`-` for stdin).
    pub path: String,
    /// The Dockerfile text the findings' spans point into.
    pub text: String,
    /// The `.dockerignore` checked, if any.
    pub dockerignore_path: Option<String>,
    /// The `.dockerignore` text, when one was checked.
    pub dockerignore_text: Option<String>,
    /// The findings, sorted by file, line and code.
    pub findings: Vec<Finding>,
}

impl FileReport {
    fn path_of(&self, f: &Finding) -> &str {
        match f.file {
            FindingFile::Dockerfile => &self.path,
            FindingFile::Dockerignore => {
                self.dockerignore_path.as_deref().unwrap_or(".dockerignore")
            }
        }
    }
}

/// JSON: an array of `{file, line, column, level, code, message}` like `hadolint -f json`, with
/// `end_line`, `end_column` and `fix` added.
pub fn json(reports: &[FileReport]) -> String {
    let items: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                let mut v = json!({
                    "file": r.path_of(f),
                    "line": f.line,
                    "column": f.column,
                    "level": f.severity.as_str(),
                    "code": f.code.as_str(),
                    "message": f.message,
                    "end_line": f.end_line,
                    "end_column": f.end_column,
                });
                if let Some(fix) = &f.fix {
                    v["fix"] = Value::String(fix.clone());
                }
                v
            })
        })
        .collect();
    serde_json::to_string_pretty(&Value::Array(items)).expect("JSON values serialise")
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// SARIF 2.1.0 with every rule (help text included) and one result per finding.
pub fn sarif(reports: &[FileReport]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id.as_str(),
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "help": { "text": format!("{}\n\nFix: {}", r.explanation, r.fix) },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
                "properties": { "hadolint": r.hadolint },
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                let rule_index = RULES.iter().position(|x| x.id == f.code).unwrap_or(0);
                let mut result = json!({
                    "ruleId": f.code.as_str(),
                    "ruleIndex": rule_index,
                    "level": sarif_level(f.severity),
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(r.path_of(f)) },
                            "region": {
                                "startLine": f.line.max(1),
                                "startColumn": f.column.max(1),
                                "endLine": f.end_line.max(f.line).max(1),
                                "endColumn": f.end_column.max(1),
                            }
                        }
                    }],
                });
                if let Some(fix) = &f.fix {
                    result["fixes"] = json!([{
                        "description": { "text": format!("Replace with `{fix}`") },
                        "artifactChanges": [{
                            "artifactLocation": { "uri": uri(r.path_of(f)) },
                            "replacements": [{
                                "deletedRegion": {
                                    "startLine": f.line.max(1), "startColumn": f.column.max(1),
                                    "endLine": f.end_line.max(f.line).max(1), "endColumn": f.end_column.max(1),
                                },
                                "insertedContent": { "text": fix },
                            }],
                        }],
                    }]);
                }
                result
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gopack",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/gopack/gopack",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("JSON values serialise")
}

/// A relative URI reference for a path (spaces and `%` escaped, `\` turned into `/`).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Human output: one rustc-style diagnostic per finding, then a summary line.
pub fn text(reports: &[FileReport], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let mut counts = [0usize; 4];
    for r in reports {
        for f in &r.findings {
            counts[f.severity as usize] += 1;
            let level = match f.severity {
                Severity::Error => Level::ERROR,
                Severity::Warning => Level::WARNING,
                Severity::Info => Level::INFO,
                Severity::Style => Level::NOTE,
            };
            // A file that does not parse may not be a Dockerfile at all (a key, a password
            // file): its text is not shown, only the position and the parser's short excerpt.
            // (A flag BuildKit refuses is GO001 on a file that parsed: its line is shown.)
            let source = match f.file {
                _ if f.code == super::RuleId::GO001
                    && f.message.starts_with(super::PARSE_ERROR) =>
                {
                    None
                }
                FindingFile::Dockerfile => Some(r.text.as_str()),
                FindingFile::Dockerignore => r.dockerignore_text.as_deref(),
            };
            let source = source.map(super::input::sanitize);
            let message = super::input::sanitize(&f.message);
            let path = r.path_of(f);
            let title = level.primary_title(message.as_str()).id(f.code.as_str());
            let mut group = match source {
                Some(ref src) if !f.span.is_empty() && f.span.end <= src.len() => title.element(
                    Snippet::source(src.as_str())
                        .path(path)
                        .annotation(AnnotationKind::Primary.span(f.span.clone())),
                ),
                _ => title.element(
                    annotate_snippets::Origin::path(path)
                        .line(f.line.max(1))
                        .char_column(f.column.max(1)),
                ),
            };
            let info = f.code.info();
            group = group.element(Level::NOTE.message(format!(
                "{} (gopack lint --explain {})",
                info.summary, info.id
            )));
            group = group.element(Level::HELP.message(match &f.fix {
                Some(fix) => format!("replace with `{}`", crate::text::printable(fix, 400)),
                None => format!("fix: {}", info.fix),
            }));
            let report: Vec<Group<'_>> = vec![group];
            out.push_str(&renderer.render(&report));
            out.push_str("\n\n");
        }
    }
    let total: usize = counts.iter().sum();
    let files = reports.len();
    if total == 0 {
        out.push_str(&format!("{files} file(s) checked, no findings\n"));
    } else {
        out.push_str(&format!(
            "{files} file(s) checked: {} error(s), {} warning(s), {} info, {} style\n",
            counts[Severity::Error as usize],
            counts[Severity::Warning as usize],
            counts[Severity::Info as usize],
            counts[Severity::Style as usize],
        ));
    }
    out
}

/// `--explain ID`: the rule's summary, severity, hadolint equivalents and explanation.
pub fn explain(id: &str) -> Option<String> {
    let r = super::rule(id)?;
    let mut s = format!(
        "{} ({}, default severity {}): {}\n\n{}\n\nFix: {}\n",
        r.id, r.name, r.severity, r.summary, r.explanation, r.fix
    );
    if !r.hadolint.is_empty() {
        s.push_str(&format!(
            "\nSame meaning as hadolint {}; `# hadolint ignore=` pragmas for those apply.\n",
            r.hadolint.join(", ")
        ));
    }
    s.push_str(&format!("\nSilence it on one instruction with `# gopack ignore={}` on the line above, or in gopack.toml:\n  [lint]\n  ignore = [\"{}\"]\n", r.id, r.id));
    Some(s)
}
