//! `--cat PATH`: one file's content, read from the layer that holds the copy the image shows
//! (one more streaming pass over that layer only), bounded, and made safe for a terminal.

use std::io::Read;

use super::Analysis;
use crate::oci::{FileType, ImageSource, open_layer};

/// What `--cat` found.
#[derive(Debug)]
pub struct CatResult {
    /// The path read (after following symlinks inside the image).
    pub path: String,
    /// Its size in the image, bytes.
    pub size: u64,
    /// The first `limit` bytes.
    pub bytes: Vec<u8>,
}

/// Why a file could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum CatError {
    /// No such path (or a symlink that leads nowhere inside the image).
    #[error("{0} is not in the image (or is a symlink that leads nowhere inside it)")]
    Missing(String),
    /// A directory, device or other non-file.
    #[error("{0} is a {1}, not a file")]
    NotAFile(String, FileType),
    /// The layer could not be read.
    #[error("cannot read {path} from layer {layer}: {error}")]
    Layer {
        /// The path.
        path: String,
        /// 1-based layer.
        layer: u32,
        /// Why.
        error: String,
    },
}

/// Reads up to `limit` bytes of `path` (absolute or not) as the image shows it.
pub fn cat<S: ImageSource + ?Sized>(
    source: &S,
    a: &Analysis,
    path: &str,
    limit: u64,
) -> Result<CatResult, CatError> {
    let tree = &a.merged.tree;
    let mut id = tree
        .lookup(path)
        .ok_or_else(|| CatError::Missing(path.to_string()))?;
    // A hard link's content is its target's.
    for _ in 0..8 {
        let info = tree.info(id);
        if info.file_type != FileType::Hardlink {
            break;
        }
        let target = info.link_target.as_deref().unwrap_or("");
        id = tree
            .lookup(target)
            .ok_or_else(|| CatError::Missing(format!("/{target}")))?;
    }
    let info = tree.info(id).clone();
    let real = tree.path(id);
    if info.file_type != FileType::Regular {
        return Err(CatError::NotAFile(format!("/{real}"), info.file_type));
    }
    let layer = &a.image.manifest.layers[info.layer as usize];
    let fail = |error: String| CatError::Layer {
        path: format!("/{real}"),
        layer: info.layer + 1,
        error,
    };
    let mut reader =
        open_layer(source, layer, Default::default()).map_err(|e| fail(e.to_string()))?;
    let mut found: Option<Vec<u8>> = None;
    while let Some(entry) = reader.next_entry().map_err(|e| fail(e.to_string()))? {
        if entry.path == real && entry.file_type == FileType::Regular && entry.whiteout().is_none()
        {
            let mut bytes = Vec::new();
            entry
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| fail(e.to_string()))?;
            found = Some(bytes);
        }
    }
    let bytes = found.ok_or_else(|| fail("the layer no longer holds it".into()))?;
    Ok(CatResult {
        path: format!("/{real}"),
        size: info.size,
        bytes,
    })
}

/// Bytes made safe to print on a terminal: valid UTF-8 text with newlines and tabs kept, every
/// other control character and every invalid byte shown as `\xNN` (so escape sequences from an
/// image cannot reach the terminal).
pub fn terminal_safe(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}' {
                for b in c.to_string().bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_and_invalid_bytes_are_shown_not_sent() {
        let s = super::terminal_safe(b"ok\n\x1b[31mred\ttab\xff\xc3\xa9");
        assert_eq!(s, "ok\n\\x1b[31mred\ttab\\xffé");
    }
}
