//! What gopack reads once, at the edge, and hands down: the Go environment ([`GoEnv`]).

mod goenv;

pub use goenv::{ConfigError, GoEnv, GoSetting, InstalledGo, SettingSource, Toolchain};
