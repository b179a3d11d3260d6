//! The flags of one `go build`: gopack's, GOFLAGS' and the user's, merged the way the go
//! command would apply them. Go takes only the *last* `-ldflags` (and `-tags`) that applies to
//! a package, and flags on the command line come after GOFLAGS, so gopack's own `-ldflags=-s`
//! would silently replace a GOFLAGS `-ldflags`: gopack passes one value holding all of them.

use super::CgoMode;
use super::quoted::{self, QuoteError};

/// gopack's part of `-ldflags`: `-s` drops the symbol table (and DWARF, since -s implies -w).
pub const LDFLAGS_STRIP: &str = "-s";
/// gopack's part of `-ldflags` for a static cgo build, spelled as it always was (the string is
/// part of Go's link action ID, so changing the spelling would change every cgo binary).
pub const LDFLAGS_STATIC_CGO: &str = "-s -linkmode external -extldflags \"-static\"";
/// Tags of a static cgo build: pure-Go DNS resolver and user lookups.
pub const STATIC_CGO_TAGS: [&str; 2] = ["netgo", "osusergo"];

/// One entry of GOFLAGS: `-name`, `--name` or `-name=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoFlag {
    /// The flag name without dashes (`ldflags`, `mod`, `trimpath`).
    pub name: String,
    /// The value after `=`, if any.
    pub value: Option<String>,
    /// The entry as written.
    pub raw: String,
}

/// Why flags could not be read or merged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// GOFLAGS does not split with Go's quoting.
    #[error("GOFLAGS: {0}")]
    GoflagsQuote(QuoteError),
    /// A GOFLAGS entry that is not a flag.
    #[error("GOFLAGS: non-flag {0:?} (each entry must be -flag or -flag=value)")]
    NotAFlag(String),
    /// A flag value does not split, or cannot be joined, with Go's quoting.
    #[error("{flag}: {source}")]
    Quote {
        /// The flag.
        flag: String,
        /// The quoting error.
        source: QuoteError,
    },
    #[error(
        "GOFLAGS has {raw}: gopack passes its own -ldflags, which replaces this one for the main \
         package, and cannot tell whether the pattern `{pattern}` matches it. Give these linker \
         flags with --ldflags instead"
    )]
    /// A GOFLAGS per-package `-ldflags` whose pattern gopack cannot match.
    UnknownPattern {
        /// The GOFLAGS entry.
        raw: String,
        /// The package pattern.
        pattern: String,
    },
    /// A per-package flag without `=`.
    #[error("{raw}: missing =<value> in <pattern>=<value>")]
    BadPerPackage {
        /// The GOFLAGS entry.
        raw: String,
    },
}

/// Parses GOFLAGS like `cmd/go/internal/base.InitGOFLAGS`: Go's quoting, then one flag per
/// field.
pub fn parse_goflags(value: &str) -> Result<Vec<GoFlag>, FlagError> {
    let fields = quoted::split(value).map_err(FlagError::GoflagsQuote)?;
    fields
        .into_iter()
        .map(|raw| {
            let body = raw
                .strip_prefix("--")
                .or_else(|| raw.strip_prefix('-'))
                .filter(|b| !b.is_empty() && !b.starts_with(['-', '=']))
                .ok_or_else(|| FlagError::NotAFlag(raw.clone()))?;
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            Ok(GoFlag { name, value, raw })
        })
        .collect()
}

/// The last GOFLAGS entry named `name`, as go keeps only the last.
pub fn last<'a>(flags: &'a [GoFlag], name: &str) -> Option<&'a GoFlag> {
    flags.iter().rev().find(|f| f.name == name)
}

/// The effective `-ldflags` and `-tags` of one build, and the GOFLAGS it runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFlags {
    /// The `-ldflags` value in Go's quoting: gopack's part, then GOFLAGS', then `--ldflags`.
    pub ldflags: String,
    /// GOFLAGS' `-tags`, then `--tags`, then `netgo,osusergo` for a static cgo build.
    pub tags: Vec<String>,
    /// GOFLAGS as in effect (environment or `go env -w`), passed on unchanged: its `-ldflags`
    /// and `-tags` are overridden by the merged values on the command line.
    pub goflags: Option<String>,
}

/// What a build's flags are made from.
#[derive(Clone, Copy, Debug)]
pub struct FlagInputs<'a> {
    /// GOFLAGS as in effect, and parsed.
    pub goflags: Option<(&'a str, &'a [GoFlag])>,
    /// `--ldflags`, split with Go's quoting.
    pub ldflags: &'a [String],
    /// `--tags`.
    pub tags: &'a [String],
}

