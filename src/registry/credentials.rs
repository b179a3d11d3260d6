//! Credentials from docker/podman config files (`auths`, `credHelpers`, `credsStore`) and from
//! credential helpers (the docker credential-helper protocol: `docker-credential-NAME
//! get|store|erase`, server URL on standard input, JSON on standard output).
//!
//! Secrets never reach `Debug`, `Display`, error text or warnings: a config file is parsed
//! without quoting its values, a helper's output is never shown, and a malformed entry is
//! skipped with a warning that names only its registry key.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::reference::DOCKER_HUB;
use crate::text::printable;

/// How long a credential helper may take before it is stopped, unless
/// `GOPACK_CREDENTIAL_HELPER_TIMEOUT` (whole seconds) says otherwise.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Most bytes read from a helper's standard output (an answer is a few hundred bytes).
const MAX_HELPER_OUTPUT: u64 = 64 << 10;

/// Largest config file read (docker's are a few KiB).
const MAX_CONFIG_FILE: u64 = 4 << 20;

/// What a registry is logged in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token), sent as HTTP basic auth or to a
    /// token server.
    Basic {
        /// The account's user name.
        username: String,
        /// The password or access token; never printed (see the `Debug` impl).
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
    /// The `Authorization` value for HTTP basic auth (`Basic base64(user:password)`); `None`
    /// for an identity token, which only a token server takes.
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

/// A failure to read credentials. Messages name files, keys and helpers, never values.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// A config file could not be read or parsed (an entry's `auth` included).
    #[error("cannot read the credentials file {path}: {reason}")]
    File {
        /// The config file (e.g. `~/.docker/config.json`).
        path: PathBuf,
        /// What is wrong with it, without any secret value.
        reason: String,
    },
    #[error(
        "credential helper `docker-credential-{helper}` failed for {registry}: {reason}. Check \
         that it is installed and on PATH, or remove it from the config file"
    )]
    /// A credential helper could not be started or gave an answer that is not its JSON.
    Helper {
        /// The helper's suffix: `pass` for `docker-credential-pass`.
        helper: String,
        /// The registry asked about, as written in the config file.
        registry: String,
        /// What went wrong, without the helper's output.
        reason: String,
    },
    #[error(
        "credential helper `docker-credential-{helper}` failed for {registry}: it {}; its \
         output is not shown, as it may hold secrets. To see why, run `echo {} | \
         docker-credential-{helper} {verb}`, or remove the helper from the config file",
        describe_exit(status),
        config_key(registry)
    )]
    /// A credential helper exited with a failure status.
    HelperExit {
        /// The helper's suffix: `pass` for `docker-credential-pass`.
        helper: String,
        /// The registry asked about, as written in the config file.
        registry: String,
        /// How it exited.
        status: ExitStatus,
        /// The helper protocol verb that failed: `get`, `store` or `erase`.
        verb: &'static str,
    },
    #[error(
        "credential helper `docker-credential-{helper}` did not answer within {} s for \
         {registry} and was stopped. If it waits for you (an unlock or 2FA prompt), answer it \
         and try again, or allow more time with GOPACK_CREDENTIAL_HELPER_TIMEOUT=SECONDS \
         (default {})",
        timeout.as_secs(), DEFAULT_HELPER_TIMEOUT.as_secs()
    )]
    /// A credential helper ran longer than allowed and was stopped.
    HelperTimeout {
        /// The helper's suffix: `pass` for `docker-credential-pass`.
        helper: String,
        /// The registry asked about, as written in the config file.
        registry: String,
        /// The time it was given (`GOPACK_CREDENTIAL_HELPER_TIMEOUT`).
        timeout: Duration,
    },
}

/// Where credentials are looked up: config files in order (the first one with an entry for a
/// registry wins), with their `auths`, `credHelpers` and `credsStore`.
#[derive(Clone, Debug)]
pub struct CredentialStore {
    /// Docker-format config files (`config.json`), in lookup order.
    pub files: Vec<PathBuf>,
    /// How long a credential helper may run before it is stopped.
    pub helper_timeout: Duration,
}

