//! Renderings of inspect results besides JSON: text for people, SARIF 2.1.0 for code-scanning
//! dashboards, and JUnit XML for CI test reports (one test case per rule and per gate check, as
//! container-structure-test reports its checks). Everything taken from the image goes through
//! [`super::findings::printable`] or XML/JSON escaping.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::diff::DiffReport;
use super::findings::printable;
use super::gate::GateReport;
use super::report::{ExecutableView, ImageReport, InspectDocument};
use super::rules::RULES;
use crate::dockerfile::Severity;

/// Bytes for people: `1.2 MB` (powers of 1000, like dive and docker).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

/// The text report of one image.
pub fn text(r: &ImageReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}  {}  {}",
        printable(&r.source),
        r.platform,
        r.manifest_digest
    );
    config_text(&mut o, r);
    layers_text(&mut o, r);
    waste_text(&mut o, r);
    binaries_text(&mut o, r);
    executables_text(&mut o, r);
    findings_text(&mut o, r);
    o
}

/// The config block: user, entrypoint, cmd, workdir, ports, created, env, labels, annotations
/// (empty values left out).
fn config_text(o: &mut String, r: &ImageReport) {
    let c = &r.config;
    let _ = writeln!(o, "\nConfig");
    let row = |o: &mut String, k: &str, v: String| {
        if !v.is_empty() && v != "[]" {
            let _ = writeln!(o, "  {k:<12}{}", printable(&v));
        }
    };
    row(
        o,
        "user",
        if c.user.is_empty() {
            "(root)".into()
        } else {
            c.user.clone()
        },
    );
    row(
        o,
        "entrypoint",
        serde_json::to_string(&c.entrypoint).unwrap_or_default(),
    );
    row(o, "cmd", serde_json::to_string(&c.cmd).unwrap_or_default());
    row(o, "workdir", c.working_dir.clone());
    row(o, "ports", c.exposed_ports.join(", "));
    row(o, "created", c.created.clone().unwrap_or_default());
    for e in &c.env {
        row(o, "env", e.clone());
    }
    for (k, v) in &c.labels {
        row(o, "label", format!("{k}={v}"));
    }
    for (k, v) in &c.annotations {
        row(o, "annotation", format!("{k}={v}"));
    }
}

/// The layer table and the totals line.
fn layers_text(o: &mut String, r: &ImageReport) {
    let _ = writeln!(o, "\nLayers");
    let _ = writeln!(
        o,
        "  {:>3}  {:<19}  {:>9}  {:>9}  {:>9}  created by",
        "#", "digest", "size", "unpacked", "wasted"
    );
    for l in &r.layers {
        let _ = writeln!(
            o,
            "  {:>3}  {:<19}  {:>9}  {:>9}  {:>9}  {}{}",
            l.index + 1,
            &l.digest[..l.digest.len().min(19)],
            human_bytes(l.size),
            human_bytes(l.uncompressed_size),
            human_bytes(l.reclaimable_bytes),
            printable(l.created_by.as_deref().unwrap_or("(no history)")),
            if l.from_cache { "  [cached]" } else { "" }
        );
    }
    let t = &r.totals;
    let _ = writeln!(
        o,
        "\nTotal  {} compressed, {} uncompressed, {} ({} in files)",
        human_bytes(t.compressed_bytes),
        human_bytes(t.uncompressed_bytes),
        crate::text::counted(t.files as u64, "file", "files"),
        human_bytes(t.file_bytes)
    );
}

fn waste_text(o: &mut String, r: &ImageReport) {
    let w = &r.waste;
    let _ = writeln!(
        o,
        "\nWaste  {} reclaimable of {} ({} overwritten, {} metadata-only, {} deleted); efficiency {}",
        human_bytes(w.reclaimable_bytes),
        human_bytes(w.total_file_bytes),
        human_bytes(w.overwritten_bytes),
        human_bytes(w.metadata_only_bytes),
        human_bytes(w.deleted_bytes),
        pct(w.efficiency)
    );
    let _ = writeln!(
        o,
        "       dive would say: efficiency {}, wasted {} (it counts the copy that stays)",
        pct(w.dive.efficiency),
        human_bytes(w.dive.wasted_bytes)
    );
    for p in w.top_paths.iter().take(10) {
        let kinds: Vec<String> = p
            .kinds
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect();
        let _ = writeln!(
            o,
            "  {:>9}  {} {}  {}  ({})",
            human_bytes(p.bytes),
            p.copies,
            if p.copies == 1 { "copy  " } else { "copies" },
            printable(&p.path),
            kinds.join(", ")
        );
    }
}

