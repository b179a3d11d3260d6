//! Reading the files lint looks at, safely: every read is bounded in size, files gopack finds by
//! itself (`DIR/Dockerfile`, `.dockerignore`, `gopack.toml`) must be regular files, and a
//! symbolic link whose target leaves the build context is not followed. Text that lint echoes
//! back (snippets, parse-error excerpts) goes through [`sanitize`] / [`excerpt`], so a file that
//! is not a Dockerfile (a key, `/etc/shadow`) is never printed beyond a short, escaped excerpt.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest Dockerfile gopack reads (BuildKit files are kilobytes; 4 MiB is generous).
pub const MAX_DOCKERFILE_BYTES: u64 = 4 << 20;
/// The largest `.dockerignore` or `gopack.toml` gopack reads.
pub const MAX_SIDE_FILE_BYTES: u64 = 1 << 20;

/// How a file came to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The user named it on the command line: any readable file, device or FIFO (bounded).
    Named,
    /// gopack found it (a directory's Dockerfile, `.dockerignore`, `gopack.toml`): regular
    /// files only.
    Found,
}

/// Why a Dockerfile, `.dockerignore` or config file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Nothing at that path.
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    /// A found file is a symlink that resolves outside the build context.
    #[error(
        "{path} is a symbolic link to a file outside the build context {context}: gopack does not follow it (lint the target itself if you mean it)"
    )]
    LeavesContext {
        /// The symlink.
        path: PathBuf,
        /// The build context directory it must stay in.
        context: PathBuf,
    },
    /// A found file is a FIFO, device, socket or directory.
    #[error(
        "{0} is not a regular file: gopack reads FIFOs and devices only when named on the command line"
    )]
    NotRegular(PathBuf),
    /// The file is larger than gopack reads for its kind.
    #[error("{path} is larger than {limit} bytes: not a file gopack reads")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The most bytes read for a file of its kind.
        limit: u64,
    },
    /// Opening or reading failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The read's error.
        source: std::io::Error,
    },
}

/// Reads `path` as text (bytes that are not UTF-8 are replaced, so the parser reports them).
/// `context` is the build context: a symlink at `path` must resolve inside it.
pub fn read_text(
    path: &Path,
    origin: Origin,
    context: &Path,
    limit: u64,
) -> Result<String, ReadError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound(path.to_path_buf())
        } else {
            ReadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(io)?;
        let ctx = std::fs::canonicalize(context).unwrap_or_else(|_| context.to_path_buf());
        if !target.starts_with(&ctx) {
            return Err(ReadError::LeavesContext {
                path: path.to_path_buf(),
                context: ctx,
            });
        }
    }
    let file = open_nonblocking(path).map_err(io)?;
    let is_file = file.metadata().map_err(io)?.is_file();
    if !is_file && origin == Origin::Found {
        return Err(ReadError::NotRegular(path.to_path_buf()));
    }
    read_bounded(file, limit).map_err(|e| match e {
        Bounded::TooLarge => ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        },
        Bounded::Io(source) => io(source),
    })
}

/// Opens without blocking on a FIFO that has no writer (it then reads as empty), and reads
/// blocking from then on.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; F_GETFL/F_SETFL take and return plain flags.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Reads standard input, bounded.
pub fn read_stdin(limit: u64) -> Result<String, ReadError> {
    read_bounded(std::io::stdin().lock(), limit).map_err(|e| match e {
        Bounded::TooLarge => ReadError::TooLarge {
            path: "standard input".into(),
            limit,
        },
        Bounded::Io(source) => ReadError::Io {
            path: "standard input".into(),
            source,
        },
    })
}

enum Bounded {
    TooLarge,
    Io(std::io::Error),
}

fn read_bounded(r: impl Read, limit: u64) -> Result<String, Bounded> {
    let mut buf = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(Bounded::Io)?;
    if buf.len() as u64 > limit {
        return Err(Bounded::TooLarge);
    }
    Ok(String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Replaces control characters (C0 but newline and tab, DEL, C1) with `?` of the same byte
/// length, so byte spans into the text stay valid and nothing reaches a terminal as a command.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}' {
            for _ in 0..c.len_utf8() {
                out.push('?');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `s`, control characters escaped, `…` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_byte_offsets() {
        let s = "a\u{1b}[2Jb\u{85}c\n";
        let t = sanitize(s);
        assert_eq!(s.len(), t.len());
        assert!(!t.contains('\u{1b}') && t.ends_with("c\n"));
        assert_eq!(excerpt("root:x:0:0:root:/root:/bin/bash", 8), "root:x:0…");
        assert_eq!(excerpt("\u{1b}[31m", 10), "\\u{1b}[31m");
    }

    #[test]
    fn bounded_read_stops_at_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let err = read_text(Path::new("/dev/zero"), Origin::Named, tmp.path(), 1024).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        let err = read_text(Path::new("/dev/zero"), Origin::Found, tmp.path(), 1024).unwrap_err();
        assert!(matches!(err, ReadError::NotRegular(_)), "{err}");
    }
}
