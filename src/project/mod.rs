//! Reading the user's Go project: go.mod, the installed toolchain, and the main packages to
//! build (via `go list`). Pure: builds nothing.

pub mod cgo;
pub mod changes;
mod listcache;
mod version;

pub use version::{GoVersion, VersionKind};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::config::GoEnv;

/// Why the project could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "cannot run `{program}`: {source}. Install Go (https://go.dev/dl) and put it on PATH, or \
         set GOPACK_GO=/path/to/go"
    )]
    /// The go program could not be started.
    GoNotFound {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    #[error(
        "no go.mod found in {dir} or any parent directory: gopack builds Go modules. Run \
         `go mod init example.com/yourapp` in the project directory, or point gopack at one"
    )]
    /// No go.mod up from the directory.
    NoModule {
        /// The directory searched from.
        dir: PathBuf,
    },
    /// A package named by a path (`./cmd/api`, `../x`, `/abs`) that does not exist.
    #[error(
        "{pattern}: no such directory ({dir}). Name a package directory that exists (`./cmd/api`, \
         `./...`) or an import path"
    )]
    NoSuchDirectory {
        /// The pattern as given.
        pattern: String,
        /// The directory it names.
        dir: PathBuf,
    },
    /// go.mod could not be read.
    #[error("cannot read {path}: {source}")]
    ReadGoMod {
        /// go.mod.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// go.mod is malformed.
    #[error("{path}: {reason}")]
    BadGoMod {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    #[error(
        "{gomod} requires go >= {required}, but the installed Go is {installed} (GOTOOLCHAIN=local). \
         Install Go {required} or newer, or set GOTOOLCHAIN={toolchain} to let go download it"
    )]
    /// go.mod needs a newer Go.
    GoTooOld {
        /// go.mod.
        gomod: PathBuf,
        /// The `go` line.
        required: String,
        /// The installed Go.
        installed: String,
        /// The toolchain name go accepts for `required` (`go1.27.0`, not `go1.27`).
        toolchain: String,
    },
    #[error(
        "`{import_path}` is package `{name}`, not a main package: gopack builds commands. Point it \
         at a directory with `package main` and `func main()`{commands}"
    )]
    /// A pattern names a package that is not `main`.
    NotMain {
        /// The import path.
        import_path: String,
        /// Its package name.
        name: String,
        /// The module's commands, as a sentence (see [`commands_sentence`]).
        commands: String,
    },
    /// A pattern matches no main package.
    #[error("no main packages match `{pattern}`; gopack builds commands (package main){commands}")]
    NoMainPackages {
        /// The package pattern.
        pattern: String,
        /// The module's commands, as a sentence (see [`commands_sentence`]).
        commands: String,
    },
    /// A git command (of `--changed-since`) failed; git's stderr verbatim.
    #[error(
        "`git {args}` failed in {dir}:\n{stderr}\n--changed-since needs a git work tree and the \
         commit it names: name an existing ref, or fetch the history (`git fetch --unshallow`; \
         in GitHub Actions, actions/checkout with fetch-depth: 0)"
    )]
    GitFailed {
        /// The arguments.
        args: String,
        /// Where it ran.
        dir: PathBuf,
        /// git's stderr, or why it could not start.
        stderr: String,
    },
    /// A go command failed; Go's stderr verbatim.
    #[error("`go {args}` failed in {dir}:\n{stderr}{}", hint_for_go_error(stderr))]
    GoFailed {
        /// The arguments.
        args: String,
        /// Where it ran.
        dir: PathBuf,
        /// Go's stderr.
        stderr: String,
    },
    /// A go command's output could not be read.
    #[error("cannot understand the output of `go {args}`: {reason}")]
    GoOutput {
        /// The go arguments.
        args: String,
        /// Why.
        reason: String,
    },
}

