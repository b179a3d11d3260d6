//! A small POSIX-shell reader for RUN scripts: it finds every simple command with its leading
//! `VAR=value` assignments, its words (quotes removed), its redirections and the operator that
//! joins it to the one before, through compound statements (`if`/`for`/`while`/`until`/`case`,
//! `{ …; }`, `( … )` subshells) and command substitutions (`$(…)`, backquotes). It evaluates
//! nothing; syntax it does not know degrades to plain words.
//!
//! Why not a full shell parser crate: RUN scripts are routinely incomplete or templated
//! (`${VAR:0:7}`, unterminated quotes in mutated input), and lint must still see their commands;
//! a tolerant reader never fails, and it is bounded (linear in the script, recursion only into
//! substitutions, at most [`MAX_DEPTH`] deep).

/// How deep command substitutions are followed.
pub const MAX_DEPTH: usize = 16;

/// How a simple command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joiner {
    /// The first command of the script or of a compound body.
    Start,
    /// `&&`: runs when the one before succeeded.
    And,
    /// `||`: runs when the one before failed.
    Or,
    /// `|`: reads the output of the one before.
    Pipe,
    /// `;`, `&`, a newline or the end of a compound: runs whatever the one before did.
    Seq,
}

/// One simple command: `A=1 B=2 cmd arg… >file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// How it is joined to the command before it.
    pub joiner: Joiner,
    /// Leading `NAME=value` assignments (quotes removed), in order.
    pub assigns: Vec<(String, String)>,
    /// The words, quotes removed, variables left as written: the program, then its arguments.
    pub words: Vec<String>,
    /// `(op, target)`: `(">", "log")`, `("<<", "EOF")`, `(">&", "2")`.
    pub redirects: Vec<(String, String)>,
    /// Runs in a subshell: inside `( … )` or a command substitution. `cd` and `export` there
    /// do not reach the commands after it.
    pub subshell: bool,
    /// Byte offset in the script of the command's first word or assignment (for a command
    /// inside a backquote substitution, of the substitution).
    pub offset: usize,
    /// The variables its words, assignment values and redirections expand (`$A`, `${B:-x}`),
    /// outside single quotes; command substitutions' variables belong to their commands.
    pub vars: Vec<String>,
}

impl SimpleCommand {
    fn new(joiner: Joiner, subshell: bool) -> SimpleCommand {
        SimpleCommand {
            joiner,
            assigns: vec![],
            words: vec![],
            redirects: vec![],
            subshell,
            offset: 0,
            vars: vec![],
        }
    }

    /// The command words with wrappers such as `env A=1`, `sudo`, `exec`, `time` removed, and
    /// `env` assignments moved into `assigns`.
    pub fn unwrapped(&self) -> SimpleCommand {
        let mut cmd = self.clone();
        loop {
            match cmd.words.first().map(String::as_str) {
                Some("env") => {
                    cmd.words.remove(0);
                    while cmd.words.first().is_some_and(|w| w.starts_with('-')) {
                        cmd.words.remove(0);
                    }
                    while let Some((k, v)) = cmd.words.first().and_then(|w| split_assign(w)) {
                        cmd.assigns.push((k, v));
                        cmd.words.remove(0);
                    }
                }
                Some("sudo" | "exec" | "time" | "command" | "nice" | "nohup") => {
                    cmd.words.remove(0);
                }
                _ => return cmd,
            }
        }
    }

    /// The first word (the program run), if any.
    pub fn program(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }

    /// Whether the words start with these (after unwrapping): `starts(&["go", "mod"])`.
    pub fn starts(&self, prefix: &[&str]) -> bool {
        self.words.len() >= prefix.len() && self.words.iter().zip(prefix).all(|(w, p)| w == p)
    }
}

pub(crate) fn split_assign(w: &str) -> Option<(String, String)> {
    let (k, v) = w.split_once('=')?;
    let valid = !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !k.as_bytes()[0].is_ascii_digit();
    valid.then(|| (k.to_string(), v.to_string()))
}

/// Splits a string into words the way a shell would (quotes removed, no expansion).
pub fn split_words(s: &str) -> Vec<String> {
    parse(s)
        .into_iter()
        .filter(|c| !c.subshell)
        .flat_map(|c| {
            c.assigns
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .chain(c.words)
        })
        .collect()
}

/// Whether the script pipes one command into another (`a | b`, not `a || b`).
pub fn has_pipe(cmds: &[SimpleCommand]) -> bool {
    cmds.iter().any(|c| c.joiner == Joiner::Pipe)
}

