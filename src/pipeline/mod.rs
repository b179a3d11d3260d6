//! `gopack build` and `gopack plan --deep`, as a sequence of stages that hand plain values
//! forward (DESIGN.md, "Data flow of build"):
//!
//! `make_plan` (pure data) → per target [`target::prepare`] (`build_binary` → `check_binary` →
//! file decisions) → `assemble` (base + layers + config) → `publish`.
//!
//! `plan --deep` runs the first stages, literally the same functions, and stops.

mod bases;
mod error;
mod outcome;
mod publish;
mod sbom;
pub mod schedule;
mod target;
mod vcs;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

pub use error::BuildError;
pub use outcome::{BuildOutcome, BuiltImage, CgoSummary, LayerSummary, PlatformImage};
pub use sbom::SbomReferrer;
pub use schedule::Schedule;
pub use target::PreparedTarget;

use bases::Bases;
use outcome::{built_image, image_set, platform_image};

use crate::assemble::{self, Assembly, BaseView, ImageSettings};
use crate::config::GoEnv;
use crate::gobuild::Builder;
use crate::oci::{BlobStore, Compression, LayerWriter, Platform, WrittenLayer};
use crate::plan::report::{BuiltTarget, PlanReport};
use crate::plan::{ImagePlan, Plan, PlanRequest, TargetPlan, early_guess, make_plan};
use crate::registry::RegistryOptions;
use crate::sink::{self, ImageSet};

/// Everything a build depends on, as given by the user (flags, env, gopack.toml) or defaulted.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// What decides the plan (packages, platforms, flags, cgo, files, user, base, env, data):
    /// the very request `gopack plan` takes, so build follows exactly what plan shows.
    pub plan: PlanRequest,
    /// Layer compression.
    pub compression: Compression,
    /// Ports, workdir, labels, annotations.
    pub settings: ImageSettings,
    /// Where the images go, under which names (`--output`, repeatable; `--tag`, GOPACK_REPO):
    /// all checked before anything is built, written local first ([`sink::OutputSet`]).
    pub outputs: Vec<sink::Output>,
    /// Registry access (insecure hosts, CAs, credentials).
    pub registry: RegistryOptions,
    /// `--sbom`: the SBOM formats attached to each platform manifest as referrers (none: no
    /// SBOM). Outputs: OCI layouts and registries.
    pub sbom: Vec<crate::sbom::Format>,
    /// Per main package, settings of its own (a gopack.toml `[[target]]`); the others use
    /// `settings` and `outputs`.
    pub images: Vec<ImageOptions>,
}

/// One main package's own image settings, name and output.
#[derive(Clone, Debug)]
pub struct ImageOptions {
    /// The main package's directory.
    pub dir: PathBuf,
    /// The image name, when not the binary's.
    pub name: Option<String>,
    /// Ports, workdir, labels, annotations, args.
    pub settings: ImageSettings,
    /// Where this image goes (every output checked before building, local ones written first).
    pub outputs: Vec<sink::Output>,
    /// The SBOM formats attached to this image's platform manifests, in each of its outputs
    /// (none: no SBOM).
    pub sbom: Vec<crate::sbom::Format>,
}

/// What one image of a build is given: its own options, or the build's.
#[derive(Clone, Copy, Debug)]
struct ImageChoice<'a> {
    settings: &'a ImageSettings,
    outputs: &'a [sink::Output],
    name: &'a str,
    sbom: &'a [crate::sbom::Format],
}

impl BuildOptions {
    /// Every output of this build, each once: the build's, then those of its images (a
    /// gopack.toml target pushed to its own repository), in order.
    fn all_outputs(&self) -> Vec<&sink::Output> {
        let mut all: Vec<&sink::Output> = Vec::new();
        let images = self.images.iter().flat_map(|i| &i.outputs);
        for output in self.outputs.iter().chain(images) {
            if !all.contains(&output) {
                all.push(output);
            }
        }
        all
    }

