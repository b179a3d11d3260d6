//! An image's layers applied to a directory, the container's root file system: each layer read
//! in one verified streaming pass ([`crate::oci::LayerReader`], diff_id checked), whiteouts and
//! opaque directories applied (image-spec `layer.md`), every path resolved *inside* the root by
//! the kernel (`openat2` with `RESOLVE_IN_ROOT`), so a symlink in the image (`etc -> /`) can
//! never make a later member land outside it.
//!
//! As root, owners and set-id bits are kept as the image says. As a normal user every file is
//! the user's own (the runtime maps that user to the image's user inside a user namespace).
//! Device nodes are skipped (the runtime makes `/dev`); extended attributes are not copied.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};

use crate::oci::{
    Descriptor, FileType, Image, ImageSource, LayerReadError, Limits, Whiteout, open_layer,
};

/// What unpacking found worth telling.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnpackReport {
    /// Layers applied.
    pub layers: usize,
    /// Members written (files, directories, links).
    pub entries: u64,
    /// Device nodes in the image that were not created (the runtime provides `/dev`).
    pub skipped_devices: u64,
}

/// Why the root file system could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// A layer could not be read (or was not what its digests say).
    #[error("layer {layer} of {origin}: {source}")]
    Layer {
        /// The layer's short digest.
        layer: String,
        /// The image, as named.
        origin: String,
        /// Why.
        source: Box<LayerReadError>,
    },
    /// Writing into the root file system failed.
    #[error("cannot unpack /{path} into {}: {error}", .root.display())]
    Write {
        /// The member's path in the image.
        path: String,
        /// The root directory.
        root: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// A member gopack does not unpack.
    #[error("cannot unpack /{path}: {reason}")]
    Unsupported {
        /// The member's path in the image.
        path: String,
        /// Why.
        reason: String,
    },
    /// The kernel cannot resolve paths inside a root (Linux before 5.6).
    #[error(
        "this kernel has no openat2(2) (Linux 5.6+), which gopack needs to unpack an image \
         safely; run the image with `umoci unpack` and runc by hand, or upgrade the kernel"
    )]
    NoOpenat2,
}

/// A directory being filled with an image's layers.
struct Root {
    dir: PathBuf,
    fd: OwnedFd,
    /// Whether owners are set (only root may give files away).
    chown: bool,
    /// Directories' modes from the image, applied last (children must be creatable first).
    dir_modes: Vec<(String, u32)>,
    /// Paths written by the layer being applied (an opaque whiteout keeps those).
    this_layer: HashSet<String>,
}

/// Applies `image`'s layers, read from `source`, to the empty directory `dir`. `chown`: keep
/// the image's owners (only as root).
pub fn unpack(
    source: &dyn ImageSource,
    image: &Image,
    dir: &Path,
    chown: bool,
    limits: &Limits,
) -> Result<UnpackReport, UnpackError> {
    let write_err = |error: io::Error| UnpackError::Write {
        path: String::new(),
        root: dir.to_path_buf(),
        error,
    };
    let fd: OwnedFd = File::open(dir).map_err(write_err)?.into();
    let mut root = Root {
        dir: dir.to_path_buf(),
        fd,
        chown,
        dir_modes: Vec::new(),
        this_layer: HashSet::new(),
    };
    if let Err(e) = root.resolve("", OFlags::DIRECTORY | OFlags::PATH) {
        return Err(match e.raw_os_error() {
            Some(libc::ENOSYS) => UnpackError::NoOpenat2,
            _ => write_err(e),
        });
    }
    let mut report = UnpackReport::default();
    for (i, layer) in image.manifest.layers.iter().enumerate() {
        let diff_id = image.config.rootfs.diff_ids.get(i);
        root.apply_layer(source, layer, diff_id, limits, &mut report)?;
        report.layers += 1;
    }
    root.finish_dirs()?;
    Ok(report)
}

