//! Text and Markdown tables of a [`SizeReport`] and of a [`SizeDiff`].

use std::fmt::Write as _;

use super::diff::{Change, SizeDiff};
use super::report::{SizeReport, percent};

/// The level a table groups bytes at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum By {
    /// One row per module (`std`, `cgo`, dependencies, the main module).
    Module,
    /// One row per package (the default).
    #[default]
    Package,
    /// One row per symbol.
    Symbol,
    /// One row per ELF section.
    Section,
}

/// Plain text or GitHub-flavoured Markdown (for PR comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Aligned columns for a terminal (the default).
    #[default]
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// Human size: `12.3 MB`-style with decimal units (as `ls -lh --si` and registries show), and
/// the exact byte count where it matters is in the JSON.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.2} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

fn signed(delta: i64) -> String {
    if delta >= 0 {
        format!("+{}", human(delta as u64))
    } else {
        format!("-{}", human(delta.unsigned_abs()))
    }
}

struct Table {
    header: Vec<&'static str>,
    /// Columns right-aligned in text.
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn render(&self, style: Style, out: &mut String) {
        // Names come from the binary's symbol table or a JSON report: untrusted text.
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| {
                        let c = crate::text::printable(c, 2000);
                        match style {
                            Style::Markdown => c
                                .replace('&', "&amp;")
                                .replace('<', "&lt;")
                                .replace('>', "&gt;"),
                            Style::Text => c,
                        }
                    })
                    .collect()
            })
            .collect();
        match style {
            Style::Markdown => {
                let _ = writeln!(out, "| {} |", self.header.join(" | "));
                let seps: Vec<&str> = self
                    .numeric
                    .iter()
                    .map(|&n| if n { "---:" } else { "---" })
                    .collect();
                let _ = writeln!(out, "|{}|", seps.join("|"));
                for row in &rows {
                    let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
            }
            Style::Text => {
                let mut widths: Vec<usize> =
                    self.header.iter().map(|h| h.chars().count()).collect();
                for row in &rows {
                    for (w, c) in widths.iter_mut().zip(row) {
                        *w = (*w).max(c.chars().count());
                    }
                }
                let line = |cells: Vec<&str>, out: &mut String| {
                    let mut l = String::new();
                    for (i, c) in cells.iter().enumerate() {
                        let pad = widths[i].saturating_sub(c.chars().count());
                        if i > 0 {
                            l.push_str("  ");
                        }
                        if self.numeric[i] {
                            l.push_str(&" ".repeat(pad));
                            l.push_str(c);
                        } else {
                            l.push_str(c);
                            if i + 1 < cells.len() {
                                l.push_str(&" ".repeat(pad));
                            }
                        }
                    }
                    let _ = writeln!(out, "{}", l.trim_end());
                };
                line(self.header.clone(), out);
                for row in &rows {
                    line(row.iter().map(String::as_str).collect(), out);
                }
            }
        }
    }
}

/// The report as a table at level `by`, `top` rows (0: all), then the bucket totals.
pub fn report(r: &SizeReport, by: By, top: usize, style: Style) -> String {
    let mut out = String::new();
    let file = r.totals.file_size;
    if style == Style::Markdown {
        let _ = writeln!(
            out,
            "### Size of `{}`\n",
            crate::text::printable(&r.binary.path, 300).replace('`', "'")
        );
    } else {
        let _ = writeln!(
            out,
            "{}  {} ({} bytes)  {} {}{}",
            crate::text::printable(&r.binary.path, 300),
            human(file),
            file,
            crate::text::printable(&r.binary.go_version, 60),
            crate::text::printable(&r.binary.goarch, 30),
            if r.binary.stripped { "  stripped" } else { "" }
        );
    }
    level_table(r, by, top).render(style, &mut out);
    out.push('\n');
    totals(r, style, &mut out);
    out
}

/// The rows of one level, largest first, `top` of them (0: all).
fn level_table(r: &SizeReport, by: By, top: usize) -> Table {
    let take = |n: usize| if top == 0 { n } else { top.min(n) };
    let pct = |b: u64| format!("{:.2}%", percent(b, r.totals.file_size));
    match by {
        By::Module => Table {
            header: vec!["module", "version", "size", "share", "packages"],
            numeric: vec![false, false, true, true, true],
            rows: r.modules[..take(r.modules.len())]
                .iter()
                .map(|m| {
                    vec![
                        m.path.clone(),
                        m.version.clone(),
                        human(m.size),
                        pct(m.size),
                        m.packages.to_string(),
                    ]
                })
                .collect(),
        },
        By::Package => Table {
            header: vec![
                "package", "size", "share", "code", "functab", "data", "symtab", "embed", "dwarf",
            ],
            numeric: vec![false, true, true, true, true, true, true, true, true],
            rows: r.packages[..take(r.packages.len())]
                .iter()
                .map(|p| {
                    vec![
                        p.path.clone(),
                        human(p.size),
                        pct(p.size),
                        human(p.code),
                        human(p.func_table),
                        human(p.data),
                        human(p.symbol_table),
                        human(p.embed),
                        human(p.debug),
                    ]
                })
                .collect(),
        },
        By::Symbol => Table {
            header: vec!["symbol", "package", "size", "kind"],
            numeric: vec![false, false, true, false],
            rows: r.symbols[..take(r.symbols.len())]
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.package.clone(),
                        human(s.size),
                        super::word(&s.kind),
                    ]
                })
                .collect(),
        },
        By::Section => {
            let file_backed: Vec<_> = r.sections.iter().filter(|s| !s.memory_only).collect();
            Table {
                header: vec!["section", "file size", "attributed", "remainder", "share"],
                numeric: vec![false, true, true, true, true],
                rows: file_backed[..take(file_backed.len())]
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            human(s.file_size),
                            human(s.attributed),
                            human(s.remainder),
                            pct(s.file_size),
                        ]
                    })
                    .collect(),
            }
        }
    }
}

