//! The registry's `WWW-Authenticate` challenges (RFC 7235, as distribution's token auth uses
//! them) and the answers of token servers (docker's token protocol, OAuth2's `access_token`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ureq::http::Method;

use super::client::{AuthMode, RegistryClient, Req, ReqBody};
use super::credentials::Credential;
use super::error::{RegistryError, registry_message};
use super::transport::{authority, encode_form, scope_key, transport_error};
use crate::text::printable;

/// Largest token server answer read (a token is normally a few KiB).
const MAX_TOKEN_RESPONSE: u64 = 1 << 20;
/// Largest token sent on: it travels in a request header.
pub const MAX_TOKEN: usize = 64 << 10;

impl RegistryClient {
    /// The `Authorization` value for a request to `registry` needing `scopes`: basic
    /// credentials for a basic challenge, a (cached) bearer token for a bearer challenge,
    /// nothing when the registry asked for nothing.
    pub(crate) fn auth_header(
        &self,
        registry: &str,
        scopes: &[String],
        what: &str,
    ) -> Result<Option<String>, RegistryError> {
        let Some(challenge) = self.with_host(registry, |h| h.challenge.clone()) else {
            return Ok(None);
        };
        let credential = self.credential(registry)?;
        match challenge.scheme.as_str() {
            "basic" => match credential.as_ref().and_then(Credential::basic_header) {
                Some(h) => Ok(Some(h)),
                None => Err(self.refused(
                    what,
                    registry,
                    401,
                    "it asks for a user name and password".into(),
                )),
            },
            "bearer" => {
                let key = scope_key(scopes);
                let cached = || {
                    self.with_host(registry, |h| {
                        h.tokens
                            .get(&key)
                            .filter(|(_, exp)| *exp > Instant::now())
                            .map(|(t, _)| t.clone())
                    })
                };
                if let Some(t) = cached() {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let _guard = self.token_lock.lock().unwrap_or_else(|e| e.into_inner());
                // Another thread may have fetched it while this one waited.
                if let Some(t) = cached() {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let (token, ttl) =
                    self.fetch_token(registry, &challenge, scopes, credential.as_ref(), what)?;
                let expiry = Instant::now() + Duration::from_secs(ttl.saturating_sub(5).max(5));
                self.with_host(registry, |h| {
                    h.tokens.insert(key, (token.clone(), expiry));
                });
                Ok(Some(format!("Bearer {token}")))
            }
            _ => Ok(None),
        }
    }

    /// A bearer token from the token server the challenge names (its `realm`), for `scopes`:
    /// with basic credentials (GET) or an identity token (OAuth2 refresh grant, POST), or
    /// anonymously. Credentials go only where [`RegistryClient::may_carry_secrets`] allows.
    /// Returns the token and its lifetime in seconds.
    fn fetch_token(
        &self,
        registry: &str,
        challenge: &Challenge,
        scopes: &[String],
        credential: Option<&Credential>,
        what: &str,
    ) -> Result<(String, u64), RegistryError> {
        let bad = |detail: String| RegistryError::BadResponse {
            what: what.into(),
            host: registry.into(),
            detail,
        };
        let realm = challenge
            .params
            .get("realm")
            .ok_or_else(|| bad("its bearer challenge names no token server (realm)".into()))?;
        let shown_realm = printable(realm, 300);
        let scheme = realm.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) || authority(realm).is_empty() {
            return Err(bad(format!(
                "its token server `{shown_realm}` is not an http:// or https:// address"
            )));
        }
        if credential.is_some() && !self.may_carry_secrets(registry, realm) {
            return Err(RegistryError::CleartextCredentials {
                what: what.into(),
                host: registry.into(),
                target: shown_realm,
                target_host: printable(authority(realm), 200),
            });
        }
        let what = format!("{what} (getting a token from {shown_realm})");
        let request = TokenRequest::new(realm, challenge, scopes, credential);
        let req = Req {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request
                .body
                .as_deref()
                .map_or(ReqBody::Empty, |b| ReqBody::Bytes(b.as_bytes())),
            registry,
            scopes,
            what: &what,
            auth: AuthMode::None,
            size_hint: MAX_TOKEN_RESPONSE,
        };
        let resp = self.execute(&req, true)?;
        let status = resp.status;
        let (host, budget) = (resp.host.clone(), resp.budget);
        let bytes = resp
            .bytes(MAX_TOKEN_RESPONSE)
            .map_err(|e| transport_error(&what, &host, e, budget))?;
        match status {
            200 => usable_token(&bytes).map_err(|detail| RegistryError::BadResponse {
                what,
                host: registry.into(),
                detail,
            }),
            401 | 403 => Err(self.refused(&what, registry, status, registry_message(&bytes))),
            _ => Err(RegistryError::Status {
                what,
                host: registry.into(),
                status,
                message: registry_message(&bytes),
            }),
        }
    }
}

/// The request for a token: docker's token protocol (GET with basic credentials or none) or
/// OAuth2's refresh-token grant (POST of a form) for an identity token.
struct TokenRequest {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

impl TokenRequest {
    fn new(
        realm: &str,
        challenge: &Challenge,
        scopes: &[String],
        credential: Option<&Credential>,
    ) -> TokenRequest {
        let service = challenge.params.get("service").cloned().unwrap_or_default();
        let mut query = vec![("service", service)];
        match challenge.params.get("scope") {
            Some(s) if scopes.is_empty() => query.push(("scope", s.clone())),
            _ => query.extend(scopes.iter().map(|s| ("scope", s.clone()))),
        }
        match credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.clone()),
                    ("client_id", "gopack".into()),
                ];
                form.extend(query);
                TokenRequest {
                    method: Method::POST,
                    url: realm.to_string(),
                    headers: vec![(
                        "content-type",
                        "application/x-www-form-urlencoded".to_string(),
                    )],
                    body: Some(encode_form(&form)),
                }
            }
            other => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                TokenRequest {
                    method: Method::GET,
                    url: format!("{realm}{sep}{}", encode_form(&query)),
                    headers: other
                        .and_then(Credential::basic_header)
                        .map(|a| ("authorization", a))
                        .into_iter()
                        .collect(),
                    body: None,
                }
            }
        }
    }
}

