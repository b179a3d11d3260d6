//! The Dockerfile front end: physical lines → logical instructions, with the line rules of
//! BuildKit's own parser (moby/buildkit `frontend/dockerfile/parser`), which is the oracle the
//! corpus test compares against:
//!
//! - parser directives (`# escape=`, `# syntax=`, `# check=`) only in the leading comment block;
//! - a line continues when its last non-blank character is the escape character and the one
//!   before it is not (`RUN a \\` ends the instruction); comment lines and blank lines inside a
//!   continued instruction are dropped;
//! - here-documents: every word of a RUN/COPY/ADD line (also under ONBUILD, never in JSON form)
//!   that reads `[fd]<<[-]WORD` opens one, in order; the bodies follow the line, each up to a
//!   line equal to its delimiter (leading tabs ignored with `<<-`).
//!
//! The result keeps a map from the logical (joined) text back to byte offsets in the file, so
//! every argument has an exact span. Nothing here knows what an instruction means; `model` does.

use std::ops::Range;

use super::model::ParseError;

/// An instruction's text with continuations removed, and where each piece came from.
#[derive(Debug, Clone, Default)]
pub struct Logical {
    /// The text, continuation backslashes and newlines removed, comment lines inside dropped.
    pub text: String,
    /// (offset in `text`, offset in the file) at the start of each contiguous piece.
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    /// Appends `piece`, which starts at `file_offset` in the file.
    pub fn push(&mut self, piece: &str, file_offset: usize) {
        self.pieces.push((self.text.len(), file_offset));
        self.text.push_str(piece);
    }

    /// The file offset of a byte offset in `text` (the end of `text` maps to the end of the
    /// last piece).
    pub fn to_file(&self, offset: usize) -> usize {
        let i = self
            .pieces
            .partition_point(|&(l, _)| l <= offset)
            .saturating_sub(1);
        match self.pieces.get(i) {
            Some(&(l, f)) => f + (offset - l),
            None => offset,
        }
    }

    /// Offsets in `text` where each piece starts (the first is 0): the start of every line
    /// joined by a continuation.
    pub fn piece_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces.iter().map(|p| p.0)
    }

    /// The part of this text in `r`, keeping where each byte came from.
    pub fn slice(&self, r: Range<usize>) -> Logical {
        let mut out = Logical::default();
        for (idx, &(l, f)) in self.pieces.iter().enumerate() {
            let next = self.pieces.get(idx + 1).map_or(self.text.len(), |p| p.0);
            let (s, e) = (l.max(r.start), next.min(r.end));
            if s < e {
                out.push(&self.text[s..e], f + (s - l));
            }
        }
        out
    }

    /// The file span of a range of `text`. An empty range maps to an empty span.
    pub fn span(&self, r: Range<usize>) -> Range<usize> {
        if r.is_empty() {
            let p = self.to_file(r.start);
            return p..p;
        }
        // The end is mapped from the last byte so a range ending at a piece boundary does not
        // run into the next piece's position.
        self.to_file(r.start)..self.to_file(r.end - 1) + 1
    }
}

/// A here-document: `<<EOF` on the instruction line and its body below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word with quotes removed.
    pub name: String,
    /// `<<-`: leading tabs are stripped from the body and the delimiter line.
    pub chomp: bool,
    /// No part of the delimiter was quoted: the body's variables are expanded.
    pub expand: bool,
    /// The file descriptor before `<<` (0 when none).
    pub fd: u32,
    /// The body, every line with its newline, as BuildKit reports it.
    pub body: String,
    /// Where the body is in the file.
    pub body_span: Range<usize>,
}

/// A `--name[=value]` option before the arguments.
#[derive(Debug, Clone)]
pub struct RawFlag {
    /// Name without the dashes.
    pub name: String,
    /// The text after `=`, if any.
    pub value: Option<String>,
    /// The whole `--name=value` word in the file.
    pub span: Range<usize>,
}

