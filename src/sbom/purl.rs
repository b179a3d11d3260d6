//! Package URLs (purl-spec `PURL-SPECIFICATION.rst` and `PURL-TYPES.rst`) for the three kinds
//! gopack writes: Go modules (`pkg:golang/<module path>@<version>`, path case kept as Go keeps
//! it, as syft writes them), the Go standard library (`pkg:golang/stdlib@1.x.y`, as syft and
//! trivy write it and OSV answers it) and OCI images
//! (`pkg:oci/<name>@sha256%3A<hex>?arch=…&repository_url=…&tag=…`).

/// Percent-encodes one purl segment: everything but `A-Z a-z 0-9 . - _ ~` (so `+` in
/// `v1.0.0+incompatible` becomes `%2B`, `:` in a digest `%3A`).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:golang/<path>@<version>` for a Go module (each path segment encoded); no `@` part
/// when the version is unknown.
pub fn golang(module_path: &str, version: Option<&str>) -> String {
    let path: Vec<String> = module_path.split('/').map(encode).collect();
    match version {
        Some(v) if !v.is_empty() => format!("pkg:golang/{}@{}", path.join("/"), encode(v)),
        _ => format!("pkg:golang/{}", path.join("/")),
    }
}

/// `pkg:golang/stdlib@1.x.y`.
pub fn stdlib(version: &str) -> String {
    format!("pkg:golang/stdlib@{}", encode(version))
}

/// `pkg:oci/<name>@<digest>` with qualifiers in key order (`arch`, `repository_url`, `tag`),
/// the name being the repository's last path segment, lower-cased (purl-spec `oci` type).
pub fn oci(
    repository: &str,
    digest: &str,
    arch: Option<&str>,
    repository_url: Option<&str>,
    tag: Option<&str>,
) -> String {
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(repository)
        .to_ascii_lowercase();
    let mut qualifiers = Vec::new();
    for (key, value) in [
        ("arch", arch),
        ("repository_url", repository_url),
        ("tag", tag),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            qualifiers.push(format!("{key}={}", encode_qualifier(v)));
        }
    }
    let mut purl = format!("pkg:oci/{}@{}", encode(&name), encode(digest));
    if !qualifiers.is_empty() {
        purl.push('?');
        purl.push_str(&qualifiers.join("&"));
    }
    purl
}

/// Qualifier values keep `/` and `:` readable (purl-spec allows them there).
fn encode_qualifier(value: &str) -> String {
    encode(value).replace("%2F", "/").replace("%3A", ":")
}

/// A module path or version as the module proxy and module cache spell it
/// (`golang.org/x/mod/module.EscapePath`): each upper-case letter becomes `!` and its lower
/// case, so that case-insensitive file systems keep `Azure` and `azure` apart.
pub fn escape_module(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `https://proxy.golang.org/<escaped path>/@v/<escaped version>.zip`: where the module's
/// source can be downloaded (ko writes SPDX `downloadLocation` the same way).
pub fn proxy_zip(module_path: &str, version: &str) -> String {
    format!(
        "https://proxy.golang.org/{}/@v/{}.zip",
        escape_module(module_path),
        escape_module(version)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golang_purls() {
        assert_eq!(
            golang("github.com/docker/docker", Some("v20.10.7+incompatible")),
            "pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible"
        );
        assert_eq!(
            golang("github.com/Azure/go-autorest", Some("v14.2.0")),
            "pkg:golang/github.com/Azure/go-autorest@v14.2.0"
        );
        assert_eq!(
            golang("example.com/app", None),
            "pkg:golang/example.com/app"
        );
        assert_eq!(stdlib("1.26.8"), "pkg:golang/stdlib@1.26.8");
    }

    #[test]
    fn oci_purls() {
        assert_eq!(
            oci(
                "localhost:5000/team/App",
                "sha256:abc",
                Some("amd64"),
                Some("localhost:5000/team/App"),
                Some("v1")
            ),
            "pkg:oci/app@sha256%3Aabc?arch=amd64&repository_url=localhost:5000/team/App&tag=v1"
        );
        assert_eq!(
            oci("app", "sha256:abc", None, None, None),
            "pkg:oci/app@sha256%3Aabc"
        );
    }

    #[test]
    fn module_escaping() {
        assert_eq!(
            escape_module("github.com/BurntSushi/toml"),
            "github.com/!burnt!sushi/toml"
        );
        assert_eq!(
            proxy_zip("github.com/Azure/x", "v1.0.0-RC1"),
            "https://proxy.golang.org/github.com/!azure/x/@v/v1.0.0-!r!c1.zip"
        );
    }
}
