//! Precedence: a flag beats an environment variable, which beats the package's `[[target]]`,
//! which beats `[defaults]`. Each layer is a [`Settings`]; [`resolve`] takes, per setting, the
//! highest layer that gives it (maps — env, labels, annotations — are merged key by key, the
//! higher layer winning a key), and remembers where each value came from, for `gopack plan`
//! ("user 1000:1000 (from gopack.toml [[target]] api)").

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::file::{LoadedConfig, Settings, TargetConfig};

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (`--user`).
    Flag(String),
    /// An environment variable (`GOPACK_BASE`).
    Env(String),
    /// The `[[target]]` of this package, by its name.
    Target(String),
    /// `[defaults]`.
    Defaults,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::Env(var) => write!(f, "${var}"),
            Origin::Target(name) => write!(f, "gopack.toml [[target]] {name}"),
            Origin::Defaults => write!(f, "gopack.toml [defaults]"),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// One layer of settings and where it comes from. Flag layers name each flag per setting, so
/// their origin is given per setting by [`Layer::flags`].
#[derive(Clone, Debug)]
pub struct Layer {
    /// The settings this layer gives.
    pub settings: Settings,
    /// Where they come from.
    pub origin: LayerOrigin,
}

/// Where a layer comes from.
#[derive(Clone, Debug)]
pub enum LayerOrigin {
    /// Command-line flags: the flag spelling per setting name (`user` → `--user`).
    Flags(BTreeMap<&'static str, &'static str>),
    /// Environment variables: the variable per setting name.
    Env(BTreeMap<&'static str, &'static str>),
    /// A `[[target]]`.
    Target(String),
    /// `[defaults]`.
    Defaults,
}

impl LayerOrigin {
    fn of(&self, setting: &str) -> Origin {
        match self {
            LayerOrigin::Flags(names) => {
                Origin::Flag(names.get(setting).copied().unwrap_or("a flag").to_string())
            }
            LayerOrigin::Env(names) => {
                Origin::Env(names.get(setting).copied().unwrap_or("?").to_string())
            }
            LayerOrigin::Target(name) => Origin::Target(name.clone()),
            LayerOrigin::Defaults => Origin::Defaults,
        }
    }
}

/// One setting in effect, for `gopack plan` and `--json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingValue {
    /// The gopack.toml key (`user`, `platforms`, `labels`).
    pub setting: String,
    /// The value as text (maps: `K=V` items; env values are not shown).
    pub value: String,
    /// Where it came from (several for a merged map).
    pub origins: Vec<Origin>,
}

/// The settings in effect for one target, and where each came from.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// The values.
    pub settings: Settings,
    /// Per setting set by some layer, its origins, in gopack.toml key order.
    pub origins: BTreeMap<&'static str, Vec<Origin>>,
}

macro_rules! pick_first {
    ($layers:expr, $out:expr, $( $field:ident => $key:literal ),* $(,)?) => {
        $(
            if let Some(layer) = $layers.iter().find(|l| l.settings.$field.is_some()) {
                $out.settings.$field = layer.settings.$field.clone();
                $out.origins.insert($key, vec![layer.origin.of($key)]);
            }
        )*
    };
}

macro_rules! merge_maps {
    ($layers:expr, $out:expr, $( $field:ident => $key:literal ),* $(,)?) => {
        $(
            let mut merged: BTreeMap<String, String> = BTreeMap::new();
            let mut origins = Vec::new();
            for layer in $layers.iter().rev() {
                if let Some(map) = &layer.settings.$field {
                    merged.extend(map.clone());
                    origins.insert(0, layer.origin.of($key));
                }
            }
            if !origins.is_empty() {
                $out.settings.$field = Some(merged);
                $out.origins.insert($key, origins);
            }
        )*
    };
}

