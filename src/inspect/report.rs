//! The inspect report as data: what `--json` prints (schema [`SCHEMA`], documented in the README
//! and in `inspect-v1.schema.json`) and what the text, SARIF and JUnit renderings are made from.
//! Fields are only ever added within a schema version; a renamed or removed field bumps it.
//! Every value that comes from the image and looks like a secret is masked here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Analysis;
use super::findings::Finding;
use super::merge::{DiveFigures, FoundElf, WastedPath};
use super::needs::{Linked, missing_from_image};
use super::rules::RuleId;
use super::sensitive;
use crate::binary::elf::ElfKind;
use crate::dockerfile::Severity;
use crate::oci::FileType;

/// The schema name and version of [`InspectDocument`].
pub const SCHEMA: &str = "gopack.inspect/v1";

/// How many wasted paths the report lists (largest first).
pub const TOP_WASTED: usize = 20;

/// What `gopack inspect --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct InspectDocument {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// One report per platform inspected.
    pub images: Vec<ImageReport>,
    /// The CI gate's verdict, with `--ci`, `--fail-on` or `--max-size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<super::gate::GateReport>,
}

/// One image.
#[derive(Clone, Debug, Serialize)]
pub struct ImageReport {
    /// The source, as named.
    pub source: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// Manifest digest.
    pub manifest_digest: String,
    /// Manifest media type (OCI or Docker).
    pub manifest_media_type: String,
    /// Config digest.
    pub config_digest: String,
    /// The runtime config.
    pub config: ConfigView,
    /// Layers, in order.
    pub layers: Vec<LayerView>,
    /// Sizes of the whole image.
    pub totals: Totals,
    /// Waste: what could be removed without changing the final file system.
    pub waste: WasteView,
    /// Go binaries the final file system holds.
    pub go_binaries: Vec<BinaryView>,
    /// Every other ELF regular file the final file system holds (executables, PIEs, shared
    /// objects…), in path order.
    pub executables: Vec<ExecutableView>,
    /// Problems found, sorted by rule.
    pub findings: Vec<Finding>,
    /// The rules behind the findings, with their explanation and fix.
    pub rules: Vec<RuleView>,
    /// The file listing, with `--files` or `--find`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileView>>,
}

/// The image config, secrets masked.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConfigView {
    /// Creation time as written (RFC 3339).
    pub created: Option<String>,
    /// `USER` (empty: root).
    pub user: String,
    /// ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// CMD.
    pub cmd: Vec<String>,
    /// `KEY=value`, secret-looking values masked.
    pub env: Vec<String>,
    /// WORKDIR.
    pub working_dir: String,
    /// EXPOSE, as `port/proto`.
    pub exposed_ports: Vec<String>,
    /// Config labels, secret-looking values masked.
    pub labels: BTreeMap<String, String>,
    /// Manifest annotations (base image name and digest among them).
    pub annotations: BTreeMap<String, String>,
}

/// One layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerView {
    /// 0-based position.
    pub index: usize,
    /// Blob digest.
    pub digest: String,
    /// Media type as the manifest says.
    pub media_type: String,
    /// Compression found in the blob (`gzip`, `zstd`, `none`).
    pub compression: String,
    /// Compressed bytes (the blob, what a node pulls).
    pub size: u64,
    /// Uncompressed bytes (the tar stream).
    pub uncompressed_size: u64,
    /// diff_id computed from the content.
    pub diff_id: String,
    /// The history `created_by` of this layer, secrets masked.
    pub created_by: Option<String>,
    /// Members (whiteouts included).
    pub entries: usize,
    /// Σ member sizes (dive's layer size).
    pub file_bytes: u64,
    /// Bytes of this layer's copies that later layers hide (reclaimable).
    pub reclaimable_bytes: u64,
    /// Its record came from the cache.
    pub from_cache: bool,
    /// Why it could not be read whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sizes of the whole image.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Layers.
    pub layers: usize,
    /// Σ compressed layer sizes + config + manifest: what a node pulls with no layer cached.
    pub compressed_bytes: u64,
    /// Σ uncompressed layer sizes.
    pub uncompressed_bytes: u64,
    /// Paths in the final file system.
    pub paths: usize,
    /// Regular files in the final file system.
    pub files: usize,
    /// Σ sizes of the final regular files.
    pub file_bytes: u64,
}

