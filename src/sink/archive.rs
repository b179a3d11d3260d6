//! Archive outputs: `oci-archive:` (a tar of an OCI layout, as skopeo and podman read it) and
//! `docker-archive:` (`docker save`'s format, which `docker load`, podman and skopeo read).
//! An archive is one file: it is written whole under a temp name beside the destination,
//! flushed, and renamed over it, so the previous archive stays until the new one is complete.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tempfile::NamedTempFile;

use crate::fsutil;
use crate::oci::{ANNOTATION_REF_NAME, BlobStore, Digest, StoreError};
use crate::registry::Reference;

use super::layout::{OCI_LAYOUT_FILE, index_of, named_descriptor};
use super::naming::{
    DockerName, check_layout_tags, docker_names, docker_references, familiar_name, layout_names,
};
use super::{ImageSet, ImageSink, Published, SinkError, check_creatable, write_err};

/// The annotation containerd (and `docker save` since Docker 25) puts on `index.json` entries
/// with the image's full reference; podman names a loaded image after it.
const ANNOTATION_CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Writes an `oci-archive:FILE[:TAG]`, replacing FILE whole.
#[derive(Clone, Debug)]
pub struct OciArchiveSink {
    file: PathBuf,
    tags: Vec<String>,
}

impl OciArchiveSink {
    /// A sink naming the images with `tags` as a layout does; refuses invalid ref names.
    pub fn new(file: PathBuf, tags: Vec<String>) -> Result<OciArchiveSink, SinkError> {
        check_layout_tags(&tags)?;
        Ok(OciArchiveSink { file, tags })
    }
}

impl ImageSink for OciArchiveSink {
    fn destination(&self) -> String {
        format!("oci-archive:{}", self.file.display())
    }

    fn check(&self, _platforms: usize) -> Result<(), SinkError> {
        check_archive_path(&self.file)
    }

    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        _status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        let names = layout_names(sets, &self.tags);
        let entries: Vec<_> = sets
            .iter()
            .zip(&names)
            .flat_map(|(set, names)| names.iter().map(|n| named_descriptor(set, n)))
            .collect();
        let mut tar = AtomicTar::create(&self.file)?;
        tar.stream.blobs(store, &all_blobs(sets))?;
        tar.stream.bytes("index.json", &index_of(&entries))?;
        tar.stream.bytes("oci-layout", OCI_LAYOUT_FILE)?;
        tar.finish()?;
        Ok(published(sets, names, |n| {
            format!("oci-archive:{}:{n}", self.file.display())
        }))
    }
}

/// Writes a `docker-archive:FILE[:REF]`, replacing FILE whole: `manifest.json` with every
/// name in `RepoTags`, beside an OCI layout of the same blobs whose `index.json` names each
/// image as `docker save` does (`io.containerd.image.name` = full reference,
/// `org.opencontainers.image.ref.name` = tag).
#[derive(Clone, Debug)]
pub struct DockerArchiveSink {
    file: PathBuf,
    names: Vec<DockerName>,
}

