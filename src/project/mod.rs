//! Reading the user's Go project: go.mod, the installed toolchain, and the main packages to
//! build (via `go list`). Pure: builds nothing.

pub mod cgo;
mod listcache;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

/// The `go` command gopack runs: `GOPACK_GO` if set, else `go` on PATH.
pub fn go_program() -> PathBuf {
    std::env::var_os("GOPACK_GO")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| "go".into())
}

/// A `go` command with gopack's environment rules: `GOTOOLCHAIN=local` unless the user set
/// GOTOOLCHAIN, so a build never downloads a toolchain silently.
pub fn go_command(dir: &Path) -> Command {
    let mut cmd = Command::new(go_program());
    cmd.current_dir(dir);
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    cmd
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "cannot run `{program}`: {source}. Install Go (https://go.dev/dl) and put it on PATH, or \
         set GOPACK_GO=/path/to/go"
    )]
    GoNotFound {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "no go.mod found in {dir} or any parent directory: gopack builds Go modules. Run \
         `go mod init example.com/yourapp` in the project directory, or point gopack at one"
    )]
    NoModule { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    ReadGoMod {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    BadGoMod { path: PathBuf, reason: String },
    #[error(
        "{gomod} requires go >= {required}, but the installed Go is {installed} (GOTOOLCHAIN=local). \
         Install Go {required} or newer, or set GOTOOLCHAIN=go{required} to let go download it"
    )]
    GoTooOld {
        gomod: PathBuf,
        required: String,
        installed: String,
    },
    #[error(
        "`{import_path}` is package `{name}`, not a main package: gopack builds commands. Point it \
         at a directory with `package main` and `func main()`, e.g. ./cmd/..."
    )]
    NotMain { import_path: String, name: String },
    #[error("no main packages match `{pattern}`; gopack builds commands (package main)")]
    NoMainPackages { pattern: String },
    #[error("`go {args}` failed in {dir}:\n{stderr}{}", hint_for_go_error(stderr))]
    GoFailed {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("cannot understand the output of `go {args}`: {reason}")]
    GoOutput { args: String, reason: String },
}

/// The directives of go.mod that decide how to build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GoMod {
    pub module: String,
    /// The `go` line: the minimum Go version (a hard requirement since Go 1.21).
    pub go_version: Option<String>,
    /// The `toolchain` line: a suggestion, ignored under GOTOOLCHAIN=local.
    pub toolchain: Option<String>,
}

impl GoMod {
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

/// A Go version as `(major, minor, patch)`, from `go1.26.8`, `1.26`, `1.21rc1` or
/// `go1.26.0-X:nodwarf5`. Pre-releases sort before the release, as Go orders them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub release: bool,
}

impl GoVersion {
    pub fn parse(s: &str) -> Option<GoVersion> {
        let s = s.trim().trim_start_matches("go");
        let s = s.split([' ', '-', '+']).next()?;
        let cut = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (numbers, pre) = s.split_at(cut);
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().unwrap_or(Ok(0)).ok()?;
        let patch = parts.next().unwrap_or(Ok(0)).ok()?;
        Some(GoVersion {
            major,
            minor,
            patch,
            release: pre.is_empty(),
        })
    }
}

/// The installed toolchain's version (`go env GOVERSION`).
///
/// Asked once per process: the `go` gopack runs cannot change while it runs.
pub fn installed_go_version(dir: &Path) -> Result<String, ProjectError> {
    static INSTALLED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(version) = INSTALLED.get() {
        return Ok(version.clone());
    }
    let out = run_go(dir, &["env", "GOVERSION"])?;
    let version = String::from_utf8_lossy(&out).trim().to_string();
    crate::trace::mark("go env GOVERSION");
    Ok(INSTALLED.get_or_init(|| version).clone())
}

/// Runs `go ARGS` in `dir` and returns stdout; on failure, Go's own stderr verbatim.
pub fn run_go(dir: &Path, args: &[&str]) -> Result<Vec<u8>, ProjectError> {
    let mut cmd = go_command(dir);
    cmd.args(args);
    output_of(cmd, dir, &args.join(" "))
}