/// Waste, in uncompressed bytes.
#[derive(Clone, Debug, Serialize)]
pub struct WasteView {
    /// Σ sizes of every file copy in every layer.
    pub total_file_bytes: u64,
    /// The copies the final image shows.
    pub kept_bytes: u64,
    /// Every other copy: overwritten + metadata_only + deleted.
    pub reclaimable_bytes: u64,
    /// Copies replaced by other content.
    pub overwritten_bytes: u64,
    /// Copies replaced by the same content (chmod/chown/touch).
    pub metadata_only_bytes: u64,
    /// Copies deleted by whiteouts.
    pub deleted_bytes: u64,
    /// kept / total (1 when there are no files): dive's definition without its double count.
    pub efficiency: f64,
    /// Σ file bytes of every layer but the first (dive's "user" bytes).
    pub user_bytes: u64,
    /// reclaimable / user bytes; `None` for a one-layer image.
    pub user_wasted_percent: Option<f64>,
    /// What dive prints for the same image.
    pub dive: DiveFigures,
    /// Paths with the most reclaimable bytes.
    pub top_paths: Vec<WastedPath>,
}

/// A Go binary.
#[derive(Clone, Debug, Serialize)]
pub struct BinaryView {
    /// Absolute path in the image.
    pub path: String,
    /// 0-based layer holding it.
    pub layer: u32,
    /// Bytes.
    pub size: u64,
    /// Go version (`go1.26.1`).
    pub go_version: String,
    /// Main package import path.
    pub main_package: String,
    /// Main module path.
    pub module: Option<String>,
    /// Main module version (`(devel)` when unstamped).
    pub module_version: Option<String>,
    /// Dependencies (path → version).
    pub dependencies: usize,
    /// Build settings in order.
    pub settings: Vec<(String, String)>,
    /// Built without symbols (`-s`).
    pub stripped: bool,
    /// No loader and no shared libraries.
    #[serde(rename = "static")]
    pub is_static: bool,
    /// Its ELF interpreter.
    pub interpreter: Option<String>,
    /// Its DT_NEEDED libraries.
    pub needed_libraries: Vec<String>,
    /// Architecture of the ELF.
    pub goarch: Option<String>,
    /// Runtime needs and the function showing each.
    pub needs: Vec<NeedView>,
    /// Needs met by the binary itself.
    pub satisfied_in_binary: Vec<NeedView>,
    /// What could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An ELF file that is not a Go binary. Header fields are `null` when the header could not be
/// read; linkage fields (`static`, `stripped`…) when [`ExecutableView::error`] says why not.
#[derive(Clone, Debug, Serialize)]
pub struct ExecutableView {
    /// Absolute path in the image.
    pub path: String,
    /// 0-based layer holding it.
    pub layer: u32,
    /// Bytes.
    pub size: u64,
    /// `ELF32` or `ELF64`.
    pub class: Option<String>,
    /// The machine as `uname -m` names it (`x86_64`, `aarch64`…).
    pub machine: Option<String>,
    /// The machine as a GOARCH name (`amd64`…), as image platforms say it.
    pub goarch: Option<String>,
    /// `executable` (ET_EXEC), `pie` (ET_DYN with DF_1_PIE), `shared_object`, `relocatable`,
    /// `core` or `other`.
    #[serde(rename = "type")]
    pub elf_type: Option<ElfKind>,
    /// No loader and no shared libraries.
    #[serde(rename = "static")]
    pub is_static: Option<bool>,
    /// PT_INTERP, the loader.
    pub interpreter: Option<String>,
    /// DT_NEEDED libraries, in order.
    pub needed_libraries: Vec<String>,
    /// DT_RUNPATH (else DT_RPATH) directories, as written (`$ORIGIN` kept).
    pub runpath: Vec<String>,
    /// No `.symtab`.
    pub stripped: Option<bool>,
    /// The loader is not a file in the image.
    pub missing_interpreter: bool,
    /// DT_NEEDED libraries found neither in its runpath (`$ORIGIN` expanded) nor in the
    /// loader's default directories in the image.
    pub missing_libraries: Vec<String>,
    /// Why its linkage is unknown (too large to analyse, malformed headers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A runtime need.
#[derive(Clone, Debug, Serialize)]
pub struct NeedView {
    /// `ca_certificates`, `zoneinfo`, `user_database`, `temp_dir`.
    pub need: String,
    /// The linked function that shows it.
    pub function: String,
}

/// A rule that fired.
#[derive(Clone, Debug, Serialize)]
pub struct RuleView {
    /// `IMG101`.
    pub id: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// dockle / CIS IDs.
    pub peer_ids: &'static [&'static str],
    /// One line.
    pub summary: &'static str,
    /// Why and how to fix.
    pub explanation: &'static str,
}

/// One path of the final file system.
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    /// Absolute path.
    pub path: String,
    /// `file`, `dir`, `symlink`…
    pub kind: &'static str,
    /// Permission bits, octal (`0755`).
    pub mode: String,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Bytes: a file's size; a directory's Σ of what is below it.
    pub size: u64,
    /// 0-based layer that wrote it.
    pub layer: u32,
    /// sha256 of a file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// A link's target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Masks `KEY=value` when it looks like a secret.
pub fn mask_assignment(var: &str) -> String {
    let (name, value) = var.split_once('=').unwrap_or((var, ""));
    if sensitive::secret_assignment(name, value).is_some() {
        format!("{name}={}", sensitive::mask(value))
    } else {
        var.to_string()
    }
}

/// The config view of an analysis.
pub fn config_view(a: &Analysis) -> ConfigView {
    let c = &a.image.config.config;
    ConfigView {
        created: a.image.config.created.clone(),
        user: c.user.clone().unwrap_or_default(),
        entrypoint: c.entrypoint.clone().unwrap_or_default(),
        cmd: c.cmd.clone().unwrap_or_default(),
        env: c.env.iter().flatten().map(|v| mask_assignment(v)).collect(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        exposed_ports: c
            .exposed_ports
            .iter()
            .flatten()
            .map(|(p, _)| p.clone())
            .collect(),
        labels: c
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| {
                let masked = match sensitive::secret_assignment(k, v) {
                    Some(_) => sensitive::mask(v),
                    None => v.clone(),
                };
                (k.clone(), masked)
            })
            .collect(),
        annotations: a.image.manifest.annotations.clone().unwrap_or_default(),
    }
}

/// The history `created_by` of each layer (entries marked `empty_layer` have no layer).
pub fn layer_history(a: &Analysis) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(a.layers.len());
    let mut history = a
        .image
        .config
        .history
        .iter()
        .filter(|h| h.empty_layer != Some(true));
    for _ in &a.layers {
        out.push(
            history
                .next()
                .and_then(|h| h.created_by.as_deref())
                .map(sensitive::mask_text),
        );
    }
    out
}

