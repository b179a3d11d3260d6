//! The registry client's state and settings: TLS roots, retry policy, per-host challenges and
//! tokens, transfer counters, and the HTTP agent every request of the distribution API goes
//! through.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use ureq::http::{HeaderMap, Method};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::auth::{Challenge, parse_challenge};
use super::credentials::{Credential, CredentialStore};
use super::error::{RegistryError, registry_message};
use super::reference::api_host;
use super::transport::{authority, is_loopback};

/// How hard to try before giving up on one request or upload.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (6 by default).
    pub max_attempts: u32,
    /// Pause after the first transient failure; doubled after each further one (250 ms by
    /// default), unless the registry's `Retry-After` says otherwise.
    pub initial_backoff: Duration,
    /// Longest pause between two attempts (8 s by default).
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
    /// Registries (`host[:port]`) reached over plain HTTP. Only these, and loopback registries
    /// (`localhost`, `127.0.0.0/8`, `::1`) that answer plain HTTP, as docker and ko do;
    /// everything else is HTTPS with verified certificates. Credentials go over plain HTTP
    /// only to these hosts (and to a loopback registry's own machine).
    pub insecure_hosts: Vec<String>,
    /// PEM files with extra CA certificates trusted besides the system and Mozilla roots.
    pub ca_files: Vec<PathBuf>,
    /// Where registry credentials are looked up (docker's config.json and helpers).
    pub credentials: CredentialStore,
    /// How transient failures are retried.
    pub retry: RetryPolicy,
    /// Blobs uploaded or downloaded at the same time.
    pub concurrency: usize,
    /// Blobs larger than this are uploaded in chunks of this size (PATCH), smaller ones in one
    /// request (PUT); chunked uploads fall back to one request if the registry refuses them.
    pub chunk_size: u64,
    /// Longest wait for a host name to resolve and for a TCP connection to open.
    pub connect_timeout: Duration,
    /// Longest silence while reading or writing before the attempt counts as failed.
    pub io_timeout: Duration,
    /// Every exchange (request, response and its whole body, redirects included) may take
    /// this long, plus one second per [`min_bytes_per_second`](Self::min_bytes_per_second)
    /// of the bytes it moves; then it is cut off, so a registry that trickles cannot stall
    /// gopack forever.
    pub min_transfer_time: Duration,
    /// The slowest transfer rate (bytes per second) gopack waits for, beyond
    /// [`min_transfer_time`](Self::min_transfer_time).
    pub min_bytes_per_second: u64,
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
            min_transfer_time: Duration::from_secs(60),
            min_bytes_per_second: 32 << 10,
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
    /// Blob bytes received (body bytes, before any decompression), retried attempts included.
    pub bytes_downloaded: AtomicU64,
    /// HTTP requests sent, redirects, retries and token requests included.
    pub requests: AtomicU64,
}

#[derive(Default)]
pub(crate) struct HostAuth {
    pub probed: bool,
    /// A loopback registry found to answer plain HTTP.
    pub plain_http: bool,
    pub challenge: Option<Challenge>,
    pub credential: Option<Option<Credential>>,
    pub tokens: HashMap<String, (String, Instant)>,
}

/// A synchronous client for the OCI distribution API, shared by threads.
pub struct RegistryClient {
    pub(crate) agent: ureq::Agent,
    pub(crate) opts: RegistryOptions,
    hosts: Mutex<HashMap<String, HostAuth>>,
    pub(crate) token_lock: Mutex<()>,
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
    /// Bytes this exchange is expected to move (sent or received), which sets its deadline.
    pub size_hint: u64,
}

pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: ureq::Body,
    /// The host that answered (after redirects), for messages about reading the body.
    pub host: String,
    /// The time this exchange was given in all, body included.
    pub budget: Duration,
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

/// Most bytes of an answer gopack reads when only its status matters (error bodies, probes).
pub(crate) const MAX_ERROR_BODY: u64 = 64 << 10;

impl RegistryClient {
    /// A client with these options: TLS roots are the system's and Mozilla's plus the PEM
    /// files of `opts.ca_files`; nothing is sent yet.
    ///
    /// Errors: [`RegistryError::CaFile`] when a CA file cannot be read or holds no certificate.
    pub fn new(opts: RegistryOptions) -> Result<RegistryClient, RegistryError> {
        let roots = root_certificates(&opts.ca_files)?;
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            .tls_config(tls)
            // Redirects are followed by `transport::send`, which decides where credentials go.
            .max_redirects(0)
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

    /// Counters of what this client sent and received so far.
    pub fn stats(&self) -> &TransferStats {
        &self.stats
    }

    /// The options this client was made with.
    pub fn options(&self) -> &RegistryOptions {
        &self.opts
    }

    /// Whether the user named `host` (a registry or an `authority` of a URL) as reached over
    /// plain HTTP.
    pub(crate) fn named_insecure(&self, host: &str) -> bool {
        self.opts
            .insecure_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(api_host(host)))
    }

