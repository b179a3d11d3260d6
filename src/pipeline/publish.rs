//! Writing the built images to their destination through the one sink API.

use crate::oci::BlobStore;
use crate::sink::{self, ImageSet, ImageSink, Published};

use super::{BuildError, BuiltImage, Progress};

/// Writes the image sets through `sink`, and records in `built` the names each was written
/// under, the reference that pins it, and what a push sent. Returns where each set went.
pub(super) fn publish(
    store: &BlobStore,
    sink: &dyn ImageSink,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
    progress: &dyn Progress,
) -> Result<Vec<Published>, BuildError> {
    progress.step(&format!("writing {}", sink.destination()));
    let published = sink::publish(store, sets, sink, &|m| progress.step(m))?;
    for (image, p) in built.iter_mut().zip(&published) {
        image.reference = p.pinned.clone();
        image.references = p.references.clone();
        image.push = p.push.clone();
    }
    Ok(published)
}