impl DockerArchiveSink {
    /// A sink naming the images `reference` and `tags` (bare tags name `reference`'s
    /// repository, or the binary's; full references are used as they are).
    pub fn new(
        file: PathBuf,
        reference: Option<Reference>,
        tags: Vec<String>,
    ) -> Result<DockerArchiveSink, SinkError> {
        let names = docker_names(reference.as_ref(), &tags)?;
        Ok(DockerArchiveSink { file, names })
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

impl ImageSink for DockerArchiveSink {
    fn destination(&self) -> String {
        format!("docker-archive:{}", self.file.display())
    }

    fn check(&self, platforms: usize) -> Result<(), SinkError> {
        if platforms > 1 {
            return Err(SinkError::DockerArchiveMultiPlatform { platforms });
        }
        check_archive_path(&self.file)
    }

    fn write(
        &self,
        store: &BlobStore,
        sets: &[ImageSet],
        _status: &dyn Fn(&str),
    ) -> Result<Vec<Published>, SinkError> {
        if let Some(set) = sets.iter().find(|s| s.images.len() > 1) {
            return Err(SinkError::DockerArchiveMultiPlatform {
                platforms: set.images.len(),
            });
        }
        let references = docker_references(sets, &self.names)?;
        let mut tar = AtomicTar::create(&self.file)?;
        write_docker_archive_to(&mut tar.stream, store, sets, &references)?;
        tar.finish()?;
        let names = references
            .iter()
            .map(|refs| refs.iter().map(familiar_name).collect())
            .collect();
        Ok(published(sets, names, |n| {
            format!("docker-archive:{}:{n}", self.file.display())
        }))
    }
}

/// Writes a `docker save` archive of `sets` (one platform each) to `tar`: the blobs,
/// `index.json` naming each image as `docker save` does, `manifest.json` with every name of
/// `references` (per set) in `RepoTags`, and `oci-layout`.
pub(super) fn write_docker_archive_to<W: Write>(
    tar: &mut TarStream<W>,
    store: &BlobStore,
    sets: &[ImageSet],
    references: &[Vec<Reference>],
) -> Result<(), SinkError> {
    let blob_path = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let mut manifest = Vec::new();
    let mut entries = Vec::new();
    for (set, refs) in sets.iter().zip(references) {
        let image = &set.images[0];
        manifest.push(DockerManifestEntry {
            config: blob_path(&image.config_descriptor.digest),
            repo_tags: refs.iter().map(familiar_name).collect(),
            layers: image
                .manifest
                .layers
                .iter()
                .map(|l| blob_path(&l.digest))
                .collect(),
        });
        for r in refs {
            let mut d = named_descriptor(set, r.tag.as_deref().unwrap_or("latest"));
            let annotations = d.annotations.get_or_insert_default();
            annotations.insert(ANNOTATION_CONTAINERD_NAME.into(), r.to_string());
            annotations.insert(
                ANNOTATION_REF_NAME.into(),
                r.tag.clone().unwrap_or_else(|| "latest".into()),
            );
            entries.push(d);
        }
    }
    tar.blobs(store, &all_blobs(sets))?;
    tar.bytes("index.json", &index_of(&entries))?;
    let manifest = serde_json::to_vec(&manifest).expect("manifest.json serialises");
    tar.bytes("manifest.json", &manifest)?;
    tar.bytes("oci-layout", OCI_LAYOUT_FILE)
}

/// Writes image sets to an OCI archive at `file`, named `tag` as [`OciArchiveSink`] does.
pub fn write_oci_archive(
    store: &BlobStore,
    file: &Path,
    sets: &[ImageSet],
    tag: Option<&str>,
) -> Result<(), SinkError> {
    let sink = OciArchiveSink::new(
        file.to_path_buf(),
        tag.map(str::to_string).into_iter().collect(),
    )?;
    sink.write(store, sets, &|_| {}).map(drop)
}

/// Writes image sets to a docker archive at `file`, named `reference` as
/// [`DockerArchiveSink`] does.
pub fn write_docker_archive(
    store: &BlobStore,
    file: &Path,
    sets: &[ImageSet],
    reference: Option<Reference>,
) -> Result<(), SinkError> {
    let sink = DockerArchiveSink::new(file.to_path_buf(), reference, Vec::new())?;
    sink.write(store, sets, &|_| {}).map(drop)
}

fn published(
    sets: &[ImageSet],
    names: Vec<Vec<String>>,
    reference: impl Fn(&str) -> String,
) -> Vec<Published> {
    sets.iter()
        .zip(names)
        .map(|(set, names)| {
            let references: Vec<String> = names.iter().map(|n| reference(n)).collect();
            Published {
                name: set.name.clone(),
                digest: set.top_descriptor().digest,
                pinned: references[0].clone(),
                references,
                push: None,
            }
        })
        .collect()
}

fn all_blobs(sets: &[ImageSet]) -> BTreeSet<Digest> {
    sets.iter().flat_map(ImageSet::blobs).collect()
}

/// An archive path must be a file path whose directory can be written.
fn check_archive_path(file: &Path) -> Result<(), SinkError> {
    if file.is_dir() {
        return Err(SinkError::IsADirectory(file.to_path_buf()));
    }
    check_creatable(file)
}

/// A tar with deterministic headers (mtime 0, uid/gid 0) written to any byte stream: a file
/// ([`AtomicTar`]) or a Docker daemon's `POST /images/load` body.
pub(super) struct TarStream<W: Write> {
    builder: tar::Builder<W>,
    /// The first failed read of a blob, so that a failing read is not blamed on the output.
    read_error: Rc<RefCell<Option<(PathBuf, io::Error)>>>,
    /// What a failed write of the stream is reported as.
    write_failed: Box<dyn Fn(io::Error) -> SinkError>,
}

impl<W: Write> TarStream<W> {
    /// A tar written to `out`; a failed write becomes `write_failed(error)`.
    pub(super) fn new(out: W, write_failed: Box<dyn Fn(io::Error) -> SinkError>) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Deterministic);
        TarStream {
            builder,
            read_error: Rc::default(),
            write_failed,
        }
    }

