#![warn(missing_docs)]
//! Transport references: where an image is read from or written to, in skopeo's syntax
//! (containers-transports(5)). This is the one parser every verb and flag uses (`--output`,
//! `--base`, `pull`, `inspect`, `sbom`), so `oci:DIR:TAG` means the same thing everywhere.
//!
//! | form | meaning |
//! |---|---|
//! | `oci:DIR[:TAG]` | an OCI image layout directory; TAG is the `org.opencontainers.image.ref.name` |
//! | `oci-archive:FILE[:TAG]` | a tar of an OCI image layout |
//! | `docker-archive:FILE[:REF]` | `docker save`'s format (`manifest.json` + `RepoTags`) |
//! | `docker://REF` | a registry |
//! | `docker-daemon:REF` | a Docker Engine API socket (`DOCKER_HOST`) |
//! | `REF` (bare, where allowed) | a registry, as crane and ko read it |
//!
//! As in skopeo, the path ends at the first `:` after the transport name: `oci:pl:mytag` is the
//! directory `pl` with the tag `mytag`. A path that itself contains `:` cannot be named (skopeo
//! has the same limit); `./` in front does not help, so gopack says so.

use std::fmt;
use std::path::PathBuf;

use crate::registry::Reference;

/// A parsed transport reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// `oci:DIR[:TAG]`.
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The `org.opencontainers.image.ref.name` to read or write.
        tag: Option<String>,
    },
    /// `oci-archive:FILE[:TAG]`.
    OciArchive {
        /// The tar file.
        file: PathBuf,
        /// The ref.name inside it.
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:REF]`; REF names the image in `RepoTags` (a tag-bearing reference).
    DockerArchive {
        /// The tar file.
        file: PathBuf,
        /// The `RepoTags` entry.
        reference: Option<Reference>,
    },
    /// `docker://REF`, or a bare reference where the caller allows one.
    Registry(Reference),
    /// `docker-daemon:REF`.
    DockerDaemon(Reference),
}

/// Why a transport reference was refused; the text says what a valid one looks like.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{input}`: {reason}")]
pub struct ImageRefError {
    /// What was given.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

/// Whether a string without a transport prefix is a registry reference (`gopack inspect alpine`)
/// or an error (`--output`, where a bare word is more likely a forgotten `oci:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bare {
    /// A bare string is a registry reference.
    Registry,
    /// A bare string is refused.
    Refuse,
}

const TRANSPORTS: &str = "oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF], \
     docker://REF or docker-daemon:REF";

impl ImageRef {
    /// Parses `input`. `bare` says what a string with no known transport prefix means.
    pub fn parse(input: &str, bare: Bare) -> Result<ImageRef, ImageRefError> {
        let err = |reason: String| ImageRefError {
            input: input.to_string(),
            reason,
        };
        let (transport, rest) = input.split_once(':').unwrap_or(("", input));
        match transport {
            "oci" | "oci-archive" => {
                let (path, tag) = split_path(rest).map_err(err)?;
                if let Some(t) = &tag {
                    check_ref_name(t).map_err(err)?;
                }
                Ok(if transport == "oci" {
                    ImageRef::Layout { dir: path, tag }
                } else {
                    ImageRef::OciArchive { file: path, tag }
                })
            }
            "docker-archive" => {
                let (file, reference) = split_path(rest).map_err(err)?;
                let reference = reference
                    .map(|r| parse_named(&r))
                    .transpose()
                    .map_err(err)?;
                Ok(ImageRef::DockerArchive { file, reference })
            }
            "docker" => {
                let r = rest.strip_prefix("//").ok_or_else(|| {
                    err("registry references are written docker://REGISTRY/REPOSITORY[:TAG]".into())
                })?;
                parse_named(r).map(ImageRef::Registry).map_err(err)
            }
            "docker-daemon" => parse_named(rest).map(ImageRef::DockerDaemon).map_err(err),
            // No transport prefix: a `registry:port/…` or bare name.
            _ => match bare {
                Bare::Registry => input
                    .parse::<Reference>()
                    .map(ImageRef::Registry)
                    .map_err(|e| err(format!("{}; or name a transport: {TRANSPORTS}", e.reason))),
                Bare::Refuse => Err(err(format!("names no transport: use {TRANSPORTS}"))),
            },
        }
    }

