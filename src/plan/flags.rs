//! The reasons for every `go build` flag and environment variable, and the warnings about the
//! user's inputs (GOFLAGS, the Go environment, `--ldflags`, `--env`), each made together with
//! the decision it explains.

use serde::Serialize;

use crate::config::{GoEnv, SettingSource};
use crate::gobuild::flags::{GoFlag, dynamic_cause};
use crate::gobuild::platform::{LevelChoice, target_env};
use crate::gobuild::{CgoMode, quoted};
use crate::oci::Platform;

/// A flag (or environment variable) and why it is there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagReason {
    /// The flag as passed.
    pub flag: String,
    /// Why.
    pub why: String,
}

fn reason(flag: impl Into<String>, why: impl Into<String>) -> FlagReason {
    FlagReason {
        flag: flag.into(),
        why: why.into(),
    }
}

/// Flags gopack never sets, and why (the advice they come from is outdated).
pub fn flags_not_used() -> Vec<FlagReason> {
    vec![
        reason(
            "-a",
            "obsolete since Go 1.10: the build cache is content-based, so -a only makes builds \
             slower (same bytes)",
        ),
        reason(
            "-installsuffix cgo",
            "has no effect: $GOROOT/pkg has had no prebuilt archives since Go 1.20",
        ),
        reason("-w", "-ldflags=-s already implies -w (no DWARF)"),
        reason(
            "-buildid=",
            "not needed for reproducible builds: the build ID is a hash of the inputs",
        ),
    ]
}

/// What the flag reasons are made from.
pub struct FlagContext<'a> {
    /// The Go environment.
    pub goenv: &'a GoEnv,
    /// GOFLAGS, parsed.
    pub goflags: &'a [GoFlag],
    /// The cgo mode of each image.
    pub modes: &'a [CgoMode],
    /// The target platforms.
    pub platforms: &'a [Platform],
    /// What the environment's level variable did to each platform.
    pub levels: &'a [(Platform, LevelChoice)],
    /// `--ldflags` words.
    pub ldflags: &'a [String],
    /// `--tags`.
    pub tags: &'a [String],
    /// gopack.toml `flags` (appended to GOFLAGS).
    pub config_flags: &'a [String],
}

fn source_of(goenv: &GoEnv, name: &str) -> String {
    goenv
        .setting(name)
        .map(|s| s.source.describe(goenv.env_file()))
        .unwrap_or_else(|| "the environment".into())
}

/// Each flag and environment variable of the builds, with why it is there.
pub fn flag_reasons(cx: &FlagContext<'_>) -> Vec<FlagReason> {
    let mut flags = Vec::new();
    if cx.modes.contains(&CgoMode::Off) {
        flags.push(reason(
            "CGO_ENABLED=0",
            "no package outside the standard library needs cgo: pure Go links a static binary \
             that runs on scratch, and the build does not depend on the C toolchain",
        ));
    }
    if cx.modes.iter().any(|m| *m != CgoMode::Off) {
        flags.push(reason(
            "CGO_ENABLED=1",
            "cgo packages must be compiled with the C compiler (see cgo below)",
        ));
    }
    flags.push(platform_reason(cx));
    flags.extend(level_reasons(cx));
    flags.push(toolchain_reason(cx.goenv));
    flags.push(reason(
        "-trimpath",
        "removes local file system paths (and GOROOT) from the binary: same bytes on any \
         machine, no home directory leaked",
    ));
    flags.push(reason(
        "-ldflags=-s",
        "drops the symbol table and (since -s implies -w) DWARF: about 30% smaller; stack \
         traces still work, and gopack reads needs from .gopclntab, which -s keeps",
    ));
    if cx.modes.contains(&CgoMode::Static) {
        flags.push(reason(
            "-ldflags=-linkmode external -extldflags \"-static\"",
            "links the C code statically with the system linker, so the binary needs no libc \
             on scratch",
        ));
        flags.push(reason(
            "-tags=netgo,osusergo",
            "pure-Go DNS resolver and user lookups: no glibc getaddrinfo/getpwuid_r, which do \
             not work in a static binary",
        ));
    }
    flags.extend(goflags_reasons(cx));
    if !cx.ldflags.is_empty() {
        let words = quoted::join(cx.ldflags).unwrap_or_else(|_| cx.ldflags.join(" "));
        flags.push(reason(
            format!("-ldflags=… {words}"),
            "your --ldflags, appended after gopack's (and GOFLAGS') in the one -ldflags value",
        ));
    }
    if !cx.tags.is_empty() {
        flags.push(reason(
            format!("-tags={}", cx.tags.join(",")),
            "your --tags",
        ));
    }
    flags
}

