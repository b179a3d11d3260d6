//! Which packages of a Go program need cgo, read from `CGO_ENABLED=1 go list -deps -json`
//! (go-facts §4). Never from a cgo-off build: with `CGO_ENABLED=0` cgo files are silently
//! ignored and stubs such as go-sqlite3's `static_mock.go` compile, then fail at run time.
//!
//! A package needs cgo when, with cgo on, it has cgo files (`import "C"`), C/C++/Objective-C/
//! Fortran sources or SWIG files. Only packages outside the standard library count: `net`,
//! `os/user`, `plugin` and `runtime/cgo` use cgo but have pure-Go fallbacks, so they never force
//! a cgo build. `go list` compiles nothing, so no C compiler is needed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ProjectError;
use crate::config::GoEnv;

/// The cgo verdict for a set of packages and all their dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CgoReport {
    /// True when at least one package outside the standard library uses cgo.
    pub needs_cgo: bool,
    /// `runtime/cgo` is among the dependencies (with cgo on). This alone does not mean cgo is
    /// needed: `net` and `os/user` pull it in with their optional cgo code.
    pub runtime_cgo_in_deps: bool,
    /// Non-standard packages that use cgo, sorted by import path.
    pub packages: Vec<CgoPackage>,
    /// Standard-library packages that use cgo (informational; they never force cgo).
    pub std_packages: Vec<String>,
}

/// A non-standard package that uses cgo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CgoPackage {
    /// Import path, e.g. `github.com/mattn/go-sqlite3`.
    pub import_path: String,
    /// The module it comes from (`None` in GOPATH mode).
    pub module: Option<ModuleRef>,
    /// Go files with `import "C"`.
    pub cgo_files: Vec<String>,
    /// C, C++, Objective-C, Fortran and SWIG sources compiled with the package.
    pub native_files: Vec<String>,
    /// Libraries resolved with pkg-config (`#cgo pkg-config:`).
    pub pkg_config: Vec<String>,
    /// Libraries linked with `-l` in `#cgo LDFLAGS:`, without the `-l`.
    pub libraries: Vec<String>,
    /// Pure-Go modules that can replace this one, from [`PURE_GO_ALTERNATIVES`].
    pub alternatives: Vec<Alternative>,
}

/// A module as `go list` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleRef {
    /// Module path.
    pub path: String,
    /// Version (`None` for the main module and local replacements).
    pub version: Option<String>,
    /// True for the user's own module.
    pub main: bool,
    /// The `replace` target, when the module is replaced.
    pub replaced_by: Option<Box<ModuleRef>>,
}

/// A pure-Go replacement for a cgo module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alternative {
    /// Module path of the replacement.
    pub module: String,
    /// What to know before switching.
    pub note: String,
}

/// One row of [`PURE_GO_ALTERNATIVES`].
#[derive(Debug, Clone, Copy)]
pub struct AlternativeRule {
    /// The cgo module (any major version `/vN` of it matches).
    pub cgo_module: &'static str,
    /// Replacements: (module, note).
    pub replacements: &'static [(&'static str, &'static str)],
}

/// The one table of pure-Go replacements for well-known cgo modules.
pub const PURE_GO_ALTERNATIVES: &[AlternativeRule] = &[
    AlternativeRule {
        cgo_module: "github.com/mattn/go-sqlite3",
        replacements: &[
            (
                "modernc.org/sqlite",
                "SQLite translated to Go; database/sql driver name \"sqlite\"",
            ),
            (
                "github.com/ncruces/go-sqlite3",
                "SQLite compiled to WebAssembly, run by wazero",
            ),
        ],
    },
    AlternativeRule {
        cgo_module: "github.com/confluentinc/confluent-kafka-go",
        replacements: &[
            ("github.com/segmentio/kafka-go", "pure-Go Kafka client"),
            ("github.com/twmb/franz-go", "pure-Go Kafka client"),
            (
                "github.com/IBM/sarama",
                "pure-Go Kafka client (formerly Shopify/sarama)",
            ),
        ],
    },
    AlternativeRule {
        cgo_module: "github.com/DataDog/zstd",
        replacements: &[(
            "github.com/klauspost/compress",
            "package zstd: pure-Go Zstandard",
        )],
    },
    AlternativeRule {
        cgo_module: "github.com/valyala/gozstd",
        replacements: &[(
            "github.com/klauspost/compress",
            "package zstd: pure-Go Zstandard",
        )],
    },
    AlternativeRule {
        cgo_module: "github.com/google/brotli/go/cbrotli",
        replacements: &[("github.com/andybalholm/brotli", "pure-Go Brotli")],
    },
    AlternativeRule {
        cgo_module: "github.com/pebbe/zmq4",
        replacements: &[(
            "github.com/go-zeromq/zmq4",
            "pure-Go ZeroMQ (ZMTP); fewer socket options",
        )],
    },
    AlternativeRule {
        cgo_module: "github.com/libgit2/git2go",
        replacements: &[("github.com/go-git/go-git", "pure-Go Git implementation")],
    },
    AlternativeRule {
        cgo_module: "github.com/godror/godror",
        replacements: &[(
            "github.com/sijms/go-ora",
            "pure-Go Oracle client, no Instant Client",
        )],
    },
    AlternativeRule {
        cgo_module: "github.com/mattn/go-oci8",
        replacements: &[(
            "github.com/sijms/go-ora",
            "pure-Go Oracle client, no Instant Client",
        )],
    },
];