/// The settings in effect from `layers`, highest precedence first.
pub fn resolve(layers: &[Layer]) -> Resolved {
    let mut out = Resolved::default();
    pick_first!(layers, out,
        base => "base", platforms => "platforms", compression => "compression",
        user => "user", ports => "ports", workdir => "workdir", ldflags => "ldflags",
        flags => "flags", build_tags => "build-tags", cgo => "cgo", ca_files => "ca-files",
        data => "data", writable => "writable", args => "args", sbom => "sbom",
        repository => "repository", tags => "tags", keep_base_labels => "keep-base-labels",
    );
    merge_maps!(layers, out,
        env => "env", labels => "labels", annotations => "annotations",
        index_annotations => "index-annotations",
    );
    resolve_files(layers, &mut out);
    out
}

/// `files` is a table of four toggles; each is taken from the highest layer that sets it.
fn resolve_files(layers: &[Layer], out: &mut Resolved) {
    let mut merged = super::file::FilesSetting::default();
    let mut origins = Vec::new();
    for layer in layers {
        if let Some(f) = &layer.settings.files {
            let before = merged;
            merged.certs = merged.certs.or(f.certs);
            merged.tz = merged.tz.or(f.tz);
            merged.userdb = merged.userdb.or(f.userdb);
            merged.tmp = merged.tmp.or(f.tmp);
            if merged != before {
                origins.push(layer.origin.of("files"));
            }
        }
    }
    if !origins.is_empty() {
        out.settings.files = Some(merged);
        out.origins.insert("files", origins);
    }
}

impl Resolved {
    /// Where `setting` came from, as `(from X)` or `(from X, Y)`; empty when no layer set it.
    pub fn from_clause(&self, setting: &str) -> String {
        match self.origins.get(setting) {
            Some(o) if !o.is_empty() => {
                let names: Vec<String> = o.iter().map(Origin::to_string).collect();
                format!(" (from {})", names.join(", "))
            }
            _ => String::new(),
        }
    }