/// One instruction as read from the file, before its arguments are interpreted.
#[derive(Debug, Clone)]
pub struct Node {
    /// The keyword as written (any case).
    pub keyword: String,
    /// The keyword's bytes in the file.
    pub keyword_span: Range<usize>,
    /// The `--name[=value]` words before the arguments.
    pub flags: Vec<RawFlag>,
    /// Offset in `line.text` where the arguments start (after the flags); `line.text[rest..]`
    /// is trimmed on both sides.
    pub rest: Range<usize>,
    /// The instruction's text, continuations joined.
    pub line: Logical,
    /// The here-documents its line opens, in order.
    pub heredocs: Vec<Heredoc>,
    /// From the keyword to the end of the instruction (the last delimiter line included).
    pub span: Range<usize>,
    /// 1-based first and last physical line, as BuildKit counts them.
    pub start_line: usize,
    /// 1-based last physical line.
    pub end_line: usize,
}

impl Node {
    /// The argument text after the flags.
    pub fn rest_text(&self) -> &str {
        &self.line.text[self.rest.clone()]
    }
}

/// The file as BuildKit reads it: directives and instructions.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The escape character: `\`, or the one the `# escape=` directive sets.
    pub escape: char,
    /// The instructions in file order.
    pub nodes: Vec<Node>,
}

/// Parser directives, read from the leading comment lines only.
struct Directives {
    escape: char,
    escape_seen: bool,
    done: bool,
}

impl Directives {
    fn see(&mut self, line: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((name, value)) = directive(line) else {
            self.done = true;
            return Ok(());
        };
        if !matches!(name.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if name == "escape" && !self.escape_seen {
            self.escape_seen = true;
            self.escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(format!(
                        "invalid escape token '{}' (use ` or \\)",
                        super::input::excerpt(other, 8)
                    ));
                }
            };
        }
        Ok(())
    }
}

/// `# name = value` (BuildKit: `^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start_matches([' ', '\t']);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, after) = rest.split_at(name_len);
    let value = after
        .trim_start_matches([' ', '\t'])
        .strip_prefix('=')?
        .trim_matches([' ', '\t']);
    (!value.is_empty()).then(|| (name.to_ascii_lowercase(), value.to_string()))
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\r', '\n'])
}

fn is_comment(s: &str) -> bool {
    s.trim_start().starts_with('#')
}

/// Removes a line continuation: `(piece, true)` when the line continues.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    if let Some(before) = t.strip_suffix(escape)
        && !before.ends_with(escape)
    {
        return (before, true);
    }
    (line, false)
}

/// Physical lines with their start offsets and their text (newline included).
fn physical_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for l in text.split_inclusive('\n') {
        out.push((offset, l));
        offset += l.len();
    }
    out
}

/// Parses the whole file. Errors carry the 1-based line where BuildKit would stop.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let mut lines = physical_lines(text);
    if let Some(first) = lines.first_mut()
        && let Some(rest) = first.1.strip_prefix('\u{feff}')
    {
        *first = (first.0 + '\u{feff}'.len_utf8(), rest);
    }
    let mut d = Directives {
        escape: '\\',
        escape_seen: false,
        done: false,
    };
    let mut nodes = Vec::new();
    let mut i = 0;
    let err = |message: String, line: usize| ParseError {
        message,
        line: line.max(1),
        column: 1,
    };
    while i < lines.len() {
        let (start, raw) = lines[i];
        i += 1;
        let content = trim_newline(raw);
        let left = content.trim_start();
        d.see(left).map_err(|m| err(m, i))?;
        if is_comment(left) {
            continue;
        }
        let start_line = i;
        let lead = content.len() - left.len();
        let (piece, mut continues) = trim_continuation(left, d.escape);
        if !continues && piece.is_empty() {
            continue;
        }
        let mut logical = Logical::default();
        logical.push(piece, start + lead);
        while continues && i < lines.len() {
            let (s, raw) = lines[i];
            i += 1;
            let content = trim_newline(raw);
            d.see(content).map_err(|m| err(m, i))?;
            if is_comment(content) || content.trim_start().is_empty() {
                continue;
            }
            let (piece, c) = trim_continuation(content, d.escape);
            logical.push(piece, s);
            continues = c;
        }
        let mut node = node_from_line(logical);
        if can_contain_heredoc(&node) && node.line.text.contains("<<") {
            read_heredocs(&mut node, &lines, &mut i, text.len()).map_err(|m| err(m, start_line))?;
        }
        node.start_line = start_line;
        node.end_line = i;
        nodes.push(node);
    }
    Ok(Parsed {
        escape: d.escape,
        nodes,
    })
}

