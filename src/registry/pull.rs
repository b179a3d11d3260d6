//! Pulling: a manifest or index by tag or digest (OCI distribution spec, "Pulling manifests"),
//! checked against the digest asked for and the registry's `Docker-Content-Digest`, then the
//! selected platforms' configs and layers streamed into the store, verified.

use ureq::http::Method;

use crate::oci::media::classify;
use crate::oci::source::RegistrySource;
use crate::oci::{
    BlobStore, Descriptor, Digest, Image, ImageIndex, ImageManifest, Limits, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_MANIFEST, MediaKind, Platform, PlatformSelector, SourceError, fetch_layers, resolve,
};

use super::client::{Attempts, AuthMode, RegistryClient, Req, ReqBody};
use super::error::RegistryError;
use super::push::{get_refused, remember_blob};
use super::reference::Reference;
use super::transport::transport_error;
use crate::text::printable;

/// Largest manifest or index gopack accepts (registries cap them at 4 MiB too).
const MAX_MANIFEST: u64 = 4 << 20;

pub(crate) const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// What a pull brought into the store.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The reference pulled, pinned to the digest it resolved to.
    pub reference: Reference,
    /// Digest of the top-level document (`bytes`).
    pub digest: Digest,
    /// Media type of the top-level document: an OCI or Docker index or manifest type.
    pub media_type: String,
    /// The exact bytes of the top-level document (index or manifest), as the registry sent them.
    pub bytes: Vec<u8>,
    /// The index, when the reference named one.
    pub index: Option<ImageIndex>,
    /// The selected platform images, their config and layers in the store.
    pub images: Vec<Image>,
}

impl Pulled {
    /// True when every platform of the index was pulled (so `bytes` describe exactly `images`).
    pub fn complete(&self) -> bool {
        self.index
            .as_ref()
            .is_none_or(|i| i.manifests.len() == self.images.len())
    }
}

/// What a manifest answer parsed as (validated here; the walk in `oci::resolve` reads it).
enum Document {
    Index,
    Manifest,
}

