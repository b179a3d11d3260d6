//! [`make_plan`]: from the request and the Go environment to the [`Plan`].

use std::path::{Path, PathBuf};

use super::cgo::{self as cgo_plan, CgoDecision, check_cgo_toolchain, decide_cgo};
use super::data::scan;
use super::files::{Toggle, files_plan};
use super::flags::{self, FlagContext};
use super::user::{decide_user, writable_plan};
use super::{
    BINARY_DIR, BasePlan, ImagePlan, MakePlanError, ModulePlan, PLAN_SCHEMA_VERSION, Plan,
    PlanRequest, Problem, TargetPlan, go,
};
use crate::base::BaseSpec;
use crate::config::GoEnv;
use crate::gobuild::flags::{BuildFlags, FlagInputs, GoFlag, dynamic_cause, parse_goflags};
use crate::gobuild::platform::{LevelChoice, apply_environment_level, target_env};
use crate::gobuild::{CgoMode, GoBuildRequest};
use crate::oci::Platform;
use crate::project::cgo::CgoQuery;
use crate::project::{self, GoMod, MainCommand, Project};

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

/// The platforms to build: `--platform` (else the host's), with the environment's level
/// variable (GOAMD64…) applied where the platform names no variant.
pub fn target_platforms(request: &PlanRequest, goenv: &GoEnv) -> Vec<(Platform, LevelChoice)> {
    let requested = if request.platforms.is_empty() {
        vec![Platform::host()]
    } else {
        request.platforms.clone()
    };
    let mut out: Vec<(Platform, LevelChoice)> = Vec::new();
    for p in &requested {
        let (platform, choice) = apply_environment_level(p, goenv);
        if !out.iter().any(|(q, _)| *q == platform) {
            out.push((platform, choice));
        }
    }
    out
}

/// Makes the plan for `request`. Errors are those that leave nothing to report (no module, a
/// broken go.mod, Go's own `go list` errors). A plan whose build cannot start (go.mod needs a
/// newer Go, --cgo off on a cgo program, no C compiler, a bad --data directory) is returned
/// with [`Plan::problems`] filled.
pub fn make_plan(request: &PlanRequest, goenv: &GoEnv) -> Result<Plan, MakePlanError> {
    // A pattern written as a path is a directory; say so when it is missing, rather than
    // looking for go.mod from the working directory and blaming that.
    for pattern in &request.patterns {
        let path = pattern.strip_suffix("/...").unwrap_or(pattern);
        let dir = request.cwd.join(path);
        let path_like = ["./", "../", "/"].iter().any(|p| path.starts_with(p)) || path == "..";
        if path_like && !dir.is_dir() {
            return Err(project::ProjectError::NoSuchDirectory {
                pattern: pattern.clone(),
                dir,
            }
            .into());
        }
    }
    let root = project::find_module_root(&first_dir(request))?;
    let gomod = GoMod::read(&root.join("go.mod"))?;
    let levels = target_platforms(request, goenv);
    let platforms: Vec<Platform> = levels.iter().map(|(p, _)| p.clone()).collect();
    let mut plan = inputs_plan(request, goenv, &root, &gomod, &platforms);
    let goflags_value = effective_goflags(goenv, request);
    let goflags = match goflags_value.as_deref().map(parse_goflags).transpose() {
        Ok(flags) => flags.unwrap_or_default(),
        Err(e) => {
            plan.problems.push(Problem::Flags(e.to_string()));
            Vec::new()
        }
    };
    plan.warnings.extend(flags::environment_warnings(
        goenv,
        &goflags,
        plan.module.vendored,
    ));
    plan.warnings.extend(flags::level_warnings(goenv, &levels));
    if let Some(w) = go::ignored_toolchain_warning(&plan.go) {
        plan.warnings.push(w);
    }
    if !plan.go.satisfied {
        plan.problems.insert(
            0,
            Problem::GoTooOld {
                required: plan.go.required.clone().unwrap_or_default(),
                installed: plan.go.installed.clone(),
                suggestion: plan.go.suggestion.clone().unwrap_or_default(),
            },
        );
        plan.base.reason = "not decided: go list cannot run until the Go version is fixed".into();
        plan.cgo.reason = plan.base.reason.clone();
        return Ok(plan);
    }
    let user_tags = goflags_and_user_tags(&goflags, request);
    let query = CgoQuery {
        goos: Some(platforms[0].os.clone()),
        goarch: Some(platforms[0].architecture.clone()),
        tags: user_tags,
    };
    let project = project::load(goenv, &request.cwd, &request.patterns, &query)?;
    add_images(&mut plan, request, goenv, &project, &platforms);
    add_targets(&mut plan, request, goenv, &goflags, &project);
    let modes: Vec<CgoMode> = plan.images.iter().map(|i| i.cgo.mode).collect();
    plan.flags = flags::flag_reasons(&FlagContext {
        goenv,
        goflags: &goflags,
        modes: &modes,
        platforms: &platforms,
        levels: &levels,
        ldflags: &request.ldflags,
        tags: &request.tags,
        config_flags: &request.go_flags,
    });
    plan.warnings
        .extend(flags::ldflags_warnings(&request.ldflags, &modes));
    Ok(plan)
}

