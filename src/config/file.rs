//! `gopack.toml`: the project's settings, one typed struct per table, read once and handed to
//! the verbs that use them (`build`/`plan`/`resolve` read `[defaults]` and `[[target]]`, `lint`
//! reads `[lint]`, `inspect` `[inspect]`, `size` `[size]`).
//!
//! ```toml
//! [defaults]
//! base = "scratch"
//! platforms = ["linux/amd64", "linux/arm64"]
//! user = "65532:65532"
//! ldflags = ["-X main.version={{.Version}}"]
//! labels = { "org.opencontainers.image.vendor" = "Example" }
//!
//! [[target]]
//! package = "./cmd/api"
//! repository = "registry.example.com/team/api"
//! ports = [8080]
//! ```
//!
//! Every table refuses keys it does not know and values of the wrong type, with the line and
//! the valid keys (serde's `deny_unknown_fields` through the `toml` crate, which reports the
//! span). `gopack init --schema` prints the JSON schema of this file, generated from these types.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

/// The file name looked for from the package directory upwards.
pub const CONFIG_FILE_NAME: &str = "gopack.toml";

/// Largest gopack.toml read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why gopack.toml could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read {}: {reason}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid: TOML syntax, an unknown key, a wrong type. `message` is the
    /// `toml` crate's report: line, column, the line itself, and (for an unknown key) the valid
    /// keys.
    #[error("{} is not valid: {message}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, where.
        message: String,
    },
}

/// `gopack.toml`, as written. Tables not present are empty.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "gopack.toml", description = "gopack's project configuration")]
pub struct ConfigFile {
    /// Settings every target starts from.
    #[serde(default)]
    pub defaults: Settings,
    /// One per main package: its own settings over `[defaults]`.
    #[serde(default, rename = "target")]
    pub targets: Vec<TargetConfig>,
    /// `gopack lint`.
    pub lint: Option<LintSection>,
    /// `gopack inspect --ci`.
    pub inspect: Option<InspectSection>,
    /// `gopack size` budgets.
    pub size: Option<SizeSection>,
}

/// Declares [`Settings`] and [`TargetConfig`] with one field list, so a `[[target]]` takes
/// exactly the keys of `[defaults]` plus its own (serde's `flatten` would lose
/// `deny_unknown_fields`).
macro_rules! settings_structs {
    ($( $(#[$meta:meta])* $field:ident : $ty:ty, )*) => {
        /// `[defaults]`: settings every target starts from. Each is optional; a flag or an
        /// environment variable overrides it, and so does a `[[target]]`.
        #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Settings {
            $( $(#[$meta])* pub $field: Option<$ty>, )*
        }

        /// `[[target]]`: one main package and its settings over `[defaults]`.
        #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct TargetConfig {
            /// The main package: a directory relative to gopack.toml (`./cmd/api`) or an import
            /// path.
            pub package: String,
            /// The image name (default: the binary's, as `go build` names it).
            pub name: Option<String>,
            $( $(#[$meta])* pub $field: Option<$ty>, )*
        }

        impl TargetConfig {
            /// The settings part of this target.
            pub fn settings(&self) -> Settings {
                Settings { $( $field: self.$field.clone(), )* }
            }
        }
    };
}

settings_structs! {
    /// Base image: `scratch`, a registry reference, or `oci:DIR[:TAG]`.
    base: String,
    /// Target platforms, `os/arch[/variant]`.
    platforms: Vec<String>,
    /// Layer compression: `gzip` (level by layer size), `gzip:1-12` or `zstd[:1-19]`.
    compression: String,
    /// The user the program runs as: `uid[:gid]` or a name.
    user: String,
    /// The image's environment; values may use templates (`{{.Env.X}}`, `{{.Git.Tag}}`…).
    env: BTreeMap<String, String>,
    /// Ports the program listens on: `8080`, `"8080"` or `"53/udp"`.
    ports: Vec<Port>,
    /// Working directory in the image.
    workdir: String,
    /// Config labels (templates allowed).
    labels: BTreeMap<String, String>,
    /// Manifest annotations (templates allowed).
    annotations: BTreeMap<String, String>,
    /// Annotations of the image index over several platforms (templates allowed).
    index_annotations: BTreeMap<String, String>,
    /// Extra linker flags after gopack's `-s`, each quoted as go quotes them (templates
    /// allowed: `-X main.version={{.Version}}`).
    ldflags: Vec<String>,
    /// Other `go build` flags (`-mod=vendor`, `-gcflags=…`), passed through GOFLAGS after its
    /// own entries; `-ldflags` and `-tags` here merge like GOFLAGS' do.
    flags: Vec<String>,
    /// Go build tags.
    build_tags: Vec<String>,
    /// How to use cgo: `auto`, `off`, `static` or `dynamic`.
    cgo: CgoSetting,
    /// Which base files go in: each `auto` (when the binary needs it), `yes` or `no`.
    files: FilesSetting,
    /// PEM files appended to the CA bundle (relative to gopack.toml).
    ca_files: Vec<PathBuf>,
    /// Directories of static files copied into the image: `DIR[:DEST]` (relative to
    /// gopack.toml; default DEST /data).
    data: Vec<String>,
    /// Directories the run user may write to.
    writable: Vec<String>,
    /// Arguments after the entrypoint (the config's `Cmd`).
    args: Vec<String>,
    /// SBOM formats attached to pushed images: `spdx`, `cyclonedx`.
    sbom: Vec<SbomFormat>,
    /// Registry repository to push to (`registry.example.com/team`); with several targets
    /// each goes to `REPOSITORY/NAME` unless the target names its own.
    repository: String,
    /// Image tags (templates allowed: `{{.Git.Tag}}`).
    tags: Vec<String>,
    /// Keep the base image's labels.
    keep_base_labels: bool,
}

/// A port: a number, or `N/tcp|udp|sctp`.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum Port {
    /// `8080`.
    Number(u16),
    /// `"8080"`, `"53/udp"`.
    Text(String),
}

impl Port {
    /// As the `--port` flag spells it.
    pub fn as_flag(&self) -> String {
        match self {
            Port::Number(n) => n.to_string(),
            Port::Text(t) => t.clone(),
        }
    }
}

/// `cgo = "auto"|"off"|"static"|"dynamic"`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgoSetting {
    /// Off unless a package needs cgo, then static.
    Auto,
    /// `CGO_ENABLED=0`.
    Off,
    /// Linked statically.
    Static,
    /// Linked dynamically (needs a base with the libraries).
    Dynamic,
}

/// `auto`, `yes` or `no`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ToggleSetting {
    /// When the binary or the config needs it.
    Auto,
    /// Always.
    Yes,
    /// Never.
    No,
}

/// `files = { certs = "auto", tz = "no", userdb = "yes", tmp = "auto" }`.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FilesSetting {
    /// CA bundle at /etc/ssl/certs.
    pub certs: Option<ToggleSetting>,
    /// zoneinfo at /usr/share/zoneinfo.
    pub tz: Option<ToggleSetting>,
    /// /etc/passwd and /etc/group.
    pub userdb: Option<ToggleSetting>,
    /// /tmp (1777).
    pub tmp: Option<ToggleSetting>,
}

