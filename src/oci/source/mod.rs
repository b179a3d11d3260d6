//! Where images are read from: one [`ImageSource`] trait with four adapters — a registry
//! ([`RegistrySource`]), an OCI image layout directory ([`LayoutSource`], image-spec
//! `image-layout.md`), an oci-archive (a tar of a layout, [`OciArchiveSource`]) and a
//! docker-archive (`docker save`'s `manifest.json` form, [`DockerArchiveSource`]).
//!
//! Adapters only find bytes. Everything a reader must be able to trust is done once, here and in
//! [`super::resolve`], for every adapter alike:
//! - a blob is read through a [`VerifiedReader`]: its descriptor's size is a hard limit (a
//!   longer body is cut and refused, a shorter one is refused) and its sha256 must match;
//! - documents (index, manifest, config) are refused *before* reading when their descriptor
//!   declares more than the [`Limits`] allow;
//! - files in layouts and archives are opened only if they are regular files (never a FIFO, a
//!   device such as `/dev/zero`, or a directory), without blocking on open.
#![warn(missing_docs)]

mod archive;
mod daemon;
mod docker_archive;
mod layout;
mod registry;
mod verify;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::image::{Descriptor, ImageIndex};
use super::store::{BlobStore, StoreError};
use super::tar_reader::TarLimits;
use super::transport::ImageRef;
use super::{ANNOTATION_REF_NAME, Digest};
use crate::registry::{RegistryClient, RegistryError, RegistryOptions};
use crate::text::printable;

pub use archive::OciArchiveSource;
pub use daemon::DaemonSource;
pub use docker_archive::DockerArchiveSource;
pub use layout::LayoutSource;
pub use registry::RegistrySource;
pub use verify::VerifiedReader;

/// One place images can be read from. Implementations find bytes; callers never use
/// [`ImageSource::open_raw`] directly but go through [`open_blob`], [`read_blob`] and
/// [`fetch_blob`], which verify size and digest.
pub trait ImageSource: Send + Sync {
    /// How the user named this source (`oci:./base:v1`, `docker://…`), for messages and for
    /// `org.opencontainers.image.base.name`.
    fn name(&self) -> String;

    /// The descriptor the reference names: an index or a manifest (for a docker-archive, the
    /// manifest gopack derives from its `manifest.json`). Errors list what the source does hold
    /// when the reference names nothing in it.
    fn top(&self) -> Result<Descriptor, SourceError>;

    /// The raw bytes of the blob or document `descriptor` names, unverified. Must not block
    /// forever and must not read anything but a regular file or the registry's answer.
    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError>;

    /// Brings the blob into `store` (nothing to do when it is there), verified. The default
    /// streams [`ImageSource::open_raw`] through a [`VerifiedReader`]; the registry adapter uses
    /// its retrying download instead.
    fn fetch_raw_into(
        &self,
        descriptor: &Descriptor,
        store: &BlobStore,
    ) -> Result<(), SourceError> {
        copy_verified(self, descriptor, store)
    }
}

/// Upper bounds on everything an image can make gopack read into memory or walk.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest image index (and layout `index.json`, docker `manifest.json`), bytes.
    pub max_index: u64,
    /// Largest image manifest, bytes (registries cap both at 4 MiB).
    pub max_manifest: u64,
    /// Largest image config, bytes.
    pub max_config: u64,
    /// How deep indexes may nest inside indexes.
    pub max_depth: usize,
    /// Most manifests considered across an index and the indexes it nests.
    pub max_manifests: usize,
    /// Most layers in one manifest.
    pub max_layers: usize,
    /// Most members in an oci-archive or docker-archive.
    pub max_archive_members: usize,
    /// Bounds for every tar stream (archives and layers).
    pub tar: TarLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_index: 4 << 20,
            max_manifest: 4 << 20,
            max_config: 8 << 20,
            max_depth: 4,
            max_manifests: 4096,
            max_layers: 4096,
            max_archive_members: 1 << 20,
            tar: TarLimits::default(),
        }
    }
}

