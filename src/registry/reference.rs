//! Image references (`registry/repository[:tag][@digest]`) parsed and normalised as docker's
//! distribution/reference does (`alpine` → `docker.io/library/alpine`).

use std::fmt;
use std::str::FromStr;

use crate::oci::Digest;

/// The registry a name without a registry part refers to, as docker and ko use it.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's distribution API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// An image reference: `registry/repository[:tag][@digest]`, normalised like docker's
/// (`alpine` → `docker.io/library/alpine`, `index.docker.io` → `docker.io`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Host with optional port (`localhost:5000`, `[::1]:5000`, `ghcr.io`).
    pub registry: String,
    /// Repository path without the registry host, e.g. `library/alpine` or `org/app`.
    pub repository: String,
    /// The tag, e.g. `3.20`; `None` when only a digest (or nothing) was given.
    pub tag: Option<String>,
    /// The manifest or index digest after `@`, which pins the reference whatever the tag.
    pub digest: Option<Digest>,
}

/// Why a string is not an image reference (distribution's reference grammar).
#[derive(Debug, thiserror::Error)]
#[error("`{input}` is not an image reference: {reason}")]
pub struct ReferenceError {
    /// The string given.
    pub input: String,
    /// Which rule of the grammar it breaks.
    pub reason: String,
}

impl Reference {
    /// The host:port the distribution API is reached at (Docker Hub's API lives elsewhere).
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.into()),
            digest: None,
        }
    }

    /// The same repository pinned to `digest`, keeping the tag for display.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry for: the digest when pinned, else the tag, else `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

/// The host serving the API for a registry name.
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Reference, ReferenceError> {
        let err = |reason: &str| ReferenceError {
            input: input.into(),
            reason: reason.into(),
        };
        let s = input.strip_prefix("docker://").unwrap_or(input);
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if s.len() > 4096 {
            return Err(err("it is longer than 4096 characters"));
        }
        let (rest, digest) = match s.rsplit_once('@') {
            Some((rest, d)) => {
                let digest = d.parse::<Digest>().map_err(|e| err(&e.to_string()))?;
                (rest, Some(digest))
            }
            None => (s, None),
        };
        // A tag follows the last `:` that comes after the last `/` (a `:` before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(err(&format!(
                "tag `{t}` must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting \
                 with `.` or `-`"
            )));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        if !valid_registry(&registry) {
            return Err(err(&format!(
                "registry `{registry}` must be a host name or IP address with an optional :port"
            )));
        }
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if repository.is_empty() {
            return Err(err("the repository name is missing"));
        }
        if repository.len() > 255 {
            return Err(err("the repository name is longer than 255 characters"));
        }
        if let Some(bad) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(err(&format!(
                "repository part `{bad}` must be lowercase letters and digits, separated by \
                 `.`, `_`, `__` or dashes"
            )));
        }
        Ok(Reference {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = if let Some(rest) = r.strip_prefix('[') {
        // [ipv6]:port
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("x", Some(port)),
                None => return false,
            },
        }
    } else {
        match r.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        s.parse().unwrap()
    }

    #[test]
    fn normalises_docker_hub_names() {
        let a = r("alpine");
        assert_eq!(a.to_string(), "docker.io/library/alpine");
        assert_eq!(a.api_host(), "registry-1.docker.io");
        assert_eq!(a.manifest_reference(), "latest");
        assert_eq!(
            r("index.docker.io/user/app:v1").to_string(),
            "docker.io/user/app:v1"
        );
        assert_eq!(r("user/app").repository, "user/app");
    }

    #[test]
    fn splits_ports_tags_and_digests() {
        let d = Digest::of(b"x");
        let x = r(&format!("localhost:5000/team/app:v1.2@{d}"));
        assert_eq!(x.registry, "localhost:5000");
        assert_eq!(x.repository, "team/app");
        assert_eq!(x.tag.as_deref(), Some("v1.2"));
        assert_eq!(x.digest, Some(d.clone()));
        assert_eq!(x.manifest_reference(), d.to_string());
        let y = r("127.0.0.1:5000/app");
        assert_eq!(y.registry, "127.0.0.1:5000");
        assert_eq!(y.tag, None);
        let z = r("[::1]:5000/app:x");
        assert_eq!(z.registry, "[::1]:5000");
        assert_eq!(r("localhost/app").registry, "localhost");
        assert_eq!(
            r("gcr.io/distroless/static-debian12:nonroot").repository,
            "distroless/static-debian12"
        );
    }

    #[test]
    fn rejects_bad_references_with_reasons() {
        for bad in [
            "",
            "Upper/Case",
            "app:",
            "app:-x",
            "localhost:5000/",
            "a//b",
            "app@sha256:zz",
            "host:port/app",
            "example.com/app_/x",
        ] {
            let e = bad.parse::<Reference>().unwrap_err();
            assert!(
                e.to_string().contains("is not an image reference"),
                "{bad}: {e}"
            );
        }
    }
}
