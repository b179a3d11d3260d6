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
        status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        let client = RegistryClient::new(self.options.clone())?;
        // The push runs on its own thread while this one reports the blob bytes sent so far
        // (`status` need not be shareable across threads).
        std::thread::scope(|scope| {
            let pushing = scope.spawn(|| self.push_sets(&client, store, sets));
            let mut shown = 0;
            while !pushing.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let sent = client
                    .stats()
                    .blob_bytes_uploaded
                    .load(std::sync::atomic::Ordering::Relaxed);
                if sent != shown {
                    shown = sent;
                    status(&format!(
                        "pushing to {}: {:.1} MiB sent",
                        self.target.registry,
                        sent as f64 / f64::from(1 << 20)
                    ));
                }
            }
            pushing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl RegistrySink {
    /// Pushes every set with `client`; see [`ImageSink::write`].
    fn push_sets(
        &self,
        client: &RegistryClient,
        store: &BlobStore,
        sets: &[ImageSet],
    ) -> Result<Vec<Published>, SinkError> {
        let tags = self.all_tags();
        let per_binary = self.repository_per_binary || sets.len() > 1;
        let push_one = |set: &ImageSet| -> Result<Published, SinkError> {
            let mut destination = self.target.with_tag(&tags[0]);
            if per_binary {
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
            Ok(Published {
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
            })
        };
        // The sets that first carry each blob shared with another set go first, one at a
        // time, so every shared blob (base files, base layers) is uploaded once and mounted
        // into the other repositories; the rest go in parallel.
        let (first, rest) = shared_blob_carriers(sets);
        let mut out: Vec<Option<Published>> = vec![None; sets.len()];
        for i in first {
            out[i] = Some(push_one(&sets[i])?);
        }
        let pushed = crate::parallel::run_bounded(&rest, PARALLEL_PUSHES, |_, &i| {
            push_one(&sets[i]).map(|p| (i, p))
        })?;
        for (i, p) in pushed {
            out[i] = Some(p);
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// Images pushed to one registry at the same time.
const PARALLEL_PUSHES: usize = 4;

/// Splits set indices into those to push first, one by one (each is the first to carry a blob
/// that another set also carries), and the rest.
fn shared_blob_carriers(sets: &[ImageSet]) -> (Vec<usize>, Vec<usize>) {
    let blobs: Vec<Vec<crate::oci::Digest>> = sets.iter().map(ImageSet::blobs).collect();
    let mut covered = std::collections::BTreeSet::new();
    let mut first = Vec::new();
    for (i, mine) in blobs.iter().enumerate() {
        let carries_new_shared = mine.iter().any(|d| {
            !covered.contains(d)
                && blobs
                    .iter()
                    .enumerate()
                    .any(|(j, b)| j != i && b.contains(d))
        });
        if carries_new_shared {
            covered.extend(mine.iter().cloned());
            first.push(i);
        }
    }
    let rest = (0..sets.len()).filter(|i| !first.contains(i)).collect();
    (first, rest)
}