/// GOFLAGS as the build runs with it: the environment's, then gopack.toml's `flags`, quoted
/// as go reads GOFLAGS.
pub fn effective_goflags(goenv: &GoEnv, request: &PlanRequest) -> Option<String> {
    let extra = crate::gobuild::quoted::join(&request.go_flags).unwrap_or_default();
    match (goenv.get("GOFLAGS"), extra.is_empty()) {
        (Some(g), true) => Some(g.to_string()),
        (Some(g), false) => Some(format!("{g} {extra}")),
        (None, false) => Some(extra),
        (None, true) => None,
    }
}

/// GOFLAGS' `-tags` and `--tags`: the tags `go list` must see to find the same files.
fn goflags_and_user_tags(goflags: &[GoFlag], request: &PlanRequest) -> Vec<String> {
    let inputs = FlagInputs {
        goflags: Some(("", goflags)),
        ldflags: &[],
        tags: &request.tags,
    };
    BuildFlags::compose(inputs, CgoMode::Off, "")
        .map(|f| f.tags)
        .unwrap_or_else(|_| request.tags.clone())
}

/// The parts of the plan that follow from the inputs alone (before `go list`).
fn inputs_plan(
    request: &PlanRequest,
    goenv: &GoEnv,
    root: &Path,
    gomod: &GoMod,
    platforms: &[Platform],
) -> Plan {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let user = match decide_user(request.user.as_deref()) {
        Ok((user, user_warnings)) => {
            warnings.extend(user_warnings);
            user
        }
        Err(e) => {
            problems.push(Problem::Input(e));
            super::user::default_user()
        }
    };
    warnings.extend(input_warnings(request));
    if request.files.certs == Toggle::No && !request.extra_ca_files.is_empty() {
        problems.push(Problem::Input(
            "--ca-file with --certs=no: there would be no bundle to carry your CA; drop one of \
             them"
                .into(),
        ));
    }
    let mut data = Vec::new();
    for dir in &request.data {
        match scan(dir, request.data_symlinks) {
            Ok(d) => data.push(d),
            Err(e) => problems.push(e.into()),
        }
    }
    let tmp = request.files.tmp != Toggle::No;
    Plan {
        schema: PLAN_SCHEMA_VERSION,
        module: ModulePlan {
            path: gomod.module.clone(),
            vendored: root.join("vendor/modules.txt").is_file(),
            root: root.to_path_buf(),
        },
        go: go::go_plan(gomod, goenv),
        platforms: platforms.iter().map(Platform::to_string).collect(),
        images: Vec::new(),
        cgo: cgo_plan::summary(request.cgo, &Default::default(), &[]),
        flags: Vec::new(),
        flags_not_used: flags::flags_not_used(),
        targets: Vec::new(),
        base: base_plan(&request.base, None),
        writable: writable_plan(&user, tmp, &request.writable),
        user,
        files: files_plan(&request.files, &request.extra_ca_files),
        data,
        warnings,
        problems,
        settings: request.settings.clone(),
        env: request.env.clone(),
        extra_ca_files: request.extra_ca_files.clone(),
        file_choices: request.files,
        base_spec: request.base.clone(),
    }
}

