//! Comment pragmas. The parser drops comments, so the text is scanned line by line.
//!
//! - `# gopack ignore=GO104,GO102` — findings of those rules on the next instruction;
//! - `# gopack global ignore=GO106` — those rules in the whole file;
//! - `# hadolint ignore=DL3006` and `# hadolint global ignore=…` — the same, for our rules that
//!   match the hadolint rule (see `RuleInfo::hadolint`).

use std::collections::HashSet;

use super::model::Dockerfile;
use super::rules::RULES;

#[derive(Debug, Default)]
pub struct Pragmas {
    global: HashSet<String>,
    /// (first line, last line, codes) of the instruction each pragma applies to.
    scoped: Vec<(usize, usize, HashSet<String>)>,
}

impl Pragmas {
    pub fn scan(text: &str, df: &Dockerfile) -> Pragmas {
        let mut p = Pragmas::default();
        // Line ranges of top-level instructions, in order.
        let ranges: Vec<(usize, usize)> = df
            .instructions
            .iter()
            .map(|i| (i.line, i.end_line))
            .collect();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let Some(comment) = line.trim_start().strip_prefix('#') else {
                continue;
            };
            let Some((global, codes)) = parse_pragma(comment) else {
                continue;
            };
            // A '#' line inside an instruction (continuation, heredoc) is not a pragma.
            if ranges.iter().any(|&(s, e)| line_no > s && line_no <= e) {
                continue;
            }
            if global {
                p.global.extend(codes);
            } else if let Some(&(s, e)) = ranges.iter().find(|&&(s, _)| s > line_no) {
                p.scoped.push((s, e, codes));
            }
        }
        p
    }

    pub fn suppresses(&self, code: &str, line: usize) -> bool {
        self.scoped
            .iter()
            .any(|(s, e, codes)| (*s..=*e).contains(&line) && codes.contains(code))
    }

    pub fn globally_ignored(&self, code: &str) -> bool {
        self.global.contains(code)
    }
}

/// `gopack ignore=A,B` / `hadolint global ignore=DL1` → (global, our rule IDs).
fn parse_pragma(comment: &str) -> Option<(bool, HashSet<String>)> {
    let mut words = comment.split_whitespace();
    let tool = words.next()?;
    if tool != "gopack" && tool != "hadolint" {
        return None;
    }
    let mut next = words.next()?;
    let global = next == "global";
    if global {
        next = words.next()?;
    }
    let list = next.strip_prefix("ignore=")?;
    let mut codes = HashSet::new();
    for code in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if tool == "gopack" {
            codes.insert(code.to_ascii_uppercase());
        } else {
            for r in RULES
                .iter()
                .filter(|r| r.hadolint.iter().any(|d| d.eq_ignore_ascii_case(code)))
            {
                codes.insert(r.id.to_string());
            }
        }
    }
    Some((global, codes))
}
