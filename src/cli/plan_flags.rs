//! The flags that decide a plan, shared by `gopack plan` and `gopack build` so both read the
//! same words the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use gopack::config::file::{CgoSetting, FilesSetting, ToggleSetting};
use gopack::config::{Layer, LayerOrigin, Resolved, Settings};
use gopack::gobuild::quoted;
use gopack::plan::{CgoChoice, DataDir, DataSymlinks, FileChoices, PlanRequest, Toggle};

use super::UsageError;

#[derive(Args, Debug, Default)]
pub struct PlanFlags {
    /// Directories or Go package patterns of main packages (., ./cmd/..., ./..., an import
    /// path) [default: the gopack.toml targets, else .]
    pub packages: Vec<String>,

    /// Every main package of the module (like ./... from the module root)
    #[arg(long, conflicts_with = "packages")]
    pub all: bool,

    /// gopack.toml to read [default: the nearest one from the package directory upwards]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Target platforms, comma-separated or repeated: linux/amd64, linux/arm64, linux/arm/v7 …
    /// [default: the host's]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,

    /// Extra linker flags, added after gopack's -s, quoted as go quotes them (e.g.
    /// "-X 'main.msg=hello world'"); repeatable
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub ldflags: Vec<String>,

    /// Go build tags, comma-separated
    #[arg(long = "tags", value_name = "TAGS")]
    pub build_tags: Option<String>,

    /// How to use cgo: auto (off unless a package needs it, then static), off, static, dynamic
    /// [default: auto]
    #[arg(long, value_enum)]
    pub cgo: Option<CgoArg>,

    /// CA bundle at /etc/ssl/certs: auto (when the binary loads system roots), yes, no
    /// [default: auto]
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub certs: Option<ToggleArg>,

    /// Time zone database at /usr/share/zoneinfo: auto (when time.LoadLocation is linked
    /// without time/tzdata), yes, no [default: auto]
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub tz: Option<ToggleArg>,

    /// /etc/passwd and /etc/group: auto (os/user lookups, or a named --user), yes, no
    /// [default: auto]
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub userdb: Option<ToggleArg>,

    /// /tmp (1777): auto (always: os.TempDir is invisible in the binary), yes, no
    /// [default: auto]
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub tmp: Option<ToggleArg>,

    /// Append this PEM file's certificates to the CA bundle (e.g. a company root)
    #[arg(long = "ca-file", value_name = "FILE")]
    pub ca_files: Vec<PathBuf>,

    /// User to run as [default: 65532:65532]
    #[arg(long)]
    pub user: Option<String>,

    /// Base image: scratch, a registry reference, oci:DIR[:TAG], oci-archive:FILE[:TAG] or
    /// docker-archive:FILE[:REF] (env GOPACK_BASE) [default: scratch]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// Environment variable for the image, repeatable: KEY=VALUE, or KEY to take the value
    /// from gopack's own environment (keeps it out of shell history)
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// Read image environment variables from a file: KEY=VALUE lines, KEY alone takes the
    /// value from gopack's environment, # starts a comment; repeatable, --env wins
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// Copy a directory of static files into the image (default destination /data), owned by
    /// root and read-only to the run user
    #[arg(long, value_name = "DIR[:DEST]")]
    pub data: Vec<String>,

    /// --data symlinks that would point nowhere in the image (they leave the directory,
    /// dangle or loop): refuse the build (default), or follow: copy what the links that leave
    /// the directory point to
    #[arg(long = "data-symlinks", value_enum, default_value_t = DataSymlinksArg::Refuse)]
    pub data_symlinks: DataSymlinksArg,

