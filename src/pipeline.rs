//! `gopack build` end to end: project → go build per target → binary checks → rootfs → layers →
//! image → sink. Each stage gets plain values from the one before; this module only sequences
//! them and records what happened for the summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::base::{self, BaseFileSystem, BaseImage, BaseSpec};
use crate::binary::buildinfo::{BuildInfo, read_build_info};
use crate::binary::elf::read_linkage;
use crate::binary::needs::{DetectedNeed, needs_of_file};
use crate::gobuild::{self, GoBuildRequest};
use crate::oci::{
    BlobStore, Compression, Descriptor, Digest, EntryKind, HistoryEntry, Image, ImageConfig,
    LayerEntry, LayerSpec, LayerWriter, Platform, RootFs, RuntimeConfig, WrittenLayer, index_for,
};
use crate::plan::report::{BuiltTarget, MakePlanError, Plan, PlanRequest, make_plan};
use crate::plan::{self, CgoChoice, CgoDecision, FileDecision};
use crate::project::{self, MainPackage, Project};
use crate::registry::RegistryOptions;
use crate::rootfs::{self, CA_BUNDLE_PATH};
use crate::sink::{self, ImageSet, IndexBlob, PushStats};

/// Where the binary goes in every image.
pub const BINARY_DIR: &str = "/usr/local/bin";

/// Everything a build depends on, as given by the user (flags, env) or defaulted.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// What decides the plan (packages, platforms, flags, cgo, files, user, base): the very
    /// request `gopack plan` takes, so build follows exactly what plan shows. Its platform list
    /// is never empty here.
    pub plan: PlanRequest,
    pub compression: Compression,
    pub data: Vec<DataDir>,
    pub settings: ImageSettings,
    /// Where the images go, under which names (`--output`, `--tag`, GOPACK_REPO).
    pub output: sink::Output,
    pub registry: RegistryOptions,
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
    pub env: Vec<String>,
    pub ports: Vec<String>,
    pub workdir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Copy the base image's labels into ours (off by default: they describe the base).
    pub keep_base_labels: bool,
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

/// One layer of a built image, the base's included. Sizes are in bytes: `size` as stored
/// (compressed), `uncompressed_size` of the tar.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerSummary {
    pub digest: Digest,
    pub size: u64,
    pub uncompressed_size: u64,
    pub description: String,
    pub reused: bool,
    /// A layer of the `--base` image, reused as it is.
    pub from_base: bool,
}

