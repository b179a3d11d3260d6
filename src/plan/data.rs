//! `--data DIR[:DEST]`: the static files an image carries, read before anything is built so a
//! bad directory stops the build at once. Files keep only their executable bit (0755, else
//! 0644), directories are 0755, everything is owned by root (uid/gid 0) and dated like the
//! other app layers; `--writable` gives directories to the run user. Symlinks inside the
//! directory stay symlinks; one that would point nowhere in the image (it leaves the directory,
//! dangles, or loops) is refused with the list, or, with `--data-symlinks follow`, replaced by
//! a copy of what it points to when that exists.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::oci::{EntryKind, LayerEntry};

/// Where `--data DIR` goes when no destination is given.
pub const DEFAULT_DATA_DEST: &str = "/data";

/// Links in a followed tree deeper than this are refused as loops.
const MAX_FOLLOW_DEPTH: usize = 16;

/// `--data DIR[:DEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    /// The directory on this machine.
    pub source: PathBuf,
    /// The absolute directory in the image.
    pub dest: String,
}

impl std::str::FromStr for DataDir {
    type Err = String;
    fn from_str(s: &str) -> Result<DataDir, String> {
        let (source, dest) = match s.split_once(':') {
            Some((src, dest)) => (src, dest.to_string()),
            None => (s, DEFAULT_DATA_DEST.to_string()),
        };
        if !dest.starts_with('/') {
            return Err(format!(
                "--data destination `{dest}` must be an absolute path in the image, e.g. /data"
            ));
        }
        Ok(DataDir {
            source: PathBuf::from(source),
            dest,
        })
    }
}

/// `--data-symlinks`: what to do with a symlink that would point nowhere in the image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSymlinks {
    /// Refuse the build, listing them.
    #[default]
    Refuse,
    /// Copy what a link that leaves the directory points to (dangling and looping links are
    /// still refused: there is nothing to copy).
    Follow,
}

/// One data directory as it will be in the image.
#[derive(Clone, Debug, Serialize)]
pub struct DataPlan {
    /// The directory on this machine.
    pub source: PathBuf,
    /// Where it goes in the image.
    pub dest: String,
    /// Number of files.
    pub files: usize,
    /// Number of symlinks (kept or followed).
    pub symlinks: usize,
    /// Links that leave the directory, copied as what they point to.
    pub followed: Vec<String>,
    /// The layer entries (root-owned; `--writable` ownership is applied when the layer is made).
    #[serde(skip)]
    pub entries: Vec<LayerEntry>,
}

/// Why a link cannot be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadLink {
    /// It leaves the directory (or is absolute).
    Leaves,
    /// It points to nothing.
    Dangles,
    /// It loops.
    Loops,
}

/// Why a data directory cannot go in the image.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DataError {
    /// The path is not a directory.
    #[error("--data {0}: is not a directory")]
    NotADirectory(PathBuf),
    /// It could not be read.
    #[error("--data {path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    #[error(
        "--data {source_dir}: these symlinks would point nowhere in the image:\n{list}\nReplace \
         them with the files, remove them, or pass --data-symlinks follow to copy what the links \
         that leave the directory point to",
        list = links.iter().map(|(p, t, why)| format!("  {p} -> {t} ({})", match why {
            BadLink::Leaves => "leaves the directory",
            BadLink::Dangles => "points to nothing",
            BadLink::Loops => "loops",
        })).collect::<Vec<_>>().join("\n")
    )]
    /// Symlinks that would point nowhere in the image.
    Symlinks {
        /// The `--data` directory.
        source_dir: PathBuf,
        /// Each link (relative path), its target, and why it is refused.
        links: Vec<(String, String, BadLink)>,
    },
}

struct Walk<'a> {
    dest: &'a str,
    policy: DataSymlinks,
    entries: Vec<LayerEntry>,
    bad: Vec<(String, String, BadLink)>,
    followed: Vec<String>,
    symlinks: usize,
}

/// Reads one data directory into layer entries under its destination.
pub fn scan(data: &DataDir, policy: DataSymlinks) -> Result<DataPlan, DataError> {
    if !data.source.is_dir() {
        return Err(DataError::NotADirectory(data.source.clone()));
    }
    let mut walk = Walk {
        dest: data.dest.trim_end_matches('/'),
        policy,
        entries: vec![LayerEntry::dir(&data.dest, 0o755, 0, 0)],
        bad: Vec::new(),
        followed: Vec::new(),
        symlinks: 0,
    };
    let root = data.source.canonicalize().map_err(|e| DataError::Io {
        path: data.source.clone(),
        reason: e.to_string(),
    })?;
    let tree = Tree {
        root,
        rel: String::new(),
    };
    walk.dir(&data.source, "", &tree, 0)
        .map_err(|e| DataError::Io {
            path: data.source.clone(),
            reason: e.to_string(),
        })?;
    if !walk.bad.is_empty() {
        return Err(DataError::Symlinks {
            source_dir: data.source.clone(),
            links: walk.bad,
        });
    }
    let files = walk
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::File(_)))
        .count();
    Ok(DataPlan {
        source: data.source.clone(),
        dest: data.dest.clone(),
        files,
        symlinks: walk.symlinks,
        followed: walk.followed,
        entries: walk.entries,
    })
}

/// The tree a link must stay inside: the data directory, or a directory a followed link
/// points to (at `rel` in the image).
struct Tree {
    root: PathBuf,
    rel: String,
}

