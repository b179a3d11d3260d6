//! The Go binaries in an image, found by content (ELF magic, then Go build information), not
//! by name: one streaming pass over each layer in order, whiteouts and overwrites applied, so
//! only binaries present in the final file system are reported. Each binary is held in memory
//! only while it is hashed and its build information read (at most [`MAX_BINARY`] bytes).

use std::collections::BTreeMap;
use std::io::Read;

use super::bom::GoBinary;
use crate::binary::buildinfo::read_build_info;
use crate::oci::{
    Digest, FileType, Image, ImageSource, LayerReadError, Limits, Whiteout, open_layer,
};

/// Largest file read to look for Go build information (bytes, uncompressed).
pub const MAX_BINARY: u64 = 1 << 30;

/// Why an image's binaries could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ImageScanError {
    /// A layer could not be read (its blob, its compression or its tar stream).
    #[error("layer {index} ({digest}) of {origin}: {error}")]
    Layer {
        /// The image source, as named.
        origin: String,
        /// 1-based position in the manifest.
        index: usize,
        /// The layer's digest.
        digest: String,
        /// What went wrong.
        error: Box<LayerReadError>,
    },
}

/// Every Go binary in `image`'s final file system, by path (`/usr/local/bin/api`), in path
/// order. Non-Go ELF files and files larger than [`MAX_BINARY`] are skipped; every layer is
/// read to its end and checked against the config's diff_id.
pub fn go_binaries<S: ImageSource + ?Sized>(
    source: &S,
    image: &Image,
    limits: &Limits,
) -> Result<Vec<GoBinary>, ImageScanError> {
    // path → (layer index, binary or None for a file that is not a Go binary)
    let mut files: BTreeMap<String, (usize, Option<GoBinary>)> = BTreeMap::new();
    for (index, layer) in image.manifest.layers.iter().enumerate() {
        let fail = |error| ImageScanError::Layer {
            origin: source.name(),
            index: index + 1,
            digest: layer.digest.to_string(),
            error: Box::new(error),
        };
        let mut reader = open_layer(source, layer, limits.tar).map_err(fail)?;
        while let Some(mut entry) = reader.next_entry().map_err(fail)? {
            let path = entry.path.clone();
            match entry.whiteout() {
                Some(Whiteout::Remove(p)) => {
                    remove_tree(&mut files, &p, |_| true);
                    continue;
                }
                Some(Whiteout::Opaque(dir)) => {
                    remove_tree(&mut files, &dir, |layer| layer < index);
                    files.remove(&dir);
                    continue;
                }
                Some(Whiteout::Meta) => continue,
                None => {}
            }
            if entry.file_type == FileType::Directory {
                continue;
            }
            // A non-directory replaces whatever was at its path, and everything below it.
            remove_tree(&mut files, &path, |_| true);
            let binary = if entry.file_type == FileType::Regular && entry.size <= MAX_BINARY {
                read_go_binary(&mut entry, &path).map_err(|e| fail(layer_io(e)))?
            } else {
                None
            };
            files.insert(path, (index, binary));
        }
        let expected = image.config.rootfs.diff_ids.get(index);
        reader.finish(expected).map_err(fail)?;
    }
    Ok(files.into_values().filter_map(|(_, b)| b).collect())
}

/// Removes `path` and everything below it whose layer passes `which`.
fn remove_tree(
    files: &mut BTreeMap<String, (usize, Option<GoBinary>)>,
    path: &str,
    which: impl Fn(usize) -> bool,
) {
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    files.retain(|p, (layer, _)| {
        let below = p == path || p.starts_with(&prefix);
        !(below && which(*layer))
    });
}

fn layer_io(e: std::io::Error) -> LayerReadError {
    match crate::oci::SourceError::from_verification(e) {
        Ok(source) => LayerReadError::Source(source),
        Err(e) => LayerReadError::Decompress {
            compression: crate::oci::LayerCompression::None,
            detail: e.to_string(),
        },
    }
}

/// Reads a regular file's content when it starts with the ELF magic and returns it as a Go
/// binary when it carries Go build information; `None` for anything else (the rest of the
/// content is left for the layer reader to skip).
fn read_go_binary(entry: &mut impl Read, path: &str) -> std::io::Result<Option<GoBinary>> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = entry.read(&mut magic[got..])?;
        if n == 0 {
            return Ok(None);
        }
        got += n;
    }
    if &magic != b"\x7fELF" {
        return Ok(None);
    }
    let mut bytes = magic.to_vec();
    entry.take(MAX_BINARY).read_to_end(&mut bytes)?;
    let Ok(info) = read_build_info(&bytes) else {
        return Ok(None);
    };
    Ok(Some(GoBinary {
        path: format!("/{path}"),
        sha256: Digest::of(&bytes),
        size: bytes.len() as u64,
        info,
        x_values: Vec::new(),
        graph: None,
        main_dir: None,
    }))
}
