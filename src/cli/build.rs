//! `gopack build [PKG…]`: its flags, turned into build options and an output destination, the
//! call into the pipeline, and how the outcome is shown (image references or `--json`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;
use gopack::assemble::ImageSettings;
use gopack::cache::Cache;
use gopack::config::GoEnv;
use gopack::oci::{Bare, Compression, ImageRef, Platform};
use gopack::pipeline::{self, BuildOptions, BuildOutcome, Progress};
use gopack::registry::Reference;
use gopack::sink::{DEFAULT_OUTPUT, Output};

use super::plan_flags::PlanFlags;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub plan: PlanFlags,

    /// Where to write: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF],
    /// docker://REF (push), docker-daemon:NAME[:TAG]; repeatable (e.g. push and keep a local
    /// layout), all checked before building [default: oci:gopack-out]
    #[arg(short, long, value_name = "TRANSPORT:PATH")]
    pub output: Vec<String>,

    /// Names the result, repeatable, each applied: a layout/oci-archive name, a docker-archive
    /// RepoTag (example.com/app:v1, or v1), a registry tag (example.com/app:v1, or v1 with
    /// GOPACK_REPO or a docker:// output)
    #[arg(short, long = "tag", value_name = "REF")]
    pub tags: Vec<String>,

    /// Push to a registry: to the first --tag reference, or to $GOPACK_REPO/<binary>
    #[arg(long)]
    pub push: bool,

    /// Keep the base image's labels (by default they are dropped: they describe the base)
    #[arg(long)]
    pub keep_base_labels: bool,

    #[command(flatten)]
    pub registry: super::pull::RegistryFlags,

    /// Layer compression: gzip (level by layer size), gzip:1-12 or zstd[:1-19]
    #[arg(long, default_value = "gzip", value_name = "ALGO[:LEVEL]")]
    pub compression: String,

    /// Port the program listens on (ExposedPorts), repeatable: 8080 or 53/udp
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub port: Vec<String>,

    /// Working directory in the image [default: /]
    #[arg(long)]
    pub workdir: Option<String>,

    /// Config label, repeatable
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,

    /// Manifest annotation, repeatable
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,

    /// Attach an SBOM to each platform manifest as an OCI referrer: spdx, cyclonedx or
    /// spdx,cyclonedx (pushed with --push; listed in index.json for oci:DIR)
    #[arg(long, value_name = "FORMATS")]
    pub sbom: Option<String>,

    /// Print the result as one JSON document
    #[arg(long)]
    pub json: bool,

    /// Print only one reference per image that pins it: REGISTRY/REPO@sha256:… for a push,
    /// oci:DIR:NAME (skopeo's form) for a layout, the archive and name for an archive
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the whole plan (every decision and its reason, as `gopack plan` does) before the
    /// summary, instead of one line per decision
    #[arg(long)]
    pub explain: bool,
}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

fn key_values(flag: &str, items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(usage(format!("--{flag} `{kv}` must be KEY=VALUE"))),
        })
        .collect()
}

fn options(args: &BuildArgs) -> anyhow::Result<BuildOptions> {
    let mut plan = args.plan.request()?;
    super::expand_all_platforms(&args.plan.platform, &mut plan, &args.registry.options())?;
    if plan.platforms.is_empty() {
        plan.platforms.push(Platform::host());
    }
    let outputs = destinations(args)?;
    let compression: Compression = args.compression.parse().map_err(usage)?;
    for port in &args.port {
        let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        if number.parse::<u16>().map_or(true, |n| n == 0)
            || !matches!(proto, "tcp" | "udp" | "sctp")
        {
            return Err(usage(format!(
                "--port `{port}` must be a port 1-65535, optionally /tcp, /udp or /sctp"
            )));
        }
    }
    Ok(BuildOptions {
        plan,
        compression,
        settings: ImageSettings {
            ports: args.port.clone(),
            workdir: args.workdir.clone(),
            labels: key_values("label", &args.label)?,
            annotations: key_values("annotation", &args.annotation)?,
            keep_base_labels: args.keep_base_labels,
        },
        outputs,
        registry: args.registry.options(),
        sbom: sbom_formats(args)?,
    })
}

