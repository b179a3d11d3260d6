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
use super::report::{Class, SizeReport};

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

fn tree(r: &SizeReport, diff: Option<&SizeDiff>) -> Node {
    let deltas = |list: Option<&Vec<super::diff::Change>>| -> HashMap<String, i64> {
        list.map(|l| l.iter().map(|c| (c.name.clone(), c.delta())).collect())
            .unwrap_or_default()
    };
    let (dm, dp, ds) = (
        deltas(diff.map(|d| &d.modules)),
        deltas(diff.map(|d| &d.packages)),
        deltas(diff.map(|d| &d.symbols)),
    );
    let with_diff = diff.is_some();
    let mut by_package: HashMap<&str, Vec<&super::report::SymbolSize>> = HashMap::new();
    for s in &r.symbols {
        by_package.entry(s.package.as_str()).or_default().push(s);
    }
    let mut modules: Vec<Node> = Vec::new();
    for m in &r.modules {
        let mut pkgs = Vec::new();
        for p in r.packages.iter().filter(|p| p.module == m.path) {
            let class = p.class.map(class_word);
            let syms = by_package.get(p.path.as_str()).cloned().unwrap_or_default();
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
                    n.d = with_diff.then(|| ds.get(&s.name).copied().unwrap_or(s.size as i64));
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
            pkgs.push(Node {
                n: p.path.clone(),
                s: p.size,
                l: "package",
                c: class,
                d: with_diff.then(|| dp.get(&p.path).copied().unwrap_or(p.size as i64)),
                k: kids,
            });
        }
        modules.push(Node {
            n: m.path.clone(),
            s: m.size,
            l: "module",
            c: Some(class_word(m.class)),
            d: with_diff.then(|| dm.get(&m.path).copied().unwrap_or(m.size as i64)),
            k: pkgs,
        });
    }
    let remainders: Vec<Node> = r
        .sections
        .iter()
        .filter(|s| s.remainder > 0)
        .map(|s| leaf(s.name.clone(), s.remainder, "section", Some("bucket")))
        .collect();
    let t = &r.totals;
    let mut buckets = Node {
        n: "(not attributed)".into(),
        s: t.section_remainders + t.headers + t.padding,
        l: "bucket",
        c: Some("bucket"),
        d: None,
        k: remainders,
    };
    buckets.k.push(leaf(
        "ELF headers".into(),
        t.headers,
        "bucket",
        Some("bucket"),
    ));
    buckets
        .k
        .push(leaf("padding".into(), t.padding, "bucket", Some("bucket")));
    buckets.k.retain(|n| n.s > 0);
    modules.push(buckets);
    modules.sort_by_key(|m| std::cmp::Reverse(m.s));
    Node {
        n: r.binary.path.clone(),
        s: t.file_size,
        l: "file",
        c: None,
        d: diff.map(SizeDiff::delta),
        k: modules,
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

/// Writes `contents` to `path` atomically: a temporary file in the same directory, renamed
/// over `path` only once complete, so a failure never leaves a half-written file or removes a
/// previous one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // 0666 before the umask, like any file a tool creates.
    let mut tmp = tempfile::Builder::new()
        .prefix(".gopack-size-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
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
