//! `gopack pull SOURCE oci:DIR[:TAG]`: save an image from anywhere gopack reads (a registry, an
//! OCI layout, an oci-archive, a docker-archive) as an OCI image layout, for offline bases and
//! for inspection. Reading goes through the image model's one resolver, so every blob is
//! verified on the way. Also holds the registry flags other verbs share.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gopack::oci::source::{self, SourceOptions};
use gopack::oci::{
    Bare, BlobStore, Digest, ImageRef, Limits, PlatformSelector, Resolved, fetch_layers, index_for,
    parse_platform_list, resolve,
};
use gopack::registry::{CredentialStore, RegistryOptions};
use gopack::sink::{ImageSet, IndexBlob, Output, publish};

use super::{CommandResult, UsageError};

/// How to reach registries: shared by every verb that talks to one.
#[derive(Args, Clone, Debug, Default)]
pub struct RegistryFlags {
    /// Reach this registry (HOST[:PORT]) over plain HTTP instead of verified HTTPS; only the
    /// hosts named are affected. Repeat or separate with commas
    #[arg(
        long = "insecure-registry",
        value_name = "HOST",
        env = "GOPACK_INSECURE_REGISTRY",
        value_delimiter = ','
    )]
    pub insecure_registry: Vec<String>,
    /// Also trust the CA certificate(s) in this PEM file for registry TLS (besides the system
    /// and Mozilla roots). Repeatable
    #[arg(long = "registry-ca", value_name = "FILE", env = "GOPACK_REGISTRY_CA")]
    pub registry_ca: Vec<PathBuf>,
}

impl RegistryFlags {
    /// Options with credentials from the docker/podman config files of the environment.
    pub fn options(&self) -> RegistryOptions {
        RegistryOptions {
            insecure_hosts: self.insecure_registry.clone(),
            ca_files: self.registry_ca.clone(),
            credentials: CredentialStore::from_env(),
            ..RegistryOptions::default()
        }
    }
}

#[derive(Args)]
pub struct PullArgs {
    /// Image to read: [docker://]REF, oci:DIR[:TAG], oci-archive:FILE[:TAG] or
    /// docker-archive:FILE[:REF]
    pub source: String,
    /// Where to write it: oci:DIR[:TAG] (an OCI image layout; the tag defaults to the source's,
    /// else `latest`), oci-archive:FILE[:TAG], docker-archive:FILE[:REF] (one platform),
    /// docker://REF or docker-daemon:REF
    pub destination: String,
    /// Platforms to keep, comma-separated os/arch[/variant] (default: all the image has)
    #[arg(long, value_name = "LIST")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: PullArgs) -> CommandResult {
    let from =
        ImageRef::parse(&args.source, Bare::Registry).map_err(|e| UsageError(e.to_string()))?;
    let to =
        ImageRef::parse(&args.destination, Bare::Refuse).map_err(|e| UsageError(e.to_string()))?;
    let platforms = match &args.platform {
        Some(list) => parse_platform_list(list).map_err(|e| UsageError(e.to_string()))?,
        None => Vec::new(),
    };
    let store = BlobStore::open_default().context("cannot open gopack's blob store")?;
    let options = SourceOptions {
        registry: args.registry.options(),
        limits: Limits::default(),
    };
    let concurrency = options.registry.concurrency;
    let resolved = (|| {
        let source = source::open(&from, &store, &options)?;
        let selector = PlatformSelector::from_list(&platforms);
        let resolved = resolve(source.as_ref(), &selector, &store, &options.limits)?;
        fetch_layers(source.as_ref(), &resolved.images, &store, concurrency)?;
        Ok::<_, gopack::oci::SourceError>(resolved)
    })()
    .with_context(|| format!("cannot pull {}", args.source))?;
    // A layout or OCI archive named without a tag takes the source's, else `latest`.
    let tag = from.tag().unwrap_or("latest").to_string();
    let to = match to {
        ImageRef::Layout { dir, tag: None } => ImageRef::Layout {
            dir,
            tag: Some(tag),
        },
        ImageRef::OciArchive { file, tag: None } => ImageRef::OciArchive {
            file,
            tag: Some(tag),
        },
        other => other,
    };
    let registry = options.registry.clone();
    let (top, blobs) = write_output(&store, &resolved, &to, &registry)
        .with_context(|| format!("cannot write {to}"))?;
    let platforms: Vec<String> = resolved
        .images
        .iter()
        .map(|i| i.platform.to_string())
        .collect();
    println!(
        "{} -> {to} ({top}; {}; {})",
        resolved.origin,
        gopack::text::counted(blobs as u64, "blob", "blobs"),
        platforms.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the resolved image to `to` through its sink: a layout (a multi-image store: other
/// tags stay), an archive, a registry or a daemon. The output names the source's own index
/// when every platform was kept, else the one manifest kept, else a new index over the
/// platforms kept. Returns the top digest written and the number of blobs.
fn write_output(
    store: &BlobStore,
    resolved: &Resolved,
    to: &ImageRef,
    registry: &RegistryOptions,
) -> anyhow::Result<(Digest, usize)> {
    let index = if resolved.complete && resolved.index.is_some() {
        Some(IndexBlob {
            bytes: resolved.top_bytes.clone(),
            digest: resolved.top.digest.clone(),
            media_type: resolved.top.media_type.clone(),
        })
    } else if resolved.images.len() > 1 {
        let (_, bytes, digest) = index_for(store, &resolved.images, Default::default())?;
        Some(IndexBlob::oci(bytes, digest))
    } else {
        None
    };
    let set = ImageSet {
        name: "image".into(),
        images: resolved.images.clone(),
        index,
    };
    let blobs = set
        .blobs()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let output = Output::new(to.clone());
    let sink = output.sink(registry).map_err(for_pull)?;
    sink.check(resolved.images.len()).map_err(for_pull)?;
    let published =
        publish(store, &[set], sink.as_ref(), &|line| eprintln!("{line}")).map_err(for_pull)?;
    Ok((published[0].digest.clone(), blobs))
}

/// A layout error in pull's own words: the sink's messages name build's `--output`, which
/// pull does not have (its destination is the second argument).
fn for_pull(e: gopack::sink::SinkError) -> anyhow::Error {
    use gopack::sink::SinkError;
    match e {
        SinkError::NotALayout { dir, foreign } => anyhow::anyhow!(
            "{} is not an OCI image layout: it holds {}, which gopack will not mix images into. \
             Pull into a new or empty directory, or an existing layout: gopack pull REF oci:DIR",
            dir.display(),
            foreign.join(", ")
        ),
        SinkError::NotADirectory(path) => anyhow::anyhow!(
            "{} is a file, not a directory; pull writes an OCI layout directory: gopack pull REF \
             oci:DIR",
            path.display()
        ),
        other => anyhow::anyhow!(
            "{}",
            other
                .to_string()
                .replace("another --output", "another destination")
                .replace("--output", "the destination")
        ),
    }
}