/// `--sbom FORMATS`, refused up front for outputs that cannot hold referrers.
fn sbom_formats(args: &BuildArgs) -> anyhow::Result<Vec<gopack::sbom::Format>> {
    let Some(list) = &args.sbom else {
        return Ok(Vec::new());
    };
    let formats = gopack::sbom::parse_formats(list).map_err(usage)?;
    for output in destinations(args)? {
        if !matches!(
            output.target,
            ImageRef::Layout { .. } | ImageRef::Registry(_)
        ) {
            return Err(usage(format!(
                "--sbom attaches SBOMs as OCI referrers, which {} cannot hold: write to an OCI \
                 layout (--output oci:DIR) or a registry (--push), or make the document with \
                 `gopack sbom {} -o FILE`",
                output.target, output.target
            )));
        }
    }
    Ok(formats)
}

/// A `--tag` naming a whole reference (it has a repository path) rather than just a tag.
fn is_full_reference(tag: &str) -> bool {
    tag.contains('/')
}

/// Where the images go, and with which tags, from every --output, --push, --tag and
/// GOPACK_REPO: the registry push (at most one repository) and each file or daemon output.
/// Without a push every `--tag` applies to each output as given; with one, a `--tag` naming the
/// pushed repository gives the file outputs its tag.
fn destinations(args: &BuildArgs) -> anyhow::Result<Vec<Output>> {
    let mut explicit: Vec<ImageRef> = Vec::new();
    for text in &args.output {
        let target = ImageRef::parse(text, Bare::Refuse).map_err(|e| usage(e.to_string()))?;
        if explicit.contains(&target) {
            return Err(usage(format!(
                "--output {text} is given twice; name each destination once (--tag adds names)"
            )));
        }
        explicit.push(target);
    }
    let (registries, files): (Vec<ImageRef>, Vec<ImageRef>) = explicit
        .into_iter()
        .partition(|t| matches!(t, ImageRef::Registry(_)));
    if registries.len() > 1 {
        return Err(usage(
            "one build pushes to one registry repository: give one docker:// --output (more \
             names with --tag)"
                .into(),
        ));
    }
    let registry = registries.into_iter().next().map(|r| match r {
        ImageRef::Registry(r) => r,
        _ => unreachable!("partitioned on Registry"),
    });
    let mut outputs = Vec::new();
    let pushing = args.push || registry.is_some();
    if pushing {
        outputs.push(push_destination(args, registry)?);
    }
    let file_tags: Vec<String> = if pushing {
        let mut tags: Vec<String> = Vec::new();
        for t in &args.tags {
            let tag = if is_full_reference(t) {
                t.parse::<Reference>().ok().and_then(|r| r.tag)
            } else {
                Some(t.clone())
            };
            tags.extend(tag.filter(|t| !tags.contains(t)));
        }
        tags
    } else {
        args.tags.clone()
    };
    for target in files {
        outputs.push(Output {
            target,
            tags: file_tags.clone(),
            repository_per_binary: false,
        });
    }
    if outputs.is_empty() {
        outputs.push(Output {
            target: ImageRef::parse(DEFAULT_OUTPUT, Bare::Refuse).expect("default output parses"),
            tags: args.tags.clone(),
            repository_per_binary: false,
        });
    }
    Ok(outputs)
}

/// The registry output of a push: `explicit` (a docker:// --output), else the first --tag
/// naming a repository, else `$GOPACK_REPO/<binary>`; every --tag becomes a tag of it (one
/// naming another repository is refused).
fn push_destination(args: &BuildArgs, explicit: Option<Reference>) -> anyhow::Result<Output> {
    let parse = |text: &str| -> anyhow::Result<Reference> {
        text.parse()
            .map_err(|e: gopack::registry::ReferenceError| usage(e.to_string()))
    };
    let first_full = args.tags.iter().find(|t| is_full_reference(t));
    let gopack_repo = std::env::var("GOPACK_REPO").ok().filter(|r| !r.is_empty());
    let (target, repository_per_binary) = match (explicit, first_full, gopack_repo) {
        (Some(r), _, _) => (r, false),
        (_, Some(full), _) => (parse(full)?, false),
        (_, None, Some(repo)) => (parse(&repo)?, true),
        _ => {
            return Err(usage(
                "--push needs a destination: --tag REGISTRY/REPOSITORY:TAG, GOPACK_REPO=REGISTRY/REPOSITORY, \
                 or --output docker://REGISTRY/REPOSITORY:TAG"
                    .into(),
            ));
        }
    };
    let mut tags = Vec::new();
    for tag in &args.tags {
        if is_full_reference(tag) {
            let other = parse(tag)?;
            if (other.registry.as_str(), other.repository.as_str())
                != (target.registry.as_str(), target.repository.as_str())
            {
                return Err(usage(format!(
                    "--tag {tag} names another repository than {}; one build pushes to one repository",
                    target.name()
                )));
            }
            tags.extend(other.tag);
        } else {
            tags.push(tag.clone());
        }
    }
    tags.dedup();
    Ok(Output {
        target: ImageRef::Registry(target),
        tags,
        repository_per_binary,
    })
}