/// The report of an analysis (`files` left out; see [`file_views`]).
pub fn image_report(a: &Analysis) -> ImageReport {
    let history = layer_history(a);
    let layers: Vec<LayerView> = a
        .layers
        .iter()
        .zip(&a.merged.layers)
        .zip(history)
        .enumerate()
        .map(|(index, ((scan, facts), created_by))| LayerView {
            index,
            digest: scan.descriptor.digest.to_string(),
            media_type: scan.descriptor.media_type.clone(),
            compression: scan.compression.clone(),
            size: scan.descriptor.size,
            uncompressed_size: scan.uncompressed_size,
            diff_id: scan.diff_id.clone(),
            created_by,
            entries: facts.entries,
            file_bytes: facts.file_bytes,
            reclaimable_bytes: facts.reclaimable,
            from_cache: scan.from_cache,
            error: scan.error.clone(),
        })
        .collect();
    let mut rules: Vec<RuleId> = a.findings.iter().map(|f| f.rule).collect();
    rules.sort();
    rules.dedup();
    ImageReport {
        source: a.origin.clone(),
        platform: a.image.platform.to_string(),
        manifest_digest: a.image.manifest_digest.to_string(),
        manifest_media_type: a
            .image
            .manifest
            .media_type
            .clone()
            .unwrap_or_else(|| crate::oci::MEDIA_TYPE_MANIFEST.to_string()),
        config_digest: a.image.config_descriptor.digest.to_string(),
        config: config_view(a),
        totals: totals(a, &layers),
        waste: waste_view(a),
        layers,
        go_binaries: binary_views(a),
        executables: executable_views(a),
        findings: a.findings.clone(),
        rules: rules.into_iter().map(rule_view).collect(),
        files: None,
    }
}

