use std::collections::BTreeSet;
use std::fs;
use std::io::BufWriter;
use std::path::Path;

use crate::oci::{BlobStore, Digest};

use super::layout::{OCI_LAYOUT_FILE, layout_index};
use super::{ImageSet, SinkError, io_err, parent_dir};

/// A tar with deterministic headers, written to a temp file beside the destination and renamed
/// into place when complete.
struct AtomicTar {
    builder: tar::Builder<BufWriter<tempfile::NamedTempFile>>,
}

impl AtomicTar {
    fn create(dest: &Path) -> Result<AtomicTar, SinkError> {
        let parent = parent_dir(dest);
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let file = tempfile::Builder::new()
            .prefix(".gopack-")
            .suffix(".tmp")
            .tempfile_in(&parent)
            .map_err(io_err(&parent))?;
        let mut builder = tar::Builder::new(BufWriter::new(file));
        builder.mode(tar::HeaderMode::Deterministic);
        Ok(AtomicTar { builder })
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

    fn dir(&mut self, path: &str, dest: &Path) -> Result<(), SinkError> {
        let mut h = Self::header(0, tar::EntryType::Directory, 0o755);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .map_err(io_err(dest))
    }

    fn bytes(&mut self, path: &str, data: &[u8], dest: &Path) -> Result<(), SinkError> {
        let mut h = Self::header(data.len() as u64, tar::EntryType::Regular, 0o644);
        self.builder
            .append_data(&mut h, path, data)
            .map_err(io_err(dest))
    }

    fn blobs(
        &mut self,
        store: &BlobStore,
        digests: &BTreeSet<Digest>,
        dest: &Path,
    ) -> Result<(), SinkError> {
        self.dir("blobs/", dest)?;
        self.dir("blobs/sha256/", dest)?;
        for digest in digests {
            let file = store.open_blob(digest)?;
            let len = file.metadata().map_err(io_err(&store.path(digest)))?.len();
            let mut h = Self::header(len, tar::EntryType::Regular, 0o644);
            self.builder
                .append_data(&mut h, format!("blobs/sha256/{}", digest.hex()), file)
                .map_err(io_err(dest))?;
        }
        Ok(())
    }

    fn finish(self, dest: &Path) -> Result<(), SinkError> {
        let buffered = self.builder.into_inner().map_err(io_err(dest))?;
        let file = buffered.into_inner().map_err(|e| SinkError::Io {
            path: dest.to_path_buf(),
            source: e.into_error(),
        })?;
        file.persist(dest).map_err(|e| SinkError::Io {
            path: dest.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }
}

fn all_blobs(sets: &[ImageSet]) -> BTreeSet<Digest> {
    sets.iter().flat_map(ImageSet::blobs).collect()
}

/// An OCI layout packed in a tar (`oci-archive:`), as skopeo and podman read it.
pub fn write_oci_archive(
    store: &BlobStore,
    file: &Path,
    sets: &[ImageSet],
    tag: Option<&str>,
) -> Result<(), SinkError> {
    let mut tar = AtomicTar::create(file)?;
    tar.blobs(store, &all_blobs(sets), file)?;
    tar.bytes("index.json", &layout_index(sets, tag), file)?;
    tar.bytes("oci-layout", OCI_LAYOUT_FILE, file)?;
    tar.finish(file)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// A `docker save`-style archive that `docker load` and skopeo read: `manifest.json` naming
/// config and layers, beside an OCI layout of the same blobs (as Docker ≥ 25 writes it).
pub fn write_docker_archive(
    store: &BlobStore,
    file: &Path,
    sets: &[ImageSet],
    reference: Option<&str>,
) -> Result<(), SinkError> {
    if let Some(set) = sets.iter().find(|s| s.images.len() > 1) {
        return Err(SinkError::DockerArchiveMultiPlatform {
            platforms: set.images.len(),
        });
    }
    let blob_path = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let manifest: Vec<DockerManifestEntry> = sets
        .iter()
        .map(|set| {
            let image = &set.images[0];
            DockerManifestEntry {
                config: blob_path(&image.config_descriptor.digest),
                repo_tags: vec![docker_tag(sets.len(), &set.name, reference)],
                layers: image
                    .manifest
                    .layers
                    .iter()
                    .map(|l| blob_path(&l.digest))
                    .collect(),
            }
        })
        .collect();
    let mut tar = AtomicTar::create(file)?;
    tar.blobs(store, &all_blobs(sets), file)?;
    tar.bytes("index.json", &layout_index(sets, None), file)?;
    tar.bytes(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("manifest serialises"),
        file,
    )?;
    tar.bytes("oci-layout", OCI_LAYOUT_FILE, file)?;
    tar.finish(file)
}

/// `REF` as given (with `:latest` added when it has no tag) for a single image; with several
/// binaries, each gets `<repo>/<name>:<tag>`.
fn docker_tag(count: usize, name: &str, reference: Option<&str>) -> String {
    let (repo, tag) = match reference {
        Some(r) => match r.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((repo, tag)) => (Some(repo), tag),
            None => (Some(r), "latest"),
        },
        None => (None, "latest"),
    };
    match (count, repo) {
        (1, Some(repo)) => format!("{repo}:{tag}"),
        (_, Some(repo)) => format!("{repo}/{name}:{tag}"),
        (_, None) => format!("{name}:{tag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::docker_tag;

    #[test]
    fn docker_tags() {
        assert_eq!(docker_tag(1, "api", None), "api:latest");
        assert_eq!(
            docker_tag(1, "api", Some("example.com/app:v1")),
            "example.com/app:v1"
        );
        assert_eq!(
            docker_tag(1, "api", Some("localhost:5000/app")),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            docker_tag(2, "api", Some("example.com/team:v2")),
            "example.com/team/api:v2"
        );
    }
}
