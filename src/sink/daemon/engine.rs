//! The few Docker Engine API calls gopack makes (`GET /version`, `POST /images/load`, `GET
//! /images/NAME/get`), over the socket `DOCKER_HOST` names: `unix://PATH` (default
//! `unix:///var/run/docker.sock`) or plain `tcp://HOST:PORT`. Podman's Docker-compatible
//! service answers the same calls.
//!
//! HTTP/1.1 is spoken directly on the socket (request bodies chunked, response heads parsed by
//! `httparse`): ureq has no Unix-socket transport in its stable API, and these three calls need
//! nothing else. Every read and write has a timeout, every response a size bound, and writes
//! never raise SIGPIPE.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use crate::text::{printable, printable_bytes};

/// `DOCKER_HOST` when it is not set (Docker's own default).
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The oldest Engine API gopack speaks: `POST /images/load?quiet=1` with an OCI-layout-bearing
/// docker-archive works from 1.24 (Docker 1.12), the oldest version Docker 25+ still accepts.
pub const MIN_API_VERSION: ApiVersion = ApiVersion(1, 24);

/// How long connecting and each read or write of a short call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the daemon may stay silent while it loads an image (it reads the whole archive
/// before it answers).
const LOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Largest response head, bytes.
const MAX_HEAD: usize = 64 << 10;

/// Where the Docker Engine API listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerHost {
    /// `unix://PATH`.
    Unix(PathBuf),
    /// `tcp://HOST:PORT`, plain HTTP.
    Tcp(String),
}

impl fmt::Display for DockerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerHost::Unix(p) => write!(f, "unix://{}", p.display()),
            DockerHost::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

impl DockerHost {
    /// `DOCKER_HOST` (or the default), refusing what gopack cannot speak.
    pub fn from_env() -> Result<DockerHost, EngineError> {
        let value = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|v| !v.trim().is_empty());
        let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
        DockerHost::parse(value.as_deref().unwrap_or(DEFAULT_DOCKER_HOST), tls)
    }

    /// Parses a `DOCKER_HOST` value; `tls` says whether `DOCKER_TLS_VERIFY` asks for TLS.
    pub fn parse(text: &str, tls: bool) -> Result<DockerHost, EngineError> {
        let unsupported = |why: &str| {
            EngineError::Unsupported(format!(
                "DOCKER_HOST={}: {why}. Write --output docker-archive:FILE instead and load it \
                 with `docker load -i FILE`",
                printable(text, 200)
            ))
        };
        let text = text.trim();
        if let Some(path) = text.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(unsupported("a unix:// socket path must be absolute"));
            }
            return Ok(DockerHost::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("tcp://") {
            if tls {
                return Err(unsupported(
                    "DOCKER_TLS_VERIFY asks for TLS, which gopack does not speak to a daemon \
                     (it will not send the image in clear text instead)",
                ));
            }
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains('/') {
                return Err(unsupported("expected tcp://HOST:PORT"));
            }
            let with_port = if authority
                .rsplit_once(':')
                .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                authority.to_string()
            } else {
                format!("{authority}:2375")
            };
            return Ok(DockerHost::Tcp(with_port));
        }
        let scheme = text.split("://").next().unwrap_or(text);
        Err(unsupported(&format!(
            "gopack reaches a Docker daemon over unix:// or tcp:// only, not `{}`",
            printable(scheme, 40)
        )))
    }
}

/// An Engine API version, `MAJOR.MINOR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32, pub u32);

