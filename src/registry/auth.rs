//! Credentials (docker/podman config files and credential helpers) and the registry's
//! `WWW-Authenticate` challenges. Secrets never reach `Debug`, `Display` or error text.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::reference::DOCKER_HUB;

/// What a registry is logged in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken` in config.json), exchanged for bearer tokens.
    IdentityToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credential::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credential {
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                BASE64.encode(format!("{username}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read the credentials file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error(
        "credential helper `docker-credential-{helper}` failed for {registry}: {reason}. Check that \
         it is installed and on PATH, or remove it from the config file"
    )]
    Helper {
        helper: String,
        registry: String,
        reason: String,
    },
}

/// Where credentials are looked up: config files in order (the first one with an entry for a
/// registry wins), with their `auths`, `credHelpers` and `credsStore`.
#[derive(Clone, Debug, Default)]
pub struct CredentialStore {
    pub files: Vec<PathBuf>,
}

impl CredentialStore {
    /// The files docker, podman and skopeo read, in the order they give them priority:
    /// `REGISTRY_AUTH_FILE`, `$DOCKER_CONFIG/config.json`, podman's `auth.json`
    /// (`$XDG_RUNTIME_DIR/containers`, `~/.config/containers`), then `~/.docker/config.json`.
    pub fn from_env() -> CredentialStore {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let mut files = Vec::new();
        if let Some(f) = var("REGISTRY_AUTH_FILE") {
            files.push(f);
        }
        let docker = var("DOCKER_CONFIG");
        if let Some(d) = &docker {
            files.push(d.join("config.json"));
        }
        if let Some(d) = var("XDG_RUNTIME_DIR") {
            files.push(d.join("containers/auth.json"));
        }
        if let Some(h) = dirs::home_dir() {
            files.push(h.join(".config/containers/auth.json"));
            if docker.is_none() {
                files.push(h.join(".docker/config.json"));
            }
        }
        CredentialStore { files }
    }

    pub fn from_files(files: Vec<PathBuf>) -> CredentialStore {
        CredentialStore { files }
    }

    /// The file `gopack login` writes: `REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json` (docker's own choice).
    pub fn login_file() -> PathBuf {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(f) = var("REGISTRY_AUTH_FILE") {
            return f;
        }
        if let Some(d) = var("DOCKER_CONFIG") {
            return d.join("config.json");
        }
        dirs::home_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".docker/config.json")
    }

    /// Credentials for `registry` (as written in references, e.g. `docker.io`,
    /// `localhost:5000`), or `None` for anonymous access.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credential>, CredentialError> {
        for path in &self.files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(CredentialError::File {
                        path: path.clone(),
                        reason: e.to_string(),
                    });
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let config: ConfigFile =
                serde_json::from_str(&text).map_err(|e| CredentialError::File {
                    path: path.clone(),
                    reason: format!("it is not a docker config file ({e})"),
                })?;
            if let Some(found) = config.lookup(registry, path)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The keys a registry may be stored under (`https://index.docker.io/v1/` for Docker Hub, with
/// or without scheme and path for others).
pub fn config_key(registry: &str) -> String {
    if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".into()
    } else {
        registry.into()
    }
}

fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
        h => h,
    }
}

impl ConfigFile {
    fn lookup(&self, registry: &str, path: &Path) -> Result<Option<Credential>, CredentialError> {
        let helper = self
            .cred_helpers
            .iter()
            .find(|(k, _)| key_host(k) == registry)
            .map(|(_, v)| v);
        if let Some(helper) = helper {
            return run_helper_get(helper, registry);
        }
        if let Some((_, entry)) = self.auths.iter().find(|(k, _)| key_host(k) == registry) {
            if let Some(t) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
                return Ok(Some(Credential::IdentityToken(t.clone())));
            }
            if let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) {
                let bad = |why: &str| CredentialError::File {
                    path: path.to_path_buf(),
                    reason: format!("the `auth` entry for {registry} {why}"),
                };
                let decoded = BASE64
                    .decode(auth.trim())
                    .map_err(|_| bad("is not base64"))?;
                let decoded = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8"))?;
                let (u, p) = decoded
                    .split_once(':')
                    .ok_or_else(|| bad("is not `user:password`"))?;
                return Ok(Some(Credential::Basic {
                    username: u.into(),
                    password: p.into(),
                }));
            }
            if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
                return Ok(Some(Credential::Basic {
                    username: u.clone(),
                    password: p.clone(),
                }));
            }
        }
        if let Some(store) = self.creds_store.as_ref().filter(|s| !s.is_empty()) {
            return run_helper_get(store, registry);
        }
        Ok(None)
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperOutput {
    username: String,
    secret: String,
}

