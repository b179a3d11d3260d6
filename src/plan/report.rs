//! The plan: every decision `gopack build` makes, with the reason for each, as plain data.
//! `gopack plan --json` prints exactly [`Plan`]; `gopack build` builds from it (the same
//! [`GoBuildRequest`]s, the same cgo decision) and fills in what the linked binaries need.
//!
//! [`make_plan`] is pure: it reads go.mod, runs `go env GOVERSION` and one
//! `CGO_ENABLED=1 go list -deps -json` per pattern, and builds nothing unless asked to go deep.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    CgoChoice, CgoDecision, FileChoices, FileDecision, PlanError, Toggle, check_cgo_toolchain,
    decide_cgo, decide_files,
};
use crate::base::BaseSpec;
use crate::binary::elf::read_linkage;
use crate::binary::needs::{DetectedNeed, NeedsReport, needs_of_file};
use crate::gobuild::{self, CgoMode, GoBuildError, GoBuildRequest};
use crate::oci::Platform;
use crate::project::cgo::{CgoPackage, CgoQuery};
use crate::project::{self, GoMod, GoVersion, MainPackage, Project, ProjectError};
use crate::rootfs;

/// Version of the JSON layout of [`Plan`]; raised on any incompatible change.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// What the user asked for: the inputs of a plan (flags and environment).
#[derive(Clone, Debug, Default)]
pub struct PlanRequest {
    pub cwd: PathBuf,
    pub patterns: Vec<String>,
    pub platforms: Vec<Platform>,
    pub ldflags: Vec<String>,
    pub tags: Vec<String>,
    pub cgo: CgoChoice,
    pub files: FileChoices,
    pub user: Option<String>,
    pub extra_ca_files: Vec<PathBuf>,
    /// `--base`: scratch (the embedded empty base), a registry reference, or a layout.
    pub base: BaseSpec,
}

/// Everything `gopack build` will do, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub schema: u32,
    pub module: ModulePlan,
    pub go: GoPlan,
    pub platforms: Vec<String>,
    pub images: Vec<ImagePlan>,
    pub cgo: CgoPlan,
    /// Each `go build` flag and environment variable gopack sets, and why.
    pub flags: Vec<FlagReason>,
    /// Flags gopack never sets, and why (the advice they come from is outdated).
    pub flags_not_used: Vec<FlagReason>,
    pub targets: Vec<TargetPlan>,
    pub base: BasePlan,
    pub user: UserPlan,
    pub files: FilesPlan,
    pub warnings: Vec<String>,
    /// What stops the build (it cannot start until these are fixed); empty when it can run.
    pub problems: Vec<String>,
    /// The project as read by `go list` (absent when go.mod needs a newer Go).
    #[serde(skip)]
    pub project: Option<Project>,
    #[serde(skip)]
    blocker: Blocker,
    #[serde(skip)]
    request: PlanRequest,
}

/// The typed error behind the first problem. A clone keeps only the problem texts.
#[derive(Debug, Default)]
struct Blocker(Option<MakePlanError>);

