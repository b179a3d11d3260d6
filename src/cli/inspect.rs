//! `gopack inspect IMAGE [IMAGE]`: layers, waste, files, security findings, Go binaries and
//! their needs, or what changed between two images; with CI gates.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use gopack::inspect::gate::{self, GateConfig};
use gopack::inspect::report::{self, InspectDocument};
use gopack::inspect::{self as ins, Analysis, InspectOptions, LayerCache, diff, output, rules};
use gopack::oci::{
    Bare, BlobStore, ImageRef, ImageSource, Platform, PlatformSelector, default_cache_dir,
    parse_platform_list, resolve, source,
};

use super::pull::RegistryFlags;
use super::{CommandResult, UsageError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortBy {
    Name,
    Size,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Image to inspect: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF],
    /// docker://REF or a bare registry reference. A second image compares the two (OLD NEW)
    pub images: Vec<String>,
    /// Platform(s) of a multi-platform image, comma-separated os/arch[/variant], or `all`
    /// [default: the host's]
    #[arg(long, value_name = "LIST")]
    pub platform: Option<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Same as --format json (schema gopack.inspect/v1, or gopack.inspect-diff/v1 for two images)
    #[arg(long)]
    pub json: bool,
    /// List the final file system (path, kind, mode, owner, size, layer)
    #[arg(long)]
    pub files: bool,
    /// Order of --files: name (tree order) or size (largest first; directories by what they hold)
    #[arg(long, value_enum, default_value_t = SortBy::Name)]
    pub sort: SortBy,
    /// List only paths matching this glob (`etc/ssl/**`, `**/*.pem`); repeatable
    #[arg(long, value_name = "GLOB")]
    pub find: Vec<String>,
    /// Print one file's content, control characters escaped
    #[arg(long, value_name = "PATH")]
    pub cat: Option<String>,
    /// Most bytes --cat prints
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    pub cat_limit: String,
    /// Print the image manifest exactly as stored (reads no layer)
    #[arg(long, conflicts_with_all = ["image_config", "files", "cat"])]
    pub manifest: bool,
    /// Print the image config exactly as stored (reads no layer)
    #[arg(long, conflicts_with_all = ["files", "cat"])]
    pub image_config: bool,
    /// CI gate: thresholds and failing findings from gopack.toml [inspect], else .dive-ci, else
    /// dive's defaults and error findings. Exit 1 when the gate fails
    #[arg(long, env = "GOPACK_CI", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true")]
    pub ci: Option<bool>,
    /// A .dive-ci file to read the gate from [default: ./.dive-ci]
    #[arg(long, value_name = "FILE")]
    pub ci_config: Option<PathBuf>,
    /// gopack.toml to read [inspect] from [default: the nearest one from the current directory]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Fail when the image's compressed size (what a node pulls) is over SIZE (20MB, 512MiB)
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// Fail on findings: a severity (error, warning, info) or rule IDs/names, comma-separated
    #[arg(long, value_name = "LIST")]
    pub fail_on: Vec<String>,
    /// Ignore findings and waste at paths matching this glob; repeatable
    #[arg(long, value_name = "GLOB")]
    pub ignore_path: Vec<String>,
    /// Diff noise to leave out: timestamps, annotations, labels, history, permissions
    #[arg(long, value_name = "LIST")]
    pub ignore: Vec<String>,
    /// Read every layer again instead of using cached layer records
    #[arg(long)]
    pub no_cache: bool,
    /// List the referrers (SBOMs, signatures) attached to each platform manifest and to the
    /// index, by the registry's referrers API, the referrers tag schema, or the layout's
    /// index.json; reads no layer (same output as `gopack sbom IMAGE --referrers`)
    #[arg(long, conflicts_with_all = ["manifest", "image_config", "files", "cat"])]
    pub referrers: bool,
    /// Explain a rule: why it matters and how to fix it
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
    /// List every rule with its ID, severity and summary
    #[arg(long)]
    pub list_rules: bool,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: InspectArgs) -> CommandResult {
    if args.list_rules {
        let mut out = String::new();
        for r in rules::RULES {
            let peers = r.peer_ids.join(",");
            out.push_str(&format!(
                "{}  {:<7}  {:<24} {:<12} {}\n",
                r.code,
                r.severity.as_str(),
                r.name,
                peers,
                r.summary
            ));
        }
        print_out(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = &args.explain {
        let r = rules::find_rule(id).ok_or_else(|| {
            UsageError(format!(
                "unknown rule `{id}`; `gopack inspect --list-rules` shows them all"
            ))
        })?;
        let peers = if r.peer_ids.is_empty() {
            String::new()
        } else {
            format!(" (also {})", r.peer_ids.join(", "))
        };
        print_out(&format!(
            "{} {} [{}]{peers}\n{}\n\n{}\n",
            r.code, r.name, r.severity, r.summary, r.explanation
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let format = if args.json { Format::Json } else { args.format };
    if args.referrers {
        let [image] = args.images.as_slice() else {
            return Err(UsageError("--referrers lists those of one image".into()).into());
        };
        let target =
            ImageRef::parse(image, Bare::Registry).map_err(|e| UsageError(e.to_string()))?;
        return super::sbom::print_referrers(&target, &args.registry, format == Format::Json);
    }
    match args.images.len() {
        0 => Err(UsageError(
            "name an image: `gopack inspect oci:./gopack-out` (or two to compare them)".into(),
        )
        .into()),
        1 => inspect_one(&args, format),
        2 => inspect_two(&args, format),
        _ => Err(UsageError("inspect takes one image, or two to compare (OLD NEW)".into()).into()),
    }
}

/// An opened source and the images chosen from it.
struct Opened {
    source: Box<dyn ImageSource>,
    images: Vec<gopack::oci::Image>,
    store: BlobStore,
}

fn open(args: &InspectArgs, reference: &str) -> anyhow::Result<Opened> {
    let parsed =
        ImageRef::parse(reference, Bare::Registry).map_err(|e| UsageError(e.to_string()))?;
    let cache = gopack::cache::Cache::open_default()?;
    let store = cache.store().clone();
    let options = source::SourceOptions {
        registry: args.registry.options(),
        ..Default::default()
    };
    let src = source::open(&parsed, &store, &options)?;
    let wanted: Option<Vec<Platform>> = match args.platform.as_deref() {
        None => None,
        Some("all") => Some(Vec::new()),
        Some(list) => Some(parse_platform_list(list).map_err(|e| UsageError(e.to_string()))?),
    };
    let images = match wanted {
        Some(list) => {
            let selector = PlatformSelector::from_list(&list);
            resolve(src.as_ref(), &selector, &store, &options.limits)
                .with_context(|| format!("cannot read {reference}"))?
                .images
        }
        None => host_image(src.as_ref(), &store, &options.limits, reference)?,
    };
    Ok(Opened {
        source: src,
        images,
        store,
    })
}

/// The image for this host: only its manifest and config are read when the source is an index;
/// a single-platform image is taken whatever its platform.
fn host_image(
    src: &dyn ImageSource,
    store: &BlobStore,
    limits: &gopack::oci::Limits,
    reference: &str,
) -> anyhow::Result<Vec<gopack::oci::Image>> {
    let host = Platform::host();
    let only = PlatformSelector::Only(vec![host.clone()]);
    match resolve(src, &only, store, limits) {
        Ok(r) => Ok(r.images),
        Err(gopack::oci::SourceError::NoPlatform { .. }) => {
            let all = resolve(src, &PlatformSelector::All, store, limits)
                .with_context(|| format!("cannot read {reference}"))?;
            if all.index.is_none() {
                return Ok(all.images);
            }
            let offered: Vec<String> = all.images.iter().map(|i| i.platform.to_string()).collect();
            Err(UsageError(format!(
                "{reference} has no image for this host ({host}); choose with --platform \
                 (it has: {}), or --platform all",
                offered.join(", ")
            ))
            .into())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {reference}"))),
    }
}

fn options(args: &InspectArgs) -> InspectOptions {
    InspectOptions {
        cache: (!args.no_cache).then(|| LayerCache::new(&default_cache_dir())),
        ..InspectOptions::default()
    }
}

fn analyse_all(args: &InspectArgs, opened: &Opened) -> Vec<Analysis> {
    let options = options(args);
    opened
        .images
        .iter()
        .map(|image| {
            let (a, warnings) = ins::analyse(opened.source.as_ref(), image.clone(), &options);
            for w in warnings {
                eprintln!("warning: {w}");
            }
            a
        })
        .collect()
}

fn inspect_one(args: &InspectArgs, format: Format) -> CommandResult {
    let opened = open(args, &args.images[0])?;
    if args.manifest || args.image_config {
        let mut out = Vec::new();
        for image in &opened.images {
            let bytes = if args.manifest {
                image.manifest_bytes.clone()
            } else {
                opened
                    .store
                    .read_blob(&image.config_descriptor.digest)
                    .context("cannot read the image config")?
            };
            out.extend_from_slice(&bytes);
            out.push(b'\n');
        }
        print_bytes(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let gate_config = gate_config(args)?;
    let analyses = analyse_all(args, &opened);
    if let Some(path) = &args.cat {
        return cat(args, &opened, &analyses, path);
    }
    let globs = find_globs(&args.find)?;
    let mut reports: Vec<report::ImageReport> = analyses
        .iter()
        .map(|a| {
            let mut r = report::image_report(a);
            if args.files || globs.is_some() {
                r.files = Some(file_list(a, globs.as_ref(), args.sort));
            }
            r
        })
        .collect();
    let wasted: Vec<Vec<(String, u64)>> = analyses
        .iter()
        .map(|a| {
            a.merged
                .wasted_paths
                .values()
                .map(|w| (w.path.clone(), w.bytes))
                .collect()
        })
        .collect();
    let gate_report = match &gate_config {
        Some(c) => {
            Some(gate::evaluate(c, &mut reports, &wasted).map_err(|e| UsageError(e.to_string()))?)
        }
        None => None,
    };
    // An image that cannot be read whole, or is inconsistent, fails whatever the gate says.
    let unreadable = analyses.iter().any(|a| {
        a.findings
            .iter()
            .any(|f| f.rule == rules::RuleId::LayerUnreadable)
    });
    let failed = gate_report.as_ref().is_some_and(|g| !g.passed) || unreadable;
    let doc = InspectDocument {
        schema: report::SCHEMA,
        images: reports,
        gate: gate_report,
    };
    render(args, format, &doc, gate_config.as_ref())?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(
    args: &InspectArgs,
    format: Format,
    doc: &InspectDocument,
    gate: Option<&GateConfig>,
) -> anyhow::Result<()> {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(doc)? + "\n",
        Format::Sarif => output::sarif(doc) + "\n",
        Format::Junit => {
            let fails = |f: &ins::Finding| match gate {
                Some(g) => g.fails(f),
                None => f.severity >= gopack::dockerfile::Severity::Error,
            };
            output::junit(doc, &fails)
        }
        Format::Text => {
            let mut out = String::new();
            for r in &doc.images {
                if let Some(files) = &r.files {
                    out.push_str(&files_text(files));
                    if args.files || !args.find.is_empty() {
                        continue;
                    }
                }
                out.push_str(&output::text(r));
            }
            if let Some(g) = &doc.gate {
                out.push_str(&output::gate_text(g));
            }
            out
        }
    };
    print_out(&text)
}

fn files_text(files: &[report::FileView]) -> String {
    let mut out = String::new();
    for f in files {
        let link = f
            .link
            .as_deref()
            .map(|l| format!(" -> {}", ins::findings::printable(l)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<8} {} {:>6}:{:<6} {:>9}  L{:<3} {}{link}\n",
            f.kind,
            f.mode,
            f.uid,
            f.gid,
            output::human_bytes(f.size),
            f.layer + 1,
            ins::findings::printable(&f.path)
        ));
    }
    out
}

fn find_globs(patterns: &[String]) -> anyhow::Result<Option<globset::GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p.trim_start_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| UsageError(format!("--find {p}: {e}")))?;
        b.add(glob);
    }
    Ok(Some(b.build().map_err(|e| UsageError(e.to_string()))?))
}

fn file_list(
    a: &Analysis,
    globs: Option<&globset::GlobSet>,
    sort: SortBy,
) -> Vec<report::FileView> {
    let mut files = report::file_views(a);
    if let Some(g) = globs {
        files.retain(|f| g.is_match(f.path.trim_start_matches('/')));
    }
    if sort == SortBy::Size {
        files.sort_by(|x, y| y.size.cmp(&x.size).then_with(|| x.path.cmp(&y.path)));
    }
    files
}

fn gate_config(args: &InspectArgs) -> anyhow::Result<Option<GateConfig>> {
    let usage = |e: gate::GateError| UsageError(e.to_string());
    let mut config = if args.ci == Some(true) {
        let toml = match &args.config {
            Some(p) if !p.is_file() => {
                return Err(UsageError(format!("--config {}: no such file", p.display())).into());
            }
            Some(p) => Some(p.clone()),
            None => std::env::current_dir()
                .ok()
                .and_then(|d| GateConfig::discover_toml(&d)),
        };
        let from_toml = match toml {
            Some(p) => GateConfig::from_toml(&p).map_err(usage)?,
            None => None,
        };
        let dive_ci = args
            .ci_config
            .clone()
            .unwrap_or_else(|| PathBuf::from(".dive-ci"));
        if let Some(c) = from_toml {
            Some(c)
        } else if dive_ci.is_file() {
            Some(GateConfig::from_dive_ci(&dive_ci).map_err(usage)?)
        } else if args.ci_config.is_some() {
            return Err(
                UsageError(format!("--ci-config {}: no such file", dive_ci.display())).into(),
            );
        } else {
            Some(GateConfig::ci_defaults())
        }
    } else {
        None
    };
    let flags = args.max_size.is_some() || !args.fail_on.is_empty() || !args.ignore_path.is_empty();
    if flags {
        let c = config.get_or_insert_with(|| GateConfig {
            origin: "flags".into(),
            ..GateConfig::default()
        });
        if let Some(s) = &args.max_size {
            c.max_size =
                Some(gate::parse_bytes(s).map_err(|e| UsageError(format!("--max-size: {e}")))?);
        }
        if !args.fail_on.is_empty() {
            c.fail_on = gate::parse_fail_on(&args.fail_on, "--fail-on").map_err(usage)?;
        }
        c.ignore_paths.extend(args.ignore_path.iter().cloned());
        c.check_globs().map_err(usage)?;
    }
    Ok(config)
}

fn cat(args: &InspectArgs, opened: &Opened, analyses: &[Analysis], path: &str) -> CommandResult {
    let limit =
        gate::parse_bytes(&args.cat_limit).map_err(|e| UsageError(format!("--cat-limit: {e}")))?;
    let a = &analyses[0];
    let found = ins::cat::cat(opened.source.as_ref(), a, path, limit)?;
    let mut text = ins::cat::terminal_safe(&found.bytes);
    if found.size > found.bytes.len() as u64 {
        eprintln!(
            "note: {} has {} bytes; printed the first {} (--cat-limit)",
            found.path,
            found.size,
            found.bytes.len()
        );
    } else if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn inspect_two(args: &InspectArgs, format: Format) -> CommandResult {
    if args.ci == Some(true) || args.max_size.is_some() || !args.fail_on.is_empty() {
        return Err(UsageError(
            "gates (--ci, --max-size, --fail-on) apply to one image; inspect OLD NEW compares"
                .into(),
        )
        .into());
    }
    if matches!(format, Format::Sarif | Format::Junit) {
        return Err(UsageError("a comparison prints text or --json".into()).into());
    }
    let ignore = diff::Ignore::parse(&args.ignore).map_err(UsageError)?;
    let old = open(args, &args.images[0])?;
    let new = open(args, &args.images[1])?;
    if old.images.len() != 1 || new.images.len() != 1 {
        return Err(
            UsageError("compare one platform at a time: pass --platform os/arch".into()).into(),
        );
    }
    let a = analyse_all(args, &old).remove(0);
    let b = analyse_all(args, &new).remove(0);
    let d = diff::diff(&a, &b, ignore);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        _ => output::diff_text(&d, 50),
    };
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn print_out(s: &str) -> anyhow::Result<()> {
    print_bytes(s.as_bytes())
}

fn print_bytes(b: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(b).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to stdout"),
    }
}
