//! The one description both formats are written from: components (the image, each Go binary's
//! main module, every linked module, the standard library) and how they relate. Built once from
//! [`SbomInput`]; [`super::spdx`] and [`super::cyclonedx`] only translate it.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;

use super::golang::{Toolchain, VersionSource, main_version};
use super::graph::ModuleGraph;
use super::licence::{Licence, LicenceFinder, licence_of_dir};
use super::purl;
use crate::binary::buildinfo::{BuildInfo, Module};
use crate::oci::{Digest, Platform};

/// One Go binary to describe.
#[derive(Clone, Debug)]
pub struct GoBinary {
    /// Where it is: its path inside the image (`/usr/local/bin/api`), or the file as the user
    /// named it.
    pub path: String,
    /// sha256 of the file's bytes.
    pub sha256: Digest,
    /// The file's size in bytes.
    pub size: u64,
    /// Its build information, read from the linked binary.
    pub info: BuildInfo,
    /// The `-X symbol=value` assignments the build passed, in order (gopack's own record: Go
    /// drops `-ldflags` from the build info under `-trimpath`).
    pub x_values: Vec<(String, String)>,
    /// Which module imports which, from `go list -deps` over the build's packages, when the
    /// source was at hand.
    pub graph: Option<ModuleGraph>,
    /// The main module's source directory, where its licence file is.
    pub main_dir: Option<std::path::PathBuf>,
}

/// The image the binaries are in.
#[derive(Clone, Debug)]
pub struct ImageSubject {
    /// Its name: a repository (`registry.example/team/app`) or an image name in a layout.
    pub name: String,
    /// Where it can be fetched (`registry.example/team/app`), for registry images.
    pub repository_url: Option<String>,
    /// The tag it was written under, if any.
    pub tag: Option<String>,
    /// The digest of its (platform) manifest.
    pub manifest_digest: Digest,
    /// Its platform.
    pub platform: Platform,
}

/// What a bill of materials is made from.
#[derive(Clone, Debug)]
pub struct SbomInput {
    /// The image, when the binaries were found in (or built into) one.
    pub image: Option<ImageSubject>,
    /// The Go binaries (at least one).
    pub binaries: Vec<GoBinary>,
    /// RFC 3339 creation time written into the documents (same input, same time → same bytes).
    pub created: String,
}

/// What a component is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Kind {
    /// An OCI image.
    Container,
    /// A Go binary, named by its main module.
    Application,
    /// A Go module linked into a binary.
    Library,
    /// The Go standard library.
    Stdlib,
}

/// One thing in the bill of materials.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Component {
    /// Unique key within the document (CycloneDX `bom-ref`; SPDX IDs are derived from it).
    pub key: String,
    /// What it is.
    pub kind: Kind,
    /// Module path, `stdlib`, or the image name.
    pub name: String,
    /// Its version, when known.
    pub version: Option<String>,
    /// Its package URL.
    pub purl: Option<String>,
    /// Its CPE 2.3 name (the standard library only).
    pub cpe: Option<String>,
    /// SHA-256 hex: of the file for a binary, the module's `h1:` hash for a module (as syft
    /// and ko convert it), the manifest digest for an image.
    pub sha256: Option<String>,
    /// What is known about its licence.
    #[serde(skip)]
    pub licence: Licence,
    /// Where its source can be downloaded (the module proxy's zip).
    pub download: Option<String>,
    /// Paths of the binary in the image (or the file given).
    pub locations: Vec<String>,
    /// `cdx:gomod:*` and `gopack:*` name/value pairs, sorted by name.
    pub properties: Vec<(String, String)>,
}

/// A bill of materials, format-neutral.
#[derive(Clone, Debug)]
pub struct Bom {
    /// The document's name: the image's or the binary's.
    pub name: String,
    /// RFC 3339 creation time.
    pub created: String,
    /// gopack's version, for the `creators`/`tools` entries.
    pub tool_version: String,
    /// Key of the component the document describes (the image, or the only binary).
    pub root: String,
    /// Every component, root included, in a fixed order (kind, then key).
    pub components: Vec<Component>,
    /// `key → keys it depends on` (binary → modules and stdlib, module → modules).
    pub depends_on: BTreeMap<String, BTreeSet<String>>,
    /// `key → keys it contains` (image → binaries).
    pub contains: BTreeMap<String, BTreeSet<String>>,
    /// sha256 hex over everything above: the same content gives the same document IDs.
    pub content_hash: String,
}