fn platform_reason(cx: &FlagContext<'_>) -> FlagReason {
    let env: Vec<String> = cx
        .platforms
        .iter()
        .map(|p| {
            let vars: Vec<String> = target_env(p, cx.goenv)
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            vars.join(" ")
        })
        .collect();
    reason(
        env.join(" | "),
        "the target platform of each image, set explicitly so the host's GOOS/GOARCH never leak \
         in, and the level variable whenever it is set, so the binary is built for exactly the \
         image's platform",
    )
}

fn toolchain_reason(goenv: &GoEnv) -> FlagReason {
    let toolchain = goenv.toolchain();
    match toolchain.source {
        None => reason(
            "GOTOOLCHAIN=local",
            "use the installed Go and never download a toolchain silently",
        ),
        Some(source) => {
            // GOTOOLCHAIN=<name>[+auto|+path]; auto is local+auto, path is local+path
            // (go help toolchain).
            let v = toolchain.value.as_str();
            let what = if v == "auto" || v.ends_with("+auto") {
                "go may download the toolchain go.mod asks for"
            } else if v == "path" || v.ends_with("+path") {
                "go may run another toolchain from PATH when go.mod asks for a newer one"
            } else if v == "local" {
                "go uses the installed toolchain and downloads none"
            } else {
                "go runs exactly this toolchain, downloading it when it is not the installed one"
            };
            reason(
                format!("GOTOOLCHAIN={v}"),
                format!("from {}: {what}", source.describe(goenv.env_file())),
            )
        }
    }
}

fn level_reasons(cx: &FlagContext<'_>) -> Vec<FlagReason> {
    cx.levels
        .iter()
        .filter_map(|(platform, choice)| match choice {
            LevelChoice::SetByEnvironment { var, value } => Some(reason(
                format!("{var}={value}"),
                format!(
                    "from {}: it sets the image platform to {platform}, so the image says what \
                     the binary needs (it will not start on older CPUs)",
                    source_of(cx.goenv, var)
                ),
            )),
            _ => None,
        })
        .collect()
}

/// GOFLAGS entries, with what happens to each.
fn goflags_reasons(cx: &FlagContext<'_>) -> Vec<FlagReason> {
    let source = source_of(cx.goenv, "GOFLAGS");
    cx.goflags
        .iter()
        .map(|f| {
            let source = if cx.config_flags.contains(&f.raw) {
                "gopack.toml `flags`".to_string()
            } else {
                source.clone()
            };
            let why = match f.name.as_str() {
                "ldflags" => format!(
                    "from GOFLAGS ({source}): merged into the one -ldflags gopack passes, after \
                     gopack's -s (go keeps only the last -ldflags, so passing both would drop one)"
                ),
                "tags" => format!(
                    "from GOFLAGS ({source}): merged into the one -tags gopack passes (go keeps \
                     only the last -tags)"
                ),
                "gcflags" | "asmflags" => format!(
                    "from GOFLAGS ({source}): applied by go as is (gopack passes no -{})",
                    f.name
                ),
                "trimpath" => format!("from GOFLAGS ({source}): gopack passes -trimpath anyway"),
                _ => format!("from GOFLAGS ({source}): passed to go as is"),
            };
            reason(format!("GOFLAGS {}", f.raw), why)
        })
        .collect()
}