    /// Every setting some layer gave, with its value as text (env values hidden: they may be
    /// secrets) and its origins.
    pub fn values(&self) -> Vec<SettingValue> {
        let s = &self.settings;
        let list = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.join(" "));
        let map = |m: &Option<BTreeMap<String, String>>| {
            m.as_ref().map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        let text: BTreeMap<&str, Option<String>> = BTreeMap::from([
            ("base", s.base.clone()),
            ("platforms", list(&s.platforms)),
            ("compression", s.compression.clone()),
            ("user", s.user.clone()),
            ("env", s.env.as_ref().map(names_only)),
            (
                "ports",
                s.ports
                    .as_ref()
                    .map(|p| p.iter().map(|p| p.as_flag()).collect::<Vec<_>>().join(" ")),
            ),
            ("workdir", s.workdir.clone()),
            ("labels", map(&s.labels)),
            ("annotations", map(&s.annotations)),
            ("index-annotations", map(&s.index_annotations)),
            ("ldflags", list(&s.ldflags)),
            ("flags", list(&s.flags)),
            ("build-tags", list(&s.build_tags)),
            ("cgo", s.cgo.map(|c| format!("{c:?}").to_lowercase())),
            ("files", s.files.map(|f| files_text(&f))),
            (
                "ca-files",
                s.ca_files.as_ref().map(|c| {
                    c.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
            ),
            ("data", list(&s.data)),
            ("writable", list(&s.writable)),
            ("args", list(&s.args)),
            (
                "sbom",
                s.sbom.as_ref().map(|f| {
                    f.iter()
                        .map(|f| format!("{f:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            ),
            ("repository", s.repository.clone()),
            ("tags", list(&s.tags)),
            (
                "keep-base-labels",
                s.keep_base_labels.map(|b| b.to_string()),
            ),
        ]);
        self.origins
            .iter()
            .filter_map(|(key, origins)| {
                let value = text.get(key).cloned().flatten()?;
                Some(SettingValue {
                    setting: key.to_string(),
                    value,
                    origins: origins.clone(),
                })
            })
            .collect()
    }
}

fn names_only(env: &BTreeMap<String, String>) -> String {
    env.keys()
        .map(|k| format!("{k}=…"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn files_text(f: &super::file::FilesSetting) -> String {
    let mut parts = Vec::new();
    for (name, t) in [
        ("certs", f.certs),
        ("tz", f.tz),
        ("userdb", f.userdb),
        ("tmp", f.tmp),
    ] {
        if let Some(t) = t {
            parts.push(format!("{name}={}", format!("{t:?}").to_lowercase()));
        }
    }
    parts.join(" ")
}

/// The `[[target]]` of `config` for the main package in `dir` with import path
/// `import_path`: its `package` names that directory (relative to gopack.toml) or that
/// import path.
pub fn target_for<'a>(
    config: &'a LoadedConfig,
    dir: &Path,
    import_path: &str,
) -> Option<&'a TargetConfig> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    config.file.targets.iter().find(|t| {
        let package = t.package.trim_end_matches('/');
        package == import_path
            || config
                .dir()
                .join(package)
                .canonicalize()
                .is_ok_and(|d| d == dir)
    })
}

/// The name a target is shown under: its `name`, else the last element of its package.
pub fn target_label(target: &TargetConfig) -> String {
    target.name.clone().unwrap_or_else(|| {
        let package = target.package.trim_end_matches('/');
        crate::project::binary_name(package)
    })
}

/// The layers for one package: `flags` and `env` (already made by the caller), then the
/// package's `[[target]]`, then `[defaults]`.
pub fn layers_for(
    flags: &Layer,
    env: &Layer,
    config: Option<&LoadedConfig>,
    target: Option<&TargetConfig>,
) -> Vec<Layer> {
    let mut layers = vec![flags.clone(), env.clone()];
    if let Some(t) = target {
        layers.push(Layer {
            settings: t.settings(),
            origin: LayerOrigin::Target(target_label(t)),
        });
    }
    if let Some(c) = config {
        layers.push(Layer {
            settings: c.file.defaults.clone(),
            origin: LayerOrigin::Defaults,
        });
    }
    layers
}

#[cfg(test)]
mod tests {
    use super::super::file::{FilesSetting, ToggleSetting};
    use super::*;

    fn layer(settings: Settings, origin: LayerOrigin) -> Layer {
        Layer { settings, origin }
    }

    #[test]
    fn flag_beats_env_beats_target_beats_defaults() {
        let defaults = Settings {
            user: Some("1".into()),
            base: Some("scratch".into()),
            workdir: Some("/d".into()),
            labels: Some(BTreeMap::from([
                ("a".into(), "d".into()),
                ("b".into(), "d".into()),
            ])),
            files: Some(FilesSetting {
                tz: Some(ToggleSetting::Yes),
                certs: Some(ToggleSetting::No),
                ..Default::default()
            }),
            ..Default::default()
        };
        let target = Settings {
            user: Some("1000:1000".into()),
            base: Some("oci:t".into()),
            labels: Some(BTreeMap::from([("b".into(), "t".into())])),
            files: Some(FilesSetting {
                certs: Some(ToggleSetting::Yes),
                ..Default::default()
            }),
            ..Default::default()
        };
        let env = Settings {
            base: Some("oci:env".into()),
            ..Default::default()
        };
        let flags = Settings::default();
        let layers = [
            layer(flags, LayerOrigin::Flags(BTreeMap::new())),
            layer(
                env,
                LayerOrigin::Env(BTreeMap::from([("base", "GOPACK_BASE")])),
            ),
            layer(target, LayerOrigin::Target("api".into())),
            layer(defaults, LayerOrigin::Defaults),
        ];
        let r = resolve(&layers);
        assert_eq!(r.settings.user.as_deref(), Some("1000:1000"));
        assert_eq!(r.from_clause("user"), " (from gopack.toml [[target]] api)");
        assert_eq!(r.settings.base.as_deref(), Some("oci:env"));
        assert_eq!(r.from_clause("base"), " (from $GOPACK_BASE)");
        assert_eq!(r.from_clause("workdir"), " (from gopack.toml [defaults])");
        let labels = r.settings.labels.clone().unwrap();
        assert_eq!((labels["a"].as_str(), labels["b"].as_str()), ("d", "t"));
        let files = r.settings.files.unwrap();
        assert_eq!(files.certs, Some(ToggleSetting::Yes));
        assert_eq!(files.tz, Some(ToggleSetting::Yes));
        assert!(
            r.values()
                .iter()
                .any(|v| v.setting == "user" && v.value == "1000:1000")
        );
    }
}