/// The summary of every layer of an image: the base's first (sizes read from the store), then
/// the layers gopack wrote. One scope for every size: the whole image.
fn layer_summaries(
    store: &BlobStore,
    base: Option<&BaseImage>,
    base_layers: &[Descriptor],
    ours: &[(WrittenLayer, String)],
) -> Result<Vec<LayerSummary>, BuildError> {
    let base_name = base.map(|b| b.name.as_str()).unwrap_or("base");
    let mut out = Vec::new();
    for d in base_layers {
        out.push(LayerSummary {
            digest: d.digest.clone(),
            size: d.size,
            uncompressed_size: crate::cache::uncompressed_size(store, d)?,
            description: format!("base image {base_name}"),
            reused: true,
            from_base: true,
        });
    }
    out.extend(ours.iter().map(|(l, d)| LayerSummary {
        digest: l.digest.clone(),
        size: l.size,
        uncompressed_size: l.uncompressed_size,
        description: d.clone(),
        reused: l.reused,
        from_base: false,
    }));
    Ok(out)
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
    /// The reference that pins the result (what `-q` prints): `REGISTRY/REPO@sha256:…` for a
    /// push, else `oci:DIR:NAME`, `oci-archive:FILE:NAME` or `docker-archive:FILE:REPO:TAG`.
    pub reference: String,
    /// Every name the image was written under (see [`sink::Published::references`]).
    pub references: Vec<String>,
    /// For registry outputs: what the push sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushStats>,
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
    Base(#[from] base::BaseError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(
        "{binary} ({platform}) is dynamically linked, and the base image {base} lacks {missing}. \
         Build without cgo (a pure-Go alternative), link statically (--cgo static), or choose a \
         base that provides these files"
    )]
    BaseLacksLibraries {
        binary: String,
        platform: String,
        base: String,
        missing: String,
    },
    #[error("`{0}` is not a registry reference to push to: {1}")]
    PushReference(String, String),
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
    Cache(#[from] crate::cache::CacheError),
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
    let sink = options.output.sink(&options.registry)?;
    sink.check(options.plan.platforms.len())?;
    let mut speculation = SpeculativeBuild::start(options, store);
    progress.step("reading the Go project (go list)");
    let mut the_plan = make_plan(&options.plan)?;
    the_plan.check_buildable()?;
    let project = the_plan
        .project
        .clone()
        .expect("a buildable plan has a project");
    let cgo = the_plan.cgo_decision();
    let mtime = source_date_epoch(&project.module_root);
    let extra_ca: Vec<String> = options
        .plan
        .extra_ca_files
        .iter()
        .map(|p| rootfs::read_extra_ca(p))
        .collect::<Result<_, _>>()?;
    let user = options
        .plan
        .user
        .clone()
        .unwrap_or_else(|| rootfs::NONROOT_USER.into());

    let binaries = gobuild::output_dir(store.root(), &project.module_root).map_err(|source| {
        BuildError::Scratch {
            path: store.root().to_path_buf(),
            source,
        }
    })?;
    if options.plan.base != BaseSpec::Scratch {
        progress.step(&format!("resolving the base image {}", options.plan.base));
    }
    let base = base::resolve(
        &options.plan.base,
        store,
        &options.plan.platforms,
        &options.registry,
    )?;
    let mut base_files_of: BTreeMap<Platform, BaseFileSystem> = BTreeMap::new();
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
        for platform in &options.plan.platforms {
            progress.step(&format!("go build {} ({platform})", package.import_path));
            let mut request = the_plan.go_build_request(package, platform, PathBuf::new());
            request.output = request.cached_output(&binaries);
            let binary = match speculation.take().and_then(|s| s.result_for(&request)) {
                Some(done) => done,
                None => gobuild::build(&request)?,
            };
            let base_image = match &base {
                Some(b) => Some(b.for_platform(platform)?),
                None => None,
            };
            let base_fs = match (&base, base_image) {
                (Some(b), Some(image)) => {
                    if !base_files_of.contains_key(platform) {
                        let fs = BaseFileSystem::read(store, image, &b.name)?;
                        base_files_of.insert(platform.clone(), fs);
                    }
                    base_files_of.get(platform).map(|fs| (b.name.as_str(), fs))
                }
                _ => None,
            };
            let info = check_binary(&binary.path, &package.name, platform, base_fs)
                .map_err(|e| with_alternatives(e, &project))?;
            let needs = needs_of_file(&binary.path).map_err(|e| e.to_string());
            let (mut base_files, mut files) = plan::decide_files(
                &options.plan.files,
                needs.as_ref().map_err(String::as_str),
                &user,
            );
            if let Some((_, fs)) = base_fs {
                plan::leave_to_base(&mut base_files, &mut files, |path| fs.exists(path));
            }
            the_plan.record(
                &package.import_path,
                platform,
                BuiltTarget::new(binary.size, needs.as_ref().map_err(String::as_str), &files),
            );
            progress.step(&format!("writing the {} layers ({platform})", package.name));
            let base_spec = rootfs::base_files_layer(&base_files, &extra_ca);
            let mut layers: Vec<(WrittenLayer, String)> = Vec::new();
            let base_layers: Vec<Descriptor> = base_image
                .map(|b| b.manifest.layers.clone())
                .unwrap_or_default();
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
                base_image.map(|b| (base.as_ref().expect("base image has a base"), b)),
            );
            let descriptors = base_layers
                .iter()
                .cloned()
                .chain(layers.iter().map(|(l, _)| Descriptor::of_layer(l)))
                .collect();
            let image = Image::assemble(store, platform.clone(), config, descriptors, annotations)?;
            summaries.push(PlatformImage {
                platform: platform.clone(),
                manifest_digest: image.manifest_digest.clone(),
                binary_size: binary.size,
                compressed_size: image.compressed_size(),
                uncompressed_size: 0,
                layers: layer_summaries(store, base.as_ref(), &base_layers, &layers)?,
                go_build: binary.command_line,
                needs: needs.map(|n| n.needs).unwrap_or_default(),
                files,
                build_info: info,
            });
            if let Some(summary) = summaries.last_mut() {
                summary.uncompressed_size =
                    summary.layers.iter().map(|l| l.uncompressed_size).sum();
            }
            images.push(image);
        }
        let index = if images.len() > 1 {
            let (_, bytes, digest) = index_for(store, &images, sink::index_annotations(&images))?;
            Some(IndexBlob::oci(bytes, digest))
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
            references: Vec::new(),
            push: None,
        });
        sets.push(set);
    }

    progress.step(&format!("writing {}", sink.destination()));
    let published = sink::publish(store, &sets, sink.as_ref(), &|m| progress.step(m))?;
    for (image, p) in built.iter_mut().zip(published) {
        image.reference = p.pinned;
        image.references = p.references;
        image.push = p.push;
    }
    Ok(BuildOutcome {
        output: options.output.to_string(),
        cgo,
        images: built,
        plan: the_plan,
    })
}

