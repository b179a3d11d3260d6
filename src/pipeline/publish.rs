//! Writing the built images to their destination through the one sink API.

use crate::oci::BlobStore;
use crate::sink::{self, ImageSet, ImageSink};

use super::{BuildError, BuiltImage, Progress};

/// Writes the image sets through `sink`, and records in `built` the names each was written
/// under, the reference that pins it, and what a push sent.
pub(super) fn publish(
    store: &BlobStore,
    sink: &dyn ImageSink,
    sets: &[ImageSet],
    built: &mut [BuiltImage],
    progress: &dyn Progress,
) -> Result<(), BuildError> {
    progress.step(&format!("writing {}", sink.destination()));
    let published = sink::publish(store, sets, sink, &|m| progress.step(m))?;
    for (image, p) in built.iter_mut().zip(published) {
        image.reference = p.pinned;
        image.references = p.references;
        image.push = p.push;
    }
    Ok(())
}
