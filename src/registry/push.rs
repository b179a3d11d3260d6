//! Pushing: blobs first (skipped when present, mounted from another repository when the store
//! remembers one, else uploaded in one PUT or in chunks), then manifests and the index by
//! digest, and only then the tags (OCI distribution spec, "Pushing blobs", "Pushing manifests").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ureq::http::Method;

use crate::oci::{
    BlobStore, Descriptor, Digest, Image, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST, StoreError,
};

use super::client::{Attempts, AuthMode, MAX_ERROR_BODY, RegistryClient, Req, ReqBody, Resp};
use super::error::{RegistryError, registry_message};
use super::reference::Reference;
use super::transport::{authority, percent_encode};
use crate::text::printable;

/// What to push: single-platform images (whose blobs are in the store), the index over them
/// when there are several (its exact bytes and digest), and the tags to point at the result.
pub struct PushRequest<'a> {
    /// The repository to push to; its tag, if any, is pushed too.
    pub reference: &'a Reference,
    /// The single-platform images; their manifests, configs and layers are in the store.
    pub images: &'a [Image],
    /// The index over `images` (exact bytes and their digest), pushed by digest after them;
    /// `None` pushes the only image's manifest as the top.
    pub index: Option<(&'a [u8], &'a Digest)>,
    /// Extra tags (`v1`, `latest`), each validated, pushed after the reference's own tag.
    pub tags: &'a [String],
}

/// What a push did.
#[derive(Clone, Debug)]
pub struct PushReport {
    /// `registry/repo:first-tag@digest` of what was pushed (the index, or the only manifest).
    pub reference: Reference,
    /// Digest of the top document pushed (the index, or the only manifest).
    pub digest: Digest,
    /// The tags now pointing at `digest`: the reference's tag first, then the extra ones.
    pub tags: Vec<String>,
    /// Blobs (configs and layers) the images need, each counted once.
    pub blobs_total: usize,
    /// Blobs whose bytes were sent.
    pub blobs_uploaded: usize,
    /// Blobs mounted from another repository of the same registry (distribution spec,
    /// "Mounting a blob from another repository"), nothing sent.
    pub blobs_mounted: usize,
    /// Blobs the repository already had (found by `HEAD`), nothing sent.
    pub blobs_present: usize,
    /// Blob bytes sent, including those of attempts that failed and were retried.
    pub blob_bytes_uploaded: u64,
    /// Manifests and index documents sent (0 when the repository already held the top one).
    pub manifests_pushed: usize,
    /// Wall time of the whole push.
    pub elapsed: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BlobOutcome {
    Present,
    Mounted,
    Uploaded,
}

pub(crate) fn push_scopes(repo: &str, extra_pull: &[String]) -> Vec<String> {
    let mut s = vec![format!("repository:{repo}:pull,push")];
    for r in extra_pull {
        let scope = format!("repository:{r}:pull");
        if !s.contains(&scope) {
            s.push(scope);
        }
    }
    s
}

impl RegistryClient {
    /// Pushes blobs (HEAD first; mounted from another repository of the same registry when one
    /// is known to hold them; uploaded concurrently and streamed from the store), then the
    /// manifests, then the index, all by digest, and only then the tags: a failed push leaves
    /// no tag pointing at incomplete content.
    pub fn push(&self, store: &BlobStore, req: &PushRequest) -> Result<PushReport, RegistryError> {
        let start = Instant::now();
        let bytes_before = self.stats.blob_bytes_uploaded.load(Ordering::Relaxed);
        let reference = req.reference;
        let registry = reference.registry.as_str();
        let repo = reference.repository.as_str();
        if req.images.is_empty() {
            return Err(RegistryError::Invalid(
                "nothing to push: no image was given".into(),
            ));
        }
        if req.images.len() > 1 && req.index.is_none() {
            return Err(RegistryError::Invalid(
                "several platform images need an index to be pushed together".into(),
            ));
        }
        let tags = tags_to_push(reference, req.tags)?;
        let blobs = blobs_in_store(store, req.images)?;
        let mounts: BTreeMap<Digest, String> = blobs
            .iter()
            .filter_map(|b| {
                known_repo(store, registry, &b.digest)
                    .filter(|r| r != repo)
                    .map(|r| (b.digest.clone(), r))
            })
            .collect();
        let sources: Vec<String> = mounts.values().cloned().collect();
        let scopes = push_scopes(repo, &sources);
        self.prepare(registry, &scopes)?;

        let top = TopDocument::of(req);
        // A registry accepts a manifest only once everything it references is there, so when
        // it already has the top-level one by digest, every blob and child manifest is there.
        // The usual re-push of an unchanged image is answered by one HEAD of its first tag.
        let current = Some(top.digest.clone());
        let first_tag_current = match tags.first() {
            Some(tag) => self.manifest_digest(reference, tag, &scopes)? == current,
            None => false,
        };
        let already_complete = first_tag_current
            || self.manifest_digest(reference, &top.digest.to_string(), &scopes)? == current;
        let (outcomes, manifests_pushed) = if already_complete {
            (vec![BlobOutcome::Present; blobs.len()], 0)
        } else {
            self.push_content(store, req, &blobs, &mounts, &scopes, &top)?
        };
        for (i, tag) in tags.iter().enumerate() {
            let up_to_date = if i == 0 {
                first_tag_current
            } else {
                already_complete && self.manifest_digest(reference, tag, &scopes)? == current
            };
            if !up_to_date {
                self.put_manifest(reference, tag, &top, &scopes)?;
            }
        }

        let count = |o: BlobOutcome| outcomes.iter().filter(|x| **x == o).count();
        Ok(PushReport {
            reference: Reference {
                registry: reference.registry.clone(),
                repository: reference.repository.clone(),
                tag: tags.first().cloned(),
                digest: Some(top.digest.clone()),
            },
            digest: top.digest.clone(),
            tags,
            blobs_total: blobs.len(),
            blobs_uploaded: count(BlobOutcome::Uploaded),
            blobs_mounted: count(BlobOutcome::Mounted),
            blobs_present: count(BlobOutcome::Present),
            blob_bytes_uploaded: self.stats.blob_bytes_uploaded.load(Ordering::Relaxed)
                - bytes_before,
            manifests_pushed,
            elapsed: start.elapsed(),
        })
    }

