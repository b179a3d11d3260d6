//! What gopack reads once, at the edge, and hands down: the Go environment ([`GoEnv`]) and the
//! project's `gopack.toml` ([`ConfigFile`], one typed struct per table), with the precedence
//! of flags, environment, `[[target]]` and `[defaults]` ([`layers`]) and the templates its
//! values may use ([`template`]).

pub mod file;
mod goenv;
pub mod ko;
pub mod layers;
pub mod template;

pub use file::{ConfigFile, ConfigFileError, LoadedConfig, Settings, TargetConfig};
pub use goenv::{ConfigError, GoEnv, GoSetting, InstalledGo, SettingSource, Toolchain};
pub use layers::{Layer, LayerOrigin, Origin, Resolved, SettingValue};
pub use template::{GitFacts, Templater};