impl Bom {
    /// The component with `key`.
    pub fn component(&self, key: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.key == key)
    }
}

/// Builds the bill of materials for `input`, reading licences through `licences`.
pub fn build(input: &SbomInput, licences: &LicenceFinder) -> Bom {
    let mut components: BTreeMap<String, Component> = BTreeMap::new();
    let mut depends_on: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut contains: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let image_key = input.image.as_ref().map(|image| {
        let c = image_component(image);
        let key = c.key.clone();
        components.insert(key.clone(), c);
        key
    });
    let mut first_app = None;
    for binary in &input.binaries {
        let app_key = add_binary(binary, licences, &mut components, &mut depends_on);
        first_app.get_or_insert_with(|| app_key.clone());
        if let Some(image) = &image_key {
            contains
                .entry(image.clone())
                .or_default()
                .insert(app_key.clone());
            depends_on.entry(image.clone()).or_default().insert(app_key);
        }
    }
    let root = image_key.or(first_app).unwrap_or_default();
    let mut components: Vec<Component> = components.into_values().collect();
    components.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    let name = match &input.image {
        Some(image) => image.name.clone(),
        None => input
            .binaries
            .first()
            .map(|b| file_name(&b.path).to_string())
            .unwrap_or_default(),
    };
    let mut bom = Bom {
        name,
        created: input.created.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        root,
        components,
        depends_on,
        contains,
        content_hash: String::new(),
    };
    bom.content_hash = content_hash(&bom);
    bom
}

fn content_hash(bom: &Bom) -> String {
    #[derive(serde::Serialize)]
    struct Canonical<'a> {
        name: &'a str,
        created: &'a str,
        tool: &'a str,
        root: &'a str,
        components: &'a [Component],
        licences: Vec<String>,
        depends_on: &'a BTreeMap<String, BTreeSet<String>>,
        contains: &'a BTreeMap<String, BTreeSet<String>>,
    }
    let canonical = Canonical {
        name: &bom.name,
        created: &bom.created,
        tool: &bom.tool_version,
        root: &bom.root,
        components: &bom.components,
        licences: bom
            .components
            .iter()
            .map(|c| format!("{:?}", c.licence))
            .collect(),
        depends_on: &bom.depends_on,
        contains: &bom.contains,
    };
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    Digest::of(&bytes).hex().to_string()
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn image_component(image: &ImageSubject) -> Component {
    let purl = purl::oci(
        &image.name,
        &image.manifest_digest.to_string(),
        Some(&image.platform.architecture),
        image.repository_url.as_deref(),
        image.tag.as_deref(),
    );
    Component {
        key: purl.clone(),
        kind: Kind::Container,
        name: image.name.clone(),
        version: Some(image.manifest_digest.to_string()),
        purl: Some(purl),
        cpe: None,
        sha256: Some(image.manifest_digest.hex().to_string()),
        licence: Licence::NoFile,
        download: None,
        locations: Vec::new(),
        properties: vec![("gopack:image:platform".into(), image.platform.to_string())],
    }
}