    /// Blobs (concurrently; mounted when `mounts` names a repository holding them), then each
    /// image's manifest, then the index, all by digest. Returns what happened to each blob and
    /// how many manifests went up.
    fn push_content(
        &self,
        store: &BlobStore,
        req: &PushRequest,
        blobs: &[Descriptor],
        mounts: &BTreeMap<Digest, String>,
        scopes: &[String],
        top: &TopDocument,
    ) -> Result<(Vec<BlobOutcome>, usize), RegistryError> {
        let reference = req.reference;
        let outcomes = parallel(blobs, self.opts.concurrency, |blob| {
            let outcome =
                self.push_blob(store, reference, blob, mounts.get(&blob.digest), scopes)?;
            remember_blob(
                store,
                &reference.registry,
                &blob.digest,
                &reference.repository,
            );
            Ok(outcome)
        })?;
        let mut done: Vec<&Digest> = Vec::new();
        for image in req.images {
            if done.contains(&&image.manifest_digest) {
                continue;
            }
            let manifest = TopDocument::of_image(image);
            self.put_manifest(
                reference,
                &image.manifest_digest.to_string(),
                &manifest,
                scopes,
            )?;
            done.push(&image.manifest_digest);
        }
        if req.index.is_some() {
            self.put_manifest(reference, &top.digest.to_string(), top, scopes)?;
        }
        Ok((outcomes, done.len() + usize::from(req.index.is_some())))
    }

    fn repo_url(&self, reference: &Reference) -> String {
        format!(
            "{}{}/",
            self.base_url(&reference.registry),
            reference.repository
        )
    }

    /// The digest the registry holds under `target` (a tag or digest), or `None` when it holds
    /// nothing there (or does not say).
    fn manifest_digest(
        &self,
        reference: &Reference,
        target: &str,
        scopes: &[String],
    ) -> Result<Option<Digest>, RegistryError> {
        let what = format!("checking {}:{target}", reference.name());
        let req = Req {
            method: Method::HEAD,
            url: format!("{}manifests/{target}", self.repo_url(reference)),
            headers: vec![("accept", super::pull::ACCEPT.to_string())],
            body: ReqBody::Empty,
            registry: &reference.registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: MAX_ERROR_BODY,
        };
        let (status, answered, _) = finish(self.execute(&req, true)?);
        Ok(match status {
            200 => answered.and_then(|d| d.trim().parse().ok()),
            _ => None,
        })
    }

