//! `gopack inspect OLD NEW`: what changed between two images — files (content, mode, owner,
//! type, link target, time), layers reused and new (and the bytes a node that has OLD pulls for
//! NEW), config fields, sizes, and per Go binary the Go version, main module version, settings
//! and dependency versions. Each kind of noise has its own switch ([`Ignore`]).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Analysis;
use super::report::{ConfigView, layer_history};
use crate::oci::{FileType, NodeInfo};

/// The schema name and version of [`DiffReport`].
pub const SCHEMA: &str = "gopack.inspect-diff/v1";

/// Noise to leave out of a diff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ignore {
    /// File modification times, config `created`, history times.
    pub timestamps: bool,
    /// Manifest annotations.
    pub annotations: bool,
    /// Config labels.
    pub labels: bool,
    /// History lines (`created_by`).
    pub history: bool,
    /// File mode and owner changes.
    pub permissions: bool,
}

impl Ignore {
    /// Parses `timestamps,annotations,labels,history,permissions`.
    pub fn parse(list: &[String]) -> Result<Ignore, String> {
        let mut i = Ignore::default();
        for item in list.iter().flat_map(|l| l.split(',')).map(str::trim) {
            match item {
                "" => {}
                "timestamps" => i.timestamps = true,
                "annotations" => i.annotations = true,
                "labels" => i.labels = true,
                "history" => i.history = true,
                "permissions" => i.permissions = true,
                other => {
                    return Err(format!(
                        "--ignore {other}: expected timestamps, annotations, labels, history or \
                         permissions"
                    ));
                }
            }
        }
        Ok(i)
    }
}

/// What changed.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The old image's source.
    pub old: String,
    /// The new image's source.
    pub new: String,
    /// `os/arch` compared.
    pub platform: String,
    /// Manifest digests, old and new.
    pub manifest_digests: (String, String),
    /// Files.
    pub files: FileChanges,
    /// Layers.
    pub layers: LayerChanges,
    /// Config fields that differ.
    pub config: Vec<FieldChange>,
    /// Sizes.
    pub size: SizeDelta,
    /// Go binaries.
    pub go_binaries: Vec<BinaryChange>,
    /// The noise left out (`timestamps`, …).
    pub ignored: Vec<&'static str>,
}

/// File changes, paths absolute.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileChanges {
    /// Paths only in the new image.
    pub added: Vec<FileChange>,
    /// Paths only in the old image.
    pub removed: Vec<FileChange>,
    /// Paths in both that differ.
    pub changed: Vec<FileChange>,
}

/// One path.
#[derive(Clone, Debug, Serialize)]
pub struct FileChange {
    /// Absolute path.
    pub path: String,
    /// Kind in the new image (or the old one, for removals).
    pub kind: &'static str,
    /// Size in the new image (old for removals).
    pub size: u64,
    /// What differs (`content`, `mode 0644 -> 0755`, `owner 0:0 -> 1:1`, …); empty for
    /// additions and removals.
    pub what: Vec<String>,
}

/// Layer reuse.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LayerChanges {
    /// Digests in both images.
    pub reused: Vec<String>,
    /// New layers: digest and compressed size.
    pub added: Vec<(String, u64)>,
    /// Layers only in the old image.
    pub removed: Vec<(String, u64)>,
    /// Compressed bytes a node holding the old image pulls for the new one (new layers, config
    /// and manifest).
    pub pull_bytes: u64,
}

/// A config field that differs.
#[derive(Clone, Debug, Serialize)]
pub struct FieldChange {
    /// The field (`user`, `env`, `entrypoint`, `labels.KEY`, …).
    pub field: String,
    /// Old value (JSON text; secrets masked).
    pub old: String,
    /// New value.
    pub new: String,
}

/// Sizes, old → new.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SizeDelta {
    /// Compressed bytes (layers + config + manifest).
    pub compressed: (u64, u64),
    /// Uncompressed layer bytes.
    pub uncompressed: (u64, u64),
    /// Σ final file sizes.
    pub file_bytes: (u64, u64),
}

/// A Go binary's changes.
#[derive(Clone, Debug, Serialize)]
pub struct BinaryChange {
    /// Absolute path.
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub status: &'static str,
    /// Go version old → new (empty side when added/removed).
    pub go_version: (String, String),
    /// Main module version old → new.
    pub module_version: (String, String),
    /// Settings that differ: key, old, new.
    pub settings: Vec<(String, String, String)>,
    /// Dependencies that differ: module path, old version, new version (empty: absent).
    pub dependencies: Vec<(String, String, String)>,
}