    /// The options of `image`: its own, or the build's.
    fn for_image<'a>(&'a self, image: &'a ImagePlan) -> ImageChoice<'a> {
        let dir = image
            .dir
            .canonicalize()
            .unwrap_or_else(|_| image.dir.clone());
        match self
            .images
            .iter()
            .find(|o| o.dir.canonicalize().is_ok_and(|d| d == dir) || o.dir == image.dir)
        {
            Some(o) => ImageChoice {
                settings: &o.settings,
                outputs: &o.outputs,
                name: o.name.as_deref().unwrap_or(&image.name),
                sbom: &o.sbom,
            },
            None => ImageChoice {
                settings: &self.settings,
                outputs: &self.outputs,
                name: &image.name,
                sbom: &self.sbom,
            },
        }
    }
}

/// One build of a multi-target run: its options, and its plan when already made (by a caller
/// that had to list the packages first).
#[derive(Clone, Debug)]
pub struct BuildJob {
    /// The options.
    pub options: BuildOptions,
    /// The plan of `options.plan`, if made already.
    pub plan: Option<Plan>,
}

/// Receives one line per step, for a progress display.
pub trait Progress: Sync {
    /// Reports that a step starts.
    fn step(&self, message: &str);

    /// Reports what one image (by name) is doing: `go build`, `layers`, `push`, `done`.
    fn target(&self, image: &str, status: &str) {
        self.step(&format!("{image}: {status}"));
    }
}

impl Progress for () {
    fn step(&self, _: &str) {}
}

