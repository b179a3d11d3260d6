//! The flags that decide a plan, shared by `gopack plan` and `gopack build` so both read the
//! same words the same way.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use gopack::plan::report::PlanRequest;
use gopack::plan::{CgoChoice, FileChoices, Toggle};

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

    /// Extra linker flags, added after gopack's -s (e.g. "-X main.version=1.2.3")
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub ldflags: Option<String>,

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
        Ok(PlanRequest {
            cwd: std::env::current_dir()?,
            patterns: self.packages.clone(),
            platforms: super::parse_platforms(&self.platform)?,
            ldflags: self.ldflags.as_deref().map(split_words).unwrap_or_default(),
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
        })
    }
}

/// Splits `-X 'main.v=a b' -w` into words, honouring single and double quotes.
pub fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldflags_words_keep_quoted_values_together() {
        assert_eq!(
            split_words("-X 'main.v=a b' -w"),
            vec!["-X", "main.v=a b", "-w"]
        );
        assert_eq!(split_words("  "), Vec::<String>::new());
        assert_eq!(split_words("-X \"main.x=\""), vec!["-X", "main.x="]);
    }
}
