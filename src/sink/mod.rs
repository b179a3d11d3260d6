//! Where images go: an OCI layout directory, an oci-archive, a docker-archive (and, through the
//! registry module, a registry). Every file or directory appears whole or not at all: outputs are
//! assembled under a temp name next to the destination and renamed into place, so a failure
//! never leaves a half-written output and never clobbers a good previous one.

mod archive;
mod layout;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::oci::{BlobStore, Descriptor, Digest, Image, MEDIA_TYPE_INDEX};

pub use archive::{write_docker_archive, write_oci_archive};
pub use layout::{read_layout_index, write_oci_layout};

/// An `--output` destination, in skopeo's transport syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    /// `oci:DIR[:TAG]`
    OciLayout { dir: PathBuf, tag: Option<String> },
    /// `oci-archive:FILE[:TAG]`
    OciArchive { file: PathBuf, tag: Option<String> },
    /// `docker-archive:FILE[:REF]`, loadable with `docker load`.
    DockerArchive {
        file: PathBuf,
        reference: Option<String>,
    },
    /// `docker://REF`: push to a registry.
    Registry { reference: String },
}

pub const DEFAULT_OUTPUT: &str = "oci:gopack-out";

impl FromStr for OutputTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<OutputTarget, String> {
        let (transport, rest) = s.split_once(':').ok_or_else(|| {
            format!("output `{s}` names no transport: use oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF] or docker://REF")
        })?;
        let split = |rest: &str| -> (PathBuf, Option<String>) {
            match rest.split_once(':') {
                Some((path, tag)) if !tag.is_empty() => {
                    (PathBuf::from(path), Some(tag.to_string()))
                }
                _ => (PathBuf::from(rest.trim_end_matches(':')), None),
            }
        };
        let target = match transport {
            "oci" => {
                let (dir, tag) = split(rest);
                OutputTarget::OciLayout { dir, tag }
            }
            "oci-archive" => {
                let (file, tag) = split(rest);
                OutputTarget::OciArchive { file, tag }
            }
            "docker-archive" => {
                let (file, reference) = split(rest);
                OutputTarget::DockerArchive { file, reference }
            }
            "docker" => {
                let reference = rest
                    .strip_prefix("//")
                    .ok_or("registry outputs are written docker://REGISTRY/REPO[:TAG]")?;
                OutputTarget::Registry {
                    reference: reference.to_string(),
                }
            }
            other => {
                return Err(format!(
                    "unknown output transport `{other}`: use oci, oci-archive, docker-archive or docker"
                ));
            }
        };
        if let OutputTarget::OciLayout { dir: p, .. }
        | OutputTarget::OciArchive { file: p, .. }
        | OutputTarget::DockerArchive { file: p, .. } = &target
            && p.as_os_str().is_empty()
        {
            return Err(format!("output `{s}` has no path"));
        }
        Ok(target)
    }
}

impl fmt::Display for OutputTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |t: &Option<String>| t.as_ref().map(|t| format!(":{t}")).unwrap_or_default();
        match self {
            OutputTarget::OciLayout { dir, tag } => write!(f, "oci:{}{}", dir.display(), opt(tag)),
            OutputTarget::OciArchive { file, tag } => {
                write!(f, "oci-archive:{}{}", file.display(), opt(tag))
            }
            OutputTarget::DockerArchive { file, reference } => {
                write!(f, "docker-archive:{}{}", file.display(), opt(reference))
            }
            OutputTarget::Registry { reference } => write!(f, "docker://{reference}"),
        }
    }
}

/// The images built for one binary: one per platform, and the index over them when there are
/// several platforms (or always, when the caller wants one).
#[derive(Clone, Debug)]
pub struct ImageSet {
    /// The binary name; names the image in outputs holding several.
    pub name: String,
    pub images: Vec<Image>,
    pub index: Option<IndexBlob>,
}

#[derive(Clone, Debug)]
pub struct IndexBlob {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    /// OCI index, or a Docker manifest list kept as a registry sent it.
    pub media_type: String,
}

impl IndexBlob {
    pub fn oci(bytes: Vec<u8>, digest: Digest) -> IndexBlob {
        IndexBlob {
            bytes,
            digest,
            media_type: MEDIA_TYPE_INDEX.into(),
        }
    }
}

impl ImageSet {
    /// The top-level descriptor: the index when there is one, else the single manifest.
    pub fn top_descriptor(&self) -> Descriptor {
        match &self.index {
            Some(index) => Descriptor::new(
                &index.media_type,
                index.digest.clone(),
                index.bytes.len() as u64,
            ),
            None => {
                let mut d = self.images[0].descriptor();
                d.platform = None;
                d
            }
        }
    }

