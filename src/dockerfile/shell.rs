//! A small POSIX-shell reader for RUN scripts: enough to find simple commands, their leading
//! `VAR=value` assignments, their words (quotes removed), and the operators between them.
//! It does not evaluate anything; unknown syntax degrades to plain words.

/// How a simple command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joiner {
    Start,
    And,
    Or,
    Pipe,
    Seq,
}

/// One simple command: `A=1 B=2 cmd arg…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    pub joiner: Joiner,
    pub assigns: Vec<(String, String)>,
    pub words: Vec<String>,
}

impl SimpleCommand {
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
                Some("sudo" | "exec" | "time" | "command" | "nice") => {
                    cmd.words.remove(0);
                }
                _ => return cmd,
            }
        }
    }

    pub fn program(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }
}

fn split_assign(w: &str) -> Option<(String, String)> {
    let (k, v) = w.split_once('=')?;
    let valid = !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !k.as_bytes()[0].is_ascii_digit();
    valid.then(|| (k.to_string(), v.to_string()))
}

/// Removes line continuations (`<escape>` + newline) and the comment lines BuildKit drops inside
/// a continued instruction, giving the script the shell will see.
pub fn join_continuations(script: &str, escape: char) -> String {
    let mut out = String::with_capacity(script.len());
    let mut lines = script.split('\n').peekable();
    let mut continued = false;
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if continued && line.trim_start().starts_with('#') {
            continue;
        }
        let trimmed = line.trim_end();
        if let Some(body) = trimmed.strip_suffix(escape) {
            out.push_str(body);
            continued = true;
        } else {
            out.push_str(line);
            continued = false;
            if lines.peek().is_some() {
                out.push('\n');
            }
        }
    }
    out
}

/// Splits a string into words the way a shell would (quotes removed, no expansion).
pub fn split_words(s: &str) -> Vec<String> {
    parse(s)
        .into_iter()
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

/// Reads a script into simple commands.
pub fn parse(script: &str) -> Vec<SimpleCommand> {
    let mut cmds = Vec::new();
    let mut cur = SimpleCommand {
        joiner: Joiner::Start,
        assigns: vec![],
        words: vec![],
    };
    let mut word = String::new();
    let mut in_word = false;
    let mut next_joiner = Joiner::Start;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;

    let flush_word = |cur: &mut SimpleCommand, word: &mut String, in_word: &mut bool| {
        if *in_word {
            let w = std::mem::take(word);
            if cur.words.is_empty()
                && let Some((k, v)) = split_assign(&w)
            {
                cur.assigns.push((k, v));
            } else {
                cur.words.push(w);
            }
            *in_word = false;
        }
    };
    let end_command = |cmds: &mut Vec<SimpleCommand>,
                       cur: &mut SimpleCommand,
                       joiner: &mut Joiner,
                       next: Joiner| {
        if !cur.words.is_empty() || !cur.assigns.is_empty() {
            let done = std::mem::replace(
                cur,
                SimpleCommand {
                    joiner: Joiner::Seq,
                    assigns: vec![],
                    words: vec![],
                },
            );
            cmds.push(done);
        }
        *joiner = next;
        cur.joiner = next;
    };

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        i += 1;
                    }
                    if let Some(&ch) = chars.get(i) {
                        word.push(ch);
                    }
                    i += 1;
                }
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ' ' | '\t' | '\r' => flush_word(&mut cur, &mut word, &mut in_word),
            '\n' | ';' | '(' | ')' | '{' | '}' if !(matches!(c, '{' | '}') && in_word) => {
                flush_word(&mut cur, &mut word, &mut in_word);
                end_command(&mut cmds, &mut cur, &mut next_joiner, Joiner::Seq);
            }
            '&' | '|' => {
                flush_word(&mut cur, &mut word, &mut in_word);
                let double = chars.get(i + 1) == Some(&c);
                let joiner = match (c, double) {
                    ('&', true) => Joiner::And,
                    ('|', true) => Joiner::Or,
                    ('|', false) => Joiner::Pipe,
                    _ => Joiner::Seq,
                };
                // `2>&1` and `>|` are redirections, not operators.
                let redirect = c == '&' && i > 0 && chars[i - 1] == '>';
                if redirect {
                    word.push(c);
                    in_word = true;
                } else {
                    end_command(&mut cmds, &mut cur, &mut next_joiner, joiner);
                }
                if double {
                    i += 1;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
        i += 1;
    }
    flush_word(&mut cur, &mut word, &mut in_word);
    if !cur.words.is_empty() || !cur.assigns.is_empty() {
        cmds.push(cur);
    }
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_operators_and_assignments() {
        let cmds = parse("CGO_ENABLED=0 go build -ldflags=\"-s -w\" . && echo ok | tee x || true");
        assert_eq!(cmds.len(), 4);
        assert_eq!(cmds[0].assigns, vec![("CGO_ENABLED".into(), "0".into())]);
        assert_eq!(cmds[0].words, vec!["go", "build", "-ldflags=-s -w", "."]);
        assert_eq!(cmds[2].joiner, Joiner::Pipe);
        assert_eq!(cmds[3].joiner, Joiner::Or);
        assert!(has_pipe(&cmds));
        assert!(!has_pipe(&parse("a || b 2>&1")));
    }

    #[test]
    fn joins_continuations_and_drops_comment_lines() {
        let s = join_continuations("go build \\\n  # note\n  -trimpath .", '\\');
        assert_eq!(parse(&s)[0].words, vec!["go", "build", "-trimpath", "."]);
    }

    #[test]
    fn env_wrapper_moves_assignments() {
        let c = parse("env CGO_ENABLED=0 go build .").remove(0).unwrapped();
        assert_eq!(c.assigns, vec![("CGO_ENABLED".into(), "0".into())]);
        assert_eq!(c.program(), Some("go"));
    }
}