/// Pure-Go alternatives for a module path (exact, or the same path with a `/vN` suffix).
pub fn alternatives_for(module_path: &str) -> Vec<Alternative> {
    PURE_GO_ALTERNATIVES
        .iter()
        .filter(|rule| {
            module_path == rule.cgo_module
                || module_path
                    .strip_prefix(rule.cgo_module)
                    .and_then(|rest| rest.strip_prefix("/v"))
                    .is_some_and(|major| {
                        !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())
                    })
        })
        .flat_map(|rule| rule.replacements)
        .map(|(module, note)| Alternative {
            module: (*module).to_owned(),
            note: (*note).to_owned(),
        })
        .collect()
}

/// Target and tags of the build the report is for: cgo use depends on build constraints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgoQuery {
    /// GOOS of the target (the environment's when `None`).
    pub goos: Option<String>,
    /// GOARCH of the target (the environment's when `None`).
    pub goarch: Option<String>,
    /// Build tags, e.g. `netgo`, `osusergo`.
    pub tags: Vec<String>,
}

impl CgoQuery {
    /// `CGO_ENABLED=1 go list -deps -json=FIELDS [-tags=…] PACKAGES` in `dir` for this target,
    /// with the arguments (for error messages).
    pub fn go_list(
        &self,
        goenv: &GoEnv,
        dir: &Path,
        fields: &str,
        packages: &[String],
    ) -> (std::process::Command, Vec<String>) {
        let mut args: Vec<String> = vec!["list".into(), "-deps".into(), format!("-json={fields}")];
        if !self.tags.is_empty() {
            args.push(format!("-tags={}", self.tags.join(",")));
        }
        args.extend(packages.iter().cloned());
        let mut cmd = goenv.command(dir);
        cmd.args(&args).env("CGO_ENABLED", "1");
        if crate::gobuild::early_build_running() {
            // Beside a cold early build the compiler is the critical path; go list has the
            // whole build to finish in (bench/cold.sh: 1.6 s of its CPU competed with it).
            use std::os::unix::process::CommandExt as _;
            // SAFETY: setpriority is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(|| {
                    libc::setpriority(libc::PRIO_PROCESS, 0, 10);
                    Ok(())
                });
            }
        }
        if let Some(goos) = &self.goos {
            cmd.env("GOOS", goos);
        }
        if let Some(goarch) = &self.goarch {
            cmd.env("GOARCH", goarch);
        }
        (cmd, args)
    }
}

/// The fields of `go list -json` read here.
pub const LIST_FIELDS: &str = "ImportPath,Standard,Module,CgoFiles,CFiles,CXXFiles,MFiles,FFiles,SwigFiles,SwigCXXFiles,CgoPkgConfig,CgoLDFLAGS";

/// Runs `CGO_ENABLED=1 go list -deps -json <packages>` in `dir` (GOTOOLCHAIN=local unless set)
/// and reports which packages need cgo. Go's stderr is kept verbatim in errors.
pub fn detect_cgo<S: AsRef<str>>(
    goenv: &GoEnv,
    dir: &Path,
    packages: &[S],
    query: &CgoQuery,
) -> Result<CgoReport, ProjectError> {
    let packages: Vec<String> = packages.iter().map(|p| p.as_ref().to_owned()).collect();
    let (mut cmd, args) = query.go_list(goenv, dir, LIST_FIELDS, &packages);
    let output = cmd.output().map_err(|source| ProjectError::GoNotFound {
        program: goenv.program().display().to_string(),
        source,
    })?;
    let shown = format!("{} (CGO_ENABLED=1)", args.join(" "));
    if !output.status.success() {
        return Err(ProjectError::GoFailed {
            args: shown,
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_owned(),
        });
    }
    let stdout = String::from_utf8(output.stdout).map_err(|_| ProjectError::GoOutput {
        args: shown.clone(),
        reason: "output is not UTF-8".into(),
    })?;
    CgoReport::from_go_list_json(&stdout).map_err(|reason| ProjectError::GoOutput {
        args: shown,
        reason,
    })
}