/// A source error from the shared walk, back as a registry error (registry errors pass
/// through unchanged; the rest say which reference they concern).
fn into_registry(e: SourceError, reference: &Reference) -> RegistryError {
    match e {
        SourceError::Registry(r) => r,
        SourceError::NoPlatform { .. } => RegistryError::Platform(e.to_string()),
        SourceError::Digest {
            what,
            expected,
            actual,
        } => RegistryError::DigestMismatch {
            what,
            host: reference.registry.clone(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        },
        SourceError::Store(s) => s.into(),
        other => RegistryError::BadResponse {
            what: format!("pulling {reference}"),
            host: reference.registry.clone(),
            detail: other.to_string(),
        },
    }
}

impl RegistryClient {
    /// Resolves `reference` and brings the selected platforms' manifests, configs and layers
    /// into the store, verifying every digest and size on arrival. An empty `platforms` selects
    /// all. A digest-pinned reference whose content is already in the store needs no network.
    /// The walk itself is [`crate::oci::resolve`], shared by every image source.
    pub fn pull(
        &self,
        store: &BlobStore,
        reference: &Reference,
        platforms: &[Platform],
    ) -> Result<Pulled, RegistryError> {
        let source = RegistrySource::with_client(self, reference.clone(), store.clone());
        let selector = PlatformSelector::from_list(platforms);
        let resolved = resolve(&source, &selector, store, &Limits::default())
            .map_err(|e| into_registry(e, reference))?;
        fetch_layers(&source, &resolved.images, store, self.opts.concurrency)
            .map_err(|e| into_registry(e, reference))?;
        Ok(Pulled {
            reference: reference.with_digest(resolved.top.digest.clone()),
            digest: resolved.top.digest,
            media_type: resolved.top.media_type,
            bytes: resolved.top_bytes,
            index: resolved.index,
            images: resolved.images,
        })
    }

    /// A manifest or index by tag or digest (`target`), as `(bytes, digest, media type)`: from
    /// the store when `expected` is there, else from the registry (verified, then stored).
    pub(crate) fn get_document(
        &self,
        store: &BlobStore,
        reference: &Reference,
        target: &str,
        expected: Option<&Digest>,
    ) -> Result<(Vec<u8>, Digest, String), RegistryError> {
        let scopes = vec![format!("repository:{}:pull", reference.repository)];
        let (bytes, digest, media_type, _) =
            self.fetch_document(store, reference, target, expected, &scopes)?;
        Ok((bytes, digest, media_type))
    }

    /// Streams one blob into the store (unless there), verified; retried within the policy.
    pub(crate) fn get_blob(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
    ) -> Result<(), RegistryError> {
        let scopes = vec![format!("repository:{}:pull", reference.repository)];
        self.fetch_blob(store, reference, blob, &scopes)
    }

    /// A manifest or index by tag or digest: from the store when pinned by a digest it holds,
    /// else from the registry, checked against the expected digest and the registry's own
    /// Docker-Content-Digest, then kept in the store.
    fn fetch_document(
        &self,
        store: &BlobStore,
        reference: &Reference,
        target: &str,
        expected: Option<&Digest>,
        scopes: &[String],
    ) -> Result<(Vec<u8>, Digest, String, Document), RegistryError> {
        let registry = reference.registry.as_str();
        let sep = if target.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        let what = format!("fetching the manifest {}{sep}{target}", reference.name());
        let bad = |detail: String| RegistryError::BadResponse {
            what: what.clone(),
            host: registry.into(),
            detail: printable(&detail, 500),
        };
        if let Some(d) = expected
            && store.contains(d)
        {
            let bytes = store.read_blob(d)?;
            if let Ok(doc) = parse_document(&bytes, None) {
                let media_type = doc_media_type(&doc, &bytes);
                return Ok((bytes, d.clone(), media_type, doc));
            }
        }
        self.prepare(registry, scopes)?;
        let req = Req {
            method: Method::GET,
            url: format!(
                "{}{}/manifests/{target}",
                self.base_url(registry),
                reference.repository
            ),
            headers: vec![("accept", ACCEPT.into())],
            body: ReqBody::Empty,
            registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: MAX_MANIFEST,
        };
        let resp = self.execute(&req, true)?;
        let content_type = resp.header("content-type").map(str::to_string);
        let status = resp.status;
        if status != 200 {
            let name = format!("{}{sep}{target}", reference.name());
            return Err(get_refused(&what, registry, name, resp));
        }
        let answered = resp.header("docker-content-digest").map(str::to_string);
        let (host, budget) = (resp.host.clone(), resp.budget);
        let bytes = resp
            .bytes(MAX_MANIFEST)
            .map_err(|e| transport_error(&what, &host, e, budget))?;
        let digest = Digest::of(&bytes);
        let claims = expected
            .map(ToString::to_string)
            .into_iter()
            .chain(answered);
        check_claimed_digests(claims, &digest, &what, registry)?;
        let doc = parse_document(&bytes, content_type.as_deref()).map_err(bad)?;
        let media_type = doc_media_type(&doc, &bytes);
        store.put_bytes(&bytes)?;
        Ok((bytes, digest, media_type, doc))
    }

    /// Streams one blob into the store (unless already there), verifying its digest and
    /// refusing a body longer than the descriptor's size (not retried: the registry is wrong,
    /// not the network); retries broken, stalled or corrupted transfers within the retry
    /// policy.
    fn fetch_blob(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
        scopes: &[String],
    ) -> Result<(), RegistryError> {
        let registry = reference.registry.as_str();
        // The manifest listing this blob is in this repository, so the registry holds it
        // there: remember that for cross-repository mounts, downloaded now or not.
        remember_blob(store, registry, &blob.digest, &reference.repository);
        if store.contains(&blob.digest) {
            return Ok(());
        }
        self.prepare(registry, scopes)?;
        let what = format!(
            "fetching blob {} ({} bytes) from {}",
            blob.digest,
            blob.size,
            reference.name()
        );
        let mut attempts = Attempts::new(&self.opts.retry);
        loop {
            attempts.begin();
            match self.download_blob(store, reference, blob, scopes, &what) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() || matches!(e, RegistryError::DigestMismatch { .. }) => {
                    attempts.pause(&what, e, None)?
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Checks that every digest claimed for a document (the one the caller pinned, the registry's
/// Docker-Content-Digest) is the digest of the bytes received.
fn check_claimed_digests(
    claims: impl Iterator<Item = String>,
    digest: &Digest,
    what: &str,
    registry: &str,
) -> Result<(), RegistryError> {
    for claimed in claims {
        if claimed.trim() != digest.to_string() {
            return Err(RegistryError::DigestMismatch {
                what: what.into(),
                host: registry.into(),
                expected: printable(&claimed, 100),
                actual: digest.to_string(),
            });
        }
    }
    Ok(())
}

fn doc_media_type(doc: &Document, bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Typed>(bytes)
        .ok()
        .and_then(|t| t.media_type)
        .unwrap_or_else(|| match doc {
            Document::Index => MEDIA_TYPE_INDEX.into(),
            Document::Manifest => MEDIA_TYPE_MANIFEST.into(),
        })
}

/// Parses a registry's manifest answer into an index or an image manifest; the error says what
/// is wrong with it. Never panics, whatever the bytes.
pub fn parse_manifest_document(bytes: &[u8], content_type: Option<&str>) -> Result<bool, String> {
    parse_document(bytes, content_type).map(|d| matches!(d, Document::Index))
}

fn parse_document(bytes: &[u8], content_type: Option<&str>) -> Result<Document, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!("the manifest is not valid JSON ({e}); the registry or a proxy in front of it is misbehaving")
    })?;
    let Some(obj) = value.as_object() else {
        return Err("the manifest is JSON but not an object".into());
    };
    if obj.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err(
            "it is a Docker schema 1 manifest, which is deprecated and not supported; \
             push the image again with a current tool"
                .into(),
        );
    }
    let media_type = obj
        .get("mediaType")
        .and_then(|v| v.as_str())
        .or(content_type)
        .unwrap_or("");
    let is_index = obj.contains_key("manifests") || classify(media_type) == Some(MediaKind::Index);
    if is_index {
        serde_json::from_value(value)
            .map(|_: ImageIndex| Document::Index)
            .map_err(|e| format!("the index is malformed ({e})"))
    } else if obj.contains_key("config") {
        serde_json::from_value(value)
            .map(|_: ImageManifest| Document::Manifest)
            .map_err(|e| format!("the manifest is malformed ({e})"))
    } else {
        Err(format!(
            "the document is neither an image index nor an image manifest (media type `{media_type}`)"
        ))
    }
}
