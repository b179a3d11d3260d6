use std::time::Duration;

use crate::oci::StoreError;

use super::auth::CredentialError;

/// Everything that can go wrong talking to a registry. Messages say what was being done, the
/// registry's own words when it gave any, and what to try next; they never contain credentials.
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
        "{what}: {host} refused the credentials ({status}: {message}). Run `gopack login {host}` \
         with the right user and password, or check the entry in your docker config"
    )]
    Unauthorized {
        what: String,
        host: String,
        status: u16,
        message: String,
    },
    #[error("{what}: cannot resolve the host `{host}`; check the registry name in the reference")]
    UnknownHost { what: String, host: String },
    #[error(
        "{what}: cannot connect to {host} ({detail}). Is the registry running and the port right?"
    )]
    Connect {
        what: String,
        host: String,
        detail: String,
    },
    #[error(
        "{what}: the TLS connection to {host} failed ({detail}). If the registry uses a private \
         CA, pass --registry-ca FILE; if it serves plain HTTP, pass --insecure-registry {host}"
    )]
    Tls {
        what: String,
        host: String,
        detail: String,
    },
    #[error("{what}: the connection to {host} failed ({detail})")]
    Transport {
        what: String,
        host: String,
        detail: String,
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
    /// Whether trying again later may succeed (network trouble, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Status { status, .. } => *status == 429 || *status >= 500,
            RegistryError::Connect { .. } | RegistryError::Transport { .. } => true,
            _ => false,
        }
    }
}

/// The registry's own explanation from an error body (`{"errors":[{"code","message"}]}`), or a
/// short printable excerpt of whatever it sent.
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
        return e
            .errors
            .iter()
            .map(|i| match (&i.code, &i.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "(no message)".into(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "no explanation in the response".into()
    } else {
        text
    }
}
