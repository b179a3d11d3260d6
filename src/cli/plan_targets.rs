//! From flags, environment and gopack.toml to the builds to run: which main packages (the
//! arguments, `--all`, or gopack.toml's targets), the settings in effect for each (flag > env >
//! `[[target]]` > `[defaults]`), grouped so that packages with the same plan inputs share one
//! plan (and one `go build` per platform), then `--changed-since` and `--shard`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gopack::assemble::ImageSettings;
use gopack::config::file::{self as config_file, LoadedConfig, Settings, TargetConfig};
use gopack::config::layers::{layers_for, resolve, target_for};
use gopack::config::{GoEnv, Layer, LayerOrigin, Origin, Resolved, SettingValue, Templater};
use gopack::oci::{Bare, Compression, ImageRef};
use gopack::pipeline::{BuildJob, BuildOptions, ImageOptions};
use gopack::plan::{Plan, make_plan};
use gopack::registry::{Reference, RegistryOptions};
use gopack::sink::{DEFAULT_OUTPUT, Output};

use super::UsageError;
use super::plan_flags::PlanFlags;

/// Where images go, as the build flags say (`plan` has none).
#[derive(Clone, Debug, Default)]
pub struct OutputFlags {
    /// `--output`, repeatable.
    pub output: Vec<String>,
    /// `--push`.
    pub push: bool,
}

/// Which of the targets to build.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--shard I/N`: (I, N), 1-based.
    pub shard: Option<(usize, usize)>,
    /// `--changed-since REF`.
    pub changed_since: Option<String>,
}

/// The builds to run, and what to show about them.
pub struct Setup {
    /// The gopack.toml read, if any.
    pub config: Option<LoadedConfig>,
    /// One per group of packages sharing plan inputs.
    pub jobs: Vec<BuildJob>,
    /// Per image (by package directory): the image settings in effect and their origins.
    pub image_settings: Vec<(PathBuf, String, Vec<SettingValue>)>,
    /// Main packages left out by `--changed-since` (import paths).
    pub unchanged: Vec<String>,
    /// Main packages left to other shards (import paths).
    pub other_shards: Vec<String>,
    /// gopack.toml settings read but not acted on, one sentence each (shown as warnings).
    pub warnings: Vec<String>,
}

/// Everything the settings layers are made of.
pub struct Inputs<'a> {
    /// The plan flags.
    pub flags: &'a PlanFlags,
    /// Image and output flags as a layer (build only; empty for plan).
    pub image_layer: Settings,
    /// The flag that gave each image setting.
    pub image_names: BTreeMap<&'static str, &'static str>,
    /// `--output`/`--push`.
    pub output: OutputFlags,
    /// Registry access.
    pub registry: RegistryOptions,
    /// `--shard`, `--changed-since`.
    pub selection: Selection,
}

/// The settings layers of a run: flags, environment, and the gopack.toml they were read
/// with; [`Layers::resolve`] gives the settings in effect for one package.
struct Layers<'a> {
    flags: Layer,
    env: Layer,
    config: Option<&'a LoadedConfig>,
    templater: Templater,
}

impl Layers<'_> {
    fn resolve(&self, target: Option<&TargetConfig>) -> anyhow::Result<Resolved> {
        let mut layers = layers_for(&self.flags, &self.env, self.config, target);
        for layer in layers.iter_mut().skip(2) {
            prepare_config_layer(layer, self.config, &self.templater)?;
        }
        Ok(resolve(&layers))
    }
}

/// Works out the builds.
pub fn setup(inputs: &Inputs<'_>, goenv: &GoEnv) -> anyhow::Result<Setup> {
    let cwd = std::env::current_dir()?;
    let first = inputs.flags.packages.first().map_or(".", String::as_str);
    let config =
        config_file::find_and_load(inputs.flags.config.as_deref(), &package_dir(&cwd, first))
            .map_err(|e| UsageError(e.to_string()))?;
    let patterns = patterns(inputs.flags, config.as_ref(), &cwd)?;
    let warnings: Vec<String> = Vec::new();
    let layers = Layers {
        flags: flag_layer(inputs)?,
        env: env_layer(),
        config: config.as_ref(),
        templater: Templater::new(config.as_ref().map_or(&cwd, |c| c.dir())),
    };
    let common = layers.resolve(None)?;
    let mut common_request = inputs.flags.request(&common, patterns)?;
    if common_request.platforms.is_empty() {
        // As the build options have it, so a group with the common inputs reuses the plan.
        common_request.platforms.push(gopack::oci::Platform::host());
    }
    let has_targets = config.as_ref().is_some_and(|c| !c.file.targets.is_empty());
    let selecting = inputs.selection.shard.is_some() || inputs.selection.changed_since.is_some();
    let mut setup = Setup {
        config: None,
        jobs: Vec::new(),
        image_settings: Vec::new(),
        unchanged: Vec::new(),
        other_shards: Vec::new(),
        warnings,
    };
    if !has_targets && !selecting {
        setup.jobs.push(BuildJob {
            options: options(inputs, &common, common_request)?,
            plan: None,
        });
    } else {
        let discovery = make_plan(&common_request, goenv)?;
        let groups = group_targets(
            inputs,
            &layers,
            &discovery,
            &common_request,
            goenv,
            &mut setup,
        )?;
        setup.jobs = jobs_of(groups, &common_request, &discovery);
    }
    setup.config = config;
    Ok(setup)
}

