//! Go versions, in every spelling gopack meets: the `go` and `toolchain` lines of go.mod
//! (`1.22`, `1.22.3`, `go1.23.1`), `go env GOVERSION` (`go1.26.8`, `go1.26.0-X:nodwarf5`) and
//! pre-releases (`1.21rc1`). One type, ordered as Go's `gover` package orders them.

use std::fmt;

/// A Go version. Ordered like Go's `gover.Compare`: a language version (`1.21`, no patch)
/// sorts before its pre-releases (`1.21rc1`), which sort before the release (`1.21.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoVersion {
    /// 1 in `go1.26.8`.
    pub major: u32,
    /// 26 in `go1.26.8`.
    pub minor: u32,
    /// 8 in `go1.26.8` (0 when absent).
    pub patch: u32,
    /// Language version, pre-release or release.
    pub kind: VersionKind,
}

/// What kind of version a [`GoVersion`] is; the order is Go's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionKind {
    /// A language version such as `1.21` (no patch): what a `go` line usually says.
    Language,
    /// `1.21beta1`.
    Beta(u32),
    /// `1.21rc2`.
    Rc(u32),
    /// A release: `1.21.0`, `1.21.3`.
    Release,
}

impl GoVersion {
    /// Parses `go1.26.8`, `1.26`, `1.21rc1` or `go1.26.0-X:nodwarf5` (anything after a space,
    /// `-` or `+` is ignored). `None` when it is not a Go version.
    pub fn parse(s: &str) -> Option<GoVersion> {
        let s = s.trim().trim_start_matches("go");
        let s = s.split([' ', '-', '+']).next()?;
        let cut = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (numbers, pre) = s.split_at(cut);
        let mut parts = numbers.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().unwrap_or("0").parse().ok()?;
        let patch_part = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let patch = patch_part.map_or(Ok(0), str::parse).ok()?;
        let kind = match pre {
            "" if patch_part.is_some() => VersionKind::Release,
            "" => VersionKind::Language,
            p => match (p.strip_prefix("rc"), p.strip_prefix("beta")) {
                (Some(n), _) => VersionKind::Rc(n.parse().ok()?),
                (_, Some(n)) => VersionKind::Beta(n.parse().ok()?),
                _ => return None,
            },
        };
        Some(GoVersion {
            major,
            minor,
            patch,
            kind,
        })
    }

    /// The name of the toolchain that provides this version, as GOTOOLCHAIN and `go mod edit
    /// -toolchain` accept it: `1.27` → `go1.27.0` (since Go 1.21 a language version is not a
    /// toolchain: go rejects `go1.27`), `1.27.3` → `go1.27.3`, `1.28rc1` → `go1.28rc1`. Before
    /// Go 1.21, the first release of a minor version was named without `.0` (`go1.20`).
    pub fn toolchain_name(&self) -> String {
        let GoVersion {
            major,
            minor,
            patch,
            kind,
        } = *self;
        match kind {
            VersionKind::Rc(n) => format!("go{major}.{minor}rc{n}"),
            VersionKind::Beta(n) => format!("go{major}.{minor}beta{n}"),
            _ if (major, minor) < (1, 21) && patch == 0 => format!("go{major}.{minor}"),
            _ => format!("go{major}.{minor}.{patch}"),
        }
    }
}

impl fmt::Display for GoVersion {
    /// The version as go.mod writes it, without `go`: `1.21`, `1.21rc1`, `1.21.3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            VersionKind::Language => write!(f, "{}.{}", self.major, self.minor),
            VersionKind::Beta(n) => write!(f, "{}.{}beta{n}", self.major, self.minor),
            VersionKind::Rc(n) => write!(f, "{}.{}rc{n}", self.major, self.minor),
            VersionKind::Release => write!(f, "{}.{}.{}", self.major, self.minor, self.patch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    #[test]
    fn versions_order_like_go() {
        assert!(v("1.21") < v("1.21rc1"));
        assert!(v("1.21beta1") < v("1.21rc1"));
        assert!(v("1.21rc1") < v("1.21rc2"));
        assert!(v("1.21rc2") < v("1.21.0"));
        assert!(v("go1.26.8") > v("1.26"));
        assert_eq!(v("go1.26.0-X:nodwarf5"), v("1.26.0"));
        assert!(v("1.30") > v("go1.26.8"));
        for bad in ["banana", "1.x", "1.2.3.4", "1.21zz1", ""] {
            assert!(GoVersion::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn toolchain_names_are_ones_go_accepts() {
        assert_eq!(v("1.99").toolchain_name(), "go1.99.0");
        assert_eq!(v("1.27.3").toolchain_name(), "go1.27.3");
        assert_eq!(v("1.28rc1").toolchain_name(), "go1.28rc1");
        assert_eq!(v("1.20").toolchain_name(), "go1.20");
        assert_eq!(v("go1.26.8").toolchain_name(), "go1.26.8");
    }

    #[test]
    fn display_round_trips() {
        for s in ["1.21", "1.21rc1", "1.21beta2", "1.21.3"] {
            assert_eq!(v(s).to_string(), s);
        }
    }
}