    /// The tag (layouts and OCI archives) or the reference's tag (others), if one was named.
    pub fn tag(&self) -> Option<&str> {
        match self {
            ImageRef::Layout { tag, .. } | ImageRef::OciArchive { tag, .. } => tag.as_deref(),
            ImageRef::DockerArchive { reference, .. } => {
                reference.as_ref().and_then(|r| r.tag.as_deref())
            }
            ImageRef::Registry(r) | ImageRef::DockerDaemon(r) => r.tag.as_deref(),
        }
    }
}

/// `PATH[:REST]` split at the first colon, as skopeo does.
fn split_path(rest: &str) -> Result<(PathBuf, Option<String>), String> {
    let (path, tail) = match rest.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err("has no path".into());
    }
    match tail {
        Some("") => Err("ends with `:` but names no tag after it".into()),
        Some(t) => Ok((PathBuf::from(path), Some(t.to_string()))),
        None => Ok((PathBuf::from(path), None)),
    }
}

/// A reference that names an image by tag (not by digest alone), lower-case repository.
fn parse_named(text: &str) -> Result<Reference, String> {
    let reference = text.parse::<Reference>().map_err(|e| e.reason)?;
    if reference.repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository names must be lowercase".into());
    }
    Ok(reference)
}

/// `org.opencontainers.image.ref.name` values (image-spec annotations.md): components of
/// `[A-Za-z0-9]+` joined by one of `-._:@/+`, or `--`.
pub fn check_ref_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:@/+".contains(c))
        && !name
            .as_bytes()
            .windows(2)
            .any(|w| is_sep(w[0]) && is_sep(w[1]) && w != b"--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid image name in a layout: letters and digits joined by one of \
             - . _ : @ / +"
        ))
    }
}

fn is_sep(b: u8) -> bool {
    b"-._:@/+".contains(&b)
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |t: &Option<String>| t.as_ref().map(|t| format!(":{t}")).unwrap_or_default();
        match self {
            ImageRef::Layout { dir, tag } => write!(f, "oci:{}{}", dir.display(), opt(tag)),
            ImageRef::OciArchive { file, tag } => {
                write!(f, "oci-archive:{}{}", file.display(), opt(tag))
            }
            ImageRef::DockerArchive { file, reference } => {
                write!(f, "docker-archive:{}", file.display())?;
                match reference {
                    Some(r) => write!(f, ":{r}"),
                    None => Ok(()),
                }
            }
            ImageRef::Registry(r) => write!(f, "docker://{r}"),
            ImageRef::DockerDaemon(r) => write!(f, "docker-daemon:{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s, Bare::Registry).unwrap()
    }

    #[test]
    fn the_path_ends_at_the_first_colon_as_in_skopeo() {
        assert_eq!(
            p("oci:pl:mytag"),
            ImageRef::Layout {
                dir: "pl".into(),
                tag: Some("mytag".into())
            }
        );
        assert_eq!(
            p("oci:./out"),
            ImageRef::Layout {
                dir: "./out".into(),
                tag: None
            }
        );
        let ImageRef::DockerArchive { file, reference } =
            p("docker-archive:a.tar:localhost:5000/app:v1")
        else {
            panic!()
        };
        assert_eq!(file, PathBuf::from("a.tar"));
        let r = reference.unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000", "app", Some("v1"))
        );
    }

    #[test]
    fn registries_bare_or_with_docker_prefix() {
        assert_eq!(p("docker://alpine:3"), p("alpine:3"));
        assert!(matches!(
            p("docker-daemon:app:dev"),
            ImageRef::DockerDaemon(_)
        ));
        assert!(
            ImageRef::parse("gopack-out", Bare::Refuse)
                .unwrap_err()
                .reason
                .contains("no transport")
        );
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        for (input, words) in [
            ("oci:", "no path"),
            ("oci::tag", "no path"),
            ("oci:dir:", "no tag"),
            ("oci:dir:bad tag", "not a valid image name"),
            ("oci:dir:-x", "not a valid image name"),
            ("docker:alpine", "docker://"),
            ("docker://example.com/UPPER:v1", "lowercase"),
            ("docker-archive:a.tar:Example/App", "lowercase"),
        ] {
            let e = ImageRef::parse(input, Bare::Registry).unwrap_err();
            assert!(e.to_string().contains(words), "{input}: {e}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "oci:out:v1",
            "oci-archive:x.tar",
            "docker-archive:a.tar:example.org/webcheck:v1",
            "docker-daemon:docker.io/library/app:dev",
        ] {
            let r = p(s);
            assert_eq!(p(&r.to_string()), r, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_parses_or_errors(s in ".{0,80}") {
            let _ = ImageRef::parse(&s, Bare::Registry);
            let _ = ImageRef::parse(&s, Bare::Refuse);
        }
    }
}
