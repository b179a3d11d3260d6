//! The flags that decide a plan, shared by `gopack plan` and `gopack build` so both read the
//! same words the same way.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use gopack::gobuild::quoted;
use gopack::plan::{CgoChoice, DataDir, DataSymlinks, FileChoices, PlanRequest, Toggle};

use super::UsageError;

#[derive(Args, Debug)]
pub struct PlanFlags {
    /// Directories or Go package patterns of main packages (., ./cmd/..., an import path)
    #[arg(default_value = ".")]
    pub packages: Vec<String>,

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
    #[arg(long, value_enum, default_value_t = CgoArg::Auto)]
    pub cgo: CgoArg,

    /// CA bundle at /etc/ssl/certs: auto (when the binary loads system roots), yes, no
    #[arg(long, value_enum, default_value_t = ToggleArg::Auto, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub certs: ToggleArg,

    /// Time zone database at /usr/share/zoneinfo: auto (when time.LoadLocation is linked
    /// without time/tzdata), yes, no
    #[arg(long, value_enum, default_value_t = ToggleArg::Auto, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub tz: ToggleArg,

    /// /etc/passwd and /etc/group: auto (os/user lookups, or a named --user), yes, no
    #[arg(long, value_enum, default_value_t = ToggleArg::Auto, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub userdb: ToggleArg,

    /// /tmp (1777): auto (always: os.TempDir is invisible in the binary), yes, no
    #[arg(long, value_enum, default_value_t = ToggleArg::Auto, num_args = 0..=1, require_equals = true, default_missing_value = "yes")]
    pub tmp: ToggleArg,

    /// Append this PEM file's certificates to the CA bundle (e.g. a company root)
    #[arg(long = "ca-file", value_name = "FILE")]
    pub ca_files: Vec<PathBuf>,

    /// User to run as [default: 65532:65532]
    #[arg(long)]
    pub user: Option<String>,

    /// Base image: scratch, a registry reference, oci:DIR[:TAG], oci-archive:FILE[:TAG] or
    /// docker-archive:FILE[:REF]
    #[arg(long, value_name = "REF", env = "GOPACK_BASE")]
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

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DataSymlinksArg {
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

impl From<ToggleArg> for Toggle {
    fn from(t: ToggleArg) -> Toggle {
        match t {
            ToggleArg::Auto => Toggle::Auto,
            ToggleArg::Yes => Toggle::Yes,
            ToggleArg::No => Toggle::No,
        }
    }
}

impl From<CgoArg> for CgoChoice {
    fn from(arg: CgoArg) -> CgoChoice {
        match arg {
            CgoArg::Auto => CgoChoice::Auto,
            CgoArg::Off => CgoChoice::Off,
            CgoArg::Static => CgoChoice::Static,
            CgoArg::Dynamic => CgoChoice::Dynamic,
        }
    }
}

impl PlanFlags {
    /// The plan inputs these flags describe (platforms empty when none was named).
    pub fn request(&self) -> anyhow::Result<PlanRequest> {
        let mut ldflags = Vec::new();
        for value in &self.ldflags {
            let words = quoted::split(value)
                .map_err(|e| UsageError(format!("--ldflags {value:?}: {e}")))?;
            ldflags.extend(words);
        }
        let data = self
            .data
            .iter()
            .map(|d| d.parse::<DataDir>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(UsageError)?;
        for path in &self.writable {
            if !path.starts_with('/') || path.trim_matches('/').is_empty() {
                return Err(UsageError(format!(
                    "--writable `{path}` must be an absolute directory in the image, e.g. \
                     /var/lib/app"
                ))
                .into());
            }
        }
        Ok(PlanRequest {
            cwd: std::env::current_dir()?,
            patterns: self.packages.clone(),
            platforms: super::parse_platforms(&self.platform)?,
            ldflags,
            tags: super::parse_build_tags(self.build_tags.as_deref()),
            cgo: self.cgo.into(),
            files: FileChoices {
                certs: self.certs.into(),
                tz: self.tz.into(),
                userdb: self.userdb.into(),
                tmp: self.tmp.into(),
            },
            user: self.user.clone(),
            extra_ca_files: self.ca_files.clone(),
            base: self
                .base
                .as_deref()
                .unwrap_or("scratch")
                .parse()
                .map_err(UsageError)?,
            env: image_env(&self.env, &self.env_files)?,
            data,
            data_symlinks: match self.data_symlinks {
                DataSymlinksArg::Refuse => DataSymlinks::Refuse,
                DataSymlinksArg::Follow => DataSymlinks::Follow,
            },
            writable: self.writable.clone(),
        })
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
