//! The Go environment as the `go` command sees it, read once: the process environment, the
//! `go env -w` file (GOENV), and `$GOROOT/go.env`, in that order of precedence, with an empty
//! variable treated as unset — exactly `cmd/go/internal/cfg.Getenv`. Every decision that depends
//! on GOTOOLCHAIN, GOFLAGS, GOOS/GOARCH, the level variables (GOAMD64…), CC or CGO_* reads it
//! from here, and every `go` command gopack runs is made by [`GoEnv::command`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::project::GoVersion;

/// Where a Go setting comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    /// The process environment.
    Environment,
    /// The file `go env -w` writes (`$GOENV`, else `$XDG_CONFIG_HOME/go/env` or
    /// `~/.config/go/env`).
    GoEnvFile,
    /// `$GOROOT/go.env`, the defaults of the Go distribution.
    Goroot,
}

impl SettingSource {
    /// How a person would say where the value comes from.
    pub fn describe(self, env_file: Option<&Path>) -> String {
        match (self, env_file) {
            (SettingSource::Environment, _) => "the environment".into(),
            (SettingSource::GoEnvFile, Some(f)) => format!("`go env -w` ({})", f.display()),
            (SettingSource::GoEnvFile, None) => "`go env -w`".into(),
            (SettingSource::Goroot, _) => "$GOROOT/go.env".into(),
        }
    }
}

/// One Go setting in effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoSetting {
    /// The variable, e.g. `GOFLAGS`.
    pub name: String,
    /// Its value (never empty: empty means unset).
    pub value: String,
    /// Where it comes from.
    pub source: SettingSource,
}

/// The Go gopack runs, as `go env GOVERSION GOROOT` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledGo {
    /// `go1.26.8` (with any `-X:…` experiment suffix).
    pub name: String,
    /// The parsed version, when `name` is one.
    pub version: Option<GoVersion>,
    /// `go env GOROOT`.
    pub goroot: PathBuf,
}

/// The GOTOOLCHAIN every `go` command gopack runs gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// The value (`local`, `auto`, `go1.27.0+auto`, `path`…).
    pub value: String,
    /// Where the user set it; `None` when it is gopack's default, `local`.
    pub source: Option<SettingSource>,
}

impl Toolchain {
    /// The user chose a policy that may run another Go than the installed one.
    pub fn may_switch(&self) -> bool {
        self.value != "local"
    }
}

/// Why the Go environment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot run `{program}`: {source}. Install Go (https://go.dev/dl) and put it on PATH, or \
         set GOPACK_GO=/path/to/go"
    )]
    /// The go program could not be started.
    GoNotFound {
        /// The program (GOPACK_GO, else `go`).
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `go env` failed; Go's stderr.
    #[error("`{program} env GOVERSION GOROOT` failed:\n{stderr}")]
    GoEnvFailed {
        /// The program.
        program: String,
        /// Go's stderr.
        stderr: String,
    },
}

/// The Go environment, read once. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GoEnv {
    settings: BTreeMap<String, GoSetting>,
    env_file: Option<PathBuf>,
    go: PathBuf,
    installed: InstalledGo,
}

/// Names kept from the process environment: Go's own variables and the C toolchain cgo uses.
fn is_go_variable(name: &str) -> bool {
    (name.starts_with("GO") && !name.starts_with("GOPACK_"))
        || name.starts_with("CGO_")
        || matches!(name, "CC" | "CXX" | "FC" | "AR" | "PKG_CONFIG")
}

/// Settings that change what `go build` produces or where it gets its inputs, shown in the
/// plan when the user set them.
const BUILD_SETTINGS: &[&str] = &[
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOOS",
    "GOARCH",
    "GOAMD64",
    "GOARM",
    "GOARM64",
    "GO386",
    "GOPPC64",
    "GORISCV64",
    "GOMIPS",
    "GOMIPS64",
    "GOEXPERIMENT",
    "GOFIPS140",
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "CC",
    "CXX",
    "GOPROXY",
    "GOPRIVATE",
    "GONOSUMDB",
    "GOINSECURE",
    "GOWORK",
];