/// Reads the bodies of the here-documents a node's line opens, from physical line `*i` on.
fn read_heredocs(
    node: &mut Node,
    lines: &[(usize, &str)],
    i: &mut usize,
    text_len: usize,
) -> Result<(), String> {
    for mut h in heredocs_in(&node.line.text) {
        let body_start = lines.get(*i).map_or(text_len, |l| l.0);
        let mut terminated = false;
        while *i < lines.len() {
            let (s, raw) = lines[*i];
            *i += 1;
            let mut candidate = trim_newline(raw);
            if h.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == h.name {
                terminated = true;
                h.body_span = body_start..s;
                node.span.end = s + trim_newline(raw).len();
                break;
            }
            h.body.push_str(raw);
        }
        if !terminated {
            return Err(format!(
                "unterminated heredoc: no line `{}` closes it",
                super::input::excerpt(&h.name, 24)
            ));
        }
        node.heredocs.push(h);
    }
    Ok(())
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// Splits a logical line into keyword, flags and arguments (BuildKit's `splitCommand` and
/// `extractBuilderFlags`).
fn node_from_line(line: Logical) -> Node {
    let t = &line.text;
    let kw_start = t.len() - t.trim_start().len();
    let kw_end = t[kw_start..]
        .find(is_space)
        .map_or(t.len(), |p| kw_start + p);
    let (flags, rest_start) = builder_flags(t, kw_end);
    let rest_end = t.trim_end_matches(is_space).len().max(rest_start);
    let rest_start =
        rest_start + (t[rest_start..rest_end].len() - t[rest_start..rest_end].trim_start().len());
    let flags = flags
        .into_iter()
        .map(|(word, r)| {
            let body = word.strip_prefix("--").unwrap_or(&word);
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            RawFlag {
                name,
                value,
                span: line.span(r),
            }
        })
        .collect();
    let end = line.span(kw_start..rest_end.max(kw_end)).end;
    Node {
        keyword: t[kw_start..kw_end].to_string(),
        keyword_span: line.span(kw_start..kw_end),
        flags,
        rest: rest_start..rest_end,
        heredocs: Vec::new(),
        span: line.to_file(kw_start)..end,
        start_line: 0,
        end_line: 0,
        line,
    }
}

/// The instruction after `ONBUILD`, as its own node (the here-documents move with it).
pub fn onbuild_inner(node: &Node) -> Node {
    let mut inner = node_from_line(node.line.slice(node.rest.clone()));
    inner.heredocs = node.heredocs.clone();
    inner.start_line = node.start_line;
    inner.end_line = node.end_line;
    if !inner.heredocs.is_empty() {
        inner.span.end = node.span.end;
    }
    inner
}

/// Leading `--flag[=value]` words from `from` on: (unquoted word, its range) and where the
/// arguments start. `--` alone ends the flags.
fn builder_flags(t: &str, from: usize) -> (Vec<(String, Range<usize>)>, usize) {
    let b = t.as_bytes();
    let mut flags = Vec::new();
    let mut pos = from;
    loop {
        while pos < b.len() && is_space(b[pos] as char) {
            pos += 1;
        }
        if !(pos + 1 < b.len() && b[pos] == b'-' && b[pos + 1] == b'-') {
            return (flags, pos);
        }
        let start = pos;
        let mut word = String::new();
        let mut quote: Option<u8> = None;
        while pos < b.len() {
            let c = b[pos];
            match quote {
                None if is_space(c as char) => break,
                None if c == b'\'' || c == b'"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == b'\\' && pos + 1 < b.len() => {
                    pos += 1;
                    let ch_len = utf8_len(b[pos]);
                    word.push_str(&t[pos..pos + ch_len]);
                    pos += ch_len;
                    continue;
                }
                _ if c == b'\\' => {}
                _ => {
                    let ch_len = utf8_len(c);
                    word.push_str(&t[pos..pos + ch_len]);
                    pos += ch_len;
                    continue;
                }
            }
            pos += 1;
        }
        if word == "--" {
            return (flags, pos);
        }
        flags.push((word, start..pos));
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// RUN, COPY and ADD (also after ONBUILD) can hold here-documents, except in JSON form.
fn can_contain_heredoc(node: &Node) -> bool {
    let mut kw = node.keyword.to_ascii_uppercase();
    let mut rest = node.rest_text().to_string();
    if kw == "ONBUILD" {
        let t = rest.trim_start();
        let end = t.find(is_space).unwrap_or(t.len());
        kw = t[..end].to_ascii_uppercase();
        rest = t[end..].to_string();
        let (_, s) = builder_flags(&rest, 0);
        rest = rest[s..].to_string();
    }
    matches!(kw.as_str(), "RUN" | "COPY" | "ADD") && !is_json_array(&rest)
}

/// Whether BuildKit reads these arguments as a JSON string array.
pub fn is_json_array(rest: &str) -> bool {
    let t = rest.trim_start();
    // A non-string element is still JSON: BuildKit then fails rather than use shell form.
    t.starts_with('[') && serde_json::from_str::<Vec<serde_json::Value>>(t.trim_end()).is_ok()
}

/// Words of a line the way BuildKit's lexer splits them when looking for here-documents:
/// quotes and escapes kept, whitespace outside quotes separating.
fn raw_words(line: &str) -> Vec<&str> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_space(b[i] as char) {
            i += 1;
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                None if is_space(c as char) => break,
                None if c == b'\'' || c == b'"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == b'\\' && quote != Some(b'\'') => i += 1,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(b.len());
        if end > start {
            out.push(&line[start..end]);
        }
    }
    out
}

