//! `gopack build --sbom FORMATS`: one bill of materials per format per platform image, made from
//! what this build knows first-hand (the linked binary's build info, `go list -deps` with the
//! target's GOOS/GOARCH/tags, the `-X` values gopack passed, licences from the module cache),
//! packed as OCI referrer artifacts of the platform manifest (see [`crate::sbom::referrer`])
//! and written next to the images: pushed to the registry (referrers API, else the tag schema),
//! or listed as unnamed entries of the layout's `index.json`.

use crate::config::GoEnv;
use crate::oci::{BlobStore, Digest, Image, ImageRef};
use crate::plan::{ImagePlan, Plan, TargetPlan};
use crate::registry::RegistryClient;
use crate::registry::referrers::{Artifact, ReferrerPath};
use crate::sbom::graph::ModuleGraph;
use crate::sbom::referrer::sbom_artifact;
use crate::sbom::{Format, ImageSubject, LicenceFinder, SbomInput, bom, golang};
use crate::sink::{self, Output, Published, SinkError};

use super::{BuildError, BuildOptions, BuiltImage, PreparedTarget, Progress};

/// One SBOM attached to a platform manifest, as `gopack build --json` reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SbomReferrer {
    /// `spdx` or `cyclonedx`.
    pub format: String,
    /// The document's media type (the referrer's `artifactType`).
    pub artifact_type: String,
    /// The referrer manifest's digest.
    pub digest: Digest,
    /// Where its listing went: `referrers-api`, `tag-schema` or `layout-index`.
    pub attached_by: String,
}

/// The referrer artifacts of one platform image, blobs in the store.
pub(super) struct PlatformSboms {
    pub platform_index: usize,
    pub artifacts: Vec<(Format, Artifact)>,
}

/// Makes the SBOMs of the built images (see [`Describer::new`]).
pub(super) struct Describer<'a> {
    formats: &'a [Format],
    goenv: &'a GoEnv,
    finder: LicenceFinder,
    output: &'a Output,
    created: String,
}

impl<'a> Describer<'a> {
    /// A describer for `options.sbom`, documents dated `mtime` (the images' `created`, so a
    /// reproducible build gives reproducible SBOMs).
    pub fn new(options: &'a BuildOptions, goenv: &'a GoEnv, mtime: u64) -> Option<Self> {
        (!options.sbom.is_empty()).then(|| Describer {
            formats: &options.sbom,
            goenv,
            finder: LicenceFinder::new(crate::sbom::module_cache(Some(goenv))),
            output: primary_output(options),
            created: crate::sbom::rfc3339(mtime),
        })
    }

    /// The SBOM artifacts of one platform image (`oci_image`, built from `prepared` for
    /// `target`); a `go list` failure drops the dependency edges with a warning, never the
    /// SBOM.
    #[allow(clippy::too_many_arguments)]
    pub fn describe(
        &self,
        store: &BlobStore,
        plan: &Plan,
        image: &ImagePlan,
        target: &TargetPlan,
        prepared: &PreparedTarget,
        oci_image: &Image,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<(Format, Artifact)>, BuildError> {
        let mut binary = crate::sbom::read_binary(&prepared.binary.path, Some(&self.finder))?;
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
                image.name, target.platform
            )),
        }
        let input = SbomInput {
            image: Some(self.subject(plan, image, oci_image)),
            binaries: vec![binary],
            created: self.created.clone(),
        };
        let bom = bom::build(&input, &self.finder);
        let mut subject = oci_image.descriptor();
        subject.platform = None;
        let mut out = Vec::new();
        for format in self.formats {
            let document = format.render(&bom);
            let artifact = sbom_artifact(store, *format, &document, subject.clone(), &bom.created)?;
            out.push((*format, artifact));
        }
        Ok(out)
    }

    /// How the image is named in its SBOM: the repository it is pushed to, or its name in the
    /// layout.
    fn subject(&self, plan: &Plan, image: &ImagePlan, oci_image: &Image) -> ImageSubject {
        let (name, repository_url, tag) = match &self.output.target {
            ImageRef::Registry(r) => {
                let mut destination = r.clone();
                if self.output.repository_per_binary || plan.images.len() > 1 {
                    destination.repository =
                        format!("{}/{}", r.repository, image.name.to_ascii_lowercase());
                }
                let tag = r.tag.clone().or_else(|| self.output.tags.first().cloned());
                (destination.name(), Some(destination.name()), tag)
            }
            ImageRef::Layout { tag, .. } => (image.name.clone(), None, tag.clone()),
            _ => (image.name.clone(), None, None),
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
fn primary_output(options: &BuildOptions) -> &Output {
    options
        .outputs
        .iter()
        .find(|o| matches!(o.target, ImageRef::Registry(_)))
        .or(options.outputs.first())
        .expect("a build has at least one output")
}

/// Refuses `--sbom` with an output that cannot hold referrers, before anything is built.
pub(super) fn check_output(options: &BuildOptions) -> Result<(), BuildError> {
    if options.sbom.is_empty() {
        return Ok(());
    }
    for output in &options.outputs {
        match &output.target {
            ImageRef::Layout { .. } | ImageRef::Registry(_) => {}
            other => {
                return Err(SinkError::Unsupported(format!(
                    "--sbom attaches SBOMs as OCI referrers, which {other} cannot hold: write \
                     to an OCI layout (--output oci:DIR) or a registry (--push), or make the \
                     document with `gopack sbom {other} -o FILE`"
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// Writes each image's SBOM artifacts where its images went, and records them in `built`.
/// `sboms[i]` belongs to `published[i]` and `built[i]`.
pub(super) fn attach(
    store: &BlobStore,
    options: &BuildOptions,
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
    for output in &options.outputs {
        if let ImageRef::Layout { dir, .. } = &output.target {
            let all: Vec<Artifact> = sboms
                .iter()
                .flatten()
                .flat_map(|p| p.artifacts.iter().map(|(_, a)| a.clone()))
                .collect();
            sink::add_layout_referrers(store, dir, &all, &|m| progress.step(m))?;
            record(sboms, built, |_, _| "layout-index".to_string());
        }
    }
    // With a push too, `published` pins the registry's images, and the record says how the
    // registry took them.
    if let ImageRef::Registry(_) = &primary_output(options).target {
        let client = RegistryClient::new(options.registry.clone())?;
        let mut paths = Vec::new();
        for (set, p) in sboms.iter().zip(published) {
            let reference: crate::registry::Reference = p
                .pinned
                .parse()
                .map_err(|e: crate::registry::ReferenceError| SinkError::Name(e.to_string()))?;
            for (_, artifact) in set.iter().flat_map(|p| &p.artifacts) {
                let pushed = client.push_referrer(store, &reference, artifact)?;
                paths.push((artifact.digest.clone(), pushed.path));
            }
        }
        record(sboms, built, |digest, _| {
            match paths.iter().find(|(d, _)| d == digest).map(|(_, p)| p) {
                Some(ReferrerPath::Api) => "referrers-api".into(),
                _ => "tag-schema".into(),
            }
        });
    }
    Ok(())
}

fn record(
    sboms: &[Vec<PlatformSboms>],
    built: &mut [BuiltImage],
    how: impl Fn(&Digest, Format) -> String,
) {
    for (set, image) in sboms.iter().zip(built.iter_mut()) {
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
                    attached_by: how(&a.digest, *format),
                })
                .collect();
        }
    }
}