/// The documentation of a rule, as reports carry it.
pub fn rule_view(id: RuleId) -> RuleView {
    let r = id.rule();
    RuleView {
        id: r.code,
        name: r.name,
        severity: r.severity,
        peer_ids: r.peer_ids,
        summary: r.summary,
        explanation: r.explanation,
    }
}

fn totals(a: &Analysis, layers: &[LayerView]) -> Totals {
    let mut t = Totals {
        layers: layers.len(),
        compressed_bytes: layers.iter().map(|l| l.size).sum::<u64>()
            + a.image.config_descriptor.size
            + a.image.manifest_bytes.len() as u64,
        uncompressed_bytes: layers.iter().map(|l| l.uncompressed_size).sum(),
        ..Totals::default()
    };
    let tree = &a.merged.tree;
    let mut stack = vec![tree.root()];
    while let Some(id) = stack.pop() {
        for (_, child) in tree.children(id) {
            t.paths += 1;
            let info = tree.info(child);
            if matches!(info.file_type, FileType::Regular | FileType::Sparse) {
                t.files += 1;
                t.file_bytes += info.size;
            }
            stack.push(child);
        }
    }
    t
}

fn waste_view(a: &Analysis) -> WasteView {
    let w = &a.merged.waste;
    let reclaimable = w.reclaimable();
    let user_bytes: u64 = a.merged.layers.iter().skip(1).map(|l| l.file_bytes).sum();
    let mut top: Vec<WastedPath> = a.merged.wasted_paths.values().cloned().collect();
    top.sort_by(|x, y| y.bytes.cmp(&x.bytes).then_with(|| x.path.cmp(&y.path)));
    top.truncate(TOP_WASTED);
    for t in &mut top {
        t.path = format!("/{}", t.path);
    }
    WasteView {
        total_file_bytes: w.total,
        kept_bytes: w.total - reclaimable,
        reclaimable_bytes: reclaimable,
        overwritten_bytes: w.overwritten,
        metadata_only_bytes: w.metadata_only,
        deleted_bytes: w.deleted,
        efficiency: if w.total == 0 {
            1.0
        } else {
            (w.total - reclaimable) as f64 / w.total as f64
        },
        user_bytes,
        user_wasted_percent: (user_bytes > 0).then(|| reclaimable as f64 / user_bytes as f64),
        dive: a.merged.dive,
        top_paths: top,
    }
}

