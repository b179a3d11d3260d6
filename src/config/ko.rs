//! `gopack init --from .ko.yaml`: ko's configuration as a gopack.toml. Converted:
//! `defaultBaseImage`, `baseImageOverrides`, `defaultPlatforms`, `defaultEnv`, `defaultFlags`,
//! `defaultLdflags` and `builds[]` (`dir`, `main`, `env`, `flags`, `ldflags`), with ko's
//! templates translated (`{{.Git.FullCommit}}` → `{{.Git.Commit}}`; `{{.Env.X}}`,
//! `{{.Git.Tag}}`, `{{.Git.ShortCommit}}`, `{{.Git.CommitDate}}` as they are). Whatever has
//! no gopack equivalent is listed in [`Converted::notes`] (and at the top of the file), never
//! dropped silently.
//!
//! ko's `env` entries are *build* environment variables, not the image's: `CGO_ENABLED`
//! becomes `cgo`, `GOFLAGS` becomes `flags`, and the others stay in the user's environment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use saphyr::{LoadableYamlNode, Yaml};

/// A converted configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Converted {
    /// The gopack.toml text.
    pub toml: String,
    /// What could not be converted (or was changed), one sentence each.
    pub notes: Vec<String>,
}

/// The settings gathered for `[defaults]` or one `[[target]]`, as TOML lines.
#[derive(Clone, Debug, Default)]
struct Table {
    comment: Vec<String>,
    lines: BTreeMap<&'static str, String>,
    ldflags: Vec<String>,
    flags: Vec<String>,
    build_tags: Vec<String>,
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| quote(i))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A scalar as text (numbers and booleans as written).
fn text(y: &Yaml) -> Option<String> {
    if let Some(s) = y.as_str() {
        return Some(s.to_string());
    }
    y.as_integer()
        .map(|i| i.to_string())
        .or_else(|| y.as_bool().map(|b| b.to_string()))
        .or_else(|| y.as_floating_point().map(|f| f.to_string()))
}

fn strings(y: &Yaml) -> Vec<String> {
    match y.as_sequence() {
        Some(seq) => seq.iter().filter_map(text).collect(),
        None => text(y).into_iter().collect(),
    }
}

/// ko template fields and their gopack spelling (`None`: no equivalent).
const TEMPLATE_FIELDS: &[(&str, Option<&str>)] = &[
    (".Git.FullCommit", Some(".Git.Commit")),
    (".Git.ShortCommit", Some(".Git.ShortCommit")),
    (".Git.Tag", Some(".Git.Tag")),
    (".Git.CommitDate", Some(".Git.CommitDate")),
    (".Git.Branch", None),
    (".Git.CommitTimestamp", None),
    (".Git.IsDirty", None),
    (".Git.IsClean", None),
    (".Git.TreeState", None),
    (".Date", None),
    (".Timestamp", None),
];