/// The chosen main packages of the discovery plan, each with its settings, grouped by plan
/// inputs. A plan that cannot start (no images) is one group, so the build reports why.
fn group_targets(
    inputs: &Inputs<'_>,
    layers: &Layers<'_>,
    discovery: &Plan,
    common_request: &gopack::plan::PlanRequest,
    goenv: &GoEnv,
    setup: &mut Setup,
) -> anyhow::Result<Vec<(BuildOptions, Vec<PathBuf>)>> {
    if discovery.images.is_empty() {
        let options = options(inputs, &layers.resolve(None)?, common_request.clone())?;
        return Ok(vec![(options, Vec::new())]);
    }
    let mut per_image = Vec::new();
    for image in &discovery.images {
        let target = layers
            .config
            .and_then(|c| target_for(c, &image.dir, &image.package));
        let resolved = layers.resolve(target)?;
        let request = inputs.flags.request(&resolved, Vec::new())?;
        per_image.push((image, target, resolved, request));
    }
    let mains: Vec<(String, Vec<PathBuf>)> = per_image
        .iter()
        .map(|(image, _, _, request)| {
            let data = request.data.iter().map(|d| d.source.clone()).collect();
            (image.package.clone(), data)
        })
        .collect();
    let chosen = super::plan_select::choose(
        goenv,
        &discovery.module.root,
        &mains,
        &common_request.tags,
        &inputs.selection,
    )?;
    setup.unchanged = chosen.unchanged;
    setup.other_shards = chosen.other_shards;
    let mut groups: Vec<(BuildOptions, Vec<PathBuf>)> = Vec::new();
    for (image, target, resolved, request) in per_image {
        if chosen.build.contains(&image.package) {
            add_image(
                inputs,
                image,
                target,
                &resolved,
                request,
                &mut groups,
                setup,
            )?;
        }
    }
    Ok(groups)
}

/// Adds one image to the group of its plan inputs (a new group when none matches).
fn add_image(
    inputs: &Inputs<'_>,
    image: &gopack::plan::ImagePlan,
    target: Option<&TargetConfig>,
    resolved: &Resolved,
    request: gopack::plan::PlanRequest,
    groups: &mut Vec<(BuildOptions, Vec<PathBuf>)>,
    setup: &mut Setup,
) -> anyhow::Result<()> {
    let mut opts = options(inputs, resolved, request)?;
    let per_target_repo = matches!(
        resolved.origins.get("repository").and_then(|o| o.first()),
        Some(Origin::Target(_))
    );
    opts.outputs = outputs(inputs, resolved, per_target_repo)?;
    let image_options = ImageOptions {
        dir: image.dir.clone(),
        name: target.and_then(|t| t.name.clone()),
        settings: opts.settings.clone(),
        outputs: opts.outputs.clone(),
        sbom: opts.sbom.clone(),
    };
    let shown: Vec<SettingValue> = resolved
        .values()
        .into_iter()
        .filter(|v| !super::plan_flags::PLAN_SETTINGS.contains(&v.setting.as_str()))
        .collect();
    setup
        .image_settings
        .push((image.dir.clone(), image.name.clone(), shown));
    match groups.iter_mut().find(|(g, _)| same_plan_inputs(g, &opts)) {
        Some((g, dirs)) => {
            g.images.push(image_options);
            dirs.push(image.dir.clone());
        }
        None => {
            opts.images.push(image_options);
            groups.push((opts, vec![image.dir.clone()]));
        }
    }
    Ok(())
}