/// Compares two analysed images.
pub fn diff(a: &Analysis, b: &Analysis, ignore: Ignore) -> DiffReport {
    let ra = super::report::image_report(a);
    let rb = super::report::image_report(b);
    let mut ignored = Vec::new();
    for (on, name) in [
        (ignore.timestamps, "timestamps"),
        (ignore.annotations, "annotations"),
        (ignore.labels, "labels"),
        (ignore.history, "history"),
        (ignore.permissions, "permissions"),
    ] {
        if on {
            ignored.push(name);
        }
    }
    DiffReport {
        schema: SCHEMA,
        old: a.origin.clone(),
        new: b.origin.clone(),
        platform: b.image.platform.to_string(),
        manifest_digests: (ra.manifest_digest.clone(), rb.manifest_digest.clone()),
        files: file_changes(a, b, ignore),
        layers: layer_changes(a, b),
        config: config_changes(a, b, &ra.config, &rb.config, ignore),
        size: SizeDelta {
            compressed: (ra.totals.compressed_bytes, rb.totals.compressed_bytes),
            uncompressed: (ra.totals.uncompressed_bytes, rb.totals.uncompressed_bytes),
            file_bytes: (ra.totals.file_bytes, rb.totals.file_bytes),
        },
        go_binaries: binary_changes(a, b),
        ignored,
    }
}

struct Seen {
    info: NodeInfo,
    sha256: Option<[u8; 32]>,
}

fn files_of(x: &Analysis) -> HashMap<String, Seen> {
    x.merged
        .tree
        .walk()
        .map(|(path, id)| {
            let sha256 = x.merged.states.get(path.as_str()).and_then(|s| s.sha256);
            let info = x.merged.tree.info(id).clone();
            (path, Seen { info, sha256 })
        })
        .collect()
}

fn kind(info: &NodeInfo) -> &'static str {
    super::record::Kind::of(info.file_type).as_str()
}

fn file_changes(a: &Analysis, b: &Analysis, ignore: Ignore) -> FileChanges {
    let old = files_of(a);
    let mut out = FileChanges::default();
    let mut new_paths = std::collections::HashSet::new();
    for (path, id) in b.merged.tree.walk() {
        let info = b.merged.tree.info(id);
        let sha = b.merged.states.get(path.as_str()).and_then(|s| s.sha256);
        let change = |what| FileChange {
            path: format!("/{path}"),
            kind: kind(info),
            size: info.size,
            what,
        };
        match old.get(&path) {
            None => out.added.push(change(Vec::new())),
            Some(o) => {
                let what = differences(&o.info, o.sha256, info, sha, ignore);
                if !what.is_empty() {
                    out.changed.push(change(what));
                }
            }
        }
        new_paths.insert(path);
    }
    for (path, o) in &old {
        if !new_paths.contains(path) {
            out.removed.push(FileChange {
                path: format!("/{path}"),
                kind: kind(&o.info),
                size: o.info.size,
                what: Vec::new(),
            });
        }
    }
    out.removed.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

fn differences(
    o: &NodeInfo,
    osha: Option<[u8; 32]>,
    n: &NodeInfo,
    nsha: Option<[u8; 32]>,
    ignore: Ignore,
) -> Vec<String> {
    let mut what = Vec::new();
    if o.file_type != n.file_type {
        what.push(format!("type {} -> {}", kind(o), kind(n)));
    } else if n.file_type == FileType::Regular && (osha != nsha || o.size != n.size) {
        what.push(format!("content ({} -> {} bytes)", o.size, n.size));
    }
    if o.link_target != n.link_target {
        what.push(format!(
            "link {} -> {}",
            o.link_target.as_deref().unwrap_or(""),
            n.link_target.as_deref().unwrap_or("")
        ));
    }
    if !ignore.permissions {
        if o.mode != n.mode {
            what.push(format!("mode {:04o} -> {:04o}", o.mode, n.mode));
        }
        if (o.uid, o.gid) != (n.uid, n.gid) {
            what.push(format!("owner {}:{} -> {}:{}", o.uid, o.gid, n.uid, n.gid));
        }
    }
    if !ignore.timestamps && o.mtime != n.mtime && n.file_type != FileType::Directory {
        what.push(format!("mtime {} -> {}", o.mtime, n.mtime));
    }
    what
}

fn layer_changes(a: &Analysis, b: &Analysis) -> LayerChanges {
    let old: Vec<&crate::oci::Descriptor> = a.image.manifest.layers.iter().collect();
    let mut out = LayerChanges::default();
    for l in &b.image.manifest.layers {
        if old.iter().any(|o| o.digest == l.digest) {
            out.reused.push(l.digest.to_string());
        } else {
            out.added.push((l.digest.to_string(), l.size));
            out.pull_bytes += l.size;
        }
    }
    for o in old {
        if !b.image.manifest.layers.iter().any(|l| l.digest == o.digest) {
            out.removed.push((o.digest.to_string(), o.size));
        }
    }
    if a.image.manifest_digest != b.image.manifest_digest {
        out.pull_bytes += b.image.config_descriptor.size + b.image.manifest_bytes.len() as u64;
    }
    out
}

fn config_changes(
    a: &Analysis,
    b: &Analysis,
    ca: &ConfigView,
    cb: &ConfigView,
    ignore: Ignore,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, old: String, new: String| {
        if old != new {
            out.push(FieldChange {
                field: name.to_string(),
                old,
                new,
            });
        }
    };
    field("user", ca.user.clone(), cb.user.clone());
    field("entrypoint", j(&ca.entrypoint), j(&cb.entrypoint));
    field("cmd", j(&ca.cmd), j(&cb.cmd));
    field("env", j(&ca.env), j(&cb.env));
    field(
        "working_dir",
        ca.working_dir.clone(),
        cb.working_dir.clone(),
    );
    field("exposed_ports", j(&ca.exposed_ports), j(&cb.exposed_ports));
    field(
        "platform",
        a.image.platform.to_string(),
        b.image.platform.to_string(),
    );
    if !ignore.timestamps {
        field("created", j(&ca.created), j(&cb.created));
    }
    if !ignore.labels {
        map_changes("labels", &ca.labels, &cb.labels, &mut field);
    }
    if !ignore.annotations {
        map_changes("annotations", &ca.annotations, &cb.annotations, &mut field);
    }
    if !ignore.history {
        field("history", j(&layer_history(a)), j(&layer_history(b)));
    }
    out
}

fn map_changes(
    name: &str,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    field: &mut impl FnMut(&str, String, String),
) {
    for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
        field(
            &format!("{name}.{k}"),
            a.get(k).cloned().unwrap_or_default(),
            b.get(k).cloned().unwrap_or_default(),
        );
    }
}

