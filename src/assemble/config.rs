//! The image config and manifest annotations: the base's Env and WorkingDir kept, gopack's
//! Entrypoint, User, PATH, SSL_CERT_FILE and the user's settings on top, the
//! `org.opencontainers.image.*` annotations from the build info and git, and the history and
//! diff_ids of every layer.

use std::collections::BTreeMap;
use std::path::Path;

use crate::binary::buildinfo::BuildInfo;
use crate::oci::{HistoryEntry, Image, ImageConfig, Platform, RootFs, RuntimeConfig, WrittenLayer};
use crate::plan::BINARY_DIR;
use crate::rootfs::CA_BUNDLE_PATH;

/// Image config settings from flags (the environment is part of the plan).
#[derive(Clone, Debug, Default)]
pub struct ImageSettings {
    /// `--port`: `N` or `N/udp`, added to the base's ExposedPorts.
    pub ports: Vec<String>,
    /// `--workdir`; else the base's, else `/`.
    pub workdir: Option<String>,
    /// `--label`, over the build's own labels.
    pub labels: BTreeMap<String, String>,
    /// `--annotation`, over the build's own manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Copy the base image's labels into ours (off by default: they describe the base).
    pub keep_base_labels: bool,
    /// Annotations of the index over several platform images (over those every platform
    /// shares).
    pub index_annotations: BTreeMap<String, String>,
    /// Arguments after the entrypoint: the config's `Cmd` (gopack.toml `args`).
    pub args: Vec<String>,
}

/// Everything the config of one platform image is made from.
pub struct ConfigInputs<'a> {
    /// The flags' settings.
    pub settings: &'a ImageSettings,
    /// The image's environment (`--env`), in order.
    pub env: &'a [(String, String)],
    /// The module path (for `org.opencontainers.image.source`).
    pub module_path: &'a str,
    /// The module root (for the git revision when the build info has none).
    pub module_root: &'a Path,
    /// Binary name; the entrypoint is `/usr/local/bin/<name>`.
    pub name: &'a str,
    /// The image's platform (config `os`, `architecture`, `variant`).
    pub platform: &'a Platform,
    /// The config's `User`.
    pub user: &'a str,
    /// gopack's own CA bundle is at [`CA_BUNDLE_PATH`] (not merged into the base's).
    pub own_ca_bundle: bool,
    /// The binary's build info (revision and version annotations).
    pub build_info: Option<&'a BuildInfo>,
    /// The base: the name recorded for it ([`stable_base_name`]) and its image for this
    /// platform.
    pub base: Option<(Option<&'a str>, &'a Image)>,
    /// gopack's layers, with the sentence describing each.
    pub layers: &'a [(WrittenLayer, String)],
    /// Seconds since the epoch for `created` (SOURCE_DATE_EPOCH rule).
    pub mtime: u64,
}

