//! One self-contained HTML page: a zoomable treemap (module → package → symbol, plus the
//! section remainders, headers and padding, so areas add up to the file) with search, colours
//! by owner class, and diff colouring when an old report is given. No network: the data and
//! the script are inline, and the page's Content-Security-Policy forbids every fetch.
//!
//! After layout the page exposes what it drew in `#map[data-layout]` (JSON list of
//! `{name, level, size, x, y, w, h}`) and on each rectangle (`data-name`, `data-level`,
//! `data-w`…), so tests read the layout from the DOM.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use super::diff::SizeDiff;
use super::render::human;
use super::report::{Class, PackageSize, SizeReport, SymbolSize};

const TEMPLATE: &str = include_str!("treemap.html");

/// Symbols shown per package; the rest are summed in one `(N more symbols)` rectangle.
pub const SYMBOLS_PER_PACKAGE: usize = 300;

#[derive(Serialize)]
struct Node {
    /// Name.
    n: String,
    /// File bytes.
    s: u64,
    /// Level: file, module, package, symbol, bucket, section.
    l: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<&'static str>,
    /// Change against the old report, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    k: Vec<Node>,
}

fn class_word(c: Class) -> &'static str {
    match c {
        Class::Std => "std",
        Class::Main => "main",
        Class::Deps => "deps",
        Class::Cgo => "cgo",
        Class::Generated => "generated",
    }
}

fn leaf(n: String, s: u64, l: &'static str, c: Option<&'static str>) -> Node {
    Node {
        n,
        s,
        l,
        c,
        d: None,
        k: Vec::new(),
    }
}

/// Changes by name at each level, when diffing.
struct Deltas {
    modules: HashMap<String, i64>,
    packages: HashMap<String, i64>,
    symbols: HashMap<String, i64>,
}

impl Deltas {
    fn new(diff: &SizeDiff) -> Self {
        let map =
            |l: &[super::diff::Change]| l.iter().map(|c| (c.name.clone(), c.delta())).collect();
        Deltas {
            modules: map(&diff.modules),
            packages: map(&diff.packages),
            symbols: map(&diff.symbols),
        }
    }
}

/// An owner's change: its delta, or all of it when it is new.
fn delta(map: Option<&HashMap<String, i64>>, name: &str, size: u64) -> Option<i64> {
    map.map(|m| m.get(name).copied().unwrap_or(size as i64))
}

fn tree(r: &SizeReport, diff: Option<&SizeDiff>) -> Node {
    let deltas = diff.map(Deltas::new);
    let mut by_package: HashMap<&str, Vec<&SymbolSize>> = HashMap::new();
    for s in &r.symbols {
        by_package.entry(s.package.as_str()).or_default().push(s);
    }
    let mut modules: Vec<Node> = Vec::new();
    for m in &r.modules {
        let pkgs = r
            .packages
            .iter()
            .filter(|p| p.module == m.path)
            .map(|p| {
                let syms = by_package
                    .get(p.path.as_str())
                    .map_or(&[][..], |v| v.as_slice());
                package_node(p, syms, deltas.as_ref())
            })
            .collect();
        modules.push(Node {
            n: m.path.clone(),
            s: m.size,
            l: "module",
            c: Some(class_word(m.class)),
            d: delta(deltas.as_ref().map(|d| &d.modules), &m.path, m.size),
            k: pkgs,
        });
    }
    modules.push(unattributed_node(r));
    modules.sort_by_key(|m| std::cmp::Reverse(m.s));
    Node {
        n: r.binary.path.clone(),
        s: r.totals.file_size,
        l: "file",
        c: None,
        d: diff.map(SizeDiff::delta),
        k: modules,
    }
}

/// A package with its largest symbols (the rest summed in one rectangle).
fn package_node(p: &PackageSize, syms: &[&SymbolSize], deltas: Option<&Deltas>) -> Node {
    let class = p.class.map(class_word);
    let mut kids: Vec<Node> = syms
        .iter()
        .take(SYMBOLS_PER_PACKAGE)
        .map(|s| {
            let c = if s.generated {
                Some("generated")
            } else {
                class
            };
            let mut n = leaf(s.name.clone(), s.size, "symbol", c);
            n.d = delta(deltas.map(|d| &d.symbols), &s.name, s.size);
            n
        })
        .collect();
    if syms.len() > SYMBOLS_PER_PACKAGE {
        let rest: u64 = syms[SYMBOLS_PER_PACKAGE..].iter().map(|s| s.size).sum();
        let more = syms.len() - SYMBOLS_PER_PACKAGE;
        kids.push(leaf(
            format!("({more} more symbols)"),
            rest,
            "symbol",
            class,
        ));
    }
    Node {
        n: p.path.clone(),
        s: p.size,
        l: "package",
        c: class,
        d: delta(deltas.map(|d| &d.packages), &p.path, p.size),
        k: kids,
    }
}

/// Section remainders, headers and padding: the bytes no owner claimed, so that areas add up
/// to the file.
fn unattributed_node(r: &SizeReport) -> Node {
    let t = &r.totals;
    let mut k: Vec<Node> = r
        .sections
        .iter()
        .filter(|s| s.remainder > 0)
        .map(|s| leaf(s.name.clone(), s.remainder, "section", Some("bucket")))
        .collect();
    k.push(leaf(
        "ELF headers".into(),
        t.headers,
        "bucket",
        Some("bucket"),
    ));
    k.push(leaf("padding".into(), t.padding, "bucket", Some("bucket")));
    k.retain(|n| n.s > 0);
    Node {
        n: "(not attributed)".into(),
        s: t.section_remainders + t.headers + t.padding,
        l: "bucket",
        c: Some("bucket"),
        d: None,
        k,
    }
}

/// The page for `report`, coloured by change against `diff`'s old binary when given.
pub fn page(report: &SizeReport, diff: Option<&SizeDiff>) -> String {
    let title = match diff {
        Some(d) => format!("{} → {}", d.old_name, d.new_name),
        None => report.binary.path.clone(),
    };
    let t = &report.totals;
    let footer = format!(
        "{} — {} ({} bytes). Attributed to code owners: {} ({:.1}%); section remainders {}, headers {}, padding {}.",
        report.binary.path,
        human(t.file_size),
        t.file_size,
        human(t.owners),
        t.owner_share,
        human(t.section_remainders),
        human(t.headers),
        human(t.padding)
    );
    let data = serde_json::json!({
        "title": format!("gopack size: {title}"),
        "footer": footer,
        "diff": diff.is_some(),
        "tree": tree(report, diff),
    });
    // Inside <script>, `</` could close the element: JSON allows `<\/`.
    let json = data.to_string().replace("</", "<\\/");
    TEMPLATE
        .replace("__TITLE__", &escape_html(&title))
        .replace("__DATA__", &json)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes `contents` to `path` atomically (gopack's locked temp file, fsync, rename; mode 0666
/// minus the umask): a failure never leaves a half-written file or removes a previous one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut tmp = crate::fsutil::temp_file_in(&crate::fsutil::parent_of(path))?;
    tmp.write_all(contents)?;
    crate::fsutil::commit(tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_names_cannot_close_the_script() {
        assert_eq!(escape_html("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
        let json = serde_json::json!({"n": "</script><script>alert(1)"}).to_string();
        assert!(!json.replace("</", "<\\/").contains("</"));
    }

    #[test]
    fn the_page_needs_no_network() {
        assert!(!TEMPLATE.contains("http://") && !TEMPLATE.contains("https://"));
        assert!(TEMPLATE.contains("default-src 'none'"));
    }
}