/// A `go build` started before `go list` has answered, for the common case of one directory
/// with one main package: the two Go commands then run side by side, and a warm build costs
/// little more than `go build` alone. The result is used only when the plan asks for exactly
/// the same build (same package directory, flags and environment, cgo off); otherwise it is
/// discarded and the planned build runs. It never decides anything (cgo is detected with
/// `go list`, never from a cgo-off build).
struct SpeculativeBuild {
    request: GoBuildRequest,
    handle: std::thread::JoinHandle<Result<gobuild::BuiltBinary, gobuild::GoBuildError>>,
}

impl SpeculativeBuild {
    fn start(options: &BuildOptions, store: &BlobStore) -> Option<SpeculativeBuild> {
        let [pattern] = options.plan.patterns.as_slice() else {
            return None;
        };
        let dir = options.plan.cwd.join(pattern).canonicalize().ok()?;
        if options.plan.cgo == CgoChoice::Static
            || options.plan.cgo == CgoChoice::Dynamic
            || !has_go_files(&dir)
        {
            return None;
        }
        let module_root = project::find_module_root(&dir).ok()?;
        let platform = options.plan.platforms.first()?.clone();
        let name = dir.file_name()?.to_string_lossy().into_owned();
        let binaries = gobuild::output_dir(store.root(), &module_root).ok()?;
        let mut request = GoBuildRequest {
            module_root: dir.clone(),
            package: MainPackage {
                import_path: ".".into(),
                dir,
                name,
            },
            platform,
            ldflags: options.plan.ldflags.clone(),
            tags: options.plan.tags.clone(),
            cgo: gobuild::CgoMode::Off,
            output: PathBuf::new(),
        };
        request.output = request.cached_output(&binaries);
        let for_thread = request.clone();
        let handle = std::thread::spawn(move || gobuild::build(&for_thread));
        Some(SpeculativeBuild { request, handle })
    }

    /// The speculative binary if `planned` is the same build, else `None` (after it finished,
    /// so two builds never write the same file at once).
    fn result_for(self, planned: &GoBuildRequest) -> Option<gobuild::BuiltBinary> {
        let same_dir =
            planned.package.dir.canonicalize().ok().as_ref() == Some(&self.request.package.dir);
        let strip = |r: &GoBuildRequest| {
            let mut args = r.args();
            args.pop();
            (args, r.env())
        };
        let same = same_dir && strip(planned) == strip(&self.request);
        let result = self.handle.join().ok()?;
        match (same, result) {
            (true, Ok(mut built)) => {
                built.command_line = planned.command_line();
                Some(built)
            }
            _ => None,
        }
    }
}

fn has_go_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".go"))
        })
        .unwrap_or(false)
}

fn binary_path(package: &MainPackage) -> String {
    format!("{BINARY_DIR}/{}", package.name)
}