/// The directives of go.mod that decide how to build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GoMod {
    /// The module path.
    pub module: String,
    /// The `go` line: the minimum Go version (a hard requirement since Go 1.21).
    pub go_version: Option<String>,
    /// The `toolchain` line: a suggestion, ignored under GOTOOLCHAIN=local.
    pub toolchain: Option<String>,
}

impl GoMod {
    /// Parses the directives gopack reads; `Err` (why) without a `module` line.
    pub fn parse(text: &str) -> Result<GoMod, String> {
        let mut gomod = GoMod::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split("//").next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let (Some(verb), arg) = (words.next(), words.next()) else {
                continue;
            };
            let arg = arg.map(|a| a.trim_matches('"').to_string());
            match verb {
                "module" => {
                    gomod.module = arg.ok_or(format!("line {}: `module` without a path", n + 1))?
                }
                "go" => gomod.go_version = arg,
                "toolchain" => gomod.toolchain = arg,
                _ => {}
            }
        }
        if gomod.module.is_empty() {
            return Err("no `module` line; run `go mod init example.com/yourapp`".into());
        }
        Ok(gomod)
    }

    /// Reads and parses go.mod at `path`.
    pub fn read(path: &Path) -> Result<GoMod, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::ReadGoMod {
            path: path.into(),
            source,
        })?;
        GoMod::parse(&text).map_err(|reason| ProjectError::BadGoMod {
            path: path.into(),
            reason,
        })
    }
}

/// Runs `go ARGS` in `dir` and returns stdout; on failure, Go's own stderr verbatim.
pub fn run_go(goenv: &GoEnv, dir: &Path, args: &[&str]) -> Result<Vec<u8>, ProjectError> {
    let mut cmd = goenv.command(dir);
    cmd.args(args);
    output_of(goenv, cmd, dir, &args.join(" "))
}

fn output_of(
    goenv: &GoEnv,
    mut cmd: Command,
    dir: &Path,
    args: &str,
) -> Result<Vec<u8>, ProjectError> {
    crate::log::verbose(&format!("run: go {args} (in {})", dir.display()));
    let output = cmd.output().map_err(|source| ProjectError::GoNotFound {
        program: goenv.program().display().to_string(),
        source,
    })?;
    if !output.status.success() {
        return Err(ProjectError::GoFailed {
            args: args.to_string(),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
        });
    }
    Ok(output.stdout)
}

/// One `package main` to build into one image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MainPackage {
    /// Its import path.
    pub import_path: String,
    /// Its directory.
    pub dir: PathBuf,
    /// The binary name, as `go build` would choose it (last path element, skipping `/vN`).
    pub name: String,
}

/// One main package and the cgo verdict for it and its dependencies alone: in a module whose
/// commands differ, one may need cgo and another not.
#[derive(Clone, Debug, Serialize)]
pub struct MainCommand {
    /// The main package.
    pub package: MainPackage,
    /// Which of its packages use cgo.
    pub cgo: cgo::CgoReport,
}

/// What the build works on: the module and its main packages.
#[derive(Clone, Debug, Serialize)]
pub struct Project {
    /// The root of the first pattern's module.
    pub module_root: PathBuf,
    /// Its go.mod.
    pub gomod: GoMod,
    /// The main packages, sorted by import path.
    pub mains: Vec<MainCommand>,
    /// Which packages of all the main packages need cgo, from the same `go list` runs.
    pub cgo: cgo::CgoReport,
}

