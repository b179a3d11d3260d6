//! `gopack pull REF oci:DIR`: save an image from a registry as an OCI image layout (for offline
//! bases and for inspection). Also holds the registry flags other verbs share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gopack::oci::{BlobStore, Digest, index_for, parse_platform_list};
use gopack::registry::{CredentialStore, Pulled, Reference, RegistryClient, RegistryOptions};
use gopack::sink::{ImageSet, IndexBlob, write_oci_layout};

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
    /// Image to pull: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]
    pub reference: String,
    /// Where to write it: oci:DIR (an OCI image layout directory, replaced whole)
    pub destination: String,
    /// Platforms to keep, comma-separated os/arch[/variant] (default: all the image has)
    #[arg(long, value_name = "LIST")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: PullArgs) -> CommandResult {
    let reference: Reference = args
        .reference
        .parse()
        .map_err(|e: gopack::registry::ReferenceError| UsageError(e.to_string()))?;
    let Some(dir) = args.destination.strip_prefix("oci:") else {
        return Err(UsageError(format!(
            "destination `{}` is not supported: write oci:DIR for an OCI image layout",
            args.destination
        ))
        .into());
    };
    if dir.is_empty() {
        return Err(
            UsageError("destination oci: needs a directory, e.g. oci:./base".into()).into(),
        );
    }
    let platforms = match &args.platform {
        Some(list) => parse_platform_list(list).map_err(|e| UsageError(e.to_string()))?,
        None => Vec::new(),
    };
    let store = BlobStore::open_default().context("cannot open gopack's blob store")?;
    let client = RegistryClient::new(args.registry.options())?;
    let pulled = client
        .pull(&store, &reference, &platforms)
        .with_context(|| format!("cannot pull {reference}"))?;
    let dir = PathBuf::from(dir);
    let (top, blobs) = write_layout(&store, &pulled, &dir)
        .with_context(|| format!("cannot write the OCI layout {}", dir.display()))?;
    let platforms: Vec<String> = pulled
        .images
        .iter()
        .map(|i| i.platform.to_string())
        .collect();
    println!(
        "{} -> oci:{} ({}; {}; {})",
        pulled.reference,
        dir.display(),
        top,
        super::build_report::count(blobs, "blob"),
        platforms.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the pulled image as an OCI layout at `dir` with the shared layout writer (atomic;
/// a directory that is not a layout is never replaced). The layout names the registry's own
/// document when every platform was pulled, else the one manifest kept, else a new index over
/// the platforms kept. Returns the digest `index.json` points at and the number of blobs.
fn write_layout(store: &BlobStore, pulled: &Pulled, dir: &Path) -> anyhow::Result<(Digest, usize)> {
    let index = if pulled.complete() && pulled.index.is_some() {
        Some(IndexBlob {
            bytes: pulled.bytes.clone(),
            digest: pulled.digest.clone(),
            media_type: pulled.media_type.clone(),
        })
    } else if pulled.images.len() > 1 {
        let (_, bytes, digest) = index_for(store, &pulled.images, Default::default())?;
        Some(IndexBlob::oci(bytes, digest))
    } else {
        None
    };
    let set = ImageSet {
        name: pulled.reference.repository.clone(),
        images: pulled.images.clone(),
        index,
    };
    let blobs = set
        .blobs()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let top = set.top_descriptor().digest;
    write_oci_layout(
        store,
        dir,
        &[set],
        Some(pulled.reference.tag.as_deref().unwrap_or("latest")),
    )
    .map_err(for_pull)?;
    Ok((top, blobs))
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
                .replace("another --output", "another destination (oci:DIR)")
                .replace("--output", "the destination")
        ),
    }
}
