//! Where images go: the one place gopack writes outputs.
//!
//! An [`ImageSink`] takes the built [`ImageSet`]s (one per binary: a manifest per platform and,
//! with several platforms, an index) whose blobs are in the [`BlobStore`], and writes them to
//! one destination named in skopeo's transport syntax (parsed once, by
//! [`crate::oci::ImageRef`]):
//!
//! | transport | sink | what a write does |
//! |---|---|---|
//! | `oci:DIR[:TAG]` | [`LayoutSink`] | adds blobs to the layout and moves only its own names in `index.json`; other images stay |
//! | `oci-archive:FILE[:TAG]` | [`OciArchiveSink`] | replaces FILE with a tar of a layout holding these images |
//! | `docker-archive:FILE[:REF]` | [`DockerArchiveSink`] | replaces FILE with a `docker save` archive |
//! | `docker://REF` | [`RegistrySink`] | pushes blobs, manifests, index, then tags |
//! | `docker-daemon:REF` | [`DockerDaemonSink`] | streams a docker-archive to the daemon's `POST /images/load` (`DOCKER_HOST`), then checks each name |
//!
//! [`publish`] is the only entry point the build uses. Every file output is crash-safe: files
//! are written under a temp name, flushed (fsync) and renamed into place, then their directory is
//! flushed; an OCI layout gets its blobs first and its `index.json` last, so there is no moment
//! when a previous good output is missing or points at missing blobs. Concurrent writers of one
//! layout take turns on a lock file; temp files of killed runs are removed by the next write.
//! New files follow the umask (0666 minus it), like `cp`.

#![warn(missing_docs)]

mod archive;
pub mod daemon;
mod layout;
mod naming;
mod registry;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::oci::{BlobStore, Descriptor, Digest, Image, ImageRef, MEDIA_TYPE_INDEX};
use crate::registry::{Reference, RegistryOptions};

pub use archive::{DockerArchiveSink, OciArchiveSink, write_docker_archive, write_oci_archive};
pub use daemon::DockerDaemonSink;
pub use layout::{
    GcReport, LOCK_TIMEOUT, LayoutSink, add_layout_referrers, gc_layout, write_oci_layout,
};
pub use naming::familiar_name;
pub use registry::RegistrySink;

/// `--output` when none is given: an OCI layout in `./gopack-out`.
pub const DEFAULT_OUTPUT: &str = "oci:gopack-out";

/// The images built for one binary: one per platform, and the index over them when there are
/// several platforms (or when a source had one, as `pull` keeps it).
#[derive(Clone, Debug)]
pub struct ImageSet {
    /// The binary name; names the image in outputs holding several.
    pub name: String,
    /// One single-platform image per platform, blobs in the store.
    pub images: Vec<Image>,
    /// The index over `images`, when there is one.
    pub index: Option<IndexBlob>,
}

/// An image index (or Docker manifest list) as exact bytes, with their digest.
#[derive(Clone, Debug)]
pub struct IndexBlob {
    /// The bytes the digest was computed over; written and pushed as they are.
    pub bytes: Vec<u8>,
    /// `sha256:` of `bytes`.
    pub digest: Digest,
    /// OCI index, or a Docker manifest list kept as a registry sent it.
    pub media_type: String,
}

impl IndexBlob {
    /// An OCI image index (`application/vnd.oci.image.index.v1+json`).
    pub fn oci(bytes: Vec<u8>, digest: Digest) -> IndexBlob {
        IndexBlob {
            bytes,
            digest,
            media_type: MEDIA_TYPE_INDEX.into(),
        }
    }
}

impl ImageSet {
    /// The top-level descriptor: the index when there is one, else the single manifest.
    pub fn top_descriptor(&self) -> Descriptor {
        match &self.index {
            Some(index) => Descriptor::new(
                &index.media_type,
                index.digest.clone(),
                index.bytes.len() as u64,
            ),
            None => {
                let mut d = self.images[0].descriptor();
                d.platform = None;
                d
            }
        }
    }

    /// Every blob an output of this set must contain (index, manifests, configs, layers —
    /// the base's layers included), each once, in that order.
    pub fn blobs(&self) -> Vec<Digest> {
        let mut out: Vec<Digest> = Vec::new();
        let mut push = |d: &Digest| {
            if !out.contains(d) {
                out.push(d.clone());
            }
        };
        if let Some(index) = &self.index {
            push(&index.digest);
        }
        for image in &self.images {
            push(&image.manifest_digest);
            push(&image.config_descriptor.digest);
            image.manifest.layers.iter().for_each(|l| push(&l.digest));
        }
        out
    }
}

