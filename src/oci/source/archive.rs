//! Random access into a tar file (oci-archive, docker-archive): one pass over the headers,
//! seeking over the data, records where every member is; members are then read in place with
//! positioned reads, so nothing is extracted and threads can read blobs at the same time.
#![warn(missing_docs)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    ImageSource, Limits, SourceError, check_len, open_regular, parse_json, select_in_index,
};
use crate::oci::layer_reader::normalise_path;
use crate::oci::media::LayerCompression;
use crate::oci::tar_reader::{FileType, SeekInput, TarReader};
use crate::oci::{Descriptor, ImageIndex};

/// Where one member of an archive is.
#[derive(Clone, Debug)]
struct Member {
    offset: u64,
    size: u64,
    file_type: FileType,
    link: Option<String>,
}

/// The members of a tar file by normalised path (a later member of the same name wins, as when
/// the archive is extracted).
#[derive(Debug)]
pub(crate) struct ArchiveIndex {
    file: Arc<File>,
    path: PathBuf,
    members: HashMap<String, Member>,
}

impl ArchiveIndex {
    /// Reads the headers of the tar at `path`. A compressed file is refused with the command
    /// that decompresses it.
    pub(crate) fn open(
        path: &Path,
        origin: &str,
        limits: &Limits,
    ) -> Result<ArchiveIndex, SourceError> {
        let (file, len) = open_regular(path, origin)?;
        let io_err = |error| SourceError::Io {
            what: origin.to_string(),
            error,
        };
        let mut head = [0u8; 4];
        let n = file.read_at(&mut head, 0).map_err(io_err)?;
        let compression = LayerCompression::sniff(&head[..n]);
        if compression != LayerCompression::None {
            return Err(SourceError::Invalid {
                origin: origin.to_string(),
                reason: format!(
                    "it is {compression}-compressed; gopack reads archives as plain tar files. \
                     Decompress it first (`{} -dk {}`)",
                    if compression == LayerCompression::Gzip {
                        "gzip"
                    } else {
                        "zstd"
                    },
                    path.display()
                ),
            });
        }
        let mut tar = TarReader::new(SeekInput::new(&file, len), limits.tar);
        let mut members = HashMap::new();
        loop {
            let header = match tar.next_header() {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => {
                    return Err(SourceError::Invalid {
                        origin: origin.to_string(),
                        reason: format!("it is not a readable tar archive: {e}"),
                    });
                }
            };
            if members.len() >= limits.max_archive_members {
                return Err(SourceError::Invalid {
                    origin: origin.to_string(),
                    reason: format!(
                        "it has more than {} members, more than an image archive holds",
                        limits.max_archive_members
                    ),
                });
            }
            let (name, _) = normalise_path(&header.path);
            members.insert(
                name,
                Member {
                    offset: header.data_offset,
                    size: header.data_size,
                    file_type: header.file_type,
                    link: header.link_target,
                },
            );
        }
        Ok(ArchiveIndex {
            file: Arc::new(file),
            path: path.to_path_buf(),
            members,
        })
    }

    /// Whether a member of that path exists.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.members.contains_key(&normalise_path(path).0)
    }

    /// The regular file at `path`, following symlinks and hard links inside the archive (at
    /// most 16). Returns a reader positioned at its data and its size.
    pub(crate) fn open_member(
        &self,
        path: &str,
        what: &str,
    ) -> Result<(MemberReader, u64), SourceError> {
        let (mut name, _) = normalise_path(path);
        for _ in 0..16 {
            let member = self
                .members
                .get(&name)
                .ok_or_else(|| SourceError::Missing {
                    what: what.to_string(),
                    origin: self.path.display().to_string(),
                })?;
            match (member.file_type, &member.link) {
                (FileType::Regular, _) => {
                    let reader = MemberReader {
                        file: self.file.clone(),
                        pos: member.offset,
                        end: member.offset + member.size,
                    };
                    return Ok((reader, member.size));
                }
                (FileType::Hardlink, Some(target)) => name = normalise_path(target).0,
                (FileType::Symlink, Some(target)) => {
                    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                    name = if target.starts_with('/') {
                        normalise_path(target).0
                    } else {
                        normalise_path(&format!("{dir}/{target}")).0
                    };
                }
                (other, _) => {
                    return Err(SourceError::Invalid {
                        origin: self.path.display().to_string(),
                        reason: format!("{what} is a {other} in the archive, not a file"),
                    });
                }
            }
        }
        Err(SourceError::Invalid {
            origin: self.path.display().to_string(),
            reason: format!("{what} is a chain of more than 16 links in the archive"),
        })
    }

    /// A whole member, refused before reading if larger than `limit` bytes.
    pub(crate) fn read_member(
        &self,
        path: &str,
        limit: u64,
        what: &str,
        kind: &'static str,
    ) -> Result<Vec<u8>, SourceError> {
        let (mut reader, size) = self.open_member(path, what)?;
        if size > limit {
            return Err(SourceError::TooLarge {
                what: what.to_string(),
                size,
                limit,
                kind,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut bytes)
            .map_err(|error| SourceError::Io {
                what: what.to_string(),
                error,
            })?;
        Ok(bytes)
    }
}

/// A member's bytes, read with positioned reads on the shared archive file.
pub(crate) struct MemberReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(left.min(usize::MAX as u64) as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive is shorter than its tar headers say",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// `oci-archive:FILE[:TAG]`: an OCI image layout packed in a tar, read in place.
#[derive(Debug)]
pub struct OciArchiveSource {
    archive: ArchiveIndex,
    file: PathBuf,
    tag: Option<String>,
    limits: Limits,
}

impl OciArchiveSource {
    /// Indexes the archive at `file` (one pass over its headers).
    pub fn open(
        file: &Path,
        tag: Option<String>,
        limits: Limits,
    ) -> Result<OciArchiveSource, SourceError> {
        let origin = match &tag {
            Some(t) => format!("oci-archive:{}:{t}", file.display()),
            None => format!("oci-archive:{}", file.display()),
        };
        let archive = ArchiveIndex::open(file, &origin, &limits)?;
        if !archive.contains("index.json") || !archive.contains("oci-layout") {
            return Err(SourceError::Invalid {
                origin,
                reason: "it is a tar but not an OCI layout (no index.json or oci-layout in it); \
                         for `docker save` output use docker-archive:FILE"
                    .into(),
            });
        }
        Ok(OciArchiveSource {
            archive,
            file: file.to_path_buf(),
            tag,
            limits,
        })
    }

    /// The archive's `index.json`.
    pub fn index(&self) -> Result<ImageIndex, SourceError> {
        let what = format!("index.json of {}", self.name());
        let bytes =
            self.archive
                .read_member("index.json", self.limits.max_index, &what, "an index")?;
        parse_json(&bytes, &what, "image index")
    }
}

impl ImageSource for OciArchiveSource {
    fn name(&self) -> String {
        match &self.tag {
            Some(t) => format!("oci-archive:{}:{t}", self.file.display()),
            None => format!("oci-archive:{}", self.file.display()),
        }
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        let how = format!("oci-archive:{}", self.file.display());
        select_in_index(&self.index()?, self.tag.as_deref(), &self.name(), &how)
    }

    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        let what = format!("blob {} of {}", descriptor.digest.short(), self.name());
        let path = format!("blobs/sha256/{}", descriptor.digest.hex());
        let (reader, size) = self.archive.open_member(&path, &what)?;
        check_len(&what, descriptor, size)?;
        Ok(Box::new(reader))
    }
}
