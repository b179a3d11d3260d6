//! `gopack size BIN|PKG [BIN]`: where a Go binary's bytes go; with two inputs, what changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use gopack::binary::attribution::EmbedFile;
use gopack::config::GoEnv;
use gopack::gobuild::{Builder, GoBuildRequest};
use gopack::oci::{Bare, ImageRef};
use gopack::plan::{PlanRequest, make_plan};
use gopack::size::budget::{self, SizeBudget};
use gopack::size::diff::{SizeDiff, diff};
use gopack::size::render::{self, By, Style};
use gopack::size::report::{SizeReport, report_file, report_file_with_twin};
use gopack::size::{html, variants, why};

use super::plan_flags::CgoArg;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct SizeArgs {
    /// A Go binary (ELF), a `gopack size --json` report, or a main package to build (., ./cmd/api,
    /// an import path); with a second input, the first is the old side of a diff
    #[arg(required = true, num_args = 1..=2, value_name = "BIN|PKG")]
    pub inputs: Vec<String>,

    /// Level of the table
    #[arg(long, value_enum, default_value_t = ByArg::Package)]
    pub by: ByArg,

    /// Rows per table (0: all)
    #[arg(long, default_value_t = 20)]
    pub top: usize,

    /// Output format (--json is short for --format json)
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Print the report (or diff) as JSON
    #[arg(long)]
    pub json: bool,

    /// Also write a self-contained HTML treemap to this file
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Print the shortest import chain from the main package to this package or module
    #[arg(long, value_name = "MODULE|PKG")]
    pub why: Option<String>,

    /// Build the package with each common flag set and tabulate file, gzip and zstd bytes
    #[arg(long)]
    pub variants: bool,

    /// Baseline for `[size] max_growth`: a binary, a JSON report, or an image
    /// (oci:DIR[:TAG], oci-archive:, docker-archive:, docker://REF) whose Go binary of the same
    /// name is compared [default: gopack.toml's]
    #[arg(long, value_name = "FILE|IMAGE")]
    pub baseline: Option<PathBuf>,

    /// gopack.toml to read `[size]` from (the whole file is checked) [default: the nearest
    /// gopack.toml upwards from the package directory, or the current one for a binary]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Target platform when building a package [default: the host's]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Extra linker flags when building a package, added after gopack's -s
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub ldflags: Option<String>,

    /// Go build tags when building a package, comma-separated
    #[arg(long = "tags", value_name = "TAGS")]
    pub build_tags: Option<String>,

    /// How to use cgo when building a package (as for gopack build)
    #[arg(long, value_enum, default_value_t = CgoArg::Auto)]
    pub cgo: CgoArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ByArg {
    Module,
    Package,
    Symbol,
    Section,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Markdown,
    Json,
}

/// A package `gopack size` built, and what it needs to know about it.
struct BuiltPackage {
    binary: PathBuf,
    /// The same build without `-s`, naming the data of the stripped binary (`None` when it
    /// could not be built).
    twin: Option<PathBuf>,
    module_root: PathBuf,
    import_path: String,
    /// GOOS/GOARCH/CGO_ENABLED of the build, for `go list`.
    env: Vec<(String, String)>,
    tags: Vec<String>,
    /// The Go environment the build used.
    goenv: GoEnv,
    /// `gopack build`'s flags for this package, as a variant row.
    as_variant: variants::Variant,
    _dir: tempfile::TempDir,
}

/// One resolved input: its report, and the package when it was built here.
struct Input {
    report: SizeReport,
    built: Option<BuiltPackage>,
}

pub fn run(args: SizeArgs) -> CommandResult {
    let format = if args.json {
        FormatArg::Json
    } else {
        args.format
    };
    let by = match args.by {
        ByArg::Module => By::Module,
        ByArg::Package => By::Package,
        ByArg::Symbol => By::Symbol,
        ByArg::Section => By::Section,
    };
    let style = if format == FormatArg::Markdown {
        Style::Markdown
    } else {
        Style::Text
    };
    if args.variants && args.inputs.len() != 1 {
        return Err(UsageError("--variants takes one package".into()).into());
    }
    let budget = load_budget(&args)?;
    let last = resolve(args.inputs.last().expect("clap requires one input"), &args)?;
    let first = match args.inputs.len() {
        2 => Some(resolve(&args.inputs[0], &args)?),
        _ => None,
    };
    let compared: Option<SizeDiff> = first.as_ref().map(|old| diff(&old.report, &last.report));

    if args.variants {
        let Some(built) = &last.built else {
            return Err(UsageError(
                "--variants builds a package: name a main package (., ./cmd/api), not a binary"
                    .into(),
            )
            .into());
        };
        return print_variants(built, format);
    }

    // --why and --html are the answer asked for: the table is printed only without them (and
    // the JSON report with --html, where it is the machine-readable half of the answer).
    let table = args.why.is_none() && (args.html.is_none() || format == FormatArg::Json);
    match (&compared, format) {
        _ if !table => {}
        (Some(d), FormatArg::Json) => println!("{}", serde_json::to_string_pretty(d)?),
        (Some(d), _) => print!("{}", render::diff(d, args.top, style)),
        (None, FormatArg::Json) => println!("{}", serde_json::to_string_pretty(&last.report)?),
        (None, _) => print!("{}", render::report(&last.report, by, args.top, style)),
    }
    if let Some(target) = &args.why {
        print_why(target, &last, format)?;
    }
    if let Some(path) = &args.html {
        let page = html::page(&last.report, compared.as_ref());
        html::write_atomic(path, page.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    check_budget(&args, budget, &last.report)
}

/// A binary, a JSON report, or a package to build.
fn resolve(input: &str, args: &SizeArgs) -> anyhow::Result<Input> {
    let path = Path::new(input);
    if path.is_file() {
        let mut head = [0u8; 4];
        let n = std::io::Read::read(&mut std::fs::File::open(path)?, &mut head)?;
        if head[..n].starts_with(b"{") || head[..n].starts_with(b"[") {
            return Ok(Input {
                report: read_json_report(path)?,
                built: None,
            });
        }
        if !head[..n].starts_with(b"\x7fELF") {
            return Err(UsageError(format!(
                "{input} is neither an ELF binary, a `gopack size --json` report, nor a package directory"
            ))
            .into());
        }
        return Ok(Input {
            report: report_file(path, &[])?,
            built: None,
        });
    }
    let built = build_package(input, args)?;
    let embeds = embeds_of(&built);
    let mut report = report_file_with_twin(&built.binary, &embeds, built.twin.as_deref())?;
    report.binary.path = built.import_path.clone();
    Ok(Input {
        report,
        built: Some(built),
    })
}

fn read_json_report(path: &Path) -> anyhow::Result<SizeReport> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a `gopack size --json` report: {e}\n  make one with: gopack size BIN --json > {}",
            path.display(),
            path.display()
        )
    })
}