/// Warnings about the Go environment: GOFLAGS entries that change the result, variables gopack
/// overrides, vendoring, and the toolchain.
pub fn environment_warnings(goenv: &GoEnv, goflags: &[GoFlag], vendored: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(setting) = goenv.setting("GOFLAGS") {
        let place = match setting.source {
            SettingSource::GoEnvFile => {
                format!("is set with {}", setting.source.describe(goenv.env_file()))
            }
            _ => format!("is set in {}", setting.source.describe(goenv.env_file())),
        };
        warnings.push(format!(
            "GOFLAGS=\"{}\" {place}: gopack merges its -ldflags and -tags into its own and \
             passes the rest to go (see the flags)",
            setting.value
        ));
    }
    for f in goflags {
        match (f.name.as_str(), f.value.as_deref()) {
            ("a", _) | ("installsuffix", _) => warnings.push(format!(
                "GOFLAGS contains {}: obsolete since Go 1.10, it only slows builds down",
                f.raw
            )),
            ("buildvcs", Some("false")) => warnings.push(format!(
                "GOFLAGS has {}: go does not stamp version control information (vcs.revision, \
                 vcs.time, vcs.modified) into the binary, so its build info cannot say which \
                 commit it is",
                f.raw
            )),
            ("buildmode", Some(mode)) if mode != "exe" && mode != "default" => {
                let what = match mode {
                    "pie" => "a position-independent executable, dynamically linked: it needs the \
                              dynamic loader, which scratch does not have"
                        .to_string(),
                    other => format!("a {other}, not a command an image can run"),
                };
                warnings.push(format!("GOFLAGS has {}: go builds {what}", f.raw));
            }
            _ => {}
        }
    }
    if let Some(cause) = dynamic_cause(goflags, &[], CgoMode::Off)
        && !cause.contains("-buildmode")
    {
        warnings.push(format!("{cause}: the binary will not start on scratch"));
    }
    warnings.extend(vendoring_warnings(goflags, vendored));
    if let Some(v) = goenv.get("CGO_ENABLED") {
        warnings.push(format!(
            "CGO_ENABLED={v} from {} is not used: gopack sets it per binary from the cgo \
             decision (use --cgo)",
            source_of(goenv, "CGO_ENABLED")
        ));
    }
    for k in ["GOOS", "GOARCH"] {
        if let Some(v) = goenv.get(k) {
            warnings.push(format!(
                "{k}={v} from {} is not used: gopack sets it from --platform",
                source_of(goenv, k)
            ));
        }
    }
    if goenv.toolchain().may_switch() {
        warnings.push(format!(
            "GOTOOLCHAIN={} from {}: go may download a toolchain",
            goenv.toolchain().value,
            source_of(goenv, "GOTOOLCHAIN")
        ));
    }
    warnings
}

fn vendoring_warnings(goflags: &[GoFlag], vendored: bool) -> Vec<String> {
    let mod_flag = crate::gobuild::flags::last(goflags, "mod").map(|f| f.raw.as_str());
    match (vendored, mod_flag) {
        (false, Some("-mod=vendor")) => vec![
            "GOFLAGS has -mod=vendor but there is no vendor/modules.txt: run `go mod vendor`"
                .into(),
        ],
        (true, Some(flag)) if flag != "-mod=vendor" => vec![format!(
            "vendor/modules.txt is present but GOFLAGS has {flag}: go will not build from vendor/"
        )],
        (true, _) => vec![
            "vendor/modules.txt is present: go builds from vendor/ (-mod=vendor is the default \
             for go ≥ 1.14), offline; run `go mod vendor` after changing go.mod"
                .into(),
        ],
        (false, _) => Vec::new(),
    }
}

