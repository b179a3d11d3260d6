//! `gopack build`: flags, the call into the pipeline, and what is shown where. stdout carries
//! results only — one reference per image that pins it (`REGISTRY/REPO@sha256:…` after a
//! push), or with `--json` one JSON document — so `IMG=$(gopack build … --push)` captures
//! exactly the references; the plan lines, progress, warnings and the summary go to stderr.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gopack::cache::Cache;
use gopack::config::file::{Port, SbomFormat};
use gopack::config::{GoEnv, Settings};
use gopack::pipeline::{self, Schedule};

use super::plan_flags::PlanFlags;
use super::plan_targets::{Inputs, OutputFlags, Selection, setup};
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub plan: PlanFlags,

    #[command(flatten)]
    pub image: ImageFlags,

    #[command(flatten)]
    pub registry: super::pull::RegistryFlags,

    /// Print the result as one JSON document on stdout (nothing else goes to stdout)
    #[arg(long)]
    pub json: bool,

    /// Write the result (per target and platform: ref@digest, sizes, referrers) as JSON to
    /// FILE, like buildx's --metadata-file
    #[arg(long, value_name = "FILE")]
    pub metadata_file: Option<PathBuf>,

    /// Print nothing on stderr but errors (stdout still gets the references)
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the whole plan (every decision and its reason, as `gopack plan` does) on stderr
    /// before the summary, instead of one line per decision
    #[arg(long)]
    pub explain: bool,

    /// Print the exact go commands and registry requests on stderr (never credentials)
    #[arg(short, long)]
    pub verbose: bool,

    /// Build only the targets whose package closure, embedded files or data changed since
    /// this git ref (the others keep their previous image: builds are reproducible)
    #[arg(long, value_name = "GITREF")]
    pub changed_since: Option<String>,

    /// Build one part of the targets, I of N (sorted by import path, round robin): CI
    /// machines each take one shard; the registry is the shared content store
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Targets checked and assembled at once [default: the cores, fewer when memory is short]
    #[arg(short, long, value_name = "N", env = "GOPACK_JOBS")]
    pub jobs: Option<usize>,
}

/// What the image and its destination look like: shared by build and resolve.
#[derive(Args, Default)]
pub struct ImageFlags {
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

    /// Layer compression: gzip (level by layer size), gzip:1-12 or zstd[:1-19] [default: gzip]
    #[arg(long, value_name = "ALGO[:LEVEL]")]
    pub compression: Option<String>,

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
}

fn key_values(flag: &str, items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(UsageError(format!("--{flag} `{kv}` must be KEY=VALUE")).into()),
        })
        .collect()
}

impl ImageFlags {
    /// The settings these flags give, and the flag that gave each.
    pub fn layer(&self) -> anyhow::Result<(Settings, BTreeMap<&'static str, &'static str>)> {
        let mut s = Settings::default();
        let mut names = BTreeMap::new();
        if let Some(c) = &self.compression {
            s.compression = Some(c.clone());
            names.insert("compression", "--compression");
        }
        if !self.port.is_empty() {
            s.ports = Some(self.port.iter().cloned().map(Port::Text).collect());
            names.insert("ports", "--port");
        }
        if let Some(w) = &self.workdir {
            s.workdir = Some(w.clone());
            names.insert("workdir", "--workdir");
        }
        if !self.label.is_empty() {
            s.labels = Some(key_values("label", &self.label)?);
            names.insert("labels", "--label");
        }
        if !self.annotation.is_empty() {
            s.annotations = Some(key_values("annotation", &self.annotation)?);
            names.insert("annotations", "--annotation");
        }
        if !self.tags.is_empty() {
            s.tags = Some(self.tags.clone());
            names.insert("tags", "--tag");
        }
        if self.keep_base_labels {
            s.keep_base_labels = Some(true);
            names.insert("keep-base-labels", "--keep-base-labels");
        }
        if let Some(list) = &self.sbom {
            let formats = gopack::sbom::parse_formats(list).map_err(UsageError)?;
            s.sbom = Some(
                formats
                    .into_iter()
                    .map(|f| match f {
                        gopack::sbom::Format::Spdx => SbomFormat::Spdx,
                        gopack::sbom::Format::CycloneDx => SbomFormat::Cyclonedx,
                    })
                    .collect(),
            );
            names.insert("sbom", "--sbom");
        }
        Ok((s, names))
    }

    /// `--output` and `--push`.
    pub fn output_flags(&self) -> OutputFlags {
        OutputFlags {
            output: self.output.clone(),
            push: self.push,
        }
    }
}

/// The inputs of a build from its flags.
fn inputs(args: &BuildArgs) -> anyhow::Result<Inputs<'_>> {
    let (image_layer, image_names) = args.image.layer()?;
    let shard = args
        .shard
        .as_deref()
        .map(super::plan_select::parse_shard)
        .transpose()
        .map_err(UsageError)?;
    Ok(Inputs {
        flags: &args.plan,
        image_layer,
        image_names,
        output: args.image.output_flags(),
        registry: args.registry.options(),
        selection: Selection {
            shard,
            changed_since: args.changed_since.clone(),
        },
    })
}

pub fn run(args: BuildArgs) -> CommandResult {
    gopack::log::set_verbose(args.verbose);
    let inputs = inputs(&args)?;
    let goenv = GoEnv::read()?;
    let setup = setup(&inputs, &goenv)?;
    let cache = Cache::open_default()?;
    let talk = !args.quiet && !args.json;
    // Warnings go to stderr even with -q: stdout keeps only the references.
    setup
        .warnings
        .iter()
        .for_each(|w| eprintln!("warning: {w}"));
    let schedule = Schedule::detect(args.jobs);
    gopack::log::verbose(&format!(
        "schedule: {} targets checked and assembled at once, go build -p {} ({} cores, {} \
         available)",
        schedule.jobs,
        schedule
            .go_procs
            .map_or_else(|| "= cores".to_string(), |p| p.to_string()),
        schedule.cores,
        schedule
            .memory_available
            .map_or_else(|| "unknown memory".to_string(), human)
    ));
    let outcomes = if setup.jobs.is_empty() {
        Vec::new()
    } else {
        let display = super::build_progress::Display::new(talk);
        let result = pipeline::build_many(cache.store(), &goenv, &setup.jobs, &schedule, &display);
        display.finish();
        result?
    };
    let report = super::build_report::Report::new(&outcomes, &setup);
    if let Some(file) = &args.metadata_file {
        report.write_metadata(file)?;
    }
    if args.json {
        let mut doc = report.json();
        if let serde_json::Value::Object(map) = &mut doc {
            map.insert("schedule".into(), serde_json::to_value(schedule)?);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for image in outcomes.iter().flat_map(|o| &o.images) {
            println!("{}", image.reference);
        }
    }
    if talk {
        eprint!("{}", report.talk(args.explain, &setup));
    } else if args.quiet {
        eprint!("{}", report.warnings());
    }
    Ok(ExitCode::SUCCESS)
}

/// Sizes as people write them: `512 B`, `1.5 KiB`, `5.0 MiB`.
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
