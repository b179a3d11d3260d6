//! `gopack resolve`: finds the `gopack://IMPORTPATH` and `ko://IMPORTPATH` references in
//! Kubernetes YAML and replaces each, in the text itself, by the pushed image's
//! `REPO@sha256:…`. Everything else — comments, anchors, key order, quoting, indentation,
//! document separators — stays byte for byte, because the YAML is never re-serialised: the
//! parser ([saphyr-parser], YAML 1.2, with start and end spans on every event) only says where
//! each reference scalar is.
//!
//! Only scalars whose whole value is a reference are replaced (as ko does); a reference inside
//! a longer string is left alone. Block scalars (`|`, `>`) holding a reference are refused:
//! their text cannot be replaced without reflowing it.
//!
//! [saphyr-parser]: https://docs.rs/saphyr-parser

use std::collections::BTreeMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Largest YAML input read, in bytes.
pub const MAX_YAML_BYTES: usize = 64 << 20;

/// The schemes that mark an image to build.
pub const SCHEMES: [&str; 2] = ["gopack://", "ko://"];

/// One reference found in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// What follows the scheme: the import path (or directory) of a main package.
    pub package: String,
    /// The scheme (`gopack://` or `ko://`).
    pub scheme: &'static str,
    /// Byte range of the value in the text (inside the quotes of a quoted scalar).
    pub range: Range<usize>,
    /// 1-based line.
    pub line: usize,
}

/// Why a YAML text could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Not valid YAML.
    #[error("{origin}: not valid YAML: {message}")]
    Yaml {
        /// File name or `-`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A reference gopack cannot replace in place.
    #[error("{origin} line {line}: {message}")]
    Unsupported {
        /// File name or `-`.
        origin: String,
        /// 1-based line.
        line: usize,
        /// Why.
        message: String,
    },
    /// The input is too large.
    #[error("{origin}: larger than {} MiB; split it", MAX_YAML_BYTES >> 20)]
    TooLarge {
        /// File name or `-`.
        origin: String,
    },
}

/// Every reference in `text` (all documents), in text order.
pub fn find(text: &str, origin: &str) -> Result<Vec<Found>, ResolveError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(ResolveError::TooLarge {
            origin: origin.into(),
        });
    }
    let byte_at = CharToByte::new(text);
    let mut found = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| ResolveError::Yaml {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        let Event::Scalar(value, style, _, _) = event else {
            continue;
        };
        let Some(scheme) = SCHEMES.iter().find(|s| value.starts_with(**s)) else {
            continue;
        };
        let line = span.start.line();
        let package = value[scheme.len()..].to_string();
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            return Err(ResolveError::Unsupported {
                origin: origin.into(),
                line,
                message: format!(
                    "the reference `{}` is a block scalar (| or >); write it on one line \
                     (image: {})",
                    value.trim_end(),
                    value.trim_end()
                ),
            });
        }
        if package.is_empty() || package.contains(char::is_whitespace) {
            return Err(ResolveError::Unsupported {
                origin: origin.into(),
                line,
                message: format!("`{value}` does not name a package after {scheme}"),
            });
        }
        let (start, end) = (
            byte_at.get(span.start.index()),
            byte_at.get(span.end.index()),
        );
        let range = value_range(text, start..end, style, &value).ok_or_else(|| {
            ResolveError::Unsupported {
                origin: origin.into(),
                line,
                message: format!(
                    "the reference `{value}` is written across lines or as a block scalar; \
                     write it on one line (image: {value})"
                ),
            }
        })?;
        found.push(Found {
            package,
            scheme,
            range,
            line,
        });
    }
    Ok(found)
}

/// The byte range of the value's text inside the scalar's span (which starts at the node's
/// anchor or tag, if any): the end of a plain scalar, inside the quotes of a quoted one;
/// `None` when the text there is not exactly the value (escapes, line folding, block scalars).
fn value_range(
    text: &str,
    span: Range<usize>,
    style: ScalarStyle,
    value: &str,
) -> Option<Range<usize>> {
    let raw = text.get(span.clone())?;
    let end = match style {
        ScalarStyle::Plain => span.end,
        ScalarStyle::SingleQuoted => {
            raw.strip_suffix('\'')?;
            span.end - 1
        }
        ScalarStyle::DoubleQuoted => {
            raw.strip_suffix('"')?;
            span.end - 1
        }
        ScalarStyle::Literal | ScalarStyle::Folded => return None,
    };
    let start = end.checked_sub(value.len())?;
    let inner = start..end;
    (start >= span.start && text.get(inner.clone())? == value).then_some(inner)
}

/// Maps the parser's character indices to byte offsets.
struct CharToByte {
    offsets: Vec<usize>,
}

impl CharToByte {
    fn new(text: &str) -> CharToByte {
        let mut offsets: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        offsets.push(text.len());
        CharToByte { offsets }
    }

    fn get(&self, char_index: usize) -> usize {
        self.offsets
            .get(char_index)
            .copied()
            .unwrap_or_else(|| *self.offsets.last().unwrap_or(&0))
    }
}

/// `text` with each found reference replaced by `images[package]`; `found` must come from
/// [`find`] on the same text. A package missing from `images` is left as it is.
pub fn substitute(text: &str, found: &[Found], images: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut sorted: Vec<&Found> = found.iter().collect();
    sorted.sort_by_key(|f| f.range.start);
    for f in sorted {
        let Some(image) = images.get(&f.package) else {
            continue;
        };
        out.push_str(&text[at..f.range.start]);
        out.push_str(image);
        at = f.range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests;
