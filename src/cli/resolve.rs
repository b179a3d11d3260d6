//! `gopack resolve -f FILE|DIR|-`: builds and pushes every image the YAML names as
//! `gopack://IMPORTPATH` or `ko://IMPORTPATH`, and prints the YAML with each reference
//! replaced by `REPO@sha256:…` (comments, anchors and formatting kept: see
//! [`gopack::resolve`]). The repository comes from GOPACK_REPO or gopack.toml (`repository`),
//! as for `gopack build --push`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use gopack::cache::Cache;
use gopack::config::GoEnv;
use gopack::pipeline::{self, BuildOutcome, Schedule};
use gopack::resolve::{self, Found, MAX_YAML_BYTES};

use super::build::ImageFlags;
use super::plan_flags::PlanFlags;
use super::plan_targets::{Inputs, Selection, setup};
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct ResolveArgs {
    /// A YAML file, a directory (its .yaml, .yml and .json files), or - for stdin; repeatable
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE|DIR|-",
        required = true
    )]
    pub files: Vec<String>,

    /// Also read the subdirectories of a directory given to -f
    #[arg(short = 'R', long)]
    pub recursive: bool,

    /// Target platforms, comma-separated or repeated [default: the host's]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,

    /// Base image: scratch, a registry reference, oci:DIR[:TAG], oci-archive:FILE[:TAG] or
    /// docker-archive:FILE[:REF] (env GOPACK_BASE)
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// gopack.toml to read [default: the nearest one from the current directory upwards]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Tag every pushed image with this tag too (the YAML gets the digest), repeatable
    #[arg(short, long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    #[command(flatten)]
    pub registry: super::pull::RegistryFlags,

    /// Print nothing on stderr but errors
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the exact go commands and registry requests on stderr (never credentials)
    #[arg(short, long)]
    pub verbose: bool,
}

/// One YAML input: where it came from and its text.
struct Input {
    origin: String,
    text: String,
}

pub fn run(args: ResolveArgs) -> CommandResult {
    print!("{}", resolved_yaml(&args)?);
    Ok(ExitCode::SUCCESS)
}

/// The YAML of every input with the references replaced, inputs joined by `---`.
pub fn resolved_yaml(args: &ResolveArgs) -> anyhow::Result<String> {
    gopack::log::set_verbose(args.verbose);
    let inputs = read_inputs(&args.files, args.recursive)?;
    let mut found: Vec<Vec<Found>> = Vec::new();
    for input in &inputs {
        found.push(
            resolve::find(&input.text, &input.origin).map_err(|e| UsageError(e.to_string()))?,
        );
    }
    let mut packages: Vec<String> = found.iter().flatten().map(|f| f.package.clone()).collect();
    packages.sort();
    packages.dedup();
    let images = if packages.is_empty() {
        BTreeMap::new()
    } else {
        build_and_push(args, &packages)?
    };
    let mut out = String::new();
    for (input, found) in inputs.iter().zip(&found) {
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("---\n");
        }
        out.push_str(&resolve::substitute(&input.text, found, &images));
    }
    Ok(out)
}

/// Builds and pushes `packages`; the pinned reference per package as the YAML names it.
fn build_and_push(
    args: &ResolveArgs,
    packages: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let flags = PlanFlags {
        packages: packages.to_vec(),
        config: args.config.clone(),
        platform: args.platform.clone(),
        base: args.base.clone(),
        ..PlanFlags::default()
    };
    let image = ImageFlags {
        tags: args.tags.clone(),
        push: true,
        ..ImageFlags::default()
    };
    let (image_layer, image_names) = image.layer()?;
    let inputs = Inputs {
        flags: &flags,
        image_layer,
        image_names,
        output: image.output_flags(),
        registry: args.registry.options(),
        selection: Selection::default(),
    };
    let goenv = GoEnv::read()?;
    let setup = setup(&inputs, &goenv)?;
    if !args.quiet {
        setup
            .warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
    }
    let cache = Cache::open_default()?;
    let display = super::build_progress::Display::new(!args.quiet);
    let result = pipeline::build_many(
        cache.store(),
        &goenv,
        &setup.jobs,
        &Schedule::detect(None),
        &display,
    );
    display.finish();
    let outcomes = result?;
    let cwd = std::env::current_dir()?;
    let mut images = BTreeMap::new();
    for package in packages {
        let reference = reference_for(&outcomes, package, &cwd).ok_or_else(|| {
            anyhow::anyhow!("{package} was built, but no image of it was found in the result")
        })?;
        if !args.quiet {
            eprintln!("{package} → {reference}");
        }
        images.insert(package.clone(), reference);
    }
    Ok(images)
}

/// The pushed reference of the image built for `package` (an import path, or a directory).
fn reference_for(outcomes: &[BuildOutcome], package: &str, cwd: &Path) -> Option<String> {
    let dir = cwd.join(package).canonicalize().ok();
    outcomes.iter().find_map(|o| {
        o.plan
            .plan
            .images
            .iter()
            .zip(&o.images)
            .find(|(plan, _)| {
                plan.package == package
                    || dir
                        .as_ref()
                        .is_some_and(|d| plan.dir.canonicalize().ok().as_ref() == Some(d))
            })
            .map(|(_, built)| built.reference.clone())
    })
}

/// Reads every -f: files as given, directories' YAML files (sorted), `-` from stdin.
fn read_inputs(files: &[String], recursive: bool) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    for f in files {
        if f == "-" {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_YAML_BYTES as u64 + 1)
                .read_to_string(&mut text)
                .map_err(|e| UsageError(format!("-f -: cannot read stdin: {e}")))?;
            out.push(Input {
                origin: "-".into(),
                text,
            });
            continue;
        }
        let path = Path::new(f);
        if path.is_dir() {
            for file in yaml_files(path, recursive)? {
                out.push(read_file(&file)?);
            }
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> anyhow::Result<Input> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_YAML_BYTES as u64 + 1).read_to_string(&mut text))
        .map_err(|e| UsageError(format!("-f {}: {e}", path.display())))?;
    Ok(Input {
        origin: path.display().to_string(),
        text,
    })
}

/// The .yaml, .yml and .json files of `dir` (and its subdirectories when `recursive`),
/// sorted by path.
fn yaml_files(dir: &Path, recursive: bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| UsageError(format!("-f {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recursive {
                out.extend(yaml_files(&path, true)?);
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
