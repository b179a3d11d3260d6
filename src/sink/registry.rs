//! Registry outputs (`docker://REF`): each image set is pushed with
//! [`RegistryClient::push`](crate::registry::RegistryClient::push) (blobs, manifests, index,
//! then tags — a tag never points at incomplete content; see the registry module).

use crate::oci::BlobStore;
use crate::registry::{PushRequest, Reference, RegistryClient, RegistryOptions};

use super::naming::is_bare_tag;
use super::{ImageSet, ImageSink, Published, PushStats, SinkError};

/// Pushes to a registry repository.
pub struct RegistrySink {
    options: RegistryOptions,
    target: Reference,
    tags: Vec<String>,
    repository_per_binary: bool,
}

impl RegistrySink {
    /// A sink pushing to `target`'s repository (or `<repository>/<binary>` with several
    /// binaries or `repository_per_binary`), tagged with `target`'s tag and `tags` (bare
    /// tags; the first is the main one when `target` has none; default `latest`).
    pub fn new(
        options: RegistryOptions,
        target: Reference,
        tags: Vec<String>,
        repository_per_binary: bool,
    ) -> Result<RegistrySink, SinkError> {
        if let Some(bad) = tags.iter().find(|t| !is_bare_tag(t)) {
            return Err(SinkError::Name(format!(
                "`{bad}` is not a tag: 1 to 128 letters, digits, `_`, `.` or `-`, not starting \
                 with `.` or `-`"
            )));
        }
        if target.digest.is_some() {
            return Err(SinkError::Name(format!(
                "docker://{target} names a digest; push to a tag (REGISTRY/REPOSITORY:TAG) or \
                 a repository"
            )));
        }
        Ok(RegistrySink {
            options,
            target,
            tags,
            repository_per_binary,
        })
    }

    /// The main tag and the others, each once.
    fn all_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self.target.tag.iter().cloned().collect();
        for t in &self.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        if tags.is_empty() {
            tags.push("latest".into());
        }
        tags
    }
}

impl ImageSink for RegistrySink {
    fn destination(&self) -> String {
        format!("docker://{}", self.target)
    }

    fn check(&self, _platforms: usize) -> Result<(), SinkError> {
        Ok(())
    }

    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        _status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        let client = RegistryClient::new(self.options.clone())?;
        let tags = self.all_tags();
        let mut out = Vec::new();
        for set in sets {
            let mut destination = self.target.with_tag(&tags[0]);
            if self.repository_per_binary || sets.len() > 1 {
                destination.repository = format!(
                    "{}/{}",
                    self.target.repository,
                    set.name.to_ascii_lowercase()
                );
            }
            let index = set.index.as_ref().map(|i| (&i.bytes[..], &i.digest));
            let report = client.push(
                store,
                &PushRequest {
                    reference: &destination,
                    images: &set.images,
                    index,
                    tags: &tags[1..],
                },
            )?;
            let mut pinned = destination.clone();
            pinned.tag = None;
            pinned.digest = Some(report.digest.clone());
            out.push(Published {
                name: set.name.clone(),
                digest: report.digest.clone(),
                references: report
                    .tags
                    .iter()
                    .map(|t| destination.with_tag(t).to_string())
                    .collect(),
                pinned: pinned.to_string(),
                push: Some(PushStats {
                    tags: report.tags.clone(),
                    blobs_uploaded: report.blobs_uploaded,
                    blobs_mounted: report.blobs_mounted,
                    blobs_present: report.blobs_present,
                    blob_bytes_uploaded: report.blob_bytes_uploaded,
                }),
            });
        }
        Ok(out)
    }
}
