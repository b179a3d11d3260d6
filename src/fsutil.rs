//! Crash-safe file operations shared by the content store and the sinks: temp files that follow
//! the umask and are locked while written (so a later run can tell a live writer's temp file from
//! a dead one's and remove only the latter), fsync-then-rename commits, and lock files.
//!
//! Every temp file gopack creates is named `.gopack-<random>.tmp` and holds an exclusive
//! `flock(2)` for as long as its writer lives. The kernel drops the lock when the process dies,
//! however it dies, so [`remove_stale_temps`] removes exactly the temp files of killed runs.

#![warn(missing_docs)]

use std::fs::{self, File, Permissions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::NamedTempFile;

/// Prefix of every temp file and staging directory gopack creates.
pub const TEMP_PREFIX: &str = ".gopack-";
/// Suffix of every temp file and staging directory gopack creates.
pub const TEMP_SUFFIX: &str = ".tmp";
/// The lock file inside a directory gopack writes (an OCI layout, a staging directory).
pub const LOCK_FILE: &str = ".gopack.lock";

/// The executable file `name` in the first `PATH` directory holding one, as `execvp` finds it
/// (a file that is not executable is passed over); `None` when there is none.
pub fn executable_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Whether `name` is one of gopack's temp files or staging directories.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) && name.len() > 13
}

/// Mode of a new regular file, before the umask: `cp` and `touch` use the same (0666), so the
/// umask alone decides who may read outputs.
const FILE_MODE: u32 = 0o666;
/// Mode of a new directory, before the umask.
const DIR_MODE: u32 = 0o777;

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    // SAFETY: flock on a valid open descriptor has no memory effects.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Takes the exclusive lock without waiting; `Ok(false)` when another process holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    match flock(file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A new temp file in `dir`, mode 0666 minus the umask, locked for as long as it is open.
///
/// A cleaner may remove an unlocked temp file in the instant between its creation and its
/// locking; the link count read after locking tells, and a fresh file is made then.
pub fn temp_file_in(dir: &Path) -> io::Result<NamedTempFile> {
    for _ in 0..8 {
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .permissions(Permissions::from_mode(FILE_MODE))
            .tempfile_in(dir)?;
        flock(temp.as_file(), libc::LOCK_EX)?;
        if temp.as_file().metadata()?.nlink() > 0 {
            return Ok(temp);
        }
    }
    Err(io::Error::other(format!(
        "temp files in {} keep disappearing while being created",
        dir.display()
    )))
}

/// A new staging directory in `dir` (mode 0777 minus the umask), itself locked so that
/// [`remove_stale_temps`] leaves it alone while its writer lives (the lock follows the
/// directory when it is renamed).
pub fn staging_dir_in(dir: &Path) -> io::Result<(tempfile::TempDir, FileLock)> {
    for _ in 0..8 {
        let staging = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .permissions(Permissions::from_mode(DIR_MODE))
            .tempdir_in(dir)?;
        // A cleaner may remove the new directory before it is opened and locked: try again.
        let file = match File::open(staging.path()) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        flock(&file, libc::LOCK_EX)?;
        if file.metadata()?.nlink() > 0 {
            return Ok((staging, FileLock { _file: file }));
        }
    }
    Err(io::Error::other(format!(
        "staging directories in {} keep disappearing while being created",
        dir.display()
    )))
}

/// Flushes `temp` to disk, renames it to `dest` and flushes the directory entry: after this
/// returns, `dest` holds the new bytes even across a power loss; before, it held the old ones.
pub fn commit(temp: NamedTempFile, dest: &Path) -> io::Result<File> {
    temp.as_file().sync_all()?;
    let file = temp.persist(dest).map_err(|e| e.error)?;
    sync_dir(&parent_of(dest))?;
    Ok(file)
}

/// Flushes a directory's entries (new names, renames, removals) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory holding `path` (`.` for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `dir` and its missing parents with mode 0777 minus the umask.
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Whether the current user may create entries in `dir` (`access(2)` with W_OK|X_OK: also
/// false on a read-only file system). Creates nothing.
pub fn dir_is_writable(dir: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    let rc = unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Removes the temp files and staging directories (`.gopack-*.tmp`) in `dir` whose writer is
/// gone: those whose lock can be taken. Returns how many were removed and their bytes. Errors
/// other than "already gone" are returned; a missing `dir` is not one.
pub fn remove_stale_temps(dir: &Path) -> io::Result<(usize, u64)> {
    remove_stale(dir, is_temp_name)
}

/// Like [`remove_stale_temps`], for a directory where every file is a temp file (the store's
/// `tmp/`), whatever its name.
pub fn remove_stale_files(dir: &Path) -> io::Result<(usize, u64)> {
    remove_stale(dir, |_| true)
}

fn remove_stale(dir: &Path, matches: impl Fn(&str) -> bool) -> io::Result<(usize, u64)> {
    // A symbolic link in place of the directory leads outside it: nothing there is ours.
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok((0, 0));
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e),
    };
    let (mut count, mut bytes) = (0, 0);
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !matches(&name.to_string_lossy()) || name == LOCK_FILE {
            continue;
        }
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let removed = if meta.is_dir() || meta.is_file() {
            remove_if_unlocked(&path, meta.is_dir())?
        } else {
            false
        };
        if removed {
            count += 1;
            bytes += meta.len();
        }
    }
    Ok((count, bytes))
}