/// The token and lifetime in a token server's answer, if it can travel in a header: printable
/// ASCII, at most [`MAX_TOKEN`] bytes. The error says what is wrong, never the token.
fn usable_token(answer: &[u8]) -> Result<(String, u64), String> {
    let (token, ttl) =
        TokenResponse::parse(answer).ok_or("the token server's answer has no token")?;
    let printable_ascii = token.bytes().all(|b| b.is_ascii_graphic());
    if token.len() > MAX_TOKEN || !printable_ascii {
        return Err(format!(
            "the token server answered a token of {} bytes{}; gopack takes tokens of printable \
             ASCII up to {MAX_TOKEN} bytes (they travel in a request header; a registry's token \
             is a few KiB)",
            token.len(),
            if printable_ascii {
                ""
            } else {
                " with characters a header cannot carry"
            }
        ));
    }
    Ok((token, ttl))
}

/// One `WWW-Authenticate` challenge: its scheme (`bearer`, `basic`, lowercased) and parameters
/// (`realm`, `service`, `scope`; names lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, lowercased: `bearer` or `basic` (others are kept but not answered).
    pub scheme: String,
    /// The auth parameters by lowercased name (`realm`, `service`, `scope`), values unquoted.
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
        if chars.peek() != Some(&'=') || !name.chars().all(is_token_char) {
            // A token68, a name that is not a token, or junk: skip to the next comma.
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

/// RFC 7230 `tchar`: the characters of a token such as a parameter name.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The answer of a token server (docker's `token`, OAuth2's `access_token`).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    /// The bearer token, in docker's token-server field.
    #[serde(default)]
    pub token: Option<String>,
    /// The bearer token, in the OAuth2 field (used when `token` is absent).
    #[serde(default)]
    pub access_token: Option<String>,
    /// The token's lifetime in seconds (60 when absent, as the distribution token spec says).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    /// The token (`token`, else `access_token`; non-empty) and its lifetime in seconds
    /// (`expires_in`, default 60, clamped to 10..=3600); `None` when the answer has no token.
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
}
