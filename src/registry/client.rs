use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ureq::http::{self, HeaderMap, Method};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::auth::{Challenge, Credential, CredentialStore, TokenResponse, parse_challenge};
use super::error::{RegistryError, registry_message};
use super::reference::api_host;

/// How hard to try before giving up on one request or upload.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Total time one request (with its retries) may take before gopack gives up.
    pub max_total: Duration,
}

/// The attempts of one operation under a [`RetryPolicy`]: counts them, and after a transient
/// failure either sleeps (doubling the backoff) or gives up with the last error.
pub(crate) struct Attempts<'p> {
    policy: &'p RetryPolicy,
    started: Instant,
    backoff: Duration,
    count: u32,
}

impl<'p> Attempts<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy) -> Attempts<'p> {
        Attempts {
            policy,
            started: Instant::now(),
            backoff: policy.initial_backoff,
            count: 0,
        }
    }

    /// Marks the start of an attempt.
    pub(crate) fn begin(&mut self) {
        self.count += 1;
    }

    /// After the transient failure `err`: waits `wait` (a registry's Retry-After) or the backoff
    /// and returns, or returns the error that ends the operation when attempts or time are used up.
    pub(crate) fn pause(
        &mut self,
        what: &str,
        err: RegistryError,
        wait: Option<Duration>,
    ) -> Result<(), RegistryError> {
        let wait = wait.unwrap_or(self.backoff);
        if self.count >= self.policy.max_attempts
            || self.started.elapsed() + wait > self.policy.max_total
        {
            return Err(RegistryError::GaveUp {
                what: what.into(),
                attempts: self.count,
                elapsed: self.started.elapsed(),
                last: Box::new(err),
            });
        }
        std::thread::sleep(wait);
        self.backoff = (self.backoff * 2).min(self.policy.max_backoff);
        Ok(())
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_total: Duration::from_secs(120),
        }
    }
}

