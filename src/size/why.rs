//! The package graph of a main package, from `go list -deps -json`: the shortest import chain
//! to a package or module (`gopack size --why`), and the `go:embed` files of each package.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::binary::attribution::EmbedFile;
use crate::config::GoEnv;
use crate::project::ProjectError;

/// One package as `go list -deps -json` describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedPackage {
    /// `ImportPath`, e.g. `net/http`.
    pub import_path: String,
    /// `Name`: the package clause (`main`, `http`).
    #[serde(default)]
    pub name: String,
    /// `Dir`: the directory holding its sources.
    #[serde(default)]
    pub dir: PathBuf,
    /// `Imports`: import paths it imports directly (after vendoring).
    #[serde(default)]
    pub imports: Vec<String>,
    /// `EmbedFiles`: files its `//go:embed` patterns match, relative to `dir`.
    #[serde(default)]
    pub embed_files: Vec<String>,
    /// `Standard`: part of the standard library.
    #[serde(default)]
    pub standard: bool,
    /// `Module`: the module holding it; `None` for the standard library.
    #[serde(default)]
    pub module: Option<ListedModule>,
    /// `DepOnly`: listed only as a dependency of the named packages.
    #[serde(default)]
    pub dep_only: bool,
}

/// The module of a listed package.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedModule {
    /// `Path`: the module path, e.g. `golang.org/x/net`.
    pub path: String,
}

/// `go list -deps -json` of `pattern`, run in `dir` with `env` added (GOOS, CGO_ENABLED, tags…).
///
/// Errors: Go missing, or go list failing (its stderr is in the error).
pub fn list_deps(
    goenv: &GoEnv,
    dir: &Path,
    pattern: &str,
    env: &[(String, String)],
    tags: &[String],
) -> Result<Vec<ListedPackage>, ProjectError> {
    let mut cmd = goenv.command(dir);
    cmd.args([
        "list",
        "-deps",
        "-json=ImportPath,Name,Dir,Imports,EmbedFiles,Standard,Module,DepOnly",
    ]);
    if !tags.is_empty() {
        cmd.arg(format!("-tags={}", tags.join(",")));
    }
    cmd.arg(pattern);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(|source| ProjectError::GoNotFound {
        program: goenv.program().display().to_string(),
        source,
    })?;
    if !output.status.success() {
        return Err(ProjectError::GoFailed {
            args: format!("list -deps -json {pattern}"),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
        });
    }
    let mut out = Vec::new();
    for p in serde_json::Deserializer::from_slice(&output.stdout).into_iter::<ListedPackage>() {
        out.push(p.map_err(|e| ProjectError::GoFailed {
            args: format!("list -deps -json {pattern}"),
            dir: dir.to_path_buf(),
            stderr: format!("unreadable output: {e}"),
        })?);
    }
    Ok(out)
}

/// The shortest import chain from a root package (one not `DepOnly`) to `target`: a package
/// import path, or a module path (then the chain ends at the first package of that module
/// reached). `None` when nothing imports it.
pub fn shortest_chain(packages: &[ListedPackage], target: &str) -> Option<Vec<String>> {
    let by_path: HashMap<&str, &ListedPackage> = packages
        .iter()
        .map(|p| (p.import_path.as_str(), p))
        .collect();
    let hits = |p: &ListedPackage| {
        p.import_path == target || p.module.as_ref().is_some_and(|m| m.path == target)
    };
    let mut parent: HashMap<&str, Option<&str>> = HashMap::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for root in packages.iter().filter(|p| !p.dep_only) {
        parent.insert(&root.import_path, None);
        queue.push_back(&root.import_path);
    }
    while let Some(at) = queue.pop_front() {
        let Some(pkg) = by_path.get(at) else {
            continue;
        };
        if hits(pkg) {
            let mut chain = vec![at.to_string()];
            let mut cur = at;
            while let Some(Some(prev)) = parent.get(cur) {
                chain.push(prev.to_string());
                cur = prev;
            }
            chain.reverse();
            return Some(chain);
        }
        for import in &pkg.imports {
            if !parent.contains_key(import.as_str()) && by_path.contains_key(import.as_str()) {
                parent.insert(import, Some(at));
                queue.push_back(import);
            }
        }
    }
    None
}

/// The `go:embed` files of every listed package, read from disk (files that cannot be read are
/// skipped: they are reported as not found).
pub fn embed_files(packages: &[ListedPackage]) -> Vec<EmbedFile> {
    let mut out = Vec::new();
    for p in packages {
        for f in &p.embed_files {
            if let Ok(contents) = std::fs::read(p.dir.join(f)) {
                out.push(EmbedFile {
                    package: main_or_path(p),
                    path: f.clone(),
                    contents,
                });
            }
        }
    }
    out
}

/// A root `package main` is named `main` in symbols; other packages by their import path.
fn main_or_path(p: &ListedPackage) -> String {
    if p.name == "main" {
        "main".to_string()
    } else {
        p.import_path.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(path: &str, module: Option<&str>, imports: &[&str], dep_only: bool) -> ListedPackage {
        ListedPackage {
            import_path: path.into(),
            name: String::new(),
            dir: PathBuf::new(),
            imports: imports.iter().map(|s| s.to_string()).collect(),
            embed_files: vec![],
            standard: module.is_none(),
            module: module.map(|m| ListedModule { path: m.into() }),
            dep_only,
        }
    }

    #[test]
    fn the_shortest_chain_is_found_by_package_or_module() {
        let pkgs = vec![
            pkg("fmt", None, &[], true),
            pkg(
                "example.com/a/x",
                Some("example.com/a"),
                &["example.com/b/deep"],
                true,
            ),
            pkg("example.com/b/deep", Some("example.com/b"), &["fmt"], true),
            pkg(
                "example.com/b",
                Some("example.com/b"),
                &["example.com/b/deep"],
                true,
            ),
            pkg(
                "example.com/app",
                Some("example.com/app"),
                &["example.com/a/x", "example.com/b", "fmt"],
                false,
            ),
        ];
        assert_eq!(
            shortest_chain(&pkgs, "example.com/b/deep").unwrap(),
            vec!["example.com/app", "example.com/a/x", "example.com/b/deep"]
        );
        assert_eq!(
            shortest_chain(&pkgs, "example.com/b").unwrap(),
            vec!["example.com/app", "example.com/b"]
        );
        assert_eq!(
            shortest_chain(&pkgs, "fmt").unwrap(),
            vec!["example.com/app", "fmt"]
        );
        assert!(shortest_chain(&pkgs, "example.com/none").is_none());
    }
}