    /// Whether `registry` is reached over plain HTTP: named insecure, or a loopback registry
    /// found to answer plain HTTP.
    pub(crate) fn plain_http(&self, registry: &str) -> bool {
        self.named_insecure(registry) || self.with_host(registry, |h| h.plain_http)
    }

    /// `http://HOST/v2/` for registries reached over plain HTTP, else `https://HOST/v2/`.
    pub(crate) fn base_url(&self, registry: &str) -> String {
        let scheme = if self.plain_http(registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}/v2/", api_host(registry))
    }

    /// Whether a secret (password, identity token, registry token) may be sent to `url` on
    /// behalf of `registry`: over HTTPS (certificates are always verified); over plain HTTP
    /// only to a host the user named with `--insecure-registry`, or to the loopback interface
    /// when the registry itself is a loopback registry answering plain HTTP.
    pub(crate) fn may_carry_secrets(&self, registry: &str, url: &str) -> bool {
        let Some((scheme, host)) = url.split_once("://").map(|(s, _)| (s, authority(url))) else {
            return false;
        };
        match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => {
                self.named_insecure(host)
                    || (is_loopback(host)
                        && is_loopback(api_host(registry))
                        && self.plain_http(registry))
            }
            _ => false,
        }
    }

    /// The `gopack login` command that logs in to `registry` with this client's TLS settings,
    /// exactly as a person can run it (it prompts for the user and password on a terminal).
    pub(crate) fn login_command(&self, registry: &str) -> String {
        let mut cmd = format!("gopack login {registry}");
        if self.named_insecure(registry) {
            cmd.push_str(&format!(" --insecure-registry {registry}"));
        }
        for ca in &self.opts.ca_files {
            cmd.push_str(&format!(
                " --registry-ca {}",
                shell_word(&ca.display().to_string())
            ));
        }
        cmd
    }

    /// Checks that the registry answers and learns how it wants to be authenticated; with
    /// `scopes`, also obtains the bearer token for them so later requests carry it at once.
    /// A loopback registry not named insecure is tried over HTTPS first, then plain HTTP.
    pub(crate) fn prepare(&self, registry: &str, scopes: &[String]) -> Result<(), RegistryError> {
        if !self.with_host(registry, |h| h.probed) {
            // A loopback registry is tried over HTTPS once, then over plain HTTP when the
            // server did not speak TLS (it answered plain HTTP, or dropped the handshake).
            let try_plain = is_loopback(api_host(registry)) && !self.named_insecure(registry);
            let (status, challenge) = match self.probe(registry, scopes, !try_plain) {
                Err(RegistryError::PlainHttp { .. } | RegistryError::Transport { .. })
                    if try_plain =>
                {
                    self.with_host(registry, |h| h.plain_http = true);
                    self.probe(registry, scopes, true)?
                }
                // It does speak TLS; other passing trouble gets the usual retries.
                Err(e) if try_plain && e.is_transient() => self.probe(registry, scopes, true)?,
                other => other?,
            };
            if status != 200 && status != 401 {
                return Err(RegistryError::BadResponse {
                    what: "contacting the registry".into(),
                    host: registry.into(),
                    detail: format!(
                        "GET {} answered {status}; this does not look like an OCI registry",
                        self.base_url(registry)
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

    /// `GET /v2/`: its status and, on 401, the challenge; transient failures retried when
    /// `retry` is set.
    fn probe(
        &self,
        registry: &str,
        scopes: &[String],
        retry: bool,
    ) -> Result<(u16, Option<Challenge>), RegistryError> {
        let what = "contacting the registry";
        let req = Req {
            method: Method::GET,
            url: self.base_url(registry),
            headers: vec![],
            body: ReqBody::Empty,
            registry,
            scopes,
            what,
            auth: AuthMode::None,
            size_hint: MAX_ERROR_BODY,
        };
        let resp = self.execute(&req, retry)?;
        let status = resp.status;
        let challenge = resp
            .header("www-authenticate")
            .and_then(parse_challenge)
            .filter(|_| status == 401);
        let body = resp.bytes(MAX_ERROR_BODY).unwrap_or_default();
        if status == 400 && self.plain_http(registry) && answers_https_only(&body) {
            return Err(RegistryError::ServesHttps {
                what: what.into(),
                host: registry.into(),
            });
        }
        Ok((status, challenge))
    }

    /// Logs in with `credential` (instead of stored ones) and checks it works: what
    /// `gopack login` does before saving anything. Returns true when the registry asked for
    /// credentials and accepted these, false when it asks for none (so nothing was checked).
    pub fn check_login(
        &self,
        registry: &str,
        credential: Credential,
    ) -> Result<bool, RegistryError> {
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
            size_hint: MAX_ERROR_BODY,
        };
        let resp = self.execute(&req, true)?;
        let status = resp.status;
        let message = registry_message(&resp.bytes(MAX_ERROR_BODY).unwrap_or_default());
        match status {
            200 => Ok(self.with_host(registry, |h| h.challenge.is_some())),
            401 | 403 => Err(RegistryError::Unauthorized {
                what: "logging in".into(),
                host: registry.into(),
                status,
                message,
                login: self.login_command(registry),
            }),
            _ => Err(RegistryError::Status {
                what: "logging in".into(),
                host: registry.into(),
                status,
                message,
            }),
        }
    }

    pub(crate) fn with_host<T>(&self, registry: &str, f: impl FnOnce(&mut HostAuth) -> T) -> T {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        f(hosts.entry(registry.to_string()).or_default())
    }

    pub(crate) fn credential(&self, registry: &str) -> Result<Option<Credential>, RegistryError> {
        if let Some(c) = self.with_host(registry, |h| h.credential.clone()) {
            return Ok(c);
        }
        let found = self.opts.credentials.lookup(registry)?;
        self.with_host(registry, |h| h.credential = Some(found.clone()));
        Ok(found)
    }

    /// Whether a credential is known for `registry` (looked up already).
    pub(crate) fn has_credential(&self, registry: &str) -> bool {
        self.with_host(registry, |h| matches!(h.credential, Some(Some(_))))
    }

    /// The error for a refusal by `registry`: wrong credentials, or none stored.
    pub(crate) fn refused(
        &self,
        what: &str,
        registry: &str,
        status: u16,
        message: String,
    ) -> RegistryError {
        let (what, host, login) = (
            what.to_string(),
            registry.to_string(),
            self.login_command(registry),
        );
        if self.has_credential(registry) {
            RegistryError::Unauthorized {
                what,
                host,
                status,
                message,
                login,
            }
        } else {
            RegistryError::NoCredentials {
                what,
                host,
                status,
                message,
                login,
            }
        }
    }
}

/// Whether a 400 answer is a TLS server's reply to a plain-HTTP request (Go's net/http and
/// nginx say so in these words).
fn answers_https_only(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("HTTP request to an HTTPS server") || text.contains("sent to HTTPS port")
}

/// `s` as one shell word (single-quoted unless it needs no quoting).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `Retry-After` in seconds (HTTP dates are rare from registries and fall back to backoff),
/// at most 300.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(300)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_over_tls_or_to_hosts_the_user_named() {
        let client = RegistryClient::new(RegistryOptions {
            insecure_hosts: vec!["auth.internal:8080".into(), "10.0.0.5:5000".into()],
            ..RegistryOptions::default()
        })
        .unwrap();
        let ok = |registry: &str, url: &str| client.may_carry_secrets(registry, url);
        assert!(ok("ghcr.io", "https://ghcr.io/token"));
        assert!(ok("docker.io", "https://auth.docker.io/token"));
        assert!(!ok("ghcr.io", "http://ghcr.io/token"));
        assert!(!ok("ghcr.io", "http://evil.example/token"));
        assert!(ok("ghcr.io", "http://auth.internal:8080/token"));
        assert!(!ok("10.0.0.5:5000", "http://10.0.0.5:5001/token"));
        assert!(ok("10.0.0.5:5000", "http://10.0.0.5:5000/token"));
        assert!(!ok("ghcr.io", "file:///etc/passwd"));
        assert!(!ok("ghcr.io", "ftp://ghcr.io/token"));
        // A loopback registry over TLS never sends secrets in clear, even to loopback.
        assert!(!ok("127.0.0.1:5000", "http://127.0.0.1:5001/token"));
        client.with_host("127.0.0.1:5000", |h| h.plain_http = true);
        assert!(ok("127.0.0.1:5000", "http://localhost:5001/token"));
        assert!(!ok("127.0.0.1:5000", "http://192.168.1.9:5001/token"));
    }

    #[test]
    fn login_advice_carries_the_flags_it_needs() {
        let client = RegistryClient::new(RegistryOptions {
            insecure_hosts: vec!["reg.local:5000".into()],
            ..RegistryOptions::default()
        })
        .unwrap();
        assert_eq!(
            client.login_command("reg.local:5000"),
            "gopack login reg.local:5000 --insecure-registry reg.local:5000"
        );
        assert_eq!(client.login_command("ghcr.io"), "gopack login ghcr.io");
        assert_eq!(shell_word("/a b/ca.pem"), "'/a b/ca.pem'");
        assert_eq!(shell_word("/tmp/ca.pem"), "/tmp/ca.pem");
    }
}