/// Annotations for the index over several platform images: those every platform manifest
/// carries with the same value (user `--annotation`s, created, title, source, revision,
/// version), without `org.opencontainers.image.base.*`, which describe each platform's own
/// base manifest (image-spec annotations.md).
pub fn index_annotations(images: &[Image]) -> BTreeMap<String, String> {
    let Some((first, rest)) = images.split_first() else {
        return BTreeMap::new();
    };
    let of = |i: &Image| i.manifest.annotations.clone().unwrap_or_default();
    let mut common = of(first);
    common.retain(|k, v| {
        !k.starts_with("org.opencontainers.image.base.")
            && rest.iter().all(|i| of(i).get(k) == Some(v))
    });
    common
}

/// Where images go and under which names: a parsed `--output` with the `--tag`s that apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The destination, parsed by the one transport parser.
    pub target: ImageRef,
    /// Extra names, in order: layout/oci-archive ref names, docker-archive tags (a bare tag or
    /// a full reference), registry tags. The target's own tag comes first and is not repeated.
    pub tags: Vec<String>,
    /// For registries: push each binary to `<repository>/<binary>` even when there is one
    /// (GOPACK_REPO, as ko does). With several binaries this is always so.
    pub repository_per_binary: bool,
}

impl Output {
    /// When this output is written among several: local files first (0: layouts and
    /// archives), then a daemon (1), then registries (2), so a failed push keeps the rest.
    pub fn write_order(&self) -> u8 {
        match self.target {
            ImageRef::Layout { .. }
            | ImageRef::OciArchive { .. }
            | ImageRef::DockerArchive { .. } => 0,
            ImageRef::DockerDaemon(_) => 1,
            ImageRef::Registry(_) => 2,
        }
    }

    /// An output with no extra tags.
    pub fn new(target: ImageRef) -> Output {
        Output {
            target,
            tags: Vec::new(),
            repository_per_binary: false,
        }
    }

    /// The sink that writes this output. Fails on names the format cannot hold (and, for
    /// `docker-daemon:`, on a `DOCKER_HOST` gopack cannot speak to).
    pub fn sink(&self, registry: &RegistryOptions) -> Result<Box<dyn ImageSink>, SinkError> {
        let tags = self.tags.clone();
        Ok(match &self.target {
            ImageRef::Layout { dir, tag } => Box::new(LayoutSink::new(
                dir.clone(),
                with_first(tag.as_deref(), tags),
            )?),
            ImageRef::OciArchive { file, tag } => Box::new(OciArchiveSink::new(
                file.clone(),
                with_first(tag.as_deref(), tags),
            )?),
            ImageRef::DockerArchive { file, reference } => Box::new(DockerArchiveSink::new(
                file.clone(),
                reference.clone(),
                tags,
            )?),
            ImageRef::Registry(reference) => Box::new(RegistrySink::new(
                registry.clone(),
                reference.clone(),
                tags,
                self.repository_per_binary,
            )?),
            ImageRef::DockerDaemon(reference) => {
                Box::new(DockerDaemonSink::from_env(reference.clone(), tags)?)
            }
        })
    }
}

fn with_first(first: Option<&str>, rest: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = first.map(str::to_string).into_iter().collect();
    for t in rest {
        if !all.contains(&t) {
            all.push(t);
        }
    }
    all
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.target)
    }
}

/// A destination for built images. Implementations write every image set or fail without
/// disturbing what was there before (see the module docs for what each guarantees). Sinks are
/// shared by threads: a build writes several outputs side by side.
pub trait ImageSink: Send + Sync {
    /// The destination as the user would write it (`oci:out`, `docker://host/repo:tag`).
    fn destination(&self) -> String;

    /// What can be checked before anything is built, so a bad output fails in a second
    /// instead of after a long build: a writable place, a format that can hold `platforms`
    /// platforms per image.
    fn check(&self, platforms: usize) -> Result<(), SinkError>;

    /// Writes `sets` (blobs in `store`); returns, per set in order, where it went.
    /// `status` receives a line when the write must wait (another writer holds the lock).
    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError>;
}

