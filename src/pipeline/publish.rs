//! Writing the built images to their destination: a file output through the sink, or a push
//! to a registry. (The "sink" work replaces this with `sink::publish`.)

use crate::oci::BlobStore;
use crate::registry::{PushRequest, Reference, RegistryClient};
use crate::sink::{self, ImageSet, OutputTarget};

use super::{BuildError, BuildOptions, BuiltImage, PushSummary};

/// Writes or pushes the image sets, and records where each went in `built`.
pub(super) fn publish(
    store: &BlobStore,
    options: &BuildOptions,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
) -> Result<(), BuildError> {
    if let OutputTarget::Registry { reference } = &options.output {
        return push_all(store, options, reference, sets, built);
    }
    sink::write(store, &options.output, sets)?;
    let names = output_references(&options.output, sets);
    for (image, reference) in built.iter_mut().zip(names) {
        image.reference = reference;
    }
    Ok(())
}

/// Pushes each image set: to `reference` itself when there is one binary, else (or with
/// GOPACK_REPO) to `<repository>/<binary>`; the reference's tag (default `latest`) and every
/// extra tag point at the pushed digest once everything under it is in the registry.
fn push_all(
    store: &BlobStore,
    options: &BuildOptions,
    reference: &str,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
) -> Result<(), BuildError> {
    let target: Reference = reference
        .parse()
        .map_err(|e: crate::registry::ReferenceError| {
            BuildError::PushReference(reference.into(), e.reason)
        })?;
    let client = RegistryClient::new(options.registry.clone())?;
    for (set, image) in sets.iter().zip(built.iter_mut()) {
        let mut destination = target.clone();
        if options.repository_per_binary || sets.len() > 1 {
            destination.repository = format!("{}/{}", target.repository, set.name);
        }
        if destination.tag.is_none() && destination.digest.is_none() {
            destination.tag = Some(
                options
                    .push_tags
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "latest".into()),
            );
        }
        let index = set.index.as_ref().map(|i| (&i.bytes[..], &i.digest));
        let tags: Vec<String> = options
            .push_tags
            .iter()
            .filter(|t| Some(*t) != destination.tag.as_ref())
            .cloned()
            .collect();
        let report = client.push(
            store,
            &PushRequest {
                reference: &destination,
                images: &set.images,
                index,
                tags: &tags,
            },
        )?;
        let mut pushed = report.reference.clone();
        pushed.digest = None;
        image.reference = pushed.to_string();
        image.push = Some(PushSummary {
            tags: report.tags.clone(),
            blobs_uploaded: report.blobs_uploaded,
            blobs_mounted: report.blobs_mounted,
            blobs_present: report.blobs_present,
            blob_bytes_uploaded: report.blob_bytes_uploaded,
        });
    }
    Ok(())
}

fn output_references(target: &OutputTarget, sets: &[ImageSet]) -> Vec<String> {
    match target {
        OutputTarget::OciLayout { dir, tag } => sink::ref_names(sets, tag.as_deref())
            .into_iter()
            .map(|n| format!("oci:{}:{n}", dir.display()))
            .collect(),
        OutputTarget::OciArchive { file, tag } => sink::ref_names(sets, tag.as_deref())
            .into_iter()
            .map(|n| format!("oci-archive:{}:{n}", file.display()))
            .collect(),
        other => sets.iter().map(|_| other.to_string()).collect(),
    }
}
