use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::oci::{ANNOTATION_REF_NAME, BlobStore, ImageIndex, MEDIA_TYPE_INDEX};

use super::{ImageSet, SinkError, io_err, parent_dir, ref_names};

pub(super) const OCI_LAYOUT_FILE: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

pub(super) fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
}

/// A directory gopack may replace with a layout: a layout already, or empty.
pub(super) fn is_replaceable(dir: &Path) -> bool {
    !dir.exists() || is_layout(dir) || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// The `index.json` of a layout holding these image sets, each named by `ref_names`.
pub(super) fn layout_index(sets: &[ImageSet], tag: Option<&str>) -> Vec<u8> {
    let manifests = sets
        .iter()
        .zip(ref_names(sets, tag))
        .map(|(set, name)| {
            let mut d = set.top_descriptor();
            if set.index.is_none() {
                d.platform = Some(set.images[0].platform.clone());
            }
            d.annotations = Some([(ANNOTATION_REF_NAME.to_string(), name)].into());
            d
        })
        .collect();
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.into()),
        manifests,
        annotations: None,
    };
    serde_json::to_vec(&index).expect("index serialises")
}

/// Writes an OCI image layout at `dir`, replacing a previous layout there only once the new one
/// is complete. A directory that is not a layout is never replaced.
pub fn write_oci_layout(
    store: &BlobStore,
    dir: &Path,
    sets: &[ImageSet],
    tag: Option<&str>,
) -> Result<(), SinkError> {
    if !is_replaceable(dir) {
        return Err(SinkError::NotALayout(dir.to_path_buf()));
    }
    let parent = parent_dir(dir);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    let root = staging.path();
    let blobs = root.join("blobs/sha256");
    fs::create_dir_all(&blobs).map_err(io_err(&blobs))?;
    fs::write(root.join("oci-layout"), OCI_LAYOUT_FILE).map_err(io_err(root))?;
    for set in sets {
        for digest in set.blobs() {
            let dest = blobs.join(digest.hex());
            if !dest.exists() {
                fs::copy(store.path(&digest), &dest).map_err(io_err(&store.path(&digest)))?;
            }
        }
    }
    let mut index = fs::File::create(root.join("index.json")).map_err(io_err(root))?;
    index
        .write_all(&layout_index(sets, tag))
        .map_err(io_err(root))?;
    replace_dir(staging, dir)
}

/// Moves the finished staging directory to `dest`. An old `dest` is moved aside first and
/// removed only after the new one is in place; if the final rename fails it is put back.
fn replace_dir(staging: tempfile::TempDir, dest: &Path) -> Result<(), SinkError> {
    let staged: PathBuf = staging.keep();
    if !dest.exists() {
        return fs::rename(&staged, dest).map_err(|e| {
            let _ = fs::remove_dir_all(&staged);
            SinkError::Io {
                path: dest.to_path_buf(),
                source: e,
            }
        });
    }
    let aside = staged.with_extension("old");
    fs::rename(dest, &aside).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        SinkError::Io {
            path: dest.to_path_buf(),
            source: e,
        }
    })?;
    if let Err(e) = fs::rename(&staged, dest) {
        let _ = fs::rename(&aside, dest);
        let _ = fs::remove_dir_all(&staged);
        return Err(SinkError::Io {
            path: dest.to_path_buf(),
            source: e,
        });
    }
    let _ = fs::remove_dir_all(&aside);
    Ok(())
}

/// Reads `index.json` of a layout directory.
pub fn read_layout_index(dir: &Path) -> Result<ImageIndex, SinkError> {
    let path = dir.join("index.json");
    let bytes = fs::read(&path).map_err(io_err(&path))?;
    serde_json::from_slice(&bytes).map_err(|e| SinkError::Io {
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}