impl std::str::FromStr for ApiVersion {
    type Err = ();
    fn from_str(s: &str) -> Result<ApiVersion, ()> {
        let (a, b) = s.trim().split_once('.').ok_or(())?;
        Ok(ApiVersion(
            a.parse().map_err(drop)?,
            b.parse().map_err(drop)?,
        ))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Why a call to the daemon failed. Messages name the socket, say what the daemon said (made
/// printable) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The socket cannot be reached.
    #[error("cannot reach the Docker daemon at {host}: {error}{hint}")]
    Unreachable {
        /// The socket.
        host: DockerHost,
        /// What the system said.
        error: io::Error,
        /// What to do, starting with `. ` (or empty).
        hint: String,
    },
    /// `DOCKER_HOST` names something gopack does not speak.
    #[error("{0}")]
    Unsupported(String),
    /// The daemon's API is older than gopack needs.
    #[error(
        "the Docker daemon at {host} speaks Engine API {version}; gopack needs {MIN_API_VERSION} \
         or newer (Docker 1.12+, podman 2+). Upgrade it, or write --output \
         docker-archive:FILE and `docker load -i FILE`"
    )]
    TooOld {
        /// The socket.
        host: DockerHost,
        /// The version it reported.
        version: ApiVersion,
    },
    /// The daemon answered a call with an error status.
    #[error("{what}: the Docker daemon at {host} answered {status}: {message}")]
    Status {
        /// The call.
        what: String,
        /// The socket.
        host: DockerHost,
        /// The HTTP status.
        status: u16,
        /// Its message, made printable.
        message: String,
    },
    /// The daemon reported a failure in its progress stream.
    #[error("{what}: the Docker daemon at {host} reported: {message}")]
    Reported {
        /// The call.
        what: String,
        /// The socket.
        host: DockerHost,
        /// Its message, made printable.
        message: String,
    },
    /// The answer is not HTTP or not what the API documents.
    #[error("{what}: the Docker daemon at {host} sent an answer gopack cannot use: {detail}")]
    Protocol {
        /// The call.
        what: String,
        /// The socket.
        host: DockerHost,
        /// What was wrong.
        detail: String,
    },
    /// The connection failed during a call.
    #[error("{what}: the connection to the Docker daemon at {host} failed: {error}")]
    Io {
        /// The call.
        what: String,
        /// The socket.
        host: DockerHost,
        /// What the system said.
        error: io::Error,
    },
}