/// Builds `package` the way `gopack build` would (same plan, same `go build` request), into a
/// temporary directory. The one place that knows the build path: adapt it here when it moves.
fn build_package(package: &str, args: &SizeArgs) -> anyhow::Result<BuiltPackage> {
    let mut ldflags = Vec::new();
    if let Some(value) = &args.ldflags {
        ldflags = gopack::gobuild::quoted::split(value)
            .map_err(|e| UsageError(format!("--ldflags {value:?}: {e}")))?;
    }
    let request = PlanRequest {
        cwd: std::env::current_dir()?,
        patterns: vec![package.to_string()],
        platforms: super::parse_platforms(args.platform.as_slice())?,
        ldflags,
        tags: super::parse_build_tags(args.build_tags.as_deref()),
        cgo: args.cgo.into(),
        ..Default::default()
    };
    let goenv = GoEnv::read()?;
    let plan = make_plan(&request, &goenv)?;
    plan.check_buildable()?;
    let target = plan.targets.first().with_context(|| {
        format!("{package} names no main package: `gopack size` builds one `package main`")
    })?;
    let go_request = &target.request;
    let cache = gopack::cache::Cache::open_default()?;
    let builder = Builder::new(&goenv, &gopack::cache::binaries_dir(cache.store()));
    eprintln!(
        "building {} ({})",
        go_request.package.import_path, target.platform
    );
    let binary = builder.build(go_request)?;
    let dir = tempfile::Builder::new().prefix("gopack-size-").tempdir()?;
    let twin = build_twin(&goenv, go_request, &dir.path().join("twin"));
    let env: Vec<(String, String)> = go_request
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let own_args: Vec<String> = go_request
        .args(Path::new("-"))
        .into_iter()
        .filter(|a| a.starts_with("-t") || a.starts_with("-ldflags="))
        .collect();
    Ok(BuiltPackage {
        binary: binary.path,
        twin,
        module_root: go_request.module_root.clone(),
        import_path: go_request.package.import_path.clone(),
        as_variant: variants::Variant {
            name: "gopack build".into(),
            args: own_args,
            env: env
                .iter()
                .filter(|(k, _)| k == "CGO_ENABLED")
                .cloned()
                .collect(),
        },
        env,
        tags: go_request.flags.tags.clone(),
        goenv,
        _dir: dir,
    })
}

