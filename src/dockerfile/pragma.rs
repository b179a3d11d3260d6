//! Comment pragmas. Comments are not instructions, so the text is scanned line by line.
//!
//! - `# gopack ignore=GO104,GO102` — findings of those rules on the next instruction, which must
//!   follow with only comment lines in between (a blank line ends the pragma's reach);
//! - `# gopack global ignore=GO106` — those rules in the whole file;
//! - `# hadolint ignore=DL3006` and `# hadolint global ignore=…` — the same for our rules that
//!   match the hadolint rule (see `RuleInfo::hadolint`), with hadolint's reach: only the
//!   instruction on the very next line.

use std::collections::HashSet;

use super::model::Dockerfile;
use super::rules::{RULES, RuleId};

/// The ignore pragmas of one Dockerfile: rules ignored everywhere, and rules ignored on the
/// instruction each scoped pragma reaches.
#[derive(Debug, Default)]
pub struct Pragmas {
    global: HashSet<RuleId>,
    /// (first line, last line, rules) of the instruction each pragma applies to.
    scoped: Vec<(usize, usize, HashSet<RuleId>)>,
}

impl Pragmas {
    /// Finds the pragmas in `text` (the source `df` was parsed from); unknown rule IDs and
    /// `#` lines inside an instruction are not pragmas.
    pub fn scan(text: &str, df: &Dockerfile) -> Pragmas {
        let mut p = Pragmas::default();
        // Line ranges of top-level instructions, in order.
        let ranges: Vec<(usize, usize)> = df
            .instructions
            .iter()
            .map(|i| (i.line, i.end_line))
            .collect();
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let line_no = n + 1;
            let Some(comment) = line.trim_start().strip_prefix('#') else {
                continue;
            };
            let Some((tool, global, codes)) = parse_pragma(comment) else {
                continue;
            };
            // A '#' line inside an instruction (continuation, heredoc) is not a pragma.
            if ranges.iter().any(|&(s, e)| line_no > s && line_no <= e) {
                continue;
            }
            if global {
                p.global.extend(codes);
                continue;
            }
            let Some(&(s, e)) = ranges.iter().find(|&&(s, _)| s > line_no) else {
                continue;
            };
            let between = &lines[line_no..s - 1];
            let reaches = if tool == "hadolint" {
                between.is_empty()
            } else {
                between.iter().all(|l| l.trim_start().starts_with('#'))
            };
            if reaches {
                p.scoped.push((s, e, codes));
            }
        }
        p
    }

    /// Whether a finding of rule `code` on 1-based `line` is silenced by a scoped pragma.
    pub fn suppresses(&self, code: RuleId, line: usize) -> bool {
        self.scoped
            .iter()
            .any(|(s, e, codes)| (*s..=*e).contains(&line) && codes.contains(&code))
    }

    /// Whether rule `code` is ignored in the whole file (`global ignore=`).
    pub fn globally_ignored(&self, code: RuleId) -> bool {
        self.global.contains(&code)
    }
}

/// `gopack ignore=A,B` / `hadolint global ignore=DL1` → (tool, global, our rule IDs).
fn parse_pragma(comment: &str) -> Option<(&str, bool, HashSet<RuleId>)> {
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
            codes.extend(RuleId::parse(code));
        } else {
            for r in RULES
                .iter()
                .filter(|r| r.hadolint.iter().any(|d| d.eq_ignore_ascii_case(code)))
            {
                codes.insert(r.id);
            }
        }
    }
    Some((tool, global, codes))
}
