//! Sending one request: retries, re-authentication, redirects (followed here, not by ureq, so
//! that credentials never follow a redirect to another host, HTTPS is never downgraded, and a
//! failure at a redirect target is reported against that target), the deadline of each
//! exchange, and the mapping of transport failures to messages that say what to do.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ureq::http::{self, Method};

use super::auth::parse_challenge;
use super::client::{
    AuthMode, MAX_ERROR_BODY, RegistryClient, Req, ReqBody, Resp, TransferStats, parse_retry_after,
};
use super::error::{RegistryError, registry_message};
use super::reference::api_host;
use crate::text::printable;

/// Redirects followed for one request before giving up.
const MAX_REDIRECTS: usize = 5;

impl RegistryClient {
    /// How long an exchange moving `bytes` may take in all: the minimum transfer time plus one
    /// second per `min_bytes_per_second` bytes.
    pub(crate) fn transfer_budget(&self, bytes: u64) -> Duration {
        let rate = self.opts.min_bytes_per_second.max(1);
        self.opts.min_transfer_time + Duration::from_secs(bytes / rate)
    }

    /// Sends `req`, retrying transient failures (connection errors, stalls, 429 with
    /// Retry-After, 5xx) with backoff when `retry` is set, and re-authenticating once on 401.
    /// Returns any other answer, including 4xx, for the caller to interpret.
    pub(crate) fn execute(&self, req: &Req, retry: bool) -> Result<Resp, RegistryError> {
        let mut attempts = super::client::Attempts::new(&self.opts.retry);
        let mut reauthed = false;
        loop {
            attempts.begin();
            let (err, wait) = match self.send(req) {
                Ok(resp) => match resp.status {
                    401 if matches!(req.auth, AuthMode::Registry) && !reauthed => {
                        reauthed = true;
                        let challenge = resp.header("www-authenticate").and_then(parse_challenge);
                        let _ = resp.bytes(MAX_ERROR_BODY);
                        self.with_host(req.registry, |h| {
                            h.probed = true;
                            h.challenge = challenge;
                            h.tokens.clear();
                        });
                        continue;
                    }
                    403 if matches!(req.auth, AuthMode::Registry)
                        && self.has_credential(req.registry) =>
                    {
                        let message =
                            registry_message(&resp.bytes(MAX_ERROR_BODY).unwrap_or_default());
                        return Err(RegistryError::Denied {
                            what: req.what.into(),
                            host: req.registry.into(),
                            message,
                            login: self.login_command(req.registry),
                        });
                    }
                    401 | 403 if matches!(req.auth, AuthMode::Registry) => {
                        let status = resp.status;
                        let message =
                            registry_message(&resp.bytes(MAX_ERROR_BODY).unwrap_or_default());
                        return Err(self.refused(req.what, req.registry, status, message));
                    }
                    429 | 500..=599 => {
                        let status = resp.status;
                        let wait = resp.header("retry-after").and_then(parse_retry_after);
                        let message =
                            registry_message(&resp.bytes(MAX_ERROR_BODY).unwrap_or_default());
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

    /// One exchange, following redirects of GET and HEAD requests to http(s) URLs, within one
    /// deadline for the whole exchange.
    fn send(&self, req: &Req) -> Result<Resp, RegistryError> {
        let budget = self.transfer_budget(req.size_hint);
        let deadline = Instant::now() + budget;
        let mut url = req.url.clone();
        for hop in 0..=MAX_REDIRECTS {
            let resp = self.send_hop(req, &url, hop, deadline, budget)?;
            let redirect = matches!(resp.status, 301 | 302 | 303 | 307 | 308);
            if !redirect || !matches!(req.method, Method::GET | Method::HEAD) {
                return Ok(resp);
            }
            let status = resp.status;
            let location = resp.header("location").map(str::to_string);
            let _ = resp.bytes(MAX_ERROR_BODY);
            let Some(location) = location else {
                return Err(RegistryError::BadResponse {
                    what: req.what.into(),
                    host: authority(&url).into(),
                    detail: format!("it answered {status} (a redirect) without a Location"),
                });
            };
            url = self.redirect_target(req, &url, &location)?;
        }
        Err(RegistryError::Redirect {
            what: req.what.into(),
            host: req.registry.into(),
            target: printable(&url, 300),
            why: format!("and redirected again: more than {MAX_REDIRECTS} redirects in a row"),
        })
    }

    /// Where a redirect from `from` to `location` leads: an absolute http(s) URL that does not
    /// drop TLS (unless the user named its host insecure).
    fn redirect_target(
        &self,
        req: &Req,
        from: &str,
        location: &str,
    ) -> Result<String, RegistryError> {
        let from_scheme = from.split_once("://").map_or("", |(s, _)| s);
        let refuse = |why: String| RegistryError::Redirect {
            what: req.what.into(),
            host: authority(from).into(),
            target: printable(location, 300),
            why,
        };
        let target = if let Some(path) = location.strip_prefix('/').filter(|p| !p.starts_with('/'))
        {
            format!("{from_scheme}://{}/{path}", authority(from))
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("{from_scheme}://{rest}")
        } else if has_scheme(location) {
            location.to_string()
        } else {
            // Relative to the directory of the URL that redirected.
            let base = from.split(['?', '#']).next().unwrap_or(from);
            let dir = &base[..base
                .rfind('/')
                .filter(|i| *i >= origin(from).len())
                .map_or(base.len(), |i| i)];
            format!("{dir}/{location}")
        };
        let scheme = target
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("https") => Ok(target),
            Some("http") if from_scheme.eq_ignore_ascii_case("http") => Ok(target),
            Some("http") if self.named_insecure(authority(&target)) => Ok(target),
            Some("http") => Err(refuse(format!(
                "which is plain HTTP: gopack does not follow a redirect that drops TLS. If that \
                 server is meant to be reached over plain HTTP, pass --insecure-registry {}",
                printable(authority(&target), 100)
            ))),
            _ => Err(refuse(
                "which is not an http:// or https:// address; gopack follows redirects only \
                 to those"
                    .into(),
            )),
        }
    }

    /// One HTTP exchange with `url` (the request's own URL at `hop` 0, a redirect target
    /// after): registry credentials only to the registry's own host and scheme, the request's
    /// own `authorization` header only to its own origin, within what is left of `deadline`.
    fn send_hop(
        &self,
        req: &Req,
        url: &str,
        hop: usize,
        deadline: Instant,
        budget: Duration,
    ) -> Result<Resp, RegistryError> {
        let host = authority(url).to_string();
        let what = if hop == 0 {
            req.what.to_string()
        } else {
            format!("{} (redirected to {})", req.what, printable(&host, 100))
        };
        let fail = |e: ureq::Error| transport_error(&what, &host, e, budget);
        let same_origin = origin(url).eq_ignore_ascii_case(origin(&req.url));
        let mut builder = http::Request::builder().method(req.method.clone()).uri(url);
        for (k, v) in &req.headers {
            if *k != "authorization" || same_origin {
                builder = builder.header(*k, v);
            }
        }
        let registry_origin = origin(&self.base_url(req.registry)).to_string();
        if matches!(req.auth, AuthMode::Registry)
            && origin(url).eq_ignore_ascii_case(&registry_origin)
            && host.eq_ignore_ascii_case(api_host(req.registry))
            && let Some(a) = self.auth_header(req.registry, req.scopes, req.what)?
        {
            builder = builder.header("authorization", a);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RegistryError::Deadline { what, host, budget });
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self.run_with_body(req, builder, left)?.map_err(fail)?;
        if crate::log::is_verbose() {
            // The query is left out: upload URLs carry the registry's opaque upload state.
            let shown = url.split('?').next().unwrap_or(url);
            crate::log::verbose(&format!(
                "{} {shown} → {}",
                req.method,
                resp.status().as_u16()
            ));
        }
        let (parts, body) = resp.into_parts();
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            host,
            budget,
        })
    }
}

impl RegistryClient {
    /// Attaches the request's body (a `content-length` for every kind) and runs it within
    /// `left`. The outer error is local (the request cannot be built or a file read).
    fn run_with_body(
        &self,
        req: &Req,
        mut builder: http::request::Builder,
        left: Duration,
    ) -> Result<Result<http::Response<ureq::Body>, ureq::Error>, RegistryError> {
        Ok(match &req.body {
            ReqBody::Empty => {
                if matches!(req.method, Method::PUT | Method::POST | Method::PATCH) {
                    builder = builder.header("content-length", "0");
                }
                self.run_within(builder.body(()).map_err(|e| invalid(req, e))?, left)
            }
            ReqBody::Bytes(b) => {
                builder = builder.header("content-length", b.len().to_string());
                let out = self.run_within(builder.body(*b).map_err(|e| invalid(req, e))?, left);
                if out.is_ok() {
                    self.stats
                        .document_bytes_uploaded
                        .fetch_add(b.len() as u64, Ordering::Relaxed);
                }
                out
            }
            ReqBody::File { path, offset, len } => {
                let unreadable = |e: io::Error| {
                    RegistryError::Invalid(format!(
                        "{}: cannot read {}: {e}",
                        req.what,
                        path.display()
                    ))
                };
                let mut file = File::open(path).map_err(unreadable)?;
                file.seek(SeekFrom::Start(*offset)).map_err(unreadable)?;
                let reader = CountingReader {
                    inner: file.take(*len),
                    stats: self.stats.clone(),
                };
                builder = builder.header("content-length", len.to_string());
                let body = ureq::SendBody::from_owned_reader(reader);
                self.run_within(builder.body(body).map_err(|e| invalid(req, e))?, left)
            }
        })
    }

    /// Runs one request with at most `left` for all of it, response body included.
    fn run_within<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        left: Duration,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(left))
            .build();
        self.agent.run(request)
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

/// The `host[:port]` of an absolute URL (empty when there is none).
pub(crate) fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// `scheme://authority` of an absolute URL.
fn origin(url: &str) -> &str {
    let scheme_len = url.find("://").map_or(0, |i| i + 3);
    &url[..scheme_len + authority(url).len()]
}

/// Whether a URL reference starts with a scheme (`name:` before any `/`, `?` or `#`).
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The host name or address of `host[:port]` (`[::1]:5000` → `::1`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        }
    }
}