impl Default for CredentialStore {
    fn default() -> Self {
        CredentialStore {
            files: Vec::new(),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }
}

fn env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl CredentialStore {
    /// The files docker, podman and skopeo read, in the order they give them priority:
    /// `REGISTRY_AUTH_FILE`, `$DOCKER_CONFIG/config.json`, podman's `auth.json`
    /// (`$XDG_RUNTIME_DIR/containers`, `~/.config/containers`), then `~/.docker/config.json`;
    /// the helper timeout from `GOPACK_CREDENTIAL_HELPER_TIMEOUT` (seconds).
    pub fn from_env() -> CredentialStore {
        let mut files = Vec::new();
        if let Some(f) = env_path("REGISTRY_AUTH_FILE") {
            files.push(f);
        }
        let docker = env_path("DOCKER_CONFIG");
        if let Some(d) = &docker {
            files.push(d.join("config.json"));
        }
        if let Some(d) = env_path("XDG_RUNTIME_DIR") {
            files.push(d.join("containers/auth.json"));
        }
        if let Some(h) = dirs::home_dir() {
            files.push(h.join(".config/containers/auth.json"));
            if docker.is_none() {
                files.push(h.join(".docker/config.json"));
            }
        }
        let helper_timeout = std::env::var("GOPACK_CREDENTIAL_HELPER_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(DEFAULT_HELPER_TIMEOUT, Duration::from_secs);
        CredentialStore {
            files,
            helper_timeout,
        }
    }

    /// A store reading exactly these files, with the default helper timeout.
    pub fn from_files(files: Vec<PathBuf>) -> CredentialStore {
        CredentialStore {
            files,
            ..CredentialStore::default()
        }
    }

    /// The file `gopack login` writes: `REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json` (docker's own choice).
    pub fn login_file() -> PathBuf {
        if let Some(f) = env_path("REGISTRY_AUTH_FILE") {
            return f;
        }
        if let Some(d) = env_path("DOCKER_CONFIG") {
            return d.join("config.json");
        }
        dirs::home_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".docker/config.json")
    }

    /// Credentials for `registry` (as written in references, e.g. `docker.io`,
    /// `localhost:5000`), or `None` for anonymous access. Malformed entries are skipped with a
    /// warning on standard error; only an unreadable or non-JSON file is an error.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credential>, CredentialError> {
        for path in &self.files {
            let Some(config) = read_config(path)? else {
                continue;
            };
            for w in &config.warnings {
                warn_once(&format!("{}: {w}", path.display()));
            }
            if let Some(helper) = config.helper_for(registry) {
                return run_helper_get(helper, registry, self.helper_timeout);
            }
            if let Some(found) = config.auths_for(registry) {
                return Ok(Some(found));
            }
            if let Some(store) = &config.creds_store {
                return run_helper_get(store, registry, self.helper_timeout);
            }
        }
        Ok(None)
    }
}