/// Why an image could not be read. Every message names the source and the blob, and no text
/// from the image reaches it without [`crate::text::printable`].
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source is not what its transport says (not a layout, not an archive) or names
    /// nothing in it.
    #[error("{origin}: {reason}")]
    Invalid {
        /// The source, as the user named it.
        origin: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {what}: {error}")]
    Io {
        /// The file or blob.
        what: String,
        /// The OS error.
        error: io::Error,
    },
    /// A blob the image needs is not in the source.
    #[error("{what} is missing from {origin}")]
    Missing {
        /// The blob.
        what: String,
        /// The source.
        origin: String,
    },
    /// A blob path exists but is not a regular file.
    #[error(
        "{what} is a {kind}, not a regular file; gopack reads only regular files from layouts \
         and archives"
    )]
    NotRegular {
        /// The file.
        what: String,
        /// What it is instead (fifo, character device, directory…).
        kind: &'static str,
    },
    /// A blob is shorter or longer than its descriptor says.
    #[error(
        "{what}: its descriptor says {expected} bytes but {found}; the image is inconsistent, or \
         the blob was cut or padded"
    )]
    Size {
        /// The blob.
        what: String,
        /// The descriptor's size.
        expected: u64,
        /// What was found instead, in words.
        found: String,
    },
    /// A blob's content does not hash to its descriptor's digest.
    #[error(
        "{what}: its content has digest {actual}, not {expected} as its descriptor says; the \
         source holds different bytes than it claims"
    )]
    Digest {
        /// The blob.
        what: String,
        /// The descriptor's digest.
        expected: Digest,
        /// What the content hashes to.
        actual: Digest,
    },
    /// A document declares more bytes than gopack accepts for its kind.
    #[error("{what} declares {size} bytes, more than the {limit} bytes gopack accepts for {kind}")]
    TooLarge {
        /// The document.
        what: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
        /// Index, manifest, config…
        kind: &'static str,
    },
    /// A media type or structure gopack does not read (schema 1, an artifact, `text/plain`).
    #[error("{what}: {reason}")]
    Unsupported {
        /// The descriptor or document.
        what: String,
        /// Why, with the printable media type.
        reason: String,
    },
    /// A document that does not parse as what it claims to be.
    #[error("{what} is not a valid {kind}: {detail}")]
    Malformed {
        /// The document.
        what: String,
        /// What it should be.
        kind: &'static str,
        /// The parser's complaint, made printable.
        detail: String,
    },
    /// No image serves a requested platform.
    #[error("{origin} has no image for {wanted} (it has: {available})")]
    NoPlatform {
        /// The source.
        origin: String,
        /// The platform asked for.
        wanted: String,
        /// What it does have, or words saying it has none.
        available: String,
    },
    /// A registry error (network, auth, not found), from the registry adapter.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The local blob store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SourceError {
    /// Recovers a verification error that travelled inside an `io::Error` (through a
    /// decompressor or tar reader); any other I/O error is given back.
    pub fn from_verification(e: io::Error) -> Result<SourceError, io::Error> {
        if e.get_ref().is_some_and(|i| i.is::<SourceError>()) {
            let inner = e.into_inner().expect("checked above");
            return Ok(*inner.downcast::<SourceError>().expect("checked above"));
        }
        Err(e)
    }
}

/// How to reach what a transport reference names.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// Registry options (insecure hosts, CAs, credentials) for `docker://` and bare references.
    pub registry: RegistryOptions,
    /// Bounds on documents and archives.
    pub limits: Limits,
}