/// Where one image set went.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// The image set's (binary's) name.
    pub name: String,
    /// The digest every name points at: the index, or the single manifest.
    pub digest: Digest,
    /// Every name it was written under: `oci:DIR:NAME`, `oci-archive:FILE:NAME`,
    /// `docker-archive:FILE:REPO:TAG` (as skopeo reads them), or `REGISTRY/REPO:TAG`.
    pub references: Vec<String>,
    /// The one reference that pins this image, in a form skopeo, docker and kubectl accept:
    /// `REGISTRY/REPO@sha256:…` for a registry (skopeo wants `docker://` in front), else the
    /// first of `references` (skopeo's `oci:DIR:NAME` cannot also carry a digest).
    pub pinned: String,
    /// For registry outputs: what the push sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushStats>,
}

/// What a registry push sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PushStats {
    /// Every tag pointing at the pushed digest, the first one first.
    pub tags: Vec<String>,
    /// Blobs sent.
    pub blobs_uploaded: usize,
    /// Blobs mounted from another repository of the same registry.
    pub blobs_mounted: usize,
    /// Blobs the registry already had.
    pub blobs_present: usize,
    /// Blob bytes sent (compressed, as stored), retries included.
    pub blob_bytes_uploaded: u64,
}

/// Writes `sets` to `sink`: the only way gopack writes an output.
pub fn publish(
    store: &BlobStore,
    sets: &[ImageSet],
    sink: &dyn ImageSink,
    status: &dyn Fn(&str),
) -> Result<Vec<Published>, SinkError> {
    if sets.is_empty() || sets.iter().any(|s| s.images.is_empty()) {
        return Err(SinkError::Unsupported("there is no image to write".into()));
    }
    let published = sink.write(store, sets, status)?;
    debug_assert_eq!(published.len(), sets.len());
    Ok(published)
}

/// Several outputs of one build (`--output` repeated: push *and* keep a local layout), each
/// with its sink, kept in the order they are written: local files first (layouts, archives),
/// then a Docker daemon, then registries, so a push that fails still leaves the local copy.
/// Every sink is checked before anything is built ([`OutputSet::check`]).
pub struct OutputSet {
    sinks: Vec<Box<dyn ImageSink>>,
}

impl OutputSet {
    /// The sinks for `outputs`; refuses none at all and the same destination twice.
    pub fn new(outputs: &[Output], registry: &RegistryOptions) -> Result<OutputSet, SinkError> {
        if outputs.is_empty() {
            return Err(SinkError::Unsupported("no output was given".into()));
        }
        for (i, a) in outputs.iter().enumerate() {
            if outputs[..i].iter().any(|b| b.target == a.target) {
                return Err(SinkError::Name(format!(
                    "{a} is named twice as an output; name each destination once (use --tag \
                     for more names in one place)"
                )));
            }
        }
        let mut ordered: Vec<&Output> = outputs.iter().collect();
        ordered.sort_by_key(|o| o.write_order());
        let sinks = ordered
            .into_iter()
            .map(|o| o.sink(registry))
            .collect::<Result<_, _>>()?;
        Ok(OutputSet { sinks })
    }

    /// One sink's set (for tests and callers that already hold a sink).
    pub fn from_sinks(sinks: Vec<Box<dyn ImageSink>>) -> OutputSet {
        OutputSet { sinks }
    }

    /// Every destination, in write order.
    pub fn destinations(&self) -> Vec<String> {
        self.sinks.iter().map(|s| s.destination()).collect()
    }

    /// [`ImageSink::check`] of every sink, before anything is built; the first failure.
    pub fn check(&self, platforms: usize) -> Result<(), SinkError> {
        self.sinks.iter().try_for_each(|s| s.check(platforms))
    }

