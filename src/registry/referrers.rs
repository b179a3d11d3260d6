//! OCI referrers (distribution-spec v1.1.1 "Listing Referrers" and "Pushing Manifests with
//! Subject"; image-spec v1.1 `manifest.md` `subject`/`artifactType`): artifacts such as SBOMs
//! and signatures attached to an image manifest.
//!
//! Push ([`RegistryClient::push_referrer`]): the artifact's blobs, then its manifest by digest.
//! A registry with the referrers API answers that PUT with `OCI-Subject: <subject digest>` and
//! indexes it itself ([`ReferrerPath::Api`]). Without that header the client keeps the
//! *referrers tag schema* itself ([`ReferrerPath::TagSchema`]): GET the index tagged
//! `<alg>-<hex>` of the subject (an empty one on 404), leave it alone when the artifact is
//! already listed, else append the artifact's descriptor — with its `artifactType` (the
//! config media type when it has none) and *all* of the manifest's annotations — and PUT it
//! back, conditionally on the ETag when the registry gave one, re-reading and retrying when
//! another writer got there first. Entries other tools wrote are kept byte for byte (fields
//! gopack does not know included): go-containerregistry's fallback drops them (cosign #4641).
//!
//! List ([`RegistryClient::list_referrers`]): `GET /v2/<name>/referrers/<digest>` (following
//! `Link: <…>; rel="next"` pages, bounded), and on 404 the tag schema's index; an
//! `artifactType` filter is applied here when the registry did not (`OCI-Filters-Applied`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::client::{AuthMode, RegistryClient, Req, ReqBody};
use super::error::{RegistryError, registry_message};
use super::push::{finish, push_scopes, status_error};
use super::reference::Reference;
use super::transport::transport_error;
use crate::oci::{BlobStore, Descriptor, Digest, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST};
use crate::text::printable;

/// The empty JSON object's media type (image-spec `manifest.md` "Guidance for an Empty
/// Descriptor"): the config of artifacts that have none.
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The empty descriptor's content: the two bytes `{}`.
pub const EMPTY_JSON: &[u8] = b"{}";
/// `sha256` of [`EMPTY_JSON`].
pub const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// The annotation every gopack referrer carries (image-spec `annotations.md`).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";

/// Largest referrers index read (bytes), as for any manifest.
const MAX_INDEX: u64 = 4 << 20;
/// Most pages of a referrers answer followed.
const MAX_PAGES: usize = 100;
/// Most read-modify-write rounds of the tag schema's index when other writers keep winning.
const MAX_TAG_ROUNDS: usize = 5;

/// An artifact manifest (image-spec `manifest.md` with `artifactType` and `subject`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactManifest {
    /// Always 2.
    pub schema_version: u32,
    /// Always the OCI image manifest type.
    pub media_type: String,
    /// What the artifact is; mandatory when the config is the empty descriptor.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact_type: Option<String>,
    /// The config (the empty descriptor for plain artifacts).
    pub config: Descriptor,
    /// The artifact's content.
    pub layers: Vec<Descriptor>,
    /// The manifest this artifact refers to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<Descriptor>,
    /// Annotations (`org.opencontainers.image.created`…).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An artifact ready to be written: the manifest, its exact bytes and digest. Its blobs are in
