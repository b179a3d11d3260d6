//! Shared by the registry tests: a real `docker-registry` (CNCF distribution) started on
//! 127.0.0.1 with a temp config, a fault-injecting TCP proxy in front of it, test images built
//! with the `oci` API, and helpers to run gopack and skopeo.
#![allow(dead_code)]

pub mod hostile;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gopack::oci::{
    BlobStore, Compression, Descriptor, Digest, Image, ImageConfig, LayerEntry, LayerSpec,
    LayerWriter, Platform, RootFs, RuntimeConfig, index_for,
};
use gopack::registry::{RegistryOptions, RetryPolicy};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret-Pa55word-9f1c";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `docker-registry`; killed when dropped.
pub struct Registry {
    child: Child,
    pub port: u16,
    bind: String,
    pub dir: tempfile::TempDir,
    /// PEM of the CA that signed the server certificate (TLS registries only).
    pub ca_pem: Option<PathBuf>,
}

impl Registry {
    pub fn host(&self) -> String {
        format!("{}:{}", self.bind, self.port)
    }

    /// Plain HTTP, no auth.
    pub fn start_plain() -> Registry {
        Registry::start(false)
    }

    /// HTTPS with a certificate from a CA made here, and htpasswd basic auth for USER/PASSWORD.
    pub fn start_tls_auth() -> Registry {
        Registry::start(true)
    }

    fn start(tls: bool) -> Registry {
        Registry::start_in(tempfile::tempdir().unwrap(), tls, "", "127.0.0.1")
    }

    /// Plain HTTP, no auth, listening on `bind` (`127.0.0.1`, `[::1]`); `host()` then names it
    /// by that address.
    pub fn start_plain_on(bind: &str) -> Registry {
        Registry::start_in(tempfile::tempdir().unwrap(), false, "", bind)
    }

