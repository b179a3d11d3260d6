//! Remembers `go list` answers, so a warm build does not pay for `go list` again when nothing it
//! depends on changed. The key covers everything the answer depends on: gopack and Go versions,
//! the arguments, the Go environment, go.mod/go.sum/vendor, and the name, size and mtime of every
//! file in the module's package directories. Projects the key cannot cover (a go.work, `replace`
//! with a local directory, very large trees) are not cached.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Files beyond this many make the walk cost more than it saves.
const MAX_ENTRIES: usize = 20_000;

fn cache_dir() -> PathBuf {
    crate::cache::golist_dir()
}

/// The cache key, or `None` when this project must not be cached.
pub(super) fn key(root: &Path, dir: &Path, args: &[String], go_version: &str) -> Option<String> {
    if std::env::var("GOPACK_NO_LIST_CACHE").is_ok_and(|v| !v.is_empty()) {
        return None;
    }
    let gomod = std::fs::read(root.join("go.mod")).ok()?;
    let has_local_replace = String::from_utf8_lossy(&gomod).lines().any(|l| {
        l.split_once("=>").is_some_and(|(_, to)| {
            let to = to.trim_start();
            to.starts_with("./") || to.starts_with("../") || to.starts_with('/')
        })
    });
    let workspace = std::env::var("GOWORK").map_or(true, |w| w != "off")
        && root.ancestors().any(|d| d.join("go.work").is_file());
    if has_local_replace || workspace {
        return None;
    }
    let mut h = Sha256::new();
    h.update(format!(
        "gopack {} golist-v1\n{go_version}\n",
        env!("CARGO_PKG_VERSION")
    ));
    h.update(format!("{}\n{}\n", dir.display(), args.join("\0")));
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            k.starts_with("GO")
                || k.starts_with("CGO_")
                || matches!(k.as_str(), "CC" | "CXX" | "PKG_CONFIG" | "PKG_CONFIG_PATH")
        })
        .collect();
    env.sort();
    for (k, v) in env {
        h.update(format!("{k}={v}\n"));
    }
    h.update(&gomod);
    for name in ["go.sum", "vendor/modules.txt"] {
        h.update(std::fs::read(root.join(name)).unwrap_or_default());
        h.update(b"\n");
    }
    let mut entries = 0usize;
    walk(root, root, &mut h, &mut entries)?;
    Some(hex::encode(h.finalize()))
}

/// Hashes name, size and mtime of every file in the package directories under `dir`, skipping
/// what the go command skips (`.x`, `_x`, `testdata`) and nested modules.
fn walk(root: &Path, dir: &Path, h: &mut Sha256, entries: &mut usize) -> Option<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    children.sort_by_key(|e| e.file_name());
    for child in children {
        *entries += 1;
        if *entries > MAX_ENTRIES {
            return None;
        }
        let name = child.file_name();
        let name = name.to_string_lossy();
        let meta = child.metadata().ok()?;
        let path = child.path();
        if meta.is_dir() {
            if name.starts_with('.')
                || name.starts_with('_')
                || name == "testdata"
                || path.join("go.mod").is_file()
            {
                continue;
            }
            h.update(format!(
                "d {}\n",
                path.strip_prefix(root).unwrap_or(&path).display()
            ));
            walk(root, &path, h, entries)?;
        } else {
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            h.update(format!("f {name} {} {mtime}\n", meta.len()));
        }
    }
    Some(())
}

pub(super) fn get(key: &str) -> Option<Vec<u8>> {
    std::fs::read(cache_dir().join(key)).ok()
}

/// Best effort: a failure to save costs a `go list` next time, nothing else.
pub(super) fn put(key: &str, answer: &[u8]) {
    let dir = cache_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&dir)
        && std::io::Write::write_all(&mut tmp, answer).is_ok()
    {
        let _ = tmp.persist(dir.join(key));
    }
}