struct Spinner(Option<indicatif::ProgressBar>);

impl Progress for Spinner {
    fn step(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }
}

pub fn run(args: BuildArgs) -> CommandResult {
    let options = options(&args)?;
    let goenv = GoEnv::read()?;
    let cache = Cache::open_default()?;
    let store = cache.store();
    let spinner = (std::io::stderr().is_terminal() && !args.quiet && !args.json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let progress = Spinner(spinner);
    let result = pipeline::build(store, &goenv, &options, &progress);
    if let Some(bar) = &progress.0 {
        bar.finish_and_clear();
    }
    let outcome = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else if args.quiet {
        for image in &outcome.images {
            println!("{}", image.reference);
        }
    } else {
        if args.explain {
            println!("{}", super::plan::long_form(&outcome.plan));
        } else {
            print!("{}", super::plan::short_form(&outcome.plan));
        }
        for warning in &outcome.warnings {
            println!("warning: {warning}");
        }
        print_summary(&outcome);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(outcome: &BuildOutcome) {
    for image in &outcome.images {
        let platforms: Vec<String> = image
            .platforms
            .iter()
            .map(|p| p.platform.to_string())
            .collect();
        println!(
            "built {} ({}) for {}",
            image.name,
            image.package,
            platforms.join(", ")
        );
        for p in &image.platforms {
            if image.platforms.len() > 1 {
                println!("  {}  {}", p.platform, p.manifest_digest);
            }
            println!(
                "    binary  {}    image  {} compressed, {} uncompressed, {}",
                human(p.binary_size),
                human(p.compressed_size),
                human(p.uncompressed_size),
                gopack::text::counted(p.layers.len() as u64, "layer", "layers")
            );
            for layer in &p.layers {
                let note = if layer.reused && !layer.from_base {
                    "  (cached)"
                } else {
                    ""
                };
                println!(
                    "      {}  {:>10}  {}{note}",
                    layer.digest.short(),
                    human(layer.size),
                    layer.description
                );
            }
            for sbom in &p.sboms {
                println!(
                    "    sbom    {} {} (referrer, {})",
                    sbom.format,
                    sbom.digest.short(),
                    sbom.attached_by
                );
            }
        }
        println!("  digest      {}", image.digest);
        println!("  entrypoint  {}", image.entrypoint.join(" "));
        println!("  user        {}", image.user);
        print_destination(image);
    }
}

/// Where the image went: every name it was written under, each once.
fn print_destination(image: &pipeline::BuiltImage) {
    let Some((first, others)) = image.references.split_first() else {
        return;
    };
    match &image.push {
        Some(push) => {
            println!("  pushed to   {first}");
            let tags: Vec<&str> = push.tags.iter().skip(1).map(String::as_str).collect();
            if !tags.is_empty() {
                println!("  also tagged {}", tags.join(", "));
            }
            println!(
                "  blobs       {} uploaded ({}), {} mounted, {} already there",
                push.blobs_uploaded,
                human(push.blob_bytes_uploaded),
                push.blobs_mounted,
                push.blobs_present
            );
        }
        None => {
            println!("  written to  {first}");
            for other in others {
                println!("              {other}");
            }
        }
    }
}

pub(super) fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(5 * 1024 * 1024), "5.0 MiB");
    }
}
