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
mod target;
mod vcs;

use std::collections::BTreeMap;

pub use error::BuildError;
pub use outcome::{BuildOutcome, BuiltImage, CgoSummary, LayerSummary, PlatformImage};
pub use sbom::SbomReferrer;
pub use target::PreparedTarget;

use bases::Bases;
use outcome::{built_image, image_set, platform_image};

use crate::assemble::{self, Assembly, BaseView, ImageSettings};
use crate::config::GoEnv;
use crate::gobuild::Builder;
use crate::oci::{BlobStore, Compression, LayerWriter, Platform, WrittenLayer};
use crate::plan::report::{BuiltTarget, PlanReport};
use crate::plan::{ImagePlan, Plan, PlanRequest, early_guess, make_plan};
use crate::registry::RegistryOptions;
use crate::sink::{self, ImageSet};

/// Everything a build depends on, as given by the user (flags, env) or defaulted.
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
}

/// Receives one line per step, for a progress display.
pub trait Progress {
    /// Reports that a step starts.
    fn step(&self, message: &str);
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
    let outputs = sink::OutputSet::new(&options.outputs, &options.registry)?;
    outputs.check(options.plan.platforms.len())?;
    sbom::check_output(options)?;
    let builder = Builder::new(goenv, &crate::cache::binaries_dir(store));
    if let Some(guess) = early_guess(&options.plan, goenv) {
        builder.start_early(guess);
    }
    progress.step("reading the Go project (go list)");
    let plan = make_plan(&options.plan, goenv)?;
    crate::trace::mark("plan (go list)");
    plan.check_buildable()?;
    let bases = Bases::resolve(store, &plan, &options.registry, progress)?;
    let (sets, mut built, reports, sboms, mut warnings) =
        build_images(store, goenv, &builder, &plan, &bases, options, progress)?;
    let published = publish::publish(store, &outputs, &sets, &mut built, progress)?;
    crate::trace::mark("publish (sink write)");
    sbom::attach(store, options, &published, &sboms, &mut built, progress)?;
    for o in &options.outputs {
        warnings.extend(vcs::keep_output_out_of_vcs(&o.target));
    }
    Ok(BuildOutcome {
        output: options
            .outputs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        cgo: CgoSummary {
            mode: plan.cgo.mode,
            reason: plan.cgo.reason.clone(),
        },
        images: built,
        plan: PlanReport {
            plan,
            built: reports,
        },
        warnings,
    })
}

/// `gopack plan --deep`: the plan, and each target built and checked as `build` would.
pub fn plan_deep(
    store: &BlobStore,
    goenv: &GoEnv,
    request: &PlanRequest,
    registry: &RegistryOptions,
) -> Result<PlanReport, BuildError> {
    let plan = make_plan(request, goenv)?;
    plan.check_buildable()?;
    let builder = Builder::new(goenv, &crate::cache::binaries_dir(store));
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

/// Every image of the plan: each target prepared and assembled, one set per main package.
fn build_images(
    store: &BlobStore,
    goenv: &GoEnv,
    builder: &Builder,
    plan: &Plan,
    bases: &Bases,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<Built, BuildError> {
    let mut images = Images {
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
        data_layers: BTreeMap::new(),
    };
    let (mut sets, mut built, mut reports) = (Vec::new(), Vec::new(), Vec::new());
    let describer = sbom::Describer::new(options, goenv, images.mtime);
    let (mut sboms, mut warnings) = (Vec::new(), Vec::new());
    for image in &plan.images {
        let (mut oci_images, mut summaries, mut user) =
            (Vec::new(), Vec::new(), plan.user.user.clone());
        let mut image_sboms = Vec::new();
        for t in plan.targets_of(image) {
            progress.step(&format!("go build {} ({})", image.package, t.platform));
            let base = bases.view(&t.platform);
            let prepared = target::prepare(builder, plan, image, t, base)?;
            progress.step(&format!(
                "writing the {} layers ({})",
                image.name, t.platform
            ));
            let assembled = images.assemble(image, &t.platform, &prepared, base)?;
            crate::trace::mark("layers, config, manifest");
            user = prepared.user.user.clone();
            if let Some(d) = &describer {
                let artifacts = d.describe(
                    store,
                    plan,
                    image,
                    t,
                    &prepared,
                    &assembled.image,
                    &mut warnings,
                )?;
                image_sboms.push(sbom::PlatformSboms {
                    platform_index: summaries.len(),
                    artifacts,
                });
            }
            summaries.push(platform_image(store, &prepared, &assembled, base)?);
            reports.push(prepared.report);
            oci_images.push(assembled.image);
        }
        let set = image_set(store, image, oci_images)?;
        built.push(built_image(image, &set, summaries, user));
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
    data_layers: BTreeMap<(u32, u32), Option<(WrittenLayer, String)>>,
}

impl Images<'_> {
    fn assemble(
        &mut self,
        image: &ImagePlan,
        platform: &Platform,
        prepared: &PreparedTarget,
        base: Option<&BaseView>,
    ) -> Result<assemble::AssembledImage, BuildError> {
        let owner = (
            prepared.user.uid.unwrap_or(0),
            prepared.user.gid.unwrap_or(0),
        );
        if let std::collections::btree_map::Entry::Vacant(slot) = self.data_layers.entry(owner) {
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
            slot.insert(layer);
        }
        let assembly = Assembly {
            image,
            platform,
            module_path: &self.plan.module.path,
            module_root: &self.plan.module.root,
            binary: &prepared.checked,
            files: &prepared.files,
            user: &prepared.user,
            base,
            settings: &self.options.settings,
            env: &self.plan.env,
            data_layer: self.data_layers.get(&owner).and_then(Option::as_ref),
            extra_ca: &self.extra_ca,
            mtime: self.mtime,
        };
        Ok(assemble::assemble(self.store, &self.writer, &assembly)?)
    }
}
