//! The content-addressed blob store every image read or written goes through: one file per
//! blob under `blobs/sha256/<hex>` (OCI image spec, image-layout.md), written atomically and
//! verified by digest.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::digest::{Digest, Sha256Writer};
use crate::fsutil;

/// A content-addressed blob store laid out like an OCI image layout (`blobs/sha256/<hex>`), so
/// blobs can be hard-linked or copied into outputs without being re-read or re-hashed.
///
/// Blobs are written to a temp file in `tmp/` and renamed into place once their digest is
/// known and their bytes are on disk (fsync), so a reader never sees a partial blob. A temp file
/// is locked while its writer lives; opening the store removes those of killed runs.
///
/// Blob files are created 0666 minus the umask, so outputs can hard-link them and still follow
/// the umask as `cp` would.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file of the store (named) could not be read or written.
    #[error("cannot use gopack's blob store at {path}: {source}")]
    Io {
        /// The store's file or directory.
        path: PathBuf,
        /// The operation's error.
        source: io::Error,
    },
    /// A blob that should have been stored before is not there.
    #[error(
        "blob {digest} is not in gopack's blob store at {root}; it may have been pruned while \
         this build ran: run the build again"
    )]
    Missing {
        /// The blob asked for.
        digest: Digest,
        /// The store's root directory.
        root: PathBuf,
    },
    /// Bytes from outside hashed to another digest than announced.
    #[error(
        "blob arrived with digest {actual} but {expected} was asked for; the source sent \
         different bytes than it announced"
    )]
    DigestMismatch {
        /// The digest the bytes were announced with.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore {
    /// The store under `GOPACK_CACHE`, else the user cache dir (`~/.cache/gopack`).
    pub fn open_default() -> Result<BlobStore, StoreError> {
        BlobStore::open(default_cache_dir().join("store"))
    }

    /// Opens (creating when missing) the store at `root`, and removes the temp files that
    /// killed runs left in its `tmp/`.
    pub fn open(root: impl Into<PathBuf>) -> Result<BlobStore, StoreError> {
        let root = root.into();
        for dir in [root.join("blobs/sha256"), root.join("tmp")] {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        let store = BlobStore { root };
        store.remove_stale_temps()?;
        Ok(store)
    }

    /// Removes temp files of killed writers from `tmp/`; returns how many and their bytes.
    pub fn remove_stale_temps(&self) -> Result<(usize, u64), StoreError> {
        let tmp = self.root.join("tmp");
        fsutil::remove_stale_files(&tmp).map_err(io_err(&tmp))
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` is (or would be): `<root>/blobs/sha256/<hex>`.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// Whether the blob is in the store.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Opens a blob for reading; [`StoreError::Missing`] when it is not there.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        File::open(self.path(digest)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::Missing {
                digest: digest.clone(),
                root: self.root.clone(),
            },
            _ => StoreError::Io {
                path: self.path(digest),
                source: e,
            },
        })
    }

    /// Reads a whole blob (for small documents: manifests, configs, indexes).
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        self.open_blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(io_err(&self.path(digest)))?;
        Ok(bytes)
    }

    /// Stores `bytes`; returns their digest and length.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<(Digest, u64), StoreError> {
        let digest = Digest::of(bytes);
        if !self.contains(&digest) {
            let mut w = self.writer()?;
            w.write_all(bytes).map_err(io_err(&self.root))?;
            w.commit()?;
        }
        Ok((digest, bytes.len() as u64))
    }

    /// A writer that hashes as it goes; [`BlobWriter::commit`] moves the blob into place.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        let tmp_dir = self.root.join("tmp");
        let file = fsutil::temp_file_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        Ok(BlobWriter {
            store: self.clone(),
            inner: Sha256Writer::new(BufWriter::new(file)),
        })
    }

    /// Copies `reader` into the store, failing (and keeping nothing) if its digest is not
    /// `expected`. Used for blobs that arrive from outside (registries, archives).
    pub fn put_verified(
        &self,
        expected: &Digest,
        reader: &mut dyn Read,
    ) -> Result<u64, StoreError> {
        let mut w = self.writer()?;
        let size = io::copy(reader, &mut w).map_err(io_err(&self.root))?;
        let actual = w.digest_so_far();
        if &actual != expected {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        w.commit()?;
        Ok(size)
    }
}

/// How [`BlobStore::export`] put a blob in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exported {
    /// The destination already held a file of the blob's size (blobs are content-addressed).
    Present,
    /// A hard link to the store's file: no bytes copied.
    Linked,
    /// A copy (other file system, or a store file whose mode differs from what the umask
    /// gives new files).
    Copied,
}

/// Why [`BlobStore::export`] failed, telling a failing read of the store from a failing
/// write of the destination (a full output disk is the output's problem, not the cache's).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The blob is not in the store, or its file could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The destination (named) could not be written.
    #[error("{source}")]
    Write {
        /// The destination file.
        path: PathBuf,
        /// The write's error.
        source: io::Error,
    },
}

impl BlobStore {
    /// Puts the blob `digest` at `dest`, whose directory must exist: left alone when a file of
    /// the right size is there; else a hard link when the store shares `dest`'s file system
    /// and its file has the mode a new file gets under the current umask; else a copy (temp
    /// file, fsync, rename). The caller flushes `dest`'s directory afterwards.
    pub fn export(&self, digest: &Digest, dest: &Path) -> Result<Exported, ExportError> {
        let src = self.path(digest);
        let meta = fs::metadata(&src).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::Missing {
                digest: digest.clone(),
                root: self.root.clone(),
            },
            _ => StoreError::Io {
                path: src.clone(),
                source: e,
            },
        })?;
        if fs::metadata(dest).is_ok_and(|d| d.is_file() && d.len() == meta.len()) {
            return Ok(Exported::Present);
        }
        use std::os::unix::fs::PermissionsExt;
        let mode_fits = fsutil::new_file_mode() == Some(meta.permissions().mode() & 0o777);
        if mode_fits && !dest.exists() {
            match fs::hard_link(&src, dest) {
                Ok(()) => {
                    // Blobs stored by older versions were not flushed when written.
                    File::open(&src)
                        .and_then(|f| f.sync_all())
                        .map_err(io_err(&src))?;
                    return Ok(Exported::Linked);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) if is_link_refusal(&e) => {}
                Err(e) => {
                    return Err(ExportError::Write {
                        path: dest.to_path_buf(),
                        source: e,
                    });
                }
            }
        }
        self.copy_out(digest, dest)?;
        Ok(Exported::Copied)
    }

    fn copy_out(&self, digest: &Digest, dest: &Path) -> Result<(), ExportError> {
        let write_err = |source| ExportError::Write {
            path: dest.to_path_buf(),
            source,
        };
        let mut reader = self.open_blob(digest)?;
        let mut temp = fsutil::temp_file_in(&fsutil::parent_of(dest)).map_err(write_err)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(&self.path(digest))(e).into()),
            };
            temp.as_file_mut().write_all(&buf[..n]).map_err(write_err)?;
        }
        temp.as_file().sync_all().map_err(write_err)?;
        temp.persist(dest).map_err(|e| write_err(e.error))?;
        Ok(())
    }
}

/// Errors for which a hard link is impossible but a copy may work: another file system, a
/// file system without links, too many links, or a protected-hardlinks refusal.
fn is_link_refusal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EXDEV | libc::EPERM | libc::EMLINK | libc::ENOTSUP)
    )
}

/// A blob being written: hashes what it is given, and moves the blob into place on
/// [`BlobWriter::commit`]. Dropped without commit, it leaves nothing.
pub struct BlobWriter {
    store: BlobStore,
    inner: Sha256Writer<BufWriter<NamedTempFile>>,
}

impl BlobWriter {
    fn digest_so_far(&self) -> Digest {
        self.inner.digest()
    }

    /// Flushes the blob to disk and moves it to `blobs/sha256/<hex>`; returns its digest and
    /// size in bytes (as written: compressed for a compressed layer).
    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        let (buffered, digest, size) = self.inner.finish();
        let temp = buffered.into_inner().map_err(|e| StoreError::Io {
            path: self.store.root.join("tmp"),
            source: e.into_error(),
        })?;
        let dest = self.store.path(&digest);
        if dest.is_file() {
            return Ok((digest, size));
        }
        fsutil::commit(temp, &dest).map_err(io_err(&dest))?;
        Ok((digest, size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// gopack's cache directory: `GOPACK_CACHE`, else the user cache dir (`~/.cache/gopack`).
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GOPACK_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("gopack")
}
