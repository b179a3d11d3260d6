//! `.dockerignore`: pattern matching with Docker's semantics (`*` and `?` within one path
//! element, `**` across elements, `[...]` classes, `\` escapes, a leading `/` ignored, `!`
//! exceptions, the last matching pattern wins, a pattern matching a parent directory excludes
//! everything under it) and the GO4xx checks.
//!
//! Each pattern is compiled once by `globset` into a regular expression, so matching is linear
//! in the path length (a pattern like `*a*a*a*…b` cannot blow up as a backtracking matcher does).

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::model::{Args, Dockerfile};
use super::rules::RuleId;
use super::{Finding, FindingFile, LintInput};

/// One pattern line.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// A `!pattern` line: re-includes what earlier lines excluded.
    pub negated: bool,
    /// `None` when the pattern is not valid glob syntax (Docker refuses such a file; lint
    /// treats the line as matching nothing).
    matcher: Option<GlobMatcher>,
    /// 1-based line in the `.dockerignore`.
    pub line: usize,
    /// The pattern's bytes in the `.dockerignore` (`!` included, surrounding blanks not).
    pub span: std::ops::Range<usize>,
}

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Dockerignore {
    /// The pattern lines in file order (blank and `#` lines left out); the last match wins.
    pub patterns: Vec<Pattern>,
}

/// Cleans a pattern the way Docker does (filepath.Clean, leading `/` dropped).
fn clean(body: &str) -> String {
    let parts: Vec<&str> = body
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut out: Vec<&str> = Vec::new();
    for p in parts {
        if p == ".." {
            out.pop();
        } else {
            out.push(p);
        }
    }
    out.join("/")
}

impl Dockerignore {
    /// Parses `.dockerignore` text as Docker does (each pattern cleaned like Go's
    /// `filepath.Clean`, leading `/` dropped); never fails.
    pub fn parse(text: &str) -> Dockerignore {
        let mut patterns = Vec::new();
        let mut offset = 0;
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (negated, body) = match trimmed.strip_prefix('!') {
                Some(b) => (true, b.trim()),
                None => (false, trimmed),
            };
            let cleaned = clean(body);
            if cleaned.is_empty() {
                continue;
            }
            let matcher = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher());
            let lead = line.len() - line.trim_start().len();
            patterns.push(Pattern {
                negated,
                matcher,
                line: n + 1,
                span: start + lead..start + lead + trimmed.len(),
            });
        }
        Dockerignore { patterns }
    }

    /// Whether `path` (relative, `/`-separated) is excluded from the context. A path is also
    /// excluded when one of its parent directories is.
    pub fn excludes(&self, path: &str) -> bool {
        self.matching(path).is_some_and(|p| !p.negated)
    }

    /// The last pattern deciding `path`, if any.
    pub fn matching(&self, path: &str) -> Option<&Pattern> {
        let cleaned = clean(path);
        // The path and each of its parent directories.
        let prefixes: Vec<&str> = cleaned
            .match_indices('/')
            .map(|(i, _)| &cleaned[..i])
            .chain([cleaned.as_str()])
            .collect();
        self.patterns.iter().rev().find(|p| {
            p.matcher
                .as_ref()
                .is_some_and(|m| prefixes.iter().any(|x| m.is_match(x)))
        })
    }
}

/// Does the Dockerfile send context files into a stage (a COPY/ADD without `--from`)?
fn copies_context(df: &Dockerfile) -> bool {
    df.instructions.iter().any(|i| {
        matches!(i.keyword, "COPY" | "ADD")
            && i.flag("from").is_none()
            && matches!(&i.args, Args::Copy { sources, heredoc_sources, .. } if sources.len() > *heredoc_sources)
    })
}

/// Whether a COPY/ADD source takes the whole context or every top-level entry of it (`.`, `./`,
/// `*`, `./*`, `.*`), so `.git` and local files come along.
fn is_whole_context(source: &str) -> bool {
    let s = source.trim_start_matches("./").trim_end_matches('/');
    s.is_empty() || s == "." || s.starts_with('*') || s == ".*"
}

fn builds_go(df: &Dockerfile) -> bool {
    df.instructions.iter().any(|i| {
        i.keyword == "RUN"
            && super::rules::run_script(i, df.escape).is_some_and(|s| {
                super::shell::parse(&s.text).iter().any(|c| {
                    let c = c.unwrapped();
                    c.words.first().is_some_and(|w| w == "go")
                        && c.words
                            .get(1)
                            .is_some_and(|w| matches!(w.as_str(), "build" | "mod" | "install"))
                })
            })
    })
}