    /// Writes `sets` to every sink in order ([`publish`] each); returns, per sink in order,
    /// where each set went. When one fails, the ones before it stay written and the error
    /// names them.
    pub fn publish(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        status: &dyn Fn(&str),
    ) -> Result<Vec<Vec<Published>>, SinkError> {
        let mut done: Vec<Vec<Published>> = Vec::new();
        for sink in &self.sinks {
            status(&format!("writing {}", sink.destination()));
            match publish(store, sets, sink.as_ref(), status) {
                Ok(p) => done.push(p),
                Err(e) if done.is_empty() => return Err(e),
                Err(e) => {
                    return Err(SinkError::Partial {
                        destination: sink.destination(),
                        written: self.sinks[..done.len()]
                            .iter()
                            .map(|s| s.destination())
                            .collect(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(done)
    }
}

/// Where each set went across several outputs, one [`Published`] per set: every reference in
/// write order; the pin and push statistics of the registry output when there is one, else
/// the first output's pin.
pub fn merge_published(per_output: Vec<Vec<Published>>) -> Vec<Published> {
    let mut outputs = per_output.into_iter();
    let Some(mut merged) = outputs.next() else {
        return Vec::new();
    };
    for output in outputs {
        for (m, p) in merged.iter_mut().zip(output) {
            m.references.extend(p.references);
            if p.push.is_some() && m.push.is_none() {
                m.pinned = p.pinned;
                m.push = p.push;
            }
        }
    }
    merged
}

/// Why an output was not written. Each message names the path or reference, says why and
/// what to do; a previous output is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing a file or directory of the output failed.
    #[error("cannot write {}: {}", .path.display(), describe_io(.error))]
    Write {
        /// The file or directory of the output.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// Reading a blob from gopack's cache failed (the output is not to blame).
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
    /// The directory holds files that are not part of an OCI layout.
    #[error(
        "{} is not an OCI image layout: it holds {}, which gopack will not mix images into. \
         Write to another place (a new or empty directory, or an existing layout)",
        .dir.display(), .foreign.join(", ")
    )]
    NotALayout {
        /// The directory.
        dir: PathBuf,
        /// The names in it that are not layout parts (at most 5, then `…`).
        foreign: Vec<String>,
    },
    /// A part of a layout that must be a directory is a symbolic link (or not a directory):
    /// following it could remove or overwrite files outside the layout.
    #[error(
        "{} is {what}, not a directory of the layout; gopack does not follow it and changed \
         nothing (replace it with a real directory, or point gopack at the directory it names)",
        .path.display()
    )]
    UnsafePart {
        /// The path inside the layout.
        path: PathBuf,
        /// What it is instead: `a symbolic link`, `a file`.
        what: &'static str,
    },
    /// The layout path names a file.
    #[error(
        "{} is a file, not a directory; an oci: destination is a directory (for one file, \
         write to oci-archive:FILE)",
        .0.display()
    )]
    NotADirectory(PathBuf),
    /// The archive path names a directory.
    #[error(
        "{} is a directory; an archive destination is a file path (for a directory, write to \
         oci:DIR)",
        .0.display()
    )]
    IsADirectory(PathBuf),
    /// The layout's `index.json` cannot be read, so merging into it could lose images.
    #[error(
        "{}/index.json cannot be read ({reason}); gopack will not overwrite it, as it may list \
         other images. Repair it, or write to another place",
        .dir.display()
    )]
    BadIndex {
        /// The layout directory.
        dir: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// The layout's lock could not be taken.
    #[error(transparent)]
    Lock(#[from] fsutil::LockError),
    /// docker-archive holds one platform per image.
    #[error(
        "docker-archive holds one platform per image, and {platforms} platforms were asked for. \
         Build one platform (--platform linux/amd64) for `docker load`, or write to \
         oci-archive:FILE for a multi-platform archive"
    )]
    DockerArchiveMultiPlatform {
        /// Platforms asked for.
        platforms: usize,
    },
    /// `docker load` takes one platform per image.
    #[error(
        "a Docker daemon holds one platform per image name, and {platforms} platforms were \
         asked for. Build one platform (--platform linux/amd64), or write to oci-archive:FILE \
         for a multi-platform archive"
    )]
    DaemonMultiPlatform {
        /// Platforms asked for.
        platforms: usize,
    },
    /// Talking to the Docker daemon failed.
    #[error(transparent)]
    Daemon(#[from] daemon::engine::EngineError),
    /// A name (tag, reference) the output cannot hold.
    #[error("{0}")]
    Name(String),
    /// The push failed.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// One of several outputs failed after others were written (those stay as written).
    #[error(
        "cannot write {destination} ({} already written and kept): {source}",
        .written.join(", ")
    )]
    Partial {
        /// The output that failed.
        destination: String,
        /// The outputs written before it.
        written: Vec<String>,
        /// Why it failed.
        source: Box<SinkError>,
    },
    /// Something this output cannot do.
    #[error("{0}")]
    Unsupported(String),
}

