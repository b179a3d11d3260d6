//! `.dockerignore`: pattern matching with Docker's semantics (`*`, `?`, `**`, `!` exceptions,
//! last match wins) and the GO4xx checks.

use std::path::Path;

use super::model::{Args, Dockerfile};
use super::{Finding, FindingFile, LintInput};

/// One pattern line.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub negated: bool,
    /// Path elements of the cleaned pattern.
    parts: Vec<String>,
    pub line: usize,
    pub span: std::ops::Range<usize>,
}

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Dockerignore {
    pub patterns: Vec<Pattern>,
}

impl Dockerignore {
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
            let parts: Vec<String> = body
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .map(str::to_string)
                .collect();
            if parts.is_empty() {
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            patterns.push(Pattern {
                negated,
                parts,
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
        let elems: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut decided = None;
        for p in &self.patterns {
            // A pattern matches the path or any of its parents.
            let hit = (1..=elems.len()).any(|n| match_parts(&p.parts, &elems[..n]));
            if hit {
                decided = Some(p);
            }
        }
        decided
    }
}

fn match_parts(pat: &[String], path: &[&str]) -> bool {
    match pat.first() {
        None => path.is_empty(),
        Some(p) if p == "**" => (0..=path.len()).any(|skip| match_parts(&pat[1..], &path[skip..])),
        Some(p) => !path.is_empty() && glob(p, path[0]) && match_parts(&pat[1..], &path[1..]),
    }
}

/// Glob on one path element: `*`, `?`, `[...]` classes, `\` escapes.
fn glob(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|i| glob_at(&p[1..], &t[i..])),
        Some('?') => !t.is_empty() && glob_at(&p[1..], &t[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return t.first() == Some(&'[') && glob_at(&p[1..], &t[1..]);
            };
            let Some(&c) = t.first() else { return false };
            let class = &p[1..close];
            let (neg, class) = match class.first() {
                Some('^' | '!') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != neg && glob_at(&p[close + 1..], &t[1..])
        }
        Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && glob_at(&p[2..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && glob_at(&p[1..], &t[1..]),
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

fn builds_go(df: &Dockerfile) -> bool {
    df.instructions.iter().any(|i| {
        i.keyword == "RUN"
            && super::rules::run_script(i, df.escape).is_some_and(|(s, _)| {
                super::shell::parse(&s).iter().any(|c| {
                    let c = c.unwrapped();
                    c.words.first().is_some_and(|w| w == "go")
                        && c.words
                            .get(1)
                            .is_some_and(|w| matches!(w.as_str(), "build" | "mod" | "install"))
                })
            })
    })
}

/// Go source files in the context (relative paths), at most `limit`, skipping what is ignored.
fn go_sources(dir: &Path, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().collect();
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

/// The GO4xx checks. Findings on `.dockerignore` lines point into that file; "missing"
/// points at the first COPY of the Dockerfile.
pub fn check(df: &Dockerfile, input: &LintInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !copies_context(df) {
        return out;
    }
    let first_copy = df
        .instructions
        .iter()
        .find(|i| matches!(i.keyword, "COPY" | "ADD") && i.flag("from").is_none())
        .expect("copies_context found one");
    let head_end = input.dockerfile[first_copy.span.clone()]
        .find('\n')
        .map_or(first_copy.span.end, |i| first_copy.span.start + i);
    let (line, column) = df.line_col(input.dockerfile, first_copy.span.start);
    let (end_line, end_column) = df.line_col(input.dockerfile, head_end);
    let mk = |code: &'static str,
              file: FindingFile,
              pos: (usize, usize, usize, usize),
              span,
              message: String| {
        let info = super::rule(code).expect("code in RULES");
        Finding {
            code: info.id,
            severity: info.severity,
            message,
            file,
            line: pos.0,
            column: pos.1,
            end_line: pos.2,
            end_column: pos.3,
            span,
            fix: None,
        }
    };
    let Some(text) = input.dockerignore else {
        out.push(mk(
            "GO401",
            FindingFile::Dockerfile,
            (line, column, end_line, end_column),
            first_copy.span.start..head_end,
            "the build context has no .dockerignore: .git and local files are sent and copied"
                .into(),
        ));
        return out;
    };
    let di = Dockerignore::parse(text);
    let file_start = (1, 1, 1, 1);
    if !di.excludes(".git") {
        out.push(mk(
            "GO402",
            FindingFile::Dockerignore,
            file_start,
            0..0,
            ".dockerignore does not exclude .git".into(),
        ));
    }
    let go = builds_go(df);
    if go {
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
        if !kept.is_empty() {
            out.push(mk(
                "GO403",
                FindingFile::Dockerignore,
                file_start,
                0..0,
                format!(
                    ".dockerignore keeps {}: not needed to build, they only bust the cache",
                    kept.join(", ")
                ),
            ));
        }
        let mut needed: Vec<String> = vec!["go.mod".into()];
        let ctx_sources = input
            .context_dir
            .as_deref()
            .map(|d| go_sources(d, 2000))
            .unwrap_or_default();
        let copies_go_sum = df.instructions.iter().any(|i| {
            matches!(&i.args, Args::Copy { sources, .. } if i.flag("from").is_none()
                && sources.iter().any(|s| s.value.rsplit('/').next() == Some("go.sum")))
        });
        let go_sum_exists = input
            .context_dir
            .as_ref()
            .is_none_or(|d| d.join("go.sum").is_file());
        if copies_go_sum || go_sum_exists {
            needed.push("go.sum".into());
        }
        if ctx_sources.is_empty() {
            needed.push("main.go".into());
            needed.push("internal/x/x.go".into());
        } else {
            needed.extend(ctx_sources);
        }
        let mut reported = std::collections::HashSet::new();
        for path in &needed {
            if let Some(p) = di.matching(path).filter(|p| !p.negated) {
                if !reported.insert(p.line) {
                    continue;
                }
                let pat = &text[p.span.clone()];
                let col_end = 1 + pat.chars().count();
                let lead = text[..p.span.start]
                    .rsplit('\n')
                    .next()
                    .map_or(0, |s| s.chars().count());
                out.push(mk(
                    "GO404",
                    FindingFile::Dockerignore,
                    (p.line, lead + 1, p.line, lead + col_end),
                    p.span.clone(),
                    format!("`{pat}` excludes {path}, which the Go build needs"),
                ));
            }
        }
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
    }
}
