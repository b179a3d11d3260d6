//! `docker-daemon:NAME[:TAG]` as a source: the daemon's `GET /images/NAME/get` (the archive
//! `docker save` writes) is copied to a temp file beside the blob store, then read in place as a
//! [`DockerArchiveSource`], so every check that adapter makes applies. The temp file lives as
//! long as the source.
#![warn(missing_docs)]

use std::io::{Read, Write};

use super::{DockerArchiveSource, ImageSource, Limits, SourceError};
use crate::oci::{BlobStore, Descriptor};
use crate::registry::Reference;
use crate::sink::daemon::engine::{DockerEngine, DockerHost};
use crate::sink::familiar_name;

/// Largest image gopack copies out of a daemon, bytes (uncompressed: `docker save` writes
/// plain tars).
pub const MAX_DAEMON_IMAGE: u64 = 64 << 30;

/// An image read from a Docker daemon.
#[derive(Debug)]
pub struct DaemonSource {
    inner: DockerArchiveSource,
    origin: String,
    _file: tempfile::NamedTempFile,
}

impl DaemonSource {
    /// Saves `reference` from the daemon `host` into a temp file in the store's directory and
    /// opens it.
    pub fn open(
        host: DockerHost,
        reference: &Reference,
        store: &BlobStore,
        limits: Limits,
    ) -> Result<DaemonSource, SourceError> {
        let name = familiar_name(reference);
        let origin = format!("docker-daemon:{name}");
        let failed = |reason: String| SourceError::Invalid {
            origin: origin.clone(),
            reason,
        };
        let engine = DockerEngine::connect(host).map_err(|e| failed(e.to_string()))?;
        let mut file =
            crate::fsutil::temp_file_in(store.root()).map_err(|error| SourceError::Io {
                what: format!("a temp file in {}", store.root().display()),
                error,
            })?;
        let temp_name = file.path().display().to_string();
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        engine
            .save(&name, &mut out, MAX_DAEMON_IMAGE)
            .map_err(|e| failed(e.to_string()))?;
        out.flush().map_err(|error| SourceError::Io {
            what: temp_name,
            error,
        })?;
        drop(out);
        let inner = DockerArchiveSource::open(file.path(), Some(reference.clone()), limits)
            .map_err(|e| failed(e.to_string()))?;
        Ok(DaemonSource {
            inner,
            origin,
            _file: file,
        })
    }
}

impl ImageSource for DaemonSource {
    fn name(&self) -> String {
        self.origin.clone()
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        self.inner.top()
    }

    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner.open_raw(descriptor)
    }
}
