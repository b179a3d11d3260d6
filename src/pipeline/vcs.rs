//! A build must not change its own next input. Go stamps `vcs.modified=true` (and, since Go
//! 1.24, a `+dirty` version) when the git work tree has untracked files, so an output written
//! inside the work tree would make the next build of the same commit a different binary.

use std::path::{Path, PathBuf};

use crate::oci::ImageRef;

/// The git work tree `path` is in, if any.
fn work_tree(path: &Path) -> Option<PathBuf> {
    let start = path.canonicalize().ok()?;
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// After a build: an OCI layout inside a git work tree gets a `.gitignore` holding `*` (as
/// Python's venv does), which hides the layout, itself included, from `git status`. A file
/// output inside a work tree that git does not ignore gets a warning, since gopack will not
/// edit the user's own .gitignore.
pub(super) fn keep_output_out_of_vcs(output: &ImageRef) -> Vec<String> {
    match output {
        ImageRef::Layout { dir, .. } => {
            if work_tree(dir).is_some() && !dir.join(".gitignore").exists() {
                let _ = write_gitignore(dir);
            }
            Vec::new()
        }
        ImageRef::OciArchive { file, .. } | ImageRef::DockerArchive { file, .. } => {
            match work_tree(file) {
                Some(tree) if !ignored_by_git(&tree, file) => vec![format!(
                    "{} is inside the git work tree {} and git does not ignore it: go stamps the \
                     next build of this commit vcs.modified=true (+dirty), a different binary. \
                     Add it to .gitignore, or write the output outside the work tree",
                    file.display(),
                    tree.display()
                )],
                _ => Vec::new(),
            }
        }
        ImageRef::Registry(_) | ImageRef::DockerDaemon(_) => Vec::new(),
    }
}

fn write_gitignore(dir: &Path) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(
        &mut tmp,
        b"# Written by gopack: this OCI layout is build output, not source.\n*\n",
    )?;
    tmp.persist(dir.join(".gitignore"))?;
    Ok(())
}

fn ignored_by_git(tree: &Path, file: &Path) -> bool {
    std::process::Command::new("git")
        .args(["check-ignore", "-q", "--"])
        .arg(file.canonicalize().unwrap_or_else(|_| file.to_path_buf()))
        .current_dir(tree)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