/// Everything that shapes how gopack talks to registries.
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`) reached over plain HTTP. Only these; everything else is HTTPS
    /// with verified certificates.
    pub insecure_hosts: Vec<String>,
    /// PEM files with extra CA certificates trusted besides the system and Mozilla roots.
    pub ca_files: Vec<PathBuf>,
    pub credentials: CredentialStore,
    pub retry: RetryPolicy,
    /// Blobs uploaded or downloaded at the same time.
    pub concurrency: usize,
    /// Blobs larger than this are uploaded in chunks of this size (PATCH), smaller ones in one
    /// request (PUT); chunked uploads fall back to one request if the registry refuses them.
    pub chunk_size: u64,
    pub connect_timeout: Duration,
    /// Longest silence while reading or writing before the attempt counts as failed.
    pub io_timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure_hosts: Vec::new(),
            ca_files: Vec::new(),
            credentials: CredentialStore::default(),
            retry: RetryPolicy::default(),
            concurrency: 4,
            chunk_size: 64 << 20,
            connect_timeout: Duration::from_secs(15),
            io_timeout: Duration::from_secs(60),
        }
    }
}

impl RegistryOptions {
    /// Defaults with credentials from the usual config files (see [`CredentialStore::from_env`]).
    pub fn from_env() -> RegistryOptions {
        RegistryOptions {
            credentials: CredentialStore::from_env(),
            ..RegistryOptions::default()
        }
    }
}

/// Counters of what went over the wire, for reports and tests.
#[derive(Debug, Default)]
pub struct TransferStats {
    /// Blob bytes sent (streamed from the store), including attempts that were retried.
    pub blob_bytes_uploaded: AtomicU64,
    /// Manifest, index and other small request bodies sent.
    pub document_bytes_uploaded: AtomicU64,
    pub bytes_downloaded: AtomicU64,
    pub requests: AtomicU64,
}

#[derive(Default)]
struct HostAuth {
    probed: bool,
    challenge: Option<Challenge>,
    credential: Option<Option<Credential>>,
    tokens: HashMap<String, (String, Instant)>,
}

/// A synchronous client for the OCI distribution API, shared by threads.
pub struct RegistryClient {
    agent: ureq::Agent,
    pub(crate) opts: RegistryOptions,
    hosts: Mutex<HashMap<String, HostAuth>>,
    token_lock: Mutex<()>,
    pub(crate) stats: Arc<TransferStats>,
}

pub(crate) enum ReqBody<'a> {
    Empty,
    Bytes(&'a [u8]),
    File {
        path: &'a Path,
        offset: u64,
        len: u64,
    },
}

pub(crate) enum AuthMode {
    Registry,
    None,
}

pub(crate) struct Req<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: ReqBody<'a>,
    /// The registry as named in references (for auth, insecure checks and messages).
    pub registry: &'a str,
    pub scopes: &'a [String],
    pub what: &'a str,
    pub auth: AuthMode,
}

pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: ureq::Body,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Reads a small body (JSON documents, error messages), at most `limit` bytes.
    pub fn bytes(mut self, limit: u64) -> Result<Vec<u8>, ureq::Error> {
        self.body.with_config().limit(limit).read_to_vec()
    }
}

const USER_AGENT: &str = concat!("gopack/", env!("CARGO_PKG_VERSION"));

impl RegistryClient {
    pub fn new(opts: RegistryOptions) -> Result<RegistryClient, RegistryError> {
        let roots = root_certificates(&opts.ca_files)?;
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            .tls_config(tls)
            .max_redirects(5)
            .max_idle_connections_per_host(opts.concurrency.max(1) * 2)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_per_read(Some(opts.io_timeout))
            .timeout_per_write(Some(opts.io_timeout))
            .timeout_resolve(Some(opts.connect_timeout))
            .build();
        Ok(RegistryClient {
            agent: ureq::Agent::new_with_config(config),
            opts,
            hosts: Mutex::new(HashMap::new()),
            token_lock: Mutex::new(()),
            stats: Arc::new(TransferStats::default()),
        })
    }

    pub fn stats(&self) -> &TransferStats {
        &self.stats
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.opts
    }

    /// `http://` for hosts named insecure, else `https://`.
    pub(crate) fn base_url(&self, registry: &str) -> String {
        let host = api_host(registry);
        let insecure = self
            .opts
            .insecure_hosts
            .iter()
            .any(|h| h == registry || h == host);
        let scheme = if insecure { "http" } else { "https" };
        format!("{scheme}://{host}/v2/")
    }

    /// Checks that the registry answers and learns how it wants to be authenticated; with
    /// `scopes`, also obtains the bearer token for them so later requests carry it at once.
    pub(crate) fn prepare(&self, registry: &str, scopes: &[String]) -> Result<(), RegistryError> {
        let probed = self.with_host(registry, |h| h.probed);
        if !probed {
            let req = Req {
                method: Method::GET,
                url: self.base_url(registry),
                headers: vec![],
                body: ReqBody::Empty,
                registry,
                scopes,
                what: "contacting the registry",
                auth: AuthMode::None,
            };
            let resp = self.execute(&req, true)?;
            let status = resp.status;
            let challenge = resp
                .header("www-authenticate")
                .and_then(parse_challenge)
                .filter(|_| status == 401);
            let _ = resp.bytes(64 << 10);
            if status != 200 && status != 401 {
                return Err(RegistryError::BadResponse {
                    what: "contacting the registry".into(),
                    host: registry.into(),
                    detail: format!(
                        "GET /v2/ answered {status}; this does not look like an OCI registry"
                    ),
                });
            }
            self.with_host(registry, |h| {
                h.probed = true;
                h.challenge = challenge;
            });
        }
        // Fetch the token (or find the credentials) now, surfacing auth errors early.
        self.auth_header(registry, scopes, "authenticating")
            .map(|_| ())
    }

    /// Logs in with `credential` (instead of stored ones) and checks it works: what
    /// `gopack login` does before saving anything.
    pub fn check_login(&self, registry: &str, credential: Credential) -> Result<(), RegistryError> {
        self.with_host(registry, |h| {
            *h = HostAuth::default();
            h.credential = Some(Some(credential));
        });
        self.prepare(registry, &[])?;
        let req = Req {
            method: Method::GET,
            url: self.base_url(registry),
            headers: vec![],
            body: ReqBody::Empty,
            registry,
            scopes: &[],
            what: "logging in",
            auth: AuthMode::Registry,
        };
        let resp = self.execute(&req, true)?;
        let status = resp.status;
        let message = registry_message(&resp.bytes(64 << 10).unwrap_or_default());
        match status {
            200 => Ok(()),
            401 | 403 => Err(RegistryError::Unauthorized {
                what: "logging in".into(),
                host: registry.into(),
                status,
                message,
            }),
            _ => Err(RegistryError::Status {
                what: "logging in".into(),
                host: registry.into(),
                status,
                message,
            }),
        }
    }

    fn with_host<T>(&self, registry: &str, f: impl FnOnce(&mut HostAuth) -> T) -> T {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        f(hosts.entry(registry.to_string()).or_default())
    }

    fn credential(&self, registry: &str) -> Result<Option<Credential>, RegistryError> {
        if let Some(c) = self.with_host(registry, |h| h.credential.clone()) {
            return Ok(c);
        }
        let found = self.opts.credentials.lookup(registry)?;
        self.with_host(registry, |h| h.credential = Some(found.clone()));
        Ok(found)
    }

    /// The `Authorization` value for a request to `registry` needing `scopes`.
    fn auth_header(
        &self,
        registry: &str,
        scopes: &[String],
        what: &str,
    ) -> Result<Option<String>, RegistryError> {
        let Some(challenge) = self.with_host(registry, |h| h.challenge.clone()) else {
            return Ok(None);
        };
        let credential = self.credential(registry)?;
        match challenge.scheme.as_str() {
            "basic" => match credential.as_ref().and_then(Credential::basic_header) {
                Some(h) => Ok(Some(h)),
                None => Err(RegistryError::Unauthorized {
                    what: what.into(),
                    host: registry.into(),
                    status: 401,
                    message: "the registry requires a user name and password and none is \
                              stored for it"
                        .into(),
                }),
            },
            "bearer" => {
                let key = scope_key(scopes);
                let cached = || {
                    self.with_host(registry, |h| {
                        h.tokens
                            .get(&key)
                            .filter(|(_, exp)| *exp > Instant::now())
                            .map(|(t, _)| t.clone())
                    })
                };
                if let Some(t) = cached() {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let _guard = self.token_lock.lock().unwrap_or_else(|e| e.into_inner());
                // Another thread may have fetched it while this one waited.
                if let Some(t) = cached() {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let (token, ttl) =
                    self.fetch_token(registry, &challenge, scopes, credential.as_ref(), what)?;
                let expiry = Instant::now() + Duration::from_secs(ttl.saturating_sub(5).max(5));
                self.with_host(registry, |h| {
                    h.tokens.insert(key, (token.clone(), expiry));
                });
                Ok(Some(format!("Bearer {token}")))
            }
            _ => Ok(None),
        }
    }

    fn fetch_token(
        &self,
        registry: &str,
        challenge: &Challenge,
        scopes: &[String],
        credential: Option<&Credential>,
        what: &str,
    ) -> Result<(String, u64), RegistryError> {
        let realm = challenge
            .params
            .get("realm")
            .ok_or_else(|| RegistryError::BadResponse {
                what: what.into(),
                host: registry.into(),
                detail: "its bearer challenge names no token server (realm)".into(),
            })?;
        let service = challenge.params.get("service").cloned().unwrap_or_default();
        let mut scope_list: Vec<String> = scopes.to_vec();
        if scope_list.is_empty()
            && let Some(s) = challenge.params.get("scope")
        {
            scope_list.push(s.clone());
        }
        let mut query = vec![("service", service.clone())];
        query.extend(scope_list.iter().map(|s| ("scope", s.clone())));
        let what = format!("{what} (getting a token from {realm})");
        let (method, url, body, auth) = match credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.clone()),
                    ("client_id", "gopack".into()),
                ];
                form.extend(query);
                (Method::POST, realm.clone(), Some(encode_form(&form)), None)
            }
            other => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                let url = format!("{realm}{sep}{}", encode_form(&query));
                (
                    Method::GET,
                    url,
                    None,
                    other.and_then(Credential::basic_header),
                )
            }
        };
        let mut headers = vec![];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        if body.is_some() {
            headers.push((
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ));
        }
        let req = Req {
            method,
            url,
            headers,
            body: body
                .as_deref()
                .map_or(ReqBody::Empty, |b| ReqBody::Bytes(b.as_bytes())),
            registry,
            scopes,
            what: &what,
            auth: AuthMode::None,
        };
        let resp = self.execute(&req, true)?;
        let status = resp.status;
        let bytes = resp
            .bytes(1 << 20)
            .map_err(|e| transport_error(&what, registry, e))?;
        match status {
            200 => TokenResponse::parse(&bytes).ok_or_else(|| RegistryError::BadResponse {
                what: what.clone(),
                host: registry.into(),
                detail: "the token server's answer has no token".into(),
            }),
            401 | 403 => Err(RegistryError::Unauthorized {
                what,
                host: registry.into(),
                status,
                message: registry_message(&bytes),
            }),
            _ => Err(RegistryError::Status {
                what,
                host: registry.into(),
                status,
                message: registry_message(&bytes),
            }),
        }
    }

    /// Sends `req`, retrying transient failures (connection errors, timeouts, 429 with
    /// Retry-After, 5xx) with backoff when `retry` is set, and re-authenticating once on 401.
    /// Returns any other answer, including 4xx, for the caller to interpret.
    pub(crate) fn execute(&self, req: &Req, retry: bool) -> Result<Resp, RegistryError> {
        let mut attempts = Attempts::new(&self.opts.retry);
        let mut reauthed = false;
        loop {
            attempts.begin();
            let (err, wait) = match self.send_once(req) {
                Ok(resp) => match resp.status {
                    401 if matches!(req.auth, AuthMode::Registry) && !reauthed => {
                        reauthed = true;
                        let challenge = resp.header("www-authenticate").and_then(parse_challenge);
                        let _ = resp.bytes(64 << 10);
                        self.with_host(req.registry, |h| {
                            h.probed = true;
                            h.challenge = challenge;
                            h.tokens.clear();
                        });
                        continue;
                    }
                    401 | 403 if matches!(req.auth, AuthMode::Registry) => {
                        let status = resp.status;
                        let message = registry_message(&resp.bytes(64 << 10).unwrap_or_default());
                        return Err(RegistryError::Unauthorized {
                            what: req.what.into(),
                            host: req.registry.into(),
                            status,
                            message,
                        });
                    }
                    429 | 500..=599 => {
                        let status = resp.status;
                        let wait = resp.header("retry-after").and_then(parse_retry_after);
                        let message = registry_message(&resp.bytes(64 << 10).unwrap_or_default());
                        let err = RegistryError::Status {
                            what: req.what.into(),
                            host: req.registry.into(),
                            status,
                            message,
                        };
                        (err, wait)
                    }
                    _ => return Ok(resp),
                },
                Err(e) => (e, None),
            };
            // A registry never reached is most likely not there (wrong port, not started):
            // say so at once instead of retrying; once reached, refusals are retried.
            let never_reached = matches!(err, RegistryError::Connect { .. })
                && !self.with_host(req.registry, |h| h.probed);
            if !retry || !err.is_transient() || never_reached {
                return Err(err);
            }
            // Retry-After is honoured as the registry asks (bounded by the total time allowed).
            attempts.pause(req.what, err, wait)?;
        }
    }

    fn send_once(&self, req: &Req) -> Result<Resp, RegistryError> {
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v);
        }
        // Credentials only ever go to the registry's own host (never to a redirect target or
        // an upload location elsewhere).
        if matches!(req.auth, AuthMode::Registry)
            && same_host(&req.url, api_host(req.registry))
            && let Some(a) = self.auth_header(req.registry, req.scopes, req.what)?
        {
            builder = builder.header("authorization", a);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let map = |e| transport_error(req.what, req.registry, e);
        let result = match &req.body {
            ReqBody::Empty => {
                let has_body = matches!(req.method, Method::PUT | Method::POST | Method::PATCH);
                if has_body {
                    builder = builder.header("content-length", "0");
                }
                let r = builder.body(()).map_err(|e| invalid(req, e))?;
                self.agent.run(r)
            }
            ReqBody::Bytes(b) => {
                builder = builder.header("content-length", b.len().to_string());
                let r = builder.body(*b).map_err(|e| invalid(req, e))?;
                let out = self.agent.run(r);
                if out.is_ok() {
                    self.stats
                        .document_bytes_uploaded
                        .fetch_add(b.len() as u64, Ordering::Relaxed);
                }
                out
            }
            ReqBody::File { path, offset, len } => {
                let mut file = File::open(path).map_err(|e| {
                    RegistryError::Invalid(format!(
                        "{}: cannot read {}: {e}",
                        req.what,
                        path.display()
                    ))
                })?;
                file.seek(SeekFrom::Start(*offset)).map_err(|e| {
                    RegistryError::Invalid(format!(
                        "{}: cannot read {}: {e}",
                        req.what,
                        path.display()
                    ))
                })?;
                let reader = CountingReader {
                    inner: file.take(*len),
                    stats: self.stats.clone(),
                };
                builder = builder.header("content-length", len.to_string());
                let r = builder
                    .body(ureq::SendBody::from_owned_reader(reader))
                    .map_err(|e| invalid(req, e))?;
                self.agent.run(r)
            }
        };
        let resp = result.map_err(map)?;
        let (parts, body) = resp.into_parts();
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

fn invalid(req: &Req, e: http::Error) -> RegistryError {
    RegistryError::Invalid(format!("{}: cannot build the request ({e})", req.what))
}

struct CountingReader<R> {
    inner: R,
    stats: Arc<TransferStats>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.stats
            .blob_bytes_uploaded
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn same_host(url: &str, host: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    authority.eq_ignore_ascii_case(host)
}

/// Maps a transport failure to an error that says what to do; never includes request headers.
pub(crate) fn transport_error(what: &str, registry: &str, e: ureq::Error) -> RegistryError {
    let host = registry.to_string();
    let what = what.to_string();
    match e {
        ureq::Error::HostNotFound => RegistryError::UnknownHost { what, host },
        ureq::Error::ConnectionFailed => RegistryError::Connect {
            what,
            host,
            detail: "connection failed".into(),
        },
        ureq::Error::Io(io) if io.to_string().contains("failed to lookup address") => {
            RegistryError::UnknownHost { what, host }
        }
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            RegistryError::Connect {
                what,
                host,
                detail: "connection refused".into(),
            }
        }
        ureq::Error::Tls(m) => RegistryError::Tls {
            what,
            host,
            detail: m.into(),
        },
        ureq::Error::Rustls(r) => RegistryError::Tls {
            what,
            host,
            detail: r.to_string(),
        },
        ureq::Error::Io(io) if io.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            let detail = match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
                    "the server did not answer with TLS; it may serve plain HTTP".to_string()
                }
                Some(e) => e.to_string(),
                None => io.to_string(),
            };
            RegistryError::Tls { what, host, detail }
        }
        ureq::Error::Timeout(t) => RegistryError::Transport {
            what,
            host,
            detail: format!("timed out ({t})"),
        },
        ureq::Error::BodyExceedsLimit(n) => RegistryError::BadResponse {
            what,
            host,
            detail: format!("the response is larger than the {n} bytes expected"),
        },
        ureq::Error::BadUri(u) => RegistryError::BadResponse {
            what,
            host,
            detail: format!("it pointed at an invalid URL `{u}`"),
        },
        other => RegistryError::Transport {
            what,
            host,
            detail: other.to_string(),
        },
    }
}

/// `Retry-After` in seconds (HTTP dates are rare from registries and fall back to backoff).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(300)))
}

fn scope_key(scopes: &[String]) -> String {
    let mut s = scopes.to_vec();
    s.sort();
    s.join(" ")
}

fn encode_form(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// System roots (the host's CA bundle, when there is one) + Mozilla's roots compiled into gopack
/// + the user's `--registry-ca` files.
fn root_certificates(ca_files: &[PathBuf]) -> Result<Vec<Certificate<'static>>, RegistryError> {
    let mut roots: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    let system = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.is_file());
    if let Some(path) = system
        && let Ok(pem) = std::fs::read(&path)
    {
        roots.extend(pem_certificates(&pem));
    }
    for path in ca_files {
        let pem = std::fs::read(path).map_err(|e| RegistryError::CaFile {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let certs = pem_certificates(&pem);
        if certs.is_empty() {
            return Err(RegistryError::CaFile {
                path: path.clone(),
                detail: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            });
        }
        roots.extend(certs);
    }
    Ok(roots)
}

fn pem_certificates(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}
