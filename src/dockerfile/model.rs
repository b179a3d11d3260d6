//! The parsed Dockerfile as the rules see it: owned instructions with byte spans and line
//! numbers, stages with their resolved base, and global `ARG`s expanded in `FROM`.
//!
//! Parsing is done by the `parse-dockerfile` crate; this module only flattens its tree into
//! plain data, so that the rules never deal with parser lifetimes.

use std::ops::Range;

use parse_dockerfile as pd;

/// A Dockerfile that could not be parsed: the parser's message and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line})")]
pub struct ParseError {
    pub message: String,
    /// 1-based line; 1 when the parser could not tell.
    pub line: usize,
    /// 1-based column (the parser reports lines precisely; columns are best effort).
    pub column: usize,
}

/// A piece of text from the Dockerfile with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    pub span: Range<usize>,
    pub value: String,
}

impl Spanned {
    fn from_pd(s: &pd::UnescapedString<'_>) -> Self {
        Spanned {
            span: s.span.clone(),
            value: s.value.to_string(),
        }
    }
}

/// An option flag such as `--from=builder` or `--mount=type=cache,target=/x`.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub span: Range<usize>,
}

/// The arguments of RUN, CMD and ENTRYPOINT.
#[derive(Debug, Clone)]
pub enum CommandForm {
    /// JSON array form: no shell is involved.
    Exec(Vec<String>),
    /// Shell form: the script as written (escapes and continuations kept).
    Shell(String),
}

/// What follows the keyword, in the shape each instruction family needs.
#[derive(Debug, Clone)]
pub enum Args {
    From {
        image: Spanned,
        alias: Option<Spanned>,
    },
    /// RUN, CMD, ENTRYPOINT, HEALTHCHECK CMD. `heredocs` are the bodies of `<<EOF` documents.
    Command {
        form: CommandForm,
        span: Range<usize>,
        heredocs: Vec<String>,
    },
    /// COPY and ADD. `heredoc_sources` counts inline here-document sources.
    Copy {
        sources: Vec<Spanned>,
        dest: Spanned,
        heredoc_sources: usize,
    },
    /// ARG, ENV, LABEL, USER, WORKDIR, STOPSIGNAL, MAINTAINER: the raw argument text.
    Text(Spanned),
    /// EXPOSE, SHELL, VOLUME.
    List(Vec<Spanned>),
    /// `ONBUILD <instruction>`.
    Onbuild(Box<Instruction>),
    /// `HEALTHCHECK NONE`.
    None,
}

/// One instruction, flattened.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper-case keyword: `FROM`, `RUN`, …
    pub keyword: &'static str,
    /// From the keyword to the end of the last argument (here-documents included).
    pub span: Range<usize>,
    /// 1-based first and last line.
    pub line: usize,
    pub end_line: usize,
    pub flags: Vec<Flag>,
    pub args: Args,
    /// Index of the stage this instruction belongs to; `None` for global ARGs before any FROM.
    pub stage: Option<usize>,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The raw argument text of ARG/ENV/USER/… instructions.
    pub fn text(&self) -> Option<&Spanned> {
        match &self.args {
            Args::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The image a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    Image(ImageRef),
}

/// `[registry/]repo[:tag][@digest]`, after ARG expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag and digest, e.g. `gcr.io/distroless/static-debian12`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The reference still holds an unexpanded variable (`$X` with no default).
    pub unresolved: bool,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let unresolved = reference.contains('$');
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        // A tag is a ':' after the last '/', so `localhost:5000/app` has no tag.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        ImageRef {
            name: name.to_string(),
            tag,
            digest,
            unresolved,
        }
    }

    /// The last path element of the repository: `golang` for `docker.io/library/golang`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// One build stage: its FROM, its name, its base, and its instructions.
#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// The image reference as written, after global ARG expansion.
    pub image: String,
    pub base: Base,
    /// Index of the FROM instruction in `Dockerfile::instructions`.
    pub from: usize,
    /// Instructions of this stage, FROM excluded.
    pub body: Range<usize>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// Global ARGs (before the first FROM) with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    pub escape: char,
    line_starts: Vec<usize>,
}