/// Adds a binary's application, module and stdlib components and its dependency edges;
/// returns the application's key.
fn add_binary(
    binary: &GoBinary,
    licences: &LicenceFinder,
    components: &mut BTreeMap<String, Component>,
    depends_on: &mut BTreeMap<String, BTreeSet<String>>,
) -> String {
    let info = &binary.info;
    let toolchain = Toolchain::of(info);
    let app = application(binary, licences);
    let app_key = app.key.clone();
    let main_path = info
        .main
        .as_ref()
        .map(|m| m.path.clone())
        .unwrap_or_default();
    components.insert(app_key.clone(), app);

    let stdlib = stdlib(&toolchain);
    let stdlib_key = stdlib.key.clone();
    components.entry(stdlib_key.clone()).or_insert(stdlib);

    // module path → key, for the graph.
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    keys.insert(main_path.clone(), app_key.clone());
    for dep in &info.deps {
        let library = library(dep, licences);
        keys.insert(dep.path.clone(), library.key.clone());
        components.entry(library.key.clone()).or_insert(library);
    }
    match &binary.graph {
        Some(graph) => {
            let mut reached: BTreeSet<String> = BTreeSet::new();
            for (from, tos) in &graph.imports {
                let Some(from_key) = keys.get(from) else {
                    continue;
                };
                for to in tos {
                    let to_key = if to == ModuleGraph::STD {
                        Some(&stdlib_key)
                    } else {
                        keys.get(to)
                    };
                    if let Some(to_key) = to_key.filter(|k| *k != from_key) {
                        depends_on
                            .entry(from_key.clone())
                            .or_default()
                            .insert(to_key.clone());
                        reached.insert(to_key.clone());
                    }
                }
            }
            // Anything linked that the graph does not reach hangs off the binary, so no
            // module is left unconnected.
            for key in keys.values().chain([&stdlib_key]) {
                if *key != app_key && !reached.contains(key) {
                    depends_on
                        .entry(app_key.clone())
                        .or_default()
                        .insert(key.clone());
                }
            }
        }
        None => {
            let edges = depends_on.entry(app_key.clone()).or_default();
            edges.extend(keys.values().filter(|k| **k != app_key).cloned());
            edges.insert(stdlib_key);
        }
    }
    app_key
}

/// The binary, as the application its main module is.
fn application(binary: &GoBinary, licences: &LicenceFinder) -> Component {
    let info = &binary.info;
    let main = info.main.clone().unwrap_or_default();
    let (version, source) = main_version(info, &binary.x_values);
    let name = if main.path.is_empty() {
        info.path.clone()
    } else {
        main.path.clone()
    };
    let purl = (!name.is_empty()).then(|| purl::golang(&name, version.as_deref()));
    let licence = match &binary.main_dir {
        Some(dir) => licence_of_dir(dir),
        None => licences.module(&main.path, version.as_deref().unwrap_or("")),
    };
    let mut properties = vec![
        (
            "cdx:gomod:binary:name".to_string(),
            file_name(&binary.path).to_string(),
        ),
        (
            "cdx:gomod:binary:hash:SHA-256".into(),
            binary.sha256.hex().to_string(),
        ),
        (
            "cdx:gomod:build:env:GOVERSION".into(),
            info.go_version.clone(),
        ),
        ("gopack:go:main-package".into(), info.path.clone()),
        ("gopack:binary:size".into(), binary.size.to_string()),
        ("gopack:version:source".into(), source.describe()),
    ];
    if let VersionSource::BuildInfo = source
        && main.sum.is_some()
    {
        properties.push(("gopack:go:h1".into(), main.sum.clone().unwrap_or_default()));
    }
    properties.extend(build_settings(info));
    properties.extend(licence_properties(&licence));
    properties.sort();
    properties.dedup();
    Component {
        key: format!("binary:{}", binary.path),
        kind: Kind::Application,
        name,
        version,
        purl,
        cpe: None,
        sha256: Some(binary.sha256.hex().to_string()),
        licence,
        download: None,
        locations: vec![binary.path.clone()],
        properties,
    }
}

/// Build settings as properties: environment settings (`GOOS`, `CGO_ENABLED`, `GOAMD64`…)
/// under `cdx:gomod:build:env:`, tags under `cdx:gomod:build:tag`, the rest (`-trimpath`,
/// `-buildmode`, `vcs.revision`…) under `gopack:go:build:`. `-ldflags` is left out: it may
/// hold values that are not for publication, and the version it set is recorded already.
fn build_settings(info: &BuildInfo) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in &info.settings {
        let is_env = key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_env {
            out.push((format!("cdx:gomod:build:env:{key}"), value.clone()));
        } else if key == "-tags" {
            for tag in value.split(',').filter(|t| !t.is_empty()) {
                out.push(("cdx:gomod:build:tag".into(), tag.to_string()));
            }
        } else if key != "-ldflags" {
            out.push((format!("gopack:go:build:{key}"), value.clone()));
        }
    }
    out
}

