//! `gopack build` and `gopack plan --deep`, as a sequence of stages that hand plain values
//! forward (DESIGN.md, "Data flow of build"):
//!
//! `make_plan` (pure data) → per target [`target::prepare`] (`build_binary` → `check_binary` →
//! file decisions) → `assemble` (base + layers + config) → `publish`.
//!
//! `plan --deep` runs the first stages, literally the same functions, and stops.

mod error;
mod publish;
mod target;
mod vcs;

use std::collections::BTreeMap;

pub use error::BuildError;
pub use target::PreparedTarget;

use crate::assemble::{self, Assembly, BaseView, ImageSettings};
use crate::base::{self, BaseSpec};
use crate::config::GoEnv;
use crate::gobuild::{Builder, CgoMode};
use crate::oci::{BlobStore, Compression, Digest, LayerWriter, Platform, WrittenLayer, index_for};
use crate::plan::report::{BuiltTarget, PlanReport};
use crate::plan::{FileDecisions, ImagePlan, Plan, PlanRequest, early_guess, make_plan};
use crate::registry::RegistryOptions;
use crate::sink::{self, ImageSet, IndexBlob, PushStats};

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
    /// Where the images go, under which names (`--output`, `--tag`, GOPACK_REPO).
    pub output: sink::Output,
    /// Registry access (insecure hosts, CAs, credentials).
    pub registry: RegistryOptions,
}

/// What one platform image turned out to be.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PlatformImage {
    /// The platform.
    pub platform: Platform,
    /// The manifest's digest.
    pub manifest_digest: Digest,
    /// Binary size in bytes.
    pub binary_size: u64,
    /// Bytes of every layer blob (base included), the config and the manifest.
    pub compressed_size: u64,
    /// Uncompressed bytes of every layer (base included): one scope for both sizes.
    pub uncompressed_size: u64,
    /// Every layer, the base's first.
    pub layers: Vec<LayerSummary>,
    /// The `go build` command that made the binary.
    pub go_build: String,
    /// What the linked binary needs at run time, with the function that shows each need.
    pub needs: Vec<crate::binary::needs::DetectedNeed>,
    /// Which base files went in, and why.
    pub files: FileDecisions,
    /// What may fail at run time in this image.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The binary's build info.
    #[serde(skip)]
    pub build_info: Option<crate::binary::buildinfo::BuildInfo>,
}

/// One layer of a built image, the base's included. Sizes are in bytes: `size` as stored
/// (compressed), `uncompressed_size` of the tar.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerSummary {
    /// Its digest.
    pub digest: Digest,
    /// Compressed bytes.
    pub size: u64,
    /// Uncompressed bytes (the tar).
    pub uncompressed_size: u64,
    /// The history sentence.
    pub description: String,
    /// Already in the store: nothing was compressed.
    pub reused: bool,
    /// A layer of the `--base` image, reused as it is.
    pub from_base: bool,
}

/// What one main package became.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuiltImage {
    /// The image name (the binary's).
    pub name: String,
    /// The main package's import path.
    pub package: String,
    /// The digest of the index (several platforms) or of the single manifest.
    pub digest: Digest,
    /// The media type of the top descriptor.
    pub media_type: String,
    /// The config's `User`.
    pub user: String,
    /// The config's `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// One entry per platform.
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

/// The cgo mode of the build: one mode when every image shares it (`null` when they differ).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CgoSummary {
    /// The mode.
    pub mode: Option<CgoMode>,
    /// Why.
    pub reason: String,
}

/// What `gopack build` did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuildOutcome {
    /// The output as given.
    pub output: String,
    /// The cgo decision.
    pub cgo: CgoSummary,
    /// One entry per main package.
    pub images: Vec<BuiltImage>,
    /// The plan the build followed, with what each linked binary needed.
    pub plan: PlanReport,
    /// About the output itself (e.g. inside a git work tree that does not ignore it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Receives one line per step, for a progress display.
pub trait Progress {
    /// Reports that a step starts.
    fn step(&self, message: &str);
}

impl Progress for () {
    fn step(&self, _: &str) {}
}