/// Reads and parses one config file; `None` when it does not exist or is empty.
fn read_config(path: &Path) -> Result<Option<ConfigFile>, CredentialError> {
    let file_error = |reason: String| CredentialError::File {
        path: path.to_path_buf(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_error(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_FILE {
        return Err(file_error(format!(
            "it is larger than {} MiB, which no docker config file is",
            MAX_CONFIG_FILE >> 20
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse_config(&bytes).map(Some).map_err(file_error)
}

/// One docker/podman config file, parsed leniently: entries that are malformed are left out,
/// each with a warning naming only its key.
#[derive(Clone, Debug, Default)]
pub struct ConfigFile {
    /// `auths` entries that hold a usable credential, by key as written.
    pub auths: BTreeMap<String, Credential>,
    /// `auths` keys present without a credential (e.g. `{}` left by a credential store).
    pub empty_auths: Vec<String>,
    /// `credHelpers`: registry key → helper name.
    pub cred_helpers: BTreeMap<String, String>,
    /// `credsStore`: the helper for every registry without a `credHelpers` entry.
    pub creds_store: Option<String>,
    /// What was skipped, and why; never a value.
    pub warnings: Vec<String>,
}

/// Parses a docker/podman config file (`auths`, `credHelpers`, `credsStore`; other keys are
/// ignored). The only errors are that the text is not JSON (with its position, never its
/// content) or not an object; every other defect skips the entry it is in, with a warning.
pub fn parse_config(bytes: &[u8]) -> Result<ConfigFile, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "it is not valid JSON (line {}, column {}); fix it or move it away",
            e.line(),
            e.column()
        )
    })?;
    let serde_json::Value::Object(top) = value else {
        return Err("it is not a JSON object, as a docker config file is".into());
    };
    let mut config = ConfigFile::default();
    let shown = |k: &str| printable(k, 120);
    match top.get("auths") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(auths)) => {
            for (key, entry) in auths {
                match auth_entry(entry) {
                    Ok(Some(c)) => {
                        config.auths.insert(key.clone(), c);
                    }
                    Ok(None) => config.empty_auths.push(key.clone()),
                    Err(why) => config.warnings.push(format!(
                        "skipped the `auths` entry for `{}`: {why}",
                        shown(key)
                    )),
                }
            }
        }
        Some(_) => config
            .warnings
            .push("skipped `auths`: it is not an object".into()),
    }
    match top.get("credHelpers") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(helpers)) => {
            for (key, helper) in helpers {
                match helper.as_str().filter(|h| valid_helper_name(h)) {
                    Some(h) => {
                        config.cred_helpers.insert(key.clone(), h.to_string());
                    }
                    None => config.warnings.push(format!(
                        "skipped the `credHelpers` entry for `{}`: it is not a helper name",
                        shown(key)
                    )),
                }
            }
        }
        Some(_) => config
            .warnings
            .push("skipped `credHelpers`: it is not an object".into()),
    }
    match top.get("credsStore") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(s)) if s.is_empty() => {}
        Some(serde_json::Value::String(s)) if valid_helper_name(s) => {
            config.creds_store = Some(s.clone())
        }
        Some(_) => config
            .warnings
            .push("skipped `credsStore`: it is not a helper name".into()),
    }
    Ok(config)
}

/// A helper name becomes part of a program name: letters, digits, `-`, `_`, `.` only.
fn valid_helper_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The credential in one `auths` entry; `None` when it holds none. The error says what is
/// wrong without quoting any value.
fn auth_entry(entry: &serde_json::Value) -> Result<Option<Credential>, &'static str> {
    let serde_json::Value::Object(fields) = entry else {
        return Err("it is not an object");
    };
    let text = |name: &str| -> Result<Option<&str>, &'static str> {
        match fields.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
            Some(_) => Err("one of its fields is not a string"),
        }
    };
    if let Some(token) = text("identitytoken")? {
        return Ok(Some(Credential::IdentityToken(token.to_string())));
    }
    if let Some(auth) = text("auth")? {
        let decoded = BASE64
            .decode(auth.trim())
            .map_err(|_| "its `auth` is not base64")?;
        let decoded = String::from_utf8(decoded).map_err(|_| "its `auth` is not UTF-8 text")?;
        let (u, p) = decoded
            .split_once(':')
            .ok_or("its `auth` is not of the form user:password")?;
        return Ok(Some(Credential::Basic {
            username: u.into(),
            password: p.into(),
        }));
    }
    match (text("username")?, text("password")?) {
        (Some(u), Some(p)) => Ok(Some(Credential::Basic {
            username: u.into(),
            password: p.into(),
        })),
        _ => Ok(None),
    }
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

/// The registry a config key names: scheme and path dropped, Docker Hub's aliases unified.
pub fn key_registry(key: &str) -> &str {
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
    /// The helper named for `registry` in `credHelpers`.
    pub fn helper_for(&self, registry: &str) -> Option<&str> {
        self.cred_helpers
            .iter()
            .find(|(k, _)| key_registry(k) == registry)
            .map(|(_, v)| v.as_str())
    }

    /// The credential stored for `registry` in `auths`.
    pub fn auths_for(&self, registry: &str) -> Option<Credential> {
        self.auths
            .iter()
            .find(|(k, _)| key_registry(k) == registry)
            .map(|(_, c)| c.clone())
    }
}

