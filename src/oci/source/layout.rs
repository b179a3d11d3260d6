//! An OCI image layout directory (image-spec `image-layout.md`): `oci-layout`, `index.json`
//! and `blobs/sha256/<hex>`.
#![warn(missing_docs)]

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{
    ImageSource, Limits, SourceError, blob_path, check_len, open_regular, parse_json,
    select_in_index,
};
use crate::oci::{Descriptor, ImageIndex};

/// `oci:DIR[:TAG]`. Only regular files are read; a blob's length must equal its descriptor's
/// size before a byte of it is read.
#[derive(Clone, Debug)]
pub struct LayoutSource {
    dir: PathBuf,
    tag: Option<String>,
    limits: Limits,
}

impl LayoutSource {
    /// Opens the layout at `dir`, the image named `tag` (or its only image). Fails at once when
    /// `dir` is not a layout, saying how to make one.
    pub fn open(
        dir: &Path,
        tag: Option<String>,
        limits: Limits,
    ) -> Result<LayoutSource, SourceError> {
        let source = LayoutSource {
            dir: dir.to_path_buf(),
            tag,
            limits,
        };
        if !dir.is_dir() {
            return Err(source.invalid(if dir.exists() {
                "it is not a directory"
            } else {
                "it does not exist"
            }));
        }
        let marker = dir.join("oci-layout");
        if !marker.exists() && dir.join("index.json").exists() {
            return Err(source.invalid("it has an index.json but no oci-layout file"));
        }
        if !marker.exists() {
            return Err(source.invalid("it has no oci-layout or index.json file"));
        }
        let (mut file, len) = open_regular(&marker, "the oci-layout file")?;
        if len > 4096 {
            return Err(
                source.invalid("its oci-layout file is not the small JSON file it should be")
            );
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(|error| SourceError::Io {
                what: marker.display().to_string(),
                error,
            })?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Marker {
            image_layout_version: String,
        }
        let marker: Marker = parse_json(&text, "its oci-layout file", "oci-layout file")?;
        if !marker.image_layout_version.starts_with("1.") {
            return Err(source.invalid("its oci-layout names a layout version other than 1.x"));
        }
        Ok(source)
    }

    fn invalid(&self, what: &str) -> SourceError {
        SourceError::Invalid {
            origin: self.name(),
            reason: format!(
                "{what}; an OCI image layout holds oci-layout, index.json and blobs/. Save one \
                 with `gopack pull REF oci:DIR` or `skopeo copy docker://REF oci:DIR`"
            ),
        }
    }

    /// The layout's `index.json`, at most [`Limits::max_index`] bytes.
    pub fn index(&self) -> Result<ImageIndex, SourceError> {
        let path = self.dir.join("index.json");
        let what = format!("index.json of {}", self.name());
        let (file, len) = open_regular(&path, &what)?;
        if len > self.limits.max_index {
            return Err(SourceError::TooLarge {
                what,
                size: len,
                limit: self.limits.max_index,
                kind: "an index",
            });
        }
        let mut bytes = Vec::new();
        file.take(self.limits.max_index)
            .read_to_end(&mut bytes)
            .map_err(|error| SourceError::Io {
                what: what.clone(),
                error,
            })?;
        parse_json(&bytes, &what, "image index")
    }
}

impl ImageSource for LayoutSource {
    fn name(&self) -> String {
        match &self.tag {
            Some(t) => format!("oci:{}:{t}", self.dir.display()),
            None => format!("oci:{}", self.dir.display()),
        }
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        let index = self.index()?;
        let how = format!("oci:{}", self.dir.display());
        select_in_index(&index, self.tag.as_deref(), &self.name(), &how)
    }

    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        let what = format!("blob {} of {}", descriptor.digest.short(), self.name());
        let (file, len) = open_regular(&self.dir.join(blob_path(&descriptor.digest)), &what)?;
        check_len(&what, descriptor, len)?;
        Ok(Box::new(file))
    }
}