/// Opens the source `reference` names. The blob store is where a registry source keeps what it
/// downloads; a daemon source copies the image into a temp file beside it.
pub fn open(
    reference: &ImageRef,
    store: &BlobStore,
    options: &SourceOptions,
) -> Result<Box<dyn ImageSource>, SourceError> {
    let limits = options.limits;
    Ok(match reference {
        ImageRef::Layout { dir, tag } => Box::new(LayoutSource::open(dir, tag.clone(), limits)?),
        ImageRef::OciArchive { file, tag } => {
            Box::new(OciArchiveSource::open(file, tag.clone(), limits)?)
        }
        ImageRef::DockerArchive { file, reference } => {
            Box::new(DockerArchiveSource::open(file, reference.clone(), limits)?)
        }
        ImageRef::Registry(r) => {
            let client = RegistryClient::new(options.registry.clone())?;
            Box::new(RegistrySource::new(client, r.clone(), store.clone()))
        }
        ImageRef::DockerDaemon(r) => {
            let host = crate::sink::daemon::engine::DockerHost::from_env().map_err(|e| {
                SourceError::Invalid {
                    origin: reference.to_string(),
                    reason: e.to_string(),
                }
            })?;
            Box::new(DaemonSource::open(host, r, store, limits)?)
        }
    })
}

/// Opens a blob for streaming, verified as it is read: the stream ends with an error if it is
/// longer or shorter than `descriptor.size` or does not hash to `descriptor.digest`.
pub fn open_blob<S: ImageSource + ?Sized>(
    source: &S,
    descriptor: &Descriptor,
) -> Result<VerifiedReader, SourceError> {
    let what = format!("blob {} of {}", descriptor.digest.short(), source.name());
    Ok(VerifiedReader::new(
        source.open_raw(descriptor)?,
        descriptor,
        what,
    ))
}

/// Reads a whole document (index, manifest, config), verified; refused before reading when its
/// descriptor declares more than `limit` bytes. `kind` names it in messages.
pub fn read_blob<S: ImageSource + ?Sized>(
    source: &S,
    descriptor: &Descriptor,
    limit: u64,
    kind: &'static str,
) -> Result<Vec<u8>, SourceError> {
    if descriptor.size > limit {
        return Err(SourceError::TooLarge {
            what: format!(
                "the {kind} {} of {}",
                descriptor.digest.short(),
                source.name()
            ),
            size: descriptor.size,
            limit,
            kind,
        });
    }
    let mut reader = open_blob(source, descriptor)?;
    let mut bytes = Vec::with_capacity(descriptor.size as usize);
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| reader.error(e))?;
    Ok(bytes)
}

/// Brings a blob into the store (unless it is there), verified; a blob already in the store
/// must still have the size the descriptor says.
pub fn fetch_blob<S: ImageSource + ?Sized>(
    source: &S,
    descriptor: &Descriptor,
    store: &BlobStore,
) -> Result<(), SourceError> {
    // The adapter decides what a blob already in the store needs (the registry records where
    // it came from, for cross-repository mounts).
    source.fetch_raw_into(descriptor, store)?;
    let path = store.path(&descriptor.digest);
    let len = std::fs::metadata(&path)
        .map_err(|error| SourceError::Io {
            what: path.display().to_string(),
            error,
        })?
        .len();
    if len != descriptor.size {
        return Err(SourceError::Size {
            what: format!("blob {} of {}", descriptor.digest.short(), source.name()),
            expected: descriptor.size,
            found: format!("the blob with that digest has {len}"),
        });
    }
    Ok(())
}

fn copy_verified<S: ImageSource + ?Sized>(
    source: &S,
    descriptor: &Descriptor,
    store: &BlobStore,
) -> Result<(), SourceError> {
    if store.contains(&descriptor.digest) {
        return Ok(());
    }
    let mut reader = open_blob(source, descriptor)?;
    let mut writer = store.writer()?;
    io::copy(&mut reader, &mut writer).map_err(|e| reader.error(e))?;
    writer.commit()?;
    Ok(())
}