    /// Every blob an output of this set must contain, each once.
    pub fn blobs(&self) -> Vec<Digest> {
        let mut out = Vec::new();
        if let Some(index) = &self.index {
            out.push(index.digest.clone());
        }
        for image in &self.images {
            out.push(image.manifest_digest.clone());
            out.push(image.config_descriptor.digest.clone());
            out.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
        }
        out
    }
}

/// How each image set is named inside a layout or archive: the tag when one image set is
/// written, else `<binary>` or `<binary>-<tag>`.
pub fn ref_names(sets: &[ImageSet], tag: Option<&str>) -> Vec<String> {
    if sets.len() == 1 {
        return vec![tag.unwrap_or("latest").to_string()];
    }
    sets.iter()
        .map(|s| match tag {
            Some(t) => format!("{}-{t}", s.name),
            None => s.name.clone(),
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0} exists and is not an OCI image layout; gopack will not replace it. Choose another \
         --output, or remove it first"
    )]
    NotALayout(PathBuf),
    #[error(
        "docker-archive holds one platform per image, and {platforms} were built. Build one \
         platform (--platform linux/amd64) for `docker load`, or use --output oci-archive:FILE \
         for a multi-platform archive"
    )]
    DockerArchiveMultiPlatform { platforms: usize },
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes image sets to a file-based target. Registry targets go through the registry module.
pub fn write(store: &BlobStore, target: &OutputTarget, sets: &[ImageSet]) -> Result<(), SinkError> {
    match target {
        OutputTarget::OciLayout { dir, tag } => write_oci_layout(store, dir, sets, tag.as_deref()),
        OutputTarget::OciArchive { file, tag } => {
            write_oci_archive(store, file, sets, tag.as_deref())
        }
        OutputTarget::DockerArchive { file, reference } => {
            write_docker_archive(store, file, sets, reference.as_deref())
        }
        OutputTarget::Registry { .. } => {
            unreachable!("registry outputs are pushed by the registry module")
        }
    }
}

/// Checks what can be checked before any build starts, so a bad output fails in a second, not
/// after a long build.
pub fn preflight(target: &OutputTarget, platforms: usize) -> Result<(), SinkError> {
    match target {
        OutputTarget::DockerArchive { .. } if platforms > 1 => {
            Err(SinkError::DockerArchiveMultiPlatform { platforms })
        }
        OutputTarget::OciLayout { dir, .. } => {
            if !layout::is_replaceable(dir) {
                return Err(SinkError::NotALayout(dir.clone()));
            }
            check_parent_writable(dir)
        }
        OutputTarget::OciArchive { file, .. } | OutputTarget::DockerArchive { file, .. } => {
            check_parent_writable(file)
        }
        OutputTarget::Registry { .. } => Ok(()),
    }
}

fn check_parent_writable(path: &Path) -> Result<(), SinkError> {
    let parent = parent_dir(path);
    tempfile::Builder::new()
        .prefix(".gopack-probe")
        .tempfile_in(&parent)
        .map(drop)
        .map_err(io_err(&parent))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_skopeo_style_outputs() {
        assert_eq!(
            "oci:out:v1".parse::<OutputTarget>().unwrap(),
            OutputTarget::OciLayout {
                dir: "out".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            "docker-archive:app.tar:example.com/app:v1"
                .parse::<OutputTarget>()
                .unwrap(),
            OutputTarget::DockerArchive {
                file: "app.tar".into(),
                reference: Some("example.com/app:v1".into())
            }
        );
        assert_eq!(
            "docker://localhost:5000/app:dev"
                .parse::<OutputTarget>()
                .unwrap(),
            OutputTarget::Registry {
                reference: "localhost:5000/app:dev".into()
            }
        );
        assert!(
            "tarball:x"
                .parse::<OutputTarget>()
                .unwrap_err()
                .contains("unknown output transport")
        );
        assert!(
            "oci:"
                .parse::<OutputTarget>()
                .unwrap_err()
                .contains("no path")
        );
        assert!("justapath".parse::<OutputTarget>().is_err());
    }

    #[test]
    fn an_empty_directory_may_become_a_layout_but_a_full_one_may_not() {
        let dir = tempfile::tempdir().unwrap();
        let target = OutputTarget::OciLayout {
            dir: dir.path().to_path_buf(),
            tag: None,
        };
        assert!(preflight(&target, 1).is_ok());
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            preflight(&target, 1),
            Err(SinkError::NotALayout(_))
        ));
    }

    #[test]
    fn docker_archive_refuses_several_platforms_up_front() {
        let t: OutputTarget = "docker-archive:x.tar".parse().unwrap();
        assert!(matches!(
            preflight(&t, 2),
            Err(SinkError::DockerArchiveMultiPlatform { platforms: 2 })
        ));
    }
}