/// Refuses binaries that cannot start on scratch, and reads their build info.
fn check_binary(
    path: &Path,
    name: &str,
    platform: &Platform,
    base: Option<(&str, &BaseFileSystem)>,
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
    // A dynamic binary (including one asked for with --cgo dynamic) starts only on a base that
    // holds its loader and every library it names; scratch holds none.
    if !linkage.is_static()
        && let Some((base_name, fs)) = base
    {
        let missing =
            fs.missing_for_dynamic(linkage.interpreter.as_deref(), &linkage.needed_libraries);
        if missing.is_empty() {
            return Ok(read_build_info(&data).ok());
        }
        return Err(BuildError::BaseLacksLibraries {
            binary: name.to_string(),
            platform: platform.to_string(),
            base: base_name.to_string(),
            missing: missing.join(", "),
        });
    }
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
                    format!(
                        " —{}",
                        sentence.trim_end_matches('.').replacen('\n', " ", 1)
                    )
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
    base: Option<(&BaseImage, &Image)>,
) -> (ImageConfig, BTreeMap<String, String>) {
    let created = rfc3339(mtime);
    let settings = &options.settings;
    let base_config = base.map(|(_, image)| &image.config);
    let base_runtime = base_config.map(|c| c.config.clone()).unwrap_or_default();

    // The base's environment is kept; PATH gains /usr/local/bin when it lacks it.
    let mut env = base_runtime.env.clone().unwrap_or_default();
    match env.iter_mut().find(|e| e.starts_with("PATH=")) {
        Some(path) if !path["PATH=".len()..].split(':').any(|d| d == BINARY_DIR) => {
            *path = format!("PATH={BINARY_DIR}:{}", &path["PATH=".len()..]);
        }
        Some(_) => {}
        None => env.insert(0, format!("PATH={BINARY_DIR}")),
    }
    if has_ca_bundle {
        env.retain(|e| !e.starts_with("SSL_CERT_FILE="));
        env.push(format!("SSL_CERT_FILE={CA_BUNDLE_PATH}"));
    }
    for kv in &settings.env {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    let mut ports = base_runtime.exposed_ports.clone().unwrap_or_default();
    for p in &settings.ports {
        let key = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        ports.insert(key, serde_json::json!({}));
    }

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
    let mut labels = BTreeMap::new();
    if settings.keep_base_labels {
        labels.extend(base_runtime.labels.clone().unwrap_or_default());
    }
    labels.extend(annotations.clone());
    labels.extend(settings.labels.clone());
    if let Some((_, image)) = base {
        if let Some(name) = stable_base_name(&options.plan.base) {
            annotations.insert("org.opencontainers.image.base.name".into(), name);
        }
        annotations.insert(
            "org.opencontainers.image.base.digest".into(),
            image.manifest_digest.to_string(),
        );
    }
    annotations.extend(settings.annotations.clone());

    let mut history = base_config.map(|c| c.history.clone()).unwrap_or_default();
    history.extend(layers.iter().map(|(_, description)| HistoryEntry {
        created: Some(created.clone()),
        created_by: Some(description.clone()),
        comment: Some(format!("gopack {}", env!("CARGO_PKG_VERSION"))),
        empty_layer: None,
    }));
    let mut diff_ids = base_config
        .map(|c| c.rootfs.diff_ids.clone())
        .unwrap_or_default();
    diff_ids.extend(layers.iter().map(|(l, _)| l.diff_id.clone()));
    let working_dir = settings
        .workdir
        .clone()
        .or_else(|| base_runtime.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    let config = ImageConfig {
        created: Some(created),
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        config: RuntimeConfig {
            user: Some(
                options
                    .plan
                    .user
                    .clone()
                    .unwrap_or_else(|| rootfs::NONROOT_USER.into()),
            ),
            exposed_ports: (!ports.is_empty()).then_some(ports),
            env: Some(env),
            entrypoint: Some(vec![binary_path(package)]),
            // A base's Cmd would become arguments to our entrypoint: never inherit it.
            cmd: None,
            working_dir: Some(working_dir),
            labels: Some(labels),
            extra: base_runtime.extra.clone(),
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        history,
        extra: Default::default(),
    };
    (config, annotations)
}

/// `org.opencontainers.image.base.name`: a name that does not depend on how a path was typed
/// (`oci:./bases/dl` and `oci:/abs/bases/dl` must give the same digest): the registry
/// reference, or the layout's ref name when one was given, else nothing (the base digest is
/// recorded either way).
fn stable_base_name(spec: &BaseSpec) -> Option<String> {
    match spec {
        BaseSpec::Image(crate::oci::ImageRef::Registry(reference)) => Some(reference.to_string()),
        BaseSpec::Image(crate::oci::ImageRef::DockerArchive { reference, .. }) => {
            reference.as_ref().map(ToString::to_string)
        }
        BaseSpec::Image(other) => other.tag().map(str::to_string),
        BaseSpec::Scratch => None,
    }
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