/// Removes a temp file or staging directory whose lock nobody holds. A writer that locks its
/// new temp just after this removed it sees a link count of 0 and makes another.
fn remove_if_unlocked(path: &Path, is_dir: bool) -> io::Result<bool> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if !try_lock(&file)? {
        return Ok(false);
    }
    if is_dir {
        ignore_missing(fs::remove_dir_all(path))?;
    } else {
        ignore_missing(fs::remove_file(path))?;
    }
    Ok(true)
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// An exclusive `flock(2)` on a lock file, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be created or locked.
    #[error("cannot lock {}: {error}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// Another process held the lock for the whole wait.
    #[error(
        "another gopack process has held {} for {waited:?}; wait for it to finish (a lock is \
         released when its process exits, so a lock held this long belongs to a running process)",
        .path.display()
    )]
    Timeout {
        /// The lock file.
        path: PathBuf,
        /// How long gopack waited.
        waited: Duration,
    },
}

impl FileLock {
    /// Locks `path` (created, mode 0666 minus the umask, when missing), waiting at most
    /// `timeout` for another holder; `waiting` is called once if the lock is busy.
    pub fn acquire(
        path: &Path,
        timeout: Duration,
        waiting: &dyn Fn(),
    ) -> Result<FileLock, LockError> {
        let io_err = |error| LockError::Io {
            path: path.to_path_buf(),
            error,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            if try_lock(&file).map_err(io_err)? {
                return Ok(FileLock { _file: file });
            }
            if start.elapsed() >= timeout {
                return Err(LockError::Timeout {
                    path: path.to_path_buf(),
                    waited: start.elapsed(),
                });
            }
            if !told {
                waiting();
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The process umask, read from `/proc/self/status` (reading it with `umask(2)` would change
/// it for a moment under other threads). `None` where the kernel does not report it.
pub fn umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
}

/// The mode a new regular file gets under the current umask (what `cp` gives a 0666 file).
pub fn new_file_mode() -> Option<u32> {
    umask().map(|m| FILE_MODE & !m)
}

/// Sets a file's mode to what a newly created file would get under the current umask.
pub fn follow_umask(file: &File) -> io::Result<()> {
    match new_file_mode() {
        Some(mode) => file.set_permissions(Permissions::from_mode(mode)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".gopack-abc123.tmp"));
        assert!(!is_temp_name(".gopack-.tmp"));
        assert!(!is_temp_name("gopack-abc.tmp"));
        assert!(!is_temp_name(LOCK_FILE));
    }

    #[test]
    fn only_temps_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let live = temp_file_in(dir.path()).unwrap();
        let dead = dir.path().join(".gopack-dead01.tmp");
        fs::write(&dead, b"half").unwrap();
        fs::write(dir.path().join("keep.txt"), b"mine").unwrap();
        let (staging, _lock) = staging_dir_in(dir.path()).unwrap();
        let (n, bytes) = remove_stale_temps(dir.path()).unwrap();
        assert_eq!((n, bytes), (1, 4));
        assert!(live.path().exists() && staging.path().exists());
        assert!(!dead.exists() && dir.path().join("keep.txt").exists());
    }

    #[test]
    fn a_lock_is_exclusive_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let held = FileLock::acquire(&path, Duration::ZERO, &|| {}).unwrap();
        let waited = std::cell::Cell::new(false);
        let err =
            FileLock::acquire(&path, Duration::from_millis(120), &|| waited.set(true)).unwrap_err();
        assert!(matches!(err, LockError::Timeout { .. }) && waited.get());
        drop(held);
        FileLock::acquire(&path, Duration::ZERO, &|| {}).unwrap();
    }

    #[test]
    fn new_files_follow_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let temp = temp_file_in(dir.path()).unwrap();
        let mode = temp.as_file().metadata().unwrap().mode() & 0o777;
        assert_eq!(Some(mode), new_file_mode());
    }
}
