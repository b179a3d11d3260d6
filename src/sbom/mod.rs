//! Software bills of materials for Go binaries and the images holding them: SPDX 2.3 and
//! CycloneDX 1.6 JSON, built from what gopack knows first-hand rather than guessed afterwards.
//!
//! Sources of truth (DESIGN.md, anchors-wave2 §3):
//! - the linked binary's build information ([`crate::binary::buildinfo`]): modules, versions,
//!   `h1:` sums (→ SHA-256 hex, as syft and ko write them), build settings;
//! - `go list -deps` for who imports whom ([`graph`]), when the source is at hand;
//! - the `-X` values the build passed, for the main module's version, with where the version
//!   came from recorded ([`golang`]);
//! - licences read offline from the module cache ([`licence`]).
//!
//! Flow: [`SbomInput`] → [`bom::build`] (one neutral [`Bom`]) → [`Format::render`] in either format.
//! Output is deterministic: the same input and creation time give the same bytes (document
//! namespace and serial number are derived from the content). [`image`] finds the Go binaries
//! in any image source; [`referrer`] packs a document as an OCI artifact manifest attached to
//! the image it describes.
#![warn(missing_docs)]

pub mod bom;
pub mod cyclonedx;
pub mod golang;
pub mod graph;
pub mod image;
pub mod licence;
pub mod purl;
pub mod referrer;
pub mod spdx;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use bom::{Bom, GoBinary, ImageSubject, SbomInput};
pub use licence::LicenceFinder;

use crate::binary::buildinfo::{BuildInfoError, read_build_info};
use crate::config::GoEnv;
use crate::oci::Digest;

/// The SPDX JSON media type (an SBOM referrer's `artifactType` and layer type).
pub const MEDIA_TYPE_SPDX: &str = "application/spdx+json";
/// The CycloneDX JSON media type.
pub const MEDIA_TYPE_CYCLONEDX: &str = "application/vnd.cyclonedx+json";

/// An SBOM format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// SPDX 2.3 JSON.
    Spdx,
    /// CycloneDX 1.6 JSON.
    CycloneDx,
}

impl Format {
    /// Both formats, in the order gopack writes them.
    pub const ALL: [Format; 2] = [Format::Spdx, Format::CycloneDx];

    /// The document's media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Spdx => MEDIA_TYPE_SPDX,
            Format::CycloneDx => MEDIA_TYPE_CYCLONEDX,
        }
    }

    /// The format whose media type is `media_type`.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.media_type() == media_type)
    }

    /// The document for `bom` in this format.
    pub fn render(self, bom: &Bom) -> Vec<u8> {
        match self {
            Format::Spdx => spdx::render(bom),
            Format::CycloneDx => cyclonedx::render(bom),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Spdx => "spdx",
            Format::CycloneDx => "cyclonedx",
        })
    }
}

impl FromStr for Format {
    type Err = String;

    /// `spdx` (also `spdx-json`), `cyclonedx` (also `cdx`, `cyclonedx-json`).
    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "spdx" | "spdx-json" => Ok(Format::Spdx),
            "cyclonedx" | "cdx" | "cyclonedx-json" => Ok(Format::CycloneDx),
            other => Err(format!(
                "unknown SBOM format `{}`: use spdx or cyclonedx",
                crate::text::printable(other, 50)
            )),
        }
    }
}

/// A comma-separated list of formats (`spdx,cyclonedx`), each once, in the order given.
pub fn parse_formats(list: &str) -> Result<Vec<Format>, String> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let f: Format = part.parse()?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err("no SBOM format given: use spdx, cyclonedx or both".into());
    }
    Ok(out)
}

/// Why an SBOM could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// The file could not be read.
    #[error("cannot read {}: {error}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file is not a Go binary (or its build information is damaged).
    #[error("{} is not a Go binary gopack can read: {error}", .path.display())]
    NotGo {
        /// The file.
        path: PathBuf,
        /// What the build-information reader said.
        error: BuildInfoError,
    },
}