/// Finds the module and main packages for the given directories or package patterns (`.`,
/// `./cmd/...`, `./testdata/hello`, an import path). A pattern naming a non-main package is an
/// error; a wildcard keeps only the main packages it matches.
///
/// One `CGO_ENABLED=1 go list -deps -json` run per pattern serves both the package search and
/// cgo detection (go-facts §4: never detect cgo from a cgo-off build), for the target and tags
/// in `query`; each main package's cgo verdict covers its own dependencies (from `Imports`).
pub fn load(
    goenv: &GoEnv,
    cwd: &Path,
    patterns: &[String],
    query: &cgo::CgoQuery,
) -> Result<Project, ProjectError> {
    let patterns: Vec<String> = if patterns.is_empty() {
        vec![".".into()]
    } else {
        patterns.to_vec()
    };
    let first_root = find_module_root(&locate(cwd, &patterns[0]).0)?;
    let gomod = check_go_version(goenv, &first_root)?;
    let mut mains: BTreeMap<String, MainCommand> = BTreeMap::new();
    // Directories of one module are listed by one `go list` (run at the module root).
    let mut directories: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for pattern in &patterns {
        let (dir, go_pattern) = locate(cwd, pattern);
        let root = find_module_root(&dir)?;
        if go_pattern == "."
            && let Some(relative) = relative_package(&root, &dir)
        {
            directories.entry(root).or_default().push(relative);
            continue;
        }
        let listed = list_packages(goenv, &root, &dir, std::slice::from_ref(&go_pattern), query)?;
        let found = mains_of(&listed, &go_pattern).map_err(|e| with_commands(e, goenv, &root))?;
        if found.is_empty() {
            return Err(no_mains(goenv, &root, pattern));
        }
        for main in found {
            mains.insert(main.package.import_path.clone(), main);
        }
    }
    for (root, relatives) in directories {
        let listed = match list_packages(goenv, &root, &root, &relatives, query) {
            Err(ProjectError::GoFailed { stderr, .. })
                if relatives.len() == 1 && stderr.contains("no Go files in") =>
            {
                return Err(no_mains(goenv, &root, &relatives[0]));
            }
            other => other?,
        };
        for main in mains_of(&listed, ".").map_err(|e| with_commands(e, goenv, &root))? {
            mains.insert(main.package.import_path.clone(), main);
        }
    }
    let cgo = mains
        .values()
        .map(|m| m.cgo.clone())
        .reduce(cgo::CgoReport::merge)
        .unwrap_or_default();
    Ok(Project {
        module_root: first_root,
        gomod,
        mains: mains.into_values().collect(),
        cgo,
    })
}

/// The main packages `go list` named (not dependencies), each with its own cgo verdict. A
/// non-main package named without a wildcard is an error.
fn mains_of(
    listed: &[cgo::ListedPackage],
    go_pattern: &str,
) -> Result<Vec<MainCommand>, ProjectError> {
    let wildcard = go_pattern.contains("...");
    let mut mains = Vec::new();
    for pkg in listed.iter().filter(|p| !p.dep_only) {
        if pkg.name != "main" {
            if wildcard {
                continue;
            }
            return Err(ProjectError::NotMain {
                import_path: pkg.import_path.clone(),
                name: pkg.name.clone(),
                commands: String::new(),
            });
        }
        let closure = import_closure(listed, pkg);
        let cgo = cgo::CgoReport::from_listed(
            listed
                .iter()
                .filter(|p| closure.contains(p.import_path.as_str())),
        );
        mains.push(MainCommand {
            package: MainPackage {
                import_path: pkg.import_path.clone(),
                dir: pkg.dir.clone(),
                name: binary_name(&pkg.import_path),
            },
            cgo,
        });
    }
    Ok(mains)
}

/// The import paths `main` depends on, itself included, following `Imports` (a package that
/// imports `C` depends on runtime/cgo, as go's loader adds). `go list -deps` lists them all, so
/// this needs only the direct imports, not each package's much larger `Deps`.
fn import_closure<'a>(
    listed: &'a [cgo::ListedPackage],
    main: &'a cgo::ListedPackage,
) -> std::collections::BTreeSet<&'a str> {
    let by_path: BTreeMap<&str, &cgo::ListedPackage> =
        listed.iter().map(|p| (p.import_path.as_str(), p)).collect();
    let mut seen = std::collections::BTreeSet::from([main.import_path.as_str()]);
    let mut stack = vec![main];
    while let Some(pkg) = stack.pop() {
        for import in &pkg.imports {
            let path = if import == "C" {
                "runtime/cgo"
            } else {
                import.as_str()
            };
            if let Some(next) = by_path.get(path)
                && seen.insert(next.import_path.as_str())
            {
                stack.push(next);
            }
        }
    }
    seen
}