/// An I/O error with the reason in words people act on.
fn describe_io(e: &io::Error) -> String {
    use io::ErrorKind as K;
    let hint = match e.kind() {
        K::StorageFull => {
            "; the file system holding it is full: free space there or write to another place"
        }
        K::QuotaExceeded => {
            "; your disk quota there is used up: free space or write to another place"
        }
        K::ReadOnlyFilesystem => "; it is on a read-only file system: write to another place",
        K::PermissionDenied => {
            "; you may not write there: write to another place or fix the permissions"
        }
        K::NotADirectory => "; a part of the path is a file, not a directory",
        _ if e.raw_os_error() == Some(libc::EIO) => "; the device reported an I/O error",
        _ => "",
    };
    format!("{e}{hint}")
}

impl SinkError {
    /// The same error, a failed write reported against `path` (the output the user named
    /// rather than a staging name inside it).
    fn at(self, path: &Path) -> SinkError {
        match self {
            SinkError::Write { error, .. } => SinkError::Write {
                path: path.to_path_buf(),
                error,
            },
            other => other,
        }
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> SinkError + '_ {
    move |error| SinkError::Write {
        path: path.to_path_buf(),
        error,
    }
}

fn export_err(e: crate::oci::ExportError) -> SinkError {
    match e {
        crate::oci::ExportError::Store(e) => SinkError::Store(e),
        crate::oci::ExportError::Write { path, source } => SinkError::Write {
            path,
            error: source,
        },
    }
}

/// Checks that files can be created at `path`: its nearest existing ancestor directory must be
/// writable (missing directories are created at write time).
fn check_creatable(path: &Path) -> Result<(), SinkError> {
    let mut dir = fsutil::parent_of(path);
    while !dir.exists() {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
            _ => {
                dir = PathBuf::from(".");
                break;
            }
        }
    }
    if !dir.is_dir() {
        return Err(SinkError::Write {
            path: path.to_path_buf(),
            error: io::Error::from_raw_os_error(libc::ENOTDIR),
        });
    }
    fsutil::dir_is_writable(&dir).map_err(write_err(&dir))
}

/// A reference parsed for a docker-archive or registry name, with the reason when it is not
/// one.
fn parse_reference(text: &str, what: &str) -> Result<Reference, SinkError> {
    text.parse::<Reference>()
        .map_err(|e| SinkError::Name(format!("{what} `{text}`: {}", e.reason)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Bare;

    fn output(s: &str) -> Output {
        Output::new(ImageRef::parse(s, Bare::Refuse).unwrap())
    }

    #[test]
    fn an_empty_directory_may_become_a_layout_but_a_full_one_may_not() {
        let dir = tempfile::tempdir().unwrap();
        let sink = output(&format!("oci:{}", dir.path().display()))
            .sink(&RegistryOptions::default())
            .unwrap();
        assert!(sink.check(1).is_ok());
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = sink.check(1).unwrap_err();
        assert!(
            matches!(&err, SinkError::NotALayout { foreign, .. } if foreign == &["notes.txt"]),
            "{err}"
        );
    }

    #[test]
    fn docker_archive_refuses_several_platforms_up_front() {
        let sink = output("docker-archive:x.tar")
            .sink(&RegistryOptions::default())
            .unwrap();
        let err = sink.check(2).unwrap_err();
        assert!(
            err.to_string().contains("2 platforms were asked for"),
            "{err}"
        );
    }

    #[test]
    fn a_full_disk_says_so_and_names_the_output() {
        let e = SinkError::Write {
            path: "out/index.json".into(),
            error: io::Error::from_raw_os_error(libc::ENOSPC),
        };
        let text = e.to_string();
        assert!(
            text.contains("out/index.json") && text.contains("is full"),
            "{text}"
        );
    }

    #[test]
    fn docker_daemon_outputs_refuse_several_platforms_before_connecting() {
        let sink = DockerDaemonSink::new(
            daemon::engine::DockerHost::Unix("/nonexistent/docker.sock".into()),
            "app:dev".parse().unwrap(),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(sink.destination(), "docker-daemon:app:dev");
        let err = sink.check(2).unwrap_err().to_string();
        assert!(err.contains("2 platforms"), "{err}");
        let err = sink.check(1).unwrap_err().to_string();
        assert!(
            err.contains("unix:///nonexistent/docker.sock") && err.contains("DOCKER_HOST"),
            "{err}"
        );
    }
}