/// Reads a Go binary from disk: its sha256, size and build information. The file is mapped,
/// not copied, so memory does not grow with its size. With a `finder`, the licences of its
/// modules are looked up while the file is hashed.
pub fn read_binary(path: &Path, finder: Option<&LicenceFinder>) -> Result<GoBinary, SbomError> {
    let read_err = |error| SbomError::Read {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(read_err(std::io::Error::other("not a regular file")));
    }
    // SAFETY: the map is read-only and private; a concurrent writer could change what is read,
    // which gives a wrong digest or a parse error, never undefined behaviour in safe code that
    // only reads bytes (the same trade-off ripgrep makes).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_err)?;
    let info = read_build_info(&map).map_err(|error| SbomError::NotGo {
        path: path.to_path_buf(),
        error,
    })?;
    let sha256 = std::thread::scope(|s| {
        let hashing = s.spawn(|| Digest::of(&map));
        if let Some(finder) = finder {
            finder.prefetch(&info);
        }
        hashing.join()
    })
    .unwrap_or_else(|_| Digest::of(&map));
    Ok(GoBinary {
        path: path.display().to_string(),
        sha256,
        size: meta.len(),
        info,
        x_values: Vec::new(),
        graph: None,
        main_dir: None,
    })
}

/// The Go module cache, as `go` finds it: GOMODCACHE (environment, `go env -w`), else the
/// first GOPATH entry's `pkg/mod`, else `~/go/pkg/mod`. With no [`GoEnv`] at hand (a bare
/// binary), the environment is asked first and then `go env GOMODCACHE`, so `go env -w`
/// settings count without reading Go's whole environment. `None` when the directory does not
/// exist.
pub fn module_cache(goenv: Option<&GoEnv>) -> Option<PathBuf> {
    let get = |name: &str| -> Option<String> {
        match goenv {
            Some(env) => env.get(name).map(str::to_string),
            None => std::env::var(name).ok(),
        }
        .filter(|v| !v.is_empty())
    };
    let ask_go = || {
        let program = std::env::var_os("GOPACK_GO")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "go".into());
        let out = std::process::Command::new(program)
            .args(["env", "GOMODCACHE"])
            .env("GOTOOLCHAIN", "local")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        let path = text.trim();
        (out.status.success() && !path.is_empty()).then(|| path.to_string())
    };
    let from_gopath = || {
        let first = get("GOPATH")
            .and_then(|g| std::env::split_paths(&g).next())
            .or_else(|| dirs::home_dir().map(|h| h.join("go")))?;
        Some(first.join("pkg/mod"))
    };
    let modcache = match get("GOMODCACHE") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if goenv.is_none() => ask_go().map(PathBuf::from).or_else(from_gopath),
        None => from_gopath(),
    };
    modcache.filter(|p| p.is_dir())
}

/// RFC 3339 time (`2026-11-29T16:00:00Z`) of a Unix epoch in seconds.
pub fn rfc3339(epoch: u64) -> String {
    crate::assemble::rfc3339(epoch)
}

/// The creation time of a new document: `SOURCE_DATE_EPOCH` when set (reproducible builds),
/// else now.
pub fn created_now() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    rfc3339(epoch)
}

/// Checks an RFC 3339 UTC time as gopack writes it (`YYYY-MM-DDTHH:MM:SSZ`, optional
/// fraction) and returns it unchanged; the error says what form is expected.
pub fn check_created(value: &str) -> Result<String, String> {
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[b.len() - 1] == b'Z'
        && (b.len() == 20 || (b[19] == b'.' && digits(20..b.len() - 1) && b.len() > 21));
    if shape {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`{}` is not an RFC 3339 UTC time; write it as 2026-01-02T15:04:05Z",
            crate::text::printable(value, 60)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!(
            parse_formats("spdx,cyclonedx,spdx").unwrap(),
            [Format::Spdx, Format::CycloneDx]
        );
        assert_eq!(parse_formats("CDX").unwrap(), [Format::CycloneDx]);
        assert!(parse_formats("syft").is_err());
        assert!(parse_formats(",").is_err());
        assert_eq!(Format::from_media_type(MEDIA_TYPE_SPDX), Some(Format::Spdx));
    }

    #[test]
    fn created_times() {
        assert!(check_created("2026-11-29T16:00:00Z").is_ok());
        assert!(check_created("2026-11-29T16:00:00.123Z").is_ok());
        for bad in [
            "2026-11-29",
            "2026-11-29T16:00:00+01:00",
            "yesterday",
            "2026-11-29T16:00:00.Z",
        ] {
            assert!(check_created(bad).is_err(), "{bad}");
        }
    }
}