/// the store.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// The manifest.
    pub manifest: ArtifactManifest,
    /// Its exact bytes (what is pushed and what the digest is of).
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`.
    pub digest: Digest,
}

impl Artifact {
    /// Makes an artifact of one layer (`content`, media type `artifact_type`, titled `title`)
    /// with the empty config, referring to `subject`; puts the layer and the empty config into
    /// the store.
    pub fn single_layer(
        store: &BlobStore,
        artifact_type: &str,
        content: &[u8],
        title: &str,
        subject: Descriptor,
        annotations: BTreeMap<String, String>,
    ) -> Result<Artifact, crate::oci::StoreError> {
        let (config_digest, config_size) = store.put_bytes(EMPTY_JSON)?;
        let (layer_digest, layer_size) = store.put_bytes(content)?;
        let mut layer = Descriptor::new(artifact_type, layer_digest, layer_size);
        layer.annotations = Some(BTreeMap::from([(
            "org.opencontainers.image.title".to_string(),
            title.to_string(),
        )]));
        let manifest = ArtifactManifest {
            schema_version: 2,
            media_type: MEDIA_TYPE_MANIFEST.into(),
            artifact_type: Some(artifact_type.into()),
            config: Descriptor::new(MEDIA_TYPE_EMPTY, config_digest, config_size),
            layers: vec![layer],
            subject: Some(Descriptor {
                platform: None,
                artifact_type: None,
                annotations: None,
                ..subject
            }),
            annotations: (!annotations.is_empty()).then_some(annotations),
        };
        let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        let digest = Digest::of(&bytes);
        Ok(Artifact {
            manifest,
            bytes,
            digest,
        })
    }

    /// Reads an artifact manifest from its bytes (digest computed here).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Artifact, String> {
        let manifest: ArtifactManifest =
            serde_json::from_slice(&bytes).map_err(|e| format!("not an image manifest ({e})"))?;
        let digest = Digest::of(&bytes);
        Ok(Artifact {
            manifest,
            bytes,
            digest,
        })
    }

    /// The descriptor a referrers list holds for it: `artifactType` (or the config's media
    /// type) and every manifest annotation.
    pub fn referrer_descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.manifest.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            platform: None,
            artifact_type: Some(
                self.manifest
                    .artifact_type
                    .clone()
                    .unwrap_or_else(|| self.manifest.config.media_type.clone()),
            ),
            annotations: self.manifest.annotations.clone(),
        }
    }

    /// The blobs the manifest references (config, then layers).
    pub fn blobs(&self) -> Vec<Descriptor> {
        std::iter::once(self.manifest.config.clone())
            .chain(self.manifest.layers.iter().cloned())
            .collect()
    }
}

/// How a referrer reached the registry's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "path", rename_all = "kebab-case")]
pub enum ReferrerPath {
    /// The registry answered the manifest PUT with `OCI-Subject`: it keeps the list.
    Api,
    /// No `OCI-Subject`: gopack updated the referrers tag schema's index itself.
    TagSchema {
        /// The tag (`sha256-<hex>`).
        tag: String,
        /// The artifact was listed there already; the index was left as it was.
        already_listed: bool,
    },
}

impl std::fmt::Display for ReferrerPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReferrerPath::Api => f.write_str("referrers API (the registry answered OCI-Subject)"),
            ReferrerPath::TagSchema {
                tag,
                already_listed: false,
            } => write!(
                f,
                "referrers tag schema (no OCI-Subject; added to the index tagged {tag})"
            ),
            ReferrerPath::TagSchema {
                tag,
                already_listed: true,
            } => write!(
                f,
                "referrers tag schema (no OCI-Subject; already in the index tagged {tag})"
            ),
        }
    }
}

/// What pushing a referrer did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PushedReferrer {
    /// The referrer manifest's digest.
    pub digest: Digest,
    /// The subject it refers to.
    pub subject: Digest,
    /// Which path the list was kept by.
    #[serde(flatten)]
    pub path: ReferrerPath,
}

/// Where a listing came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListSource {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The referrers tag schema's index (the registry has no referrers API).
    TagSchema,
}

/// The tag the referrers tag schema uses for `digest`: `<alg>-<ref>`, the algorithm cut to 32
/// characters, the encoded part to 64, any character not allowed in a tag replaced by `-`.
pub fn referrers_tag(digest: &Digest) -> String {
    let text = digest.to_string();
    let (alg, encoded) = text.split_once(':').unwrap_or(("sha256", text.as_str()));
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .take(max)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{}-{}", clean(alg, 32), clean(encoded, 64))
}

impl RegistryClient {
    /// Pushes `artifact` (blobs from `store`, then its manifest by digest) to `reference`'s
    /// repository, and makes sure the subject's referrers list holds it: by the registry's
    /// referrers API when it answers `OCI-Subject`, else by the tag schema (see the module
    /// docs). Errors name the step that failed; a failure before the index PUT leaves the
    /// index as it was.
    pub fn push_referrer(
        &self,
        store: &BlobStore,
        reference: &Reference,
        artifact: &Artifact,
    ) -> Result<PushedReferrer, RegistryError> {
        let subject =
            artifact.manifest.subject.as_ref().ok_or_else(|| {
                RegistryError::Invalid("a referrer needs a subject manifest".into())
            })?;
        let scopes = push_scopes(&reference.repository, &[]);
        self.prepare(&reference.registry, &scopes)?;
        for blob in artifact.blobs() {
            self.push_blob_for_referrer(store, reference, &blob, &scopes)?;
        }
        let answered_subject = self.put_referrer_manifest(reference, artifact, &scopes)?;
        let path = if answered_subject.is_some_and(|s| s.trim() == subject.digest.to_string()) {
            ReferrerPath::Api
        } else {
            self.add_to_tag_index(reference, &subject.digest, artifact, &scopes)?
        };
        Ok(PushedReferrer {
            digest: artifact.digest.clone(),
            subject: subject.digest.clone(),
            path,
        })
    }

    /// PUTs the artifact manifest by digest; returns the `OCI-Subject` header, if any.
    fn put_referrer_manifest(
        &self,
        reference: &Reference,
        artifact: &Artifact,
        scopes: &[String],
    ) -> Result<Option<String>, RegistryError> {
        let what = format!(
            "pushing referrer {} to {}",
            artifact.digest,
            reference.name()
        );
        let req = Req {
            method: Method::PUT,
            url: format!("{}manifests/{}", self.repo_base(reference), artifact.digest),
            headers: vec![("content-type", artifact.manifest.media_type.clone())],
            body: ReqBody::Bytes(&artifact.bytes),
            registry: &reference.registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: artifact.bytes.len() as u64,
        };
        let resp = self.execute(&req, true)?;
        let subject = resp.header("oci-subject").map(str::to_string);
        let (status, answered, body) = finish(resp);
        if status != 201 && status != 200 {
            return Err(status_error(&what, &reference.registry, status, &body));
        }
        if let Some(d) = answered
            && d.trim() != artifact.digest.to_string()
        {
            return Err(RegistryError::DigestMismatch {
                what,
                host: reference.registry.clone(),
                expected: artifact.digest.to_string(),
                actual: printable(d.trim(), 100),
            });
        }
        Ok(subject)
    }

    /// The tag schema's read-modify-write: adds the artifact to the index tagged
    /// `sha256-<subject hex>`, keeping every other entry as it was.
    fn add_to_tag_index(
        &self,
        reference: &Reference,
        subject: &Digest,
        artifact: &Artifact,
        scopes: &[String],
    ) -> Result<ReferrerPath, RegistryError> {
        let tag = referrers_tag(subject);
        let what = format!("updating the referrers index {}:{tag}", reference.name());
        for _ in 0..MAX_TAG_ROUNDS {
            let (mut index, etag) = self.get_tag_index(reference, &tag, scopes, &what)?;
            let manifests = index
                .get_mut("manifests")
                .and_then(|m| m.as_array_mut())
                .ok_or_else(|| RegistryError::BadResponse {
                    what: what.clone(),
                    host: reference.registry.clone(),
                    detail: format!("the index tagged {tag} has no `manifests` list"),
                })?;
            let digest = artifact.digest.to_string();
            if manifests
                .iter()
                .any(|m| m.get("digest").and_then(|d| d.as_str()) == Some(digest.as_str()))
            {
                return Ok(ReferrerPath::TagSchema {
                    tag,
                    already_listed: true,
                });
            }
            manifests
                .push(serde_json::to_value(artifact.referrer_descriptor()).unwrap_or_default());
            let bytes = serde_json::to_vec(&index).unwrap_or_default();
            match self.put_tag_index(reference, &tag, &bytes, etag.as_ref(), scopes, &what)? {
                true => {
                    return Ok(ReferrerPath::TagSchema {
                        tag,
                        already_listed: false,
                    });
                }
                false => continue,
            }
        }
        Err(RegistryError::BadResponse {
            what,
            host: reference.registry.clone(),
            detail: format!(
                "other writers changed the index {MAX_TAG_ROUNDS} times while gopack updated it; \
                 run the command again"
            ),
        })
    }

    /// The index under `tag` as a JSON object (every field kept) and the condition to write
    /// it back under (its ETag; "absent" when the tag does not exist and the index is new).
    fn get_tag_index(
        &self,
        reference: &Reference,
        tag: &str,
        scopes: &[String],
        what: &str,
    ) -> Result<(serde_json::Value, Option<Condition>), RegistryError> {
        let req = Req {
            method: Method::GET,
            url: format!("{}manifests/{tag}", self.repo_base(reference)),
            headers: vec![("accept", MEDIA_TYPE_INDEX.into())],
            body: ReqBody::Empty,
            registry: &reference.registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint: MAX_INDEX,
        };
        let resp = self.execute(&req, true)?;
        if resp.status == 404 {
            let _ = finish(resp);
            return Ok((empty_index(), Some(Condition::Absent)));
        }
        if resp.status != 200 {
            let (status, _, body) = finish(resp);
            return Err(status_error(what, &reference.registry, status, &body));
        }
        let etag = resp.header("etag").map(|e| Condition::Match(e.to_string()));
        let (host, budget) = (resp.host.clone(), resp.budget);
        let bytes = resp
            .bytes(MAX_INDEX)
            .map_err(|e| transport_error(what, &host, e, budget))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::BadResponse {
                what: what.into(),
                host: reference.registry.clone(),
                detail: format!("the index tagged {tag} is not JSON ({e})"),
            })?;
        if !value.is_object() {
            return Err(RegistryError::BadResponse {
                what: what.into(),
                host: reference.registry.clone(),
                detail: format!("the document tagged {tag} is not an image index"),
            });
        }
        Ok((value, etag))
    }

    /// PUTs the index under `tag`: `If-Match` with the ETag it was read with, or
    /// `If-None-Match: *` when there was none to read (so a registry that honours conditions
    /// refuses to overwrite an index another writer created meanwhile). `Ok(false)` when the
    /// registry refused because the index changed (412).
    fn put_tag_index(
        &self,
        reference: &Reference,
        tag: &str,
        bytes: &[u8],
        etag: Option<&Condition>,
        scopes: &[String],
        what: &str,
    ) -> Result<bool, RegistryError> {
        let mut headers = vec![("content-type", MEDIA_TYPE_INDEX.to_string())];
        match etag {
            Some(Condition::Match(etag)) => headers.push(("if-match", etag.to_string())),
            Some(Condition::Absent) => headers.push(("if-none-match", "*".to_string())),
            None => {}
        }
        let req = Req {
            method: Method::PUT,
            url: format!("{}manifests/{tag}", self.repo_base(reference)),
            headers,
            body: ReqBody::Bytes(bytes),
            registry: &reference.registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint: bytes.len() as u64,
        };
        let (status, _, body) = finish(self.execute(&req, true)?);
        match status {
            200 | 201 => Ok(true),
            412 => Ok(false),
            _ => Err(status_error(what, &reference.registry, status, &body)),
        }
    }

    /// The referrers of `subject` in `reference`'s repository, optionally only those of
    /// `artifact_type`, with where the list came from (the API, or the tag schema's index when
    /// the registry has no API). A subject with no referrers gives an empty list.
    pub fn list_referrers(
        &self,
        reference: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, ListSource), RegistryError> {
        let scopes = vec![format!("repository:{}:pull", reference.repository)];
        self.prepare(&reference.registry, &scopes)?;
        let what = format!("listing the referrers of {}@{subject}", reference.name());
        let mut url = format!("{}referrers/{subject}", self.repo_base(reference));
        if let Some(t) = artifact_type {
            url.push_str(&format!(
                "?artifactType={}",
                super::transport::percent_encode(t)
            ));
        }
        let mut out = Vec::new();
        let mut filtered = false;
        for page in 0..MAX_PAGES {
            let req = Req {
                method: Method::GET,
                url: url.clone(),
                headers: vec![("accept", MEDIA_TYPE_INDEX.into())],
                body: ReqBody::Empty,
                registry: &reference.registry,
                scopes: &scopes,
                what: &what,
                auth: AuthMode::Registry,
                size_hint: MAX_INDEX,
            };
            let resp = self.execute(&req, true)?;
            if resp.status == 404 && page == 0 {
                let _ = finish(resp);
                return self.list_from_tag(reference, subject, artifact_type, &scopes, &what);
            }
            if resp.status != 200 {
                let (status, _, body) = finish(resp);
                return Err(status_error(&what, &reference.registry, status, &body));
            }
            filtered |= resp
                .header("oci-filters-applied")
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            let next = resp.header("link").and_then(next_link);
            let (host, budget) = (resp.host.clone(), resp.budget);
            let bytes = resp
                .bytes(MAX_INDEX)
                .map_err(|e| transport_error(&what, &host, e, budget))?;
            out.extend(
                parse_referrers(&bytes).map_err(|detail| RegistryError::BadResponse {
                    what: what.clone(),
                    host: reference.registry.clone(),
                    detail,
                })?,
            );
            match next {
                Some(link) => url = self.resolve(&reference.registry, &link, &what)?,
                None => break,
            }
        }
        if let Some(t) = artifact_type
            && !filtered
        {
            out.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok((out, ListSource::Api))
    }

    fn list_from_tag(
        &self,
        reference: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
        scopes: &[String],
        what: &str,
    ) -> Result<(Vec<Descriptor>, ListSource), RegistryError> {
        let (index, _) = self.get_tag_index(reference, &referrers_tag(subject), scopes, what)?;
        let bytes = serde_json::to_vec(&index).unwrap_or_default();
        let mut out = parse_referrers(&bytes).map_err(|detail| RegistryError::BadResponse {
            what: what.into(),
            host: reference.registry.clone(),
            detail,
        })?;
        if let Some(t) = artifact_type {
            out.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok((out, ListSource::TagSchema))
    }

    /// Fetches a referrer manifest by digest (verified); its layers are read with
    /// [`RegistryClient::fetch_referrer_blob`].
    pub fn fetch_referrer(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Artifact, RegistryError> {
        let bytes = self.fetch_verified(
            reference,
            &format!("manifests/{digest}"),
            digest,
            MAX_INDEX,
            MEDIA_TYPE_MANIFEST,
        )?;
        Artifact::from_bytes(bytes).map_err(|detail| RegistryError::BadResponse {
            what: format!("reading referrer {digest}"),
            host: reference.registry.clone(),
            detail,
        })
    }

    /// Fetches a small blob (an SBOM document) by descriptor, verified, at most `limit` bytes.
    pub fn fetch_referrer_blob(
        &self,
        reference: &Reference,
        blob: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        if blob.size > limit {
            return Err(RegistryError::BadResponse {
                what: format!("reading blob {}", blob.digest),
                host: reference.registry.clone(),
                detail: format!(
                    "it is {} bytes, more than the {limit} gopack reads",
                    blob.size
                ),
            });
        }
        self.fetch_verified(
            reference,
            &format!("blobs/{}", blob.digest),
            &blob.digest,
            blob.size,
            "*/*",
        )
    }

    fn fetch_verified(
        &self,
        reference: &Reference,
        path: &str,
        digest: &Digest,
        limit: u64,
        accept: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let scopes = vec![format!("repository:{}:pull", reference.repository)];
        self.prepare(&reference.registry, &scopes)?;
        let what = format!("fetching {digest} from {}", reference.name());
        let req = Req {
            method: Method::GET,
            url: format!("{}{path}", self.repo_base(reference)),
            headers: vec![("accept", accept.into())],
            body: ReqBody::Empty,
            registry: &reference.registry,
            scopes: &scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: limit,
        };
        let resp = self.execute(&req, true)?;
        if resp.status != 200 {
            let (status, _, body) = finish(resp);
            if status == 404 {
                return Err(RegistryError::NotFound {
                    what,
                    reference: format!("{}@{digest}", reference.name()),
                    message: registry_message(&body),
                });
            }
            return Err(status_error(&what, &reference.registry, status, &body));
        }
        let (host, budget) = (resp.host.clone(), resp.budget);
        let bytes = resp
            .bytes(limit.saturating_add(1))
            .map_err(|e| transport_error(&what, &host, e, budget))?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                what,
                host: reference.registry.clone(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// Pushes one blob (HEAD first; uploaded when missing).
    fn push_blob_for_referrer(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
        scopes: &[String],
    ) -> Result<(), RegistryError> {
        self.push_blob(store, reference, blob, None, scopes)
            .map(|_| ())
    }

    fn repo_base(&self, reference: &Reference) -> String {
        format!(
            "{}{}/",
            self.base_url(&reference.registry),
            reference.repository
        )
    }
}

/// The condition a tag-schema index is written back under.
enum Condition {
    /// It was read with this ETag.
    Match(String),
    /// It did not exist.
    Absent,
}

fn empty_index() -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_INDEX,
        "manifests": []
    })
}

/// The descriptors of a referrers index (API answer or tag-schema index); entries that are
/// not descriptors are an error, unknown fields are ignored.
pub fn parse_referrers(bytes: &[u8]) -> Result<Vec<Descriptor>, String> {
    #[derive(Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Descriptor>,
    }
    serde_json::from_slice::<Index>(bytes)
        .map(|i| i.manifests)
        .map_err(|e| format!("the referrers list is not an image index ({e})"))
}

/// The target of a `Link: <url>; rel="next"` header (RFC 8288), if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_schema_tags() {
        let d: Digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
            .parse()
            .unwrap();
        assert_eq!(
            referrers_tag(&d),
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(Digest::of(EMPTY_JSON).to_string(), EMPTY_DIGEST);
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link("</v2/a/referrers/sha256:x?n=10&last=y>; rel=\"next\"").as_deref(),
            Some("/v2/a/referrers/sha256:x?n=10&last=y")
        );
        assert_eq!(next_link("<https://h/p>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn artifact_manifest_shape() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let subject = Descriptor::new(MEDIA_TYPE_MANIFEST, Digest::of(b"m"), 1);
        let a = Artifact::single_layer(
            &store,
            "application/spdx+json",
            b"{\"spdxVersion\":\"SPDX-2.3\"}",
            "sbom.spdx.json",
            subject.clone(),
            BTreeMap::from([(
                ANNOTATION_CREATED.to_string(),
                "2026-01-01T00:00:00Z".to_string(),
            )]),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&a.bytes).unwrap();
        assert_eq!(v["artifactType"], "application/spdx+json");
        assert_eq!(v["config"]["mediaType"], MEDIA_TYPE_EMPTY);
        assert_eq!(v["config"]["digest"], EMPTY_DIGEST);
        assert_eq!(v["config"]["size"], 2);
        assert_eq!(v["layers"].as_array().unwrap().len(), 1);
        assert_eq!(v["layers"][0]["mediaType"], "application/spdx+json");
        assert_eq!(v["subject"]["digest"], subject.digest.to_string());
        assert_eq!(v["annotations"][ANNOTATION_CREATED], "2026-01-01T00:00:00Z");
        let d = a.referrer_descriptor();
        assert_eq!(d.artifact_type.as_deref(), Some("application/spdx+json"));
        assert_eq!(d.annotations, a.manifest.annotations);
        assert!(store.contains(&a.manifest.layers[0].digest));
        assert!(store.contains(&EMPTY_DIGEST.parse().unwrap()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, timeout: 2000, ..Default::default() })]
        /// Hostile referrer lists and Link headers never panic.
        #[test]
        fn parsers_are_total(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), link in "\\PC{0,200}") {
            let _ = parse_referrers(&bytes);
            let _ = next_link(&link);
        }
    }
}