/// The here-documents a line opens, in order (BuildKit's `heredocsFromLine` / `ParseHeredoc`).
fn heredocs_in(line: &str) -> Vec<Heredoc> {
    raw_words(line)
        .into_iter()
        .filter_map(parse_heredoc)
        .collect()
}

/// `[fd]<<[-]WORD` → a here-document header, or `None` for any other word.
pub fn parse_heredoc(word: &str) -> Option<Heredoc> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let after = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match after.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, after),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let unquoted = unquote_word(rest)?;
    let fd = if digits == 0 {
        0
    } else {
        word[..digits].parse().ok()?
    };
    Some(Heredoc {
        expand: !rest.contains(['\'', '"']),
        name: unquoted,
        chomp,
        fd,
        body: String::new(),
        body_span: 0..0,
    })
}

/// Removes shell quotes and escapes from a single word; `None` when it is several words.
fn unquote_word(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if is_space(c) => return None,
            (q, '\\') if q != Some('\'') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (_, c) => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, usize, usize)> {
        parse(text)
            .unwrap()
            .nodes
            .iter()
            .map(|n| (n.keyword.clone(), n.start_line, n.end_line))
            .collect()
    }

    #[test]
    fn double_escape_is_not_a_continuation() {
        let k = kinds("FROM a\nRUN a \\\\\nRUN b\n");
        assert_eq!(k.len(), 3);
        let k = kinds("FROM a\nRUN a \\  \n\n  # c\n  b\nRUN c\n");
        assert_eq!(k[1], ("RUN".into(), 2, 5));
    }

    #[test]
    fn heredoc_after_other_words_and_after_a_continuation() {
        let p = parse("FROM a\nRUN apt-get update && \\\n  cat <<EOF > /x\nhi\nEOF\nRUN <<A cat && <<-\"B\" cat\na\nA\n\tb\n\tB\n").unwrap();
        assert_eq!(p.nodes[1].heredocs[0].body, "hi\n");
        assert_eq!((p.nodes[1].start_line, p.nodes[1].end_line), (2, 5));
        let h = &p.nodes[2].heredocs;
        assert_eq!((h[0].name.as_str(), h[1].name.as_str()), ("A", "B"));
        assert!(h[0].expand && !h[1].expand && h[1].chomp);
        assert_eq!(h[1].body, "\tb\n");
    }

    #[test]
    fn spans_map_back_through_continuations() {
        let text = "FROM a\nRUN --mount=type=cache,target=/x \\\n    go build .\n";
        let p = parse(text).unwrap();
        let n = &p.nodes[1];
        assert_eq!(
            &text[n.flags[0].span.clone()],
            "--mount=type=cache,target=/x"
        );
        let r = n.line.span(n.rest.clone());
        assert_eq!(&text[r.clone()], "go build .");
        assert_eq!(&text[n.span.clone()], &text[7..text.len() - 1]);
    }

    #[test]
    fn directives_only_at_the_top() {
        assert_eq!(parse("# escape=`\nFROM a\n").unwrap().escape, '`');
        assert_eq!(parse("\n# escape=`\nFROM a\n").unwrap().escape, '\\');
    }
}