impl BuildFlags {
    /// Merges gopack's flags for `cgo` with GOFLAGS' and the user's, for the main package
    /// `main_package` (GOFLAGS' per-package `-ldflags=PATTERN=…` counts when it matches).
    pub fn compose(
        inputs: FlagInputs<'_>,
        cgo: CgoMode,
        main_package: &str,
    ) -> Result<BuildFlags, FlagError> {
        let parsed = inputs.goflags.map(|(_, p)| p).unwrap_or_default();
        let mut words = goflags_ldflags(parsed, main_package)?;
        words.extend(inputs.ldflags.iter().cloned());
        let gopack = if cgo == CgoMode::Static {
            LDFLAGS_STATIC_CGO
        } else {
            LDFLAGS_STRIP
        };
        let ldflags = if words.is_empty() {
            gopack.to_string()
        } else {
            let user = quoted::join(&words).map_err(|source| FlagError::Quote {
                flag: "-ldflags".into(),
                source,
            })?;
            format!("{gopack} {user}")
        };
        let mut tags = goflags_tags(parsed)?;
        tags.extend(inputs.tags.iter().cloned());
        if cgo == CgoMode::Static {
            tags.extend(STATIC_CGO_TAGS.map(String::from));
        }
        let mut seen = std::collections::BTreeSet::new();
        tags.retain(|t| seen.insert(t.clone()));
        Ok(BuildFlags {
            ldflags,
            tags,
            goflags: inputs.goflags.map(|(v, _)| v.to_string()),
        })
    }

    /// The `-ldflags` value split back into words.
    pub fn ldflags_words(&self) -> Vec<String> {
        quoted::split(&self.ldflags).unwrap_or_default()
    }
}

/// The words of the last GOFLAGS `-ldflags` that applies to `main_package`.
fn goflags_ldflags(flags: &[GoFlag], main_package: &str) -> Result<Vec<String>, FlagError> {
    let mut words = Vec::new();
    for flag in flags.iter().filter(|f| f.name == "ldflags") {
        let value = flag.value.as_deref().unwrap_or("").trim();
        let (applies, list) = match per_package(value, &flag.raw)? {
            (Some(pattern), list) => (matches_main(pattern, main_package, &flag.raw)?, list),
            (None, list) => (true, list),
        };
        if applies {
            words = quoted::split(list).map_err(|source| FlagError::Quote {
                flag: flag.raw.clone(),
                source,
            })?;
        }
    }
    Ok(words)
}

/// `[pattern=]flags` as `load.PerPackageFlag.set` reads it.
fn per_package<'v>(value: &'v str, raw: &str) -> Result<(Option<&'v str>, &'v str), FlagError> {
    if value.is_empty() || value.starts_with('-') {
        return Ok((None, value));
    }
    match value.split_once('=') {
        Some((pattern, list)) if !pattern.trim().is_empty() => Ok((Some(pattern.trim()), list)),
        _ => Err(FlagError::BadPerPackage { raw: raw.into() }),
    }
}

/// Whether a package pattern matches the main package: `all`, an import path, or a `...`
/// wildcard. Relative patterns depend on the directory go runs in and are refused.
fn matches_main(pattern: &str, main: &str, raw: &str) -> Result<bool, FlagError> {
    match pattern {
        "all" => Ok(true),
        "std" | "cmd" => Ok(false),
        p if p.starts_with('.') || p.starts_with('/') => Err(FlagError::UnknownPattern {
            raw: raw.into(),
            pattern: p.into(),
        }),
        p if p.contains("...") => Ok(wildcard_match(p, main)),
        p => Ok(p == main),
    }
}

/// `cmd/go/internal/search.MatchPattern`: `...` matches any string, and `x/...` also matches
/// `x` itself.
fn wildcard_match(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("/...")
        && path == prefix
    {
        return true;
    }
    let parts: Vec<&str> = pattern.split("...").collect();
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    rest.is_empty()
}

/// GOFLAGS' `-tags`, read like `work.tagsFlag.Set`.
fn goflags_tags(flags: &[GoFlag]) -> Result<Vec<String>, FlagError> {
    let Some(flag) = last(flags, "tags") else {
        return Ok(Vec::new());
    };
    let value = flag.value.as_deref().unwrap_or("");
    if value.contains(' ') || value.contains('\'') {
        return quoted::split(value).map_err(|source| FlagError::Quote {
            flag: flag.raw.clone(),
            source,
        });
    }
    Ok(value
        .split(',')
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect())
}