/// Prints `warning: MESSAGE` on standard error, once per process for the same message.
fn warn_once(message: &str) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Mutex::default);
    if seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(message.to_string())
    {
        eprintln!("warning: {message}");
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperOutput {
    username: String,
    secret: String,
}

/// What a helper run ended with: its exit status and (bounded) standard output.
struct HelperRun {
    status: ExitStatus,
    stdout: Vec<u8>,
}

/// Runs `docker-credential-HELPER VERB` with `input` on its standard input, in its own
/// process group, for at most `timeout` (then the whole group is killed). Its standard error
/// is discarded and its output returned, never shown.
fn run_helper(
    helper: &str,
    verb: &str,
    input: &[u8],
    registry: &str,
    timeout: Duration,
) -> Result<HelperRun, CredentialError> {
    use std::os::unix::process::CommandExt as _;
    let fail = |reason: String| CredentialError::Helper {
        helper: helper.into(),
        registry: registry.into(),
        reason,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| fail(format!("cannot start it ({e})")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // On a thread of its own with SIGPIPE blocked: a helper that exits without reading
        // must not kill gopack (whose SIGPIPE action is the default). A signal left pending
        // on the thread is discarded when it ends.
        let input = input.to_vec();
        std::thread::spawn(move || {
            // SAFETY: an empty set plus SIGPIPE, blocked for this thread only.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGPIPE);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_HELPER_OUTPUT).read_to_end(&mut out);
        }
        let _ = tx.send(out);
    });
    match wait_for(&mut child, &rx, timeout) {
        Ok(Some(run)) => Ok(run),
        Ok(None) => Err(CredentialError::HelperTimeout {
            helper: helper.into(),
            registry: registry.into(),
            timeout,
        }),
        Err(e) => Err(fail(format!("cannot run it ({e})"))),
    }
}

/// Waits for a helper to exit and for its output (sent on `output` by the reading thread),
/// for at most `timeout` in all; `None` when that is not enough, after killing its process
/// group.
fn wait_for(
    child: &mut std::process::Child,
    output: &std::sync::mpsc::Receiver<Vec<u8>>,
    timeout: Duration,
) -> std::io::Result<Option<HelperRun>> {
    // SAFETY (kill): signalling the process group `run_helper` created; its id is the
    // child's, which stays reserved while the child is unreaped or the group has members.
    let kill_group = |pid: u32| unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait()? {
            Some(status) => break status,
            None if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
            None => {
                kill_group(child.id());
                let _ = child.wait();
                return Ok(None);
            }
        }
    };
    // A helper may exit and leave something in its group holding the pipe open.
    match output.recv_timeout(timeout.saturating_sub(started.elapsed())) {
        Ok(stdout) => Ok(Some(HelperRun { status, stdout })),
        Err(_) => {
            kill_group(child.id());
            Ok(None)
        }
    }
}

/// "exited with status 3", "was killed by signal 9".
fn describe_exit(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => format!("ended with {status}"),
    }
}

fn exit_error(
    helper: &str,
    registry: &str,
    verb: &'static str,
    status: ExitStatus,
) -> CredentialError {
    CredentialError::HelperExit {
        helper: helper.into(),
        registry: registry.into(),
        status,
        verb,
    }
}

