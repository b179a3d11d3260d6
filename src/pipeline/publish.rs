//! Writing the built images to their destination through the one sink API.

use crate::oci::BlobStore;
use crate::sink::{self, ImageSet, OutputSet};

use super::{BuildError, BuiltImage, Progress};

/// Writes the image sets to every output, and records in `built` the names each was written
/// under (all outputs), the reference that pins it (the registry's when one was pushed to),
/// and what a push sent.
pub(super) fn publish(
    store: &BlobStore,
    outputs: &OutputSet,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
    progress: &dyn Progress,
) -> Result<(), BuildError> {
    let per_output = outputs.publish(store, sets, &|m| progress.step(m))?;
    let published = sink::merge_published(per_output);
    for (image, p) in built.iter_mut().zip(published) {
        image.reference = p.pinned;
        image.references = p.references;
        image.push = p.push;
    }
    Ok(())
}