fn input_warnings(request: &PlanRequest) -> Vec<String> {
    let mut warnings = flags::env_warnings(&request.env);
    for ca in &request.extra_ca_files {
        if !ca.is_file() {
            warnings.push(format!("--ca-file {}: no such file", ca.display()));
        }
    }
    let tz = request.env.iter().rev().find(|(k, _)| k == "TZ");
    if let (Some((_, tz)), Toggle::No) = (tz, request.files.tz) {
        warnings.push(format!(
            "TZ={tz} is set, but --tz=no leaves {} out: unless the program embeds time/tzdata, \
             it runs in UTC",
            crate::rootfs::ZONEINFO_DIR
        ));
    }
    warnings
}

/// One image per main package, each with its own cgo decision.
fn add_images(
    plan: &mut Plan,
    request: &PlanRequest,
    goenv: &GoEnv,
    project: &Project,
    platforms: &[Platform],
) {
    let mut decisions = Vec::new();
    for MainCommand { package, cgo } in &project.mains {
        let decision = match decide_cgo(request.cgo, cgo) {
            Ok(d) => {
                if let Err(e) = check_cgo_toolchain(&d, cgo, platforms, goenv) {
                    push_once(plan, &package.name, e);
                }
                d
            }
            Err(e) => {
                let reason = e.to_string();
                push_once(plan, &package.name, e);
                CgoDecision {
                    mode: CgoMode::Off,
                    reason,
                }
            }
        };
        decisions.push((package.name.clone(), decision.clone()));
        plan.images.push(ImagePlan {
            name: package.name.clone(),
            package: package.import_path.clone(),
            dir: package.dir.clone(),
            entrypoint: vec![format!("{BINARY_DIR}/{}", package.name)],
            cgo: decision,
            main: package.clone(),
            cgo_report: cgo.clone(),
        });
    }
    plan.cgo = cgo_plan::summary(request.cgo, &project.cgo, &decisions);
    if decisions.iter().any(|(_, d)| d.mode != CgoMode::Off) {
        plan.cgo.c_compiler = Some(goenv.c_compiler());
    }
    plan.base = base_plan(&request.base, plan.cgo.mode);
}

/// Adds a cgo problem unless the same one is already there (several images share a cause).
fn push_once(plan: &mut Plan, image: &str, error: super::PlanError) {
    let text = error.to_string();
    if !plan.problems.iter().any(|p| match p {
        Problem::Cgo { error, .. } => error.to_string() == text,
        _ => false,
    }) {
        plan.problems.push(Problem::Cgo {
            image: image.to_string(),
            error,
        });
    }
}

/// One `go build` per image and platform, with the exact command.
fn add_targets(
    plan: &mut Plan,
    request: &PlanRequest,
    goenv: &GoEnv,
    goflags: &[GoFlag],
    project: &Project,
) {
    let goflags_value = effective_goflags(goenv, request);
    let goflags_value = goflags_value.as_deref();
    let platforms: Vec<Platform> = plan
        .platforms
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    for image in plan.images.clone() {
        let inputs = FlagInputs {
            goflags: goflags_value.map(|v| (v, goflags)),
            ldflags: &request.ldflags,
            tags: &request.tags,
        };
        let flags = match BuildFlags::compose(inputs, image.cgo.mode, &image.package) {
            Ok(f) => f,
            Err(e) => {
                plan.problems.push(Problem::Flags(e.to_string()));
                continue;
            }
        };
        let cause = dynamic_cause(goflags, &flags.ldflags_words(), image.cgo.mode);
        for platform in &platforms {
            let build = GoBuildRequest {
                module_root: project.module_root.clone(),
                package: image.main.clone(),
                platform: platform.clone(),
                cgo: image.cgo.mode,
                flags: flags.clone(),
                target_env: target_env(platform, goenv),
            };
            plan.targets.push(TargetPlan {
                image: image.name.clone(),
                package: image.package.clone(),
                platform: platform.clone(),
                go_build: build.command_line(Path::new(&image.name)),
                dynamic_cause: cause.clone(),
                request: build,
            });
        }
    }
}