/// An SBOM format.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SbomFormat {
    /// SPDX 2.3 JSON.
    Spdx,
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
}

/// `[lint]` (format kept from `gopack lint`: kebab-case keys).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintSection {
    /// Rule codes to ignore (`GO106`).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity per rule code.
    #[serde(default)]
    pub severity: BTreeMap<String, SeverityName>,
    /// Exit non-zero on findings at or above this severity (`none`: never).
    pub failure_threshold: Option<ThresholdName>,
}

/// A finding severity.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    /// Error.
    Error,
    /// Warning.
    Warning,
    /// Info.
    Info,
    /// Style.
    Style,
}

/// A failure threshold: a severity, or `none`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdName {
    /// Errors fail.
    Error,
    /// Warnings and worse fail.
    Warning,
    /// Info and worse fail.
    Info,
    /// Everything fails.
    Style,
    /// Nothing fails.
    None,
}

/// A number, or text such as `"12MB"` or `"90%"`.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum NumberOrText {
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// `[inspect]` (format kept from `gopack inspect`: kebab-case keys, dive's rule names).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InspectSection {
    /// Severities, rule codes or names whose findings fail `--ci`.
    pub fail_on: Option<Vec<String>>,
    /// Largest compressed image size (`"50MB"` or bytes).
    pub max_size: Option<NumberOrText>,
    /// Fail below this efficiency (0–1, or a percentage).
    pub lowest_efficiency: Option<NumberOrText>,
    /// Fail above this many reclaimable bytes.
    pub highest_wasted_bytes: Option<NumberOrText>,
    /// Fail above this share of reclaimable bytes in the user layers.
    pub highest_user_wasted_percent: Option<NumberOrText>,
    /// Paths (globs) whose findings and waste are ignored.
    #[serde(default)]
    pub ignore_paths: Vec<String>,
    /// Rules whose findings are ignored.
    #[serde(default)]
    pub ignore_rules: Vec<String>,
}

