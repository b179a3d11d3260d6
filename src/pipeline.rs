//! `gopack build` end to end: project → go build per target → binary checks → rootfs → layers →
//! image → sink. Each stage gets plain values from the one before; this module only sequences
//! them and records what happened for the summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::binary::buildinfo::{BuildInfo, read_build_info};
use crate::binary::elf::read_linkage;
use crate::binary::needs::{DetectedNeed, needs_of_file};
use crate::gobuild::{self, CgoMode};
use crate::oci::{
    BlobStore, Compression, Descriptor, Digest, EntryKind, HistoryEntry, Image, ImageConfig,
    LayerEntry, LayerSpec, LayerWriter, Platform, RootFs, RuntimeConfig, WrittenLayer, index_for,
};
use crate::plan::report::{BuiltTarget, MakePlanError, Plan, PlanRequest, make_plan};
use crate::plan::{self, CgoChoice, CgoDecision, FileChoices, FileDecision};
use crate::project::{self, MainPackage, Project};
use crate::rootfs::{self, CA_BUNDLE_PATH};
use crate::sink::{self, ImageSet, IndexBlob, OutputTarget};

/// Where the binary goes in every image.
pub const BINARY_DIR: &str = "/usr/local/bin";

/// Everything a build depends on, as given by the user (flags, env) or defaulted.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub cwd: PathBuf,
    pub patterns: Vec<String>,
    pub platforms: Vec<Platform>,
    pub ldflags: Vec<String>,
    pub tags: Vec<String>,
    pub cgo: CgoChoice,
    pub compression: Compression,
    pub files: FileChoices,
    pub extra_ca_files: Vec<PathBuf>,
    pub data: Vec<DataDir>,
    pub settings: ImageSettings,
    pub output: OutputTarget,
}

/// `--data DIR[:DEST]`: static files copied into the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    pub source: PathBuf,
    pub dest: String,
}

pub const DEFAULT_DATA_DEST: &str = "/data";

impl std::str::FromStr for DataDir {
    type Err = String;
    fn from_str(s: &str) -> Result<DataDir, String> {
        let (source, dest) = match s.split_once(':') {
            Some((src, dest)) => (src, dest.to_string()),
            None => (s, DEFAULT_DATA_DEST.to_string()),
        };
        if !dest.starts_with('/') {
            return Err(format!(
                "--data destination `{dest}` must be an absolute path in the image, e.g. /data"
            ));
        }
        Ok(DataDir {
            source: PathBuf::from(source),
            dest,
        })
    }
}

