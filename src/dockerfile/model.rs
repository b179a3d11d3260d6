//! The parsed Dockerfile as the rules see it: owned instructions with byte spans and line
//! numbers, stages with their resolved base, and global `ARG`s expanded in `FROM`.
//!
//! The line rules (continuations, directives, here-documents) are [`super::syntax`]'s, which
//! follows BuildKit's parser; this module gives each instruction its arguments and applies the
//! checks BuildKit makes before a build starts (known keywords, argument counts, stages).

use std::ops::Range;

use super::syntax::{self, Heredoc, Logical, Node};

/// A Dockerfile that could not be parsed: the parser's message and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line})")]
pub struct ParseError {
    /// What is wrong, in BuildKit's words where it has them.
    pub message: String,
    /// 1-based line; 1 when the parser could not tell.
    pub line: usize,
    /// 1-based column (the parser reports lines precisely; columns are best effort).
    pub column: usize,
}

/// A piece of text from the Dockerfile with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    /// Byte range in the file (for text joined over continuations: first to last byte).
    pub span: Range<usize>,
    /// The text, continuations joined.
    pub value: String,
}

/// An option flag such as `--from=builder` or `--mount=type=cache,target=/x`.
#[derive(Debug, Clone)]
pub struct Flag {
    /// Name without the dashes: `from`, `mount`, `platform`.
    pub name: String,
    /// The text after `=`; `None` for a bare `--link`.
    pub value: Option<String>,
    /// The whole `--name=value` word in the file.
    pub span: Range<usize>,
}

/// The arguments of RUN, CMD and ENTRYPOINT.
#[derive(Debug, Clone)]
pub enum CommandForm {
    /// JSON array form: no shell is involved.
    Exec(Vec<String>),
    /// Shell form: the script as the shell receives it (continuations joined, as BuildKit
    /// does), without the here-document bodies.
    Shell(String),
}

/// What follows the keyword, in the shape each instruction family needs.
#[derive(Debug, Clone)]
pub enum Args {
    /// `FROM image [AS name]`.
    From {
        /// The image reference as written (before ARG expansion).
        image: Spanned,
        /// The stage name after `AS`.
        alias: Option<Spanned>,
    },
    /// RUN, CMD, ENTRYPOINT, HEALTHCHECK CMD, with the `<<EOF` documents the line opens.
    Command {
        /// Exec (JSON array) or shell form.
        form: CommandForm,
        /// The arguments' bytes in the file.
        span: Range<usize>,
        /// The here-documents opened on the instruction's line, in order.
        heredocs: Vec<Heredoc>,
        /// The argument text (continuations joined) with the map back to file offsets, so a
        /// finding can point at the line of one command of a long RUN.
        source: Logical,
    },
    /// COPY and ADD. `heredoc_sources` counts inline here-document sources.
    Copy {
        /// The sources, as written (globs and URLs included).
        sources: Vec<Spanned>,
        /// The destination, the last argument.
        dest: Spanned,
        /// How many sources are `<<EOF` here-documents.
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
    /// 1-based last line (the here-documents' delimiter lines included).
    pub end_line: usize,
    /// The `--name=value` options before the arguments, in order.
    pub flags: Vec<Flag>,
    /// The arguments, in the shape of the instruction's family.
    pub args: Args,
    /// The here-documents the instruction opens (RUN, COPY, ADD), in order.
    pub heredocs: Vec<Heredoc>,
    /// Index of the stage this instruction belongs to; `None` for global ARGs before any FROM.
    pub stage: Option<usize>,
}

impl Instruction {
    /// The first flag named `name` (without dashes), if given.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The names and values an ARG or ENV sets (empty for other instructions).
    pub fn assignments(&self) -> Vec<(String, Option<String>)> {
        match (self.keyword, self.text()) {
            ("ARG", Some(t)) => parse_arg_words(&t.value),
            ("ENV", Some(t)) => parse_assignments(&t.value),
            _ => vec![],
        }
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
    /// `FROM scratch`: an empty file system.
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image from a registry.
    Image(ImageRef),
}

/// `[registry/]repo[:tag][@digest]`, after ARG expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag and digest, e.g. `gcr.io/distroless/static-debian12`.
    pub name: String,
    /// The tag after the last `:` of the last path element, e.g. `1.26-alpine`.
    pub tag: Option<String>,
    /// The digest after `@` (`sha256:<hex>`), as written.
    pub digest: Option<String>,
    /// The reference still holds an unexpanded variable (`$X` with no default).
    pub unresolved: bool,
}

impl ImageRef {
    /// Splits `[registry/]repo[:tag][@digest]` as written; never fails (a malformed reference
    /// gives odd parts, which the rules report).
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
    /// Position among the stages, from 0.
    pub index: usize,
    /// The `AS` name, as written.
    pub name: Option<String>,
    /// The image reference as written, after global ARG expansion.
    pub image: String,
    /// What the stage starts from: scratch, an earlier stage or an image.
    pub base: Base,
    /// Index of the FROM instruction in `Dockerfile::instructions`.
    pub from: usize,
    /// Instructions of this stage, FROM excluded.
    pub body: Range<usize>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// Every top-level instruction in file order.
    pub instructions: Vec<Instruction>,
    /// The stages in file order.
    pub stages: Vec<Stage>,
    /// Global ARGs (before the first FROM) with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    /// The escape character (`\`, or the `# escape=` directive's).
    pub escape: char,
    /// Flags BuildKit's instruction check refuses (unknown, given twice, without a value):
    /// the instructions still read fine, but BuildKit will not build the file.
    pub refused_flags: Vec<RefusedFlag>,
    line_starts: Vec<usize>,
}

/// A flag BuildKit refuses, with what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedFlag {
    /// What BuildKit says about it.
    pub message: String,
    /// The `--name=value` word in the file.
    pub span: Range<usize>,
}

