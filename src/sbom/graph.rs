//! Which module imports which, from `go list -deps -json` over the packages a binary was built
//! from (with the same GOOS, GOARCH and tags): the edges `DEPENDS_ON` in the documents. The
//! build info lists the modules linked; only `go list` knows who imports whom.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module-level imports: `module path → module paths its packages import` (the standard
/// library as [`ModuleGraph::STD`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleGraph {
    /// The edges; a module importing only itself has no entry.
    pub imports: BTreeMap<String, BTreeSet<String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedPackage {
    import_path: String,
    #[serde(default)]
    standard: bool,
    #[serde(default)]
    module: Option<ListedModule>,
    #[serde(default)]
    imports: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedModule {
    path: String,
}

/// Why the graph could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// `go list` could not be run or failed.
    #[error("`go list -deps` failed: {0}")]
    GoList(String),
    /// Its output is not the JSON stream `go list -json` writes.
    #[error("`go list -deps -json` wrote something unexpected: {0}")]
    Parse(String),
}

impl ModuleGraph {
    /// The name standing for the standard library in [`ModuleGraph::imports`].
    pub const STD: &'static str = "std";

    /// The fields of `go list -json` this graph needs.
    pub const LIST_FIELDS: &'static str = "ImportPath,Standard,Module,Imports";

    /// Reads the stream of JSON objects `go list -deps -json` writes.
    pub fn from_go_list(json: &[u8]) -> Result<ModuleGraph, GraphError> {
        let mut owner: BTreeMap<String, String> = BTreeMap::new();
        let mut packages = Vec::new();
        for p in serde_json::Deserializer::from_slice(json).into_iter::<ListedPackage>() {
            let p = p.map_err(|e| GraphError::Parse(e.to_string()))?;
            let module = if p.standard {
                Some(Self::STD.to_string())
            } else {
                p.module.as_ref().map(|m| m.path.clone())
            };
            if let Some(m) = &module {
                owner.insert(p.import_path.clone(), m.clone());
            }
            packages.push((module, p.imports));
        }
        let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, list) in packages {
            let Some(from) = module.filter(|m| m != Self::STD) else {
                continue;
            };
            for import in list {
                if let Some(to) = owner.get(&import).filter(|to| **to != from) {
                    imports.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        Ok(ModuleGraph { imports })
    }

    /// Runs `go list -deps -json=…` for `packages` in `dir` with `env` (GOOS, GOARCH,
    /// CGO_ENABLED…) and `-tags`, through `goenv`'s go (its GOTOOLCHAIN), and reads the graph.
    pub fn go_list(
        goenv: &crate::config::GoEnv,
        dir: &Path,
        packages: &[String],
        env: &[(String, String)],
        tags: &[String],
    ) -> Result<ModuleGraph, GraphError> {
        let mut cmd = goenv.command(dir);
        cmd.arg("list")
            .arg("-deps")
            .arg(format!("-json={}", Self::LIST_FIELDS));
        if !tags.is_empty() {
            cmd.arg(format!("-tags={}", tags.join(",")));
        }
        cmd.args(packages).envs(env.iter().map(|(k, v)| (k, v)));
        let out = cmd
            .output()
            .map_err(|e| GraphError::GoList(format!("cannot run go: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(GraphError::GoList(crate::text::printable(
                stderr.trim(),
                500,
            )));
        }
        ModuleGraph::from_go_list(&out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_edges_from_package_imports() {
        let json = br#"
{"ImportPath":"fmt","Standard":true,"Imports":["errors"]}
{"ImportPath":"errors","Standard":true}
{"ImportPath":"github.com/b/b","Module":{"Path":"github.com/b/b"},"Imports":["fmt"]}
{"ImportPath":"github.com/a/a/x","Module":{"Path":"github.com/a/a"},"Imports":["github.com/b/b","fmt"]}
{"ImportPath":"github.com/a/a","Module":{"Path":"github.com/a/a"},"Imports":["github.com/a/a/x"]}
{"ImportPath":"example.com/app","Module":{"Path":"example.com/app"},"Imports":["github.com/a/a","fmt"]}
"#;
        let g = ModuleGraph::from_go_list(json).unwrap();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            g.imports["example.com/app"],
            set(&["github.com/a/a", "std"])
        );
        assert_eq!(g.imports["github.com/a/a"], set(&["github.com/b/b", "std"]));
        assert_eq!(g.imports["github.com/b/b"], set(&["std"]));
        assert!(!g.imports.contains_key("std"));
        assert!(ModuleGraph::from_go_list(b"{not json").is_err());
    }
}