/// Runs the whole build and writes the images to `options.output`.
pub fn build(
    store: &BlobStore,
    goenv: &GoEnv,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildOutcome, BuildError> {
    let sink = options.output.sink(&options.registry)?;
    sink.check(options.plan.platforms.len())?;
    let builder = Builder::new(goenv, &crate::cache::binaries_dir(store));
    if let Some(guess) = early_guess(&options.plan, goenv) {
        builder.start_early(guess);
    }
    progress.step("reading the Go project (go list)");
    let plan = make_plan(&options.plan, goenv)?;
    plan.check_buildable()?;
    let bases = Bases::resolve(store, &plan, &options.registry, progress)?;
    let (sets, mut built, reports) =
        build_images(store, &builder, &plan, &bases, options, progress)?;
    publish::publish(store, sink.as_ref(), &sets, &mut built, progress)?;
    let warnings = vcs::keep_output_out_of_vcs(&options.output.target);
    Ok(BuildOutcome {
        output: options.output.to_string(),
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

type Built = (Vec<ImageSet>, Vec<BuiltImage>, Vec<BuiltTarget>);

/// Every image of the plan: each target prepared and assembled, one set per main package.
fn build_images(
    store: &BlobStore,
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
    for image in &plan.images {
        let (mut oci_images, mut summaries, mut user) =
            (Vec::new(), Vec::new(), plan.user.user.clone());
        for t in plan.targets_of(image) {
            progress.step(&format!("go build {} ({})", image.package, t.platform));
            let base = bases.view(&t.platform);
            let prepared = target::prepare(builder, plan, image, t, base)?;
            progress.step(&format!(
                "writing the {} layers ({})",
                image.name, t.platform
            ));
            let assembled = images.assemble(image, &t.platform, &prepared, base)?;
            user = prepared.user.user.clone();
            summaries.push(platform_image(store, &prepared, &assembled, base)?);
            reports.push(prepared.report);
            oci_images.push(assembled.image);
        }
        let set = image_set(store, image, oci_images)?;
        built.push(built_image(image, &set, summaries, user));
        sets.push(set);
    }
    Ok((sets, built, reports))
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

fn platform_image(
    store: &BlobStore,
    prepared: &PreparedTarget,
    assembled: &assemble::AssembledImage,
    base: Option<&BaseView>,
) -> Result<PlatformImage, BuildError> {
    let layers = layer_summaries(store, base, &assembled.layers)?;
    Ok(PlatformImage {
        platform: assembled.image.platform.clone(),
        manifest_digest: assembled.image.manifest_digest.clone(),
        binary_size: prepared.binary.size,
        compressed_size: assembled.image.compressed_size(),
        uncompressed_size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
        go_build: prepared.binary.command_line.clone(),
        needs: prepared.report.needs.clone(),
        files: prepared.files.clone(),
        warnings: prepared.report.warnings.clone(),
        build_info: prepared.checked.build_info.clone(),
    })
}

/// The summary of every layer of an image: the base's first (sizes read from the store), then
/// the layers gopack wrote. One scope for every size: the whole image.
fn layer_summaries(
    store: &BlobStore,
    base: Option<&BaseView>,
    ours: &[(WrittenLayer, String)],
) -> Result<Vec<LayerSummary>, BuildError> {
    let mut out = Vec::new();
    for d in base
        .map(|b| b.image.manifest.layers.as_slice())
        .unwrap_or_default()
    {
        out.push(LayerSummary {
            digest: d.digest.clone(),
            size: d.size,
            uncompressed_size: crate::cache::uncompressed_size(store, d)?,
            description: format!("base image {}", base.map_or("", |b| b.name.as_str())),
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

fn image_set(
    store: &BlobStore,
    image: &ImagePlan,
    images: Vec<crate::oci::Image>,
) -> Result<ImageSet, BuildError> {
    let index = if images.len() > 1 {
        let (_, bytes, digest) = index_for(store, &images, sink::index_annotations(&images))?;
        Some(IndexBlob::oci(bytes, digest))
    } else {
        None
    };
    Ok(ImageSet {
        name: image.name.clone(),
        images,
        index,
    })
}

fn built_image(
    image: &ImagePlan,
    set: &ImageSet,
    platforms: Vec<PlatformImage>,
    user: String,
) -> BuiltImage {
    let top = set.top_descriptor();
    BuiltImage {
        name: image.name.clone(),
        package: image.package.clone(),
        digest: top.digest,
        media_type: top.media_type,
        user,
        entrypoint: image.entrypoint.clone(),
        platforms,
        reference: String::new(),
        references: Vec::new(),
        push: None,
    }
}

/// The base image, resolved once, and read once per platform.
struct Bases {
    views: BTreeMap<Platform, BaseView>,
}

impl Bases {
    fn resolve(
        store: &BlobStore,
        plan: &Plan,
        registry: &RegistryOptions,
        progress: &dyn Progress,
    ) -> Result<Bases, BuildError> {
        if plan.base_spec != BaseSpec::Scratch {
            progress.step(&format!("resolving the base image {}", plan.base_spec));
        }
        let platforms: Vec<Platform> = plan.targets.iter().map(|t| t.platform.clone()).collect();
        let base = base::resolve(&plan.base_spec, store, &platforms, registry)?;
        let mut views = BTreeMap::new();
        if let Some(b) = &base {
            for p in &platforms {
                if !views.contains_key(p) {
                    let mut view = BaseView::read(store, b, p)?;
                    view.recorded_name = assemble::stable_base_name(&plan.base_spec);
                    views.insert(p.clone(), view);
                }
            }
        }
        Ok(Bases { views })
    }

    /// The base for `platform` (every target platform was read by `resolve`); `None` for scratch.
    fn view(&self, platform: &Platform) -> Option<&BaseView> {
        self.views.get(platform)
    }
}