impl GoEnv {
    /// Reads the process environment and the GOENV file, and asks the installed go for its
    /// version and GOROOT (with `GOTOOLCHAIN=local`: the installed one, never a download).
    pub fn read() -> Result<GoEnv, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let program = vars
            .iter()
            .find(|(k, v)| k == "GOPACK_GO" && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| "go".into());
        let installed = query_installed(&program)?;
        Ok(GoEnv::from_parts(vars, installed, program))
    }

    /// A Go environment from explicit parts (the process environment as name/value pairs, the
    /// installed Go, and the go program); reads the GOENV file and `$GOROOT/go.env` it names.
    pub fn from_parts(
        vars: impl IntoIterator<Item = (String, String)>,
        installed: InstalledGo,
        go: PathBuf,
    ) -> GoEnv {
        let process: BTreeMap<String, String> =
            vars.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let env_file = env_file_path(&process);
        let file_text = env_file
            .as_deref()
            .and_then(|f| std::fs::read_to_string(f).ok());
        let goroot_text = std::fs::read_to_string(installed.goroot.join("go.env")).ok();
        let mut settings = BTreeMap::new();
        let layers = [
            (goroot_text.as_deref(), SettingSource::Goroot),
            (file_text.as_deref(), SettingSource::GoEnvFile),
        ];
        for (text, source) in layers {
            for (name, value) in text.map(parse_env_file).unwrap_or_default() {
                insert(&mut settings, name, value, source);
            }
        }
        for (name, value) in process.into_iter().filter(|(k, _)| is_go_variable(k)) {
            insert(&mut settings, name, value, SettingSource::Environment);
        }
        GoEnv {
            settings,
            env_file: file_text.and(env_file),
            go,
            installed,
        }
    }

    /// The value go uses for `name` (non-empty), if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(|s| s.value.as_str())
    }

    /// Every setting in effect (environment, `go env -w` file, `$GOROOT/go.env`), as
    /// name/value pairs sorted by name.
    pub fn settings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.settings
            .values()
            .map(|s| (s.name.as_str(), s.value.as_str()))
    }

    /// The value and where it comes from.
    pub fn setting(&self, name: &str) -> Option<&GoSetting> {
        self.settings.get(name)
    }

    /// The GOENV file that was read, if it exists.
    pub fn env_file(&self) -> Option<&Path> {
        self.env_file.as_deref()
    }

    /// The settings a user made that change the build (environment or `go env -w`; the
    /// distribution's own `$GOROOT/go.env` defaults are left out), sorted by name.
    pub fn user_settings(&self) -> Vec<GoSetting> {
        self.settings
            .values()
            .filter(|s| s.source != SettingSource::Goroot)
            .filter(|s| BUILD_SETTINGS.contains(&s.name.as_str()))
            .cloned()
            .collect()
    }

    /// The installed Go.
    pub fn installed(&self) -> &InstalledGo {
        &self.installed
    }

    /// The `go` program gopack runs.
    pub fn program(&self) -> &Path {
        &self.go
    }

    /// GOTOOLCHAIN for the go commands gopack runs: the user's (environment or `go env -w`),
    /// else `local`, so a build never downloads a toolchain silently. `$GOROOT/go.env`'s
    /// `auto` is the distribution's default, not a choice, and does not count.
    pub fn toolchain(&self) -> Toolchain {
        match self.settings.get("GOTOOLCHAIN") {
            Some(s) if s.source != SettingSource::Goroot => Toolchain {
                value: s.value.clone(),
                source: Some(s.source),
            },
            _ => Toolchain {
                value: "local".into(),
                source: None,
            },
        }
    }

    /// The C compiler a cgo build uses: `CC` (environment or `go env -w`), else gcc.
    pub fn c_compiler(&self) -> String {
        self.get("CC").unwrap_or("gcc").to_string()
    }

    /// A `go` command in `dir` with gopack's GOTOOLCHAIN. Every other setting reaches go the
    /// way it would without gopack (inherited environment, GOENV file).
    pub fn command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(&self.go);
        cmd.current_dir(dir);
        cmd.env("GOTOOLCHAIN", self.toolchain().value);
        cmd
    }
}

fn insert(
    settings: &mut BTreeMap<String, GoSetting>,
    name: String,
    value: String,
    source: SettingSource,
) {
    let setting = GoSetting {
        name: name.clone(),
        value,
        source,
    };
    settings.insert(name, setting);
}

/// `cmd/go/internal/cfg.EnvFile`: `$GOENV` (`off` disables it), else
/// `os.UserConfigDir()/go/env` (`$XDG_CONFIG_HOME`, if absolute, else `$HOME/.config`).
fn env_file_path(process: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(file) = process.get("GOENV") {
        return (file != "off").then(|| PathBuf::from(file));
    }
    let config_dir = match process.get("XDG_CONFIG_HOME") {
        Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
        Some(_) => return None,
        None => PathBuf::from(process.get("HOME")?).join(".config"),
    };
    Some(config_dir.join("go/env"))
}