/// The same `go build` with `-w` in place of `-s`: a twin that keeps `.symtab`, so the data of
/// the stripped binary can be named (go-facts §6). `None` (with a note) when it fails.
fn build_twin(goenv: &GoEnv, request: &GoBuildRequest, output: &Path) -> Option<PathBuf> {
    let ldflags = &request.flags.ldflags;
    let rest = ldflags.strip_prefix("-s").unwrap_or(ldflags).trim_start();
    let mut cmd = goenv.command(&request.module_root);
    for a in request.args(output) {
        if a.starts_with("-ldflags=") {
            cmd.arg(format!("-ldflags=-w {rest}").trim_end());
        } else {
            cmd.arg(a);
        }
    }
    cmd.envs(request.env());
    match cmd.output() {
        Ok(o) if o.status.success() => Some(output.to_path_buf()),
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            eprintln!(
                "note: unstripped twin build failed, data left unnamed: {}",
                stderr.trim()
            );
            None
        }
        Err(e) => {
            eprintln!("note: unstripped twin build failed, data left unnamed: {e}");
            None
        }
    }
}

fn embeds_of(built: &BuiltPackage) -> Vec<EmbedFile> {
    match why::list_deps(
        &built.goenv,
        &built.module_root,
        &built.import_path,
        &built.env,
        &built.tags,
    ) {
        Ok(pkgs) => why::embed_files(&pkgs),
        Err(e) => {
            eprintln!("note: go:embed files not attributed: {e}");
            Vec::new()
        }
    }
}

