//! Layer records on disk, keyed by layer blob digest: a second inspect of an image, or of any
//! image sharing its base layers, reads no layer blob at all.
//!
//! Layout under gopack's cache directory (`GOPACK_CACHE`, else `~/.cache/gopack`):
//! `inspect/layers-v<RECORD_FORMAT>/<hex of the blob digest>`. Each file is the magic `GPIR`, the
//! format as 4 little-endian bytes, then the record in postcard encoding. A file that does not
//! decode, names another digest or another format is ignored (and replaced by the next scan).
//! Files are written to a temporary file in the same directory and renamed into place, so a
//! reader never sees a partial record.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::{LayerRecord, RECORD_FORMAT};
use crate::oci::Digest;

const MAGIC: &[u8; 4] = b"GPIR";

/// Where layer records live.
#[derive(Clone, Debug)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The cache under gopack's cache directory `root`.
    pub fn new(root: &Path) -> LayerCache {
        LayerCache {
            dir: root
                .join("inspect")
                .join(format!("layers-v{RECORD_FORMAT}")),
        }
    }

    /// The directory records are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    /// The record of the layer blob `digest`, if one was stored and reads back whole.
    pub fn get(&self, digest: &Digest) -> Option<LayerRecord> {
        let bytes = std::fs::read(self.path(digest)).ok()?;
        let body = bytes.strip_prefix(MAGIC)?;
        let (format, body) = body.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*format) != RECORD_FORMAT {
            return None;
        }
        let record: LayerRecord = postcard::from_bytes(body).ok()?;
        (record.format == RECORD_FORMAT
            && record.error.is_none()
            && record.digest == digest.to_string())
        .then_some(record)
    }

    /// Stores a complete record (one with an error is not stored). Failures are returned for
    /// the caller to mention; the cache is an optimisation, never a reason to fail.
    pub fn put(&self, record: &LayerRecord) -> std::io::Result<()> {
        if record.error.is_some() {
            return Ok(());
        }
        let digest: Digest = record
            .digest
            .parse()
            .map_err(|_| std::io::Error::other("record without a valid digest"))?;
        std::fs::create_dir_all(&self.dir)?;
        let body = postcard::to_stdvec(record).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::with_prefix_in(".tmp-record-", &self.dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(&RECORD_FORMAT.to_le_bytes())?;
        tmp.write_all(&body)?;
        tmp.persist(self.path(&digest))
            .map_err(|e| e.error)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damaged_ones_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(dir.path());
        let digest = Digest::of(b"layer");
        let record = LayerRecord {
            format: RECORD_FORMAT,
            digest: digest.to_string(),
            diff_id: Digest::of(b"tar").to_string(),
            ..LayerRecord::default()
        };
        assert!(cache.get(&digest).is_none());
        cache.put(&record).unwrap();
        assert_eq!(cache.get(&digest).unwrap().diff_id, record.diff_id);
        // A truncated file reads as no record.
        let path = cache.path(&digest);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(cache.get(&digest).is_none());
        // A partial record is never stored.
        let partial = LayerRecord {
            error: Some("truncated".into()),
            ..record
        };
        std::fs::remove_file(&path).unwrap();
        cache.put(&partial).unwrap();
        assert!(!path.exists());
    }
}