    /// A directory the program writes to, owned by the run user (created empty, or the
    /// --data files under it); repeatable
    #[arg(long, value_name = "PATH")]
    pub writable: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum DataSymlinksArg {
    #[default]
    Refuse,
    Follow,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CgoArg {
    Auto,
    Off,
    Static,
    Dynamic,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ToggleArg {
    Auto,
    Yes,
    No,
}

impl From<ToggleArg> for ToggleSetting {
    fn from(t: ToggleArg) -> ToggleSetting {
        match t {
            ToggleArg::Auto => ToggleSetting::Auto,
            ToggleArg::Yes => ToggleSetting::Yes,
            ToggleArg::No => ToggleSetting::No,
        }
    }
}

impl From<CgoArg> for CgoSetting {
    fn from(arg: CgoArg) -> CgoSetting {
        match arg {
            CgoArg::Auto => CgoSetting::Auto,
            CgoArg::Off => CgoSetting::Off,
            CgoArg::Static => CgoSetting::Static,
            CgoArg::Dynamic => CgoSetting::Dynamic,
        }
    }
}

impl From<CgoArg> for CgoChoice {
    fn from(arg: CgoArg) -> CgoChoice {
        cgo_of(arg.into())
    }
}

impl PlanFlags {
    /// The settings these flags give (only those given), and the flag that gave each.
    pub fn layer(&self) -> anyhow::Result<Layer> {
        let mut s = Settings::default();
        let mut names: BTreeMap<&'static str, &'static str> = BTreeMap::new();
        let mut given = |key: &'static str, flag: &'static str| {
            names.insert(key, flag);
        };
        if !self.platform.is_empty() {
            s.platforms = Some(self.platform.clone());
            given("platforms", "--platform");
        }
        if !self.ldflags.is_empty() {
            s.ldflags = Some(self.ldflags.clone());
            given("ldflags", "--ldflags");
        }
        if let Some(tags) = &self.build_tags {
            s.build_tags = Some(super::parse_build_tags(Some(tags)));
            given("build-tags", "--tags");
        }
        if let Some(cgo) = self.cgo {
            s.cgo = Some(cgo.into());
            given("cgo", "--cgo");
        }
        let files = FilesSetting {
            certs: self.certs.map(Into::into),
            tz: self.tz.map(Into::into),
            userdb: self.userdb.map(Into::into),
            tmp: self.tmp.map(Into::into),
        };
        if files != FilesSetting::default() {
            s.files = Some(files);
            given("files", "--certs/--tz/--userdb/--tmp");
        }
        if !self.ca_files.is_empty() {
            s.ca_files = Some(self.ca_files.clone());
            given("ca-files", "--ca-file");
        }
        if let Some(user) = &self.user {
            s.user = Some(user.clone());
            given("user", "--user");
        }
        if let Some(base) = &self.base {
            s.base = Some(base.clone());
            given("base", "--base");
        }
        if !self.env.is_empty() || !self.env_files.is_empty() {
            s.env = Some(image_env(&self.env, &self.env_files)?.into_iter().collect());
            given("env", "--env/--env-file");
        }
        if !self.data.is_empty() {
            s.data = Some(self.data.clone());
            given("data", "--data");
        }
        if !self.writable.is_empty() {
            s.writable = Some(self.writable.clone());
            given("writable", "--writable");
        }
        Ok(Layer {
            settings: s,
            origin: LayerOrigin::Flags(names),
        })
    }

    /// The plan inputs of the settings in effect, for `patterns`.
    pub fn request(
        &self,
        resolved: &Resolved,
        patterns: Vec<String>,
    ) -> anyhow::Result<PlanRequest> {
        let s = &resolved.settings;
        let mut ldflags = Vec::new();
        for value in s.ldflags.iter().flatten() {
            let words =
                quoted::split(value).map_err(|e| UsageError(format!("ldflags {value:?}: {e}")))?;
            ldflags.extend(words);
        }
        let data = s
            .data
            .iter()
            .flatten()
            .map(|d| d.parse::<DataDir>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(UsageError)?;
        let writable = s.writable.clone().unwrap_or_default();
        for path in &writable {
            if !path.starts_with('/') || path.trim_matches('/').is_empty() {
                return Err(UsageError(format!(
                    "--writable `{path}` must be an absolute directory in the image, e.g. \
                     /var/lib/app"
                ))
                .into());
            }
        }
        let files = s.files.unwrap_or_default();
        let toggle = |t: Option<ToggleSetting>| t.map(toggle_of).unwrap_or_default();
        Ok(PlanRequest {
            cwd: std::env::current_dir()?,
            patterns,
            platforms: super::parse_platforms(s.platforms.as_deref().unwrap_or_default())?,
            ldflags,
            tags: s.build_tags.clone().unwrap_or_default(),
            cgo: s.cgo.map(cgo_of).unwrap_or_default(),
            files: FileChoices {
                certs: toggle(files.certs),
                tz: toggle(files.tz),
                userdb: toggle(files.userdb),
                tmp: toggle(files.tmp),
            },
            user: s.user.clone(),
            extra_ca_files: s.ca_files.clone().unwrap_or_default(),
            base: s
                .base
                .as_deref()
                .unwrap_or("scratch")
                .parse()
                .map_err(UsageError)?,
            env: s.env.clone().unwrap_or_default().into_iter().collect(),
            data,
            data_symlinks: match self.data_symlinks {
                DataSymlinksArg::Refuse => DataSymlinks::Refuse,
                DataSymlinksArg::Follow => DataSymlinks::Follow,
            },
            writable,
            go_flags: s.flags.clone().unwrap_or_default(),
            settings: resolved
                .values()
                .into_iter()
                .filter(|v| PLAN_SETTINGS.contains(&v.setting.as_str()))
                .collect(),
        })
    }
}

/// The gopack.toml keys that are plan inputs (the others shape the image config or the
/// output, per image).
pub const PLAN_SETTINGS: &[&str] = &[
    "base",
    "platforms",
    "user",
    "env",
    "ldflags",
    "flags",
    "build-tags",
    "cgo",
    "files",
    "ca-files",
    "data",
    "writable",
];

fn toggle_of(t: ToggleSetting) -> Toggle {
    match t {
        ToggleSetting::Auto => Toggle::Auto,
        ToggleSetting::Yes => Toggle::Yes,
        ToggleSetting::No => Toggle::No,
    }
}

fn cgo_of(c: CgoSetting) -> CgoChoice {
    match c {
        CgoSetting::Auto => CgoChoice::Auto,
        CgoSetting::Off => CgoChoice::Off,
        CgoSetting::Static => CgoChoice::Static,
        CgoSetting::Dynamic => CgoChoice::Dynamic,
    }
}

/// The image's environment: each `--env-file`, then each `--env`, in order. `KEY` alone takes
/// gopack's own value of KEY, and is an error when gopack has none (nothing is dropped
/// silently).
pub(super) fn image_env(
    env: &[String],
    files: &[PathBuf],
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| UsageError(format!("--env-file {}: {e}", file.display())))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("--env-file {} line {}", file.display(), n + 1);
            out.push(env_entry(line, &at)?);
        }
    }
    for item in env {
        out.push(env_entry(item, "--env")?);
    }
    Ok(out)
}

fn env_entry(item: &str, at: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = match item.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (item, None),
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(UsageError(format!("{at}: `{item}` must be KEY=VALUE or KEY")).into());
    }
    let value = match value {
        Some(v) => v,
        None => std::env::var(name).map_err(|_| {
            UsageError(format!(
                "{at}: {name} has no value here and is not set in gopack's environment; give \
                 {name}=VALUE or export {name}"
            ))
        })?,
    };
    Ok((name.to_string(), value))
}