/// Whether `host[:port]` names the loopback interface: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
        || name.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback())
}

/// Maps a transport failure at `host` to an error that says what to do; never includes
/// request headers. `budget` is the time the exchange was given.
pub(crate) fn transport_error(
    what: &str,
    host: &str,
    e: ureq::Error,
    budget: Duration,
) -> RegistryError {
    let host = printable(host, 200);
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
            hint: tls_hint(None, &host),
            what,
            host,
            detail: m.into(),
        },
        ureq::Error::Rustls(r) => RegistryError::Tls {
            hint: tls_hint(Some(&r), &host),
            what,
            host,
            detail: printable(&r.to_string(), 300),
        },
        ureq::Error::Io(io) if io.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            tls_io_error(what, host, &io)
        }
        ureq::Error::Io(io) if is_wrapped_deadline(&io) => {
            RegistryError::Deadline { what, host, budget }
        }
        ureq::Error::Timeout(ureq::Timeout::Global) => {
            RegistryError::Deadline { what, host, budget }
        }
        ureq::Error::Timeout(t) => RegistryError::Transport {
            what,
            host,
            detail: format!("timed out ({t})"),
        },
        ureq::Error::BodyExceedsLimit(n) => RegistryError::TooLarge {
            what,
            host,
            declared: n,
            detail: "gopack reads no more for an answer of this kind".into(),
        },
        ureq::Error::BadUri(u) => RegistryError::BadResponse {
            what,
            host,
            detail: format!("it pointed at an invalid URL `{}`", printable(&u, 300)),
        },
        other => RegistryError::Transport {
            what,
            host,
            detail: printable(&other.to_string(), 300),
        },
    }
}