#[derive(Debug)]
enum Token {
    /// A word with quotes removed, and the scripts of the substitutions it holds.
    Word {
        text: String,
        quoted: bool,
        subs: Vec<(String, usize)>,
        /// Byte offset of the word's first character.
        start: usize,
        vars: Vec<String>,
    },
    Op(&'static str),
    Redir(String),
}

struct Lexer {
    c: Vec<char>,
    /// Byte offset of each char of `c`, and the script length at the end.
    at: Vec<usize>,
    i: usize,
    word_start: usize,
    out: Vec<Token>,
    word: String,
    in_word: bool,
    quoted: bool,
    /// Substitution scripts with the byte offset where each body starts.
    subs: Vec<(String, usize)>,
    /// Variables the current word expands (`$A`, `${B}`), outside single quotes.
    vars: Vec<String>,
}

impl Lexer {
    fn new(script: &str) -> Lexer {
        Lexer {
            c: script.chars().collect(),
            at: script
                .char_indices()
                .map(|(i, _)| i)
                .chain([script.len()])
                .collect(),
            i: 0,
            word_start: 0,
            vars: Vec::new(),
            out: Vec::new(),
            word: String::new(),
            in_word: false,
            quoted: false,
            subs: Vec::new(),
        }
    }

    /// Byte offset of the cursor.
    fn pos(&self) -> usize {
        self.at[self.i.min(self.c.len())]
    }

    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    /// Reads a balanced `$( … )` body (the `$(` already consumed) and returns it.
    fn substitution(&mut self) -> String {
        let mut depth = 1;
        let mut out = String::new();
        let mut quote: Option<char> = None;
        while let Some(ch) = self.peek(0) {
            self.i += 1;
            match (quote, ch) {
                (None, '\'' | '"') => quote = Some(ch),
                (Some(q), c) if c == q => quote = None,
                (q, '\\') if q != Some('\'') => {
                    out.push(ch);
                    if let Some(n) = self.peek(0) {
                        out.push(n);
                        self.i += 1;
                    }
                    continue;
                }
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        return out;
                    }
                }
                _ => {}
            }
            out.push(ch);
        }
        out
    }

    /// Reads `${ … }` (the `${` already consumed) into `word`.
    fn brace(&mut self, word: &mut String) {
        word.push_str("${");
        let mut depth = 1;
        while let Some(ch) = self.peek(0) {
            self.i += 1;
            word.push(ch);
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn backquote(&mut self) -> String {
        let mut out = String::new();
        while let Some(ch) = self.peek(0) {
            self.i += 1;
            match ch {
                '`' => return out,
                '\\' => {
                    if let Some(n) = self.peek(0) {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(ch),
            }
        }
        out
    }

    /// `$(`, `${` or a backquote at the cursor: appends to the word, records a substitution.
    fn dollar_into(&mut self, word: &mut String, subs: &mut Vec<(String, usize)>) -> bool {
        match (self.peek(0), self.peek(1)) {
            (Some('$'), Some('(')) => {
                self.i += 2;
                let at = self.pos();
                let arithmetic = self.peek(0) == Some('(');
                let body = self.substitution();
                word.push_str("$(");
                word.push_str(&body);
                word.push(')');
                if !arithmetic {
                    subs.push((body, at));
                }
                true
            }
            (Some('$'), Some('{')) => {
                self.i += 2;
                self.note_var(0);
                self.brace(word);
                true
            }
            (Some('`'), _) => {
                self.i += 1;
                let at = self.pos();
                let body = self.backquote();
                word.push('`');
                word.push_str(&body);
                word.push('`');
                subs.push((body, at));
                true
            }
            _ => false,
        }
    }

    /// `$(`, `${` or a backquote at the cursor, into the current word.
    fn dollar(&mut self) -> bool {
        let (mut word, mut subs) = (
            std::mem::take(&mut self.word),
            std::mem::take(&mut self.subs),
        );
        let hit = self.dollar_into(&mut word, &mut subs);
        self.word = word;
        self.subs = subs;
        hit
    }

    fn flush(&mut self) {
        if self.in_word {
            self.out.push(Token::Word {
                text: std::mem::take(&mut self.word),
                quoted: self.quoted,
                subs: std::mem::take(&mut self.subs),
                start: self.word_start,
                vars: std::mem::take(&mut self.vars),
            });
            self.in_word = false;
            self.quoted = false;
        }
    }

    fn single_quoted(&mut self) {
        self.in_word = true;
        self.quoted = true;
        self.i += 1;
        while let Some(ch) = self.peek(0) {
            self.i += 1;
            if ch == '\'' {
                break;
            }
            self.word.push(ch);
        }
    }

    fn double_quoted(&mut self) {
        self.in_word = true;
        self.quoted = true;
        self.i += 1;
        while let Some(ch) = self.peek(0) {
            if ch == '"' {
                self.i += 1;
                break;
            }
            if self.dollar() {
                continue;
            }
            if ch == '\\' && matches!(self.peek(1), Some('"' | '\\' | '$' | '`')) {
                self.i += 1;
                self.word.push(self.peek(0).unwrap_or('\\'));
                self.i += 1;
                continue;
            }
            if ch == '$' {
                self.note_var(1);
            }
            self.word.push(ch);
            self.i += 1;
        }
    }

    /// Records the variable name starting `skip` chars after the cursor (`$NAME`, `${NAME…}`).
    fn note_var(&mut self, skip: usize) {
        let name: String = self.c[(self.i + skip).min(self.c.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect();
        if name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            self.vars.push(name);
        }
    }

    /// `&&`, `||`, `|`, `;`, `;;`, `&`, newline, `(`, `)` — or the `&` of a redirection.
    fn operator(&mut self, c: char) {
        // `2>&1`, `>&2`: the `&` belongs to a redirection.
        if c == '&' && !self.in_word && matches!(self.out.last(), Some(Token::Redir(_))) {
            if let Some(Token::Redir(op)) = self.out.last_mut() {
                op.push('&');
            }
            self.i += 1;
            return;
        }
        self.flush();
        let two = self.peek(1) == Some(c);
        let op = match (c, two) {
            ('&', true) => "&&",
            ('|', true) => "||",
            (';', true) => ";;",
            ('&', false) if self.peek(1) == Some('>') => {
                self.i += 2;
                self.out.push(Token::Redir("&>".into()));
                return;
            }
            ('&', false) => "&",
            ('|', false) => "|",
            (';', false) => ";",
            ('\n', _) => "\n",
            ('(', _) => "(",
            _ => ")",
        };
        self.i += if two && matches!(c, '&' | '|' | ';') {
            2
        } else {
            1
        };
        self.out.push(Token::Op(op));
    }

    /// `<`, `>`, `>>`, `<<`, `<<-`, `<<<`, `>|`, with a file descriptor written right before.
    fn redirect(&mut self, c: char) {
        let fd = self.in_word && !self.quoted && self.word.chars().all(|ch| ch.is_ascii_digit());
        let mut op = if fd {
            self.in_word = false;
            std::mem::take(&mut self.word)
        } else {
            self.flush();
            String::new()
        };
        op.push(c);
        self.i += 1;
        while let Some(n) = self.peek(0).filter(|n| matches!(n, '<' | '>' | '-' | '|')) {
            if n == '-' && !op.ends_with("<<") {
                break;
            }
            op.push(n);
            self.i += 1;
        }
        self.out.push(Token::Redir(op));
    }

    fn tokens(mut self) -> Vec<Token> {
        while let Some(c) = self.peek(0) {
            if !self.in_word {
                self.word_start = self.pos();
            }
            if self.dollar() {
                self.in_word = true;
                continue;
            }
            match c {
                '\\' => {
                    if let Some(n) = self.peek(1).filter(|n| *n != '\n') {
                        self.word.push(n);
                        self.in_word = true;
                    }
                    self.i += 2;
                }
                '\'' => self.single_quoted(),
                '"' => self.double_quoted(),
                '#' if !self.in_word => {
                    while self.peek(0).is_some_and(|ch| ch != '\n') {
                        self.i += 1;
                    }
                }
                ' ' | '\t' | '\r' => {
                    self.flush();
                    self.i += 1;
                }
                '\n' | ';' | '&' | '|' | '(' | ')' => self.operator(c),
                '<' | '>' => self.redirect(c),
                _ => {
                    if c == '$' {
                        self.note_var(1);
                    }
                    self.word.push(c);
                    self.in_word = true;
                    self.i += 1;
                }
            }
        }
        self.flush();
        self.out
    }
}

/// Reads a script into simple commands, in order; commands of a substitution come right after
/// the command holding it.
pub fn parse(script: &str) -> Vec<SimpleCommand> {
    parse_at(script, 0, 0)
}

#[derive(PartialEq)]
enum Skip {
    None,
    /// `for x in …` / `select`: words up to the separator are not a command.
    ForHeader,
    /// `case WORD in`: up to `in`.
    CaseHeader,
    /// Inside `case … esac`, reading a pattern up to `)`.
    CasePattern,
}

/// Builds simple commands from tokens, skipping the reserved words of compound statements.
struct Parser {
    depth: usize,
    /// Offset of this script in the outermost one.
    base: usize,
    cmds: Vec<SimpleCommand>,
    cur: SimpleCommand,
    /// Commands of substitutions in the current command: they follow it.
    nested: Vec<SimpleCommand>,
    skip: Skip,
    cases: usize,
    subshell: usize,
    pending_redirect: Option<String>,
}

impl Parser {
    fn in_subshell(&self) -> bool {
        self.depth > 0 || self.subshell > 0
    }

    /// Ends the current command; the next one is joined with `next`.
    fn finish(&mut self, next: Joiner, sub: bool) {
        let done = std::mem::replace(&mut self.cur, SimpleCommand::new(next, sub));
        if !done.words.is_empty() || !done.assigns.is_empty() || !done.redirects.is_empty() {
            self.cmds.push(done);
        }
        self.cmds.append(&mut self.nested);
    }

    /// Whether a word is swallowed by the compound-statement syntax around it.
    fn skipped(&mut self, text: &str, quoted: bool) -> bool {
        match self.skip {
            Skip::ForHeader => {
                if !quoted && text == "do" {
                    self.skip = Skip::None;
                }
                return true;
            }
            Skip::CaseHeader => {
                if !quoted && text == "in" {
                    self.skip = Skip::CasePattern;
                }
                return true;
            }
            Skip::CasePattern => {
                if !quoted && text == "esac" {
                    self.cases = self.cases.saturating_sub(1);
                    if self.cases == 0 {
                        self.skip = Skip::None;
                    }
                }
                return true;
            }
            Skip::None => {}
        }
        let at_start = self.cur.words.is_empty() && self.cur.assigns.is_empty();
        if !at_start || quoted {
            return false;
        }
        match text {
            "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "while" | "until" | "!"
            | "{" | "}" | "function" => true,
            "for" | "select" => {
                self.skip = Skip::ForHeader;
                true
            }
            "case" => {
                self.skip = Skip::CaseHeader;
                self.cases += 1;
                true
            }
            "esac" => {
                self.cases = self.cases.saturating_sub(1);
                true
            }
            _ => false,
        }
    }

    fn word(&mut self, text: String, quoted: bool, subs: Vec<(String, usize)>, start: usize) {
        for (s, at) in subs {
            if self.depth < MAX_DEPTH {
                self.nested
                    .extend(parse_at(&s, self.depth + 1, self.base + at));
            }
        }
        if let Some(op) = self.pending_redirect.take() {
            self.cur.redirects.push((op, text));
            return;
        }
        if self.skipped(&text, quoted) {
            return;
        }
        if self.cur.words.is_empty() && self.cur.assigns.is_empty() {
            self.cur.offset = self.base + start;
        }
        if self.cur.words.is_empty()
            && let Some((k, v)) = split_assign(&text)
        {
            self.cur.assigns.push((k, v));
        } else {
            self.cur.words.push(text);
        }
    }

    fn op(&mut self, op: &str) {
        self.pending_redirect = None;
        let sub = self.in_subshell();
        match op {
            "&&" => self.finish(Joiner::And, sub),
            "||" => self.finish(Joiner::Or, sub),
            "|" => self.finish(Joiner::Pipe, sub),
            ";;" => {
                self.finish(Joiner::Seq, sub);
                if self.cases > 0 {
                    self.skip = Skip::CasePattern;
                }
            }
            "(" if self.skip == Skip::CasePattern => {}
            "(" => {
                let j = self.cur.joiner;
                self.finish(j, true);
                self.subshell += 1;
                self.cur.subshell = true;
            }
            ")" if self.skip == Skip::CasePattern => self.skip = Skip::None,
            ")" => {
                self.subshell = self.subshell.saturating_sub(1);
                let sub = self.in_subshell();
                self.finish(Joiner::Seq, sub);
            }
            // `for x in a b; do` — the header ends at the separator.
            ";" | "\n" if self.skip == Skip::ForHeader => {}
            _ => self.finish(Joiner::Seq, sub),
        }
    }
}

/// Reads `script`, whose first byte is at `base` in the outermost script.
fn parse_at(script: &str, depth: usize, base: usize) -> Vec<SimpleCommand> {
    let mut p = Parser {
        depth,
        base,
        cmds: Vec::new(),
        cur: SimpleCommand::new(Joiner::Start, depth > 0),
        nested: Vec::new(),
        skip: Skip::None,
        cases: 0,
        subshell: 0,
        pending_redirect: None,
    };
    for tok in Lexer::new(script).tokens() {
        match tok {
            Token::Word {
                text,
                quoted,
                subs,
                start,
                vars,
            } => {
                p.cur.vars.extend(vars);
                p.word(text, quoted, subs, start)
            }
            Token::Redir(op) => p.pending_redirect = Some(op),
            Token::Op(op) => p.op(op),
        }
    }
    let sub = p.cur.subshell;
    p.finish(Joiner::Seq, sub);
    p.cmds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_operators_and_assignments() {
        let cmds = parse(
            "CGO_ENABLED=0 GOOS=linux go build -ldflags=\"-s -w\" . && echo ok | tee x || true",
        );
        assert_eq!(cmds.len(), 4);
        assert_eq!(
            cmds[0].assigns,
            vec![
                ("CGO_ENABLED".into(), "0".into()),
                ("GOOS".into(), "linux".into())
            ]
        );
        assert_eq!(cmds[0].words, vec!["go", "build", "-ldflags=-s -w", "."]);
        assert_eq!(cmds[2].joiner, Joiner::Pipe);
        assert_eq!(cmds[3].joiner, Joiner::Or);
        assert!(has_pipe(&cmds));
        assert!(!has_pipe(&parse("a || b 2>&1")));
    }

    #[test]
    fn env_wrapper_moves_assignments() {
        let c = parse("env CGO_ENABLED=0 go build .").remove(0).unwrapped();
        assert_eq!(c.assigns, vec![("CGO_ENABLED".into(), "0".into())]);
        assert_eq!(c.program(), Some("go"));
    }

    #[test]
    fn compound_statements_expose_their_commands() {
        let cmds = parse(
            "if [ -n \"$X\" ]; then go install x@latest; else echo no; fi && for a in b c; do go get $a; done",
        );
        let progs: Vec<&str> = cmds.iter().filter_map(|c| c.program()).collect();
        assert_eq!(progs, vec!["[", "go", "echo", "go"]);
        let cmds = parse(
            "case \"$(uname -m)\" in x86_64) A=amd64 ;; *) echo bad >&2; exit 1 ;; esac && go build .",
        );
        let progs: Vec<&str> = cmds.iter().filter_map(|c| c.program()).collect();
        assert_eq!(progs, vec!["uname", "echo", "exit", "go"]);
        assert!(
            cmds.iter()
                .any(|c| c.assigns == vec![("A".into(), "amd64".into())])
        );
    }

    #[test]
    fn subshells_and_substitutions_are_marked() {
        let cmds = parse("(cd /out && tar c .) | gzip; cd /src; V=$(git describe --tags)");
        let cds: Vec<bool> = cmds
            .iter()
            .filter(|c| c.program() == Some("cd"))
            .map(|c| c.subshell)
            .collect();
        assert_eq!(cds, vec![true, false]);
        let git = cmds.iter().find(|c| c.program() == Some("git")).unwrap();
        assert!(git.subshell && git.words[1] == "describe");
        let v = cmds.iter().find(|c| !c.assigns.is_empty()).unwrap();
        assert_eq!(v.assigns[0].1, "$(git describe --tags)");
    }

    #[test]
    fn commands_know_their_offset_and_the_variables_they_expand() {
        let script =
            "cd /src && \\\n    go build -o $OUT . ; echo '$NOT' \"${PIE:-x}\" $(echo $IN)";
        let cmds = parse(script);
        let go = cmds.iter().find(|c| c.program() == Some("go")).unwrap();
        assert_eq!(&script[go.offset..go.offset + 8], "go build");
        assert_eq!(go.vars, vec!["OUT"]);
        let echo = cmds
            .iter()
            .find(|c| c.words.first().is_some_and(|w| w == "echo") && c.words.len() > 2)
            .unwrap();
        assert_eq!(echo.vars, vec!["PIE"], "single quotes expand nothing");
        let inner = cmds.iter().find(|c| c.words == ["echo", "$IN"]).unwrap();
        assert_eq!(inner.vars, vec!["IN"]);
        assert_eq!(&script[inner.offset..inner.offset + 8], "echo $IN");
    }

    #[test]
    fn redirections_are_not_words() {
        let c = &parse("cat <<EOF > /etc/app.conf 2>&1")[0];
        assert_eq!(c.words, vec!["cat"]);
        assert_eq!(c.redirects[0], ("<<".into(), "EOF".into()));
        assert_eq!(c.redirects[2], ("2>&".into(), "1".into()));
    }
}