fn base_plan(spec: &BaseSpec, mode: Option<CgoMode>) -> BasePlan {
    if *spec != BaseSpec::Scratch {
        return BasePlan {
            image: spec.to_string(),
            embedded: false,
            reason: format!(
                "--base: its layers come first and its Env and WorkingDir are kept; gopack sets \
                 Entrypoint and User, drops its Cmd and labels, adds only the files it lacks \
                 (merging --ca-file and the run user into its own files), and {}",
                if mode == Some(CgoMode::Off) {
                    "the static binary needs nothing else from it"
                } else {
                    "checks that it holds each dynamic binary's loader and every DT_NEEDED library"
                }
            ),
        };
    }
    let reason = match mode {
        Some(CgoMode::Off) => {
            "the binary is static (CGO_ENABLED=0), so it needs no C library, loader or shell: \
             only the files it reads are added"
        }
        Some(CgoMode::Static) => {
            "cgo is linked statically (checked in the ELF after linking), so the binary needs \
             no C library at run time"
        }
        Some(CgoMode::Dynamic) => {
            "--cgo dynamic: the binary will need its C libraries and loader; gopack stops after \
             linking with the list of DT_NEEDED libraries, because scratch has none"
        }
        None => {
            "each binary is static (CGO_ENABLED=0, or cgo linked statically and checked in the \
             ELF), so it needs no C library: only the files it reads are added"
        }
    };
    BasePlan {
        image: "scratch".into(),
        embedded: true,
        reason: reason.into(),
    }
}

/// The build `make_plan` will most likely ask for first, guessed without `go list` for the
/// common case of one directory holding one main package and cgo left to auto or off: the
/// directory's package, cgo off, the first platform, the same flags. `None` when there is no
/// such guess. The guess is only ever used for exactly the same build.
pub fn early_guess(request: &PlanRequest, goenv: &GoEnv) -> Option<GoBuildRequest> {
    let [pattern] = request.patterns.as_slice() else {
        return None;
    };
    let dir = request.cwd.join(pattern).canonicalize().ok()?;
    if matches!(
        request.cgo,
        super::CgoChoice::Static | super::CgoChoice::Dynamic
    ) || !has_go_files(&dir)
    {
        return None;
    }
    let module_root = project::find_module_root(&dir).ok()?;
    let (platform, _) = target_platforms(request, goenv).into_iter().next()?;
    if !request.go_flags.is_empty() {
        return None;
    }
    let goflags = goenv.get("GOFLAGS").map(parse_goflags).transpose().ok()?;
    let inputs = FlagInputs {
        goflags: goenv.get("GOFLAGS").zip(goflags.as_deref()),
        ldflags: &request.ldflags,
        tags: &request.tags,
    };
    let flags = BuildFlags::compose(inputs, CgoMode::Off, "").ok()?;
    let name = dir.file_name()?.to_string_lossy().into_owned();
    // Named relative to the module root, where every go build runs.
    let relative = dir
        .strip_prefix(&module_root)
        .ok()?
        .to_string_lossy()
        .into_owned();
    let import_path = if relative.is_empty() {
        ".".to_string()
    } else {
        format!("./{relative}")
    };
    Some(GoBuildRequest {
        module_root,
        package: project::MainPackage {
            import_path,
            dir: dir.clone(),
            name,
        },
        target_env: target_env(&platform, goenv),
        platform,
        cgo: CgoMode::Off,
        flags,
    })
}

fn has_go_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".go"))
        })
        .unwrap_or(false)
}