impl Root {
    fn apply_layer(
        &mut self,
        source: &dyn ImageSource,
        layer: &Descriptor,
        diff_id: Option<&crate::oci::Digest>,
        limits: &Limits,
        report: &mut UnpackReport,
    ) -> Result<(), UnpackError> {
        let layer_err = |source_err: LayerReadError| UnpackError::Layer {
            layer: layer.digest.short().to_string(),
            origin: source.name(),
            source: Box::new(source_err),
        };
        self.this_layer.clear();
        let mut reader = open_layer(source, layer, limits.tar).map_err(layer_err)?;
        while let Some(mut entry) = reader.next_entry().map_err(layer_err)? {
            let meta = entry.meta().clone();
            if let Some(whiteout) = meta.whiteout() {
                self.whiteout(&whiteout)?;
                continue;
            }
            if meta.path.is_empty() {
                continue; // the root itself
            }
            match meta.file_type {
                FileType::CharDevice | FileType::BlockDevice => {
                    report.skipped_devices += 1;
                    continue;
                }
                FileType::Sparse | FileType::Other(_) => {
                    return Err(UnsupportedMember::of(&meta.path, meta.file_type));
                }
                _ => {}
            }
            self.member(&meta, &mut entry)?;
            self.this_layer.insert(meta.path.clone());
            report.entries += 1;
        }
        reader.finish(diff_id).map_err(layer_err)?;
        Ok(())
    }