fn stdlib(toolchain: &Toolchain) -> Component {
    let version = toolchain.version.clone();
    let mut properties = vec![("gopack:go:toolchain".to_string(), toolchain.raw.clone())];
    if !toolchain.suffix.is_empty() {
        properties.push((
            "gopack:go:toolchain-suffix".into(),
            toolchain.suffix.clone(),
        ));
    }
    if !toolchain.experiments.is_empty() {
        properties.push((
            "gopack:go:experiments".into(),
            toolchain.experiments.join(","),
        ));
    }
    if let Some(fips) = &toolchain.fips {
        properties.push(("gopack:go:fips".into(), fips.clone()));
    }
    properties.sort();
    let purl = version
        .as_deref()
        .map(purl::stdlib)
        .unwrap_or_else(|| "pkg:golang/stdlib".into());
    Component {
        key: format!("stdlib:{}", toolchain.raw),
        kind: Kind::Stdlib,
        name: "stdlib".into(),
        cpe: version
            .as_deref()
            .map(|v| format!("cpe:2.3:a:golang:go:{v}:*:*:*:*:*:*:*")),
        download: version
            .as_deref()
            .map(|v| format!("https://go.dev/dl/go{v}.src.tar.gz")),
        version,
        purl: Some(purl),
        sha256: None,
        licence: Licence::Known("BSD-3-Clause".into()),
        locations: Vec::new(),
        properties,
    }
}

/// A linked module (its replacement, when `go.mod` replaced it with another module).
fn library(dep: &Module, licences: &LicenceFinder) -> Component {
    let mut properties = Vec::new();
    let (path, version, sum) = match dep.replace.as_deref() {
        Some(r) if !r.version.is_empty() && r.version != "(devel)" => {
            properties.push((
                "gopack:go:replaces".into(),
                format!("{}@{}", dep.path, dep.version),
            ));
            (r.path.clone(), Some(r.version.clone()), r.sum.clone())
        }
        Some(r) => {
            properties.push(("gopack:go:replaced-by-directory".into(), r.path.clone()));
            (dep.path.clone(), None, None)
        }
        None => (dep.path.clone(), Some(dep.version.clone()), dep.sum.clone()),
    };
    let version = version.filter(|v| !v.is_empty());
    let licence = licences.module(&path, version.as_deref().unwrap_or(""));
    if let Some(h1) = &sum {
        properties.push(("gopack:go:h1".into(), h1.clone()));
    }
    properties.extend(licence_properties(&licence));
    properties.sort();
    let purl = purl::golang(&path, version.as_deref());
    Component {
        key: purl.clone(),
        kind: Kind::Library,
        download: version.as_deref().map(|v| purl::proxy_zip(&path, v)),
        name: path,
        version,
        purl: Some(purl),
        cpe: None,
        sha256: sum.as_deref().and_then(h1_to_hex),
        licence,
        locations: Vec::new(),
        properties,
    }
}

/// `h1:<base64 sha256>` → 64 hex digits (`None` for another hash kind or a malformed sum).
pub fn h1_to_hex(sum: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sum.strip_prefix("h1:")?)
        .ok()?;
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

/// `gopack:license:status` and `gopack:license:files`.
fn licence_properties(licence: &Licence) -> Vec<(String, String)> {
    let status = |s: &str| ("gopack:license:status".to_string(), s.to_string());
    match licence {
        Licence::Known(_) => vec![],
        Licence::NoFile => vec![status("no licence file at the module root")],
        Licence::NotInCache => vec![status("not read: the module is not in the module cache")],
        Licence::Files(files) => {
            let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            let unknown = licence.unrecognised();
            let mut out = vec![
                ("gopack:license:files".to_string(), names.join(", ")),
                status(if unknown.is_empty() {
                    "identified"
                } else if licence.identifiers().is_empty() {
                    "unrecognised"
                } else {
                    "partly unrecognised"
                }),
            ];
            for f in unknown {
                if let super::licence::FileVerdict::Unrecognised { closest: Some(c) } = &f.verdict {
                    out.push(("gopack:license:closest".into(), format!("{}: {c}", f.name)));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_sums_become_sha256_hex() {
        assert_eq!(
            h1_to_hex("h1:K6j46C81hXtZQfuX60cVWQFBJahKSE2gfRbNuvr5bFs=").as_deref(),
            Some("2ba8f8e82f35857b5941fb97eb471559014125a84a484da07d16cdbafaf96c5b")
        );
        assert_eq!(h1_to_hex("h2:abc"), None);
        assert_eq!(h1_to_hex("h1:not base64!"), None);
        assert_eq!(h1_to_hex("h1:AAAA"), None);
    }
}