/// Each group becomes one job; a group that is the whole discovery plan reuses it.
fn jobs_of(
    groups: Vec<(BuildOptions, Vec<PathBuf>)>,
    common: &gopack::plan::PlanRequest,
    discovery: &Plan,
) -> Vec<BuildJob> {
    let whole = groups.len() == 1;
    groups
        .into_iter()
        .map(|(mut options, dirs)| {
            let reuse = whole
                && dirs.len() == discovery.images.len()
                && PlanInputs(&options.plan) == PlanInputs(common);
            options.plan.patterns = dirs.iter().map(|d| d.display().to_string()).collect();
            BuildJob {
                plan: reuse.then(|| discovery.clone()),
                options,
            }
        })
        .collect()
}

/// Plan requests compared without their patterns.
struct PlanInputs<'a>(&'a gopack::plan::PlanRequest);

impl PartialEq for PlanInputs<'_> {
    fn eq(&self, other: &Self) -> bool {
        let mut a = self.0.clone();
        let mut b = other.0.clone();
        a.patterns.clear();
        b.patterns.clear();
        a == b
    }
}

fn same_plan_inputs(a: &BuildOptions, b: &BuildOptions) -> bool {
    PlanInputs(&a.plan) == PlanInputs(&b.plan) && a.compression == b.compression
}

/// The directory of a package argument (for finding gopack.toml), or `cwd`.
pub(super) fn package_dir(cwd: &Path, pattern: &str) -> PathBuf {
    let dir = cwd.join(pattern.strip_suffix("/...").unwrap_or(pattern));
    if dir.is_dir() { dir } else { cwd.to_path_buf() }
}

/// The package patterns: the arguments, `--all` (every main package of the module), or the
/// gopack.toml targets when no argument is given.
fn patterns(
    flags: &PlanFlags,
    config: Option<&LoadedConfig>,
    cwd: &Path,
) -> anyhow::Result<Vec<String>> {
    if flags.all {
        let root = gopack::project::find_module_root(cwd)?;
        return Ok(vec![format!("{}/...", root.display())]);
    }
    if !flags.packages.is_empty() {
        return Ok(flags.packages.clone());
    }
    match config {
        Some(c) if !c.file.targets.is_empty() => Ok(c
            .file
            .targets
            .iter()
            .map(|t| {
                let p = t.package.trim_end_matches('/');
                let dir = c.dir().join(p);
                if dir.is_dir() {
                    dir.display().to_string()
                } else {
                    p.to_string()
                }
            })
            .collect()),
        _ => Ok(vec![".".into()]),
    }
}

fn flag_layer(inputs: &Inputs<'_>) -> anyhow::Result<Layer> {
    let mut layer = inputs.flags.layer()?;
    let image = &inputs.image_layer;
    let s = &mut layer.settings;
    s.compression = image.compression.clone();
    s.ports = image.ports.clone();
    s.workdir = image.workdir.clone();
    s.labels = image.labels.clone();
    s.annotations = image.annotations.clone();
    s.tags = image.tags.clone();
    s.keep_base_labels = image.keep_base_labels;
    s.sbom = image.sbom.clone();
    if let LayerOrigin::Flags(names) = &mut layer.origin {
        names.extend(inputs.image_names.iter().map(|(k, v)| (*k, *v)));
    }
    Ok(layer)
}

/// `GOPACK_BASE` and `GOPACK_REPO`.
fn env_layer() -> Layer {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut names = BTreeMap::new();
    let mut s = Settings::default();
    if let Some(base) = var("GOPACK_BASE") {
        s.base = Some(base);
        names.insert("base", "GOPACK_BASE");
    }
    if let Some(repo) = var("GOPACK_REPO") {
        s.repository = Some(repo);
        names.insert("repository", "GOPACK_REPO");
    }
    Layer {
        settings: s,
        origin: LayerOrigin::Env(names),
    }
}

