//! An SBOM as an OCI referrer of the image manifest it describes, in the shape trivy and oras
//! read (anchors-wave2 §3): an image manifest with `artifactType` = the document's media type,
//! the empty config (`application/vnd.oci.empty.v1+json`, the 2-byte `{}` blob), exactly one
//! layer of that same media type, `subject` = the platform manifest, and the annotation
//! `org.opencontainers.image.created`. One per format per platform manifest: trivy takes the
//! first matching referrer and does not order them by date (trivy #3768).

use std::collections::BTreeMap;

use super::Format;
use crate::oci::source::{LayoutSource, SourceOptions, read_blob};
use crate::oci::{
    BlobStore, Descriptor, Digest, ImageRef, PlatformSelector, SourceError, StoreError, resolve,
};
use crate::registry::referrers::{ANNOTATION_CREATED, Artifact, ListSource};
use crate::registry::{RegistryClient, RegistryError};

/// The referrer artifact for `document` (in `format`) describing `subject`, created at
/// `created` (RFC 3339); its blobs are put into `store`.
pub fn sbom_artifact(
    store: &BlobStore,
    format: Format,
    document: &[u8],
    subject: Descriptor,
    created: &str,
) -> Result<Artifact, StoreError> {
    let title = match format {
        Format::Spdx => "sbom.spdx.json",
        Format::CycloneDx => "sbom.cdx.json",
    };
    Artifact::single_layer(
        store,
        format.media_type(),
        document,
        title,
        subject,
        BTreeMap::from([(ANNOTATION_CREATED.to_string(), created.to_string())]),
    )
}

/// The referrers of one manifest, and where the list came from.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Listed {
    /// The manifest (or index) they refer to.
    pub subject: Digest,
    /// Its platform, for a platform manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// How they were found: the registry's referrers API, the referrers tag schema, or an OCI
    /// layout's `index.json`.
    pub source: ListedBy,
    /// Their descriptors (`artifactType`, annotations).
    pub referrers: Vec<Descriptor>,
}

/// Where a list of referrers came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListedBy {
    /// `GET /v2/<name>/referrers/<digest>`.
    ReferrersApi,
    /// The `sha256-<hex>` index of the referrers tag schema.
    TagSchema,
    /// Manifests listed in an OCI layout's `index.json` whose `subject` is the manifest.
    LayoutIndex,
}

impl std::fmt::Display for ListedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ListedBy::ReferrersApi => "the referrers API",
            ListedBy::TagSchema => "the referrers tag schema",
            ListedBy::LayoutIndex => "the layout's index.json",
        })
    }
}

/// Why referrers could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The image could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// This transport keeps no referrers.
    #[error(
        "{0} keeps no referrers; list them in a registry (docker://REF) or an OCI layout (oci:DIR)"
    )]
    Unsupported(String),
}

/// The referrers of every manifest `target` names: each platform manifest and, when the
/// reference names an index, the index too. Registries are asked through their referrers API
/// (the tag schema's index when they have none); an OCI layout's referrers are the manifests
/// its `index.json` lists whose `subject` is one of those manifests (as oras keeps them).
pub fn list_referrers(
    target: &ImageRef,
    store: &BlobStore,
    options: &SourceOptions,
) -> Result<Vec<Listed>, ListError> {
    let source = crate::oci::source::open(target, store, options)?;
    let resolved = resolve(
        &*source,
        &PlatformSelector::from_list(&[]),
        store,
        &options.limits,
    )?;
    let mut subjects: Vec<(Digest, Option<String>)> = resolved
        .images
        .iter()
        .map(|i| (i.manifest_digest.clone(), Some(i.platform.to_string())))
        .collect();
    if resolved.index.is_some() {
        subjects.push((resolved.top.digest.clone(), None));
    }
    match target {
        ImageRef::Registry(reference) => {
            let client = RegistryClient::new(options.registry.clone())?;
            let mut out = Vec::new();
            for (subject, platform) in subjects {
                let (referrers, how) = client.list_referrers(reference, &subject, None)?;
                out.push(Listed {
                    subject,
                    platform,
                    source: match how {
                        ListSource::Api => ListedBy::ReferrersApi,
                        ListSource::TagSchema => ListedBy::TagSchema,
                    },
                    referrers,
                });
            }
            Ok(out)
        }
        ImageRef::Layout { dir, .. } => {
            let layout = LayoutSource::open(dir, None, options.limits)?;
            let index = layout.index()?;
            let mut out: Vec<Listed> = subjects
                .into_iter()
                .map(|(subject, platform)| Listed {
                    subject,
                    platform,
                    source: ListedBy::LayoutIndex,
                    referrers: Vec::new(),
                })
                .collect();
            for entry in &index.manifests {
                if entry.media_type != crate::oci::MEDIA_TYPE_MANIFEST {
                    continue;
                }
                let bytes = read_blob(&layout, entry, options.limits.max_manifest, "manifest")?;
                let Ok(artifact) = Artifact::from_bytes(bytes) else {
                    continue;
                };
                let Some(subject) = &artifact.manifest.subject else {
                    continue;
                };
                if let Some(l) = out.iter_mut().find(|l| l.subject == subject.digest) {
                    let mut d = artifact.referrer_descriptor();
                    d.annotations = artifact.manifest.annotations.clone();
                    l.referrers.push(d);
                }
            }
            Ok(out)
        }
        other => Err(ListError::Unsupported(other.to_string())),
    }
}
