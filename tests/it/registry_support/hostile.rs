//! A scriptable HTTP(S) server on 127.0.0.1 for registries that misbehave on purpose: every
//! request is logged with its headers, and a handler chooses the answer — a normal response, a
//! redirect, a body trickled one byte at a time, or a body far longer than announced. Each
//! connection serves one request; every loop stops when the server is dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// The answer to one request.
pub enum Reply {
    /// Status, extra headers and a body (Content-Length set from it).
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// Headers with `Content-Length` of the whole body, then the body one byte per `interval`.
    Trickle(Vec<(String, String)>, Vec<u8>, Duration),
    /// 200 with `content_length` announced (or none: close-delimited), then `total` bytes of
    /// filler, as fast as the client takes them.
    Flood {
        content_length: Option<u64>,
        total: u64,
    },
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full(200, vec![], body.into())
    }

    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            body.into(),
        )
    }

    pub fn status(status: u16) -> Reply {
        Reply::Full(status, vec![], vec![])
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Full(status, vec![("Location".into(), location.into())], vec![])
    }

    /// 401 with this `WWW-Authenticate` challenge.
    pub fn challenge(value: &str) -> Reply {
        Reply::Full(
            401,
            vec![
                ("WWW-Authenticate".into(), value.into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.to_vec(),
        )
    }
}

/// A certificate for 127.0.0.1 and localhost and the CA that signed it (PEM file for
/// `--registry-ca`).
pub struct TlsIdentity {
    pub ca_pem: PathBuf,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TlsIdentity {
    /// A new CA and server certificate; the CA's PEM is written into `dir`.
    pub fn new(dir: &Path) -> TlsIdentity {
        TlsIdentity::for_names(dir, &["127.0.0.1", "localhost"])
    }

    /// A new CA and a server certificate for exactly these names.
    pub fn for_names(dir: &Path, names: &[&str]) -> TlsIdentity {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "gopack hostile test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let ca_pem = dir.join(format!("ca-{}.pem", crate::registry_support::free_port()));
        std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
        TlsIdentity {
            ca_pem,
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(self.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
            )
            .unwrap();
        Arc::new(config)
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The server; stops accepting and cuts trickles and floods when dropped.
pub struct HostileServer {
    pub port: u16,
    pub tls: bool,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl HostileServer {
    pub fn plain(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> HostileServer {
        HostileServer::start(None, Arc::new(handler))
    }

    pub fn tls(
        identity: &TlsIdentity,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> HostileServer {
        HostileServer::start(Some(identity.server_config()), Arc::new(handler))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let server = HostileServer {
            port,
            tls: tls.is_some(),
            log: log.clone(),
            stop: stop.clone(),
        };
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok((conn, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (log, stop, handler, tls) =
                    (log.clone(), stop.clone(), handler.clone(), tls.clone());
                thread::spawn(move || {
                    conn.set_nonblocking(false).unwrap();
                    conn.set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    conn.set_write_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    match tls {
                        Some(config) => {
                            let Ok(session) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let mut stream = rustls::StreamOwned::new(session, conn);
                            serve(&mut stream, &*handler, &log, &stop);
                            stream.conn.send_close_notify();
                            let _ = stream.flush();
                        }
                        None => {
                            let mut conn = conn;
                            serve(&mut conn, &*handler, &log, &stop);
                            let _ = conn.shutdown(Shutdown::Both);
                        }
                    }
                });
            }
        });
        server
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `localhost:PORT`: the same server under another host name.
    pub fn localhost(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `http(s)://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Whether any request carried an `Authorization` header.
    pub fn saw_authorization(&self) -> bool {
        self.requests()
            .iter()
            .any(|r| r.header("authorization").is_some())
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    conn: &mut (impl Read + Write),
    handler: &Handler,
    log: &Mutex<Vec<Request>>,
    stop: &AtomicBool,
) {
    let Some(request) = read_request(conn) else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    let reason = |s: u16| match s {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Whatever",
    };
    let head = |status: u16, headers: &[(String, String)], length: Option<u64>| {
        let mut h = format!(
            "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
            reason(status)
        );
        for (k, v) in headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(n) = length {
            h.push_str(&format!("Content-Length: {n}\r\n"));
        }
        h.push_str("\r\n");
        h
    };
    match handler(&request) {
        Reply::Full(status, headers, body) => {
            let length =
                (request.method != "HEAD" || !body.is_empty()).then_some(body.len() as u64);
            let _ = conn.write_all(head(status, &headers, length).as_bytes());
            if request.method != "HEAD" {
                let _ = conn.write_all(&body);
            }
            let _ = conn.flush();
        }
        Reply::Trickle(headers, body, interval) => {
            let _ = conn.write_all(head(200, &headers, Some(body.len() as u64)).as_bytes());
            let _ = conn.flush();
            for b in body {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                thread::sleep(interval);
                if conn.write_all(&[b]).is_err() || conn.flush().is_err() {
                    return;
                }
            }
        }
        Reply::Flood {
            content_length,
            total,
        } => {
            let _ = conn.write_all(head(200, &[], content_length).as_bytes());
            let chunk = vec![b'x'; 64 << 10];
            let mut sent = 0u64;
            while sent < total && !stop.load(Ordering::Relaxed) {
                let n = chunk.len().min((total - sent) as usize);
                if conn.write_all(&chunk[..n]).is_err() {
                    return;
                }
                sent += n as u64;
            }
            let _ = conn.flush();
        }
    }
}

fn read_request(conn: &mut impl Read) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(64 << 20);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// A small valid single-platform image served by a fake registry under repository `repo`:
/// its manifest (at `/v2/REPO/manifests/v1` and by digest) and its blobs.
pub struct FakeImage {
    pub repo: String,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    /// (digest, bytes) of the config and the layers.
    pub blobs: Vec<(String, Vec<u8>)>,
}

impl FakeImage {
    pub fn new(repo: &str, seed: u64) -> FakeImage {
        let dir = tempfile::tempdir().unwrap();
        let store = gopack::oci::BlobStore::open(dir.path()).unwrap();
        let (images, _) =
            crate::registry_support::build_images(&store, seed, &["linux/amd64"], 3000);
        let image = &images[0];
        let blobs = std::iter::once(&image.manifest.config)
            .chain(&image.manifest.layers)
            .map(|d| (d.digest.to_string(), store.read_blob(&d.digest).unwrap()))
            .collect();
        FakeImage {
            repo: repo.into(),
            manifest: image.manifest_bytes.clone(),
            manifest_digest: image.manifest_digest.to_string(),
            blobs,
        }
    }

    /// The largest layer's digest (the one tests misbehave on).
    pub fn layer_digest(&self) -> &str {
        &self.blobs.last().unwrap().0
    }

    /// The answer a well-behaved registry gives to `request`, if it is about this image.
    pub fn answer(&self, request: &Request) -> Option<Reply> {
        let path = request.path();
        if path == "/v2/" {
            return Some(Reply::json(200, "{}"));
        }
        let rest = path.strip_prefix(&format!("/v2/{}/", self.repo))?;
        if let Some(target) = rest.strip_prefix("manifests/") {
            if target == "v1" || target == self.manifest_digest {
                return Some(Reply::Full(
                    200,
                    vec![
                        (
                            "Content-Type".into(),
                            "application/vnd.oci.image.manifest.v1+json".into(),
                        ),
                        ("Docker-Content-Digest".into(), self.manifest_digest.clone()),
                    ],
                    self.manifest.clone(),
                ));
            }
            return Some(Reply::json(
                404,
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
            ));
        }
        let digest = rest.strip_prefix("blobs/")?;
        let (_, bytes) = self.blobs.iter().find(|(d, _)| d == digest)?;
        Some(Reply::ok(bytes.clone()))
    }
}