/// `value` with ko's templates in gopack's spelling, or `Err(field)` for one gopack lacks.
fn translate(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(rest.to_string());
        };
        let field = after[..end].trim();
        let spelled = if field.starts_with(".Env.") {
            field.to_string()
        } else {
            match TEMPLATE_FIELDS.iter().find(|(k, _)| *k == field) {
                Some((_, Some(g))) => g.to_string(),
                _ => return Err(format!("{{{{{field}}}}}")),
            }
        };
        out.push_str(&format!("{{{{{spelled}}}}}"));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Table {
    fn ldflags(&mut self, entries: &[String], place: &str, notes: &mut Vec<String>) {
        for entry in entries {
            let words: Vec<&str> = entry.split_whitespace().collect();
            let kept: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !matches!(*w, "-s" | "-w"))
                .collect();
            if kept.len() < words.len() {
                notes.push(format!(
                    "{place}: ldflags -s/-w dropped: gopack always links with -s (which implies -w)"
                ));
            }
            let joined = kept.join(" ");
            if joined.is_empty() {
                continue;
            }
            if joined.starts_with("-extldflags") {
                notes.push(format!(
                    "{place}: ldflags `{joined}` dropped: gopack's binaries are static without it \
                     (CGO_ENABLED=0, or cgo = \"static\", which passes its own -extldflags -static)"
                ));
                continue;
            }
            match translate(&joined) {
                Ok(t) => self.ldflags.push(t),
                Err(field) => notes.push(format!(
                    "{place}: ldflags `{joined}` not converted: gopack has no template {field} \
                     (it knows {})",
                    super::template::TEMPLATE_FIELDS
                )),
            }
        }
    }

    fn flags(&mut self, flags: &[String], place: &str, notes: &mut Vec<String>) {
        let mut i = 0;
        while i < flags.len() {
            let flag = flags[i].as_str();
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (flag, None),
            };
            match name.trim_start_matches('-') {
                "trimpath" => {}
                "a" => notes.push(format!(
                    "{place}: flag -a dropped: obsolete since Go 1.10 (the build cache is \
                     content-based); gopack never passes it"
                )),
                "v" | "x" => notes.push(format!(
                    "{place}: flag {flag} dropped (go's verbosity; use gopack -v)"
                )),
                "tags" => {
                    let value = value.or_else(|| {
                        i += 1;
                        flags.get(i).cloned()
                    });
                    self.build_tags.extend(
                        value
                            .unwrap_or_default()
                            .split(',')
                            .filter(|t| !t.is_empty())
                            .map(String::from),
                    );
                }
                "ldflags" => {
                    let value = value.or_else(|| {
                        i += 1;
                        flags.get(i).cloned()
                    });
                    self.ldflags(&[value.unwrap_or_default()], place, notes);
                }
                _ => self.flags.push(flag.to_string()),
            }
            i += 1;
        }
    }

    fn env(&mut self, env: &[String], place: &str, notes: &mut Vec<String>) {
        for entry in env {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            match name {
                "CGO_ENABLED" if value == "0" => {
                    self.lines.insert("cgo", quote("off"));
                }
                "CGO_ENABLED" => {
                    self.lines.insert("cgo", quote("auto"));
                    notes.push(format!(
                        "{place}: CGO_ENABLED={value} became cgo = \"auto\": cgo is used when a \
                         package needs it, linked statically"
                    ));
                }
                "GOFLAGS" => self.flags(
                    &value
                        .split_whitespace()
                        .map(String::from)
                        .collect::<Vec<_>>(),
                    place,
                    notes,
                ),
                _ => notes.push(format!(
                    "{place}: build environment {name} not converted: set it in your environment \
                     (or `go env -w {name}=…`); gopack passes the Go environment to go unchanged"
                )),
            }
        }
    }

    fn render(&self, out: &mut String) {
        for c in &self.comment {
            let _ = writeln!(out, "# {c}");
        }
        for (k, v) in &self.lines {
            let _ = writeln!(out, "{k} = {v}");
        }
        if !self.ldflags.is_empty() {
            let _ = writeln!(out, "ldflags = {}", list(&self.ldflags));
        }
        if !self.flags.is_empty() {
            let _ = writeln!(out, "flags = {}", list(&self.flags));
        }
        if !self.build_tags.is_empty() {
            let _ = writeln!(out, "build-tags = {}", list(&self.build_tags));
        }
    }
}

/// `./DIR/MAIN` as a package directory relative to the .ko.yaml.
fn package_of(dir: &str, main: &str) -> String {
    let joined = std::path::Path::new(dir.trim()).join(main.trim());
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => parts.push("..".into()),
            _ => {}
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        format!("./{}", parts.join("/"))
    }
}

const KNOWN_KEYS: &[&str] = &[
    "defaultBaseImage",
    "baseImageOverrides",
    "defaultPlatforms",
    "defaultEnv",
    "defaultFlags",
    "defaultLdflags",
    "builds",
];