    fn header(size: u64, kind: tar::EntryType, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn failed(&self, error: io::Error) -> SinkError {
        match self.read_error.borrow_mut().take() {
            Some((path, source)) => SinkError::Store(StoreError::Io { path, source }),
            None => (self.write_failed)(error),
        }
    }

    fn dir(&mut self, path: &str) -> Result<(), SinkError> {
        let mut h = Self::header(0, tar::EntryType::Directory, 0o755);
        self.builder
            .append_data(&mut h, path, io::empty())
            .map_err(|e| self.failed(e))
    }

    /// Adds a regular file `path` holding `data`.
    pub(super) fn bytes(&mut self, path: &str, data: &[u8]) -> Result<(), SinkError> {
        let mut h = Self::header(data.len() as u64, tar::EntryType::Regular, 0o644);
        self.builder
            .append_data(&mut h, path, data)
            .map_err(|e| self.failed(e))
    }

    /// Adds `blobs/sha256/<hex>` for each digest, streamed from the store.
    pub(super) fn blobs(
        &mut self,
        store: &BlobStore,
        digests: &BTreeSet<Digest>,
    ) -> Result<(), SinkError> {
        self.dir("blobs/")?;
        self.dir("blobs/sha256/")?;
        for digest in digests {
            let file = store.open_blob(digest)?;
            let path = store.path(digest);
            let len = file
                .metadata()
                .map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })?
                .len();
            let reader = NamedReader {
                inner: file,
                path,
                error: self.read_error.clone(),
            };
            let mut h = Self::header(len, tar::EntryType::Regular, 0o644);
            self.builder
                .append_data(&mut h, format!("blobs/sha256/{}", digest.hex()), reader)
                .map_err(|e| self.failed(e))?;
        }
        Ok(())
    }

    /// Writes the end-of-archive blocks and gives the stream back.
    pub(super) fn finish(self) -> Result<W, SinkError> {
        let TarStream {
            builder,
            write_failed,
            ..
        } = self;
        builder.into_inner().map_err(write_failed)
    }
}

/// A tar written to a locked temp file beside the destination and renamed into place when
/// complete.
struct AtomicTar {
    dest: PathBuf,
    temp: NamedTempFile,
    /// Writes through a duplicate of the temp file's descriptor, so errors are the system's
    /// own (not wrapped with the temp file's name).
    stream: TarStream<BufWriter<fs::File>>,
}

impl AtomicTar {
    fn create(dest: &Path) -> Result<AtomicTar, SinkError> {
        if dest.is_dir() {
            return Err(SinkError::IsADirectory(dest.to_path_buf()));
        }
        let parent = fsutil::parent_of(dest);
        fsutil::create_dirs(&parent).map_err(write_err(&parent))?;
        fsutil::remove_stale_temps(&parent).map_err(write_err(&parent))?;
        let temp = fsutil::temp_file_in(&parent).map_err(write_err(dest))?;
        let file = temp.as_file().try_clone().map_err(write_err(dest))?;
        let owned = dest.to_path_buf();
        let stream = TarStream::new(
            BufWriter::with_capacity(1 << 20, file),
            Box::new(move |error| write_err(&owned)(error)),
        );
        Ok(AtomicTar {
            dest: dest.to_path_buf(),
            temp,
            stream,
        })
    }

    fn finish(self) -> Result<(), SinkError> {
        let dest = self.dest.clone();
        let buffered = self.stream.finish()?;
        buffered
            .into_inner()
            .map_err(|e| write_err(&dest)(e.into_error()))?;
        fsutil::commit(self.temp, &dest).map_err(write_err(&dest))?;
        Ok(())
    }
}

/// A blob reader that records its own failures, so the writer can tell them apart.
struct NamedReader {
    inner: fs::File,
    path: PathBuf,
    error: Rc<RefCell<Option<(PathBuf, io::Error)>>>,
}

impl Read for NamedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            let copy = io::Error::new(e.kind(), e.to_string());
            self.error
                .borrow_mut()
                .get_or_insert((self.path.clone(), copy));
        })
    }
}
