use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ureq::http::Method;

use crate::oci::{
    BlobStore, Descriptor, Digest, Image, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST, StoreError,
};

use super::client::{Attempts, AuthMode, RegistryClient, Req, ReqBody, Resp, percent_encode};
use super::error::{RegistryError, registry_message};
use super::reference::Reference;

/// What to push: single-platform images (whose blobs are in the store), the index over them
/// when there are several (its exact bytes and digest), and the tags to point at the result.
pub struct PushRequest<'a> {
    /// The repository to push to; its tag, if any, is pushed too.
    pub reference: &'a Reference,
    pub images: &'a [Image],
    pub index: Option<(&'a [u8], &'a Digest)>,
    pub tags: &'a [String],
}

/// What a push did.
#[derive(Clone, Debug)]
pub struct PushReport {
    /// `registry/repo:first-tag@digest` of what was pushed (the index, or the only manifest).
    pub reference: Reference,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub blobs_total: usize,
    pub blobs_uploaded: usize,
    pub blobs_mounted: usize,
    pub blobs_present: usize,
    /// Blob bytes sent, including those of attempts that failed and were retried.
    pub blob_bytes_uploaded: u64,
    pub manifests_pushed: usize,
    pub elapsed: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlobOutcome {
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
        let mut tags: Vec<String> = reference.tag.iter().cloned().collect();
        for t in req.tags {
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

        // Every blob once, configs and layers of all images, in order.
        let mut blobs: Vec<Descriptor> = Vec::new();
        for image in req.images {
            for d in std::iter::once(&image.manifest.config).chain(&image.manifest.layers) {
                if !blobs.iter().any(|b| b.digest == d.digest) {
                    blobs.push(d.clone());
                }
            }
        }
        for b in &blobs {
            if !store.contains(&b.digest) {
                return Err(StoreError::Missing {
                    digest: b.digest.clone(),
                    root: store.root().to_path_buf(),
                }
                .into());
            }
        }
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

        // What tags will point at: the index, or the only manifest.
        let (top_bytes, top_digest, top_type) = match req.index {
            Some((bytes, digest)) => {
                let media_type = media_type_of(bytes).unwrap_or_else(|| MEDIA_TYPE_INDEX.into());
                (bytes, digest, media_type)
            }
            None => {
                let image = &req.images[0];
                let media_type = image
                    .manifest
                    .media_type
                    .clone()
                    .unwrap_or_else(|| MEDIA_TYPE_MANIFEST.into());
                (
                    &image.manifest_bytes[..],
                    &image.manifest_digest,
                    media_type,
                )
            }
        };
        // A registry accepts a manifest only once everything it references is there, so when
        // it already has the top-level one by digest, every blob and child manifest is there.
        // The usual re-push of an unchanged image is answered by one HEAD of its first tag.
        let top = Some(top_digest.clone());
        let first_tag_current = match tags.first() {
            Some(tag) => self.manifest_digest(reference, tag, &scopes)? == top,
            None => false,
        };
        let already_complete = first_tag_current
            || self.manifest_digest(reference, &top_digest.to_string(), &scopes)? == top;

        let mut manifests_pushed = 0;
        let outcomes = if already_complete {
            vec![BlobOutcome::Present; blobs.len()]
        } else {
            let outcomes = parallel(&blobs, self.opts.concurrency, |blob| {
                let outcome =
                    self.push_blob(store, reference, blob, mounts.get(&blob.digest), &scopes)?;
                remember_blob(store, registry, &blob.digest, repo);
                Ok(outcome)
            })?;
            let mut done: Vec<&Digest> = Vec::new();
            for image in req.images {
                if done.contains(&&image.manifest_digest) {
                    continue;
                }
                let media_type = image
                    .manifest
                    .media_type
                    .as_deref()
                    .unwrap_or(MEDIA_TYPE_MANIFEST);
                self.put_manifest(
                    reference,
                    &image.manifest_digest.to_string(),
                    &image.manifest_bytes,
                    media_type,
                    &image.manifest_digest,
                    &scopes,
                )?;
                manifests_pushed += 1;
                done.push(&image.manifest_digest);
            }
            if req.index.is_some() {
                self.put_manifest(
                    reference,
                    &top_digest.to_string(),
                    top_bytes,
                    &top_type,
                    top_digest,
                    &scopes,
                )?;
                manifests_pushed += 1;
            }
            outcomes
        };
        for (i, tag) in tags.iter().enumerate() {
            let current = if i == 0 {
                first_tag_current
            } else {
                already_complete && self.manifest_digest(reference, tag, &scopes)? == top
            };
            if current {
                continue;
            }
            self.put_manifest(reference, tag, top_bytes, &top_type, top_digest, &scopes)?;
        }

        let count = |o: BlobOutcome| outcomes.iter().filter(|x| **x == o).count();
        let mut shown = Reference {
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            tag: tags.first().cloned(),
            digest: None,
        };
        shown.digest = Some(top_digest.clone());
        Ok(PushReport {
            reference: shown,
            digest: top_digest.clone(),
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
        bytes: &[u8],
        media_type: &str,
        digest: &Digest,
        scopes: &[String],
    ) -> Result<(), RegistryError> {
        let what = if target.starts_with("sha256:") {
            format!("pushing manifest {digest} to {}", reference.name())
        } else {
            format!("tagging {}:{target} as {digest}", reference.name())
        };
        let req = Req {
            method: Method::PUT,
            url: format!("{}manifests/{target}", self.repo_url(reference)),
            headers: vec![("content-type", media_type.to_string())],
            body: ReqBody::Bytes(bytes),
            registry: &reference.registry,
            scopes,
            what: &what,
            auth: AuthMode::Registry,
        };
        let resp = self.execute(&req, true)?;
        let (status, answered, body) = finish(resp);
        if status != 201 && status != 200 {
            return Err(status_error(&what, &reference.registry, status, &body));
        }
        check_digest(&what, &reference.registry, answered.as_deref(), digest)
    }

    fn push_blob(
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
            };
            let resp = self.execute(&mount, true)?;
            let location = resp.header("location").map(str::to_string);
            let (status, answered, body) = finish(resp);
            match (status, location) {
                (201, _) => {
                    check_digest(&what, registry, answered.as_deref(), &blob.digest)?;
                    return Ok(BlobOutcome::Mounted);
                }
                (202, Some(loc)) => session = Some(self.resolve(registry, &loc)),
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
        let mut offset = 0u64;
        let mut resumes = 0u32;
        if blob.size > self.opts.chunk_size {
            while offset < blob.size {
                let len = self.opts.chunk_size.min(blob.size - offset);
                let req = Req {
                    method: Method::PATCH,
                    url: location.clone(),
                    headers: vec![
                        ("content-type", "application/octet-stream".into()),
                        ("content-range", format!("{}-{}", offset, offset + len - 1)),
                    ],
                    body: ReqBody::File {
                        path: &path,
                        offset,
                        len,
                    },
                    registry,
                    scopes,
                    what,
                    auth: AuthMode::Registry,
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
                        location = self.resolve(registry, &next);
                        offset += len;
                    }
                    (400 | 405 | 416 | 501, _) => {
                        // The registry does not take chunks: start again with one request.
                        location = self.start_upload(reference, scopes, what)?;
                        offset = 0;
                        break;
                    }
                    _ => return Err(status_error(what, registry, status, &body)),
                }
            }
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!(
            "{location}{sep}digest={}",
            percent_encode(&blob.digest.to_string())
        );
        let body = if offset >= blob.size && blob.size > self.opts.chunk_size {
            ReqBody::Empty
        } else {
            ReqBody::File {
                path: &path,
                offset: 0,
                len: blob.size,
            }
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
        };
        let (status, answered, body) = finish(self.execute(&req, false)?);
        if status != 201 && status != 204 {
            return Err(status_error(what, registry, status, &body));
        }
        check_digest(what, registry, answered.as_deref(), &blob.digest)
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
        };
        let resp = self.execute(&req, true).ok()?;
        let next = resp
            .header("location")
            .map(|l| self.resolve(&reference.registry, l))
            .unwrap_or_else(|| location.to_string());
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
        };
        let resp = self.execute(&req, false)?;
        let location = resp.header("location").map(str::to_string);
        let (status, _, body) = finish(resp);
        match (status, location) {
            (202, Some(loc)) => Ok(self.resolve(registry, &loc)),
            (202, None) => Err(RegistryError::BadResponse {
                what: what.into(),
                host: registry.into(),
                detail: "it opened an upload without saying where to send it (no Location)".into(),
            }),
            _ => Err(status_error(what, registry, status, &body)),
        }
    }

    /// Makes an upload `Location` absolute (registries may answer with a path).
    pub(crate) fn resolve(&self, registry: &str, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            return location.to_string();
        }
        let base = self.base_url(registry);
        let origin = base.trim_end_matches("/v2/");
        if location.starts_with('/') {
            format!("{origin}{location}")
        } else {
            format!("{origin}/{location}")
        }
    }
}

/// Reads what is left of a response: status, the Docker-Content-Digest it announced, and a
/// bounded body (so the connection can be reused).
pub(crate) fn finish(resp: Resp) -> (u16, Option<String>, Vec<u8>) {
    let status = resp.status;
    let digest = resp.header("docker-content-digest").map(str::to_string);
    let body = resp.bytes(1 << 20).unwrap_or_default();
    (status, digest, body)
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
            actual: d.chars().take(100).collect(),
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
