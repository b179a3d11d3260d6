use std::fmt;
use std::str::FromStr;

/// An OCI platform (`os/architecture[/variant]`), spelled with Go's GOOS/GOARCH names as the
/// image spec requires, and normalised the way containerd does: amd64 `v1` and arm64 `v8` are
/// written without a variant, and plain `arm` means `arm/v7` (go-facts §8).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub variant: Option<String>,
}

/// GOARCH values gopack builds images for (those `go tool dist list` has for linux that also
/// have OCI registries in practice).
const LINUX_ARCHITECTURES: &[&str] = &[
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
    "ppc64le", "riscv64", "s390x",
];

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(
        "unknown platform `{input}`: {reason}. Use os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7"
    )]
    Unknown { input: String, reason: String },
}

impl Platform {
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
        let variant = match (arch, variant) {
            ("amd64", Some("v1")) | ("arm64", Some("v8")) | ("arm64", Some("v8.0")) => None,
            ("arm", None) => Some("v7".to_string()),
            (_, v) => v.map(str::to_string),
        };
        Platform {
            os: os.into(),
            architecture: arch.into(),
            variant,
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

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
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
    fn list_drops_duplicates() {
        let list = parse_platform_list("linux/amd64, linux/arm64,linux/amd64/v1").unwrap();
        assert_eq!(list.len(), 2);
    }
}