/// Why a build with these flags links a dynamic binary, when the flags alone say so: a build
/// mode, shared linking, a sanitizer, or external linking without `-static`.
pub fn dynamic_cause(goflags: &[GoFlag], ldflags_words: &[String], cgo: CgoMode) -> Option<String> {
    if let Some(mode) = last(goflags, "buildmode").and_then(|f| f.value.as_deref())
        && mode == "pie"
    {
        return Some(
            "GOFLAGS has -buildmode=pie: a position-independent executable is linked \
             dynamically and needs the dynamic loader at run time"
                .into(),
        );
    }
    if last(goflags, "linkshared").is_some_and(|f| f.value.as_deref() != Some("false")) {
        return Some("GOFLAGS has -linkshared: the binary links Go shared libraries".into());
    }
    for sanitizer in ["race", "msan", "asan"] {
        if last(goflags, sanitizer).is_some_and(|f| f.value.as_deref() != Some("false")) {
            return Some(format!(
                "GOFLAGS has -{sanitizer}: its runtime is linked with cgo against the C library"
            ));
        }
    }
    let external = ldflags_words
        .windows(2)
        .any(|w| w[0] == "-linkmode" && w[1] == "external")
        || ldflags_words.iter().any(|w| w == "-linkmode=external");
    if external && cgo != CgoMode::Static {
        return Some(
            "-ldflags has -linkmode external without -extldflags -static: the system linker \
             links the binary against the C library dynamically"
                .into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose(goflags: &str, ldflags: &[&str], tags: &[&str], cgo: CgoMode) -> BuildFlags {
        let parsed = parse_goflags(goflags).unwrap();
        let ldflags: Vec<String> = ldflags.iter().map(|s| s.to_string()).collect();
        let tags: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
        let inputs = FlagInputs {
            goflags: (!goflags.is_empty()).then_some((goflags, parsed.as_slice())),
            ldflags: &ldflags,
            tags: &tags,
        };
        BuildFlags::compose(inputs, cgo, "example.com/app/cmd/api").unwrap()
    }

    #[test]
    fn goflags_ldflags_and_tags_join_gopacks() {
        let f = compose(
            "-ldflags=-X=main.v=1 -tags=prod -mod=vendor",
            &["-X", "main.w=a b"],
            &["extra"],
            CgoMode::Off,
        );
        assert_eq!(f.ldflags, "-s -X=main.v=1 -X 'main.w=a b'");
        assert_eq!(f.tags, ["prod", "extra"]);
        let s = compose("-tags=prod", &[], &[], CgoMode::Static);
        assert_eq!(s.ldflags, LDFLAGS_STATIC_CGO);
        assert_eq!(s.tags, ["prod", "netgo", "osusergo"]);
        assert_eq!(compose("", &[], &[], CgoMode::Off).ldflags, "-s");
    }

    #[test]
    fn per_package_ldflags_apply_when_the_pattern_matches_main() {
        let f = compose("-ldflags=all=-X=main.v=1", &[], &[], CgoMode::Off);
        assert_eq!(f.ldflags, "-s -X=main.v=1");
        let f = compose(
            "-ldflags=example.com/app/...=-X=main.v=2",
            &[],
            &[],
            CgoMode::Off,
        );
        assert_eq!(f.ldflags, "-s -X=main.v=2");
        let f = compose("-ldflags=std=-X=main.v=3", &[], &[], CgoMode::Off);
        assert_eq!(f.ldflags, "-s");
        let parsed = parse_goflags("-ldflags=./cmd/...=-w").unwrap();
        let inputs = FlagInputs {
            goflags: Some(("-ldflags=./cmd/...=-w", &parsed)),
            ldflags: &[],
            tags: &[],
        };
        assert!(matches!(
            BuildFlags::compose(inputs, CgoMode::Off, "x"),
            Err(FlagError::UnknownPattern { .. })
        ));
    }

    #[test]
    fn goflags_parse_like_go() {
        let f = parse_goflags("-mod=vendor '-ldflags=-X main.v=a b' --trimpath").unwrap();
        assert_eq!(f[1].value.as_deref(), Some("-X main.v=a b"));
        assert_eq!(f[2].name, "trimpath");
        assert!(matches!(
            parse_goflags("vendor"),
            Err(FlagError::NotAFlag(_))
        ));
        assert!(parse_goflags("'-tags=x").is_err());
    }

    #[test]
    fn wildcards_match_like_go() {
        assert!(wildcard_match("example.com/...", "example.com/a/b"));
        assert!(wildcard_match("example.com/a/...", "example.com/a"));
        assert!(wildcard_match(".../cmd/...", "x.io/y/cmd/z"));
        assert!(!wildcard_match("example.com/b/...", "example.com/a"));
    }

    #[test]
    fn the_cause_of_a_dynamic_binary_is_read_from_the_flags() {
        let pie = parse_goflags("-buildmode=pie").unwrap();
        assert!(
            dynamic_cause(&pie, &[], CgoMode::Off)
                .unwrap()
                .contains("-buildmode=pie")
        );
        let ext = ["-s".to_string(), "-linkmode=external".to_string()];
        assert!(
            dynamic_cause(&[], &ext, CgoMode::Dynamic)
                .unwrap()
                .contains("-linkmode")
        );
        assert_eq!(dynamic_cause(&[], &ext, CgoMode::Static), None);
        assert_eq!(dynamic_cause(&[], &["-s".to_string()], CgoMode::Off), None);
    }
}