    /// PUTs a manifest or index under `target` (a digest or a tag) and checks the digest the
    /// registry says it stored.
    fn put_manifest(
        &self,
        reference: &Reference,
        target: &str,
        document: &TopDocument,
        scopes: &[String],
    ) -> Result<(), RegistryError> {
        let digest = &document.digest;
        let what = if target.starts_with("sha256:") {
            format!("pushing manifest {digest} to {}", reference.name())
        } else {
            format!("tagging {}:{target} as {digest}", reference.name())
        };
        let req = Req {
            method: Method::PUT,
            url: format!("{}manifests/{target}", self.repo_url(reference)),
            headers: vec![("content-type", document.media_type.clone())],
            body: ReqBody::Bytes(document.bytes),
            registry: &reference.registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: document.bytes.len() as u64,
        };
        let resp = self.execute(&req, true)?;
        let (status, answered, body) = finish(resp);
        if status != 201 && status != 200 {
            return Err(status_error(&what, &reference.registry, status, &body));
        }
        check_digest(&what, &reference.registry, answered.as_deref(), digest)
    }

    pub(super) fn push_blob(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
        mount_from: Option<&String>,
        scopes: &[String],
    ) -> Result<BlobOutcome, RegistryError> {
        let registry = reference.registry.as_str();
        let what = format!(
            "pushing blob {} ({} bytes) to {}",
            blob.digest,
            blob.size,
            reference.name()
        );
        let repo_url = self.repo_url(reference);
        let head = Req {
            method: Method::HEAD,
            url: format!("{repo_url}blobs/{}", blob.digest),
            headers: vec![],
            body: ReqBody::Empty,
            registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
            size_hint: MAX_ERROR_BODY,
        };
        let (status, _, body) = finish(self.execute(&head, true)?);
        match status {
            200 => return Ok(BlobOutcome::Present),
            404 => {}
            _ => return Err(status_error(&what, registry, status, &body)),
        }

        let mut session = None;
        if let Some(from) = mount_from {
            let mount = Req {
                method: Method::POST,
                url: format!(
                    "{repo_url}blobs/uploads/?mount={}&from={}",
                    percent_encode(&blob.digest.to_string()),
                    percent_encode(from)
                ),
                headers: vec![],
                body: ReqBody::Empty,
                registry,
                scopes,
                what: &what,
                auth: AuthMode::Registry,
                size_hint: MAX_ERROR_BODY,
            };
            let resp = self.execute(&mount, true)?;
            let location = resp.header("location").map(str::to_string);
            let (status, answered, body) = finish(resp);
            match (status, location) {
                (201, _) => {
                    check_digest(&what, registry, answered.as_deref(), &blob.digest)?;
                    return Ok(BlobOutcome::Mounted);
                }
                (202, Some(loc)) => session = Some(self.resolve(registry, &loc, &what)?),
                _ => return Err(status_error(&what, registry, status, &body)),
            }
        }

        let mut attempts = Attempts::new(&self.opts.retry);
        loop {
            attempts.begin();
            match self.upload_once(store, reference, blob, session.take(), scopes, &what) {
                Ok(()) => return Ok(BlobOutcome::Uploaded),
                Err(e) if e.is_transient() => attempts.pause(&what, e, None)?,
                Err(e) => return Err(e),
            }
        }
    }