/// Runs the whole build and writes the images to every one of `options.outputs`.
pub fn build(
    store: &BlobStore,
    goenv: &GoEnv,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildOutcome, BuildError> {
    let job = BuildJob {
        options: options.clone(),
        plan: None,
    };
    let mut outcomes = build_many(store, goenv, &[job], &Schedule::detect(None), progress)?;
    Ok(outcomes.remove(0))
}

/// Runs several builds as one: every output checked first, every plan made, the `go build`s
/// of all of them batched (one invocation per platform and flag set, [`Builder::prebuild`]),
/// targets checked and assembled `schedule.jobs` at a time, and each output written once
/// (registries: images pushed in parallel, shared blobs uploaded once and mounted).
pub fn build_many(
    store: &BlobStore,
    goenv: &GoEnv,
    jobs: &[BuildJob],
    schedule: &Schedule,
    progress: &dyn Progress,
) -> Result<Vec<BuildOutcome>, BuildError> {
    let mut sinks = publish::Sinks::check(jobs, progress)?;
    for job in jobs {
        sbom::check_output(&job.options)?;
    }
    let builder = Builder::new(goenv, &crate::cache::binaries_dir(store));
    if let [job] = jobs
        && job.plan.is_none()
        && let Some(guess) = early_guess(&job.options.plan, goenv)
    {
        builder.start_early(guess);
    }
    let mut plans = Vec::new();
    for job in jobs {
        let plan = match &job.plan {
            Some(p) => p.clone(),
            None => {
                progress.step("reading the Go project (go list)");
                let plan = make_plan(&job.options.plan, goenv)?;
                crate::trace::mark("plan (go list)");
                plan
            }
        };
        plan.check_buildable()?;
        plans.push(plan);
    }
    let targets: Vec<&TargetPlan> = plans.iter().flat_map(|p| &p.targets).collect();
    let requests: Vec<_> = targets.iter().map(|t| &t.request).collect();
    builder.prebuild(&requests, schedule.go_procs, &|m| progress.step(m))?;
    let describer = sbom::Describer::new(jobs, &plans, goenv);
    let mut built = Vec::new();
    for (job, plan) in jobs.iter().zip(&plans) {
        let bases = Bases::resolve(store, plan, &job.options.registry, progress)?;
        built.push(build_images(
            store,
            describer.as_ref(),
            &builder,
            plan,
            &bases,
            &job.options,
            schedule,
            progress,
        )?);
    }
    sinks.publish(store, jobs, &plans, &mut built, progress)?;
    crate::trace::mark("publish (sink write)");
    outcomes(store, jobs, plans, built, &sinks, progress)
}

/// Each job's outcome, once its images are written: SBOMs attached where they went, the
/// warnings of its outputs.
fn outcomes(
    store: &BlobStore,
    jobs: &[BuildJob],
    plans: Vec<Plan>,
    built: Vec<Built>,
    sinks: &publish::Sinks,
    progress: &dyn Progress,
) -> Result<Vec<BuildOutcome>, BuildError> {
    let mut outcomes = Vec::new();
    for ((job, plan), (_, mut images, reports, sboms, sbom_warnings)) in
        jobs.iter().zip(plans).zip(built)
    {
        let published: Vec<sink::Published> = images.iter().map(published_of).collect();
        sbom::attach(
            store,
            &job.options,
            &plan,
            &published,
            &sboms,
            &mut images,
            progress,
        )?;
        let mut warnings = sbom_warnings;
        warnings.extend(sinks.warnings(job));
        outcomes.push(BuildOutcome {
            output: job
                .options
                .all_outputs()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            cgo: CgoSummary {
                mode: plan.cgo.mode,
                reason: plan.cgo.reason.clone(),
            },
            images,
            plan: PlanReport {
                plan,
                built: reports,
            },
            warnings,
        });
    }
    Ok(outcomes)
}

/// Where a built image went, as the sink reported it (recorded in the image by publishing).
fn published_of(image: &BuiltImage) -> sink::Published {
    sink::Published {
        name: image.name.clone(),
        digest: image.digest.clone(),
        references: image.references.clone(),
        pinned: image.reference.clone(),
        push: image.push.clone(),
    }
}

/// `gopack plan --deep`: the plan, and each target built and checked as `build` would.
pub fn plan_deep(
    store: &BlobStore,
    goenv: &GoEnv,
    request: &PlanRequest,
    registry: &RegistryOptions,
) -> Result<PlanReport, BuildError> {
    let plan = make_plan(request, goenv)?;
    plan_deep_of(store, goenv, plan, registry)
}

/// `plan --deep` of a plan already made.
pub fn plan_deep_of(
    store: &BlobStore,
    goenv: &GoEnv,
    plan: Plan,
    registry: &RegistryOptions,
) -> Result<PlanReport, BuildError> {
    plan.check_buildable()?;
    let builder = Builder::new(goenv, &crate::cache::binaries_dir(store));
    let requests: Vec<_> = plan.targets.iter().map(|t| &t.request).collect();
    builder.prebuild(&requests, Schedule::detect(None).go_procs, &|_| {})?;
    let bases = Bases::resolve(store, &plan, registry, &())?;
    let mut built = Vec::new();
    for image in &plan.images {
        for t in plan.targets_of(image) {
            let base = bases.view(&t.platform);
            built.push(target::prepare(&builder, &plan, image, t, base)?.report);
        }
    }
    Ok(PlanReport { plan, built })
}

type Built = (
    Vec<ImageSet>,
    Vec<BuiltImage>,
    Vec<BuiltTarget>,
    Vec<Vec<sbom::PlatformSboms>>,
    Vec<String>,
);

/// Every image of the plan: each target prepared and assembled (`schedule.jobs` at a time),
/// one set per main package.
#[allow(clippy::too_many_arguments)] // each is one shared part of the run, used as is
fn build_images(
    store: &BlobStore,
    describer: Option<&sbom::Describer<'_>>,
    builder: &Builder,
    plan: &Plan,
    bases: &Bases,
    options: &BuildOptions,
    schedule: &Schedule,
    progress: &dyn Progress,
) -> Result<Built, BuildError> {
    let images = Images::new(store, plan, options)?;
    let work: Vec<(&ImagePlan, &TargetPlan)> = plan
        .images
        .iter()
        .flat_map(|i| plan.targets_of(i).map(move |t| (i, t)))
        .collect();
    let done = schedule::run_bounded(&work, schedule.jobs, |_, (image, t)| {
        let choice = options.for_image(image);
        let shown = choice.name;
        progress.target(shown, &format!("go build ({})", t.platform));
        let base = bases.view(&t.platform);
        let prepared = target::prepare(builder, plan, image, t, base)?;
        progress.target(shown, &format!("layers ({})", t.platform));
        let assembled = images.assemble(image, &t.platform, &prepared, base)?;
        crate::trace::mark("layers, config, manifest");
        let mut warnings = Vec::new();
        let artifacts = describer
            .filter(|_| !choice.sbom.is_empty())
            .map(|d| {
                let build = sbom::PlatformBuild {
                    plan,
                    image,
                    choice,
                    target: t,
                    prepared: &prepared,
                    mtime: images.mtime,
                };
                d.describe(store, &build, &assembled.image, &mut warnings)
            })
            .transpose()?;
        let summary = platform_image(store, &prepared, &assembled, base)?;
        Ok::<_, BuildError>((prepared, assembled, summary, artifacts, warnings))
    })?;
    let mut done = done.into_iter();
    let (mut sets, mut built, mut reports) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sboms, mut warnings) = (Vec::new(), Vec::new());
    for image in &plan.images {
        let choice = options.for_image(image);
        let (settings, name) = (choice.settings, choice.name);
        let (mut oci_images, mut summaries, mut user) =
            (Vec::new(), Vec::new(), plan.user.user.clone());
        let mut image_sboms = Vec::new();
        for _ in plan.targets_of(image) {
            let Some((prepared, assembled, summary, artifacts, notes)) = done.next() else {
                break;
            };
            if let Some(artifacts) = artifacts {
                image_sboms.push(sbom::PlatformSboms {
                    platform_index: summaries.len(),
                    artifacts,
                });
            }
            warnings.extend(notes);
            user = prepared.user.user.clone();
            summaries.push(summary);
            reports.push(prepared.report);
            oci_images.push(assembled.image);
        }
        let set = image_set(store, image, name, &settings.index_annotations, oci_images)?;
        built.push(built_image(image, name, &set, summaries, user));
        sets.push(set);
        sboms.push(image_sboms);
    }
    Ok((sets, built, reports, sboms, warnings))
}