/// Image config settings from flags.
#[derive(Clone, Debug, Default)]
pub struct ImageSettings {
    pub user: Option<String>,
    pub env: Vec<String>,
    pub ports: Vec<String>,
    pub workdir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// What one platform image turned out to be.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlatformImage {
    pub platform: Platform,
    pub manifest_digest: Digest,
    pub binary_size: u64,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub layers: Vec<LayerSummary>,
    pub go_build: String,
    /// What the linked binary needs at run time, with the function that shows each need.
    pub needs: Vec<DetectedNeed>,
    /// Which base files went in, and why.
    pub files: Vec<FileDecision>,
    #[serde(skip)]
    pub build_info: Option<BuildInfo>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerSummary {
    pub digest: Digest,
    pub size: u64,
    pub uncompressed_size: u64,
    pub description: String,
    pub reused: bool,
}

/// What one main package became.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuiltImage {
    pub name: String,
    pub package: String,
    /// The digest of the index (several platforms) or of the single manifest.
    pub digest: Digest,
    pub media_type: String,
    pub user: String,
    pub entrypoint: Vec<String>,
    pub platforms: Vec<PlatformImage>,
    /// Where the image was written, as a reference a person can pass to skopeo.
    pub reference: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct BuildOutcome {
    pub output: String,
    pub cgo: CgoDecision,
    pub images: Vec<BuiltImage>,
    /// The plan the build followed, with what each linked binary needed.
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    #[error(transparent)]
    GoBuild(#[from] gobuild::GoBuildError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(
        "{binary} ({platform}) is dynamically linked and would not start on an empty base image:\n  \
         interpreter: {interpreter}\n  needed libraries: {libraries}\nTwo ways out: (1) replace the \
         cgo packages with pure-Go ones and build with CGO_ENABLED=0 (gopack's default; `gopack \
         plan` names every package that needs cgo and its module){alternatives}; or (2) keep cgo \
         and link it statically with --cgo static (what --cgo auto does), so the image stays on \
         scratch. An image that ships these libraries needs a base that contains the interpreter \
         and every library listed above"
    )]
    NotStatic {
        binary: String,
        platform: String,
        interpreter: String,
        libraries: String,
        alternatives: String,
    },
    #[error("cannot read the built binary {path}: {reason}")]
    BadBinary { path: PathBuf, reason: String },
    #[error("--data {path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error(transparent)]
    Rootfs(#[from] rootfs::RootfsError),
    #[error(transparent)]
    Layer(#[from] crate::oci::LayerError),
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
    #[error(transparent)]
    Sink(#[from] sink::SinkError),
    #[error("cannot create a build directory in {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

impl From<MakePlanError> for BuildError {
    fn from(e: MakePlanError) -> BuildError {
        match e {
            MakePlanError::Project(e) => BuildError::Project(e),
            MakePlanError::Plan(e) => BuildError::Plan(e),
            MakePlanError::GoBuild(e) => BuildError::GoBuild(e),
            MakePlanError::BadBinary { path, reason } => BuildError::BadBinary { path, reason },
            MakePlanError::Scratch { path, source } => BuildError::Scratch { path, source },
            MakePlanError::Problems(text) => BuildError::Unsupported(text),
        }
    }
}

impl BuildOptions {
    /// The plan inputs of these options: `gopack build` and `gopack plan` share [`make_plan`].
    pub fn plan_request(&self) -> PlanRequest {
        PlanRequest {
            cwd: self.cwd.clone(),
            patterns: self.patterns.clone(),
            platforms: self.platforms.clone(),
            ldflags: self.ldflags.clone(),
            tags: self.tags.clone(),
            cgo: self.cgo,
            files: self.files,
            user: self.settings.user.clone(),
            extra_ca_files: self.extra_ca_files.clone(),
        }
    }
}

/// Receives one line per step, for a progress display.
pub trait Progress {
    fn step(&self, message: &str);
}

impl Progress for () {
    fn step(&self, _: &str) {}
}

/// Runs the whole build and writes the images to `options.output`.
pub fn build(
    store: &BlobStore,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildOutcome, BuildError> {
    sink::preflight(&options.output, options.platforms.len())?;
    if matches!(options.output, OutputTarget::Registry { .. }) {
        return Err(BuildError::Unsupported(
            "pushing to a registry is not available in this build of gopack; write an OCI layout \
             (--output oci:DIR) and copy it with `skopeo copy oci:DIR docker://REF`"
                .into(),
        ));
    }
    progress.step("reading the Go project (go list)");
    let mut the_plan = make_plan(&options.plan_request())?;
    the_plan.check_buildable()?;
    let project = the_plan.project.clone().expect("a buildable plan has a project");
    let cgo = the_plan.cgo_decision();
    let mtime = source_date_epoch(&project.module_root);
    let extra_ca: Vec<String> = options
        .extra_ca_files
        .iter()
        .map(|p| rootfs::read_extra_ca(p))
        .collect::<Result<_, _>>()?;
    let user = options
        .settings
        .user
        .clone()
        .unwrap_or_else(|| rootfs::NONROOT_USER.into());

    let binaries = gobuild::output_dir(store.root(), &project.module_root).map_err(|source| {
        BuildError::Scratch {
            path: store.root().to_path_buf(),
            source,
        }
    })?;
    let writer = LayerWriter::new(store, options.compression);
    let data_layer = match data_layer_spec(&options.data, mtime)? {
        Some(spec) => {
            progress.step("writing the data layer");
            Some((writer.write(&spec)?, spec.description.clone()))
        }
        None => None,
    };

    let mut sets = Vec::new();
    let mut built = Vec::new();
    for package in &project.mains {
        let mut images = Vec::new();
        let mut summaries = Vec::new();
        for platform in &options.platforms {
            progress.step(&format!("go build {} ({platform})", package.import_path));
            let request = the_plan.go_build_request(
                package,
                platform,
                binaries.join(format!("{}-{}", package.name, platform.slug())),
            );
            let binary = gobuild::build(&request)?;
            let info = check_binary(&binary.path, &package.name, platform, cgo.mode)
                .map_err(|e| with_alternatives(e, &project))?;
            let needs = needs_of_file(&binary.path).map_err(|e| e.to_string());
            let (base_files, files) = plan::decide_files(
                &options.files,
                needs.as_ref().map_err(String::as_str),
                &user,
            );
            the_plan.record(
                &package.import_path,
                platform,
                BuiltTarget::new(
                    binary.size,
                    needs.as_ref().map_err(String::as_str),
                    &files,
                ),
            );
            progress.step(&format!("writing the {} layers ({platform})", package.name));
            let base_spec = rootfs::base_files_layer(&base_files, &extra_ca);
            let mut layers: Vec<(WrittenLayer, String)> = Vec::new();
            if !base_spec.entries.is_empty() {
                layers.push((writer.write(&base_spec)?, base_spec.description.clone()));
            }
            layers.extend(data_layer.clone());
            let bin_spec = binary_layer_spec(package, &binary.path, mtime);
            layers.push((writer.write(&bin_spec)?, bin_spec.description.clone()));
            let (config, annotations) = image_config(
                options,
                &project,
                package,
                platform,
                &layers,
                mtime,
                info.as_ref(),
                base_files.ca_certificates,
            );
            let descriptors = layers
                .iter()
                .map(|(l, _)| Descriptor::of_layer(l))
                .collect();
            let image = Image::assemble(store, platform.clone(), config, descriptors, annotations)?;
            summaries.push(PlatformImage {
                platform: platform.clone(),
                manifest_digest: image.manifest_digest.clone(),
                binary_size: binary.size,
                compressed_size: image.compressed_size(),
                uncompressed_size: layers.iter().map(|(l, _)| l.uncompressed_size).sum(),
                layers: layers
                    .iter()
                    .map(|(l, d)| LayerSummary {
                        digest: l.digest.clone(),
                        size: l.size,
                        uncompressed_size: l.uncompressed_size,
                        description: d.clone(),
                        reused: l.reused,
                    })
                    .collect(),
                go_build: binary.command_line,
                needs: needs.map(|n| n.needs).unwrap_or_default(),
                files,
                build_info: info,
            });
            images.push(image);
        }
        let index = if images.len() > 1 {
            let (_, bytes, digest) = index_for(store, &images, BTreeMap::new())?;
            Some(IndexBlob { bytes, digest })
        } else {
            None
        };
        let set = ImageSet {
            name: package.name.clone(),
            images,
            index,
        };
        let top = set.top_descriptor();
        built.push(BuiltImage {
            name: package.name.clone(),
            package: package.import_path.clone(),
            digest: top.digest,
            media_type: top.media_type,
            user: user.clone(),
            entrypoint: vec![binary_path(package)],
            platforms: summaries,
            reference: String::new(),
        });
        sets.push(set);
    }

    progress.step(&format!("writing {}", options.output));
    sink::write(store, &options.output, &sets)?;
    let names = output_references(&options.output, &sets);
    for (image, reference) in built.iter_mut().zip(names) {
        image.reference = reference;
    }
    Ok(BuildOutcome {
        output: options.output.to_string(),
        cgo,
        images: built,
        plan: the_plan,
    })
}

fn output_references(target: &OutputTarget, sets: &[ImageSet]) -> Vec<String> {
    match target {
        OutputTarget::OciLayout { dir, tag } => sink::ref_names(sets, tag.as_deref())
            .into_iter()
            .map(|n| format!("oci:{}:{n}", dir.display()))
            .collect(),
        OutputTarget::OciArchive { file, tag } => sink::ref_names(sets, tag.as_deref())
            .into_iter()
            .map(|n| format!("oci-archive:{}:{n}", file.display()))
            .collect(),
        other => sets.iter().map(|_| other.to_string()).collect(),
    }
}

fn binary_path(package: &MainPackage) -> String {
    format!("{BINARY_DIR}/{}", package.name)
}

/// Refuses binaries that cannot start on scratch, and reads their build info.
fn check_binary(
    path: &Path,
    name: &str,
    platform: &Platform,
    cgo: CgoMode,
) -> Result<Option<BuildInfo>, BuildError> {
    let bad = |reason: String| BuildError::BadBinary {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    // SAFETY: the binary was just written by `go build` into gopack's private build directory
    // and nothing else writes to it while it is mapped.
    let data = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| bad(e.to_string()))?;
    let linkage = read_linkage(&data).map_err(|e| bad(e.to_string()))?;
    // Every image is built on scratch, which has no loader and no C library: a dynamic binary
    // (including one asked for with --cgo dynamic) cannot start there.
    let _ = cgo;
    if !linkage.is_static() {
        return Err(BuildError::NotStatic {
            binary: name.to_string(),
            platform: platform.to_string(),
            interpreter: linkage.interpreter.unwrap_or_else(|| "(none)".into()),
            libraries: if linkage.needed_libraries.is_empty() {
                "(none)".into()
            } else {
                linkage.needed_libraries.join(", ")
            },
            alternatives: String::new(),
        });
    }
    Ok(read_build_info(&data).ok())
}

/// Adds the pure-Go alternatives of the cgo report to a NotStatic error.
fn with_alternatives(e: BuildError, project: &Project) -> BuildError {
    match e {
        BuildError::NotStatic {
            binary,
            platform,
            interpreter,
            libraries,
            ..
        } => {
            let sentence = plan::alternatives_sentence(&project.cgo);
            BuildError::NotStatic {
                binary,
                platform,
                interpreter,
                libraries,
                alternatives: if sentence.is_empty() {
                    String::new()
                } else {
                    format!(" —{}", sentence.trim_end_matches('.').replacen('\n', " ", 1))
                },
            }
        }
        other => other,
    }
}

fn binary_layer_spec(package: &MainPackage, binary: &Path, mtime: u64) -> LayerSpec {
    LayerSpec {
        entries: vec![LayerEntry::file_from_disk(
            &binary_path(package),
            binary.to_path_buf(),
            0o755,
        )],
        mtime,
        description: format!(
            "gopack: {} built from {}",
            binary_path(package),
            package.import_path
        ),
    }
    .with_parent_dirs()
}

fn data_layer_spec(dirs: &[DataDir], mtime: u64) -> Result<Option<LayerSpec>, BuildError> {
    if dirs.is_empty() {
        return Ok(None);
    }
    let mut entries = Vec::new();
    for data in dirs {
        let err = |reason: String| BuildError::Data {
            path: data.source.clone(),
            reason,
        };
        if !data.source.is_dir() {
            return Err(err("is not a directory".into()));
        }
        entries.push(LayerEntry::dir(&data.dest, 0o755, 0, 0));
        walk_data(&data.source, &data.source, &data.dest, &mut entries)
            .map_err(|e| err(e.to_string()))?;
    }
    let names: Vec<String> = dirs
        .iter()
        .map(|d| format!("{} → {}", d.source.display(), d.dest))
        .collect();
    Ok(Some(
        LayerSpec {
            entries,
            mtime,
            description: format!("gopack: data {}", names.join(", ")),
        }
        .with_parent_dirs(),
    ))
}

fn walk_data(
    root: &Path,
    dir: &Path,
    dest: &str,
    out: &mut Vec<LayerEntry>,
) -> std::io::Result<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let path = child.path();
        let rel = path
            .strip_prefix(root)
            .expect("child of root")
            .to_string_lossy()
            .replace('\\', "/");
        let in_image = format!("{}/{rel}", dest.trim_end_matches('/'));
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?.to_string_lossy().into_owned();
            let mut e = LayerEntry::dir(&in_image, 0o777, 0, 0);
            e.kind = EntryKind::Symlink(target);
            out.push(e);
        } else if meta.is_dir() {
            out.push(LayerEntry::dir(&in_image, 0o755, 0, 0));
            walk_data(root, &path, dest, out)?;
        } else {
            use std::os::unix::fs::PermissionsExt;
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            out.push(LayerEntry::file_from_disk(&in_image, path, mode));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn image_config(
    options: &BuildOptions,
    project: &Project,
    package: &MainPackage,
    platform: &Platform,
    layers: &[(WrittenLayer, String)],
    mtime: u64,
    info: Option<&BuildInfo>,
    has_ca_bundle: bool,
) -> (ImageConfig, BTreeMap<String, String>) {
    let created = rfc3339(mtime);
    let settings = &options.settings;
    let mut env = vec![format!("PATH={BINARY_DIR}")];
    if has_ca_bundle {
        env.push(format!("SSL_CERT_FILE={CA_BUNDLE_PATH}"));
    }
    for kv in &settings.env {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    let exposed_ports = (!settings.ports.is_empty()).then(|| {
        settings
            .ports
            .iter()
            .map(|p| {
                (
                    if p.contains('/') {
                        p.clone()
                    } else {
                        format!("{p}/tcp")
                    },
                    serde_json::json!({}),
                )
            })
            .collect()
    });

    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.created".to_string(),
        created.clone(),
    );
    annotations.insert(
        "org.opencontainers.image.title".to_string(),
        package.name.clone(),
    );
    if let Some(source) = source_url(&project.gomod.module) {
        annotations.insert("org.opencontainers.image.source".into(), source);
    }
    if let Some(revision) = info
        .and_then(|i| i.setting("vcs.revision"))
        .map(str::to_string)
        .or_else(|| git_revision(&project.module_root))
    {
        annotations.insert("org.opencontainers.image.revision".into(), revision);
    }
    if let Some(version) = info
        .and_then(|i| i.main.as_ref())
        .map(|m| m.version.clone())
        .filter(|v| v != "(devel)" && !v.is_empty())
    {
        annotations.insert("org.opencontainers.image.version".into(), version);
    }
    let mut labels = annotations.clone();
    labels.extend(settings.labels.clone());
    annotations.extend(settings.annotations.clone());

    let history = layers
        .iter()
        .map(|(_, description)| HistoryEntry {
            created: Some(created.clone()),
            created_by: Some(description.clone()),
            comment: Some(format!("gopack {}", env!("CARGO_PKG_VERSION"))),
            empty_layer: None,
        })
        .collect();
    let config = ImageConfig {
        created: Some(created),
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        config: RuntimeConfig {
            user: Some(
                settings
                    .user
                    .clone()
                    .unwrap_or_else(|| rootfs::NONROOT_USER.into()),
            ),
            exposed_ports,
            env: Some(env),
            entrypoint: Some(vec![binary_path(package)]),
            cmd: None,
            working_dir: Some(settings.workdir.clone().unwrap_or_else(|| "/".into())),
            labels: Some(labels),
            extra: Default::default(),
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: layers.iter().map(|(l, _)| l.diff_id.clone()).collect(),
        },
        history,
        extra: Default::default(),
    };
    (config, annotations)
}

/// Layer mtimes and `created`: SOURCE_DATE_EPOCH, else the HEAD commit time, else 0.
pub fn source_date_epoch(module_root: &Path) -> u64 {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return epoch;
    }
    std::process::Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(module_root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn git_revision(module_root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(module_root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let rev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && rev.len() == 40).then_some(rev)
}

/// A browsable source URL for well-known forges, from the module path alone (never from git
/// remotes, which can carry credentials).
fn source_url(module: &str) -> Option<String> {
    let parts: Vec<&str> = module.split('/').collect();
    match parts.as_slice() {
        [
            host @ ("github.com" | "gitlab.com" | "bitbucket.org" | "codeberg.org"),
            owner,
            repo,
            ..,
        ] => Some(format!("https://{host}/{owner}/{repo}")),
        _ => None,
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn data_dirs_parse() {
        assert_eq!("web".parse::<DataDir>().unwrap().dest, DEFAULT_DATA_DEST);
        assert_eq!("web:/srv/web".parse::<DataDir>().unwrap().dest, "/srv/web");
        assert!(
            "web:srv"
                .parse::<DataDir>()
                .unwrap_err()
                .contains("absolute")
        );
    }

    #[test]
    fn source_urls_only_for_known_forges() {
        assert_eq!(
            source_url("github.com/a/b/cmd/x").as_deref(),
            Some("https://github.com/a/b")
        );
        assert_eq!(source_url("example.com/a/b"), None);
    }
}