/// Warnings for level variables that a `--platform` variant overrides.
pub fn level_warnings(goenv: &GoEnv, levels: &[(Platform, LevelChoice)]) -> Vec<String> {
    levels
        .iter()
        .filter_map(|(platform, choice)| match choice {
            LevelChoice::Overridden { var, value } => Some(format!(
                "{var}={value} from {} is overridden by --platform {platform}: gopack builds \
                 for the platform's variant, so the binary matches the image",
                source_of(goenv, var)
            )),
            _ => None,
        })
        .collect()
}

/// Warnings about `--ldflags` words that are redundant or impossible.
pub fn ldflags_warnings(ldflags: &[String], modes: &[CgoMode]) -> Vec<String> {
    let mut warnings = Vec::new();
    let all_off = modes.iter().all(|m| *m == CgoMode::Off);
    for word in ldflags {
        match word.as_str() {
            "-w" => warnings
                .push("--ldflags -w is redundant: gopack's -s already implies -w".to_string()),
            "-s" => warnings.push("--ldflags -s is redundant: gopack always passes -s".into()),
            w if (w == "-linkmode" || w.starts_with("-linkmode=")) && all_off => warnings.push(
                "--ldflags -linkmode with CGO_ENABLED=0: external linking needs cgo (an error \
                 since Go 1.22), and a pure-Go binary is already static"
                    .into(),
            ),
            _ => {}
        }
    }
    warnings
}

/// Warnings about the image's environment: values that look like secrets (the rule lint
/// applies to ENV, GO307), named without their values.
pub fn env_warnings(env: &[(String, String)]) -> Vec<String> {
    env.iter()
        .filter(|(name, value)| {
            !value.is_empty() && crate::dockerfile::rules::looks_like_secret(name)
        })
        .map(|(name, _)| {
            format!(
                "--env {name} looks like a secret: it is stored in the image config, readable by \
                 anyone who can pull the image (the same finding as lint's GO307 for ENV). Give \
                 it at run time instead (a Kubernetes Secret, docker run -e); --env {name} \
                 without a value or --env-file keep it out of shell history, not out of the image"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_toolchain_is_described_by_what_go_does_with_it() {
        let goroot = tempfile::tempdir().unwrap();
        let why = |value: &str| {
            let env = GoEnv::from_parts(
                [("GOTOOLCHAIN".to_string(), value.to_string())],
                crate::config::InstalledGo {
                    name: "go1.26.8".into(),
                    version: None,
                    goroot: goroot.path().to_path_buf(),
                },
                "go".into(),
            );
            toolchain_reason(&env).why
        };
        assert!(why("local").contains("downloads none"), "{}", why("local"));
        assert!(why("auto").contains("may download"));
        assert!(why("go1.26.0+auto").contains("may download"));
        assert!(why("path").contains("from PATH"));
        assert!(why("go1.27.0").contains("exactly this toolchain"));
    }

    #[test]
    fn redundant_and_impossible_ldflags_are_warned_about() {
        let words: Vec<String> = ["-w", "-linkmode", "external"].map(String::from).to_vec();
        let off = ldflags_warnings(&words, &[CgoMode::Off]);
        assert_eq!(off.len(), 2, "{off:?}");
        assert!(off[1].contains("error since Go 1.22"));
        assert_eq!(ldflags_warnings(&words, &[CgoMode::Static]).len(), 1);
    }

    #[test]
    fn secret_names_are_warned_without_their_values() {
        let env = vec![
            ("DB_PASSWORD".to_string(), "hunter2".to_string()),
            (
                "DB_PASSWORD_FILE".to_string(),
                "/run/secrets/db".to_string(),
            ),
            ("LOG_LEVEL".to_string(), "debug".to_string()),
        ];
        let w = env_warnings(&env);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("DB_PASSWORD") && !w[0].contains("hunter2"));
    }
}
