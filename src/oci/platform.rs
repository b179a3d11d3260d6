//! Platforms (`os/architecture[/variant]`) and the one matcher every reader uses to pick an
//! image from an index, with containerd's normalisation (`platforms/database.go`,
//! `platforms.Only`): `x86_64` is `amd64`, `aarch64` is `arm64`, `armhf` is `arm/v7`, amd64 `v1`
//! and arm64 `v8` are written without a variant, plain `arm` is `arm/v7`; and a CPU runs images
//! built for a lower level of its own architecture (`linux/arm/v7` accepts `v6` and `v5`,
//! `linux/amd64/v3` accepts `v2` and plain `amd64`), preferring the closest.
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

/// An OCI platform (`os/architecture[/variant]`), spelled with Go's GOOS/GOARCH names as the
/// image spec requires, and normalised the way containerd does: amd64 `v1` and arm64 `v8` are
/// written without a variant, and plain `arm` means `arm/v7` (go-facts §8).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Platform {
    /// GOOS, e.g. `linux`.
    pub os: String,
    /// GOARCH, e.g. `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// The CPU level (`v7` for arm, `v3` for amd64, `v8.2` for arm64), absent for the baseline.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variant: Option<String>,
}

/// GOARCH values gopack builds images for (those `go tool dist list` has for linux that also
/// have OCI registries in practice).
const LINUX_ARCHITECTURES: &[&str] = &[
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
    "ppc64le", "riscv64", "s390x",
];

/// A `--platform` value that is not a platform gopack builds for.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The text, and why it was refused.
    #[error(
        "unknown platform `{input}`: {reason}. Use os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7"
    )]
    Unknown {
        /// What was given.
        input: String,
        /// Why it is not a platform.
        reason: String,
    },
}

impl Platform {
    /// `linux/<architecture>` without a variant.
    pub fn linux(architecture: &str) -> Platform {
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// The platform of the machine gopack runs on, the default target like `go build`'s.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        };
        Platform::normalised("linux", arch, None)
    }

    fn normalised(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let os = os.to_ascii_lowercase();
        let arch = arch.to_ascii_lowercase();
        let variant = variant
            .map(str::to_ascii_lowercase)
            .filter(|v| !v.is_empty());
        let (arch, variant) = match (arch.as_str(), variant.as_deref()) {
            ("i386", _) => ("386", None),
            ("x86_64" | "x86-64" | "amd64", Some("v1")) => ("amd64", None),
            ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v.map(str::to_string)),
            ("aarch64" | "arm64", Some("8" | "v8" | "v8.0") | None) => ("arm64", None),
            ("aarch64" | "arm64", Some("9" | "9.0" | "v9.0")) => ("arm64", Some("v9".into())),
            ("aarch64" | "arm64", v) => ("arm64", v.map(str::to_string)),
            ("armhf", _) => ("arm", Some("v7".into())),
            ("armel", _) => ("arm", Some("v6".into())),
            ("arm", None | Some("7")) => ("arm", Some("v7".into())),
            ("arm", Some(v @ ("5" | "6" | "8"))) => ("arm", Some(format!("v{v}"))),
            (a, v) => (a, v.map(str::to_string)),
        };
        Platform {
            os,
            architecture: arch.to_string(),
            variant,
        }
    }

    /// This platform as containerd normalises it (see the module docs). Platforms read from
    /// images go through this before any comparison; parsed `--platform` values already are.
    pub fn normalise(&self) -> Platform {
        Platform::normalised(&self.os, &self.architecture, self.variant.as_deref())
    }

    /// How well an image for `offered` serves a machine of platform `self`: `None` when it
    /// cannot run there, else a score where higher is closer (an exact match scores highest).
    /// Both sides are normalised first.
    pub fn match_score(&self, offered: &Platform) -> Option<u32> {
        let (want, have) = (self.normalise(), offered.normalise());
        if want.os != have.os || want.architecture != have.architecture {
            return None;
        }
        if want.variant == have.variant {
            return Some(10_000);
        }
        let level = |p: &Platform| cpu_level(&p.architecture, p.variant.as_deref());
        match (level(&want), level(&have)) {
            (Some(w), Some(h)) if h <= w => Some(1_000 + h),
            _ => None,
        }
    }

    /// Environment for `go build` selecting this platform: GOOS, GOARCH and the level variable
    /// (GOARM, GOAMD64, GOARM64) when a variant is named.
    pub fn go_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("GOOS", self.os.clone()),
            ("GOARCH", self.architecture.clone()),
        ];
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm", Some(v)) => env.push(("GOARM", v.trim_start_matches('v').to_string())),
            ("amd64", Some(v)) => env.push(("GOAMD64", v.to_string())),
            ("arm64", Some(v)) => {
                let level = if v.contains('.') {
                    v.to_string()
                } else {
                    format!("{v}.0")
                };
                env.push(("GOARM64", level));
            }
            _ => {}
        }
        env
    }

    /// A short, file-name-safe form (`linux-arm-v7`).
    pub fn slug(&self) -> String {
        self.to_string().replace('/', "-")
    }
}