    /// One whole upload: open a session (unless given one), send the bytes in one PUT, or in
    /// PATCH chunks for large blobs (falling back to one PUT when chunks are refused), close it.
    fn upload_once(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
        session: Option<String>,
        scopes: &[String],
        what: &str,
    ) -> Result<(), RegistryError> {
        let registry = reference.registry.as_str();
        let path = store.path(&blob.digest);
        let mut location = match session {
            Some(l) => l,
            None => self.start_upload(reference, scopes, what)?,
        };
        let mut all_sent = false;
        if blob.size > self.opts.chunk_size {
            (location, all_sent) =
                self.send_chunks(reference, blob, &path, location, scopes, what)?;
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!(
            "{location}{sep}digest={}",
            percent_encode(&blob.digest.to_string())
        );
        let (body, size_hint) = if all_sent {
            (ReqBody::Empty, 0)
        } else {
            let body = ReqBody::File {
                path: &path,
                offset: 0,
                len: blob.size,
            };
            (body, blob.size)
        };
        let req = Req {
            method: Method::PUT,
            url,
            headers: vec![("content-type", "application/octet-stream".into())],
            body,
            registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint,
        };
        let (status, answered, body) = finish(self.execute(&req, false)?);
        if status != 201 && status != 204 {
            return Err(status_error(what, registry, status, &body));
        }
        check_digest(what, registry, answered.as_deref(), &blob.digest)
    }

    /// PATCHes the blob at `path` to the session at `location` in chunks, resuming from what
    /// the registry kept after a transient failure. Returns where to close the upload, and
    /// whether every byte went (false: the registry refused chunks and a fresh session waits
    /// for the whole blob in one request).
    fn send_chunks(
        &self,
        reference: &Reference,
        blob: &Descriptor,
        path: &std::path::Path,
        mut location: String,
        scopes: &[String],
        what: &str,
    ) -> Result<(String, bool), RegistryError> {
        let registry = reference.registry.as_str();
        let mut offset = 0u64;
        let mut resumes = 0u32;
        while offset < blob.size {
            let len = self.opts.chunk_size.min(blob.size - offset);
            let req = Req {
                method: Method::PATCH,
                url: location.clone(),
                headers: vec![
                    ("content-type", "application/octet-stream".into()),
                    ("content-range", format!("{}-{}", offset, offset + len - 1)),
                ],
                body: ReqBody::File { path, offset, len },
                registry,
                scopes,
                what,
                auth: AuthMode::Registry,
                size_hint: len,
            };
            let resp = match self.execute(&req, false) {
                Ok(resp) => resp,
                Err(e) if e.is_transient() && resumes < self.opts.retry.max_attempts => {
                    // Ask the registry how much of the upload it kept and go on from there.
                    resumes += 1;
                    std::thread::sleep(self.opts.retry.initial_backoff * resumes);
                    match self.upload_progress(reference, &location, scopes, what) {
                        Some((next, kept)) if kept <= blob.size => {
                            location = next;
                            offset = kept;
                            continue;
                        }
                        _ => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            let next = resp.header("location").map(str::to_string);
            let (status, _, body) = finish(resp);
            match (status, next) {
                (202, Some(next)) => {
                    location = self.resolve(registry, &next, what)?;
                    offset += len;
                }
                // The registry does not take chunks: start again with one request.
                (400 | 405 | 416 | 501, _) => {
                    return Ok((self.start_upload(reference, scopes, what)?, false));
                }
                _ => return Err(status_error(what, registry, status, &body)),
            }
        }
        Ok((location, true))
    }

    /// Where an interrupted chunked upload stands: its next location and how many bytes the
    /// registry holds (from the `Range: 0-N` of a GET on the session).
    fn upload_progress(
        &self,
        reference: &Reference,
        location: &str,
        scopes: &[String],
        what: &str,
    ) -> Option<(String, u64)> {
        let req = Req {
            method: Method::GET,
            url: location.to_string(),
            headers: vec![],
            body: ReqBody::Empty,
            registry: &reference.registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint: MAX_ERROR_BODY,
        };
        let resp = self.execute(&req, true).ok()?;
        let next = resp
            .header("location")
            .map(|l| self.resolve(&reference.registry, l, what).ok())
            .unwrap_or_else(|| Some(location.to_string()))?;
        let kept = resp.header("range").map(parse_range_end);
        let status = resp.status;
        let _ = finish(resp);
        match (status, kept) {
            (204 | 202 | 200, Some(Some(end))) => Some((next, end)),
            (204 | 202 | 200, None) => Some((next, 0)),
            _ => None,
        }
    }

    fn start_upload(
        &self,
        reference: &Reference,
        scopes: &[String],
        what: &str,
    ) -> Result<String, RegistryError> {
        let registry = reference.registry.as_str();
        let req = Req {
            method: Method::POST,
            url: format!("{}blobs/uploads/", self.repo_url(reference)),
            headers: vec![],
            body: ReqBody::Empty,
            registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint: MAX_ERROR_BODY,
        };
        let resp = self.execute(&req, false)?;
        let location = resp.header("location").map(str::to_string);
        let (status, _, body) = finish(resp);
        match (status, location) {
            (202, Some(loc)) => self.resolve(registry, &loc, what),
            (202, None) => Err(RegistryError::BadResponse {
                what: what.into(),
                host: registry.into(),
                detail: "it opened an upload without saying where to send it (no Location)".into(),
            }),
            _ => Err(status_error(what, registry, status, &body)),
        }
    }

    /// Makes an upload `Location` absolute (registries may answer with a path) and checks it
    /// leads somewhere the blob may go: an http(s) URL that does not drop the registry's TLS
    /// (unless the user named its host insecure).
    pub(crate) fn resolve(
        &self,
        registry: &str,
        location: &str,
        what: &str,
    ) -> Result<String, RegistryError> {
        let base = self.base_url(registry);
        let origin = base.trim_end_matches("/v2/");
        let url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') && !location.starts_with("//") {
            format!("{origin}{location}")
        } else if !location.contains(':') {
            format!("{origin}/{location}")
        } else {
            return Err(RegistryError::Redirect {
                what: what.into(),
                host: registry.into(),
                target: printable(location, 300),
                why: "which is not an http:// or https:// address, for an upload".into(),
            });
        };
        if url.starts_with("http://")
            && base.starts_with("https://")
            && !self.named_insecure(authority(&url))
        {
            return Err(RegistryError::Redirect {
                what: what.into(),
                host: registry.into(),
                target: printable(&url, 300),
                why: format!(
                    "which is plain HTTP, for an upload: gopack does not send a blob without \
                     TLS to a registry it reached over TLS. If that server is meant to be \
                     reached over plain HTTP, pass --insecure-registry {}",
                    printable(authority(&url), 100)
                ),
            });
        }
        Ok(url)
    }
}

/// A manifest or index as it goes over the wire: its exact bytes, digest and media type.
struct TopDocument<'a> {
    bytes: &'a [u8],
    digest: Digest,
    media_type: String,
}

impl<'a> TopDocument<'a> {
    /// What tags point at: the index when there is one, else the only image's manifest.
    fn of(req: &PushRequest<'a>) -> TopDocument<'a> {
        match req.index {
            Some((bytes, digest)) => TopDocument {
                bytes,
                digest: digest.clone(),
                media_type: media_type_of(bytes).unwrap_or_else(|| MEDIA_TYPE_INDEX.into()),
            },
            None => TopDocument::of_image(&req.images[0]),
        }
    }

    fn of_image(image: &'a Image) -> TopDocument<'a> {
        TopDocument {
            bytes: &image.manifest_bytes,
            digest: image.manifest_digest.clone(),
            media_type: image
                .manifest
                .media_type
                .clone()
                .unwrap_or_else(|| MEDIA_TYPE_MANIFEST.into()),
        }
    }
}

/// The reference's tag, then the extra tags (each checked, each once).
fn tags_to_push(reference: &Reference, extra: &[String]) -> Result<Vec<String>, RegistryError> {
    let mut tags: Vec<String> = reference.tag.iter().cloned().collect();
    for t in extra {
        let parsed: Reference = format!("{}:{t}", reference.name())
            .parse()
            .map_err(|e: super::ReferenceError| RegistryError::Invalid(e.to_string()))?;
        if parsed.tag.as_deref() != Some(t.as_str()) {
            return Err(RegistryError::Invalid(format!("`{t}` is not a valid tag")));
        }
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    Ok(tags)
}

/// Every blob of the images once (configs and layers, in order), each checked to be in the
/// store.
fn blobs_in_store(store: &BlobStore, images: &[Image]) -> Result<Vec<Descriptor>, RegistryError> {
    let mut blobs: Vec<Descriptor> = Vec::new();
    for image in images {
        for d in std::iter::once(&image.manifest.config).chain(&image.manifest.layers) {
            if !blobs.iter().any(|b| b.digest == d.digest) {
                blobs.push(d.clone());
            }
        }
    }
    if let Some(missing) = blobs.iter().find(|b| !store.contains(&b.digest)) {
        return Err(StoreError::Missing {
            digest: missing.digest.clone(),
            root: store.root().to_path_buf(),
        }
        .into());
    }
    Ok(blobs)
}

/// Reads what is left of a response: status, the Docker-Content-Digest it announced, and a
/// bounded body (so the connection can be reused).
pub(crate) fn finish(resp: Resp) -> (u16, Option<String>, Vec<u8>) {
    let status = resp.status;
    let digest = resp.header("docker-content-digest").map(str::to_string);
    let body = resp.bytes(MAX_ERROR_BODY).unwrap_or_default();
    (status, digest, body)
}

/// The error for a refused GET of `reference` (`name@digest` or `name:tag`): a 404 says the
/// registry does not hold it (with the registry's own message), any other status is told as is.
pub(crate) fn get_refused(
    what: &str,
    registry: &str,
    reference: String,
    resp: Resp,
) -> RegistryError {
    let (status, _, body) = finish(resp);
    if status == 404 {
        return RegistryError::NotFound {
            what: what.into(),
            reference,
            message: registry_message(&body),
        };
    }
    status_error(what, registry, status, &body)
}

pub(crate) fn status_error(what: &str, registry: &str, status: u16, body: &[u8]) -> RegistryError {
    RegistryError::Status {
        what: what.into(),
        host: registry.into(),
        status,
        message: registry_message(body),
    }
}

fn check_digest(
    what: &str,
    registry: &str,
    answered: Option<&str>,
    expected: &Digest,
) -> Result<(), RegistryError> {
    match answered {
        Some(d) if d.trim() != expected.to_string() => Err(RegistryError::DigestMismatch {
            what: what.into(),
            host: registry.into(),
            expected: expected.to_string(),
            actual: printable(d, 100),
        }),
        _ => Ok(()),
    }
}

fn media_type_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Typed>(bytes).ok()?.media_type
}

/// Runs `f` over `items` on at most `workers` threads; the first error stops the others from
/// starting new items and is returned.
pub(crate) fn parallel<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R, RegistryError> + Sync,
) -> Result<Vec<R>, RegistryError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: std::sync::Mutex<Vec<Option<Result<R, RegistryError>>>> =
        std::sync::Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = workers.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(items.len());
    let mut first_err = None;
    for r in results {
        match r {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) if first_err.is_none() => first_err = Some(e),
            _ => {}
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn known_path(store: &BlobStore, registry: &str, digest: &Digest) -> std::path::PathBuf {
    let host: String = registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    crate::cache::registry_hints_dir(store)
        .join(host)
        .join(digest.hex())
}

/// Records that `repo` on `registry` holds `digest`, so a later push to another repository of
/// the same registry can mount it instead of uploading it.
pub(crate) fn remember_blob(store: &BlobStore, registry: &str, digest: &Digest, repo: &str) {
    // Only an optimisation: failing to record costs an upload later.
    let path = known_path(store, registry, digest);
    if let Some(dir) = path.parent()
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && std::io::Write::write_all(&mut tmp, repo.as_bytes()).is_ok()
    {
        let _ = tmp.persist(&path);
    }
}

pub(crate) fn known_repo(store: &BlobStore, registry: &str, digest: &Digest) -> Option<String> {
    std::fs::read_to_string(known_path(store, registry, digest))
        .ok()
        .filter(|r| !r.is_empty() && r.len() < 512)
}

/// The number of bytes an upload `Range: 0-N` header says the registry holds (`N + 1`);
/// `None` when the header is not of that form.
pub fn parse_range_end(range: &str) -> Option<u64> {
    let r = range.trim();
    let r = r.strip_prefix("bytes=").unwrap_or(r);
    let (start, end) = r.split_once('-')?;
    if start.trim() != "0" {
        return None;
    }
    end.trim().parse::<u64>().ok()?.checked_add(1)
}
