//! Target platforms and Go's level variables (GOAMD64, GOARM64, GOARM, GOPPC64, GORISCV64):
//! the OCI platform variant and the variable that makes the compiler build for it are one
//! decision, so the image platform always equals the binary's (image-spec image-index.md;
//! go-facts §8).

use crate::config::GoEnv;
use crate::oci::Platform;

/// One architecture's level variable: its name, Go's default level, and how a level is written
/// as an OCI variant.
struct Level {
    arch: &'static str,
    var: &'static str,
    /// Go's default, which OCI (as containerd normalises it) writes as "no variant", except
    /// for arm where the normalised default variant is `v7`.
    default: &'static str,
}

const LEVELS: &[Level] = &[
    Level {
        arch: "amd64",
        var: "GOAMD64",
        default: "v1",
    },
    Level {
        arch: "arm64",
        var: "GOARM64",
        default: "v8.0",
    },
    Level {
        arch: "arm",
        var: "GOARM",
        default: "7",
    },
    Level {
        arch: "ppc64le",
        var: "GOPPC64",
        default: "power8",
    },
    Level {
        arch: "ppc64",
        var: "GOPPC64",
        default: "power8",
    },
    Level {
        arch: "riscv64",
        var: "GORISCV64",
        default: "rva20u64",
    },
];

fn level_of(arch: &str) -> Option<&'static Level> {
    LEVELS.iter().find(|l| l.arch == arch)
}

/// The level variable of an architecture (`GOAMD64` for amd64), if it has one.
pub fn level_variable(arch: &str) -> Option<&'static str> {
    level_of(arch).map(|l| l.var)
}

/// A level value without options: `v8.0,lse` → `v8.0`, `7,softfloat` → `7`.
fn base_level(value: &str) -> &str {
    value.split(',').next().unwrap_or(value)
}

/// The variant a platform of `arch` gets for a level value, normalised as containerd does:
/// the default level is no variant (arm: `v7`), `GOARM=6` → `v6`, `GOARM64=v9.0` → `v9`.
pub fn variant_for_level(arch: &str, value: &str) -> Option<String> {
    let level = level_of(arch)?;
    let base = base_level(value);
    match arch {
        "arm" => Some(format!("v{base}")),
        _ if base == level.default => None,
        "arm64" => Some(base.strip_suffix(".0").unwrap_or(base).to_string()),
        _ => Some(base.to_string()),
    }
}

/// The level value that builds for `platform`'s variant: the inverse of [`variant_for_level`].
pub fn level_for_variant(platform: &Platform) -> Option<String> {
    let level = level_of(&platform.architecture)?;
    let Some(variant) = platform.variant.as_deref() else {
        return Some(level.default.to_string());
    };
    Some(match platform.architecture.as_str() {
        "arm" => variant.trim_start_matches('v').to_string(),
        "arm64" if !variant.contains('.') => format!("{variant}.0"),
        _ => variant.to_string(),
    })
}

/// Whether `platform` has its architecture's default variant (so an environment level may set
/// it).
fn has_default_variant(platform: &Platform) -> bool {
    match level_of(&platform.architecture) {
        Some(level) => platform.variant == variant_for_level(&platform.architecture, level.default),
        None => true,
    }
}

/// What the environment's level variable did to a requested platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelChoice {
    /// No level variable is set, or it agrees with the platform.
    Unchanged,
    /// The platform named no variant, and the environment's level sets it.
    /// The level variable and its value.
    SetByEnvironment {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The platform names a variant, which wins over the environment's level.
    /// The level variable and its (unused) value.
    Overridden {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
}

/// The platform to build for `requested`, with the environment's level variable applied when
/// `requested` has the default variant, and what happened.
pub fn apply_environment_level(requested: &Platform, goenv: &GoEnv) -> (Platform, LevelChoice) {
    let Some(level) = level_of(&requested.architecture) else {
        return (requested.clone(), LevelChoice::Unchanged);
    };
    let Some(value) = goenv.get(level.var) else {
        return (requested.clone(), LevelChoice::Unchanged);
    };
    if level_for_variant(requested).as_deref() == Some(base_level(value)) {
        return (requested.clone(), LevelChoice::Unchanged);
    }
    let from_env = variant_for_level(&requested.architecture, value);
    let value = value.to_string();
    if has_default_variant(requested) {
        let platform = Platform {
            variant: from_env,
            ..requested.clone()
        };
        (
            platform,
            LevelChoice::SetByEnvironment {
                var: level.var,
                value,
            },
        )
    } else {
        (
            requested.clone(),
            LevelChoice::Overridden {
                var: level.var,
                value,
            },
        )
    }
}

/// The environment that selects `platform` for `go build`: GOOS, GOARCH, and the level
/// variable whenever the platform names a non-default variant or the Go environment sets the
/// variable (then it is set explicitly, so the binary's level is always the platform's). An
/// environment value with the platform's level keeps its options (`v8.0,lse`).
pub fn target_env(platform: &Platform, goenv: &GoEnv) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GOOS", platform.os.clone()),
        ("GOARCH", platform.architecture.clone()),
    ];
    let (Some(level), Some(wanted)) = (
        level_of(&platform.architecture),
        level_for_variant(platform),
    ) else {
        return env;
    };
    match goenv.get(level.var) {
        Some(user) if base_level(user) == wanted => env.push((level.var, user.to_string())),
        Some(_) => env.push((level.var, wanted)),
        None if platform.variant.is_some() => env.push((level.var, wanted)),
        None => {}
    }
    env
}