/// Compact JSON text of a value (secrets already masked by the view).
fn j<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn binary_changes(a: &Analysis, b: &Analysis) -> Vec<BinaryChange> {
    let current = |x: &Analysis| -> BTreeMap<String, super::record::GoBinary> {
        x.merged
            .binaries
            .iter()
            .filter(|f| x.merged.is_current(&f.path, f.layer))
            .map(|f| (f.path.clone(), f.binary.clone()))
            .collect()
    };
    let (old, new) = (current(a), current(b));
    let mut out = Vec::new();
    for path in old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)))
    {
        let (o, n) = (old.get(path), new.get(path));
        let version = |g: Option<&super::record::GoBinary>| {
            g.map(|g| g.go_version.clone()).unwrap_or_default()
        };
        let module = |g: Option<&super::record::GoBinary>| {
            g.and_then(|g| g.main_module.as_ref().map(|m| m.1.clone()))
                .unwrap_or_default()
        };
        let settings = pairs_diff(
            o.map(|g| g.settings.as_slice()).unwrap_or(&[]),
            n.map(|g| g.settings.as_slice()).unwrap_or(&[]),
        );
        let deps = pairs_diff(
            o.map(|g| g.deps.as_slice()).unwrap_or(&[]),
            n.map(|g| g.deps.as_slice()).unwrap_or(&[]),
        );
        let status = match (o, n) {
            (None, _) => "added",
            (_, None) => "removed",
            _ if version(o) == version(n)
                && module(o) == module(n)
                && settings.is_empty()
                && deps.is_empty() =>
            {
                continue;
            }
            _ => "changed",
        };
        out.push(BinaryChange {
            path: format!("/{path}"),
            status,
            go_version: (version(o), version(n)),
            module_version: (module(o), module(n)),
            settings,
            dependencies: deps,
        });
    }
    out
}

fn pairs_diff(a: &[(String, String)], b: &[(String, String)]) -> Vec<(String, String, String)> {
    let am: BTreeMap<&str, &str> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bm: BTreeMap<&str, &str> = b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    for k in am.keys().chain(bm.keys().filter(|k| !am.contains_key(*k))) {
        let (x, y) = (
            am.get(k).copied().unwrap_or(""),
            bm.get(k).copied().unwrap_or(""),
        );
        if x != y {
            out.push((k.to_string(), x.to_string(), y.to_string()));
        }
    }
    out
}