fn binary_views(a: &Analysis) -> Vec<BinaryView> {
    let needs = |v: &[(String, String)]| {
        v.iter()
            .map(|(n, f)| NeedView {
                need: n.clone(),
                function: f.clone(),
            })
            .collect()
    };
    let mut out: Vec<BinaryView> = a
        .merged
        .binaries
        .iter()
        .filter(|b| a.merged.is_current(&b.path, b.layer))
        .map(|f| {
            let b = &f.binary;
            BinaryView {
                path: format!("/{}", f.path),
                layer: f.layer,
                size: f.size,
                go_version: b.go_version.clone(),
                main_package: b.main_package.clone(),
                module: b.main_module.as_ref().map(|m| m.0.clone()),
                module_version: b.main_module.as_ref().map(|m| m.1.clone()),
                dependencies: b.deps.len(),
                settings: b.settings.clone(),
                stripped: b.stripped,
                is_static: b.is_static(),
                interpreter: b.interpreter.clone(),
                needed_libraries: b.needed.clone(),
                goarch: b.goarch.clone(),
                needs: needs(&b.needs),
                satisfied_in_binary: needs(&b.satisfied),
                error: b.error.clone(),
            }
        })
        .collect();
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

/// The ELF files that are not Go binaries the final file system shows, in path order, with
/// what of their loader and libraries the image lacks.
pub fn executable_views(a: &Analysis) -> Vec<ExecutableView> {
    let mut out: Vec<ExecutableView> = a
        .merged
        .elf_files
        .iter()
        .filter(|f| a.merged.is_current(&f.path, f.layer))
        .map(|f| executable_view(a, f))
        .collect();
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

fn executable_view(a: &Analysis, found: &FoundElf) -> ExecutableView {
    let f = &found.file;
    let header = f.header.as_ref();
    let linked = Linked {
        path: &found.path,
        interpreter: f.interpreter.as_deref(),
        needed: &f.needed,
        runpath: &f.runpath,
        goarch: header.and_then(|h| h.goarch.as_deref()),
    };
    let missing = missing_from_image(&a.merged.tree, &linked);
    ExecutableView {
        path: format!("/{}", found.path),
        layer: found.layer,
        size: found.size,
        class: header.map(|h| h.class.clone()),
        machine: header.map(|h| h.machine.clone()),
        goarch: header.and_then(|h| h.goarch.clone()),
        elf_type: header.map(|h| h.kind),
        is_static: f.is_static(),
        interpreter: f.interpreter.clone(),
        needed_libraries: f.needed.clone(),
        runpath: f.runpath.clone(),
        stripped: f.error.is_none().then_some(f.stripped),
        missing_interpreter: missing.interpreter.is_some(),
        missing_libraries: missing.libraries,
        error: f.error.clone(),
    }
}

/// The final file system as [`FileView`]s, in path order; directories sized by what is below.
pub fn file_views(a: &Analysis) -> Vec<FileView> {
    let tree = &a.merged.tree;
    let mut out: Vec<FileView> = Vec::with_capacity(a.merged.tree.len());
    // Depth-first, children in name order; a directory's size is filled once its subtree is done.
    let mut open: Vec<(usize, usize)> = Vec::new(); // (index in out, depth)
    for (path, id) in tree.walk() {
        let depth = path.matches('/').count();
        while let Some(&(i, d)) = open.last() {
            if d < depth {
                break;
            }
            open.pop();
            if let Some(&(parent, _)) = open.last() {
                out[parent].size += out[i].size;
            }
        }
        let info = tree.info(id);
        let kind = super::record::Kind::of(info.file_type).as_str();
        let sha256 = a
            .merged
            .states
            .get(path.as_str())
            .and_then(|s| s.sha256)
            .filter(|_| info.file_type == FileType::Regular)
            .map(|h| format!("sha256:{}", hex::encode(h)));
        out.push(FileView {
            path: format!("/{path}"),
            kind,
            mode: format!("{:04o}", info.mode),
            uid: info.uid,
            gid: info.gid,
            size: info.size,
            layer: info.layer,
            sha256,
            link: info.link_target.as_deref().map(String::from),
        });
        if let Some(&(parent, _)) = open.last()
            && info.file_type != FileType::Directory
        {
            out[parent].size += info.size;
        }
        if info.file_type == FileType::Directory {
            open.push((out.len() - 1, depth));
        }
    }
    while let Some((i, _)) = open.pop() {
        if let Some(&(parent, _)) = open.last() {
            out[parent].size += out[i].size;
        }
    }
    out
}
