//! The Go toolchain decision: the `go` line of go.mod against the installed Go and the
//! GOTOOLCHAIN policy, with the exact fix when it is too old.

use serde::Serialize;

use crate::config::{GoEnv, GoSetting, SettingSource};
use crate::project::{GoMod, GoVersion};

/// The Go toolchain decision.
#[derive(Clone, Debug, Serialize)]
pub struct GoPlan {
    /// The `go` line of go.mod: the minimum Go version (hard requirement since Go 1.21).
    pub required: Option<String>,
    /// The `toolchain` line: a suggestion, ignored under GOTOOLCHAIN=local.
    pub toolchain: Option<String>,
    /// `go env GOVERSION` of the Go gopack runs.
    pub installed: String,
    /// GOTOOLCHAIN for the go commands gopack runs (`local` unless the user set it).
    pub gotoolchain: String,
    /// Where the user set GOTOOLCHAIN; absent when it is gopack's `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gotoolchain_source: Option<SettingSource>,
    /// The Go settings the user made that change the build (environment or `go env -w`),
    /// with where each comes from.
    pub environment: Vec<GoSetting>,
    /// The `go env -w` file that was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_file: Option<std::path::PathBuf>,
    /// The installed Go satisfies the `go` line.
    pub satisfied: bool,
    /// What to do when it does not.
    pub suggestion: Option<String>,
}

/// The toolchain decision for `gomod`.
pub fn go_plan(gomod: &GoMod, goenv: &GoEnv) -> GoPlan {
    let toolchain = goenv.toolchain();
    let installed = goenv.installed();
    let required = gomod.go_version.as_deref().and_then(GoVersion::parse);
    let too_old = matches!((required, installed.version), (Some(need), Some(have)) if need > have);
    let suggestion = required.filter(|_| too_old).map(|need| {
        let wanted = gomod.go_version.as_deref().unwrap_or_default();
        let name = need.toolchain_name();
        format!(
            "go.mod requires go >= {wanted} but {} is installed: install Go {wanted} or newer \
             (https://go.dev/dl), or let go download it for this build with \
             `GOTOOLCHAIN={name} gopack build`, or pin it in go.mod with `go mod edit \
             -toolchain={name}` and build with GOTOOLCHAIN=auto",
            installed.name
        )
    });
    GoPlan {
        required: gomod.go_version.clone(),
        toolchain: gomod.toolchain.clone(),
        installed: installed.name.clone(),
        satisfied: !too_old || toolchain.may_switch(),
        gotoolchain: toolchain.value,
        gotoolchain_source: toolchain.source,
        environment: goenv.user_settings(),
        env_file: goenv.env_file().map(std::path::Path::to_path_buf),
        suggestion,
    }
}

/// A `toolchain` line newer than the installed Go, which GOTOOLCHAIN=local ignores.
pub fn ignored_toolchain_warning(go: &GoPlan) -> Option<String> {
    if go.gotoolchain != "local" {
        return None;
    }
    let suggested = go.toolchain.as_deref().and_then(GoVersion::parse)?;
    let installed = GoVersion::parse(&go.installed)?;
    (suggested > installed).then(|| {
        format!(
            "go.mod suggests `toolchain {}`, but gopack runs with GOTOOLCHAIN=local, which \
             ignores it: building with {} (set GOTOOLCHAIN=auto to use the suggested one)",
            go.toolchain.as_deref().unwrap_or_default(),
            go.installed
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InstalledGo;

    fn gomod(go: &str, toolchain: Option<&str>) -> GoMod {
        GoMod {
            module: "example.com/app".into(),
            go_version: Some(go.into()),
            toolchain: toolchain.map(str::to_string),
        }
    }

    /// A Go environment that does not depend on the caller's: GOTOOLCHAIN as given.
    fn goenv(gotoolchain: Option<&str>) -> GoEnv {
        let mut vars = vec![("GOENV".to_string(), "off".to_string())];
        vars.extend(gotoolchain.map(|t| ("GOTOOLCHAIN".to_string(), t.to_string())));
        let installed = InstalledGo {
            name: "go1.26.8".into(),
            version: GoVersion::parse("go1.26.8"),
            goroot: "/nonexistent".into(),
        };
        GoEnv::from_parts(vars, installed, "go".into())
    }

    #[test]
    fn a_newer_go_line_is_unsatisfied_with_the_exact_suggestion() {
        let plan = go_plan(&gomod("1.99", None), &goenv(None));
        assert!(!plan.satisfied);
        let s = plan.suggestion.unwrap();
        assert!(s.contains("`GOTOOLCHAIN=go1.99.0 gopack build`"), "{s}");
        assert!(s.contains("`go mod edit -toolchain=go1.99.0`"), "{s}");
        let ok = go_plan(&gomod("1.22", Some("go1.30.1")), &goenv(None));
        assert!(ok.satisfied && ok.suggestion.is_none());
        assert!(
            ignored_toolchain_warning(&ok)
                .unwrap()
                .contains("toolchain go1.30.1")
        );
    }

    #[test]
    fn a_user_toolchain_policy_may_satisfy_it_and_empty_is_unset() {
        let auto = go_plan(&gomod("1.99", None), &goenv(Some("auto")));
        assert!(auto.satisfied && auto.gotoolchain == "auto");
        assert_eq!(auto.gotoolchain_source, Some(SettingSource::Environment));
        let empty = go_plan(&gomod("1.99", None), &goenv(Some("")));
        assert!(!empty.satisfied && empty.gotoolchain == "local");
        assert_eq!(empty.gotoolchain_source, None);
    }
}
