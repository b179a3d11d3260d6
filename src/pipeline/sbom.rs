//! `gopack build --sbom FORMATS`: one bill of materials per format per platform image, made from
//! what this build knows first-hand (the linked binary's build info, `go list -deps` with the
//! target's GOOS/GOARCH/tags, the `-X` values gopack passed, licences from the module cache),
//! packed as OCI referrer artifacts of the platform manifest (see [`crate::sbom::referrer`])
//! and written next to the images, wherever each image went: pushed to its own registry
//! repository (referrers API, else the tag schema) and listed as unnamed entries of the
//! `index.json` of every layout it was written to. Which formats an image gets is its own
//! setting (a gopack.toml `[[target]]` may ask for SBOMs its neighbours do not).

use crate::config::GoEnv;
use crate::oci::{BlobStore, Digest, Image, ImageRef};
use crate::plan::{ImagePlan, Plan, TargetPlan};
use crate::registry::RegistryClient;
use crate::registry::referrers::{Artifact, ReferrerPath};
use crate::sbom::graph::ModuleGraph;
use crate::sbom::referrer::sbom_artifact;
use crate::sbom::{Format, ImageSubject, LicenceFinder, SbomInput, bom, golang};
use crate::sink::{self, Output, Published, SinkError};

use super::{
    BuildError, BuildJob, BuildOptions, BuiltImage, ImageChoice, PreparedTarget, Progress,
};

/// One SBOM attached to a platform manifest, as `gopack build --json` reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SbomReferrer {
    /// `spdx` or `cyclonedx`.
    pub format: String,
    /// The document's media type (the referrer's `artifactType`).
    pub artifact_type: String,
    /// The referrer manifest's digest.
    pub digest: Digest,
    /// Where its listing went: `referrers-api` or `tag-schema` when the image was pushed
    /// (also when a layout holds it too), else `layout-index`.
    pub attached_by: String,
}

/// The referrer artifacts of one platform image, blobs in the store.
pub(super) struct PlatformSboms {
    pub platform_index: usize,
    pub artifacts: Vec<(Format, Artifact)>,
}

/// Makes the SBOMs of the built images (see [`Describer::new`]).
pub(super) struct Describer<'a> {
    goenv: &'a GoEnv,
    finder: LicenceFinder,
    /// Each output of the run, with the number of images written to it (a registry output
    /// holding several pushes each to `REPOSITORY/NAME`, as [`sink::RegistrySink`] does).
    shared: Vec<(Output, usize)>,
}

/// One platform image to describe: what it was built from, and where it goes.
pub(super) struct PlatformBuild<'a> {
    pub plan: &'a Plan,
    pub image: &'a ImagePlan,
    pub choice: ImageChoice<'a>,
    pub target: &'a TargetPlan,
    pub prepared: &'a PreparedTarget,
    /// The images' `created` time (seconds since the epoch), so a reproducible build gives
    /// reproducible SBOMs.
    pub mtime: u64,
}

impl<'a> Describer<'a> {
    /// A describer for the images of `jobs` (made with `plans`) that ask for SBOMs; `None`
    /// when none does.
    pub fn new(jobs: &[BuildJob], plans: &[Plan], goenv: &'a GoEnv) -> Option<Self> {
        let wanted = jobs.iter().zip(plans).any(|(job, plan)| {
            plan.images
                .iter()
                .any(|i| !job.options.for_image(i).sbom.is_empty())
        });
        let mut shared: Vec<(Output, usize)> = Vec::new();
        for (_, _, output) in super::publish::destinations(jobs, plans) {
            match shared.iter_mut().find(|(o, _)| o == output) {
                Some((_, n)) => *n += 1,
                None => shared.push((output.clone(), 1)),
            }
        }
        wanted.then(|| Describer {
            goenv,
            finder: LicenceFinder::new(crate::sbom::module_cache(Some(goenv))),
            shared,
        })
    }

