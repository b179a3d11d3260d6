//! `gopack pull REF oci:DIR`: save an image from a registry as an OCI image layout (for offline
//! bases and for inspection). Also holds the registry flags other verbs share.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gopack::oci::{
    ANNOTATION_REF_NAME, BlobStore, Descriptor, Digest, MEDIA_TYPE_INDEX, index_for,
    parse_platform_list,
};
use gopack::registry::{CredentialStore, Pulled, Reference, RegistryClient, RegistryOptions};

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
        "{} -> oci:{} ({}; {} blobs; {})",
        pulled.reference,
        dir.display(),
        top,
        blobs,
        platforms.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the pulled image as an OCI layout at `dir`, atomically (built beside it, then renamed
/// into place). Returns the digest `index.json` points at and the number of blobs.
fn write_layout(store: &BlobStore, pulled: &Pulled, dir: &Path) -> anyhow::Result<(Digest, usize)> {
    // The document the layout names: the registry's own bytes when everything was pulled,
    // else the one manifest kept, else a new index over the platforms kept.
    let top: Descriptor = if pulled.complete() {
        Descriptor::new(
            &pulled.media_type,
            pulled.digest.clone(),
            pulled.bytes.len() as u64,
        )
    } else if pulled.images.len() == 1 {
        let mut d = pulled.images[0].descriptor();
        d.platform = None;
        d
    } else {
        let (_, bytes, digest) = index_for(store, &pulled.images, Default::default())?;
        Descriptor::new(MEDIA_TYPE_INDEX, digest, bytes.len() as u64)
    };
    let mut blobs: Vec<Digest> = vec![top.digest.clone()];
    for image in &pulled.images {
        for d in [&image.manifest_digest, &image.config_descriptor.digest]
            .into_iter()
            .chain(image.manifest.layers.iter().map(|l| &l.digest))
        {
            if !blobs.contains(d) {
                blobs.push(d.clone());
            }
        }
    }

    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !dir.join("oci-layout").is_file() {
            return Err(UsageError(format!(
                "{} exists and is not an OCI layout; choose another directory or remove it",
                dir.display()
            ))
            .into());
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix(".gopack-pull-")
        .tempdir_in(&parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    let blob_dir = tmp.path().join("blobs/sha256");
    fs::create_dir_all(&blob_dir)?;
    for d in &blobs {
        let from = store.path(d);
        let to = blob_dir.join(d.hex());
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).with_context(|| format!("cannot copy blob {d}"))?;
        }
    }
    let mut top = top;
    if let Some(tag) = &pulled.reference.tag {
        top.annotations = Some([(ANNOTATION_REF_NAME.to_string(), tag.clone())].into());
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_INDEX,
        "manifests": [top],
    });
    write_file(
        &tmp.path().join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    write_file(&tmp.path().join("index.json"), &serde_json::to_vec(&index)?)?;

    let staged = tmp.keep();
    let old = parent.join(format!(
        ".gopack-old-{}",
        staged
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("layout")
    ));
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).with_context(|| format!("cannot move {} aside", dir.display()))?;
    }
    if let Err(e) = fs::rename(&staged, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("cannot move the layout into {}", dir.display()));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| pulled.digest.clone());
    Ok((digest, blobs.len()))
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