fn output_of(mut cmd: Command, dir: &Path, args: &str) -> Result<Vec<u8>, ProjectError> {
    let output = cmd.output().map_err(|source| ProjectError::GoNotFound {
        program: go_program().display().to_string(),
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
    pub import_path: String,
    pub dir: PathBuf,
    /// The binary name, as `go build` would choose it (last path element, skipping `/vN`).
    pub name: String,
}

/// What the build works on: the module and its main packages.
#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub module_root: PathBuf,
    pub gomod: GoMod,
    pub installed_go: String,
    pub mains: Vec<MainPackage>,
    /// Which packages in the build need cgo, from the same `go list` run.
    pub cgo: cgo::CgoReport,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedPackage {
    import_path: String,
    name: String,
    dir: PathBuf,
    #[serde(default)]
    dep_only: bool,
}

/// Finds the module and main packages for the given directories or package patterns (`.`,
/// `./cmd/...`, `./testdata/hello`, an import path). A pattern naming a non-main package is an
/// error; a wildcard keeps only the main packages it matches.
///
/// One `CGO_ENABLED=1 go list -deps -json` run per pattern serves both the package search and
/// cgo detection (go-facts §4: never detect cgo from a cgo-off build), for the target and tags
/// in `query`.
pub fn load(
    cwd: &Path,
    patterns: &[String],
    query: &cgo::CgoQuery,
) -> Result<Project, ProjectError> {
    // The module of the first pattern, its go.mod and the installed Go, read once.
    let mut module: Option<(PathBuf, GoMod, String)> = None;
    let mut cgo_report: Option<cgo::CgoReport> = None;
    let mut mains: BTreeMap<String, MainPackage> = BTreeMap::new();
    let patterns: Vec<String> = if patterns.is_empty() {
        vec![".".into()]
    } else {
        patterns.to_vec()
    };
    for pattern in &patterns {
        let (dir, go_pattern) = locate(cwd, pattern);
        let root = find_module_root(&dir)?;
        if module.is_none() {
            let (gomod, installed) = check_go_version(&root)?;
            module = Some((root.clone(), gomod, installed));
        }
        let go_version = module.as_ref().map_or("", |(_, _, v)| v.as_str());
        let (listed, report) = list_packages(&root, &dir, &go_pattern, query, go_version)?;
        cgo_report = Some(match cgo_report.take() {
            None => report,
            Some(so_far) => so_far.merge(report),
        });
        let wildcard = go_pattern.contains("...");
        let mut found = false;
        for pkg in listed.into_iter().filter(|p| !p.dep_only) {
            if pkg.name != "main" {
                if wildcard {
                    continue;
                }
                return Err(ProjectError::NotMain {
                    import_path: pkg.import_path,
                    name: pkg.name,
                });
            }
            found = true;
            let name = binary_name(&pkg.import_path);
            mains.insert(
                pkg.import_path.clone(),
                MainPackage {
                    import_path: pkg.import_path,
                    dir: pkg.dir,
                    name,
                },
            );
        }
        if !found {
            return Err(ProjectError::NoMainPackages {
                pattern: pattern.clone(),
            });
        }
    }
    let (module_root, gomod, installed_go) = module.expect("at least one pattern");
    Ok(Project {
        module_root,
        gomod,
        installed_go,
        mains: mains.into_values().collect(),
        cgo: cgo_report.expect("at least one pattern"),
    })
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

pub fn find_module_root(dir: &Path) -> Result<PathBuf, ProjectError> {
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join("go.mod").is_file())
        .map(Path::to_path_buf)
        .ok_or(ProjectError::NoModule { dir: start })
}

/// Returns go.mod and the installed Go version, or an error when go.mod needs a newer Go and
/// the user has not chosen a toolchain policy that would fetch it.
fn check_go_version(root: &Path) -> Result<(GoMod, String), ProjectError> {
    let gomod_path = root.join("go.mod");
    let gomod = GoMod::read(&gomod_path)?;
    let installed = installed_go_version(root)?;
    let user_chose_toolchain = std::env::var("GOTOOLCHAIN").is_ok_and(|v| v != "local");
    if let Some(required) = gomod.go_version.clone().filter(|_| !user_chose_toolchain)
        && let (Some(need), Some(have)) =
            (GoVersion::parse(&required), GoVersion::parse(&installed))
        && need > have
    {
        return Err(ProjectError::GoTooOld {
            gomod: gomod_path,
            required,
            installed,
        });
    }
    Ok((gomod, installed))
}

fn list_packages(
    root: &Path,
    dir: &Path,
    pattern: &str,
    query: &cgo::CgoQuery,
    go_version: &str,
) -> Result<(Vec<ListedPackage>, cgo::CgoReport), ProjectError> {
    let fields = format!("Name,Dir,DepOnly,{}", cgo::LIST_FIELDS);
    let (cmd, args) = query.go_list(dir, &fields, &[pattern.to_string()]);
    let mut key_args = args.clone();
    key_args.extend(query.goos.iter().chain(query.goarch.iter()).cloned());
    let key = listcache::key(root, dir, &key_args, go_version);
    crate::trace::mark("go list cache key");
    let shown = format!("list -deps {pattern}");
    let stdout = match key.as_deref().and_then(listcache::get) {
        Some(cached) => cached,
        None => {
            let answer = output_of(cmd, dir, &shown)?;
            crate::trace::mark("go list (not cached)");
            if let Some(key) = &key {
                listcache::put(key, &answer);
            }
            answer
        }
    };
    let bad_output = |reason: String| ProjectError::GoOutput {
        args: args.join(" "),
        reason,
    };
    let packages = serde_json::Deserializer::from_slice(&stdout)
        .into_iter::<ListedPackage>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_output(e.to_string()))?;
    let report =
        cgo::CgoReport::from_go_list_json(&String::from_utf8_lossy(&stdout)).map_err(bad_output)?;
    Ok((packages, report))
}

/// The next step for a Go error gopack recognises, as a line to append after Go's own message
/// (empty when there is nothing to add).
pub fn hint_for_go_error(stderr: &str) -> &'static str {
    if stderr.contains("build constraints exclude all Go files") {
        "\nhint: no Go file of this package matches the target's build constraints: check its \
         //go:build lines against --platform and --tags"
    } else if stderr.contains("requires go >=") {
        "\nhint: install the Go version go.mod asks for, or set GOTOOLCHAIN=auto to let go download it"
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
    fn go_versions_order_like_go() {
        let v = |s| GoVersion::parse(s).unwrap();
        assert!(v("1.21rc1") < v("1.21.0"));
        assert!(v("go1.26.8") > v("1.26"));
        assert_eq!(v("go1.26.0-X:nodwarf5"), v("1.26.0"));
        assert!(v("1.30") > v("go1.26.8"));
        assert!(GoVersion::parse("banana").is_none());
    }

    #[test]
    fn binary_names_follow_go_build() {
        assert_eq!(binary_name("example.com/app/cmd/api"), "api");
        assert_eq!(binary_name("example.com/app/v2"), "app");
        assert_eq!(binary_name("hello"), "hello");
    }
}