/// What every image of one build shares: the store, the layer writer, the date, the CA files,
/// and the data layer (one per owner of the --writable directories).
struct Images<'a> {
    store: &'a BlobStore,
    plan: &'a Plan,
    options: &'a BuildOptions,
    writer: LayerWriter<'a>,
    mtime: u64,
    extra_ca: Vec<String>,
    data_layers: Mutex<BTreeMap<(u32, u32), DataLayer>>,
}

impl<'a> Images<'a> {
    /// The shared parts of one build of `plan` (reads the extra CA files).
    fn new(
        store: &'a BlobStore,
        plan: &'a Plan,
        options: &'a BuildOptions,
    ) -> Result<Images<'a>, BuildError> {
        Ok(Images {
            store,
            plan,
            options,
            writer: LayerWriter::new(store, options.compression),
            mtime: assemble::source_date_epoch(&plan.module.root),
            extra_ca: plan
                .extra_ca_files
                .iter()
                .map(|p| crate::rootfs::read_extra_ca(p))
                .collect::<Result<_, _>>()?,
            data_layers: Mutex::new(BTreeMap::new()),
        })
    }
}

/// The data layer of one run user (uid, gid), when there is one, with its description.
type DataLayer = Option<(WrittenLayer, String)>;

impl Images<'_> {
    /// The data layer of the run user `owner` (written once per owner).
    fn data_layer(&self, owner: (u32, u32)) -> Result<DataLayer, BuildError> {
        let mut layers = self.data_layers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(layer) = layers.get(&owner) {
            return Ok(layer.clone());
        }
        let spec = assemble::data_layer_spec(
            &self.plan.data,
            &self.options.plan.writable,
            owner,
            self.mtime,
        );
        let layer = match spec {
            Some(spec) => Some((self.writer.write(&spec)?, spec.description.clone())),
            None => None,
        };
        layers.insert(owner, layer.clone());
        Ok(layer)
    }

    fn assemble(
        &self,
        image: &ImagePlan,
        platform: &Platform,
        prepared: &PreparedTarget,
        base: Option<&BaseView>,
    ) -> Result<assemble::AssembledImage, BuildError> {
        let owner = (
            prepared.user.uid.unwrap_or(0),
            prepared.user.gid.unwrap_or(0),
        );
        let data_layer = self.data_layer(owner)?;
        let assembly = Assembly {
            image,
            platform,
            module_path: &self.plan.module.path,
            module_root: &self.plan.module.root,
            binary: &prepared.checked,
            files: &prepared.files,
            user: &prepared.user,
            base,
            settings: self.options.for_image(image).settings,
            env: &self.plan.env,
            data_layer: data_layer.as_ref(),
            extra_ca: &self.extra_ca,
            mtime: self.mtime,
        };
        Ok(assemble::assemble(self.store, &self.writer, &assembly)?)
    }
}
