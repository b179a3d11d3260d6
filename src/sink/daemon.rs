//! `docker-daemon:NAME[:TAG]` (ko's `ko.local`): the image streamed to a Docker daemon's
//! `POST /images/load` as the same docker-archive the `docker-archive:` output writes (nothing
//! is written to disk on the way), then looked up by each name to confirm the daemon holds it
//! under the config digest gopack built. The daemon is found through `DOCKER_HOST` (see
//! [`engine`]); its API version is checked before anything is built.

pub mod engine;

use std::io::{self, Write};
use std::sync::OnceLock;

use crate::oci::BlobStore;
use crate::registry::Reference;

use super::archive::{TarStream, write_docker_archive_to};
use super::naming::{DockerName, docker_names, docker_references, familiar_name};
use super::{ImageSet, ImageSink, Published, SinkError};
use engine::{DockerEngine, DockerHost, EngineError};

/// Loads images into the Docker daemon `DOCKER_HOST` names.
#[derive(Debug)]
pub struct DockerDaemonSink {
    host: DockerHost,
    names: Vec<DockerName>,
    /// The first name, as the user wrote it, for messages.
    shown: String,
    engine: OnceLock<DockerEngine>,
}

impl DockerDaemonSink {
    /// A sink naming the images `reference` and `tags` (bare tags name `reference`'s
    /// repository; full references are used as they are), talking to `host`.
    pub fn new(
        host: DockerHost,
        reference: Reference,
        tags: Vec<String>,
    ) -> Result<DockerDaemonSink, SinkError> {
        let names = docker_names(Some(&reference), &tags)?;
        Ok(DockerDaemonSink {
            host,
            names,
            shown: familiar_name(&reference),
            engine: OnceLock::new(),
        })
    }

    /// A sink for the daemon `DOCKER_HOST` names (default `unix:///var/run/docker.sock`).
    pub fn from_env(reference: Reference, tags: Vec<String>) -> Result<Self, SinkError> {
        DockerDaemonSink::new(DockerHost::from_env()?, reference, tags)
    }

    fn engine(&self) -> Result<&DockerEngine, SinkError> {
        if let Some(engine) = self.engine.get() {
            return Ok(engine);
        }
        let engine = DockerEngine::connect(self.host.clone())?;
        Ok(self.engine.get_or_init(|| engine))
    }
}

impl ImageSink for DockerDaemonSink {
    fn destination(&self) -> String {
        format!("docker-daemon:{}", self.shown)
    }

    fn check(&self, platforms: usize) -> Result<(), SinkError> {
        if platforms > 1 {
            return Err(SinkError::DaemonMultiPlatform { platforms });
        }
        self.engine().map(drop)
    }

    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        if let Some(set) = sets.iter().find(|s| s.images.len() > 1) {
            return Err(SinkError::DaemonMultiPlatform {
                platforms: set.images.len(),
            });
        }
        let engine = self.engine()?;
        let references = docker_references(sets, &self.names)?;
        status(&format!(
            "loading into the Docker daemon at {}",
            engine.host()
        ));
        let host = engine.host().clone();
        engine.load(&mut |body: &mut dyn Write| {
            let host = host.clone();
            let mut tar = TarStream::new(
                body,
                Box::new(move |error: io::Error| {
                    SinkError::Daemon(EngineError::Io {
                        what: "sending the image to the Docker daemon".into(),
                        host: host.clone(),
                        error,
                    })
                }),
            );
            write_docker_archive_to(&mut tar, store, sets, &references)?;
            tar.finish().map(drop)
        })?;
        for (set, refs) in sets.iter().zip(&references) {
            let config = &set.images[0].config_descriptor.digest;
            for r in refs {
                let id = engine.image_id(&familiar_name(r))?;
                if id.as_deref() != Some(config.to_string().as_str()) {
                    return Err(SinkError::Daemon(EngineError::Reported {
                        what: format!("checking {} after loading it", familiar_name(r)),
                        host: engine.host().clone(),
                        message: match id {
                            Some(id) => format!("it names image {id}, not {config}"),
                            None => "it does not know that name".into(),
                        },
                    }));
                }
            }
        }
        Ok(sets
            .iter()
            .zip(&references)
            .map(|(set, refs)| {
                let names: Vec<String> = refs.iter().map(familiar_name).collect();
                Published {
                    name: set.name.clone(),
                    digest: set.top_descriptor().digest,
                    references: names.iter().map(|n| format!("docker-daemon:{n}")).collect(),
                    pinned: names[0].clone(),
                    push: None,
                }
            })
            .collect())
    }
}