/// A gopack.toml layer with its templates filled and its paths taken from the file's
/// directory.
fn prepare_config_layer(
    layer: &mut Layer,
    config: Option<&LoadedConfig>,
    templater: &Templater,
) -> anyhow::Result<()> {
    let Some(config) = config else {
        return Ok(());
    };
    let place = match &layer.origin {
        LayerOrigin::Target(name) => format!("[[target]] {name}"),
        _ => "[defaults]".into(),
    };
    let fail =
        |key: &str, e: String| UsageError(format!("{} {place} {key}: {e}", config.path.display()));
    let s = &mut layer.settings;
    let expand_list = |key: &str, v: &mut Option<Vec<String>>| -> Result<(), UsageError> {
        for item in v.iter_mut().flatten() {
            *item = templater.expand(item).map_err(|e| fail(key, e))?;
        }
        Ok(())
    };
    expand_list("ldflags", &mut s.ldflags)?;
    expand_list("tags", &mut s.tags)?;
    expand_list("flags", &mut s.flags)?;
    expand_list("args", &mut s.args)?;
    for (key, map) in [
        ("env", &mut s.env),
        ("labels", &mut s.labels),
        ("annotations", &mut s.annotations),
        ("index-annotations", &mut s.index_annotations),
    ] {
        for value in map.iter_mut().flat_map(|m| m.values_mut()) {
            *value = templater.expand(value).map_err(|e| fail(key, e))?;
        }
    }
    anchor_paths(s, config.dir());
    Ok(())
}

/// Relative paths in gopack.toml are relative to its directory.
fn anchor_paths(s: &mut Settings, dir: &Path) {
    for file in s.ca_files.iter_mut().flatten() {
        if file.is_relative() {
            *file = dir.join(&*file);
        }
    }
    for data in s.data.iter_mut().flatten() {
        let (src, dest) = match data.split_once(':') {
            Some((src, dest)) => (src.to_string(), Some(dest.to_string())),
            None => (data.clone(), None),
        };
        if Path::new(&src).is_relative() {
            let abs = dir.join(src).display().to_string();
            *data = dest.map_or(abs.clone(), |d| format!("{abs}:{d}"));
        }
    }
    if let Some(base) = &mut s.base
        && let Some(rest) = base.strip_prefix("oci:")
        && Path::new(rest.split(':').next().unwrap_or(rest)).is_relative()
    {
        *base = format!("oci:{}", dir.join(rest).display());
    }
}

/// The build options of one set of settings (its output as the build's).
fn options(
    inputs: &Inputs<'_>,
    resolved: &Resolved,
    request: gopack::plan::PlanRequest,
) -> anyhow::Result<BuildOptions> {
    let s = &resolved.settings;
    let compression: Compression = s
        .compression
        .as_deref()
        .unwrap_or("gzip")
        .parse()
        .map_err(UsageError)?;
    let ports: Vec<String> = s.ports.iter().flatten().map(|p| p.as_flag()).collect();
    for port in &ports {
        let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        if number.parse::<u16>().map_or(true, |n| n == 0)
            || !matches!(proto, "tcp" | "udp" | "sctp")
        {
            return Err(UsageError(format!(
                "port `{port}`{} must be a port 1-65535, optionally /tcp, /udp or /sctp",
                resolved.from_clause("ports")
            ))
            .into());
        }
    }
    let outputs = outputs(inputs, resolved, false)?;
    if s.sbom.as_ref().is_some_and(|f| !f.is_empty())
        && let Some(output) = outputs
            .iter()
            .find(|o| !matches!(o.target, ImageRef::Layout { .. } | ImageRef::Registry(_)))
    {
        return Err(usage(format!(
            "sbom{} attaches SBOMs as OCI referrers, which {} cannot hold: write to an OCI \
             layout (--output oci:DIR) or a registry (--push), or make the document with \
             `gopack sbom {} -o FILE`",
            resolved.from_clause("sbom"),
            output.target,
            output.target
        )));
    }
    let mut plan = request;
    super::expand_all_platforms(
        s.platforms.as_deref().unwrap_or_default(),
        &mut plan,
        &inputs.registry,
    )?;
    if plan.platforms.is_empty() {
        plan.platforms.push(gopack::oci::Platform::host());
    }
    Ok(BuildOptions {
        plan,
        compression,
        settings: ImageSettings {
            ports,
            workdir: s.workdir.clone(),
            labels: s.labels.clone().unwrap_or_default(),
            annotations: s.annotations.clone().unwrap_or_default(),
            keep_base_labels: s.keep_base_labels.unwrap_or(false),
            index_annotations: s.index_annotations.clone().unwrap_or_default(),
            args: s.args.clone().unwrap_or_default(),
        },
        outputs,
        registry: inputs.registry.clone(),
        sbom: s
            .sbom
            .iter()
            .flatten()
            .map(|f| match f {
                gopack::config::file::SbomFormat::Spdx => gopack::sbom::Format::Spdx,
                gopack::config::file::SbomFormat::Cyclonedx => gopack::sbom::Format::CycloneDx,
            })
            .collect(),
        images: Vec::new(),
    })
}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

/// A `--tag` naming a whole reference (it has a repository path) rather than just a tag.
fn is_full_reference(tag: &str) -> bool {
    tag.contains('/')
}