fn binaries_text(o: &mut String, r: &ImageReport) {
    if r.go_binaries.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nGo binaries");
    for b in &r.go_binaries {
        let setting = |k: &str| {
            b.settings
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.as_str())
        };
        let _ = writeln!(
            o,
            "  {}  {}  {} {}",
            printable(&b.path),
            b.go_version,
            printable(b.module.as_deref().unwrap_or(&b.main_package)),
            printable(b.module_version.as_deref().unwrap_or(""))
        );
        let mut facts = vec![
            if b.is_static {
                "static".to_string()
            } else {
                format!("dynamic ({})", b.interpreter.clone().unwrap_or_default())
            },
            if b.stripped {
                "stripped".into()
            } else {
                "not stripped".into()
            },
        ];
        for k in [
            "CGO_ENABLED",
            "-trimpath",
            "GOEXPERIMENT",
            "GOAMD64",
            "GOARM64",
            "GOARM",
            "-tags",
        ] {
            if let Some(v) = setting(k) {
                facts.push(format!("{k}={v}"));
            }
        }
        let _ = writeln!(o, "      {}", printable(&facts.join(", ")));
        let needs: Vec<String> = b
            .needs
            .iter()
            .map(|n| format!("{} ({})", n.need, n.function))
            .collect();
        if !needs.is_empty() {
            let _ = writeln!(o, "      needs {}", needs.join(", "));
        }
    }
}

/// Most programs the text report lists one a line (`--json` lists every ELF file).
const TEXT_EXECUTABLES: usize = 20;

/// Programs (executables and PIEs, and ELF files that could not be read) one a line, those the
/// image lacks something for first; shared objects and the rest as counts.
fn executables_text(o: &mut String, r: &ImageReport) {
    if r.executables.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nExecutables (not Go)");
    let lacking = |e: &ExecutableView| {
        e.error.is_some() || e.missing_interpreter || !e.missing_libraries.is_empty()
    };
    let (mut programs, rest): (Vec<&ExecutableView>, Vec<&ExecutableView>) = r
        .executables
        .iter()
        .partition(|e| e.error.is_some() || e.elf_type.is_some_and(|k| k.is_program()));
    programs.sort_by_key(|e| !lacking(e));
    for e in programs.iter().take(TEXT_EXECUTABLES) {
        executable_line(o, e);
    }
    if programs.len() > TEXT_EXECUTABLES {
        let _ = writeln!(
            o,
            "  … {} more (--json lists all)",
            programs.len() - TEXT_EXECUTABLES
        );
    }
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for e in &rest {
        let kind = e.elf_type.map_or("other", |k| k.as_str());
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    if !counts.is_empty() {
        let list: Vec<String> = counts
            .iter()
            .map(|(k, n)| {
                let one = k.replace('_', " ");
                crate::text::counted(*n as u64, &one, &format!("{one}s"))
            })
            .collect();
        let _ = writeln!(o, "  and {} (--json lists them)", list.join(", "));
    }
}

/// `/path  ELF64 x86_64 pie, dynamic (/lib64/ld-linux-x86-64.so.2), needs libc.so.6, stripped`
/// and, when the image lacks some of them, a second line naming them.
fn executable_line(o: &mut String, e: &ExecutableView) {
    let mut facts = vec![
        [
            e.class.as_deref().unwrap_or("ELF"),
            e.machine.as_deref().unwrap_or("?"),
            e.elf_type.map_or("?", |k| k.as_str()),
        ]
        .join(" "),
    ];
    match e.is_static {
        Some(true) => facts.push("static".into()),
        Some(false) => facts.push(format!(
            "dynamic ({})",
            e.interpreter.as_deref().unwrap_or("no loader")
        )),
        None => {}
    }
    if !e.needed_libraries.is_empty() {
        facts.push(format!("needs {}", e.needed_libraries.join(" ")));
    }
    match e.stripped {
        Some(true) => facts.push("stripped".into()),
        Some(false) => facts.push("not stripped".into()),
        None => {}
    }
    if let Some(error) = &e.error {
        facts.push(error.clone());
    }
    let _ = writeln!(
        o,
        "  {}  {}",
        printable(&e.path),
        printable(&facts.join(", "))
    );
    let mut missing: Vec<String> = Vec::new();
    if e.missing_interpreter {
        missing.push(format!("loader {}", e.interpreter.as_deref().unwrap_or("")));
    }
    missing.extend(e.missing_libraries.iter().cloned());
    if !missing.is_empty() {
        let _ = writeln!(
            o,
            "      not in the image: {}",
            printable(&missing.join(", "))
        );
    }
}

fn findings_text(o: &mut String, r: &ImageReport) {
    if r.findings.is_empty() {
        let _ = writeln!(o, "\nNo findings");
        return;
    }
    let _ = writeln!(o, "\nFindings");
    for f in &r.findings {
        let peer = f
            .rule
            .rule()
            .peer_ids
            .first()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {} {:<7} {}{}",
            f.rule.code(),
            f.severity.as_str(),
            f.message,
            peer
        );
    }
    let _ = writeln!(
        o,
        "  (gopack inspect --explain ID says why each matters and how to fix it)"
    );
}