/// One package of `go list -deps -json`, with the fields gopack reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListedPackage {
    pub(super) import_path: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) dir: PathBuf,
    #[serde(default)]
    pub(super) dep_only: bool,
    /// The packages this one imports directly (resolved import paths; `C` for cgo).
    #[serde(default)]
    pub(super) imports: Vec<String>,
    #[serde(default)]
    standard: bool,
    module: Option<ListedModule>,
    #[serde(default)]
    cgo_files: Vec<String>,
    #[serde(default, rename = "CFiles")]
    c_files: Vec<String>,
    #[serde(default, rename = "CXXFiles")]
    cxx_files: Vec<String>,
    #[serde(default, rename = "MFiles")]
    m_files: Vec<String>,
    #[serde(default, rename = "FFiles")]
    f_files: Vec<String>,
    #[serde(default)]
    swig_files: Vec<String>,
    #[serde(default, rename = "SwigCXXFiles")]
    swig_cxx_files: Vec<String>,
    #[serde(default)]
    cgo_pkg_config: Vec<String>,
    #[serde(default, rename = "CgoLDFLAGS")]
    cgo_ldflags: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedModule {
    path: String,
    version: Option<String>,
    #[serde(default)]
    main: bool,
    replace: Option<Box<ListedModule>>,
}

impl From<ListedModule> for ModuleRef {
    fn from(m: ListedModule) -> Self {
        ModuleRef {
            path: m.path,
            version: m.version.filter(|v| !v.is_empty()),
            main: m.main,
            replaced_by: m.replace.map(|r| Box::new(ModuleRef::from(*r))),
        }
    }
}

/// Library names from `-lfoo` and `-l foo` in linker flags.
fn libraries(ldflags: &[String]) -> Vec<String> {
    let mut libs = Vec::new();
    let mut flags = ldflags.iter();
    while let Some(flag) = flags.next() {
        match flag.strip_prefix("-l") {
            Some("") => libs.extend(flags.next().cloned()),
            Some(name) => libs.push(name.to_owned()),
            None => {}
        }
    }
    libs
}

impl CgoReport {
    /// The report for a build of both sets of packages.
    pub fn merge(mut self, other: CgoReport) -> CgoReport {
        self.needs_cgo |= other.needs_cgo;
        self.runtime_cgo_in_deps |= other.runtime_cgo_in_deps;
        for p in other.packages {
            if !self.packages.iter().any(|q| q.import_path == p.import_path) {
                self.packages.push(p);
            }
        }
        for p in other.std_packages {
            if !self.std_packages.contains(&p) {
                self.std_packages.push(p);
            }
        }
        self.packages
            .sort_by(|a, b| a.import_path.cmp(&b.import_path));
        self.std_packages.sort();
        self
    }

    /// Builds the report from the output of `CGO_ENABLED=1 go list -deps -json` (a stream of
    /// JSON objects), so a caller that already runs that command can reuse its output.
    pub fn from_go_list_json(json: &str) -> Result<CgoReport, String> {
        Ok(CgoReport::from_listed(
            parse_listed(json.as_bytes())?.iter(),
        ))
    }

    /// The report for these packages (a main package and its dependencies, or any set).
    pub(super) fn from_listed<'a>(packages: impl Iterator<Item = &'a ListedPackage>) -> CgoReport {
        let mut report = CgoReport::default();
        for p in packages {
            if p.import_path == "runtime/cgo" {
                report.runtime_cgo_in_deps = true;
            }
            let native_files: Vec<String> = [
                &p.c_files,
                &p.cxx_files,
                &p.m_files,
                &p.f_files,
                &p.swig_files,
                &p.swig_cxx_files,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
            if p.cgo_files.is_empty() && native_files.is_empty() {
                continue;
            }
            if p.standard {
                report.std_packages.push(p.import_path.clone());
                continue;
            }
            let module: Option<ModuleRef> = p.module.clone().map(ModuleRef::from);
            // A replaced module (a fork) gets the alternatives of the module it stands for.
            let alternatives = match &module {
                Some(m) => match (alternatives_for(&m.path), &m.replaced_by) {
                    (found, Some(r)) if found.is_empty() => alternatives_for(&r.path),
                    (found, _) => found,
                },
                None => Vec::new(),
            };
            report.packages.push(CgoPackage {
                import_path: p.import_path.clone(),
                module,
                cgo_files: p.cgo_files.clone(),
                native_files,
                pkg_config: p.cgo_pkg_config.clone(),
                libraries: libraries(&p.cgo_ldflags),
                alternatives,
            });
        }
        report
            .packages
            .sort_by(|a, b| a.import_path.cmp(&b.import_path));
        report.std_packages.sort();
        report.needs_cgo = !report.packages.is_empty();
        report
    }
}

/// Parses the JSON stream of `go list -json`.
pub(super) fn parse_listed(json: &[u8]) -> Result<Vec<ListedPackage>, String> {
    serde_json::Deserializer::from_slice(json)
        .into_iter::<ListedPackage>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad JSON from go list: {e}"))
}