/// Where the images go, and with which tags, from every --output, --push, the tags and the
/// repository (GOPACK_REPO or gopack.toml): the registry push (at most one repository) and
/// each file or daemon output. Without a push every tag applies to each output as given; with
/// one, every tag is a tag of the one repository pushed to (a tag naming another repository is
/// refused) and the file outputs get the tag part. A repository from a `[[target]]` is that
/// image's own; otherwise each binary goes to `REPOSITORY/BINARY`.
pub fn outputs(
    inputs: &Inputs<'_>,
    resolved: &Resolved,
    exact_repository: bool,
) -> anyhow::Result<Vec<Output>> {
    let tags = resolved.settings.tags.clone().unwrap_or_default();
    let mut explicit: Vec<ImageRef> = Vec::new();
    for text in &inputs.output.output {
        let target = ImageRef::parse(text, Bare::Refuse).map_err(|e| usage(e.to_string()))?;
        if explicit.contains(&target) {
            return Err(usage(format!(
                "--output {text} is given twice; name each destination once (--tag adds names)"
            )));
        }
        explicit.push(target);
    }
    let (registries, files): (Vec<ImageRef>, Vec<ImageRef>) = explicit
        .into_iter()
        .partition(|t| matches!(t, ImageRef::Registry(_)));
    if registries.len() > 1 {
        return Err(usage(
            "one build pushes to one registry repository: give one docker:// --output (more \
             names with --tag)"
                .into(),
        ));
    }
    let registry = registries.into_iter().next().and_then(|r| match r {
        ImageRef::Registry(r) => Some(r),
        _ => None,
    });
    let pushing = inputs.output.push || registry.is_some();
    let mut outputs = Vec::new();
    if pushing {
        outputs.push(push_output(resolved, &tags, registry, exact_repository)?);
    }
    let file_tags: Vec<String> = if pushing {
        let mut bare: Vec<String> = Vec::new();
        for t in &tags {
            let tag = if is_full_reference(t) {
                t.parse::<Reference>().ok().and_then(|r| r.tag)
            } else {
                Some(t.clone())
            };
            bare.extend(tag.filter(|t| !bare.contains(t)));
        }
        bare
    } else {
        tags.clone()
    };
    for target in files {
        outputs.push(Output {
            target,
            tags: file_tags.clone(),
            repository_per_binary: false,
        });
    }
    if outputs.is_empty() {
        outputs.push(Output {
            target: ImageRef::parse(DEFAULT_OUTPUT, Bare::Refuse).expect("default output parses"),
            tags,
            repository_per_binary: false,
        });
    }
    Ok(outputs)
}

/// The registry output of a push: `explicit` (a docker:// --output), else the first tag
/// naming a repository, else the repository setting; every tag becomes a tag of it.
fn push_output(
    resolved: &Resolved,
    tags: &[String],
    explicit: Option<Reference>,
    exact_repository: bool,
) -> anyhow::Result<Output> {
    let parse = |text: &str| -> anyhow::Result<Reference> {
        text.parse()
            .map_err(|e: gopack::registry::ReferenceError| usage(e.to_string()))
    };
    let first_full = tags.iter().find(|t| is_full_reference(t));
    let repository = resolved.settings.repository.as_deref();
    let (target, repository_per_binary) = match (explicit, first_full, repository) {
        (Some(r), _, _) => (r, false),
        (_, Some(full), _) => (parse(full)?, false),
        (_, None, Some(repo)) => (parse(repo)?, !exact_repository),
        _ => {
            return Err(usage(
                "--push needs a destination: --tag REGISTRY/REPOSITORY:TAG, GOPACK_REPO=REGISTRY/REPOSITORY, \
                 repository in gopack.toml, or --output docker://REGISTRY/REPOSITORY:TAG"
                    .into(),
            ));
        }
    };
    let mut bare = Vec::new();
    for tag in tags {
        if is_full_reference(tag) {
            let other = parse(tag)?;
            if (other.registry.as_str(), other.repository.as_str())
                != (target.registry.as_str(), target.repository.as_str())
            {
                return Err(usage(format!(
                    "--tag {tag} names another repository than {}; one build pushes to one repository",
                    target.name()
                )));
            }
            bare.extend(other.tag);
        } else {
            bare.push(tag.clone());
        }
    }
    bare.dedup();
    Ok(Output {
        target: ImageRef::Registry(target),
        tags: bare,
        repository_per_binary,
    })
}
