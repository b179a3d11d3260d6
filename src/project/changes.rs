//! `--changed-since GITREF`: which main packages a change since GITREF can affect. A main
//! package is affected when a changed file is in the directory of a package of its import
//! closure (any file there: Go, assembly, cgo sources, even tests — erring on the side of
//! rebuilding), is one of its embedded files, is under one of its data directories, or is a
//! file every build reads (go.mod, go.sum, go.work, vendor/modules.txt, gopack.toml). Packages
//! outside the work tree (the module cache) change only through go.mod/go.sum.
//!
//! An unaffected target would build to the same digest (builds are reproducible), so its
//! previous image stays valid.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::{ProjectError, run_go};
use crate::config::GoEnv;

/// Files whose change affects every target.
const GLOBAL_FILES: &[&str] = &[
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    "vendor/modules.txt",
    "gopack.toml",
];

/// One main package to classify.
#[derive(Clone, Debug)]
pub struct MainInputs {
    /// Its import path.
    pub import_path: String,
    /// Directories copied into its image (`data`).
    pub data_dirs: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    import_path: String,
    #[serde(default)]
    dir: PathBuf,
    #[serde(default)]
    imports: Vec<String>,
    #[serde(default)]
    embed_files: Vec<String>,
    #[serde(default)]
    standard: bool,
}

/// The files changed between `gitref` and the work tree of `root` (committed, staged,
/// unstaged and untracked, ignored files excepted), as absolute paths.
pub fn changed_files(root: &Path, gitref: &str) -> Result<BTreeSet<PathBuf>, ProjectError> {
    let git = |args: &[&str]| -> Result<String, ProjectError> {
        let out = Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| ProjectError::GitFailed {
                args: args.join(" "),
                dir: root.to_path_buf(),
                stderr: format!("cannot run git: {e}"),
            })?;
        if !out.status.success() {
            return Err(ProjectError::GitFailed {
                args: args.join(" "),
                dir: root.to_path_buf(),
                stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let mut files = BTreeSet::new();
    let diff = git(&["diff", "--name-only", "-z", gitref, "--"])?;
    let untracked = git(&[
        "ls-files",
        "--others",
        "--exclude-standard",
        "--full-name",
        "-z",
    ])?;
    for name in diff.split('\0').chain(untracked.split('\0')) {
        if !name.is_empty() {
            files.insert(top.join(name));
        }
    }
    Ok(files)
}

/// The main packages of `mains` that `changed` files can affect (import paths). `go list`
/// runs once, in `root`, for the target `env` (GOOS/GOARCH) and `tags`.
pub fn affected(
    goenv: &GoEnv,
    root: &Path,
    mains: &[MainInputs],
    changed: &BTreeSet<PathBuf>,
    tags: &[String],
) -> Result<BTreeSet<String>, ProjectError> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if changed.iter().any(|f| {
        GLOBAL_FILES
            .iter()
            .any(|g| f.ends_with(g) && f.starts_with(&root))
    }) {
        return Ok(mains.iter().map(|m| m.import_path.clone()).collect());
    }
    let mut args: Vec<String> = vec![
        "list".into(),
        "-deps".into(),
        "-json=ImportPath,Dir,Imports,EmbedFiles,Standard".into(),
    ];
    if !tags.is_empty() {
        args.push(format!("-tags={}", tags.join(",")));
    }
    args.extend(mains.iter().map(|m| m.import_path.clone()));
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_go(goenv, &root, &arg_refs)?;
    let listed: Vec<Listed> = serde_json::Deserializer::from_slice(&out)
        .into_iter::<Listed>()
        .collect::<Result<_, _>>()
        .map_err(|e| ProjectError::GoOutput {
            args: args.join(" "),
            reason: e.to_string(),
        })?;
    let by_path: BTreeMap<&str, &Listed> =
        listed.iter().map(|p| (p.import_path.as_str(), p)).collect();
    let mut out = BTreeSet::new();
    for main in mains {
        if closure_touched(&by_path, main, changed) {
            out.insert(main.import_path.clone());
        }
    }
    Ok(out)
}

fn closure_touched(
    by_path: &BTreeMap<&str, &Listed>,
    main: &MainInputs,
    changed: &BTreeSet<PathBuf>,
) -> bool {
    if changed
        .iter()
        .any(|f| main.data_dirs.iter().any(|d| f.starts_with(d)))
    {
        return true;
    }
    let mut seen = BTreeSet::from([main.import_path.as_str()]);
    let mut stack: Vec<&str> = vec![main.import_path.as_str()];
    while let Some(path) = stack.pop() {
        let Some(pkg) = by_path.get(path) else {
            continue;
        };
        if pkg.standard {
            continue;
        }
        let dir = pkg.dir.canonicalize().unwrap_or_else(|_| pkg.dir.clone());
        if changed.iter().any(|f| f.parent() == Some(dir.as_path()))
            || pkg
                .embed_files
                .iter()
                .any(|e| changed.contains(&dir.join(e)))
        {
            return true;
        }
        for import in &pkg.imports {
            if seen.insert(import.as_str()) {
                stack.push(import.as_str());
            }
        }
    }
    false
}