/// Converts the text of a .ko.yaml.
pub fn convert(source: &str) -> Result<Converted, String> {
    let docs = Yaml::load_from_str(source).map_err(|e| format!("not valid YAML: {e}"))?;
    let Some(doc) = docs.first() else {
        return Ok(Converted::default());
    };
    let mut notes = Vec::new();
    if let Some(map) = doc.as_mapping() {
        for key in map.keys().filter_map(text) {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                notes.push(format!(
                    "key `{key}` not converted: gopack converts {}",
                    KNOWN_KEYS.join(", ")
                ));
            }
        }
    }
    let mut defaults = Table::default();
    if let Some(base) = doc.as_mapping_get("defaultBaseImage").and_then(text) {
        defaults.lines.insert("base", quote(&base));
    }
    if let Some(p) = doc.as_mapping_get("defaultPlatforms") {
        let platforms = strings(p);
        if platforms.iter().any(|p| p == "all") {
            notes.push(
                "defaultPlatforms `all` not converted: name the platforms (gopack builds the \
                 host's by default)"
                    .into(),
            );
        } else if !platforms.is_empty() {
            defaults.lines.insert("platforms", list(&platforms));
        }
    }
    if let Some(e) = doc.as_mapping_get("defaultEnv") {
        defaults.env(&strings(e), "defaultEnv", &mut notes);
    }
    if let Some(f) = doc.as_mapping_get("defaultFlags") {
        defaults.flags(&strings(f), "defaultFlags", &mut notes);
    }
    if let Some(l) = doc.as_mapping_get("defaultLdflags") {
        defaults.ldflags(&strings(l), "defaultLdflags", &mut notes);
    }
    let targets = targets(doc, &mut notes);
    let notes = grouped(notes);
    Ok(Converted {
        toml: render(&defaults, &targets, &notes),
        notes,
    })
}

/// Notes that say the same of several places (`builds[a]: X`, `builds[b]: X`) as one:
/// `builds[a], builds[b]: X`, in first-seen order.
fn grouped(notes: Vec<String>) -> Vec<String> {
    let mut order: Vec<(String, Vec<String>)> = Vec::new();
    for note in notes {
        let (place, message) = match note.split_once(": ") {
            Some((p, m)) if p.starts_with("builds[") || p.starts_with("default") => {
                (p.to_string(), m.to_string())
            }
            _ => (String::new(), note.clone()),
        };
        match order.iter_mut().find(|(m, _)| *m == message) {
            Some((_, places)) => places.push(place),
            None => order.push((message, vec![place])),
        }
    }
    order
        .into_iter()
        .map(|(message, places)| {
            let places: Vec<String> = places.into_iter().filter(|p| !p.is_empty()).collect();
            if places.is_empty() {
                message
            } else {
                format!("{}: {message}", places.join(", "))
            }
        })
        .collect()
}