/// `os/architecture[/variant]`. The fields may come from an untrusted image config, so control
/// characters are shown escaped (a real platform has none, and prints unchanged).
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |s: &str| crate::text::printable(s, 64);
        write!(f, "{}/{}", p(&self.os), p(&self.architecture))?;
        if let Some(v) = &self.variant {
            write!(f, "/{}", p(v))?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(input: &str) -> Result<Platform, PlatformError> {
        let unknown = |reason: String| PlatformError::Unknown {
            input: input.into(),
            reason,
        };
        let parts: Vec<&str> = input.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => {
                return Err(unknown(
                    "expected two or three parts separated by `/`".into(),
                ));
            }
        };
        if os != "linux" {
            return Err(unknown(format!(
                "container images from gopack run on linux; `{os}` is not supported"
            )));
        }
        if !LINUX_ARCHITECTURES.contains(&arch) {
            return Err(unknown(format!(
                "`{arch}` is not a Go architecture for linux (one of {})",
                LINUX_ARCHITECTURES.join(", ")
            )));
        }
        if let Some(v) = variant {
            let ok = match arch {
                "arm" => matches!(v, "v5" | "v6" | "v7"),
                "amd64" => matches!(v, "v1" | "v2" | "v3" | "v4"),
                "arm64" => is_arm64_level(v),
                _ => false,
            };
            if !ok {
                return Err(unknown(format!(
                    "`{v}` is not a variant Go can build for {arch}"
                )));
            }
        }
        Ok(Platform::normalised(os, arch, variant))
    }
}

/// The CPU level of a variant as a number that orders within one architecture (arm `v7` → 7,
/// amd64 `v3` → 3, arm64 `v8.2` → 82), for the architectures whose levels are ordered.
fn cpu_level(arch: &str, variant: Option<&str>) -> Option<u32> {
    let v = variant.map(|v| v.trim_start_matches('v'));
    match (arch, v) {
        ("amd64", None) => Some(1),
        ("amd64", Some(n)) => n.parse().ok().filter(|n| (1..=4).contains(n)),
        ("arm", Some(n)) => n.parse().ok().filter(|n| (5..=8).contains(n)),
        ("arm64", None) => Some(80),
        ("arm64", Some(n)) => {
            let (major, minor) = n.split_once('.').unwrap_or((n, "0"));
            let (major, minor): (u32, u32) = (major.parse().ok()?, minor.parse().ok()?);
            (matches!(major, 8 | 9) && minor <= 9).then_some(major * 10 + minor)
        }
        _ => None,
    }
}

/// Which platforms of an image to read.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum PlatformSelector {
    /// Every platform an index lists (attestation entries, `unknown/unknown`, excluded).
    #[default]
    All,
    /// For each platform named, the one image that best serves it ([`Platform::match_score`]);
    /// a platform no image serves is an error.
    Only(Vec<Platform>),
}

impl PlatformSelector {
    /// `All` for an empty list, else `Only` those platforms.
    pub fn from_list(platforms: &[Platform]) -> PlatformSelector {
        if platforms.is_empty() {
            PlatformSelector::All
        } else {
            PlatformSelector::Only(platforms.to_vec())
        }
    }
}