/// The level a built binary records in its build info (`GOAMD64=v3`, `GOARM=7,hardfloat`),
/// compared with the platform: `Err` with both when they differ.
pub fn check_recorded_level(platform: &Platform, recorded: Option<&str>) -> Result<(), String> {
    let (Some(wanted), Some(recorded)) = (level_for_variant(platform), recorded) else {
        return Ok(());
    };
    if base_level(recorded) == wanted {
        Ok(())
    } else {
        Err(format!(
            "the binary was built for {}={recorded}, but the image platform {platform} means {}",
            level_variable(&platform.architecture).unwrap_or("level"),
            wanted
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    fn goenv(pairs: &[(&str, &str)]) -> GoEnv {
        let installed = crate::config::InstalledGo {
            name: "go1.26.8".into(),
            version: None,
            goroot: "/nonexistent".into(),
        };
        let mut vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.push(("GOENV".into(), "off".into()));
        GoEnv::from_parts(vars, installed, "go".into())
    }

    #[test]
    fn variants_and_levels_are_inverse() {
        for (platform, level) in [
            ("linux/amd64", "v1"),
            ("linux/amd64/v3", "v3"),
            ("linux/arm64", "v8.0"),
            ("linux/arm64/v8.2", "v8.2"),
            ("linux/arm64/v9", "v9.0"),
            ("linux/arm/v6", "6"),
            ("linux/arm", "7"),
        ] {
            let platform = p(platform);
            assert_eq!(level_for_variant(&platform).as_deref(), Some(level));
            assert_eq!(
                variant_for_level(&platform.architecture, level),
                platform.variant,
                "{platform}"
            );
        }
        let power9 = Platform {
            variant: Some("power9".into()),
            ..Platform::linux("ppc64le")
        };
        assert_eq!(level_for_variant(&power9).as_deref(), Some("power9"));
        assert_eq!(variant_for_level("ppc64le", "power8"), None);
        assert_eq!(variant_for_level("arm64", "v8.0,lse"), None);
        assert_eq!(
            variant_for_level("arm", "6,softfloat").as_deref(),
            Some("v6")
        );
    }

    #[test]
    fn the_environment_sets_a_default_variant_and_loses_to_a_named_one() {
        let env = goenv(&[("GOAMD64", "v3")]);
        let (platform, choice) = apply_environment_level(&p("linux/amd64"), &env);
        assert_eq!(platform, p("linux/amd64/v3"));
        assert!(matches!(choice, LevelChoice::SetByEnvironment { .. }));
        let (platform, choice) = apply_environment_level(&p("linux/amd64/v2"), &env);
        assert_eq!(platform, p("linux/amd64/v2"));
        assert!(matches!(choice, LevelChoice::Overridden { .. }));
        assert_eq!(
            target_env(&platform, &env),
            [
                ("GOOS", "linux".to_string()),
                ("GOARCH", "amd64".into()),
                ("GOAMD64", "v2".into())
            ]
        );
        let arm = goenv(&[("GOARM", "6")]);
        assert_eq!(
            apply_environment_level(&p("linux/arm"), &arm).0,
            p("linux/arm/v6")
        );
    }

    #[test]
    fn nothing_is_added_when_nothing_asks_for_it() {
        let env = goenv(&[]);
        assert_eq!(target_env(&p("linux/amd64"), &env).len(), 2);
        assert_eq!(
            target_env(&p("linux/arm/v7"), &env)[2],
            ("GOARM", "7".into())
        );
        let lse = goenv(&[("GOARM64", "v8.0,lse")]);
        assert_eq!(
            target_env(&p("linux/arm64"), &lse)[2],
            ("GOARM64", "v8.0,lse".into())
        );
    }

    #[test]
    fn recorded_levels_are_checked() {
        assert!(check_recorded_level(&p("linux/amd64/v3"), Some("v3")).is_ok());
        assert!(check_recorded_level(&p("linux/amd64"), Some("v3")).is_err());
        assert!(check_recorded_level(&p("linux/arm/v7"), Some("7,hardfloat")).is_ok());
    }
}