fn totals(r: &SizeReport, style: Style, out: &mut String) {
    let t = &r.totals;
    let f = t.file_size;
    let row =
        |name: &str, b: u64| vec![name.to_string(), human(b), format!("{:.2}%", percent(b, f))];
    let table = Table {
        header: vec!["bucket", "size", "share"],
        numeric: vec![false, true, true],
        rows: vec![
            row("code owners (packages, cgo, embeds)", t.owners),
            row("linker symbols without a package", t.linker_symbols),
            row("section remainders (unattributed)", t.section_remainders),
            row("ELF headers", t.headers),
            row("padding", t.padding),
            row("file size (sum of the above)", f),
        ],
    };
    table.render(style, out);
    let _ = writeln!(
        out,
        "\nattributed to code owners: {} of {} ({:.1}%)",
        human(t.owners),
        human(f),
        t.owner_share
    );
    if r.binary.stripped && r.binary.twin_symbols > 0 {
        let _ = writeln!(
            out,
            "note: stripped binary: its data is named from an unstripped twin build (same flags without -s; identical loaded sections)"
        );
    } else if r.binary.stripped {
        let _ = writeln!(
            out,
            "note: stripped binary: functions are named from the function table; data symbols need .symtab (build without -s to attribute them)"
        );
    }
    for n in &r.binary.notes {
        let _ = writeln!(out, "note: {n}");
    }
}

/// A diff as tables at the module, package and symbol levels, `top` rows each (0: all).
pub fn diff(d: &SizeDiff, top: usize, style: Style) -> String {
    let mut out = String::new();
    let delta = d.new_size as i64 - d.old_size as i64;
    let headline = format!(
        "{} → {}: {} → {} ({}, {:+.2}%)",
        crate::text::printable(&d.old_name, 300),
        crate::text::printable(&d.new_name, 300),
        human(d.old_size),
        human(d.new_size),
        signed(delta),
        if d.old_size == 0 {
            0.0
        } else {
            delta as f64 * 100.0 / d.old_size as f64
        }
    );
    if style == Style::Markdown {
        let _ = writeln!(out, "### Binary size: {headline}\n");
    } else {
        let _ = writeln!(out, "{headline}");
    }
    for (title, changes) in [
        ("module", &d.modules),
        ("package", &d.packages),
        ("symbol", &d.symbols),
    ] {
        let shown: Vec<&Change> = changes
            .iter()
            .filter(|c| c.delta() != 0)
            .take(if top == 0 { usize::MAX } else { top })
            .collect();
        if style == Style::Markdown {
            let _ = writeln!(out, "\n**By {title}**\n");
        } else {
            let _ = writeln!(out, "\nby {title}");
        }
        if shown.is_empty() {
            let _ = writeln!(out, "no change");
            continue;
        }
        let table = Table {
            header: vec![title_header(title), "old", "new", "change", ""],
            numeric: vec![false, true, true, true, false],
            rows: shown
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        human(c.old),
                        human(c.new),
                        signed(c.delta()),
                        super::word(&c.kind),
                    ]
                })
                .collect(),
        };
        table.render(style, &mut out);
    }
    out
}

fn title_header(title: &str) -> &'static str {
    match title {
        "module" => "module",
        "package" => "package",
        _ => "symbol",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(12_345), "12.3 kB");
        assert_eq!(human(12_000_000), "12.00 MB");
        assert_eq!(signed(-2048), "-2.0 kB");
    }

    #[test]
    fn untrusted_names_reach_no_terminal_or_html_raw() {
        let table = Table {
            header: vec!["name", "size"],
            numeric: vec![false, true],
            rows: vec![vec![
                "main.\u{1b}[31mred\u{7}<img onerror=x>".into(),
                "1 B".into(),
            ]],
        };
        let mut text = String::new();
        table.render(Style::Text, &mut text);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        let mut md = String::new();
        table.render(Style::Markdown, &mut md);
        assert!(!md.contains("<img") && md.contains("&lt;img"), "{md}");
    }

    #[test]
    fn markdown_tables_escape_pipes() {
        let t = Table {
            header: vec!["a", "b"],
            numeric: vec![false, true],
            rows: vec![vec!["x|y".into(), "1".into()]],
        };
        let mut out = String::new();
        t.render(Style::Markdown, &mut out);
        assert_eq!(out, "| a | b |\n|---|---:|\n| x\\|y | 1 |\n");
    }
}