/// Of `candidates`, the one that best serves `wanted` (the first of equals), if any does.
pub fn best_match<'a, T>(
    wanted: &Platform,
    candidates: impl IntoIterator<Item = (&'a Platform, T)>,
) -> Option<T> {
    let mut best: Option<(u32, T)> = None;
    for (offered, item) in candidates {
        if let Some(score) = wanted.match_score(offered)
            && best.as_ref().is_none_or(|(b, _)| score > *b)
        {
            best = Some((score, item));
        }
    }
    best.map(|(_, item)| item)
}

fn is_arm64_level(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    match (major.parse::<u32>(), minor.parse::<u32>()) {
        (Ok(8), Ok(m)) => m <= 9,
        (Ok(9), Ok(m)) => m <= 5,
        _ => false,
    }
}

/// Parses a comma-separated `--platform` list, keeping the first occurrence of each platform.
pub fn parse_platform_list(list: &str) -> Result<Vec<Platform>, PlatformError> {
    let mut out: Vec<Platform> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p: Platform = item.parse()?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_of_a_config_are_shown_escaped() {
        let p = Platform {
            os: "linux".into(),
            architecture: "amd64\u{1b}]0;owned\u{7}".into(),
            variant: Some("\u{9b}2J".into()),
        };
        let shown = p.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("linux/amd64\\u{1b}"), "{shown}");
    }

    #[test]
    fn normalises_like_containerd() {
        assert_eq!(
            "linux/arm".parse::<Platform>().unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            "linux/amd64/v1".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            "linux/arm64/v8".parse::<Platform>().unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            "linux/amd64/v3".parse::<Platform>().unwrap().to_string(),
            "linux/amd64/v3"
        );
    }

    #[test]
    fn go_env_selects_the_level() {
        let env = "linux/arm/v6".parse::<Platform>().unwrap().go_env();
        assert!(env.contains(&("GOARM", "6".into())));
        let env = "linux/arm64/v8.2".parse::<Platform>().unwrap().go_env();
        assert!(env.contains(&("GOARM64", "v8.2".into())));
        let env = "linux/amd64/v3".parse::<Platform>().unwrap().go_env();
        assert!(env.contains(&("GOAMD64", "v3".into())));
    }

    #[test]
    fn rejects_unknown_platforms_with_reasons() {
        for bad in [
            "linux/sparc",
            "windows/amd64",
            "linux",
            "linux/arm/v9",
            "linux/amd64/v7",
        ] {
            let err = bad.parse::<Platform>().unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn matching_prefers_exact_then_the_closest_lower_level() {
        let p = |s: &str| s.parse::<Platform>().unwrap();
        let raw = |a: &str, v: Option<&str>| Platform {
            os: "linux".into(),
            architecture: a.into(),
            variant: v.map(Into::into),
        };
        let offered = [
            raw("arm", Some("v5")),
            raw("arm", Some("v6")),
            raw("aarch64", Some("8")),
            raw("x86_64", None),
            raw("amd64", Some("v3")),
        ];
        let pick = |w: &str| best_match(&p(w), offered.iter().map(|o| (o, o.clone())));
        assert_eq!(pick("linux/arm/v7"), Some(raw("arm", Some("v6"))));
        assert_eq!(pick("linux/arm/v6"), Some(raw("arm", Some("v6"))));
        assert_eq!(pick("linux/arm64"), Some(raw("aarch64", Some("8"))));
        assert_eq!(pick("linux/arm64/v8.2"), Some(raw("aarch64", Some("8"))));
        assert_eq!(pick("linux/amd64"), Some(raw("x86_64", None)));
        assert_eq!(pick("linux/amd64/v3"), Some(raw("amd64", Some("v3"))));
        assert_eq!(pick("linux/amd64/v2"), Some(raw("x86_64", None)));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(raw("armhf", None).normalise(), p("linux/arm/v7"));
        assert_eq!(raw("i386", None).normalise(), p("linux/386"));
    }

    #[test]
    fn list_drops_duplicates() {
        let list = parse_platform_list("linux/amd64, linux/arm64,linux/amd64/v1").unwrap();
        assert_eq!(list.len(), 2);
    }
}