    /// The registry's access log so far (one line per request, as distribution writes it).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Plain HTTP with bearer-token auth by `token` (a token server started first).
    pub fn start_token_auth(token: &TokenServer) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("token-signer.pem");
        std::fs::write(&bundle, &token.cert_pem).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {TOKEN_SERVICE}\n    \
             issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            token.port,
            bundle.display()
        );
        Registry::start_in(dir, false, &auth, "127.0.0.1")
    }

    fn start_in(dir: tempfile::TempDir, tls: bool, extra: &str, bind: &str) -> Registry {
        let port = free_port();
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  \
             filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: \
             \"{bind}:{port}\"\n",
            storage.display()
        );
        let mut ca_pem = None;
        if tls {
            let (ca, cert, key) = make_certificates();
            let ca_path = dir.path().join("ca.pem");
            std::fs::write(&ca_path, ca).unwrap();
            std::fs::write(dir.path().join("server.pem"), cert).unwrap();
            std::fs::write(dir.path().join("server.key"), key).unwrap();
            let hash = bcrypt::hash_with_result(PASSWORD, 5)
                .unwrap()
                .format_for_version(bcrypt::Version::TwoY);
            std::fs::write(dir.path().join("htpasswd"), format!("{USER}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: \
                 gopack-test\n    path: {}\n",
                dir.path().join("server.pem").display(),
                dir.path().join("server.key").display(),
                dir.path().join("htpasswd").display()
            ));
            ca_pem = Some(ca_path);
        }
        config.push_str(extra);
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::from(
                std::fs::File::create(dir.path().join("access.log")).unwrap(),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("registry.log")).unwrap(),
            ))
            .spawn()
            .expect("docker-registry must be installed (apt-get install docker-registry)");
        let registry = Registry {
            child,
            port,
            bind: bind.to_string(),
            dir,
            ca_pem,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(registry.host()).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(registry.dir.path().join("registry.log"))
                    .unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Tags of `repo` as the registry lists them to skopeo (empty when the repository is
    /// unknown).
    pub fn tags(&self, repo: &str) -> Vec<String> {
        let mut cmd = Command::new("skopeo");
        cmd.args(["list-tags", "--tls-verify=false"]);
        if self.ca_pem.is_some() {
            cmd.args(["--creds", &format!("{USER}:{PASSWORD}")]);
        }
        let out = cmd
            .arg(format!("docker://{}/{repo}", self.host()))
            .output()
            .expect("skopeo must be installed");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("NAME_UNKNOWN") || err.contains("name unknown") || err.contains("404"),
                "skopeo list-tags failed: {err}"
            );
            return vec![];
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["Tags"]
            .as_array()
            .map(|a| a.iter().map(|t| t.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn make_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gopack test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// What the proxy does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Close the connection without answering.
    Reset,
    /// Answer with this status, a registry-style error body and extra header lines.
    Status(u16, &'static str),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with this body (well-formed, but not what was asked for).
    Body(&'static str),
    /// Say nothing for this long, then close the connection.
    Stall(Duration),
}

type Rule = dyn Fn(&str, &str) -> Option<Fault> + Send + Sync;

/// A TCP proxy between the client and the registry, one request per connection, that can
/// inject faults chosen by a rule over (method, path).
pub struct FaultProxy {
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(
        upstream: u16,
        rule: impl Fn(&str, &str) -> Option<Fault> + Send + Sync + 'static,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let rule: Arc<Rule> = Arc::new(rule);
        {
            let log = log.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let log = log.clone();
                            let rule = rule.clone();
                            thread::spawn(move || serve(conn, upstream, &*rule, &log));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        FaultProxy { port, log, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn entries(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut conn: TcpStream, upstream: u16, rule: &Rule, log: &Mutex<Vec<String>>) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut headers = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        headers.push(l.to_string());
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let fault = rule(&method, &path);
    log.lock().unwrap().push(format!(
        "{method} {path}{}",
        fault
            .as_ref()
            .map(|f| format!(" -> {f:?}"))
            .unwrap_or_default()
    ));
    match fault {
        Some(Fault::Reset) => {
            let _ = conn.shutdown(Shutdown::Both);
        }
        Some(Fault::Status(code, extra)) => {
            let body = r#"{"errors":[{"code":"INJECTED","message":"injected fault from the test proxy"}]}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                body.len()
            );
        }
        Some(Fault::Body(body)) => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Some(Fault::Stall(d)) => {
            thread::sleep(d);
            let _ = conn.shutdown(Shutdown::Both);
        }
        Some(Fault::Garbage) => {
            let body = "<html>this is { not json";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        None => {
            let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                return;
            };
            let mut out = format!("{request_line}\r\n");
            for h in &headers {
                out.push_str(h);
                out.push_str("\r\n");
            }
            out.push_str("Connection: close\r\n\r\n");
            if up.write_all(out.as_bytes()).is_err() || up.write_all(&body).is_err() {
                return;
            }
            let mut response = Vec::new();
            let _ = up.read_to_end(&mut response);
            let _ = conn.write_all(&response);
        }
    }
}

/// Options for a test client: retries fast and bounded.
pub fn test_options(insecure: &[String]) -> RegistryOptions {
    RegistryOptions {
        insecure_hosts: insecure.to_vec(),
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(300),
            max_total: Duration::from_secs(20),
        },
        credentials: gopack::registry::CredentialStore::from_files(vec![]),
        ..RegistryOptions::default()
    }
}

/// Deterministic bytes that gzip cannot shrink (so layer sizes are predictable).
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A test image per platform: a base layer shared by all, and an "app" layer of `app_size`
/// noise bytes that differs by `seed` and platform. With several platforms, also their index.
pub fn build_images(
    store: &BlobStore,
    seed: u64,
    platforms: &[&str],
    app_size: usize,
) -> (Vec<Image>, Option<(Vec<u8>, Digest)>) {
    let writer = LayerWriter::new(store, Compression::DEFAULT);
    let base = writer
        .write(
            &LayerSpec {
                entries: vec![
                    LayerEntry::file(
                        "etc/passwd",
                        b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n".to_vec(),
                        0o644,
                    ),
                    LayerEntry::dir("tmp", 0o1777, 0, 0),
                ],
                mtime: 0,
                description: "base files".into(),
            }
            .with_parent_dirs(),
        )
        .unwrap();
    let mut images = Vec::new();
    for (i, p) in platforms.iter().enumerate() {
        let platform: Platform = p.parse().unwrap();
        let app = writer
            .write(
                &LayerSpec {
                    entries: vec![LayerEntry::file(
                        "usr/local/bin/app",
                        noise(seed * 1000 + i as u64, app_size),
                        0o755,
                    )],
                    mtime: 0,
                    description: "app".into(),
                }
                .with_parent_dirs(),
            )
            .unwrap();
        let config = ImageConfig {
            created: Some("1970-01-01T00:00:00Z".into()),
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: platform.variant.clone(),
            config: RuntimeConfig {
                user: Some("65532:65532".into()),
                entrypoint: Some(vec!["/usr/local/bin/app".into()]),
                ..RuntimeConfig::default()
            },
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![base.diff_id.clone(), app.diff_id.clone()],
            },
            ..ImageConfig::default()
        };
        let layers = vec![Descriptor::of_layer(&base), Descriptor::of_layer(&app)];
        images.push(Image::assemble(store, platform, config, layers, BTreeMap::new()).unwrap());
    }
    let index = (images.len() > 1).then(|| {
        let (_, bytes, digest) = index_for(store, &images, BTreeMap::new()).unwrap();
        (bytes, digest)
    });
    (images, index)
}

pub fn gopack() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gopack"));
    c.env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("GOPACK_INSECURE_REGISTRY")
        .env_remove("GOPACK_REGISTRY_CA")
        .env("XDG_RUNTIME_DIR", "/nonexistent-gopack-test")
        .env("HOME", "/nonexistent-gopack-test");
    c
}

/// Runs a command with `stdin` fed in, bounded by the command's own behaviour.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo must be installed");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn digest_in_layout(dir: &Path) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

pub const TOKEN_SERVICE: &str = "gopack-test-registry";
pub const TOKEN_ISSUER: &str = "gopack-test-issuer";
pub const REFRESH_TOKEN: &str = "refresh-7f3a9c-identity";

/// A token server of the docker token protocol: checks USER/PASSWORD (GET with basic auth) or
/// REFRESH_TOKEN (POST, OAuth2 refresh_token grant) and answers with a JWT signed by a key whose
/// certificate the registry trusts, granting the scopes asked for. Counts the tokens it issued.
pub struct TokenServer {
    pub port: u16,
    pub cert_pem: String,
    pub issued: Arc<std::sync::atomic::AtomicUsize>,
    pub refused: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl TokenServer {
    pub fn start() -> TokenServer {
        use base64::Engine as _;
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["token-signer".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let issued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let server = TokenServer {
            port,
            cert_pem: cert.pem(),
            issued: issued.clone(),
            refused: refused.clone(),
            stop: stop.clone(),
        };
        let key = Arc::new(key);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let (head, body) = read_request(&mut conn);
                let line = head.lines().next().unwrap_or("").to_string();
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                let query = if line.starts_with("POST") {
                    body.clone()
                } else {
                    target
                        .split_once('?')
                        .map(|x| x.1.to_string())
                        .unwrap_or_default()
                };
                let params: Vec<(String, String)> = query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), percent_decode(v)))
                    .collect();
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
                let authorised = if line.starts_with("POST") {
                    get("grant_type").as_deref() == Some("refresh_token")
                        && get("refresh_token").as_deref() == Some(REFRESH_TOKEN)
                } else {
                    head.lines().any(|l| {
                        l.to_ascii_lowercase().starts_with("authorization:")
                            && l.trim_end().ends_with(&format!("Basic {basic}"))
                    })
                };
                if !authorised {
                    refused.fetch_add(1, Ordering::SeqCst);
                    let body = r#"{"details":"incorrect username or password"}"#;
                    let _ = write!(
                        conn,
                        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    continue;
                }
                let access: Vec<serde_json::Value> = params
                    .iter()
                    .filter(|(k, _)| k == "scope")
                    .filter_map(|(_, s)| {
                        let mut parts = s.splitn(3, ':');
                        let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                        Some(serde_json::json!({
                            "type": kind, "name": name,
                            "actions": actions.split(',').collect::<Vec<_>>(),
                        }))
                    })
                    .collect();
                let token = jwt(&key, &x5c, access);
                issued.fetch_add(1, Ordering::SeqCst);
                let body = serde_json::json!({"token": token, "expires_in": 300}).to_string();
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        server
    }
}

fn read_request(conn: &mut TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return (String::new(), String::new()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    (head, String::from_utf8_lossy(&body).to_string())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// An ES256 JWT with the signing certificate in `x5c`, as distribution's token auth verifies.
fn jwt(key: &rcgen::KeyPair, x5c: &str, access: Vec<serde_json::Value>) -> String {
    use base64::Engine as _;
    use rcgen::SigningKey as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER, "sub": USER, "aud": TOKEN_SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", access.len()), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let der = key.sign(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64(&ecdsa_der_to_raw(&der)))
}

/// ECDSA signature: ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` → 64-byte `r || s`.
fn ecdsa_der_to_raw(der: &[u8]) -> Vec<u8> {
    let mut i = 2; // SEQUENCE tag + length (< 128 for P-256)
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

/// Runs `cmd` (stdin closed) and returns its output, or `None` when it did not end within
/// `limit` (it is then killed).
pub fn output_within(mut cmd: Command, limit: Duration) -> Option<Output> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => Some(out.unwrap()),
        Err(_) => {
            // SAFETY: killing the child this test started, by its own id.
            unsafe {
                libc::kill(id as i32, libc::SIGKILL);
            }
            None
        }
    }
}

/// What a program printed on a terminal and how it ended.
pub struct TtyRun {
    pub code: Option<i32>,
    /// Everything written to the terminal: prompts, echoed input, messages.
    pub transcript: String,
}

/// Runs `cmd` on a new pseudo-terminal (Python's `pty` module), typing each answer after its
/// prompt appears; killed after `limit`.
pub fn run_on_tty(cmd: &Command, answers: &[(&str, &str)], limit: Duration) -> TtyRun {
    let mut argv = vec![cmd.get_program().to_string_lossy().to_string()];
    argv.extend(cmd.get_args().map(|a| a.to_string_lossy().to_string()));
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy().to_string();
        match v {
            Some(v) => {
                env.insert(k, v.to_string_lossy().to_string());
            }
            None => {
                env.remove(&k);
            }
        }
    }
    let spec = serde_json::json!({
        "argv": argv,
        "env": env,
        "answers": answers,
        "timeout": limit.as_secs_f64(),
    });
    const DRIVER: &str = r#"
import json, os, pty, select, signal, sys, time
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execve(spec["argv"][0], spec["argv"], spec["env"])
out, seen, answers = b"", 0, list(spec["answers"])
deadline = time.time() + spec["timeout"]
code = None
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        out += data
        if answers and answers[0][0].encode() in out[seen:]:
            seen = len(out)
            os.write(fd, (answers.pop(0)[1] + "\n").encode())
done, status = os.waitpid(pid, os.WNOHANG)
if done == 0:
    end = time.time() + 5
    while done == 0 and time.time() < end:
        time.sleep(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
if done != 0 and os.WIFEXITED(status):
    code = os.WEXITSTATUS(status)
print(json.dumps({"code": code, "transcript": out.decode("utf-8", "replace")}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(spec.to_string())
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "pty driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    TtyRun {
        code: v["code"].as_i64().map(|c| c as i32),
        transcript: v["transcript"].as_str().unwrap_or("").to_string(),
    }
}