    /// The SBOM artifacts of one platform image (`oci_image`, built as `build` says), one per
    /// format the image asks for; a `go list` failure drops the dependency edges with a
    /// warning, never the SBOM.
    pub fn describe(
        &self,
        store: &BlobStore,
        build: &PlatformBuild<'_>,
        oci_image: &Image,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<(Format, Artifact)>, BuildError> {
        let (plan, image, target) = (build.plan, build.image, build.target);
        let mut binary = crate::sbom::read_binary(&build.prepared.binary.path, Some(&self.finder))?;
        binary.path = image
            .entrypoint
            .first()
            .cloned()
            .unwrap_or_else(|| image.name.clone());
        let request = &target.request;
        binary.x_values = golang::x_assignments(&request.flags.ldflags_words());
        binary.main_dir = Some(plan.module.root.clone());
        let env: Vec<(String, String)> = request
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        match ModuleGraph::go_list(
            self.goenv,
            &plan.module.root,
            std::slice::from_ref(&image.package),
            &env,
            &request.flags.tags,
        ) {
            Ok(graph) => binary.graph = Some(graph),
            Err(e) => warnings.push(format!(
                "{} ({}): the SBOM has no module dependency edges: {e}",
                build.choice.name, target.platform
            )),
        }
        let input = SbomInput {
            image: Some(self.subject(build.choice, oci_image)),
            binaries: vec![binary],
            created: crate::sbom::rfc3339(build.mtime),
        };
        let bom = bom::build(&input, &self.finder);
        let mut subject = oci_image.descriptor();
        subject.platform = None;
        let mut out = Vec::new();
        for format in build.choice.sbom {
            let document = format.render(&bom);
            let artifact = sbom_artifact(store, *format, &document, subject.clone(), &bom.created)?;
            out.push((*format, artifact));
        }
        Ok(out)
    }

    /// How the image is named in its SBOM: the repository it is pushed to (as the registry
    /// sink names it), or its name in the first output.
    fn subject(&self, choice: ImageChoice<'_>, oci_image: &Image) -> ImageSubject {
        let output = primary_output(choice.outputs);
        let (name, repository_url, tag) = match &output.target {
            ImageRef::Registry(r) => {
                let mut destination = r.clone();
                let images_there = self
                    .shared
                    .iter()
                    .find(|(o, _)| o == output)
                    .map_or(1, |(_, n)| *n);
                if output.repository_per_binary || images_there > 1 {
                    destination.repository =
                        format!("{}/{}", r.repository, choice.name.to_ascii_lowercase());
                }
                let tag = r.tag.clone().or_else(|| output.tags.first().cloned());
                (destination.name(), Some(destination.name()), tag)
            }
            ImageRef::Layout { tag, .. } => (choice.name.to_string(), None, tag.clone()),
            _ => (choice.name.to_string(), None, None),
        };
        ImageSubject {
            name,
            repository_url,
            tag,
            manifest_digest: oci_image.manifest_digest.clone(),
            platform: oci_image.platform.clone(),
        }
    }
}

/// The output an SBOM names its image by: the registry pushed to, else the first output.
fn primary_output(outputs: &[Output]) -> &Output {
    outputs
        .iter()
        .find(|o| matches!(o.target, ImageRef::Registry(_)))
        .or(outputs.first())
        .expect("a build has at least one output")
}

/// Refuses SBOMs asked for (by the build, or by one image) with an output of theirs that
/// cannot hold referrers, before anything is built.
pub(super) fn check_output(options: &BuildOptions) -> Result<(), BuildError> {
    let lists = std::iter::once((&options.sbom, &options.outputs))
        .chain(options.images.iter().map(|i| (&i.sbom, &i.outputs)));
    for (formats, outputs) in lists {
        if formats.is_empty() {
            continue;
        }
        for output in outputs {
            match &output.target {
                ImageRef::Layout { .. } | ImageRef::Registry(_) => {}
                other => {
                    return Err(SinkError::Unsupported(format!(
                        "--sbom attaches SBOMs as OCI referrers, which {other} cannot hold: \
                         write to an OCI layout (--output oci:DIR) or a registry (--push), or \
                         make the document with `gopack sbom {other} -o FILE`"
                    ))
                    .into());
                }
            }
        }
    }
    Ok(())
}

/// Writes each image's SBOM artifacts where that image went — every OCI layout among its
/// outputs (each layout updated once, with the artifacts of all its images) and its own
/// registry repository — and records them in `built`. `sboms[i]`, `published[i]` and
/// `built[i]` belong to `plan.images[i]`.
pub(super) fn attach(
    store: &BlobStore,
    options: &BuildOptions,
    plan: &Plan,
    published: &[Published],
    sboms: &[Vec<PlatformSboms>],
    built: &mut [BuiltImage],
    progress: &dyn Progress,
) -> Result<(), BuildError> {
    let count: usize = sboms.iter().flatten().map(|p| p.artifacts.len()).sum();
    if count == 0 {
        return Ok(());
    }
    progress.step(&format!("attaching {count} SBOM(s) as referrers"));
    let mut layouts: Vec<(&std::path::Path, Vec<Artifact>)> = Vec::new();
    for (image, set) in plan.images.iter().zip(sboms) {
        for output in options.for_image(image).outputs {
            if let ImageRef::Layout { dir, .. } = &output.target {
                let artifacts = set
                    .iter()
                    .flat_map(|p| p.artifacts.iter().map(|(_, a)| a.clone()));
                match layouts.iter_mut().find(|(d, _)| *d == dir.as_path()) {
                    Some((_, all)) => all.extend(artifacts),
                    None => layouts.push((dir.as_path(), artifacts.collect())),
                }
            }
        }
    }
    for (dir, artifacts) in &layouts {
        sink::add_layout_referrers(store, dir, artifacts, &|m| progress.step(m))?;
    }
    let goes_to = |image: &ImagePlan, registry: bool| {
        options.for_image(image).outputs.iter().any(|o| {
            matches!(
                (&o.target, registry),
                (ImageRef::Registry(_), true) | (ImageRef::Layout { .. }, false)
            )
        })
    };
    let client = if plan.images.iter().any(|i| goes_to(i, true)) {
        Some(RegistryClient::new(options.registry.clone())?)
    } else {
        None
    };
    let per_image = plan.images.iter().zip(sboms).zip(published);
    for (((image, set), p), image_built) in per_image.zip(built.iter_mut()) {
        if goes_to(image, false) {
            record(set, image_built, |_| "layout-index".to_string());
        }
        let Some(client) = client.as_ref().filter(|_| goes_to(image, true)) else {
            continue;
        };
        // With a push, `p.pinned` is this image's own repository (its registry pin).
        let reference: crate::registry::Reference = p
            .pinned
            .parse()
            .map_err(|e: crate::registry::ReferenceError| SinkError::Name(e.to_string()))?;
        let mut paths = Vec::new();
        for (_, artifact) in set.iter().flat_map(|p| &p.artifacts) {
            let pushed = client.push_referrer(store, &reference, artifact)?;
            paths.push((artifact.digest.clone(), pushed.path));
        }
        record(set, image_built, |digest| {
            match paths.iter().find(|(d, _)| d == digest).map(|(_, p)| p) {
                Some(ReferrerPath::Api) => "referrers-api".into(),
                _ => "tag-schema".into(),
            }
        });
    }
    Ok(())
}

/// Records one image's SBOM referrers in its platforms; `how` names where each was listed.
fn record(set: &[PlatformSboms], image: &mut BuiltImage, how: impl Fn(&Digest) -> String) {
    for p in set {
        let Some(platform) = image.platforms.get_mut(p.platform_index) else {
            continue;
        };
        platform.sboms = p
            .artifacts
            .iter()
            .map(|(format, a)| SbomReferrer {
                format: format.to_string(),
                artifact_type: format.media_type().to_string(),
                digest: a.digest.clone(),
                attached_by: how(&a.digest),
            })
            .collect();
    }
}