/// The error for a pattern without main packages, naming the module's commands.
fn no_mains(goenv: &GoEnv, root: &Path, pattern: &str) -> ProjectError {
    ProjectError::NoMainPackages {
        pattern: pattern.to_string(),
        commands: commands_sentence(goenv, root),
    }
}

fn with_commands(e: ProjectError, goenv: &GoEnv, root: &Path) -> ProjectError {
    match e {
        ProjectError::NotMain {
            import_path, name, ..
        } => ProjectError::NotMain {
            import_path,
            name,
            commands: commands_sentence(goenv, root),
        },
        other => other,
    }
}

/// The main packages of the module at `root`, as directories relative to it.
pub fn module_commands(goenv: &GoEnv, root: &Path) -> Vec<String> {
    let format = "{{if eq .Name \"main\"}}{{.Dir}}{{end}}";
    let Ok(out) = run_go(goenv, root, &["list", "-e", "-f", format, "./..."]) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|dir| relative_package(root, Path::new(dir)))
        .collect()
}

/// `. The module's commands: ./cmd/api, ./cmd/worker (`gopack build ./...` builds them all)`,
/// or `, e.g. ./cmd/...` when it has none that go can list.
pub fn commands_sentence(goenv: &GoEnv, root: &Path) -> String {
    const SHOWN: usize = 10;
    let commands = module_commands(goenv, root);
    if commands.is_empty() {
        return ", e.g. ./cmd/... (this module has no main package yet)".into();
    }
    let more = commands.len().saturating_sub(SHOWN);
    let mut list = commands
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    format!(". The module's commands: {list} (`gopack build ./...` builds them all)")
}

/// `./DIR` for a directory inside the module at `root` (`.` for the root itself).
fn relative_package(root: &Path, dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let relative = dir.strip_prefix(root).ok()?;
    if relative.as_os_str().is_empty() {
        Some(".".into())
    } else {
        Some(format!("./{}", relative.display()))
    }
}

/// Splits a user argument into the directory to run `go list` in and the pattern to give it.
fn locate(cwd: &Path, pattern: &str) -> (PathBuf, String) {
    if let Some(prefix) = pattern.strip_suffix("/...") {
        let dir = cwd.join(prefix);
        if dir.is_dir() {
            return (dir, "./...".into());
        }
    }
    let dir = if pattern == "." {
        cwd.to_path_buf()
    } else {
        cwd.join(pattern)
    };
    if dir.is_dir() {
        return (dir, ".".into());
    }
    (cwd.to_path_buf(), pattern.to_string())
}

/// The directory holding go.mod, from `dir` up.
pub fn find_module_root(dir: &Path) -> Result<PathBuf, ProjectError> {
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join("go.mod").is_file())
        .map(Path::to_path_buf)
        .ok_or(ProjectError::NoModule { dir: start })
}

/// Returns go.mod, or an error when it needs a newer Go than the installed one and the user
/// has not chosen a toolchain policy that would fetch it.
fn check_go_version(goenv: &GoEnv, root: &Path) -> Result<GoMod, ProjectError> {
    let gomod_path = root.join("go.mod");
    let gomod = GoMod::read(&gomod_path)?;
    let installed = goenv.installed();
    if let Some(required) = gomod
        .go_version
        .as_deref()
        .filter(|_| !goenv.toolchain().may_switch())
        && let (Some(need), Some(have)) = (GoVersion::parse(required), installed.version)
        && need > have
    {
        return Err(ProjectError::GoTooOld {
            gomod: gomod_path,
            required: required.to_string(),
            installed: installed.name.clone(),
            toolchain: need.toolchain_name(),
        });
    }
    Ok(gomod)
}