/// The config and the manifest annotations.
pub fn image_config(cx: &ConfigInputs<'_>) -> (ImageConfig, BTreeMap<String, String>) {
    let created = rfc3339(cx.mtime);
    let base_config = cx.base.map(|(_, image)| &image.config);
    let base_runtime = base_config.map(|c| c.config.clone()).unwrap_or_default();
    let mut annotations = build_annotations(cx, &created);
    let mut labels = BTreeMap::new();
    if cx.settings.keep_base_labels {
        labels.extend(base_runtime.labels.clone().unwrap_or_default());
    }
    labels.extend(annotations.clone());
    labels.extend(cx.settings.labels.clone());
    if let Some((name, image)) = cx.base {
        if let Some(name) = name {
            annotations.insert(
                "org.opencontainers.image.base.name".into(),
                name.to_string(),
            );
        }
        annotations.insert(
            "org.opencontainers.image.base.digest".into(),
            image.manifest_digest.to_string(),
        );
    }
    annotations.extend(cx.settings.annotations.clone());
    let mut history = base_config.map(|c| c.history.clone()).unwrap_or_default();
    history.extend(cx.layers.iter().map(|(_, description)| HistoryEntry {
        created: Some(created.clone()),
        created_by: Some(description.clone()),
        comment: Some(format!("gopack {}", env!("CARGO_PKG_VERSION"))),
        empty_layer: None,
    }));
    let mut diff_ids = base_config
        .map(|c| c.rootfs.diff_ids.clone())
        .unwrap_or_default();
    diff_ids.extend(cx.layers.iter().map(|(l, _)| l.diff_id.clone()));
    let working_dir = cx
        .settings
        .workdir
        .clone()
        .or_else(|| base_runtime.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    let ports = exposed_ports(&base_runtime, &cx.settings.ports);
    let config = ImageConfig {
        created: Some(created),
        architecture: cx.platform.architecture.clone(),
        os: cx.platform.os.clone(),
        variant: cx.platform.variant.clone(),
        config: RuntimeConfig {
            user: Some(cx.user.to_string()),
            exposed_ports: (!ports.is_empty()).then_some(ports),
            env: Some(config_env(&base_runtime, cx.env, cx.own_ca_bundle)),
            entrypoint: Some(vec![format!("{BINARY_DIR}/{}", cx.name)]),
            // A base's Cmd would become arguments to our entrypoint: never inherit it.
            cmd: (!cx.settings.args.is_empty()).then(|| cx.settings.args.clone()),
            working_dir: Some(working_dir),
            labels: Some(labels),
            extra: base_runtime.extra.clone(),
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        history,
        extra: Default::default(),
    };
    (config, annotations)
}

/// The base's environment, PATH with /usr/local/bin, SSL_CERT_FILE for gopack's own bundle,
/// then `--env` (a later value of a name replaces an earlier one).
fn config_env(base: &RuntimeConfig, env: &[(String, String)], own_ca_bundle: bool) -> Vec<String> {
    let mut out = base.env.clone().unwrap_or_default();
    match out.iter_mut().find(|e| e.starts_with("PATH=")) {
        Some(path) if !path["PATH=".len()..].split(':').any(|d| d == BINARY_DIR) => {
            *path = format!("PATH={BINARY_DIR}:{}", &path["PATH=".len()..]);
        }
        Some(_) => {}
        None => out.insert(0, format!("PATH={BINARY_DIR}")),
    }
    if own_ca_bundle {
        out.retain(|e| !e.starts_with("SSL_CERT_FILE="));
        out.push(format!("SSL_CERT_FILE={CA_BUNDLE_PATH}"));
    }
    for (key, value) in env {
        out.retain(|e| e.split('=').next() != Some(key.as_str()));
        out.push(format!("{key}={value}"));
    }
    out
}

fn exposed_ports(base: &RuntimeConfig, ports: &[String]) -> BTreeMap<String, serde_json::Value> {
    let mut out = base.exposed_ports.clone().unwrap_or_default();
    for p in ports {
        let key = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        out.insert(key, serde_json::json!({}));
    }
    out
}

/// The annotations the build itself gives (also copied to labels): created, title, source,
/// revision, version.
fn build_annotations(cx: &ConfigInputs<'_>, created: &str) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.created".to_string(),
        created.to_string(),
    );
    annotations.insert(
        "org.opencontainers.image.title".to_string(),
        cx.name.to_string(),
    );
    if let Some(source) = source_url(cx.module_path) {
        annotations.insert("org.opencontainers.image.source".into(), source);
    }
    let info = cx.build_info;
    if let Some(revision) = info
        .and_then(|i| i.setting("vcs.revision"))
        .map(str::to_string)
        .or_else(|| git_revision(cx.module_root))
    {
        annotations.insert("org.opencontainers.image.revision".into(), revision);
    }
    if let Some(version) = info
        .and_then(|i| i.main.as_ref())
        .map(|m| m.version.clone())
        .filter(|v| v != "(devel)" && !v.is_empty())
    {
        annotations.insert("org.opencontainers.image.version".into(), version);
    }
    annotations
}

/// `org.opencontainers.image.base.name`: a name that does not depend on how a path was typed
/// (`oci:./bases/dl` and `oci:/abs/bases/dl` must give the same digest): the registry
/// reference, or the layout's ref name when one was given, else nothing (the base digest is
/// recorded either way).
pub fn stable_base_name(spec: &crate::base::BaseSpec) -> Option<String> {
    use crate::base::BaseSpec;
    match spec {
        BaseSpec::Image(crate::oci::ImageRef::Registry(reference)) => Some(reference.to_string()),
        BaseSpec::Image(crate::oci::ImageRef::DockerArchive { reference, .. }) => {
            reference.as_ref().map(ToString::to_string)
        }
        BaseSpec::Image(other) => other.tag().map(str::to_string),
        BaseSpec::Scratch => None,
    }
}

/// Layer mtimes and `created`: SOURCE_DATE_EPOCH, else the HEAD commit time, else 0.
pub fn source_date_epoch(module_root: &Path) -> u64 {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return epoch;
    }
    std::process::Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(module_root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn git_revision(module_root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(module_root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let rev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && rev.len() == 40).then_some(rev)
}

/// A browsable source URL for well-known forges, from the module path alone (never from git
/// remotes, which can carry credentials).
fn source_url(module: &str) -> Option<String> {
    let parts: Vec<&str> = module.split('/').collect();
    match parts.as_slice() {
        [
            host @ ("github.com" | "gitlab.com" | "bitbucket.org" | "codeberg.org"),
            owner,
            repo,
            ..,
        ] => Some(format!("https://{host}/{owner}/{repo}")),
        _ => None,
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn source_urls_only_for_known_forges() {
        assert_eq!(
            source_url("github.com/a/b/cmd/x").as_deref(),
            Some("https://github.com/a/b")
        );
        assert_eq!(source_url("example.com/a/b"), None);
    }

    #[test]
    fn env_keeps_the_base_and_the_last_value_of_a_name() {
        let base = RuntimeConfig {
            env: Some(vec!["PATH=/usr/bin".into(), "SSL_CERT_FILE=/x".into()]),
            ..RuntimeConfig::default()
        };
        let env = vec![
            ("A".to_string(), "1".to_string()),
            ("A".to_string(), "2".to_string()),
        ];
        assert_eq!(
            config_env(&base, &env, true),
            [
                "PATH=/usr/local/bin:/usr/bin",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "A=2"
            ]
        );
    }
}
