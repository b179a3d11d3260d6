use ureq::http::Method;

use crate::oci::{
    BlobStore, Descriptor, Digest, Image, ImageConfig, ImageIndex, ImageManifest,
    MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_MANIFEST, Platform,
};

use super::client::{Attempts, AuthMode, RegistryClient, Req, ReqBody};
use super::error::RegistryError;
use super::push::{finish, parallel, remember_blob, status_error};
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
    pub digest: Digest,
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

/// A manifest or index after parsing.
enum Document {
    Index(ImageIndex),
    Manifest(ImageManifest),
}

fn is_manifest_type(t: &str) -> bool {
    t == MEDIA_TYPE_MANIFEST || t == MEDIA_TYPE_DOCKER_MANIFEST
}

fn normalise(p: &Platform) -> Platform {
    let text = p.to_string();
    text.parse().unwrap_or_else(|_| p.clone())
}

impl RegistryClient {
    /// Resolves `reference` and brings the selected platforms' manifests, configs and layers
    /// into the store, verifying every digest on arrival. An empty `platforms` selects all.
    /// A digest-pinned reference whose content is already in the store needs no network.
    pub fn pull(
        &self,
        store: &BlobStore,
        reference: &Reference,
        platforms: &[Platform],
    ) -> Result<Pulled, RegistryError> {
        let wanted: Vec<Platform> = platforms.iter().map(normalise).collect();
        let scopes = vec![format!("repository:{}:pull", reference.repository)];
        let target = reference.manifest_reference();
        let (bytes, digest, media_type, doc) = self.fetch_document(
            store,
            reference,
            &target,
            reference.digest.as_ref(),
            &scopes,
        )?;

        // Which manifests to fetch, with the platform each is for (when the index says).
        let mut selected: Vec<(Digest, Option<Platform>)> = Vec::new();
        let index = match doc {
            Document::Index(index) => {
                let mut available = Vec::new();
                for d in &index.manifests {
                    let Some(p) = d.platform.as_ref().map(normalise) else {
                        continue;
                    };
                    if !is_manifest_type(&d.media_type) || p.os == "unknown" {
                        continue;
                    }
                    available.push(p.to_string());
                    if wanted.is_empty() || wanted.contains(&p) {
                        selected.push((d.digest.clone(), Some(p)));
                    }
                }
                if selected.is_empty() {
                    return Err(RegistryError::Platform(format!(
                        "{reference} has no image for {}; it has: {}",
                        wanted
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        if available.is_empty() {
                            "none".into()
                        } else {
                            printable(&available.join(", "), 500)
                        }
                    )));
                }
                Some(index)
            }
            Document::Manifest(_) => {
                selected.push((digest.clone(), None));
                None
            }
        };

        let mut manifests = Vec::new();
        for (d, platform) in &selected {
            let (mbytes, mdigest, _, mdoc) = if *d == digest {
                (
                    bytes.clone(),
                    digest.clone(),
                    media_type.clone(),
                    self.reparse(&bytes, reference)?,
                )
            } else {
                self.fetch_document(store, reference, &d.to_string(), Some(d), &scopes)?
            };
            let Document::Manifest(manifest) = mdoc else {
                return Err(RegistryError::BadResponse {
                    what: format!("pulling {reference}"),
                    host: reference.registry.clone(),
                    detail: format!("{d} is listed as an image manifest but is an index"),
                });
            };
            manifests.push((manifest, mbytes, mdigest, platform.clone()));
        }

        let mut blobs: Vec<Descriptor> = Vec::new();
        for (m, ..) in &manifests {
            for d in std::iter::once(&m.config).chain(&m.layers) {
                if !blobs.iter().any(|b| b.digest == d.digest) {
                    blobs.push(d.clone());
                }
            }
        }
        parallel(&blobs, self.opts.concurrency, |blob| {
            self.fetch_blob(store, reference, blob, &scopes)
        })?;

        let mut images = Vec::new();
        for (manifest, manifest_bytes, manifest_digest, platform) in manifests {
            let config_bytes = store.read_blob(&manifest.config.digest)?;
            let config: ImageConfig =
                serde_json::from_slice(&config_bytes).map_err(|e| RegistryError::BadResponse {
                    what: format!("pulling {reference}"),
                    host: reference.registry.clone(),
                    detail: format!(
                        "config {} is not an image config ({e})",
                        manifest.config.digest
                    ),
                })?;
            let from_config = normalise(&Platform {
                os: config.os.clone(),
                architecture: config.architecture.clone(),
                variant: config.variant.clone(),
            });
            let platform = platform.unwrap_or(from_config);
            if !wanted.is_empty() && !wanted.contains(&platform) {
                let shown = printable(&platform.to_string(), 100);
                return Err(RegistryError::Platform(format!(
                    "{reference} is an image for {shown} only (a single manifest, not an index), \
                     not {}; gopack does not build for a platform its base cannot serve. Ask \
                     for {shown} only, or use a base that is an image index with every platform",
                    wanted
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            images.push(Image {
                platform,
                config,
                config_descriptor: manifest.config.clone(),
                manifest,
                manifest_bytes,
                manifest_digest,
            });
        }
        Ok(Pulled {
            reference: reference.with_digest(digest.clone()),
            digest,
            media_type,
            bytes,
            index,
            images,
        })
    }

    fn reparse(&self, bytes: &[u8], reference: &Reference) -> Result<Document, RegistryError> {
        parse_document(bytes, None).map_err(|detail| RegistryError::BadResponse {
            what: format!("pulling {reference}"),
            host: reference.registry.clone(),
            detail,
        })
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
            let (_, _, body) = finish(resp);
            if status == 404 {
                return Err(RegistryError::NotFound {
                    what: what.clone(),
                    reference: format!("{}{sep}{target}", reference.name()),
                    message: super::error::registry_message(&body),
                });
            }
            return Err(status_error(&what, registry, status, &body));
        }
        let answered = resp.header("docker-content-digest").map(str::to_string);
        let (host, budget) = (resp.host.clone(), resp.budget);
        let bytes = resp
            .bytes(MAX_MANIFEST)
            .map_err(|e| transport_error(&what, &host, e, budget))?;
        let digest = Digest::of(&bytes);
        for claimed in expected
            .map(ToString::to_string)
            .into_iter()
            .chain(answered)
        {
            if claimed.trim() != digest.to_string() {
                return Err(RegistryError::DigestMismatch {
                    what: what.clone(),
                    host: registry.into(),
                    expected: printable(&claimed, 100),
                    actual: digest.to_string(),
                });
            }
        }
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
            Document::Index(_) => MEDIA_TYPE_INDEX.into(),
            Document::Manifest(_) => MEDIA_TYPE_MANIFEST.into(),
        })
}

/// Parses a registry's manifest answer into an index or an image manifest; the error says what
/// is wrong with it. Never panics, whatever the bytes.
pub fn parse_manifest_document(bytes: &[u8], content_type: Option<&str>) -> Result<bool, String> {
    parse_document(bytes, content_type).map(|d| matches!(d, Document::Index(_)))
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
    let is_index = obj.contains_key("manifests")
        || media_type == MEDIA_TYPE_INDEX
        || media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST;
    if is_index {
        serde_json::from_value(value)
            .map(Document::Index)
            .map_err(|e| format!("the index is malformed ({e})"))
    } else if obj.contains_key("config") {
        serde_json::from_value(value)
            .map(Document::Manifest)
            .map_err(|e| format!("the manifest is malformed ({e})"))
    } else {
        Err(format!(
            "the document is neither an image index nor an image manifest (media type `{media_type}`)"
        ))
    }
}