/// The gate's verdict as text (dive's summary line at the end).
pub fn gate_text(g: &GateReport) -> String {
    let mut o = format!("\nGate ({})\n", printable(&g.config));
    for c in &g.checks {
        let _ = writeln!(
            o,
            "  {:<5} {:<25} {}",
            c.status.to_uppercase(),
            c.name,
            c.detail
        );
    }
    let count = |s: &str| g.checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        o,
        "Result:{} [Total:{}] [Passed:{}] [Failed:{}] [Skipped:{}]",
        if g.passed { "PASS" } else { "FAIL" },
        g.checks.len(),
        count("pass"),
        count("fail"),
        count("skip")
    );
    o
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// SARIF 2.1.0: every rule, one result per finding, located at `image-path` URIs relative to
/// the image (`usr/bin/passwd`), with the image named in the run's properties.
pub fn sarif(doc: &InspectDocument) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "help": { "text": r.explanation },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
                "properties": { "peerIds": r.peer_ids },
            })
        })
        .collect();
    let mut results = Vec::new();
    for img in &doc.images {
        for f in &img.findings {
            let index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
            let uri = f.path.as_deref().unwrap_or("/").trim_start_matches('/');
            let uri = if uri.is_empty() { "." } else { uri };
            results.push(json!({
                "ruleId": f.rule.code(),
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": escape_uri(uri) } },
                    "logicalLocations": [{ "name": img.source, "fullyQualifiedName": format!("{}@{}", img.source, img.manifest_digest), "kind": "image" }]
                }],
                "properties": { "image": img.source, "platform": img.platform, "layer": f.layer },
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gopack",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/gopack/gopack",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn escape_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: per image a test suite with one case per rule (failed when a finding of it fails
/// the gate, or — without a gate — when it has an error finding) and one per gate check.
pub fn junit(doc: &InspectDocument, fails: &dyn Fn(&super::Finding) -> bool) -> String {
    let mut suites = String::new();
    let mut total = (0usize, 0usize);
    for (i, img) in doc.images.iter().enumerate() {
        let mut cases = String::new();
        let mut counts = (0usize, 0usize);
        junit_rules(img, fails, &mut cases, &mut counts);
        if let Some(g) = &doc.gate {
            let per = g.checks.len() / doc.images.len().max(1);
            let checks = g.checks.iter().skip(i * per).take(per);
            junit_gate(checks, &mut cases, &mut counts);
        }
        let _ = write!(
            suites,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n{cases}  </testsuite>\n",
            xml(&img.source),
            xml(&img.platform),
            counts.0,
            counts.1
        );
        total.0 += counts.0;
        total.1 += counts.1;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gopack inspect\" tests=\"{}\" failures=\"{}\">\n{suites}</testsuites>\n",
        total.0, total.1
    )
}

/// One test case per rule: failed when one of its findings fails, else passed (its findings,
/// if any, as output).
fn junit_rules(
    img: &ImageReport,
    fails: &dyn Fn(&super::Finding) -> bool,
    cases: &mut String,
    counts: &mut (usize, usize),
) {
    for r in RULES {
        let found: Vec<&super::Finding> = img.findings.iter().filter(|f| f.rule == r.id).collect();
        counts.0 += 1;
        let failing: Vec<&&super::Finding> = found.iter().filter(|f| fails(f)).collect();
        let _ = write!(
            cases,
            "    <testcase classname=\"gopack.inspect.{}\" name=\"{} {}\"",
            xml(&img.platform),
            r.code,
            r.name
        );
        if failing.is_empty() {
            let notes: Vec<String> = found.iter().map(|f| xml(&f.message)).collect();
            if notes.is_empty() {
                cases.push_str("/>\n");
            } else {
                let _ = writeln!(
                    cases,
                    "><system-out>{}</system-out></testcase>",
                    notes.join("\n")
                );
            }
        } else {
            counts.1 += 1;
            let text: Vec<String> = failing.iter().map(|f| xml(&f.message)).collect();
            let _ = writeln!(
                cases,
                "><failure type=\"{}\" message=\"{}\">{}</failure></testcase>",
                r.code,
                xml(r.summary),
                text.join("\n")
            );
        }
    }
}

/// One test case per threshold of the gate (findings are the rule cases).
fn junit_gate<'a>(
    checks: impl Iterator<Item = &'a super::gate::GateCheck>,
    cases: &mut String,
    counts: &mut (usize, usize),
) {
    for c in checks.filter(|c| c.name != "findings") {
        counts.0 += 1;
        let _ = write!(
            cases,
            "    <testcase classname=\"gopack.inspect.gate\" name=\"{}\"",
            c.name
        );
        match c.status {
            "fail" => {
                counts.1 += 1;
                let _ = writeln!(
                    cases,
                    "><failure message=\"{}\"/></testcase>",
                    xml(&c.detail)
                );
            }
            "skip" => {
                let _ = writeln!(
                    cases,
                    "><skipped message=\"{}\"/></testcase>",
                    xml(&c.detail)
                );
            }
            _ => cases.push_str("/>\n"),
        }
    }
}

/// The text rendering of a diff; long lists are cut at `limit` lines each, with a count.
pub fn diff_text(d: &DiffReport, limit: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} -> {}  ({})",
        printable(&d.old),
        printable(&d.new),
        d.platform
    );
    let s = &d.size;
    let delta = |(a, b): (u64, u64)| {
        let sign = if b >= a { "+" } else { "-" };
        format!(
            "{} -> {} ({sign}{})",
            human_bytes(a),
            human_bytes(b),
            human_bytes(a.abs_diff(b))
        )
    };
    let _ = writeln!(
        o,
        "\nSize\n  compressed    {}\n  uncompressed  {}\n  in files      {}",
        delta(s.compressed),
        delta(s.uncompressed),
        delta(s.file_bytes)
    );
    let l = &d.layers;
    let _ = writeln!(
        o,
        "\nLayers  {} reused, {} new, {} gone; a node with the old image pulls {}",
        l.reused.len(),
        l.added.len(),
        l.removed.len(),
        human_bytes(l.pull_bytes)
    );
    for (digest, size) in &l.added {
        let _ = writeln!(o, "  + {}  {}", digest, human_bytes(*size));
    }
    if !d.config.is_empty() {
        let _ = writeln!(o, "\nConfig");
        for c in &d.config {
            let _ = writeln!(
                o,
                "  {}: {} -> {}",
                printable(&c.field),
                printable(&c.old),
                printable(&c.new)
            );
        }
    }
    diff_files_text(&mut o, d, limit);
    diff_binaries_text(&mut o, d);
    if !d.ignored.is_empty() {
        let _ = writeln!(o, "\n(ignored: {})", d.ignored.join(", "));
    }
    o
}

fn diff_files_text(o: &mut String, d: &DiffReport, limit: usize) {
    let f = &d.files;
    let _ = writeln!(
        o,
        "\nFiles  {} added, {} removed, {} changed",
        f.added.len(),
        f.removed.len(),
        f.changed.len()
    );
    for (mark, list) in [("+", &f.added), ("-", &f.removed), ("~", &f.changed)] {
        for c in list.iter().take(limit) {
            let what = if c.what.is_empty() {
                String::new()
            } else {
                format!("  ({})", c.what.join(", "))
            };
            let _ = writeln!(
                o,
                "  {mark} {}  {}{}",
                printable(&c.path),
                human_bytes(c.size),
                printable(&what)
            );
        }
        if list.len() > limit {
            let _ = writeln!(
                o,
                "  {mark} … {} more (--json lists all)",
                list.len() - limit
            );
        }
    }
}

fn diff_binaries_text(o: &mut String, d: &DiffReport) {
    if !d.go_binaries.is_empty() {
        let _ = writeln!(o, "\nGo binaries");
        for b in &d.go_binaries {
            let _ = writeln!(
                o,
                "  {} {}: Go {} -> {}, module {} -> {}",
                b.status,
                printable(&b.path),
                b.go_version.0,
                b.go_version.1,
                printable(&b.module_version.0),
                printable(&b.module_version.1)
            );
            for (k, x, y) in b.settings.iter().chain(&b.dependencies) {
                let _ = writeln!(
                    o,
                    "      {}: {} -> {}",
                    printable(k),
                    printable(x),
                    printable(y)
                );
            }
        }
    }
}