/// `builds[]`, then `baseImageOverrides` (onto the build of the same package when there is
/// one: an import path ending in the build's directory).
fn targets(doc: &Yaml, notes: &mut Vec<String>) -> Vec<(String, Table)> {
    let mut targets: Vec<(String, Table)> = Vec::new();
    for build in doc
        .as_mapping_get("builds")
        .and_then(|b| b.as_sequence())
        .into_iter()
        .flatten()
    {
        let field = |k: &str| build.as_mapping_get(k).and_then(text);
        let id = field("id").unwrap_or_default();
        let package = package_of(
            &field("dir").unwrap_or_else(|| ".".into()),
            &field("main").unwrap_or_else(|| ".".into()),
        );
        let place = format!("builds[{id}]");
        if targets.iter().any(|(p, _)| *p == package) {
            notes.push(format!(
                "{place}: a second build for {package} ignored (ko uses the first)"
            ));
            continue;
        }
        let mut t = Table::default();
        if !id.is_empty() {
            t.comment.push(format!("ko build id: {id}"));
        }
        if let Some(e) = build.as_mapping_get("env") {
            t.env(&strings(e), &place, notes);
        }
        if let Some(f) = build.as_mapping_get("flags") {
            t.flags(&strings(f), &place, notes);
        }
        if let Some(l) = build.as_mapping_get("ldflags") {
            t.ldflags(&strings(l), &place, notes);
        }
        if build.as_mapping_get("linux_capabilities").is_some() {
            notes.push(format!(
                "{place}: linux_capabilities not converted: gopack images hold no file \
                 capabilities; grant them in the pod's securityContext"
            ));
        }
        targets.push((package, t));
    }
    if let Some(map) = doc
        .as_mapping_get("baseImageOverrides")
        .and_then(|m| m.as_mapping())
    {
        for (k, v) in map {
            let (Some(path), Some(base)) = (text(k), text(v)) else {
                continue;
            };
            let slot = targets.iter_mut().find(|(p, _)| {
                let rel = p.trim_start_matches("./");
                rel != "." && path.ends_with(&format!("/{rel}"))
            });
            match slot {
                Some((_, t)) => {
                    t.lines.insert("base", quote(&base));
                }
                None => {
                    let mut t = Table::default();
                    t.lines.insert("base", quote(&base));
                    targets.push((path, t));
                }
            }
        }
    }
    targets
}

fn render(defaults: &Table, targets: &[(String, Table)], notes: &[String]) -> String {
    let mut out = String::from(
        "# gopack.toml, converted from .ko.yaml by `gopack init --from`.\n\
         # Every key is optional; a flag or an environment variable overrides it.\n",
    );
    if !notes.is_empty() {
        out.push_str("#\n# Not converted (or changed):\n");
        for n in notes {
            let _ = writeln!(out, "#   - {n}");
        }
    }
    out.push_str("\n[defaults]\n");
    defaults.render(&mut out);
    for (package, t) in targets {
        let _ = writeln!(out, "\n[[target]]\npackage = {}", quote(package));
        t.render(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ko_key_converts() {
        let c = convert(
            "defaultBaseImage: cgr.dev/chainguard/static\ndefaultPlatforms: [linux/amd64, \
             linux/arm64]\ndefaultEnv: [CGO_ENABLED=0, GOPRIVATE=x]\ndefaultFlags: [-trimpath, \
             -tags, netgo, -mod=vendor]\ndefaultLdflags: [-s -w, '-X main.c={{.Git.FullCommit}}']\n\
             baseImageOverrides:\n  example.com/m/cmd/b: alpine\nbuilds:\n- id: b\n  dir: .\n  \
             main: ./cmd/b\n  ldflags: ['-X main.d={{.Date}}', '-X main.v={{.Env.V}}']\n",
        )
        .unwrap();
        let file =
            super::super::ConfigFile::parse(&c.toml, std::path::Path::new("gopack.toml")).unwrap();
        let d = &file.defaults;
        assert_eq!(d.base.as_deref(), Some("cgr.dev/chainguard/static"));
        assert_eq!(d.platforms.as_ref().unwrap().len(), 2);
        assert_eq!(d.build_tags.as_deref(), Some(&["netgo".to_string()][..]));
        assert_eq!(d.flags.as_deref(), Some(&["-mod=vendor".to_string()][..]));
        assert_eq!(
            d.ldflags.as_deref(),
            Some(&["-X main.c={{.Git.Commit}}".to_string()][..])
        );
        assert_eq!(file.targets[0].package, "./cmd/b");
        assert_eq!(file.targets[0].base.as_deref(), Some("alpine"));
        assert_eq!(
            file.targets[0].ldflags.as_deref(),
            Some(&["-X main.v={{.Env.V}}".to_string()][..])
        );
        let notes = c.notes.join("\n");
        assert!(notes.contains("GOPRIVATE"), "{notes}");
        assert!(notes.contains("{{.Date}}"), "{notes}");
        assert!(c.toml.contains("# Not converted"), "{}", c.toml);
    }
}
