//! Writing the built images to their destination through the one sink API.

use crate::oci::BlobStore;
use crate::sink::{self, ImageSet, OutputSet, Published};

use super::{BuildError, BuiltImage, Progress};

/// Writes the image sets to every output, and records in `built` the names each was written
/// under (all outputs), the reference that pins it (the registry's when one was pushed to),
/// and what a push sent. Returns where each set went (merged over the outputs).
pub(super) fn publish(
    store: &BlobStore,
    outputs: &OutputSet,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
    progress: &dyn Progress,
) -> Result<Vec<Published>, BuildError> {
    let per_output = outputs.publish(store, sets, &|m| progress.step(m))?;
    let published = sink::merge_published(per_output);
    for (image, p) in built.iter_mut().zip(&published) {
        image.reference = p.pinned.clone();
        image.references = p.references.clone();
        image.push = p.push.clone();
    }
    Ok(published)
}