/// How many directory entries of the build context lint looks at, at most.
const MAX_CONTEXT_ENTRIES: usize = 50_000;

/// Go source files in the context (relative paths), at most `limit`, skipping what is ignored.
/// Symbolic links are not followed, and at most [`MAX_CONTEXT_ENTRIES`] directory entries are
/// looked at, so a huge context (linting in `/`) costs a bounded time.
fn go_sources(dir: &Path, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().take(MAX_CONTEXT_ENTRIES - seen).collect();
        seen += entries.len();
        if seen >= MAX_CONTEXT_ENTRIES {
            stack.clear();
        }
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.')
                || name == "vendor"
                || name == "testdata"
                || name == "node_modules"
            {
                continue;
            }
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push((e.path(), path));
            } else if name.ends_with(".go") && !name.ends_with("_test.go") {
                out.push(path);
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// Whether the build reads the repository itself: a RUN runs git on the context, or a COPY
/// names `.git`.
fn build_reads_git(df: &Dockerfile) -> bool {
    let runs_git = df.instructions.iter().any(|i| {
        i.keyword == "RUN"
            && super::rules::run_script(i, df.escape).is_some_and(|s| {
                super::shell::parse(&s.text).iter().any(|c| {
                    let c = c.unwrapped();
                    c.program() == Some("git")
                        && c.words.get(1).is_some_and(|w| {
                            matches!(
                                w.as_str(),
                                "describe"
                                    | "rev-parse"
                                    | "log"
                                    | "status"
                                    | "diff"
                                    | "show"
                                    | "rev-list"
                                    | "tag"
                                    | "symbolic-ref"
                                    | "branch"
                            )
                        })
                })
            })
    });
    let copies_git = df.instructions.iter().any(|i| {
        matches!(&i.args, Args::Copy { sources, .. } if i.flag("from").is_none()
            && sources.iter().any(|s| s.value.trim_end_matches('/').ends_with(".git")))
    });
    runs_git || copies_git
}

fn finding(
    code: RuleId,
    file: FindingFile,
    pos: (usize, usize, usize, usize),
    span: std::ops::Range<usize>,
    message: String,
) -> Finding {
    Finding {
        code,
        severity: code.info().severity,
        message,
        file,
        line: pos.0,
        column: pos.1,
        end_line: pos.2,
        end_column: pos.3,
        span,
        fix: None,
    }
}

/// The GO4xx checks. Findings about a missing or incomplete `.dockerignore` point at the
/// instruction that sends the context (the first COPY/ADD of it), which is where the files it
/// should have excluded land; findings about a pattern point at that pattern.
pub fn check(df: &Dockerfile, input: &LintInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !copies_context(df) {
        return out;
    }
    let first_copy = df
        .instructions
        .iter()
        .find(|i| {
            matches!(i.keyword, "COPY" | "ADD")
                && i.flag("from").is_none()
                && matches!(&i.args, Args::Copy { sources, heredoc_sources, .. } if sources.len() > *heredoc_sources)
        })
        .expect("copies_context found one");
    // The copy of the whole context, if any, shows best where .git and tests land.
    let whole_context_copy = df.instructions.iter().find(|i| {
        matches!(i.keyword, "COPY" | "ADD")
            && i.flag("from").is_none()
            && matches!(&i.args, Args::Copy { sources, .. } if sources.iter().any(|s| is_whole_context(&s.value)))
    });
    let context_copy = whole_context_copy.unwrap_or(first_copy);
    let at = |inst: &super::model::Instruction| {
        let span = super::rules::head(input.dockerfile, inst);
        let (l, c) = df.line_col(input.dockerfile, span.start);
        let (el, ec) = df.line_col(input.dockerfile, span.end);
        ((l, c, el, ec), span)
    };
    let Some(text) = input.dockerignore else {
        // BuildKit sends only what COPY names: without a copy of the whole context, no stray
        // file reaches the builder or the image.
        if whole_context_copy.is_none() {
            return out;
        }
        let (pos, span) = at(first_copy);
        out.push(finding(
            RuleId::GO401,
            FindingFile::Dockerfile,
            pos,
            span,
            "the build context has no .dockerignore: .git and local files are sent and copied"
                .into(),
        ));
        return out;
    };
    let di = Dockerignore::parse(text);
    let (pos, span) = at(context_copy);
    if whole_context_copy.is_some() && !di.excludes(".git") && !build_reads_git(df) {
        out.push(finding(
            RuleId::GO402,
            FindingFile::Dockerfile,
            pos,
            span.clone(),
            ".dockerignore does not exclude .git: the repository history is sent and copied here"
                .into(),
        ));
    }
    if !builds_go(df) {
        return out;
    }
    out.extend(kept_files(input, &di, pos, span));
    out.extend(excluded_sources(df, input, &di, text));
    out
}

/// GO403: test files, testdata and local build outputs the .dockerignore keeps.
fn kept_files(
    input: &LintInput<'_>,
    di: &Dockerignore,
    pos: (usize, usize, usize, usize),
    span: std::ops::Range<usize>,
) -> Option<Finding> {
    let mut kept = vec![];
    if !di.excludes("pkg/x_test.go") && !di.excludes("x_test.go") {
        kept.push("*_test.go");
    }
    if !di.excludes("testdata") && !di.excludes("pkg/testdata") {
        kept.push("testdata/");
    }
    if let Some(dir) = &input.context_dir {
        for out_dir in ["bin", "dist"] {
            if dir.join(out_dir).is_dir() && !di.excludes(out_dir) {
                kept.push(if out_dir == "bin" { "bin/" } else { "dist/" });
            }
        }
    }
    (!kept.is_empty()).then(|| {
        finding(
            RuleId::GO403,
            FindingFile::Dockerfile,
            pos,
            span,
            format!(
                ".dockerignore keeps {}: not needed to build, they only bust the cache",
                kept.join(", ")
            ),
        )
    })
}

/// GO404: patterns that exclude go.mod, go.sum or Go sources.
fn excluded_sources(
    df: &Dockerfile,
    input: &LintInput<'_>,
    di: &Dockerignore,
    text: &str,
) -> Vec<Finding> {
    let mut needed: Vec<(String, bool)> = vec![("go.mod".into(), true)];
    let copies_go_sum = df.instructions.iter().any(|i| {
        matches!(&i.args, Args::Copy { sources, .. } if i.flag("from").is_none()
            && sources.iter().any(|s| s.value.rsplit('/').next() == Some("go.sum")))
    });
    let go_sum_exists = input
        .context_dir
        .as_ref()
        .is_none_or(|d| d.join("go.sum").is_file());
    if copies_go_sum || go_sum_exists {
        needed.push(("go.sum".into(), true));
    }
    let ctx_sources = input
        .context_dir
        .as_deref()
        .map(|d| go_sources(d, 2000))
        .unwrap_or_default();
    if ctx_sources.is_empty() {
        // No context to look at: probe typical places, and name no file that may not exist.
        for probe in [
            "main.go",
            "cmd/app/main.go",
            "internal/x/x.go",
            "pkg/x/x.go",
        ] {
            needed.push((probe.into(), false));
        }
    } else {
        needed.extend(ctx_sources.into_iter().map(|p| (p, true)));
    }
    let mut out = Vec::new();
    let mut reported = std::collections::HashSet::new();
    for (path, real) in &needed {
        let Some(p) = di.matching(path).filter(|p| !p.negated) else {
            continue;
        };
        if !reported.insert(p.line) {
            continue;
        }
        let pat = &text[p.span.clone()];
        let lead = text[..p.span.start]
            .rsplit('\n')
            .next()
            .map_or(0, |s| s.chars().count());
        let what = if *real {
            path.clone()
        } else {
            "Go source files".into()
        };
        out.push(finding(
            RuleId::GO404,
            FindingFile::Dockerignore,
            (p.line, lead + 1, p.line, lead + 1 + pat.chars().count()),
            p.span.clone(),
            format!("`{pat}` excludes {what}, which the Go build needs"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_semantics() {
        let d = Dockerignore::parse(".git\n*.md\n!README.md\n**/*_test.go\nbin/\n/tmp\n");
        assert!(d.excludes(".git"));
        assert!(d.excludes(".git/HEAD"));
        assert!(d.excludes("CHANGES.md"));
        assert!(!d.excludes("README.md"));
        assert!(!d.excludes("docs/x.md"), "* does not cross directories");
        assert!(d.excludes("a/b/c_test.go"));
        assert!(d.excludes("x_test.go"), "** matches zero directories");
        assert!(d.excludes("bin/app"));
        assert!(d.excludes("tmp"));
        assert!(!d.excludes("main.go"));
        let d = Dockerignore::parse("/vendor\n**\n!go.mod\n!**/*.go\n");
        assert!(!d.excludes("vendor/a.go"));
        assert!(!d.excludes("go.mod") && !d.excludes("a/b.go") && d.excludes("README"));
    }

    #[test]
    fn pathological_patterns_match_in_linear_time() {
        // 51 bytes that took the old backtracking matcher forever.
        let pat = format!("{}b\n", "*a".repeat(25));
        let d = Dockerignore::parse(&pat);
        let start = std::time::Instant::now();
        assert!(!d.excludes(&"a".repeat(200)));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