/// `[size]` (format kept from `gopack size`: snake_case keys).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeSection {
    /// Largest binary size (`"12MB"`, `"5MiB"` or bytes).
    pub max: Option<NumberOrText>,
    /// Largest growth against the baseline (`"2%"` or a size).
    pub max_growth: Option<String>,
    /// The baseline: a binary or a `gopack size --json` report, relative to gopack.toml.
    pub baseline: Option<String>,
}

/// A gopack.toml that was read: where it is and what it says.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub file: ConfigFile,
}

impl LoadedConfig {
    /// The directory relative paths in the file are taken from.
    pub fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
}

impl ConfigFile {
    /// Parses gopack.toml text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigFileError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigFileError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        file.check(path)?;
        Ok(file)
    }

    /// Checks what the types cannot: each target names a package, once.
    fn check(&self, path: &Path) -> Result<(), ConfigFileError> {
        let invalid = |message: String| ConfigFileError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            if t.package.trim().is_empty() {
                return Err(invalid(format!(
                    "[[target]] number {} has an empty `package`; name a main package, e.g. \
                     package = \"./cmd/api\"",
                    i + 1
                )));
            }
            if !seen.insert(t.package.trim_end_matches('/')) {
                return Err(invalid(format!(
                    "two [[target]] tables name the package `{}`; merge them",
                    t.package
                )));
            }
        }
        Ok(())
    }

    /// Reads and parses `path` (a regular file of at most [`MAX_CONFIG_BYTES`]).
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigFileError> {
        let text = read_bounded(path).map_err(|reason| ConfigFileError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(LoadedConfig {
            path: path.to_path_buf(),
            file: ConfigFile::parse(&text, path)?,
        })
    }
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "larger than {} KiB; a gopack.toml is a few lines",
            MAX_CONFIG_BYTES >> 10
        ));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

/// The nearest gopack.toml in `dir` or its ancestors.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .map(|d| d.join(CONFIG_FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads `explicit` (`--config FILE`, which must exist), else the nearest gopack.toml from
/// `dir` upwards; `None` when there is none.
pub fn find_and_load(
    explicit: Option<&Path>,
    dir: &Path,
) -> Result<Option<LoadedConfig>, ConfigFileError> {
    match explicit {
        Some(path) => ConfigFile::load(path).map(Some),
        None => discover(dir).map(|p| ConfigFile::load(&p)).transpose(),
    }
}

/// The JSON schema of gopack.toml (draft 2020-12), for editors (taplo, Even Better TOML) and
/// `check-jsonschema`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ConfigFile);
    serde_json::to_value(&schema).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        ConfigFile::parse(text, Path::new("gopack.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn every_table_reads() {
        let file = parse(
            "[defaults]\nbase = \"scratch\"\nplatforms = [\"linux/amd64\"]\nports = [8080, \
             \"53/udp\"]\nfiles = { tz = \"yes\" }\n\n[[target]]\npackage = \"./cmd/api\"\n\
             user = \"1000:1000\"\n\n[lint]\nignore = [\"GO106\"]\nfailure-threshold = \"none\"\n\n\
             [inspect]\nlowest-efficiency = 0.9\n\n[size]\nmax = \"12MB\"\nmax_growth = \"2%\"\n",
        )
        .unwrap();
        assert_eq!(file.defaults.base.as_deref(), Some("scratch"));
        assert_eq!(
            file.defaults.ports.unwrap(),
            [Port::Number(8080), Port::Text("53/udp".into())]
        );
        assert_eq!(file.targets[0].user.as_deref(), Some("1000:1000"));
        assert_eq!(file.lint.unwrap().ignore, ["GO106"]);
        assert_eq!(file.size.unwrap().max_growth.as_deref(), Some("2%"));
    }

    #[test]
    fn an_unknown_key_names_the_line_and_the_valid_keys() {
        let err = parse("[defaults]\nbase = \"scratch\"\nusr = \"1000\"\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("unknown field `usr`"), "{err}");
        assert!(err.contains("`user`") && err.contains("`base`"), "{err}");
        let err = parse("[[target]]\npackage = \".\"\nrepo = \"x\"\n").unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("`repository`"),
            "{err}"
        );
        let err = parse("[defualts]\n").unwrap_err();
        assert!(
            err.contains("`defaults`") && err.contains("`target`"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_names_the_line() {
        let err = parse("[defaults]\nplatforms = \"linux/amd64\"\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = parse("[defaults]\nfiles = { tz = \"maybe\" }\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("auto"), "{err}");
    }

    #[test]
    fn targets_name_each_package_once() {
        let err =
            parse("[[target]]\npackage = \"./a\"\n[[target]]\npackage = \"./a/\"\n").unwrap_err();
        assert!(err.contains("two [[target]]"), "{err}");
    }
}