/// `cmd/go/internal/cfg.readEnvFile`: `NAME=VALUE` lines; lines without `=` or not starting
/// with an upper-case letter (comments) are skipped; empty values count as unset.
fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter_map(|line| line.split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// `go env GOVERSION GOROOT` of the installed Go, asked once per process.
fn query_installed(program: &Path) -> Result<InstalledGo, ConfigError> {
    static ASKED: std::sync::Mutex<Vec<(PathBuf, InstalledGo)>> = std::sync::Mutex::new(Vec::new());
    let mut asked = ASKED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, known)) = asked.iter().find(|(p, _)| p == program) {
        return Ok(known.clone());
    }
    let output = Command::new(program)
        .args(["env", "GOVERSION", "GOROOT"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|source| ConfigError::GoNotFound {
            program: program.display().to_string(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let (Some(name), Some(goroot), true) = (lines.next(), lines.next(), output.status.success())
    else {
        return Err(ConfigError::GoEnvFailed {
            program: program.display().to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim_end().into(),
        });
    };
    let installed = InstalledGo {
        name: name.trim().to_string(),
        version: GoVersion::parse(name),
        goroot: PathBuf::from(goroot.trim()),
    };
    asked.push((program.to_path_buf(), installed.clone()));
    Ok(installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed(goroot: &Path) -> InstalledGo {
        InstalledGo {
            name: "go1.26.8".into(),
            version: GoVersion::parse("go1.26.8"),
            goroot: goroot.to_path_buf(),
        }
    }

    fn env(pairs: &[(&str, &str)], goroot: &Path) -> GoEnv {
        GoEnv::from_parts(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            installed(goroot),
            "go".into(),
        )
    }

    #[test]
    fn precedence_is_environment_then_go_env_file_then_goroot() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.env"),
            "# defaults\nGOTOOLCHAIN=auto\nGOPROXY=https://proxy.golang.org,direct\n",
        )
        .unwrap();
        let file = dir.path().join("user-env");
        std::fs::write(
            &file,
            "GOFLAGS=-tags=prod\nGOAMD64=v3\nbad line\nGOPRIVATE=\n",
        )
        .unwrap();
        let file_str = file.to_str().unwrap();
        let e = env(
            &[
                ("GOENV", file_str),
                ("GOAMD64", "v2"),
                ("GOFLAGS", ""),
                ("HOME", "/h"),
            ],
            dir.path(),
        );
        assert_eq!(e.get("GOAMD64"), Some("v2"));
        // Empty in the environment is unset: the file's value is the one in effect.
        let goflags = e.setting("GOFLAGS").unwrap();
        assert_eq!(
            (goflags.value.as_str(), goflags.source),
            ("-tags=prod", SettingSource::GoEnvFile)
        );
        assert_eq!(e.get("GOPRIVATE"), None);
        assert_eq!(e.get("GOPROXY"), Some("https://proxy.golang.org,direct"));
        // go.env's `auto` is the distribution's default: gopack's `local` applies.
        assert_eq!(e.toolchain().value, "local");
        assert_eq!(e.env_file(), Some(file.as_path()));
        let shown: Vec<String> = e.user_settings().into_iter().map(|s| s.name).collect();
        assert_eq!(shown, ["GOAMD64", "GOFLAGS"]);
    }

    #[test]
    fn gotoolchain_empty_is_unset_and_the_file_counts() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(&[("GOTOOLCHAIN", ""), ("GOENV", "off")], dir.path());
        assert_eq!(
            e.toolchain(),
            Toolchain {
                value: "local".into(),
                source: None
            }
        );
        let file = dir.path().join("env");
        std::fs::write(&file, "GOTOOLCHAIN=go1.27.0+auto\n").unwrap();
        let e = env(
            &[("GOTOOLCHAIN", ""), ("GOENV", file.to_str().unwrap())],
            dir.path(),
        );
        assert_eq!(e.toolchain().value, "go1.27.0+auto");
        assert!(e.toolchain().may_switch());
    }

    #[test]
    fn env_file_location_follows_go() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            env_file_path(&map(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.config/go/env"))
        );
        assert_eq!(
            env_file_path(&map(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/x")])),
            Some(PathBuf::from("/x/go/env"))
        );
        assert_eq!(env_file_path(&map(&[("GOENV", "off")])), None);
        assert_eq!(env_file_path(&map(&[("XDG_CONFIG_HOME", "rel")])), None);
    }
}
