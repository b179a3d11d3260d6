//! The temporary OCI bundle of one `gopack run`: `RUN_DIR/ID/` holding `rootfs/` and
//! `config.json` (and, when gopack built the image, the layout it wrote), locked by
//! `RUN_DIR/ID.lock` for as long as its gopack lives. Removed, with the runtime's state, when the
//! run ends; a bundle whose lock is free belongs to a gopack that was killed, and the next `run`
//! removes it ([`sweep`]).

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::FileLock;

use super::runtime::Runtime;

/// One bundle directory, removed on [`Bundle::remove`] or drop.
#[derive(Debug)]
pub struct Bundle {
    /// `RUN_DIR/ID`.
    pub dir: PathBuf,
    /// The container id (also the directory's name).
    pub id: String,
    lock_path: PathBuf,
    lock: Option<FileLock>,
    removed: bool,
}

/// A container id from the image's name: `gopack-NAME-PID-NNNN`, safe for runc and crun.
pub fn container_id(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "gopack-{}-{}-{:04x}",
        clean.trim_matches('-'),
        std::process::id(),
        nanos & 0xffff
    )
}

impl Bundle {
    /// Makes `run_dir/ID` (mode 0700) for a container named after `name`, locked.
    pub fn create(run_dir: &Path, name: &str) -> io::Result<Bundle> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(run_dir)?;
        let id = container_id(name);
        let lock_path = run_dir.join(format!("{id}.lock"));
        let lock = FileLock::acquire(&lock_path, Duration::ZERO, &|| {})
            .map_err(|e| io::Error::other(e.to_string()))?;
        let dir = run_dir.join(&id);
        fs::DirBuilder::new().mode(0o700).create(&dir)?;
        fs::DirBuilder::new()
            .mode(0o755)
            .create(dir.join("rootfs"))?;
        Ok(Bundle {
            dir,
            id,
            lock_path,
            lock: Some(lock),
            removed: false,
        })
    }

    /// The root file system directory.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Deletes the container's runtime state (if any) and the bundle directory.
    pub fn remove(&mut self, runtime: Option<&Runtime>) -> io::Result<()> {
        if self.removed {
            return Ok(());
        }
        if let Some(runtime) = runtime {
            runtime.delete(&self.id);
        }
        remove_tree(&self.dir)?;
        let _ = fs::remove_file(&self.lock_path);
        self.lock = None;
        self.removed = true;
        Ok(())
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self.remove(None);
    }
}

/// Removes the bundles in `run_dir` whose gopack is gone (their lock is free), with their
/// runtime state; at most 100 per call. Returns how many were removed.
pub fn sweep(run_dir: &Path, runtime: &Runtime) -> usize {
    let Ok(entries) = fs::read_dir(run_dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten().take(1000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".lock") else {
            continue;
        };
        if removed >= 100 || !id.starts_with("gopack-") {
            continue;
        }
        let Ok(lock) = FileLock::acquire(&entry.path(), Duration::ZERO, &|| {}) else {
            continue; // its gopack is still running
        };
        runtime.kill(id, "KILL");
        runtime.delete(id);
        if remove_tree(&run_dir.join(id)).is_ok() {
            let _ = fs::remove_file(entry.path());
            removed += 1;
        }
        drop(lock);
    }
    removed
}

/// Removes `dir` and everything in it, never following a symlink, making read-only
/// directories (an image's 0555 `/usr`) writable on the way.
pub fn remove_tree(dir: &Path) -> io::Result<()> {
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) => (p, n.to_string_lossy().into_owned()),
        _ => {
            return Err(io::Error::other(format!(
                "will not remove {}",
                dir.display()
            )));
        }
    };
    let parent: OwnedFd = match fs::File::open(if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    }) {
        Ok(f) => f.into(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    super::unpack::remove_at(&parent, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_names() {
        let id = container_id("Hello World/api");
        assert!(id.starts_with("gopack-hello-world-api-"), "{id}");
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn read_only_trees_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("b");
        fs::create_dir_all(tree.join("usr/bin")).unwrap();
        fs::write(tree.join("usr/bin/x"), "x").unwrap();
        std::os::unix::fs::symlink("/etc", tree.join("etc")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tree.join("usr/bin"), fs::Permissions::from_mode(0o555)).unwrap();
        fs::set_permissions(tree.join("usr"), fs::Permissions::from_mode(0o555)).unwrap();
        remove_tree(&tree).unwrap();
        assert!(!tree.exists());
        assert!(Path::new("/etc").exists(), "the symlink was not followed");
        remove_tree(&tree).unwrap();
    }
}