/// A TLS failure that reached us wrapped in an I/O error: a plain-HTTP answer to a TLS hello
/// (`InvalidContentType`) is told apart from a real TLS failure.
fn tls_io_error(what: String, host: String, io: &io::Error) -> RegistryError {
    match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
            RegistryError::PlainHttp { what, host }
        }
        Some(e) => RegistryError::Tls {
            hint: tls_hint(Some(e), &host),
            what,
            host,
            detail: printable(&e.to_string(), 300),
        },
        None => RegistryError::Tls {
            hint: tls_hint(None, &host),
            what,
            host,
            detail: printable(&io.to_string(), 300),
        },
    }
}

/// What to do about a TLS failure at `host`, from its kind.
fn tls_hint(error: Option<&rustls::Error>, host: &str) -> String {
    use rustls::CertificateError as C;
    match error {
        Some(rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature)) => {
            "Its certificate is not signed by a CA gopack trusts: if it uses a private CA, pass \
             --registry-ca FILE (that CA's PEM certificate)"
                .into()
        }
        Some(rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        )) => format!(
            "Its certificate is not issued for the name `{}`: reach it by a name the \
             certificate holds",
            host_name(host)
        ),
        Some(rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        )) => "Its certificate is outside its validity dates: renew it, or check this \
               machine's clock"
            .into(),
        _ => format!(
            "If it uses a private CA, pass --registry-ca FILE; if it serves plain HTTP, pass \
             --insecure-registry {host}"
        ),
    }
}

/// Whether an I/O error from reading a body is ureq's overall deadline.
pub(crate) fn is_wrapped_deadline(io: &io::Error) -> bool {
    io.get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>())
        .is_some_and(|e| matches!(e, ureq::Error::Timeout(ureq::Timeout::Global)))
}

pub(crate) fn scope_key(scopes: &[String]) -> String {
    let mut s = scopes.to_vec();
    s.sort();
    s.join(" ")
}

pub(crate) fn encode_form(pairs: &[(&str, String)]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.2.1",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "ghcr.io",
            "10.0.0.1:5000",
            "[::2]:5000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn authorities_and_origins() {
        assert_eq!(authority("https://h:1/v2/x?y"), "h:1");
        assert_eq!(authority("http://h?x"), "h");
        assert_eq!(authority("file:///etc/passwd"), "");
        assert_eq!(origin("https://h:1/v2/"), "https://h:1");
    }
}