fn run_helper_get(
    helper: &str,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Credential>, CredentialError> {
    let server_url = config_key(registry);
    let out = run_helper(helper, "get", server_url.as_bytes(), registry, timeout)?;
    if !out.status.success() {
        if String::from_utf8_lossy(&out.stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(exit_error(helper, registry, "get", out.status));
    }
    let parsed: HelperOutput =
        serde_json::from_slice(&out.stdout).map_err(|_| CredentialError::Helper {
            helper: helper.into(),
            registry: registry.into(),
            reason: "it printed something that is not the expected JSON \
                     ({\"Username\":…,\"Secret\":…}; not shown)"
                .into(),
        })?;
    if parsed.username == "<token>" {
        Ok(Some(Credential::IdentityToken(parsed.secret)))
    } else {
        Ok(Some(Credential::Basic {
            username: parsed.username,
            password: parsed.secret,
        }))
    }
}

/// The helper a config file (as JSON) names for `registry`: its `credHelpers` entry, else
/// `credsStore`.
pub fn helper_in(config: &serde_json::Value, registry: &str) -> Option<String> {
    config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| h.iter().find(|(k, _)| key_registry(k) == registry))
        .and_then(|(_, v)| v.as_str())
        .or_else(|| config.get("credsStore").and_then(|s| s.as_str()))
        .filter(|s| valid_helper_name(s))
        .map(str::to_string)
}

/// Stores `username`/`password` with the helper named in the config (`credHelpers`/
/// `credsStore`), as `docker login` does. Returns false when the config names no helper.
pub fn store_with_helper(
    config: &serde_json::Value,
    registry: &str,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<bool, CredentialError> {
    let Some(helper) = helper_in(config, registry) else {
        return Ok(false);
    };
    let payload = serde_json::json!({
        "ServerURL": config_key(registry),
        "Username": username,
        "Secret": password,
    });
    let out = run_helper(
        &helper,
        "store",
        payload.to_string().as_bytes(),
        registry,
        timeout,
    )?;
    if !out.status.success() {
        return Err(exit_error(&helper, registry, "store", out.status));
    }
    Ok(true)
}

/// Erases the credentials of `registry` from the helper the config names, as `docker logout`
/// does. Returns false when the config names no helper; a helper that holds nothing for the
/// registry is not an error.
pub fn erase_with_helper(
    config: &serde_json::Value,
    registry: &str,
    timeout: Duration,
) -> Result<bool, CredentialError> {
    let Some(helper) = helper_in(config, registry) else {
        return Ok(false);
    };
    let server_url = config_key(registry);
    let out = run_helper(&helper, "erase", server_url.as_bytes(), registry, timeout)?;
    if !out.status.success()
        && !String::from_utf8_lossy(&out.stdout).contains("credentials not found")
    {
        return Err(exit_error(&helper, registry, "erase", out.status));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_debug() {
        let c = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("tok-9".into())).contains("tok-9"));
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

    #[test]
    fn bad_entries_are_skipped_and_never_quoted() {
        let good = BASE64.encode("bob:pw-good");
        let text = format!(
            r#"{{"auths":{{"a.example":"SECRET-1","b.example":{{"auth":"SECRET-2!"}},"c.example":{{"auth":7}},"d.example":{{"auth":"{}"}},"ok.example":{{"auth":"{good}"}},"e.example":{{}}}},"credHelpers":{{"h.example":"../../bin/sh","i.example":["SECRET-3"]}},"credsStore":{{"x":"SECRET-4"}}}}"#,
            BASE64.encode("no-colon-SECRET-5")
        );
        let config = parse_config(text.as_bytes()).unwrap();
        assert_eq!(config.auths.len(), 1, "{config:?}");
        assert_eq!(config.empty_auths, ["e.example"]);
        assert!(config.cred_helpers.is_empty() && config.creds_store.is_none());
        let warnings = config.warnings.join("\n");
        for key in [
            "a.example",
            "b.example",
            "c.example",
            "d.example",
            "h.example",
            "i.example",
            "credsStore",
        ] {
            assert!(warnings.contains(key), "{key}: {warnings}");
        }
        assert!(!warnings.contains("SECRET"), "{warnings}");
        assert!(!warnings.contains(&BASE64.encode("no-colon-SECRET-5")));
    }

    #[test]
    fn syntax_errors_give_a_position_not_the_text() {
        let err = parse_config(br#"{"auths":{"h":{"auth":"SECRET-6"#).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        assert!(
            parse_config(b"[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
    }
}