fn print_variants(built: &BuiltPackage, format: FormatArg) -> CommandResult {
    let platform_env: Vec<(String, String)> = built
        .env
        .iter()
        .filter(|(k, _)| k != "CGO_ENABLED")
        .cloned()
        .collect();
    let goarch = platform_env
        .iter()
        .find(|(k, _)| k == "GOARCH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| std::env::consts::ARCH.replace("x86_64", "amd64"));
    let mut matrix = variants::matrix(&goarch, built.as_variant.clone());
    if !built.tags.is_empty() {
        let user_tags = built.tags.join(",");
        for v in &mut matrix {
            match v.args.iter_mut().find(|a| a.starts_with("-tags=")) {
                Some(t) => t.push_str(&format!(",{user_tags}")),
                None => v.args.push(format!("-tags={user_tags}")),
            }
        }
    }
    let out = tempfile::Builder::new()
        .prefix("gopack-variants-")
        .tempdir()?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    eprintln!(
        "building {} variants of {}, {jobs} at a time (shared GOCACHE)",
        matrix.len(),
        built.import_path
    );
    let results = variants::build_all(
        &built.goenv,
        &built.module_root,
        &built.import_path,
        &platform_env,
        &matrix,
        out.path(),
        jobs,
    );
    match format {
        FormatArg::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        FormatArg::Markdown => print!("{}", variants::table(&results, true)),
        FormatArg::Text => print!("{}", variants::table(&results, false)),
    }
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    if failed == results.len() {
        anyhow::bail!("every variant failed to build");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_why(target: &str, input: &Input, format: FormatArg) -> anyhow::Result<()> {
    let (dir, pattern, env, tags, goenv) = match &input.built {
        Some(b) => (
            b.module_root.clone(),
            b.import_path.clone(),
            b.env.clone(),
            b.tags.clone(),
            b.goenv.clone(),
        ),
        None => {
            let main = binary_main_package(&input.report)?;
            let here = std::env::current_dir()?;
            (here, main, Vec::new(), Vec::new(), GoEnv::read()?)
        }
    };
    let packages = why::list_deps(&goenv, &dir, &pattern, &env, &tags)?;
    let chain = why::shortest_chain(&packages, target);
    match (chain, format) {
        (Some(chain), FormatArg::Json) => {
            println!(
                "{}",
                serde_json::to_string(&serde_json::json!({"why": target, "chain": chain}))?
            )
        }
        (Some(chain), _) => {
            println!("\nwhy {target}:");
            for (i, p) in chain.iter().enumerate() {
                println!("{}{p}", "  ".repeat(i + 1));
            }
        }
        (None, _) => anyhow::bail!(
            "{pattern} does not import {target} (neither a package nor a module of its dependencies)"
        ),
    }
    Ok(())
}

/// The main package of a binary for `go list`: from its build information (`path`), read
/// again since the report keeps only the module.
fn binary_main_package(report: &SizeReport) -> anyhow::Result<String> {
    let data = std::fs::read(&report.binary.path)
        .with_context(|| format!("cannot read {}", report.binary.path))?;
    let info = gopack::binary::buildinfo::read_build_info(&data).with_context(|| {
        format!(
            "--why needs the build information of {}",
            report.binary.path
        )
    })?;
    if info.path.is_empty() || info.path == "command-line-arguments" {
        anyhow::bail!(
            "{} does not record its main package; run `gopack size ./cmd/… --why …` on the package instead",
            report.binary.path
        );
    }
    Ok(info.path)
}

/// The `[size]` limits of the gopack.toml that applies — `--config FILE`, else the nearest
/// one upwards from the package directory (or the current one for a binary or report), as
/// `build` finds it — read by the one gopack.toml parser before anything is built: an invalid
/// file is a usage error (exit 2), as for every verb.
fn load_budget(args: &SizeArgs) -> anyhow::Result<SizeBudget> {
    if let Some(p) = &args.config
        && !p.is_file()
    {
        return Err(UsageError(format!("--config {}: no such file", p.display())).into());
    }
    let cwd = std::env::current_dir()?;
    let input = args.inputs.last().map_or(".", String::as_str);
    let dir = super::plan_targets::package_dir(&cwd, input);
    let config = gopack::config::file::find_and_load(args.config.as_deref(), &dir)
        .map_err(|e| UsageError(e.to_string()))?;
    match &config {
        Some(config) => SizeBudget::of_config(config).map_err(|e| UsageError(e.to_string()).into()),
        None => Ok(SizeBudget::default()),
    }
}

fn check_budget(args: &SizeArgs, mut budget: SizeBudget, report: &SizeReport) -> CommandResult {
    if let Some(b) = &args.baseline {
        budget.baseline = Some(b.clone());
    }
    if budget.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let baseline = match &budget.baseline {
        Some(path) => Some(load_baseline(path, report)?),
        None => None,
    };
    let compared = baseline.as_ref().map(|b| diff(b, report));
    if budget.max_growth.is_some() && compared.is_none() {
        eprintln!(
            "note: [size] max_growth is set but there is no baseline: add `baseline = \"FILE\"` to [size] or pass --baseline FILE"
        );
    }
    let violations = budget::check(report, &budget, compared.as_ref(), 10);
    if violations.is_empty() {
        eprintln!("size budget: ok");
        return Ok(ExitCode::SUCCESS);
    }
    for v in &violations {
        eprintln!("size budget exceeded: {}", v.message);
        if !v.top_growth.is_empty() {
            eprintln!("  grew most:");
            for c in &v.top_growth {
                eprintln!(
                    "    {:<60} +{}",
                    c.name,
                    render::human(c.delta().unsigned_abs())
                );
            }
        }
    }
    Ok(ExitCode::from(1))
}

/// The baseline's report: from an image (the Go binary named like `measured`'s, or its only
/// one), a `gopack size --json` report, or a binary.
fn load_baseline(path: &Path, measured: &SizeReport) -> anyhow::Result<SizeReport> {
    let written = path.to_string_lossy();
    if let Ok(image) = ImageRef::parse(&written, Bare::Refuse) {
        return image_baseline(&image, measured)
            .with_context(|| format!("cannot read the size baseline {written}"));
    }
    file_baseline(path)
}

/// Reads the Go binary of `image` for `measured`'s platform that has `measured`'s file name
/// (or the only Go binary there is) and reports it.
fn image_baseline(image: &ImageRef, measured: &SizeReport) -> anyhow::Result<SizeReport> {
    use gopack::inspect::{InspectOptions, analyse, cat::cat};
    use gopack::oci::{Platform, PlatformSelector, resolve, source};
    let cache = gopack::cache::Cache::open_default()?;
    let store = cache.store().clone();
    let options = source::SourceOptions {
        registry: super::pull::RegistryFlags::default().options(),
        ..Default::default()
    };
    let src = source::open(image, &store, &options)?;
    let platform = Platform {
        os: "linux".into(),
        architecture: measured.binary.goarch.clone(),
        variant: None,
    };
    let wanted = PlatformSelector::Only(vec![platform.clone()]);
    let resolved = match resolve(src.as_ref(), &wanted, &store, &options.limits) {
        Ok(r) => r,
        Err(gopack::oci::SourceError::NoPlatform { .. }) => resolve(
            src.as_ref(),
            &PlatformSelector::All,
            &store,
            &options.limits,
        )?,
        Err(e) => return Err(e.into()),
    };
    let [chosen] = resolved.images.as_slice() else {
        anyhow::bail!("it has no single image for {platform}");
    };
    let (analysis, _) = analyse(src.as_ref(), chosen.clone(), &InspectOptions::default());
    let name = Path::new(&measured.binary.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let found = &analysis.merged.binaries;
    let by_name: Vec<_> = found
        .iter()
        .filter(|b| b.path.rsplit('/').next() == Some(name.as_str()))
        .collect();
    let binary = match (by_name.as_slice(), found.as_slice()) {
        ([one], _) => *one,
        (_, [one]) => one,
        _ => anyhow::bail!(
            "it holds {} Go binaries and none is named {name}: {}",
            found.len(),
            found
                .iter()
                .map(|b| b.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let content = cat(src.as_ref(), &analysis, &binary.path, 1 << 30)?;
    let mut file = tempfile::NamedTempFile::new()?;
    std::io::Write::write_all(&mut file, &content.bytes)?;
    let mut report = report_file(file.path(), &[])?;
    report.binary.path = format!("{}:{}", image, binary.path);
    Ok(report)
}

fn file_baseline(path: &Path) -> anyhow::Result<SizeReport> {
    let data = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the size baseline {} (make one with `gopack size BIN --json > FILE`)",
            path.display()
        )
    })?;
    if data.starts_with(b"{") {
        read_json_report(path)
    } else {
        Ok(report_file(path, &[])?)
    }
}
