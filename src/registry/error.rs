//! [`RegistryError`]: every way talking to a registry fails, each message saying what was being
//! done, the registry's own words and the next step.

use std::time::Duration;

use crate::oci::StoreError;
use crate::text::{printable, printable_bytes};

use super::credentials::CredentialError;

/// Everything that can go wrong talking to a registry. Messages say what was being done, the
/// registry's own words when it gave any (through [`printable`]: no control character reaches
/// the terminal), and what to try next; they never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered an HTTP status gopack has no better word for (429 and 5xx are
    /// transient: see [`RegistryError::is_transient`]).
    #[error("{what}: the registry {host} answered {status}: {message}")]
    Status {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's own words (from its error body), printable and shortened.
        message: String,
    },
    /// The stored credentials were refused (401 or 403).
    #[error(
        "{what}: {host} refused the credentials ({status}: {message}). Check the user and \
         password (or token), then run `{login}`"
    )]
    Unauthorized {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's own words (from its error body), printable and shortened.
        message: String,
        /// The `gopack login …` command that works for this registry as printed.
        login: String,
    },
    /// The registry wants credentials (401 or 403) and none are stored for it.
    #[error(
        "{what}: {host} refused access without credentials ({status}: {message}), and none is \
         stored for it. The repository may need a login (run `{login}`) — or not exist, which \
         registries answer the same way"
    )]
    NoCredentials {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's own words (from its error body), printable and shortened.
        message: String,
        /// The `gopack login …` command that works for this registry as printed.
        login: String,
    },
    /// The credentials were accepted but do not allow this (403 with credentials stored).
    #[error(
        "{what}: {host} denied it ({message}): the credentials were accepted but do not allow \
         this on this repository (or it does not exist). Check the account's permissions, or \
         log in as another user with `{login}`"
    )]
    Denied {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The registry's own words (from its error body), printable and shortened.
        message: String,
        /// The `gopack login …` command that works for this registry as printed.
        login: String,
    },
    /// A token service over plain HTTP asked for credentials; gopack refused to send them.
    #[error(
        "{what}: {host} asks for your credentials to be sent to {target} over plain HTTP, where \
         anyone on the network can read them; gopack refused. If you trust that server, pass \
         --insecure-registry {target_host}"
    )]
    CleartextCredentials {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The URL the credentials would have gone to.
        target: String,
        /// `host[:port]` of `target`, as `--insecure-registry` takes it.
        target_host: String,
    },
    /// The registry's host name does not resolve (DNS).
    #[error("{what}: cannot resolve the host `{host}`; check the name, and the network or DNS")]
    UnknownHost {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
    },
    /// The TCP connection failed (refused, unreachable).
    #[error("{what}: cannot connect to {host} ({detail}). Is it running, and is the port right?")]
    Connect {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// What went wrong, in words (printable).
        detail: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    #[error("{what}: the TLS connection to {host} failed ({detail}). {hint}")]
    Tls {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// What went wrong, in words (printable).
        detail: String,
        /// What to do about it, from the kind of failure.
        hint: String,
    },
    /// The registry answered a TLS hello in plain HTTP.
    #[error(
        "{what}: {host} answers plain HTTP, not TLS. If that is expected, pass \
         --insecure-registry {host}"
    )]
    PlainHttp {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
    },
    /// The registry was named insecure (plain HTTP) but speaks TLS.
    #[error(
        "{what}: {host} serves HTTPS, but --insecure-registry {host} made gopack speak plain \
         HTTP to it. Drop --insecure-registry {host} (and pass --registry-ca FILE if its \
         certificate comes from a private CA)"
    )]
    ServesHttps {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
    },
    /// The exchange broke off after the connection was made (reset, a per-read timeout).
    #[error("{what}: the connection to {host} failed ({detail})")]
    Transport {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// What went wrong, in words (printable).
        detail: String,
    },
    /// A transfer did not finish within the time allowed for its size.
    #[error(
        "{what}: the transfer from {host} did not finish within {} s, the time gopack allows \
         for its size; the registry or the network stalled",
        budget.as_secs()
    )]
    Deadline {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The time the exchange was given.
        budget: Duration,
    },
    /// A body was larger than declared (by its descriptor or a limit for its kind): cut off,
    /// nothing kept.
    #[error(
        "{what}: {host} sent a body larger than the {declared} bytes declared for it \
         ({detail}); the transfer was cut off and nothing was kept"
    )]
    TooLarge {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The size declared for the body, in bytes.
        declared: u64,
        /// What went wrong, in words (printable).
        detail: String,
    },
    /// A redirect gopack will not follow (not http(s), or too many in a row).
    #[error("{what}: {host} redirected to {target}, {why}")]
    Redirect {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// Where the registry redirected to.
        target: String,
        /// Why gopack does not follow it.
        why: String,
    },
    /// Transient failures went on past the retry policy's attempts or time.
    #[error("{what}: gave up after {attempts} attempts in {:.1}s; last failure: {last}", elapsed.as_secs_f64())]
    GaveUp {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// Attempts made, the first included.
        attempts: u32,
        /// Time spent over all attempts.
        elapsed: Duration,
        /// The last attempt's failure.
        last: Box<RegistryError>,
    },
    /// The bytes received hash to another digest than the one asked for or announced.
    #[error(
        "{what}: the registry {host} answered with content whose digest is {actual}, not {expected}"
    )]
    DigestMismatch {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// The digest asked for or announced (`sha256:<hex>`).
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// An answer that breaks the distribution spec (malformed JSON, missing headers, a bad
    /// `Location`).
    #[error("{what}: the registry {host} sent a response gopack cannot use: {detail}")]
    BadResponse {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The registry host as `host[:port]`, printable.
        host: String,
        /// What went wrong, in words (printable).
        detail: String,
    },
    /// The registry does not hold the manifest or blob (404).
    #[error("{what}: {reference} was not found in the registry ({message})")]
    NotFound {
        /// What gopack was doing, e.g. `pushing the layer sha256:…`.
        what: String,
        /// The reference looked up (`name:tag` or `name@digest`).
        reference: String,
        /// The registry's own words (from its error body), printable and shortened.
        message: String,
    },
    /// No image in the index matches the requested platform; the message lists those there.
    #[error("{0}")]
    Platform(String),
    /// A request gopack refuses before sending it (e.g. an invalid reference); the message says
    /// why.
    #[error("{0}")]
    Invalid(String),
    /// The `--registry-ca` file could not be read or holds no PEM certificate.
    #[error("cannot read the CA file {path}: {detail}")]
    CaFile {
        /// The file named by `--registry-ca`.
        path: std::path::PathBuf,
        /// What went wrong, in words (printable).
        detail: String,
    },
    /// The credential store could not be read or written.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The local blob store failed (not the registry's fault; not retried).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// Whether trying again later may succeed (network trouble, a stalled transfer, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Status { status, .. } => *status == 429 || *status >= 500,
            RegistryError::Connect { .. }
            | RegistryError::Transport { .. }
            | RegistryError::Deadline { .. } => true,
            _ => false,
        }
    }
}

/// Longest excerpt of a registry's own words shown in a message, in characters.
const MAX_MESSAGE: usize = 400;

/// The registry's own explanation from an error body (`{"errors":[{"code","message"}]}`), or a
/// short excerpt of whatever it sent, printable (no control characters) and at most a few
/// hundred characters.
pub fn registry_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    if let Ok(e) = serde_json::from_slice::<Errors>(body)
        && !e.errors.is_empty()
    {
        let joined = e
            .errors
            .iter()
            .take(20)
            .map(|i| match (&i.code, &i.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "(no message)".into(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        return printable(&joined, MAX_MESSAGE);
    }
    let text = printable_bytes(body, 200);
    if text.is_empty() {
        "no explanation in the response".into()
    } else {
        text
    }
}