impl Walk<'_> {
    /// Adds the children of `dir` (a directory in the data tree at `rel`).
    fn dir(&mut self, dir: &Path, rel: &str, tree: &Tree, depth: usize) -> std::io::Result<()> {
        let mut children: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let name = child.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = child.path();
            if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
                self.link(&path, tree, &child_rel, depth)?;
            } else {
                self.node(&path, &child_rel, tree, depth)?;
            }
        }
        Ok(())
    }

    /// A file or directory (not a link) at `rel`.
    fn node(&mut self, path: &Path, rel: &str, tree: &Tree, depth: usize) -> std::io::Result<()> {
        let in_image = format!("{}/{rel}", self.dest);
        let meta = std::fs::metadata(path)?;
        if meta.is_dir() {
            self.entries.push(LayerEntry::dir(&in_image, 0o755, 0, 0));
            return self.dir(path, rel, tree, depth);
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        self.entries.push(LayerEntry::file_from_disk(
            &in_image,
            path.to_path_buf(),
            mode,
        ));
        Ok(())
    }

    fn link(&mut self, path: &Path, tree: &Tree, rel: &str, depth: usize) -> std::io::Result<()> {
        self.symlinks += 1;
        let target = std::fs::read_link(path)?;
        let shown = target.to_string_lossy().into_owned();
        let resolved = match path.canonicalize() {
            Ok(p) => p,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                self.bad.push((rel.to_string(), shown, BadLink::Loops));
                return Ok(());
            }
            Err(_) => {
                self.bad.push((rel.to_string(), shown, BadLink::Dangles));
                return Ok(());
            }
        };
        let rel_in_tree = rel
            .strip_prefix(&tree.rel)
            .unwrap_or(rel)
            .trim_start_matches('/');
        let stays_inside = target.is_relative()
            && lexically_inside(&target, rel_in_tree)
            && resolved.starts_with(&tree.root);
        if stays_inside {
            let in_image = format!("{}/{rel}", self.dest);
            let mut e = LayerEntry::dir(&in_image, 0o777, 0, 0);
            e.kind = EntryKind::Symlink(shown);
            self.entries.push(e);
            return Ok(());
        }
        match (self.policy, depth < MAX_FOLLOW_DEPTH) {
            (DataSymlinks::Follow, true) => {
                self.followed.push(rel.to_string());
                let followed = Tree {
                    root: resolved.clone(),
                    rel: rel.to_string(),
                };
                self.node(&resolved, rel, &followed, depth + 1)
            }
            (DataSymlinks::Follow, false) => {
                self.bad.push((rel.to_string(), shown, BadLink::Loops));
                Ok(())
            }
            (DataSymlinks::Refuse, _) => {
                self.bad.push((rel.to_string(), shown, BadLink::Leaves));
                Ok(())
            }
        }
    }
}

/// Whether a relative link `target`, placed at `rel` (relative to the data root), stays inside
/// the root when read as a path (as it will be read inside the image).
fn lexically_inside(target: &Path, rel: &str) -> bool {
    let mut depth = rel.matches('/').count() as isize;
    for component in target.components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn data_dirs_parse() {
        assert_eq!("web".parse::<DataDir>().unwrap().dest, DEFAULT_DATA_DEST);
        assert_eq!("web:/srv/web".parse::<DataDir>().unwrap().dest, "/srv/web");
        assert!(
            "web:srv"
                .parse::<DataDir>()
                .unwrap_err()
                .contains("absolute")
        );
    }

    #[test]
    fn links_are_kept_inside_and_refused_when_they_point_nowhere() {
        let tmp = tempfile::tempdir().unwrap();
        let web = tmp.path().join("web");
        std::fs::create_dir_all(web.join("sub")).unwrap();
        std::fs::write(web.join("a.txt"), "a").unwrap();
        std::fs::write(tmp.path().join("out.txt"), "out").unwrap();
        symlink("../a.txt", web.join("sub/up")).unwrap();
        symlink("sub", web.join("dirlink")).unwrap();
        let data = DataDir {
            source: web.clone(),
            dest: "/srv".into(),
        };
        let plan = scan(&data, DataSymlinks::Refuse).unwrap();
        assert_eq!((plan.files, plan.symlinks), (1, 2));
        symlink("../../out.txt", web.join("sub/escape")).unwrap();
        symlink("nothing", web.join("dangling")).unwrap();
        let err = scan(&data, DataSymlinks::Refuse).unwrap_err().to_string();
        assert!(
            err.contains("sub/escape -> ../../out.txt (leaves the directory)"),
            "{err}"
        );
        assert!(
            err.contains("dangling -> nothing (points to nothing)"),
            "{err}"
        );
        std::fs::remove_file(web.join("dangling")).unwrap();
        let followed = scan(&data, DataSymlinks::Follow).unwrap();
        assert_eq!(followed.followed, ["sub/escape"]);
        assert!(
            followed
                .entries
                .iter()
                .any(|e| e.path == "srv/sub/escape" && matches!(e.kind, EntryKind::File(_)))
        );
    }

    #[test]
    fn lexical_containment() {
        assert!(lexically_inside(Path::new("../a"), "sub/link"));
        assert!(!lexically_inside(Path::new("../a"), "link"));
        assert!(!lexically_inside(Path::new("/etc/passwd"), "link"));
    }
}