/// Opens `path` for reading only if it is a regular file, without blocking on a FIFO (the open
/// is non-blocking, then `fstat` decides). Symlinks are followed, so a layout may link blobs
/// elsewhere, but a link to `/dev/zero` or a pipe is refused. Returns the file and its length.
pub(crate) fn open_regular(path: &Path, what: &str) -> Result<(File, u64), SourceError> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => SourceError::Missing {
                what: what.to_string(),
                origin: path.display().to_string(),
            },
            _ => SourceError::Io {
                what: what.to_string(),
                error,
            },
        })?;
    let meta = file.metadata().map_err(|error| SourceError::Io {
        what: what.to_string(),
        error,
    })?;
    let kind = meta.file_type();
    let refused = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("directory")
    } else if kind.is_fifo() {
        Some("named pipe (FIFO)")
    } else if kind.is_char_device() {
        Some("character device")
    } else if kind.is_block_device() {
        Some("block device")
    } else if kind.is_socket() {
        Some("socket")
    } else {
        Some("special file")
    };
    if let Some(kind) = refused {
        return Err(SourceError::NotRegular {
            what: format!("{what} ({})", path.display()),
            kind,
        });
    }
    Ok((file, meta.len()))
}

/// Checks a file's length against its descriptor before any byte is read.
pub(crate) fn check_len(what: &str, descriptor: &Descriptor, len: u64) -> Result<(), SourceError> {
    if len == descriptor.size {
        return Ok(());
    }
    Err(SourceError::Size {
        what: what.to_string(),
        expected: descriptor.size,
        found: format!("the file has {len}"),
    })
}

/// The descriptor of `index` (a layout's `index.json`) that `tag` names, or its only one.
pub(crate) fn select_in_index(
    index: &ImageIndex,
    tag: Option<&str>,
    origin: &str,
    how_to_name: &str,
) -> Result<Descriptor, SourceError> {
    let invalid = |reason: String| SourceError::Invalid {
        origin: origin.to_string(),
        reason,
    };
    let name = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .map(|n| printable(n, 100))
    };
    let names: Vec<String> = index.manifests.iter().filter_map(name).collect();
    let listed = if names.is_empty() {
        "no named images".to_string()
    } else {
        names.join(", ")
    };
    if index.manifests.is_empty() {
        return Err(invalid(
            "it holds no image: its index.json lists none. Write one with \
             `gopack pull REF oci:DIR:TAG` or `skopeo copy`"
                .into(),
        ));
    }
    match tag {
        Some(t) => index
            .manifests
            .iter()
            .find(|d| {
                d.annotations
                    .as_ref()
                    .and_then(|a| a.get(ANNOTATION_REF_NAME))
                    .is_some_and(|n| n == t)
            })
            .cloned()
            .ok_or_else(|| invalid(format!("it has no image named `{t}` (it has: {listed})"))),
        None => {
            // Referrers (SBOMs, signatures) listed beside an image are not images to choose.
            let images: Vec<&Descriptor> = index
                .manifests
                .iter()
                .filter(|d| d.artifact_type.is_none())
                .collect();
            match images[..] {
                [only] => Ok(only.clone()),
                _ => Err(invalid(format!(
                    "its index has {} image entries; name one as {how_to_name}:TAG (it has: {listed})",
                    images.len()
                ))),
            }
        }
    }
}

/// Parses a JSON document, turning the parser's complaint into printable text.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    kind: &'static str,
) -> Result<T, SourceError> {
    serde_json::from_slice(bytes).map_err(|e| SourceError::Malformed {
        what: what.to_string(),
        kind,
        detail: printable(&e.to_string(), 300),
    })
}

/// The path of a blob inside a layout: `blobs/sha256/<hex>`.
pub(crate) fn blob_path(digest: &Digest) -> PathBuf {
    PathBuf::from("blobs/sha256").join(digest.hex())
}

#[cfg(test)]
mod tests;
