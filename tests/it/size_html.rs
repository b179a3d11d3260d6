//! `gopack size --html`: the treemap page rendered by headless Chromium (Debian's), offline. The
//! page exposes its layout in `#map[data-layout]` and on each rectangle, read back with
//! `--dump-dom`.

use std::path::Path;
use std::process::Command;

use crate::common::{gopack, require_tool, run_ok};
use crate::size_support::go_build;

fn chromium(args: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium")
}

fn url(path: &Path, hash: &str) -> String {
    format!("file://{}{hash}", path.display())
}

/// The `data-layout` JSON of `#map` in a dumped DOM.
fn layout(dom: &str) -> Vec<serde_json::Value> {
    let start = dom
        .find("data-layout=\"")
        .expect("the page exposes its layout")
        + 13;
    let end = start + dom[start..].find('"').unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

fn area(r: &serde_json::Value) -> f64 {
    r["w"].as_f64().unwrap() * r["h"].as_f64().unwrap()
}

#[test]
fn treemap_renders_offline_with_the_largest_package_largest_under_chromium() {
    if !require_tool("chromium") {
        return;
    }
    let binary = go_build("hello", "hello", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("size.html");
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        gopack(cache.path())
            .arg("size")
            .arg(&binary)
            .arg("--json")
            .arg("--html")
            .arg(&page),
    );
    let report: gopack::size::report::SizeReport = serde_json::from_slice(&out.stdout).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );

    let shot = dir.path().join("shot.png");
    let s = chromium(
        &[&format!("--screenshot={}", shot.display())],
        &url(&page, ""),
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{} bytes",
        png.len()
    );

    let dom = chromium(&["--dump-dom"], &url(&page, ""));
    let dom = String::from_utf8_lossy(&dom.stdout);
    let rects = layout(&dom);
    let largest = rects
        .iter()
        .filter(|r| r["level"] == "package")
        .max_by(|a, b| area(a).total_cmp(&area(b)))
        .expect("package rectangles");
    assert_eq!(largest["name"], report.packages[0].path.as_str());
    // Areas are proportional to bytes: the module rectangles tile the page in file bytes.
    let modules: Vec<_> = rects.iter().filter(|r| r["level"] == "module").collect();
    let std = modules.iter().find(|r| r["name"] == "std").unwrap();
    let total: f64 = rects
        .iter()
        .filter(|r| r["level"] != "package" && r["level"] != "section")
        .map(area)
        .sum();
    let share = area(std) / total;
    let std_bytes = report
        .modules
        .iter()
        .find(|m| m.path == "std")
        .unwrap()
        .size as f64;
    let expected = std_bytes / report.totals.file_size as f64;
    assert!((share - expected).abs() < 0.01, "{share} vs {expected}");

    // Zoom and search through the deep link.
    let dom = chromium(
        &["--dump-dom"],
        &url(&page, "#zoom=std>net/http&search=ServeHTTP"),
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("› net/http"), "breadcrumb shows the zoom");
    let rects = layout(&dom);
    assert!(
        rects.iter().all(|r| r["level"] == "symbol"),
        "inside a package: symbols"
    );
    assert!(dom.contains("class=\"r leaf hit\"") || dom.contains("class=\"r group hit\""));
}

#[test]
fn diff_treemap_colours_growth_under_chromium() {
    if !require_tool("chromium") {
        return;
    }
    let old = go_build("hello", "hello", &[], &[]);
    let new = go_build("withdep", "withdep", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("diff.html");
    let cache = tempfile::tempdir().unwrap();
    run_ok(
        gopack(cache.path())
            .arg("size")
            .arg(&old)
            .arg(&new)
            .arg("--html")
            .arg(&page),
    );
    let dom = chromium(&["--dump-dom"], &url(&page, ""));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("grew") && dom.contains("shrank"),
        "diff legend"
    );
    let at = dom
        .find("data-name=\"github.com/google/uuid\" data-level=\"module\"")
        .expect("the added module is drawn");
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..at + dom[at..].find('>').unwrap()];
    assert!(tag.contains("data-delta=\""), "{tag}");
    // hsl(0, …) renders as an rgb() whose red channel dominates.
    let rgb = &tag[tag.find("rgb(").expect("a colour") + 4..];
    let parts: Vec<u32> = rgb[..rgb.find(')').unwrap()]
        .split(',')
        .map(|p| p.trim().parse().unwrap())
        .collect();
    assert!(parts[0] > parts[1] && parts[0] > parts[2], "{tag}");
}
