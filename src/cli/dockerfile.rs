//! `gopack dockerfile [DIR]`: writes a multi-stage Dockerfile and .dockerignore for a module.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use gopack::dockerfile::generate::{self, FinalBase, GenerateSpec, MainTarget};
use gopack::project;

use super::{CommandResult, UsageError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Final {
    /// Empty base plus CA bundle and passwd/group copied from the builder
    Scratch,
    /// gcr.io/distroless/static-debian12:nonroot
    Distroless,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Cgo {
    /// Detect from `go list` whether a dependency uses cgo
    Auto,
    /// Use the static-cgo recipe
    On,
    /// Build with CGO_ENABLED=0
    Off,
}

#[derive(Args, Debug)]
pub struct DockerfileArgs {
    /// The Go module (or a directory inside it); files are written to the module root
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Main package(s) to build, relative to DIR (repeatable) [default: every main package]
    #[arg(long = "main", value_name = "PKG")]
    pub mains: Vec<String>,

    /// Final base image
    #[arg(long = "final", value_enum, default_value_t = Final::Scratch)]
    pub final_base: Final,

    /// Port to EXPOSE
    #[arg(long)]
    pub port: Option<u16>,

    /// cgo recipe
    #[arg(long, value_enum, default_value_t = Cgo::Auto)]
    pub cgo: Cgo,

    /// Overwrite an existing Dockerfile / .dockerignore
    #[arg(long)]
    pub force: bool,

    /// Print both files to stdout instead of writing them
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: DockerfileArgs) -> CommandResult {
    if !args.dir.is_dir() {
        return Err(UsageError(format!("{}: not a directory", args.dir.display())).into());
    }
    let root = project::find_module_root(&args.dir)?;
    let patterns = if args.mains.is_empty() {
        vec!["./...".to_string()]
    } else {
        args.mains.clone()
    };
    let cwd = if args.mains.is_empty() {
        root.clone()
    } else {
        args.dir.clone()
    };
    // The image runs on Linux: ask which packages need cgo under linux build constraints.
    let query = project::cgo::CgoQuery {
        goos: Some("linux".into()),
        ..Default::default()
    };
    let goenv = gopack::config::GoEnv::read()?;
    let proj = project::load(&goenv, &cwd, &patterns, &query)?;
    let root = proj.module_root.clone();
    let mains = main_targets(&proj, &root)?;
    let cgo = match args.cgo {
        Cgo::On => true,
        Cgo::Off => false,
        Cgo::Auto => proj.cgo.needs_cgo,
    };
    let go_version = generate::builder_go_version(
        proj.gomod.go_version.as_deref(),
        proj.gomod.toolchain.as_deref(),
        Some(goenv.installed().name.as_str()),
    )?;
    let layout = module_layout(&goenv, &root)?;
    let spec = GenerateSpec {
        module: proj.gomod.module.clone(),
        go_version,
        mains,
        has_go_sum: root.join("go.sum").is_file(),
        module_dir: layout.module_dir.clone(),
        local_modules: layout.local_modules.clone(),
        workspace: layout.workspace,
        vendored: root.join("vendor/modules.txt").is_file(),
        final_base: match args.final_base {
            Final::Scratch => FinalBase::Scratch,
            Final::Distroless => FinalBase::Distroless,
        },
        port: args.port,
        cgo,
    };
    let dockerfile = generate::dockerfile(&spec)?;
    let dockerignore = generate::dockerignore(&spec);

    if args.dry_run {
        let mut out = std::io::stdout().lock();
        write!(
            out,
            "{dockerfile}\n# ---- .dockerignore ----\n{dockerignore}"
        )
        .context("cannot write to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    write_files(&root, &layout, dockerfile, dockerignore, args.force)?;
    print_notes(&spec, &layout, &root, &proj.cgo);
    Ok(ExitCode::SUCCESS)
}

/// The main packages of `proj` as `./`-relative packages of the module at `root`.
fn main_targets(proj: &project::Project, root: &Path) -> anyhow::Result<Vec<MainTarget>> {
    let root_canon = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    proj.mains
        .iter()
        .map(|m| &m.package)
        .map(|m| {
            let dir = m.dir.canonicalize().unwrap_or_else(|_| m.dir.clone());
            let rel = dir.strip_prefix(&root_canon).with_context(|| {
                format!(
                    "main package {} is outside the module root {}",
                    m.import_path,
                    root.display()
                )
            })?;
            let package = if rel.as_os_str().is_empty() {
                ".".to_string()
            } else {
                format!("./{}", rel.display())
            };
            Ok(MainTarget {
                name: m.name.clone(),
                package,
            })
        })
        .collect()
}

/// Writes the Dockerfile and its ignore file at the module root, refusing to replace existing
/// ones without `force`.
fn write_files(
    root: &Path,
    layout: &Layout,
    dockerfile: String,
    dockerignore: String,
    force: bool,
) -> anyhow::Result<()> {
    // With the context above the module, BuildKit reads `<Dockerfile>.dockerignore` next to the
    // Dockerfile named with -f.
    let ignore_name = if layout.module_dir == "." {
        ".dockerignore"
    } else {
        "Dockerfile.dockerignore"
    };
    let targets = [
        (root.join("Dockerfile"), dockerfile),
        (root.join(ignore_name), dockerignore),
    ];
    if !force {
        let existing: Vec<String> = targets
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(UsageError(format!(
                "{} already exist(s); pass --force to overwrite, or --dry-run to see the result",
                existing.join(" and ")
            ))
            .into());
        }
    }
    for (path, text) in &targets {
        write_atomic(path, text.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Tells on stderr how to build when other local modules are needed, and why cgo is used.
fn print_notes(spec: &GenerateSpec, layout: &Layout, root: &Path, cgo: &project::cgo::CgoReport) {
    if let Some(cmd) = generate::build_command(spec) {
        eprintln!(
            "note: the build needs {}: the build context is {}; build with `{cmd}` from {}",
            spec.local_modules
                .iter()
                .map(|m| m.dir.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            layout.context.display(),
            root.display()
        );
    }
    if spec.cgo {
        eprintln!(
            "note: cgo is needed, so the Dockerfile uses the static-cgo recipe (musl, netgo, osusergo)"
        );
        for pkg in &cgo.packages {
            eprintln!("  {} uses cgo", pkg.import_path);
            for alt in &pkg.alternatives {
                eprintln!("    pure-Go alternative: {} ({})", alt.module, alt.note);
            }
        }
    }
}

/// Where the module sits in the build context, and the other modules the build needs.
struct Layout {
    context: PathBuf,
    module_dir: String,
    local_modules: Vec<generate::LocalModule>,
    /// `Some(has go.work.sum)` for a workspace build.
    workspace: Option<bool>,
}

/// Local `replace` targets (from `go mod edit -json`) and the modules of an active go.work
/// (from `go env GOWORK` and `go work edit -json`); the build context is the deepest directory
/// holding all of them.
fn module_layout(goenv: &gopack::config::GoEnv, root: &Path) -> anyhow::Result<Layout> {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let root = canon(root);
    let edit: serde_json::Value =
        serde_json::from_slice(&project::run_go(goenv, &root, &["mod", "edit", "-json"])?)
            .context("go mod edit -json printed something that is not JSON")?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for r in edit["Replace"].as_array().into_iter().flatten() {
        let new = r["New"]["Path"].as_str().unwrap_or("");
        if new.starts_with("./") || new.starts_with("../") || new.starts_with('/') {
            dirs.push(canon(&root.join(new)));
        }
    }
    let gowork = String::from_utf8_lossy(&project::run_go(goenv, &root, &["env", "GOWORK"])?)
        .trim()
        .to_string();
    let mut workspace = None;
    let mut ws_root = None;
    if !gowork.is_empty() && gowork != "off" {
        let ws = canon(Path::new(&gowork));
        let dir = ws.parent().map(Path::to_path_buf).unwrap_or_default();
        let work: serde_json::Value =
            serde_json::from_slice(&project::run_go(goenv, &root, &["work", "edit", "-json"])?)
                .context("go work edit -json printed something that is not JSON")?;
        for u in work["Use"].as_array().into_iter().flatten() {
            if let Some(p) = u["DiskPath"].as_str() {
                dirs.push(canon(&dir.join(p)));
            }
        }
        workspace = Some(dir.join("go.work.sum").is_file());
        ws_root = Some(dir);
    }
    let mut context = ws_root.unwrap_or_else(|| root.clone());
    for d in dirs.iter().chain([&root]) {
        while !d.starts_with(&context) {
            context = context.parent().map(Path::to_path_buf).unwrap_or_default();
        }
    }
    let rel = |d: &Path| {
        let r = d
            .strip_prefix(&context)
            .unwrap_or(d)
            .to_string_lossy()
            .to_string();
        if r.is_empty() { ".".to_string() } else { r }
    };
    let mut local_modules: Vec<generate::LocalModule> = dirs
        .iter()
        .filter(|d| **d != root)
        .map(|d| generate::LocalModule {
            dir: rel(d),
            has_go_sum: d.join("go.sum").is_file(),
        })
        .collect();
    local_modules.sort_by(|a, b| a.dir.cmp(&b.dir));
    local_modules.dedup();
    Ok(Layout {
        module_dir: rel(&root),
        context,
        local_modules,
        workspace,
    })
}

/// Writes `path` whole or not at all: a temp file in the same directory, then rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