/// Runs `docker-credential-HELPER VERB` with `input` on its standard input (the docker
/// credential-helper protocol) and returns what it printed.
fn run_helper(
    helper: &str,
    verb: &str,
    input: &[u8],
    fail: &dyn Fn(String) -> CredentialError,
) -> Result<std::process::Output, CredentialError> {
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start it ({e})")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot run it ({e})")))
}

fn run_helper_get(helper: &str, registry: &str) -> Result<Option<Credential>, CredentialError> {
    let fail = |reason: String| CredentialError::Helper {
        helper: helper.into(),
        registry: registry.into(),
        reason,
    };
    let out = run_helper(helper, "get", config_key(registry).as_bytes(), &fail)?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout);
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        // The helper's own message; it never contains the secret it failed to find.
        return Err(fail(format!(
            "it exited with {} ({})",
            out.status,
            msg.trim()
        )));
    }
    let parsed: HelperOutput = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail("it printed something that is not the expected JSON".into()))?;
    if parsed.username == "<token>" {
        Ok(Some(Credential::IdentityToken(parsed.secret)))
    } else {
        Ok(Some(Credential::Basic {
            username: parsed.username,
            password: parsed.secret,
        }))
    }
}

/// Stores `credential` with the helper named in the config (`credHelpers`/`credsStore`), used by
/// `gopack login` like `docker login` does. Returns false when the config names no helper.
pub fn store_with_helper(
    config: &serde_json::Value,
    registry: &str,
    username: &str,
    password: &str,
) -> Result<bool, CredentialError> {
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| h.iter().find(|(k, _)| key_host(k) == registry))
        .and_then(|(_, v)| v.as_str())
        .or_else(|| config.get("credsStore").and_then(|s| s.as_str()))
        .filter(|s| !s.is_empty());
    let Some(helper) = helper else {
        return Ok(false);
    };
    let fail = |reason: String| CredentialError::Helper {
        helper: helper.into(),
        registry: registry.into(),
        reason,
    };
    let payload = serde_json::json!({
        "ServerURL": config_key(registry),
        "Username": username,
        "Secret": password,
    });
    let out = run_helper(helper, "store", payload.to_string().as_bytes(), &fail)?;
    if !out.status.success() {
        return Err(fail(format!("`store` exited with {}", out.status)));
    }
    Ok(true)
}

/// One `WWW-Authenticate` challenge: its scheme (`bearer`, `basic`, lowercased) and parameters
/// (`realm`, `service`, `scope`; names lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses a `WWW-Authenticate` value (`Bearer realm="…",service="…",scope="…"`). Malformed
/// parameters are skipped rather than failing; returns `None` when there is no scheme.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(|c: char| c.is_whitespace()) {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() && chars.peek().is_none() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            // A token68 or junk: skip to the next comma.
            while chars.next().is_some_and(|c| c != ',') {}
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        if !name.is_empty() {
            params.insert(name.to_ascii_lowercase(), value);
        }
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// The answer of a token server (docker's `token`, OAuth2's `access_token`).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    pub fn parse(bytes: &[u8]) -> Option<(String, u64)> {
        let t: TokenResponse = serde_json::from_slice(bytes).ok()?;
        let token = t.token.or(t.access_token).filter(|t| !t.is_empty())?;
        Some((token, t.expires_in.unwrap_or(60).clamp(10, 3600)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["scope"], "repository:library/alpine:pull,push");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["realm"], "Registry Realm");
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let c = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn reads_auths_and_normalises_keys() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.json");
        let auth = BASE64.encode("alice:s3cret");
        std::fs::write(
            &f,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"localhost:5000":{{"identitytoken":"tok"}}}}}}"#
            ),
        )
        .unwrap();
        let store = CredentialStore::from_files(vec![dir.path().join("missing.json"), f]);
        assert_eq!(
            store.lookup("docker.io").unwrap(),
            Some(Credential::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            store.lookup("localhost:5000").unwrap(),
            Some(Credential::IdentityToken("tok".into()))
        );
        assert_eq!(store.lookup("ghcr.io").unwrap(), None);
    }
}