/// How BuildKit reads a flag's value (`bflag.go`: bool, string, strings).
#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagKind {
    Bool,
    String,
    /// May be given several times.
    Strings,
}

/// The flags each instruction accepts in BuildKit's instruction parser, labs channel included
/// (moby/buildkit `frontend/dockerfile/instructions/parse.go` and the RUN hooks in
/// `commands_run*.go`). `None`: BuildKit does not check the flags (ARG, STOPSIGNAL,
/// HEALTHCHECK NONE), and not under ONBUILD (checked only when the trigger runs).
fn known_flags(keyword: &str, args: &Args) -> Option<&'static [(&'static str, FlagKind)]> {
    use FlagKind::{Bool, String, Strings};
    Some(match keyword {
        "FROM" => &[("platform", String)],
        "RUN" => &[
            ("mount", Strings),
            ("network", String),
            ("security", String),
            ("device", Strings),
        ],
        "COPY" => &[
            ("chown", String),
            ("from", String),
            ("chmod", String),
            ("link", Bool),
            ("exclude", Strings),
            ("parents", Bool),
        ],
        "ADD" => &[
            ("chown", String),
            ("chmod", String),
            ("link", Bool),
            ("keep-git-dir", Bool),
            ("checksum", String),
            ("unpack", Bool),
            ("exclude", Strings),
        ],
        "HEALTHCHECK" if matches!(args, Args::None) => return None,
        "HEALTHCHECK" => &[
            ("interval", String),
            ("timeout", String),
            ("start-period", String),
            ("start-interval", String),
            ("retries", String),
        ],
        "ARG" | "STOPSIGNAL" => return None,
        _ => &[],
    })
}

/// BuildKit's flag check (`BFlags.Parse`) for one instruction: the first refusal, as BuildKit
/// stops at it.
fn refused_flag(inst: &Instruction) -> Option<RefusedFlag> {
    let known = known_flags(inst.keyword, &inst.args)?;
    let mut used: Vec<&str> = vec![];
    for f in &inst.flags {
        let name = f.name.as_str();
        let refuse = |message: String| {
            Some(RefusedFlag {
                message: format!("{} {message}", inst.keyword),
                span: f.span.clone(),
            })
        };
        let shown = super::input::excerpt(name, 24);
        let Some(&(_, kind)) = known.iter().find(|(n, _)| *n == name) else {
            let hint = known
                .iter()
                .find(|(n, _)| distance(n, name) <= 2)
                .map_or(String::new(), |(n, _)| format!(" (did you mean --{n}?)"));
            let accepted = if known.is_empty() {
                "it takes no flags".to_string()
            } else {
                let names: Vec<String> = known.iter().map(|(n, _)| format!("--{n}")).collect();
                format!("it takes {}", names.join(", "))
            };
            return refuse(format!("has no flag --{shown}{hint}: {accepted}"));
        };
        if kind != FlagKind::Strings && used.contains(&name) {
            return refuse(format!(
                "gives --{shown} twice (BuildKit: duplicate flag specified)"
            ));
        }
        used.push(name);
        match (kind, f.value.as_deref()) {
            (FlagKind::Bool, Some(v))
                if !matches!(v.to_ascii_lowercase().as_str(), "true" | "false") =>
            {
                return refuse(format!(
                    "--{shown} takes true or false, not `{}`",
                    super::input::excerpt(v, 24)
                ));
            }
            (FlagKind::String | FlagKind::Strings, None) => {
                return refuse(format!("--{shown} needs a value: --{shown}=<value>"));
            }
            _ => {}
        }
    }
    None
}