impl Clone for Blocker {
    fn clone(&self) -> Blocker {
        Blocker(None)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ModulePlan {
    pub path: String,
    pub root: PathBuf,
    /// `vendor/modules.txt` exists: go builds from the vendor directory, offline.
    pub vendored: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct GoPlan {
    /// The `go` line of go.mod: the minimum Go version (hard requirement since Go 1.21).
    pub required: Option<String>,
    /// The `toolchain` line: a suggestion, ignored under GOTOOLCHAIN=local.
    pub toolchain: Option<String>,
    /// `go env GOVERSION` of the Go gopack runs.
    pub installed: String,
    /// GOTOOLCHAIN for the go commands gopack runs (`local` unless set in the environment).
    pub gotoolchain: String,
    /// The installed Go satisfies the `go` line.
    pub satisfied: bool,
    /// What to do when it does not.
    pub suggestion: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImagePlan {
    /// Image name (the binary name, as `go build` chooses it).
    pub name: String,
    pub package: String,
    pub dir: PathBuf,
    pub entrypoint: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CgoPlan {
    /// `--cgo` as given.
    pub choice: CgoChoice,
    /// What the build does.
    pub mode: CgoMode,
    pub reason: String,
    /// Every non-standard package that uses cgo, with its module, C libraries and pure-Go
    /// alternatives.
    pub packages: Vec<CgoPackage>,
    /// Standard-library packages that use cgo (they have pure-Go fallbacks; never force cgo).
    pub std_packages: Vec<String>,
    /// The C compiler a cgo build uses (`$CC`, else gcc); `None` when cgo is off.
    pub c_compiler: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagReason {
    pub flag: String,
    pub why: String,
}

/// One `go build`: one main package for one platform.
#[derive(Clone, Debug, Serialize)]
pub struct TargetPlan {
    pub image: String,
    pub package: String,
    pub platform: Platform,
    /// The exact command (`-o` names the binary; gopack writes it in a private temp directory).
    pub go_build: String,
    /// Filled by `plan --deep` and by `build`: what the linked binary turned out to need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built: Option<BuiltTarget>,
}

/// What one linked binary is and needs, and which base files it gets.
#[derive(Clone, Debug, Serialize)]
pub struct BuiltTarget {
    pub binary_size: u64,
    /// No interpreter and no DT_NEEDED libraries: starts on scratch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_binary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed_libraries: Vec<String>,
    /// Runtime needs with the linked function that shows each.
    pub needs: Vec<DetectedNeed>,
    /// Needs the binary meets itself (e.g. `time/tzdata` embedded).
    pub satisfied_in_binary: Vec<DetectedNeed>,
    /// Why the function table could not be read (then every base file goes in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_error: Option<String>,
    pub files: Vec<FileDecision>,
}

impl BuiltTarget {
    /// The record of one build step: binary size, needs (or why they are unknown), decisions.
    pub fn new(
        binary_size: u64,
        needs: Result<&NeedsReport, &str>,
        files: &[FileDecision],
    ) -> BuiltTarget {
        BuiltTarget {
            binary_size,
            static_binary: None,
            interpreter: None,
            needed_libraries: Vec::new(),
            needs: needs.map(|n| n.needs.clone()).unwrap_or_default(),
            satisfied_in_binary: needs
                .map(|n| n.satisfied_in_binary.clone())
                .unwrap_or_default(),
            needs_error: needs.err().map(str::to_string),
            files: files.to_vec(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BasePlan {
    pub image: String,
    /// Built into gopack (nothing is pulled).
    pub embedded: bool,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct UserPlan {
    pub user: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FilesPlan {
    /// How the files are chosen.
    pub decided_from: String,
    /// One rule per group of files, with the flag that overrides it.
    pub rules: Vec<FileRule>,
    /// `--ca-file`: PEM files appended to the CA bundle when it goes in.
    pub extra_ca_files: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileRule {
    pub files: String,
    pub flag: String,
    pub choice: Toggle,
    pub rule: String,
}

/// Why no plan could be made, or why its build cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MakePlanError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    GoBuild(#[from] GoBuildError),
    #[error("cannot read the built binary {path}: {reason}")]
    BadBinary { path: PathBuf, reason: String },
    #[error("cannot create a build directory in {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Problems(String),
}

fn gotoolchain() -> String {
    std::env::var("GOTOOLCHAIN")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// The directory of the first pattern, where go.mod is looked up (as `project::load` does).
fn first_dir(request: &PlanRequest) -> PathBuf {
    let pattern = request.patterns.first().map(String::as_str).unwrap_or(".");
    let dir = request
        .cwd
        .join(pattern.strip_suffix("/...").unwrap_or(pattern));
    if dir.is_dir() {
        dir
    } else {
        request.cwd.clone()
    }
}

/// A Go version as a toolchain name (`1.99` → `go1.99.0`, `1.99.2` → `go1.99.2`).
fn toolchain_name(version: &str) -> String {
    match GoVersion::parse(version) {
        Some(v) if v.release => format!("go{}.{}.{}", v.major, v.minor, v.patch),
        _ => format!("go{}", version.trim_start_matches("go")),
    }
}

fn go_plan(gomod: &GoMod, installed: &str) -> GoPlan {
    let gotoolchain = gotoolchain();
    let user_chose_toolchain = gotoolchain != "local";
    let too_old = gomod.go_version.as_deref().is_some_and(|required| {
        matches!(
            (GoVersion::parse(required), GoVersion::parse(installed)),
            (Some(need), Some(have)) if need > have
        )
    });
    let suggestion = too_old.then(|| {
        let required = gomod.go_version.as_deref().unwrap_or_default();
        let name = toolchain_name(required);
        format!(
            "go.mod requires go >= {required} but {installed} is installed: install Go \
             {required} or newer (https://go.dev/dl), or let go download it for this build with \
             `GOTOOLCHAIN={name} gopack build`, or pin it in go.mod with `go mod edit \
             -toolchain={name}` and build with GOTOOLCHAIN=auto"
        )
    });
    GoPlan {
        required: gomod.go_version.clone(),
        toolchain: gomod.toolchain.clone(),
        installed: installed.to_string(),
        gotoolchain,
        satisfied: !too_old || user_chose_toolchain,
        suggestion,
    }
}

/// Makes the plan for `request`. Errors are those that leave nothing to report (no module, a
/// broken go.mod, Go's own `go list` errors, `--cgo off` on a program that needs cgo). A plan
/// whose build cannot start (go.mod needs a newer Go, no C compiler) is returned with
/// [`Plan::problems`] filled; [`Plan::check_buildable`] turns them into the error.
pub fn make_plan(request: &PlanRequest) -> Result<Plan, MakePlanError> {
    let root = project::find_module_root(&first_dir(request))?;
    let gomod = GoMod::read(&root.join("go.mod"))?;
    let installed = project::installed_go_version(&root)?;
    let go = go_plan(&gomod, &installed);
    let platforms: Vec<Platform> = if request.platforms.is_empty() {
        vec![Platform::host()]
    } else {
        request.platforms.clone()
    };
    let user = request
        .user
        .clone()
        .unwrap_or_else(|| rootfs::NONROOT_USER.into());
    let mut plan = Plan {
        schema: PLAN_SCHEMA_VERSION,
        module: ModulePlan {
            path: gomod.module.clone(),
            vendored: root.join("vendor/modules.txt").is_file(),
            root: root.clone(),
        },
        platforms: platforms.iter().map(Platform::to_string).collect(),
        images: Vec::new(),
        cgo: CgoPlan {
            choice: request.cgo,
            mode: CgoMode::Off,
            reason: String::new(),
            packages: Vec::new(),
            std_packages: Vec::new(),
            c_compiler: None,
        },
        flags: Vec::new(),
        flags_not_used: flags_not_used(),
        targets: Vec::new(),
        base: BasePlan {
            image: "scratch".into(),
            embedded: true,
            reason: String::new(),
        },
        user: user_plan(&user, request.user.is_some()),
        files: files_plan(request),
        warnings: Vec::new(),
        problems: Vec::new(),
        project: None,
        blocker: Blocker::default(),
        request: PlanRequest {
            platforms: platforms.clone(),
            ..request.clone()
        },
        go,
    };
    plan.warnings = environment_warnings(&plan, request);
    if !plan.go.satisfied {
        let required = gomod.go_version.clone().unwrap_or_default();
        plan.problems.push(
            plan.go
                .suggestion
                .clone()
                .unwrap_or_else(|| format!("go.mod requires go >= {required}")),
        );
        plan.blocker.0 = Some(MakePlanError::Project(ProjectError::GoTooOld {
            gomod: root.join("go.mod"),
            required,
            installed,
        }));
        plan.base.reason = "not decided: go list cannot run until the Go version is fixed".into();
        plan.cgo.reason = plan.base.reason.clone();
        return Ok(plan);
    }

    let query = CgoQuery {
        goos: Some(platforms[0].os.clone()),
        goarch: Some(platforms[0].architecture.clone()),
        tags: request.tags.clone(),
    };
    let project = project::load(&request.cwd, &request.patterns, &query)?;
    let decision = decide_cgo(request.cgo, &project.cgo)?;
    let c_compiler = (decision.mode != CgoMode::Off)
        .then(|| std::env::var("CC").ok().unwrap_or_else(|| "gcc".into()));
    if let Err(e) = check_cgo_toolchain(
        &decision,
        &project.cgo,
        &platforms,
        std::env::var("CC").ok().as_deref(),
    ) {
        plan.problems.push(e.to_string());
        plan.blocker.0 = Some(e.into());
    }
    plan.cgo = CgoPlan {
        choice: request.cgo,
        mode: decision.mode,
        reason: decision.reason,
        packages: project.cgo.packages.clone(),
        std_packages: project.cgo.std_packages.clone(),
        c_compiler,
    };
    plan.base.reason = base_reason(decision.mode);
    if request.base != BaseSpec::Scratch {
        plan.base = BasePlan {
            image: request.base.to_string(),
            embedded: false,
            reason: format!(
                "--base: its layers come first and its Env and WorkingDir are kept; gopack sets \
                 Entrypoint and User, drops its Cmd and labels, adds only the files it lacks, and \
                 {}",
                if decision.mode == CgoMode::Off {
                    "the static binary needs nothing else from it"
                } else {
                    "checks that it holds the binary's loader and every DT_NEEDED library"
                }
            ),
        };
    }
    plan.images = project
        .mains
        .iter()
        .map(|m| ImagePlan {
            name: m.name.clone(),
            package: m.import_path.clone(),
            dir: m.dir.clone(),
            entrypoint: vec![format!("/usr/local/bin/{}", m.name)],
        })
        .collect();
    for main in &project.mains {
        for platform in &platforms {
            let shown =
                plan.go_build_request_for(&project, main, platform, PathBuf::from(&main.name));
            plan.targets.push(TargetPlan {
                image: main.name.clone(),
                package: main.import_path.clone(),
                platform: platform.clone(),
                go_build: shown.command_line(),
                built: None,
            });
        }
    }
    plan.flags = flag_reasons(&plan, &platforms);
    plan.warnings.extend(flag_warnings(request, decision.mode));
    plan.project = Some(project);
    Ok(plan)
}

impl Plan {
    /// The cgo decision the build follows.
    pub fn cgo_decision(&self) -> CgoDecision {
        CgoDecision {
            mode: self.cgo.mode,
            reason: self.cgo.reason.clone(),
        }
    }

    /// The user the image runs as.
    pub fn user(&self) -> &str {
        &self.user.user
    }

    /// `--certs`, `--tz`, `--userdb`, `--tmp` as given.
    pub fn file_choices(&self) -> &FileChoices {
        &self.request.files
    }

    /// `Err` with the first problem when the build cannot start.
    pub fn check_buildable(&mut self) -> Result<(), MakePlanError> {
        match self.blocker.0.take() {
            Some(e) => Err(e),
            None if !self.problems.is_empty() => {
                Err(MakePlanError::Problems(self.problems.join("\n")))
            }
            None => Ok(()),
        }
    }

    /// The `go build` the plan stands for, writing the binary to `output`.
    pub fn go_build_request(
        &self,
        package: &MainPackage,
        platform: &Platform,
        output: PathBuf,
    ) -> GoBuildRequest {
        let project = self
            .project
            .as_ref()
            .expect("a buildable plan has a project");
        self.go_build_request_for(project, package, platform, output)
    }

    fn go_build_request_for(
        &self,
        project: &Project,
        package: &MainPackage,
        platform: &Platform,
        output: PathBuf,
    ) -> GoBuildRequest {
        GoBuildRequest {
            module_root: project.module_root.clone(),
            package: package.clone(),
            platform: platform.clone(),
            ldflags: self.request.ldflags.clone(),
            tags: self.request.tags.clone(),
            cgo: self.cgo.mode,
            output,
        }
    }

    /// Records what the build of `package` for `platform` linked and decided.
    pub fn record(&mut self, package: &str, platform: &Platform, built: BuiltTarget) {
        if let Some(t) = self
            .targets
            .iter_mut()
            .find(|t| t.package == package && &t.platform == platform)
        {
            t.built = Some(built);
        }
    }

    /// `plan --deep`: builds every target into `dir` with the same requests as `build`, and
    /// reads what each linked binary needs.
    pub fn go_deep(&mut self, dir: &Path) -> Result<(), MakePlanError> {
        self.check_buildable()?;
        let Some(project) = self.project.clone() else {
            return Ok(());
        };
        for index in 0..self.targets.len() {
            let platform = self.targets[index].platform.clone();
            let Some(main) = project
                .mains
                .iter()
                .find(|m| m.import_path == self.targets[index].package)
            else {
                continue;
            };
            let output = dir.join(format!("{}-{}", main.name, platform.slug()));
            let request = self.go_build_request(main, &platform, output);
            let binary = gobuild::build(&request)?;
            let bad = |reason: String| MakePlanError::BadBinary {
                path: binary.path.clone(),
                reason,
            };
            let data = std::fs::read(&binary.path).map_err(|e| bad(e.to_string()))?;
            let linkage = read_linkage(&data).map_err(|e| bad(e.to_string()))?;
            drop(data);
            let needs = needs_of_file(&binary.path).map_err(|e| e.to_string());
            let (_, files) = decide_files(
                &self.request.files,
                needs.as_ref().map_err(String::as_str),
                &self.user.user,
            );
            let mut built =
                BuiltTarget::new(binary.size, needs.as_ref().map_err(String::as_str), &files);
            built.static_binary = Some(linkage.is_static());
            if !linkage.is_static() {
                built.interpreter = linkage.interpreter.clone();
                built.needed_libraries = linkage.needed_libraries.clone();
                if self.cgo.mode != CgoMode::Dynamic {
                    self.problems.push(format!(
                        "{} ({platform}) links dynamically ({}): it would not start on scratch",
                        main.name,
                        linkage.needed_libraries.join(", ")
                    ));
                }
            }
            self.targets[index].built = Some(built);
        }
        Ok(())
    }
}

fn user_plan(user: &str, given: bool) -> UserPlan {
    let reason = if given {
        format!("--user {user}")
    } else {
        "default: 65532:65532 (nonroot), numeric so Kubernetes runAsNonRoot can verify it, with \
         the same uid/gid as distroless"
            .into()
    };
    UserPlan {
        user: user.to_string(),
        reason,
    }
}

fn base_reason(mode: CgoMode) -> String {
    match mode {
        CgoMode::Off => "the binary is static (CGO_ENABLED=0), so it needs no C library, \
                         loader or shell: only the files it reads are added"
            .into(),
        CgoMode::Static => "cgo is linked statically (checked in the ELF after linking), so \
                            the binary needs no C library at run time"
            .into(),
        CgoMode::Dynamic => "--cgo dynamic: the binary will need its C libraries and loader; \
                             gopack stops after linking with the list of DT_NEEDED libraries, \
                             because scratch has none"
            .into(),
    }
}

fn flags_not_used() -> Vec<FlagReason> {
    let reason = |flag: &str, why: &str| FlagReason {
        flag: flag.into(),
        why: why.into(),
    };
    vec![
        reason(
            "-a",
            "obsolete since Go 1.10: the build cache is content-based, so -a only makes builds \
             slower (same bytes)",
        ),
        reason(
            "-installsuffix cgo",
            "has no effect: $GOROOT/pkg has had no prebuilt archives since Go 1.20",
        ),
        reason("-w", "-ldflags=-s already implies -w (no DWARF)"),
        reason(
            "-buildid=",
            "not needed for reproducible builds: the build ID is a hash of the inputs",
        ),
    ]
}

fn flag_reasons(plan: &Plan, platforms: &[Platform]) -> Vec<FlagReason> {
    let mut flags = Vec::new();
    let mut add = |flag: String, why: &str| {
        flags.push(FlagReason {
            flag,
            why: why.into(),
        })
    };
    match plan.cgo.mode {
        CgoMode::Off => add(
            "CGO_ENABLED=0".into(),
            "no package outside the standard library needs cgo: pure Go links a static binary \
             that runs on scratch, and the build does not depend on the C toolchain",
        ),
        _ => add(
            "CGO_ENABLED=1".into(),
            "cgo packages must be compiled with the C compiler (see cgo below)",
        ),
    }
    let env: Vec<String> = platforms
        .iter()
        .map(|p| {
            p.go_env()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    add(
        env.join(" | "),
        "the target platform of each image, set explicitly so the host's GOOS/GOARCH never leak in",
    );
    if plan.go.gotoolchain == "local" {
        add(
            "GOTOOLCHAIN=local".into(),
            "use the installed Go and never download a toolchain silently",
        );
    } else {
        add(
            format!("GOTOOLCHAIN={}", plan.go.gotoolchain),
            "from your environment: go may download the toolchain go.mod asks for",
        );
    }
    add(
        "-trimpath".into(),
        "removes local file system paths (and GOROOT) from the binary: same bytes on any \
         machine, no home directory leaked",
    );
    add(
        "-ldflags=-s".into(),
        "drops the symbol table and (since -s implies -w) DWARF: about 30% smaller; stack \
         traces still work, and gopack reads needs from .gopclntab, which -s keeps",
    );
    if plan.cgo.mode == CgoMode::Static {
        add(
            "-ldflags=-linkmode external -extldflags \"-static\"".into(),
            "links the C code statically with the system linker, so the binary needs no libc \
             on scratch",
        );
        add(
            "-tags=netgo,osusergo".into(),
            "pure-Go DNS resolver and user lookups: no glibc getaddrinfo/getpwuid_r, which do \
             not work in a static binary",
        );
    }
    if !plan.request.ldflags.is_empty() {
        add(
            format!("-ldflags=… {}", plan.request.ldflags.join(" ")),
            "your --ldflags, appended after gopack's",
        );
    }
    if !plan.request.tags.is_empty() {
        add(
            format!("-tags={}", plan.request.tags.join(",")),
            "your --tags",
        );
    }
    flags
}

fn files_plan(request: &PlanRequest) -> FilesPlan {
    let c = &request.files;
    let rule = |files: &str, flag: &str, choice: Toggle, auto: &str| FileRule {
        files: files.into(),
        flag: flag.into(),
        choice,
        rule: match choice {
            Toggle::Auto => auto.into(),
            Toggle::Yes => format!("forced on by {flag} yes"),
            Toggle::No => format!("forced off by {flag} no"),
        },
    };
    FilesPlan {
        decided_from: "the linked binary: after go build, gopack reads the functions that \
                       survived dead-code elimination from its .gopclntab and adds only the \
                       files they read (run `gopack plan --deep` to build now and see them)"
            .into(),
        rules: vec![
            rule(
                rootfs::CA_BUNDLE_PATH,
                "--certs",
                c.certs,
                "when crypto/x509 system-root loading is linked (TLS clients); Mozilla's roots \
                 built into gopack, plus --ca-file",
            ),
            rule(
                rootfs::ZONEINFO_DIR,
                "--tz",
                c.tz,
                "when time.LoadLocation is linked and time/tzdata is not embedded",
            ),
            rule(
                "/etc/passwd, /etc/group, /home/nonroot",
                "--userdb",
                c.userdb,
                "when os/user lookups are linked, or the image runs as a named --user",
            ),
            rule(
                "/tmp",
                "--tmp",
                c.tmp,
                "always: an empty 1777 directory, since os.TempDir() leaves no trace in the binary",
            ),
        ],
        extra_ca_files: request.extra_ca_files.clone(),
    }
}

fn environment_warnings(plan: &Plan, request: &PlanRequest) -> Vec<String> {
    let mut warnings = Vec::new();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let goflags = env("GOFLAGS");
    if let Some(flags) = &goflags {
        warnings.push(format!(
            "GOFLAGS=\"{flags}\" is set in the environment: go applies it to the go list and go \
             build gopack runs"
        ));
        for word in flags.split_whitespace() {
            if word == "-a" || word.starts_with("-installsuffix") {
                warnings.push(format!(
                    "GOFLAGS contains {word}: obsolete since Go 1.10, it only slows builds down"
                ));
            }
        }
        if flags.contains("-mod=vendor") && !plan.module.vendored {
            warnings.push(
                "GOFLAGS has -mod=vendor but there is no vendor/modules.txt: run `go mod vendor`"
                    .into(),
            );
        }
    }
    if plan.module.vendored {
        let mod_flag = goflags
            .as_deref()
            .and_then(|f| f.split_whitespace().find(|w| w.starts_with("-mod=")));
        match mod_flag {
            Some(flag) if flag != "-mod=vendor" => warnings.push(format!(
                "vendor/modules.txt is present but GOFLAGS has {flag}: go will not build from \
                 vendor/"
            )),
            _ => warnings.push(
                "vendor/modules.txt is present: go builds from vendor/ (-mod=vendor is the default \
                 for go ≥ 1.14), offline; run `go mod vendor` after changing go.mod"
                    .into(),
            ),
        }
    }
    if let Some(v) = env("CGO_ENABLED") {
        warnings.push(format!(
            "CGO_ENABLED={v} in the environment is ignored: gopack sets it from the cgo decision \
             (use --cgo)"
        ));
    }
    for k in ["GOOS", "GOARCH", "GOAMD64", "GOARM", "GOARM64"] {
        if let Some(v) = env(k) {
            warnings.push(format!(
                "{k}={v} in the environment is ignored: gopack sets it from --platform"
            ));
        }
    }
    if plan.go.gotoolchain != "local" {
        warnings.push(format!(
            "GOTOOLCHAIN={} from the environment: go may download a toolchain",
            plan.go.gotoolchain
        ));
    } else if let (Some(t), Some(have)) = (
        plan.go.toolchain.as_deref().and_then(GoVersion::parse),
        GoVersion::parse(&plan.go.installed),
    ) && t > have
    {
        warnings.push(format!(
            "go.mod suggests `toolchain {}`, but gopack runs with GOTOOLCHAIN=local, which \
             ignores it: building with {} (set GOTOOLCHAIN=auto to use the suggested one)",
            plan.go.toolchain.as_deref().unwrap_or_default(),
            plan.go.installed
        ));
    }
    for ca in &request.extra_ca_files {
        if !ca.is_file() {
            warnings.push(format!("--ca-file {}: no such file", ca.display()));
        }
    }
    warnings
}

fn flag_warnings(request: &PlanRequest, mode: CgoMode) -> Vec<String> {
    let mut warnings = Vec::new();
    for word in &request.ldflags {
        match word.as_str() {
            "-w" => warnings
                .push("--ldflags -w is redundant: gopack's -s already implies -w".to_string()),
            "-s" => warnings.push("--ldflags -s is redundant: gopack always passes -s".into()),
            "-linkmode" if mode == CgoMode::Off => warnings.push(
                "--ldflags -linkmode with CGO_ENABLED=0: external linking needs cgo (an error \
                 since Go 1.22), and a pure-Go binary is already static"
                    .into(),
            ),
            _ => {}
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gomod(go: &str, toolchain: Option<&str>) -> GoMod {
        GoMod {
            module: "example.com/app".into(),
            go_version: Some(go.into()),
            toolchain: toolchain.map(str::to_string),
        }
    }

    #[test]
    fn toolchain_names_are_full_releases() {
        assert_eq!(toolchain_name("1.99"), "go1.99.0");
        assert_eq!(toolchain_name("1.27.3"), "go1.27.3");
        assert_eq!(toolchain_name("1.28rc1"), "go1.28rc1");
    }

    #[test]
    fn a_newer_go_line_is_unsatisfied_with_the_exact_suggestion() {
        if std::env::var_os("GOTOOLCHAIN").is_some() {
            return; // the verdict depends on the caller's toolchain policy
        }
        let plan = go_plan(&gomod("1.99", None), "go1.26.8");
        assert!(!plan.satisfied);
        let s = plan.suggestion.unwrap();
        assert!(s.contains("`GOTOOLCHAIN=go1.99.0 gopack build`"), "{s}");
        assert!(s.contains("`go mod edit -toolchain=go1.99.0`"), "{s}");
        let ok = go_plan(&gomod("1.22", Some("go1.30.1")), "go1.26.8");
        assert!(ok.satisfied && ok.suggestion.is_none());
    }

    #[test]
    fn redundant_and_impossible_ldflags_are_warned_about() {
        let request = PlanRequest {
            ldflags: vec!["-w".into(), "-linkmode".into(), "external".into()],
            ..PlanRequest::default()
        };
        let off = flag_warnings(&request, CgoMode::Off);
        assert_eq!(off.len(), 2, "{off:?}");
        assert!(off[1].contains("error since Go 1.22"));
        assert_eq!(flag_warnings(&request, CgoMode::Static).len(), 1);
    }
}
