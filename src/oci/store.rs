use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::digest::{Digest, Sha256Writer};

/// A content-addressed blob store laid out like an OCI image layout (`blobs/sha256/<hex>`), so
/// blobs can be hard-linked or copied into outputs without being re-read or re-hashed.
///
/// Blobs are written to a temp file inside the store and renamed into place once their digest
/// is known, so a reader never sees a partial blob and a crash leaves only temp files behind.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the blob store at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("blob {digest} is not in the store at {root}")]
    Missing { digest: Digest, root: PathBuf },
    #[error(
        "blob arrived with digest {actual} but {expected} was asked for; the source sent \
         different bytes than it announced"
    )]
    DigestMismatch { expected: Digest, actual: Digest },
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

    pub fn open(root: impl Into<PathBuf>) -> Result<BlobStore, StoreError> {
        let root = root.into();
        for dir in [root.join("blobs/sha256"), root.join("tmp")] {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        Ok(BlobStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

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

    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        self.open_blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(io_err(&self.path(digest)))?;
        Ok(bytes)
    }

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
        let file = NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
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

pub struct BlobWriter {
    store: BlobStore,
    inner: Sha256Writer<BufWriter<NamedTempFile>>,
}

impl BlobWriter {
    fn digest_so_far(&self) -> Digest {
        self.inner.digest()
    }

    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        let (buffered, digest, size) = self.inner.finish();
        let temp = buffered.into_inner().map_err(|e| StoreError::Io {
            path: self.store.root.clone(),
            source: e.into_error(),
        })?;
        let dest = self.store.path(&digest);
        if dest.is_file() {
            return Ok((digest, size));
        }
        temp.persist(&dest).map_err(|e| StoreError::Io {
            path: dest.clone(),
            source: e.error,
        })?;
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

pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GOPACK_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("gopack")
}