/// A connection to the daemon. Unix-socket writes use `send(MSG_NOSIGNAL)`, so a daemon that
/// hangs up mid-upload gives an error, not a SIGPIPE (gopack keeps SIGPIPE's default action
/// for `| head`).
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => {
                // SAFETY: `buf` is valid for `buf.len()` bytes and the descriptor is open.
                let n = unsafe {
                    libc::send(
                        s.as_raw_fd(),
                        buf.as_ptr().cast(),
                        buf.len(),
                        libc::MSG_NOSIGNAL,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            }
            // std's TcpStream already sends with MSG_NOSIGNAL.
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream {
    fn set_timeouts(&self, read: Duration, write: Duration) -> io::Result<()> {
        match self {
            Stream::Unix(s) => {
                s.set_read_timeout(Some(read))?;
                s.set_write_timeout(Some(write))
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(read))?;
                s.set_write_timeout(Some(write))
            }
        }
    }
}

/// HTTP/1.1 chunked transfer coding over a writer (RFC 9112 §7.1): each `write` is one chunk.
struct Chunked<W: Write>(W);

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        write!(self.0, "{:x}\r\n", buf.len())?;
        self.0.write_all(buf)?;
        self.0.write_all(b"\r\n")?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A response: status and body (already de-chunked, bounded).
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// A daemon that answered `GET /version` with a usable API version.
#[derive(Clone, Debug)]
pub struct DockerEngine {
    host: DockerHost,
    version: ApiVersion,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionBody {
    api_version: String,
}

impl DockerEngine {
    /// Connects to `host` and checks its API version.
    pub fn connect(host: DockerHost) -> Result<DockerEngine, EngineError> {
        let what = "asking the Docker daemon for its version";
        let response = get(&host, "/version", what)?;
        let engine = DockerEngine {
            host: host.clone(),
            version: MIN_API_VERSION,
        };
        let response = engine.expect_ok(what, response)?;
        let body: VersionBody = serde_json::from_slice(&response.body).map_err(|e| {
            engine.protocol(
                what,
                format!("its /version answer is not the documented JSON: {e}"),
            )
        })?;
        let version: ApiVersion = body.api_version.parse().map_err(|()| {
            engine.protocol(
                what,
                format!("ApiVersion `{}`", printable(&body.api_version, 40)),
            )
        })?;
        if version < MIN_API_VERSION {
            return Err(EngineError::TooOld { host, version });
        }
        Ok(DockerEngine { host, version })
    }

    /// The socket.
    pub fn host(&self) -> &DockerHost {
        &self.host
    }

    /// The API version used (the daemon's own, at least [`MIN_API_VERSION`]).
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// `POST /images/load?quiet=1` with the docker-archive `body` writes; returns the
    /// daemon's `Loaded image: …` lines. `body` errors are returned as they are, unless the
    /// daemon hung up with an error of its own, which is returned instead (as `E::from`).
    pub fn load<E: From<EngineError>>(
        &self,
        body: &mut dyn FnMut(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Vec<String>, E> {
        let what = "loading the image into the Docker daemon";
        let path = format!("/v{}/images/load?quiet=1", self.version);
        let mut stream = open(&self.host, LOAD_TIMEOUT)?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: gopack/{}\r\n\
             Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let sent = (|| {
            stream
                .write_all(head.as_bytes())
                .map_err(|e| E::from(self.io(what, e)))?;
            let mut chunked = Chunked(io::BufWriter::with_capacity(1 << 20, &mut stream));
            body(&mut chunked)?;
            chunked
                .0
                .write_all(b"0\r\n\r\n")
                .and_then(|()| chunked.0.flush())
                .map_err(|e| E::from(self.io(what, e)))
        })();
        let response = match sent {
            Ok(()) => read_response(&mut stream, what, &self.host, 4 << 20)?,
            Err(e) => {
                // The daemon's own words beat "broken pipe" when it refused the upload early.
                let _ = stream.set_timeouts(Duration::from_secs(5), Duration::from_secs(5));
                match read_response(&mut stream, what, &self.host, 1 << 20) {
                    Ok(r) if r.status >= 400 => r,
                    Ok(r) => {
                        self.progress_messages(what, &r.body)?;
                        return Err(e);
                    }
                    Err(_) => return Err(e),
                }
            }
        };
        let response = self.expect_ok(what, response)?;
        Ok(self.progress_messages(what, &response.body)?)
    }

    /// `GET /images/NAME/get`: the image as a docker-archive stream, copied into `out`; at
    /// most `max_bytes`.
    pub fn save(
        &self,
        name: &str,
        out: &mut dyn Write,
        max_bytes: u64,
    ) -> Result<u64, EngineError> {
        let what = format!("reading {} from the Docker daemon", printable(name, 200));
        let path = format!("/v{}/images/{}/get", self.version, encode_path(name));
        let mut stream = open(&self.host, LOAD_TIMEOUT)?;
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: gopack/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream
            .write_all(head.as_bytes())
            .map_err(|e| self.io(&what, e))?;
        let mut reader = BufReader::new(stream);
        let (status, framing) = read_head(&mut reader, &what, &self.host)?;
        if status != 200 {
            let body = read_body(&mut reader, framing, 64 << 10, &what, &self.host)?;
            return Err(self.status_error(&what, status, &body));
        }
        let mut limited = BodyReader::new(&mut reader, framing).take(max_bytes + 1);
        let n = io::copy(&mut limited, out).map_err(|e| self.io(&what, e))?;
        if n > max_bytes {
            return Err(self.protocol(&what, format!("the image is larger than {max_bytes} bytes")));
        }
        Ok(n)
    }

    /// The image ID (`sha256:` of its config) the daemon gives `name`, or `None` when it knows
    /// no such image (`GET /images/NAME/json`).
    pub fn image_id(&self, name: &str) -> Result<Option<String>, EngineError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Inspect {
            id: String,
        }
        let what = format!("looking up {} in the Docker daemon", printable(name, 200));
        let path = format!("/v{}/images/{}/json", self.version, encode_path(name));
        let response = get(&self.host, &path, &what)?;
        if response.status == 404 {
            return Ok(None);
        }
        let response = self.expect_ok(&what, response)?;
        let inspect: Inspect = serde_json::from_slice(&response.body)
            .map_err(|e| self.protocol(&what, format!("not the documented JSON: {e}")))?;
        Ok(Some(printable(&inspect.id, 100)))
    }

    fn expect_ok(&self, what: &str, response: Response) -> Result<Response, EngineError> {
        if (200..300).contains(&response.status) {
            Ok(response)
        } else {
            Err(self.status_error(what, response.status, &response.body))
        }
    }

    fn status_error(&self, what: &str, status: u16, body: &[u8]) -> EngineError {
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        let message = match serde_json::from_slice::<Message>(body) {
            Ok(m) => printable(&m.message, 500),
            Err(_) => printable_bytes(body, 500),
        };
        EngineError::Status {
            what: what.into(),
            host: self.host.clone(),
            status,
            message,
        }
    }

    /// The `stream` lines of a JSON progress stream; its first `error`, as an error.
    fn progress_messages(&self, what: &str, body: &[u8]) -> Result<Vec<String>, EngineError> {
        let mut lines = Vec::new();
        for value in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>() {
            let value = value.map_err(|e| {
                self.protocol(what, format!("its progress stream is not JSON: {e}"))
            })?;
            let error = value
                .get("errorDetail")
                .and_then(|d| d.get("message"))
                .or_else(|| value.get("error"))
                .and_then(|e| e.as_str());
            if let Some(message) = error {
                return Err(EngineError::Reported {
                    what: what.into(),
                    host: self.host.clone(),
                    message: printable(message, 500),
                });
            }
            if let Some(line) = value.get("stream").and_then(|s| s.as_str()) {
                let line = printable(line, 500);
                if !line.is_empty() {
                    lines.push(line);
                }
            }
        }
        Ok(lines)
    }

    fn io(&self, what: &str, error: io::Error) -> EngineError {
        EngineError::Io {
            what: what.into(),
            host: self.host.clone(),
            error,
        }
    }

    fn protocol(&self, what: &str, detail: String) -> EngineError {
        EngineError::Protocol {
            what: what.into(),
            host: self.host.clone(),
            detail,
        }
    }
}

/// Path-escapes an image name for `/images/NAME/get` (names hold `/` and `:`, which the API
/// takes as they are; anything else outside the reference alphabet is escaped).
fn encode_path(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"/:._-@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Opens a connection, with what to do when it fails.
fn open(host: &DockerHost, timeout: Duration) -> Result<Stream, EngineError> {
    let unreachable = |error: io::Error| {
        let hint = match (host, error.kind()) {
            (DockerHost::Unix(_), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused) => {
                ". Is Docker running? With podman, start its Docker-compatible service \
                 (`systemctl --user start podman.socket`) and set \
                 DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock. Without a daemon, write \
                 --output docker-archive:FILE and `docker load -i FILE`"
            }
            (DockerHost::Unix(_), io::ErrorKind::PermissionDenied) => {
                ". Your user may not use that socket: join the `docker` group (and log in \
                 again), or use rootless podman's socket"
            }
            _ => ". Check DOCKER_HOST, and that the daemon is running",
        };
        EngineError::Unreachable {
            host: host.clone(),
            error,
            hint: hint.to_string(),
        }
    };
    let stream = match host {
        DockerHost::Unix(path) => Stream::Unix(UnixStream::connect(path).map_err(unreachable)?),
        DockerHost::Tcp(authority) => {
            use std::net::ToSocketAddrs;
            let addr = authority
                .to_socket_addrs()
                .map_err(unreachable)?
                .next()
                .ok_or_else(|| unreachable(io::ErrorKind::NotFound.into()))?;
            Stream::Tcp(TcpStream::connect_timeout(&addr, CALL_TIMEOUT).map_err(unreachable)?)
        }
    };
    stream
        .set_timeouts(timeout, CALL_TIMEOUT.max(timeout / 4))
        .map_err(unreachable)?;
    Ok(stream)
}

/// One short `GET`, its answer at most 1 MiB.
fn get(host: &DockerHost, path: &str, what: &str) -> Result<Response, EngineError> {
    let mut stream = open(host, CALL_TIMEOUT)?;
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: gopack/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|error| EngineError::Io {
            what: what.into(),
            host: host.clone(),
            error,
        })?;
    read_response(&mut stream, what, host, 1 << 20)
}

/// How a response body ends.
#[derive(Clone, Copy, Debug)]
enum Framing {
    Length(u64),
    Chunked,
    Close,
}

fn read_response(
    stream: &mut Stream,
    what: &str,
    host: &DockerHost,
    max_body: usize,
) -> Result<Response, EngineError> {
    let mut reader = BufReader::new(stream);
    let (status, framing) = read_head(&mut reader, what, host)?;
    let body = read_body(&mut reader, framing, max_body, what, host)?;
    Ok(Response { status, body })
}

/// Reads response heads until a final (non-1xx) one; gives its status and body framing.
fn read_head<R: BufRead>(
    reader: &mut R,
    what: &str,
    host: &DockerHost,
) -> Result<(u16, Framing), EngineError> {
    let protocol = |detail: String| EngineError::Protocol {
        what: what.into(),
        host: host.clone(),
        detail,
    };
    loop {
        let mut raw = Vec::new();
        loop {
            let before = raw.len();
            (&mut *reader)
                .take((MAX_HEAD - raw.len()) as u64)
                .read_until(b'\n', &mut raw)
                .map_err(|error| EngineError::Io {
                    what: what.into(),
                    host: host.clone(),
                    error,
                })?;
            if raw.len() == before {
                return Err(protocol(
                    "the connection closed before a full answer".into(),
                ));
            }
            if raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\n") {
                break;
            }
            if raw.len() >= MAX_HEAD {
                return Err(protocol(format!("a response head over {MAX_HEAD} bytes")));
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&raw) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(protocol(format!("not HTTP: {}", printable_bytes(&raw, 80)))),
        }
        let status = response.code.unwrap_or(0);
        if (100..200).contains(&status) {
            continue;
        }
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        let framing = if header("transfer-encoding").is_some_and(|v| v.ends_with("chunked")) {
            Framing::Chunked
        } else if let Some(len) = header("content-length") {
            Framing::Length(
                len.parse()
                    .map_err(|_| protocol(format!("Content-Length `{}`", printable(&len, 40))))?,
            )
        } else {
            Framing::Close
        };
        return Ok((status, framing));
    }
}

fn read_body<R: BufRead>(
    reader: &mut R,
    framing: Framing,
    max: usize,
    what: &str,
    host: &DockerHost,
) -> Result<Vec<u8>, EngineError> {
    let mut body = Vec::new();
    BodyReader::new(reader, framing)
        .take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|error| EngineError::Io {
            what: what.into(),
            host: host.clone(),
            error,
        })?;
    if body.len() > max {
        return Err(EngineError::Protocol {
            what: what.into(),
            host: host.clone(),
            detail: format!("an answer over {max} bytes"),
        });
    }
    Ok(body)
}

/// A response body, de-chunked.
struct BodyReader<'r, R: BufRead> {
    inner: &'r mut R,
    framing: Framing,
    /// Bytes left in the current chunk (chunked) or the body (length).
    left: u64,
    done: bool,
}

