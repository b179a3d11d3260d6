//! Pushes an OCI image layout (as written by `gopack build -o oci:DIR`) to a registry with
//! gopack's registry client, and prints what went over the wire as one JSON line. Used by
//! `bench/push.sh` until `gopack build --push` is wired.
//!
//!   push_layout LAYOUT_DIR REGISTRY/REPO:TAG [--insecure]

use std::path::Path;
use std::process::ExitCode;

use gopack::oci::{
    BlobStore, Descriptor, Digest, Image, ImageConfig, ImageIndex, ImageManifest,
    MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_INDEX, Platform,
};
use gopack::registry::{PushRequest, Reference, RegistryClient, RegistryOptions};

fn image(store: &BlobStore, d: &Descriptor) -> anyhow::Result<Image> {
    let manifest_bytes = store.read_blob(&d.digest)?;
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)?;
    let config: ImageConfig = serde_json::from_slice(&store.read_blob(&manifest.config.digest)?)?;
    let platform = d.platform.clone().unwrap_or(Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
    });
    Ok(Image {
        platform,
        config,
        config_descriptor: manifest.config.clone(),
        manifest,
        manifest_bytes,
        manifest_digest: d.digest.clone(),
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, reference, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: push_layout LAYOUT_DIR REGISTRY/REPO:TAG [--insecure]");
    };
    let dir = Path::new(dir);
    let reference: Reference = reference.parse()?;
    let layout: ImageIndex = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)?;
    let store = BlobStore::open(dir)?;
    let top = layout
        .manifests
        .first()
        .ok_or_else(|| anyhow::anyhow!("{} names no image", dir.display()))?;
    let (images, index): (Vec<Image>, Option<(Vec<u8>, Digest)>) = if top.media_type
        == MEDIA_TYPE_INDEX
        || top.media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST
    {
        let bytes = store.read_blob(&top.digest)?;
        let index: ImageIndex = serde_json::from_slice(&bytes)?;
        let images = index
            .manifests
            .iter()
            .map(|d| image(&store, d))
            .collect::<anyhow::Result<_>>()?;
        (images, Some((bytes, top.digest.clone())))
    } else {
        (vec![image(&store, top)?], None)
    };
    let mut options = RegistryOptions::from_env();
    if rest.iter().any(|a| a == "--insecure") {
        options.insecure_hosts.push(reference.registry.clone());
    }
    let client = RegistryClient::new(options)?;
    let report = client.push(
        &store,
        &PushRequest {
            reference: &reference,
            images: &images,
            index: index.as_ref().map(|(b, d)| (&b[..], d)),
            tags: &[],
        },
    )?;
    println!(
        "{}",
        serde_json::json!({
            "reference": report.reference.to_string(),
            "blobs": report.blobs_total,
            "blobs_uploaded": report.blobs_uploaded,
            "blobs_present": report.blobs_present,
            "blobs_mounted": report.blobs_mounted,
            "blob_bytes_uploaded": report.blob_bytes_uploaded,
            "seconds": report.elapsed.as_secs_f64(),
        })
    );
    Ok(())
}