    /// Writes one member (not a whiteout, not a device).
    fn member(
        &mut self,
        meta: &crate::oci::EntryMeta,
        content: &mut dyn Read,
    ) -> Result<(), UnpackError> {
        let root_dir = self.dir.clone();
        let err = |error: io::Error| UnpackError::Write {
            path: meta.path.clone(),
            root: root_dir.clone(),
            error,
        };
        let (parent, name) = self.parent_of(&meta.path).map_err(err)?;
        let existing = rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW).ok();
        let is_dir = |st: &rustix::fs::Stat| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
        };
        if meta.file_type == FileType::Directory {
            match &existing {
                Some(st) if is_dir(st) => {}
                Some(_) => {
                    remove_at(&parent, name).map_err(err)?;
                    mkdir(&parent, name).map_err(err)?;
                }
                None => mkdir(&parent, name).map_err(err)?,
            }
            self.dir_modes.push((meta.path.clone(), meta.mode));
            return self.owner(&parent, name, meta).map_err(err);
        }
        if existing.is_some() {
            remove_at(&parent, name).map_err(err)?;
        }
        match meta.file_type {
            FileType::Regular => self
                .regular_file(&parent, name, meta, content)
                .map_err(err)?,
            FileType::Symlink => {
                let target = meta.link_target.as_deref().unwrap_or("");
                rustix::fs::symlinkat(target, &parent, name).map_err(|e| err(e.into()))?;
                self.owner(&parent, name, meta).map_err(err)?;
            }
            FileType::Hardlink => self.hard_link(&parent, name, meta).map_err(err)?,
            FileType::Fifo => {
                rustix::fs::mknodat(
                    &parent,
                    name,
                    rustix::fs::FileType::Fifo,
                    Mode::from_raw_mode(meta.mode & 0o777),
                    0,
                )
                .map_err(|e| err(e.into()))?;
                self.owner(&parent, name, meta).map_err(err)?;
            }
            _ => unreachable!("devices, sparse files and other types are handled by the caller"),
        }
        Ok(())
    }

    /// A regular file `name` in `parent` with `content`, owner (when chowning) and mode.
    fn regular_file(
        &self,
        parent: &OwnedFd,
        name: &str,
        meta: &crate::oci::EntryMeta,
        content: &mut dyn Read,
    ) -> io::Result<()> {
        let fd = rustix::fs::openat(
            parent,
            name,
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let mut file = File::from(fd);
        io::copy(content, &mut file)?;
        if self.chown {
            rustix::fs::fchown(&file, uid(meta.uid), gid(meta.gid))?;
        }
        // After chown, which clears set-id bits.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(meta.mode & 0o7777))?;
        Ok(())
    }

    /// A hard link `name` in `parent` to the member's target, resolved inside the root.
    fn hard_link(
        &self,
        parent: &OwnedFd,
        name: &str,
        meta: &crate::oci::EntryMeta,
    ) -> io::Result<()> {
        let target = meta.link_target.as_deref().unwrap_or("");
        let fd = self
            .resolve(target, OFlags::PATH | OFlags::NOFOLLOW)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("its hard-link target /{target} is not there ({e})"),
                )
            })?;
        let proc_path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        rustix::fs::linkat(
            rustix::fs::CWD,
            proc_path.as_str(),
            parent,
            name,
            AtFlags::SYMLINK_FOLLOW,
        )?;
        Ok(())
    }

    fn owner(&self, parent: &OwnedFd, name: &str, meta: &crate::oci::EntryMeta) -> io::Result<()> {
        if !self.chown {
            return Ok(());
        }
        rustix::fs::chownat(
            parent,
            name,
            uid(meta.uid),
            gid(meta.gid),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(io::Error::from)
    }

    fn whiteout(&mut self, whiteout: &Whiteout) -> Result<(), UnpackError> {
        let (path, opaque) = match whiteout {
            Whiteout::Remove(p) => (p.as_str(), false),
            Whiteout::Opaque(p) => (p.as_str(), true),
            Whiteout::Meta => return Ok(()),
        };
        let err = |error: io::Error| UnpackError::Write {
            path: path.to_string(),
            root: self.dir.clone(),
            error,
        };
        if !opaque {
            let (parent, name) = match self.existing_parent_of(path) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(e) => return Err(err(e)),
            };
            return remove_at(&parent, &name).map_err(err);
        }
        let dir = match self.resolve(path, OFlags::DIRECTORY | OFlags::RDONLY) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(err(e)),
        };
        let names: Vec<String> = rustix::fs::Dir::read_from(&dir)
            .map_err(|e| err(e.into()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        for name in names {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            if !self.this_layer.contains(&child) {
                remove_at(&dir, &name).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Opens `path` (relative to the root) resolved inside the root.
    fn resolve(&self, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
        let path = if path.is_empty() { "." } else { path };
        rustix::fs::openat2(
            &self.fd,
            path,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
        .map_err(io::Error::from)
    }

    /// The parent directory of `path` (created, with any missing ancestors, mode 0755) and the
    /// last component.
    fn parent_of<'p>(&mut self, path: &'p str) -> io::Result<(OwnedFd, &'p str)> {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        match self.resolve(parent, OFlags::DIRECTORY | OFlags::PATH) {
            Ok(fd) => return Ok((fd, name)),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let mut done = String::new();
        for part in parent.split('/') {
            let at = self.resolve(&done, OFlags::DIRECTORY | OFlags::PATH)?;
            match mkdir(&at, part) {
                Ok(()) => self.dir_modes.push((join(&done, part), 0o755)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            done = join(&done, part);
        }
        Ok((
            self.resolve(parent, OFlags::DIRECTORY | OFlags::PATH)?,
            name,
        ))
    }

    /// Like [`Root::parent_of`], but `None` when the parent does not exist (nothing to delete).
    fn existing_parent_of(&self, path: &str) -> io::Result<Option<(OwnedFd, String)>> {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        match self.resolve(parent, OFlags::DIRECTORY | OFlags::PATH) {
            Ok(fd) => Ok(Some((fd, name.to_string()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets every directory's own mode, deepest first (a read-only directory is finished after
    /// everything below it).
    fn finish_dirs(&mut self) -> Result<(), UnpackError> {
        // The last mode given for a path wins (a later layer's directory entry).
        let mut last: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for (path, mode) in std::mem::take(&mut self.dir_modes) {
            last.insert(path, mode);
        }
        let mut paths: Vec<(String, u32)> = last.into_iter().collect();
        paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
        for (path, mode) in paths {
            let Ok(fd) = self.resolve(&path, OFlags::DIRECTORY | OFlags::RDONLY) else {
                continue; // removed by a later whiteout
            };
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777)).map_err(|e| {
                UnpackError::Write {
                    path,
                    root: self.dir.clone(),
                    error: e.into(),
                }
            })?;
        }
        Ok(())
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// A directory gopack can fill (owner rwx) until [`Root::finish_dirs`] sets its mode.
fn mkdir(parent: &impl AsFd, name: &str) -> io::Result<()> {
    rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)).map_err(io::Error::from)
}

/// Removes `name` in `parent`: a file or link, or a directory with everything in it (never
/// following a symlink).
pub(super) fn remove_at(parent: &OwnedFd, name: &str) -> io::Result<()> {
    match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) => return Ok(()),
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(rustix::io::Errno::ISDIR) | Err(rustix::io::Errno::PERM) => {}
        Err(e) => return Err(e.into()),
    }
    let dir = rustix::fs::openat(
        parent,
        name,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    // A directory the image made read-only must become writable to be emptied.
    let _ = rustix::fs::fchmod(&dir, Mode::from_raw_mode(0o700));
    let names: Vec<String> = rustix::fs::Dir::read_from(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    for child in names {
        remove_at(&dir, &child)?;
    }
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR).map_err(io::Error::from)
}

fn uid(id: u64) -> Option<rustix::fs::Uid> {
    u32::try_from(id).ok().map(rustix::fs::Uid::from_raw)
}

fn gid(id: u64) -> Option<rustix::fs::Gid> {
    u32::try_from(id).ok().map(rustix::fs::Gid::from_raw)
}

struct UnsupportedMember;

impl UnsupportedMember {
    fn of(path: &str, kind: FileType) -> UnpackError {
        UnpackError::Unsupported {
            path: path.to_string(),
            reason: format!("it is a {kind}, which gopack run does not unpack"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::testing::{Member, image_of, tar_of};
    use crate::oci::{BlobStore, StoreBlobs};

    fn unpack_layers(layers: &[Vec<u8>]) -> (tempfile::TempDir, Result<UnpackReport, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("store")).unwrap();
        let image = image_of(&store, layers);
        let root = dir.path().join("rootfs");
        std::fs::create_dir(&root).unwrap();
        let result = unpack(
            &StoreBlobs(&store),
            &image,
            &root,
            false,
            &Limits::default(),
        );
        (dir, result)
    }

    fn read(dir: &tempfile::TempDir, path: &str) -> Option<String> {
        std::fs::read_to_string(dir.path().join("rootfs").join(path)).ok()
    }

    #[test]
    fn layers_stack_with_whiteouts_links_and_opaque_directories() {
        let lower = tar_of(&[
            Member::Dir("etc/"),
            Member::File("etc/app.conf", b"old"),
            Member::File("etc/gone", b"x"),
            Member::Dir("data/"),
            Member::File("data/a", b"a"),
            Member::File("data/b", b"b"),
            Member::File("usr/bin/tool", b"tool"), // parents not listed
        ]);
        let upper = tar_of(&[
            Member::File("etc/app.conf", b"new"),
            Member::File("etc/.wh.gone", b""),
            Member::File("data/c", b"c"),
            Member::File("data/.wh..wh..opq", b""),
            Member::Symlink("etc/link", "app.conf"),
            Member::Hardlink("usr/bin/tool2", "usr/bin/tool"),
        ]);
        let (dir, result) = unpack_layers(&[lower, upper]);
        let report = result.unwrap();
        assert_eq!(report.layers, 2);
        assert_eq!(read(&dir, "etc/app.conf").as_deref(), Some("new"));
        assert_eq!(read(&dir, "etc/gone"), None);
        assert_eq!(read(&dir, "data/a"), None, "hidden by the opaque whiteout");
        assert_eq!(
            read(&dir, "data/c").as_deref(),
            Some("c"),
            "same layer: kept"
        );
        assert_eq!(read(&dir, "etc/link").as_deref(), Some("new"));
        assert_eq!(read(&dir, "usr/bin/tool2").as_deref(), Some("tool"));
        use std::os::unix::fs::MetadataExt;
        let a = std::fs::metadata(dir.path().join("rootfs/usr/bin/tool")).unwrap();
        let b = std::fs::metadata(dir.path().join("rootfs/usr/bin/tool2")).unwrap();
        assert_eq!(a.ino(), b.ino());
    }

    #[test]
    fn symlinks_in_the_image_never_lead_writes_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let abs = outside.path().to_str().unwrap().to_string();
        let layer = tar_of(&[
            Member::Symlink("etc", "/"),
            Member::File("etc/pwned", b"1"),
            Member::Symlink("up", "../../../../../../.."),
            Member::File("up/pwned2", b"2"),
            Member::Symlink("abs", &abs),
        ]);
        let upper = tar_of(&[Member::File("abs/pwned3", b"3")]);
        let (dir, result) = unpack_layers(&[layer, upper]);
        // Each lands inside the root (or is refused); nothing appears outside it.
        let _ = result;
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        assert_eq!(read(&dir, "pwned").as_deref(), Some("1"));
        assert_eq!(read(&dir, "pwned2").as_deref(), Some("2"));
    }

    #[test]
    fn a_layer_that_is_not_what_its_diff_id_says_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("store")).unwrap();
        let mut image = image_of(&store, &[tar_of(&[Member::File("a", b"a")])]);
        image.config.rootfs.diff_ids[0] = crate::oci::Digest::of(b"something else");
        let root = dir.path().join("rootfs");
        std::fs::create_dir(&root).unwrap();
        let err = unpack(
            &StoreBlobs(&store),
            &image,
            &root,
            false,
            &Limits::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("diff_id"), "{err}");
    }
}