/// The instruction keywords BuildKit knows.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

impl Dockerfile {
    /// Parses `text`; an error carries the message and the line where BuildKit stops (at
    /// parse time, or when it checks the instructions before building).
    pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
        let parsed = syntax::parse(text)?;
        let mut df = Dockerfile {
            instructions: Vec::with_capacity(parsed.nodes.len()),
            stages: Vec::new(),
            global_args: Vec::new(),
            escape: parsed.escape,
            refused_flags: Vec::new(),
            line_starts: line_starts(text),
        };
        for node in &parsed.nodes {
            df.instructions.push(instruction(node)?);
        }
        df.refused_flags = df.instructions.iter().filter_map(refused_flag).collect();
        df.build_stages()?;
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

    /// The instructions a stage's image is made of, oldest first: the bodies of every stage
    /// along its `FROM <stage>` chain.
    pub fn chain_body(&self, stage: usize) -> Vec<&Instruction> {
        self.stage_chain(stage)
            .into_iter()
            .rev()
            .flat_map(|s| self.stage_body(&self.stages[s]).iter())
            .collect()
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

    fn build_stages(&mut self) -> Result<(), ParseError> {
        let mut current: Option<usize> = None;
        for idx in 0..self.instructions.len() {
            let inst = &self.instructions[idx];
            if inst.keyword == "FROM" {
                let (image_raw, alias) = match &inst.args {
                    Args::From { image, alias } => {
                        (image.value.clone(), alias.as_ref().map(|a| a.value.clone()))
                    }
                    _ => (String::new(), None),
                };
                if let Some(name) = &alias
                    && self.stage_by_ref_before(name, self.stages.len()).is_some()
                {
                    return Err(ParseError {
                        message: format!(
                            "duplicate stage name `{}`",
                            super::input::excerpt(name, 24)
                        ),
                        line: inst.line,
                        column: 1,
                    });
                }
                if let Some(prev) = current {
                    self.stages[prev].body.end = idx;
                }
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
            } else if current.is_none() {
                if inst.keyword != "ARG" {
                    return Err(ParseError {
                        message: format!(
                            "{} before the first FROM: only ARG may come before FROM",
                            inst.keyword
                        ),
                        line: inst.line,
                        column: 1,
                    });
                }
                let raw = inst.text().map(|t| t.value.clone()).unwrap_or_default();
                for (name, value) in parse_arg_words(&raw) {
                    self.global_args.push((name, value));
                }
            }
            self.instructions[idx].stage = current;
        }
        let Some(prev) = current else {
            return Err(ParseError {
                message: "the Dockerfile has no FROM instruction".into(),
                line: 1,
                column: 1,
            });
        };
        self.stages[prev].body.end = self.instructions.len();
        Ok(())
    }

    fn stage_by_ref_before(&self, name: &str, before: usize) -> Option<usize> {
        self.stages[..before].iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }
}

/// Gives a syntax node its meaning: the keyword, the flags and the arguments in the shape its
/// family needs, with BuildKit's argument checks.
fn instruction(node: &Node) -> Result<Instruction, ParseError> {
    let err = |message: String| ParseError {
        message,
        line: node.start_line,
        column: 1,
    };
    let upper = node.keyword.to_ascii_uppercase();
    let keyword = KEYWORDS
        .iter()
        .copied()
        .find(|k| *k == upper)
        .ok_or_else(|| {
            err(format!(
                "unknown instruction `{}`",
                super::input::excerpt(&node.keyword, 16)
            ))
        })?;
    let args = args_for(keyword, node).map_err(err)?;
    Ok(Instruction {
        keyword,
        span: node.span.clone(),
        line: node.start_line,
        end_line: node.end_line,
        flags: node
            .flags
            .iter()
            .map(|f| Flag {
                name: f.name.clone(),
                value: f.value.clone(),
                span: f.span.clone(),
            })
            .collect(),
        args,
        heredocs: node.heredocs.clone(),
        stage: None,
    })
}

/// The arguments of an instruction, in the shape its family needs, with BuildKit's argument
/// checks (the error is the message).
fn args_for(keyword: &'static str, node: &Node) -> Result<Args, String> {
    let l = &node.line;
    let rest = node.rest.clone();
    let empty = rest.is_empty();
    let need_one = || format!("{keyword} requires at least one argument");
    Ok(match keyword {
        "FROM" => {
            let mut w = words(l, rest);
            match w.len() {
                1 => Args::From {
                    image: w.remove(0),
                    alias: None,
                },
                3 if w[1].value.eq_ignore_ascii_case("as") => {
                    let alias = w.pop();
                    Args::From {
                        image: w.remove(0),
                        alias,
                    }
                }
                _ => {
                    return Err(
                        "FROM requires either one or three arguments: FROM <image> [AS <name>]"
                            .into(),
                    );
                }
            }
        }
        "RUN" | "CMD" | "ENTRYPOINT" => {
            if empty && keyword == "RUN" {
                return Err(need_one());
            }
            command(l, rest, &node.heredocs)?
        }
        "COPY" | "ADD" => copy(l, rest, keyword)?,
        "ENV" | "ARG" | "LABEL" | "USER" | "WORKDIR" | "STOPSIGNAL" | "MAINTAINER" => {
            if empty {
                return Err(need_one());
            }
            let t = spanned(l, rest);
            if keyword == "ENV" && !t.value.contains('=') && words_of(&t.value) < 2 {
                let name = super::input::excerpt(&t.value, 24);
                return Err(format!("ENV {name} has no value: write ENV {name}=<value>"));
            }
            Args::Text(t)
        }
        "EXPOSE" => {
            if empty {
                return Err(need_one());
            }
            Args::List(words(l, rest))
        }
        "VOLUME" => match json_strings(l, rest.clone()) {
            Some(items) => Args::List(items?),
            None if empty => return Err(need_one()),
            None => Args::List(words(l, rest)),
        },
        "SHELL" => match json_strings(l, rest) {
            Some(items) => Args::List(items?),
            None => {
                return Err(
                    "SHELL requires the arguments in JSON form: SHELL [\"/bin/sh\", \"-c\"]".into(),
                );
            }
        },
        "ONBUILD" => {
            if empty {
                return Err(need_one());
            }
            let inner = instruction(&syntax::onbuild_inner(node)).map_err(|e| e.message)?;
            if matches!(inner.keyword, "ONBUILD" | "FROM" | "MAINTAINER") {
                return Err(format!("{} is not allowed after ONBUILD", inner.keyword));
            }
            Args::Onbuild(Box::new(inner))
        }
        "HEALTHCHECK" => healthcheck(l, rest)?,
        _ => Args::None,
    })
}

fn words_of(s: &str) -> usize {
    s.split(syntax_space).filter(|w| !w.is_empty()).count()
}

fn syntax_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// A range of the logical line as a value with its file span.
fn spanned(l: &Logical, r: Range<usize>) -> Spanned {
    Spanned {
        span: l.span(r.clone()),
        value: l.text[r].to_string(),
    }
}

/// Whitespace-separated words (BuildKit's `parseStringsWhitespaceDelimited`), with a pair of
/// quotes around a whole word removed from its value.
fn words(l: &Logical, r: Range<usize>) -> Vec<Spanned> {
    let text = &l.text[r.clone()];
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (syntax_space(c), start) {
            (true, Some(s)) => {
                let mut w = spanned(l, r.start + s..r.start + i);
                w.value = unquote(&w.value).to_string();
                out.push(w);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// The items of a JSON string array with their spans; `None` when the text is not a JSON
/// array (then BuildKit reads it as shell form), an error when an item is not a string.
fn json_strings(l: &Logical, r: Range<usize>) -> Option<Result<Vec<Spanned>, String>> {
    let text = &l.text[r.clone()];
    if !syntax::is_json_array(text) {
        return None;
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(text.trim()).ok()?;
    if values.iter().any(|v| !v.is_string()) {
        return Some(Err(
            "when using JSON array syntax, arrays must hold strings only".into(),
        ));
    }
    // Spans of the string literals, in order.
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            spans.push(r.start + start..r.start + (i + 1).min(b.len()));
        }
        i += 1;
    }
    Some(Ok(values
        .into_iter()
        .zip(spans)
        .map(|(v, s)| Spanned {
            span: l.span(s),
            value: v.as_str().unwrap_or_default().to_string(),
        })
        .collect()))
}

fn command(l: &Logical, r: Range<usize>, heredocs: &[Heredoc]) -> Result<Args, String> {
    let span = l.span(r.clone());
    let form = match json_strings(l, r.clone()) {
        Some(items) => CommandForm::Exec(items?.into_iter().map(|s| s.value).collect()),
        None => CommandForm::Shell(l.text[r.clone()].to_string()),
    };
    Ok(Args::Command {
        form,
        span,
        heredocs: heredocs.to_vec(),
        source: l.slice(r),
    })
}

fn copy(l: &Logical, r: Range<usize>, keyword: &str) -> Result<Args, String> {
    let (mut items, json) = match json_strings(l, r.clone()) {
        Some(items) => (items?, true),
        None => (words(l, r), false),
    };
    if items.len() < 2 {
        return Err(format!(
            "{keyword} requires at least two arguments (sources and a destination)"
        ));
    }
    let dest = items.pop().expect("two items");
    let mut heredoc_sources = 0;
    for s in &mut items {
        if !json && syntax::parse_heredoc(&s.value).is_some() {
            heredoc_sources += 1;
            s.value.clear();
        }
    }
    Ok(Args::Copy {
        sources: items,
        dest,
        heredoc_sources,
    })
}

fn healthcheck(l: &Logical, r: Range<usize>) -> Result<Args, String> {
    let w = words(l, r.clone());
    match w.first().map(|w| w.value.to_ascii_uppercase()).as_deref() {
        Some("NONE") if w.len() == 1 => Ok(Args::None),
        Some("NONE") => Err("HEALTHCHECK NONE takes no arguments".into()),
        Some("CMD") => {
            let after = &l.text[r.clone()][3..];
            let start = r.start + 3 + (after.len() - after.trim_start().len());
            if start >= r.end {
                return Err("HEALTHCHECK CMD needs a command".into());
            }
            command(l, start..r.end, &[])
        }
        _ => Err("HEALTHCHECK needs NONE or CMD <command>".into()),
    }
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

/// The names and values of an `ARG`: every word is one (`ARG TARGETOS TARGETARCH`,
/// `ARG A=1 B`), unlike ENV's legacy `ENV KEY value with spaces`.
pub fn parse_arg_words(raw: &str) -> Vec<(String, Option<String>)> {
    crate::dockerfile::shell::split_words(raw)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
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

/// Optimal string alignment distance, for "did you mean" on stage and flag names.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Vec<String> {
        Dockerfile::parse(text)
            .unwrap()
            .refused_flags
            .into_iter()
            .map(|r| r.message)
            .collect()
    }

    #[test]
    fn buildkit_flag_checks() {
        assert_eq!(
            refused(
                "FROM --platform=$BUILDPLATFORM golang:1.24\nRUN --mount=type=cache,target=/a --mount=type=cache,target=/b --network=none go build .\nCOPY --from=x --chmod=755 --link --exclude=a --exclude=b a b\nADD --keep-git-dir=true --checksum=sha256:x a b\nARG --whatever X\nHEALTHCHECK --interval=5s CMD true\n"
            ),
            Vec::<String>::new()
        );
        let r = refused("FROM --platform= --platform=arm64 golang:1.21\n");
        assert!(r[0].contains("--platform twice"), "{r:?}");
        let r = refused("FROM golang:1.24\nCOPY --form=b /a /a\n");
        assert!(r[0].contains("--form (did you mean --from?)"), "{r:?}");
        let r = refused(
            "FROM golang:1.24\nRUN --foo=bar true\nUSER --x 1\nCOPY --link=maybe a b\nCOPY --from a b\n",
        );
        assert_eq!(r.len(), 4, "{r:?}");
        assert!(
            r[1].starts_with("USER has no flag --x: it takes no flags"),
            "{r:?}"
        );
        assert!(r[2].contains("true or false"), "{r:?}");
        assert!(r[3].contains("needs a value"), "{r:?}");
        // ONBUILD triggers are checked only when they run in a child image.
        assert!(refused("FROM golang:1.24\nONBUILD COPY --form=b a b\n").is_empty());
    }
}