fn list_packages(
    goenv: &GoEnv,
    root: &Path,
    dir: &Path,
    patterns: &[String],
    query: &cgo::CgoQuery,
) -> Result<Vec<cgo::ListedPackage>, ProjectError> {
    let pattern = patterns.join(" ");
    let fields = format!("Name,Dir,DepOnly,Imports,{}", cgo::LIST_FIELDS);
    let (cmd, args) = query.go_list(goenv, dir, &fields, patterns);
    let mut key_args = args.clone();
    key_args.extend(query.goos.iter().chain(query.goarch.iter()).cloned());
    // What go reads from the `go env -w` file changes its answer too.
    key_args.extend(
        goenv
            .user_settings()
            .into_iter()
            .map(|s| format!("{}={}", s.name, s.value)),
    );
    key_args.push(format!("GOTOOLCHAIN={}", goenv.toolchain().value));
    let key = listcache::key(root, dir, &key_args, &goenv.installed().name);
    crate::trace::mark("go list cache key");
    let shown = format!("list -deps {pattern}");
    let stdout = match key.as_deref().and_then(listcache::get) {
        Some(cached) => cached,
        None => {
            let answer = output_of(goenv, cmd, dir, &shown)?;
            crate::trace::mark("go list (not cached)");
            if let Some(key) = &key {
                listcache::put(key, &answer);
            }
            answer
        }
    };
    cgo::parse_listed(&stdout).map_err(|reason| ProjectError::GoOutput {
        args: args.join(" "),
        reason,
    })
}

/// Whether every source a build of the module at `root` reads is under `root` or in the
/// (read-only, go.sum-checked) module cache: a go.mod without `replace` to a local directory,
/// and no go.work workspace. False when go.mod cannot be read.
pub fn module_is_self_contained(root: &Path) -> bool {
    std::fs::read(root.join("go.mod")).is_ok_and(|gomod| listcache::self_contained(root, &gomod))
}

/// The next step for a Go error gopack recognises, as a line to append after Go's own message
/// (empty when there is nothing to add).
pub fn hint_for_go_error(stderr: &str) -> &'static str {
    if stderr.contains("build constraints exclude all Go files") {
        "\nhint: no Go file of this package matches the target's build constraints: check its \
         //go:build lines against --platform and --tags"
    } else if stderr.contains("requires go >=") {
        "\nhint: install the Go version go.mod asks for, or set GOTOOLCHAIN=auto to let go \
         download it"
    } else {
        ""
    }
}

/// `go build`'s naming: the last import path element, or the one before a `/vN` suffix.
pub fn binary_name(import_path: &str) -> String {
    let mut parts = import_path.rsplit('/');
    let last = parts.next().unwrap_or(import_path);
    let is_major =
        last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit());
    match (is_major, parts.next()) {
        (true, Some(prev)) => prev.to_string(),
        _ => last.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gomod_directives() {
        let gomod = GoMod::parse("// c\nmodule \"example.com/app\" // x\n\ngo 1.22.3\ntoolchain go1.23.1\nrequire (\n\tgolang.org/x/text v0.1.0\n)\n").unwrap();
        assert_eq!(gomod.module, "example.com/app");
        assert_eq!(gomod.go_version.as_deref(), Some("1.22.3"));
        assert_eq!(gomod.toolchain.as_deref(), Some("go1.23.1"));
        assert!(
            GoMod::parse("go 1.22\n")
                .unwrap_err()
                .contains("go mod init")
        );
    }

    #[test]
    fn binary_names_follow_go_build() {
        assert_eq!(binary_name("example.com/app/cmd/api"), "api");
        assert_eq!(binary_name("example.com/app/v2"), "app");
        assert_eq!(binary_name("hello"), "hello");
    }
}
