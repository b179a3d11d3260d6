use std::time::Duration;

use crate::oci::StoreError;
use crate::text::{printable, printable_bytes};

use super::credentials::CredentialError;

/// Everything that can go wrong talking to a registry. Messages say what was being done, the
/// registry's own words when it gave any (through [`printable`]: no control character reaches
/// the terminal), and what to try next; they never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{what}: the registry {host} answered {status}: {message}")]
    Status {
        what: String,
        host: String,
        status: u16,
        message: String,
    },
    #[error(
        "{what}: {host} refused the credentials ({status}: {message}). Check the user and \
         password (or token), then run `{login}`"
    )]
    Unauthorized {
        what: String,
        host: String,
        status: u16,
        message: String,
        /// The `gopack login …` command that works for this registry as printed.
        login: String,
    },
    #[error(
        "{what}: {host} refused access without credentials ({status}: {message}), and none is \
         stored for it. The repository may need a login (run `{login}`) — or not exist, which \
         registries answer the same way"
    )]
    NoCredentials {
        what: String,
        host: String,
        status: u16,
        message: String,
        login: String,
    },
    #[error(
        "{what}: {host} denied it ({message}): the credentials were accepted but do not allow \
         this on this repository (or it does not exist). Check the account's permissions, or \
         log in as another user with `{login}`"
    )]
    Denied {
        what: String,
        host: String,
        message: String,
        login: String,
    },
    #[error(
        "{what}: {host} asks for your credentials to be sent to {target} over plain HTTP, where \
         anyone on the network can read them; gopack refused. If you trust that server, pass \
         --insecure-registry {target_host}"
    )]
    CleartextCredentials {
        what: String,
        host: String,
        /// The URL the credentials would have gone to.
        target: String,
        target_host: String,
    },
    #[error("{what}: cannot resolve the host `{host}`; check the name, and the network or DNS")]
    UnknownHost { what: String, host: String },
    #[error("{what}: cannot connect to {host} ({detail}). Is it running, and is the port right?")]
    Connect {
        what: String,
        host: String,
        detail: String,
    },
    #[error("{what}: the TLS connection to {host} failed ({detail}). {hint}")]
    Tls {
        what: String,
        host: String,
        detail: String,
        /// What to do about it, from the kind of failure.
        hint: String,
    },
    #[error(
        "{what}: {host} answers plain HTTP, not TLS. If that is expected, pass \
         --insecure-registry {host}"
    )]
    PlainHttp { what: String, host: String },
    #[error(
        "{what}: {host} serves HTTPS, but --insecure-registry {host} made gopack speak plain \
         HTTP to it. Drop --insecure-registry {host} (and pass --registry-ca FILE if its \
         certificate comes from a private CA)"
    )]
    ServesHttps { what: String, host: String },
    #[error("{what}: the connection to {host} failed ({detail})")]
    Transport {
        what: String,
        host: String,
        detail: String,
    },
    #[error(
        "{what}: the transfer from {host} did not finish within {} s, the time gopack allows \
         for its size; the registry or the network stalled",
        budget.as_secs()
    )]
    Deadline {
        what: String,
        host: String,
        budget: Duration,
    },
    #[error(
        "{what}: {host} sent a body larger than the {declared} bytes declared for it \
         ({detail}); the transfer was cut off and nothing was kept"
    )]
    TooLarge {
        what: String,
        host: String,
        declared: u64,
        detail: String,
    },
    #[error("{what}: {host} redirected to {target}, {why}")]
    Redirect {
        what: String,
        host: String,
        target: String,
        why: String,
    },
    #[error("{what}: gave up after {attempts} attempts in {:.1}s; last failure: {last}", elapsed.as_secs_f64())]
    GaveUp {
        what: String,
        attempts: u32,
        elapsed: Duration,
        last: Box<RegistryError>,
    },
    #[error(
        "{what}: the registry {host} answered with content whose digest is {actual}, not {expected}"
    )]
    DigestMismatch {
        what: String,
        host: String,
        expected: String,
        actual: String,
    },
    #[error("{what}: the registry {host} sent a response gopack cannot use: {detail}")]
    BadResponse {
        what: String,
        host: String,
        detail: String,
    },
    #[error("{what}: {reference} was not found in the registry ({message})")]
    NotFound {
        what: String,
        reference: String,
        message: String,
    },
    #[error("{0}")]
    Platform(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read the CA file {path}: {detail}")]
    CaFile {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialError),
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