impl Dockerfile {
    /// Parses `text`; an error carries the parser's message and line.
    pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
        let line_starts = line_starts(text);
        let parsed = pd::parse(text).map_err(|e| ParseError {
            message: format!("{e:#}"),
            line: e.line().max(1),
            // The crate's column is exact only on the first line; report the line start
            // otherwise rather than a wrong column.
            column: if e.line() <= 1 { e.column().max(1) } else { 1 },
        })?;
        let escape = parsed
            .parser_directives
            .escape
            .as_ref()
            .map_or('\\', |d| d.value.value);
        let mut df = Dockerfile {
            instructions: Vec::with_capacity(parsed.instructions.len()),
            stages: Vec::new(),
            global_args: Vec::new(),
            escape,
            line_starts,
        };
        for inst in &parsed.instructions {
            let flat = df.flatten(inst, text);
            df.instructions.push(flat);
        }
        df.build_stages();
        Ok(df)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        line_col(&self.line_starts, text, offset)
    }

    /// The last stage: what `docker build` produces without `--target`.
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// Instructions of a stage, FROM excluded.
    pub fn stage_body(&self, stage: &Stage) -> &[Instruction] {
        &self.instructions[stage.body.clone()]
    }

    /// The stages from `stage` back through the stages it is based on (`FROM builder AS x`).
    pub fn stage_chain(&self, stage: usize) -> Vec<usize> {
        let mut chain = vec![stage];
        let mut cur = stage;
        while let Base::Stage(parent) = self.stages[cur].base {
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            cur = parent;
        }
        chain
    }

    /// The base at the root of a stage chain (scratch or an image).
    pub fn root_base(&self, stage: usize) -> &Base {
        let chain = self.stage_chain(stage);
        &self.stages[*chain.last().unwrap_or(&stage)].base
    }

    /// Finds a stage by `--from` value: a name or a numeric index.
    pub fn stage_by_ref(&self, reference: &str) -> Option<usize> {
        if let Ok(i) = reference.parse::<usize>() {
            return (i < self.stages.len()).then_some(i);
        }
        self.stages.iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(reference))
        })
    }

    fn flatten(&self, inst: &pd::Instruction<'_>, text: &str) -> Instruction {
        use pd::Instruction as I;
        let (keyword, kw_span, flags, args): (&'static str, Range<usize>, Vec<Flag>, Args) =
            match inst {
                I::Add(i) => (
                    "ADD",
                    i.add.span.clone(),
                    flags(&i.options),
                    copy_args(&i.src, &i.dest),
                ),
                I::Copy(i) => (
                    "COPY",
                    i.copy.span.clone(),
                    flags(&i.options),
                    copy_args(&i.src, &i.dest),
                ),
                I::Arg(i) => (
                    "ARG",
                    i.arg.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                I::Cmd(i) => (
                    "CMD",
                    i.cmd.span.clone(),
                    vec![],
                    command_args(&i.arguments, &[]),
                ),
                I::Entrypoint(i) => (
                    "ENTRYPOINT",
                    i.entrypoint.span.clone(),
                    vec![],
                    command_args(&i.arguments, &[]),
                ),
                I::Run(i) => (
                    "RUN",
                    i.run.span.clone(),
                    flags(&i.options),
                    command_args(&i.arguments, &i.here_docs),
                ),
                I::Env(i) => (
                    "ENV",
                    i.env.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                I::Expose(i) => (
                    "EXPOSE",
                    i.expose.span.clone(),
                    vec![],
                    Args::List(i.arguments.iter().map(Spanned::from_pd).collect()),
                ),
                I::From(i) => (
                    "FROM",
                    i.from.span.clone(),
                    flags(&i.options),
                    Args::From {
                        image: Spanned::from_pd(&i.image),
                        alias: i.as_.as_ref().map(|(_, n)| Spanned::from_pd(n)),
                    },
                ),
                I::Healthcheck(i) => {
                    let args = match &i.arguments {
                        pd::HealthcheckArguments::Cmd { arguments, .. } => {
                            command_args(arguments, &[])
                        }
                        _ => Args::None,
                    };
                    (
                        "HEALTHCHECK",
                        i.healthcheck.span.clone(),
                        flags(&i.options),
                        args,
                    )
                }
                I::Label(i) => (
                    "LABEL",
                    i.label.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                I::Maintainer(i) => (
                    "MAINTAINER",
                    i.maintainer.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.name)),
                ),
                I::Onbuild(i) => {
                    let inner = self.flatten(&i.instruction, text);
                    (
                        "ONBUILD",
                        i.onbuild.span.clone(),
                        vec![],
                        Args::Onbuild(Box::new(inner)),
                    )
                }
                I::Shell(i) => (
                    "SHELL",
                    i.shell.span.clone(),
                    vec![],
                    Args::List(i.arguments.iter().map(Spanned::from_pd).collect()),
                ),
                I::Stopsignal(i) => (
                    "STOPSIGNAL",
                    i.stopsignal.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                I::User(i) => (
                    "USER",
                    i.user.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                I::Volume(i) => {
                    let items = match &i.arguments {
                        pd::JsonOrStringArray::Json(a) => {
                            a.value.iter().map(Spanned::from_pd).collect()
                        }
                        pd::JsonOrStringArray::String(a) => {
                            a.iter().map(Spanned::from_pd).collect()
                        }
                    };
                    ("VOLUME", i.volume.span.clone(), vec![], Args::List(items))
                }
                I::Workdir(i) => (
                    "WORKDIR",
                    i.workdir.span.clone(),
                    vec![],
                    Args::Text(Spanned::from_pd(&i.arguments)),
                ),
                // `Instruction` is non-exhaustive: a keyword added by a newer parser is kept as an
                // instruction without arguments rather than dropped.
                _ => ("UNKNOWN", 0..0, vec![], Args::None),
            };
        let mut end = args_end(&args, &flags).max(kw_span.end);
        let has_heredoc = match &args {
            Args::Command { heredocs, .. } => !heredocs.is_empty(),
            Args::Copy {
                heredoc_sources, ..
            } => *heredoc_sources > 0,
            _ => false,
        };
        if has_heredoc {
            end = through_delimiter_line(text, end);
        }
        let start = kw_span.start;
        let (line, _) = line_col(&self.line_starts, text, start);
        let (end_line, _) = line_col(&self.line_starts, text, end.saturating_sub(1).max(start));
        Instruction {
            keyword,
            span: start..end,
            line,
            end_line,
            flags,
            args,
            stage: None,
        }
    }

    fn build_stages(&mut self) {
        let mut current: Option<usize> = None;
        for idx in 0..self.instructions.len() {
            if self.instructions[idx].keyword == "FROM" {
                if let Some(prev) = current {
                    self.stages[prev].body.end = idx;
                }
                let (image_raw, alias) = match &self.instructions[idx].args {
                    Args::From { image, alias } => {
                        (image.value.clone(), alias.as_ref().map(|a| a.value.clone()))
                    }
                    _ => unreachable!("FROM always has From args"),
                };
                let image = expand_args(&image_raw, &self.global_args);
                let base = if image.eq_ignore_ascii_case("scratch") {
                    Base::Scratch
                } else if let Some(i) = self.stage_by_ref_before(&image, self.stages.len()) {
                    Base::Stage(i)
                } else {
                    Base::Image(ImageRef::parse(&image))
                };
                let index = self.stages.len();
                self.stages.push(Stage {
                    index,
                    name: alias,
                    image,
                    base,
                    from: idx,
                    body: idx + 1..idx + 1,
                });
                current = Some(index);
            } else if current.is_none() && self.instructions[idx].keyword == "ARG" {
                let raw = self.instructions[idx]
                    .text()
                    .map(|t| t.value.clone())
                    .unwrap_or_default();
                for (name, value) in parse_assignments(&raw) {
                    self.global_args.push((name, value));
                }
            }
            self.instructions[idx].stage = current;
        }
        if let Some(prev) = current {
            self.stages[prev].body.end = self.instructions.len();
        }
    }

    fn stage_by_ref_before(&self, name: &str, before: usize) -> Option<usize> {
        self.stages[..before].iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }
}

fn flags(options: &[pd::Flag<'_>]) -> Vec<Flag> {
    options
        .iter()
        .map(|f| Flag {
            name: f.name.value.to_string(),
            value: f.value.as_ref().map(|v| v.value.to_string()),
            span: f.span(),
        })
        .collect()
}

fn copy_args(src: &[pd::Source<'_>], dest: &pd::UnescapedString<'_>) -> Args {
    let mut sources = Vec::new();
    let mut heredoc_sources = 0;
    for s in src {
        match s {
            pd::Source::Path(p) => sources.push(Spanned::from_pd(p)),
            pd::Source::HereDoc(h) => {
                heredoc_sources += 1;
                sources.push(Spanned {
                    span: h.span.clone(),
                    value: String::new(),
                });
            }
            _ => {}
        }
    }
    Args::Copy {
        sources,
        dest: Spanned::from_pd(dest),
        heredoc_sources,
    }
}

fn command_args(cmd: &pd::Command<'_>, heredocs: &[pd::HereDoc<'_>]) -> Args {
    let bodies = heredocs.iter().map(|h| h.value.to_string()).collect();
    let (form, span) = match cmd {
        pd::Command::Exec(a) => (
            CommandForm::Exec(a.value.iter().map(|s| s.value.to_string()).collect()),
            a.span.clone(),
        ),
        pd::Command::Shell(s) => (CommandForm::Shell(s.value.to_string()), s.span.clone()),
        _ => (CommandForm::Exec(vec![]), 0..0),
    };
    let span = heredocs
        .iter()
        .fold(span, |acc, h| acc.start..acc.end.max(h.span.end));
    Args::Command {
        form,
        span,
        heredocs: bodies,
    }
}

fn args_end(args: &Args, flags: &[Flag]) -> usize {
    let flags_end = flags.iter().map(|f| f.span.end).max().unwrap_or(0);
    let args_end = match args {
        Args::From { image, alias } => alias.as_ref().map_or(image.span.end, |a| a.span.end),
        Args::Command { span, .. } => span.end,
        Args::Copy { sources, dest, .. } => sources
            .iter()
            .map(|s| s.span.end)
            .chain([dest.span.end])
            .max()
            .unwrap_or(0),
        Args::Text(t) => t.span.end,
        Args::List(l) => l.iter().map(|s| s.span.end).max().unwrap_or(0),
        Args::Onbuild(i) => i.span.end,
        Args::None => 0,
    };
    flags_end.max(args_end)
}

/// A here-document's span ends with its body; the instruction goes on to the end of the
/// delimiter line that follows (as BuildKit counts it).
fn through_delimiter_line(text: &str, body_end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut p = body_end.min(bytes.len());
    if p > 0 && bytes[p - 1] != b'\n' {
        p = text[p..].find('\n').map_or(bytes.len(), |i| p + i + 1);
    }
    text[p..].find('\n').map_or(bytes.len(), |i| p + i)
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_col(starts: &[usize], text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let line = starts.partition_point(|&s| s <= offset).max(1);
    let start = starts[line - 1];
    let column = text
        .get(start..offset)
        .map_or(offset - start, |s| s.chars().count())
        + 1;
    (line, column)
}

/// Splits `A=1 B="two words" C` (ARG and modern ENV syntax) into names and optional values.
/// The legacy `ENV KEY value with spaces` form gives one pair.
pub fn parse_assignments(raw: &str) -> Vec<(String, Option<String>)> {
    let words = crate::dockerfile::shell::split_words(raw);
    let Some(first) = words.first() else {
        return vec![];
    };
    if !first.contains('=') && words.len() > 1 {
        // Legacy `ENV KEY value…`.
        let value = raw.trim_start()[first.len()..].trim().to_string();
        return vec![(first.clone(), Some(value))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}` with the given
/// variables; unknown variables without a default are left as written.
pub fn expand_args(s: &str, vars: &[(String, Option<String>)]) -> String {
    let lookup = |name: &str| {
        vars.iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(body) = after.strip_prefix('{') {
            if let Some(close) = body.find('}') {
                let expr = &body[..close];
                let (name, default) = match expr.find([':', '-']) {
                    Some(i) => {
                        let d = expr[i..].trim_start_matches(':');
                        (&expr[..i], d.strip_prefix('-').map(str::to_string))
                    }
                    None => (expr, None),
                };
                match lookup(name).filter(|v| !v.is_empty()).or(default) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[pos..pos + 2 + close + 1]),
                }
                rest = &body[close + 1..];
                continue;
            }
        } else {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if len > 0 {
                let name = &after[..len];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[pos..pos + 1 + len]),
                }
                rest = &after[len..];
                continue;
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}