impl<'r, R: BufRead> BodyReader<'r, R> {
    fn new(inner: &'r mut R, framing: Framing) -> Self {
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        BodyReader {
            inner,
            framing,
            left,
            done: matches!(framing, Framing::Length(0)),
        }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        (&mut *self.inner).take(1024).read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a chunk header is cut or too long",
            ));
        }
        Ok(String::from_utf8_lossy(&line).trim().to_string())
    }
}

impl<R: BufRead> Read for BodyReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        match self.framing {
            Framing::Close => self.inner.read(buf),
            Framing::Length(_) => {
                let max = buf.len().min(self.left as usize);
                let n = self.inner.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.left -= n as u64;
                self.done = self.left == 0;
                Ok(n)
            }
            Framing::Chunked => {
                if self.left == 0 {
                    let size_line = self.line()?;
                    let size = size_line.split(';').next().unwrap_or("").trim();
                    self.left = u64::from_str_radix(size, 16).map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidData, "a bad chunk size")
                    })?;
                    if self.left == 0 {
                        // Trailers, up to the empty line.
                        while !self.line()?.is_empty() {}
                        self.done = true;
                        return Ok(0);
                    }
                }
                let max = buf.len().min(self.left as usize);
                let n = self.inner.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.left -= n as u64;
                if self.left == 0 {
                    self.line()?;
                }
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_values() {
        assert_eq!(
            DockerHost::parse("unix:///run/podman/podman.sock", false).unwrap(),
            DockerHost::Unix("/run/podman/podman.sock".into())
        );
        assert_eq!(
            DockerHost::parse("tcp://127.0.0.1", false).unwrap(),
            DockerHost::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            DockerHost::parse("tcp://[::1]:2376/", false).unwrap(),
            DockerHost::Tcp("[::1]:2376".into())
        );
        for bad in [
            "ssh://me@host",
            "npipe:////./pipe/docker_engine",
            "unix://rel.sock",
        ] {
            let e = DockerHost::parse(bad, false).unwrap_err().to_string();
            assert!(e.contains("docker-archive:FILE"), "{e}");
        }
        let e = DockerHost::parse("tcp://host:2376", true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("TLS"), "{e}");
    }

    #[test]
    fn chunked_bodies_read_back_whole() {
        let wire = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let mut reader = io::BufReader::new(&wire[..]);
        let mut body = String::new();
        BodyReader::new(&mut reader, Framing::Chunked)
            .read_to_string(&mut body)
            .unwrap();
        assert_eq!(body, "Wikipedia ");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "NEXT");
    }

    #[test]
    fn versions_compare_numerically() {
        assert!("1.41".parse::<ApiVersion>().unwrap() > "1.9".parse().unwrap());
        assert!("1.24".parse::<ApiVersion>().unwrap() >= MIN_API_VERSION);
        assert!("x".parse::<ApiVersion>().is_err());
    }
}
