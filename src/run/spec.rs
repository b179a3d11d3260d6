//! The OCI runtime `config.json` (runtime-spec `config.md`, `config-linux.md`) for running an
//! image for the dev loop: the image's entrypoint/cmd, env, working directory and user; the
//! host's network by default (so the host reaches the program's ports); new PID, IPC and mount
//! namespaces; Docker's default capabilities, masked and read-only `/proc` paths; no new
//! privileges. As a normal user, a user namespace maps that user to the image's user (and
//! group) — the only mapping an unprivileged process may write.

use serde_json::{Value, json};

use super::user::{IdMap, RootlessIds, RunUser};
use crate::oci::ImageConfig;

/// `PATH` when the image sets none (Docker's default).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How the container reaches the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// The host's network namespace: the program's ports are the host's.
    Host,
    /// A namespace of its own with only loopback.
    None,
}

/// Everything the spec is made from.
#[derive(Clone, Debug)]
pub struct SpecInput<'a> {
    /// The image config.
    pub config: &'a ImageConfig,
    /// The process user (resolved in the unpacked root).
    pub user: &'a RunUser,
    /// Arguments replacing the image's `Cmd` (`-- ARGS`), when given.
    pub args: Option<&'a [String]>,
    /// `KEY=VALUE` settings over the image's `Env`, in order.
    pub env: &'a [String],
    /// Allocate a terminal (stdin and stdout are terminals).
    pub terminal: bool,
    /// Host network or none.
    pub network: Network,
    /// gopack runs as a normal user: the user namespace's id mappings.
    pub rootless: Option<&'a RootlessIds>,
    /// Host files bound read-only into the container (resolv.conf, hosts), when they exist.
    pub host_files: &'a [&'a str],
}

/// Why no process can be started from the image.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// No entrypoint, no cmd and no arguments.
    #[error(
        "the image names no command (no Entrypoint or Cmd); give one after `--`, e.g. \
         gopack run IMAGE -- /usr/local/bin/app"
    )]
    NoCommand,
}

/// The process's arguments: `Entrypoint` + (`args` or `Cmd`), as `docker run IMAGE ARGS`.
pub fn process_args(
    config: &ImageConfig,
    args: Option<&[String]>,
) -> Result<Vec<String>, SpecError> {
    let c = &config.config;
    let mut out: Vec<String> = c.entrypoint.clone().unwrap_or_default();
    match args {
        Some(a) => out.extend(a.iter().cloned()),
        None => out.extend(c.cmd.clone().unwrap_or_default()),
    }
    if out.is_empty() {
        return Err(SpecError::NoCommand);
    }
    Ok(out)
}

/// The process's environment: the image's `Env` (with Docker's default `PATH` and `HOME`
/// when missing, `TERM` with a terminal), then `overrides` replacing same-named variables.
pub fn process_env(input: &SpecInput) -> Vec<String> {
    let mut env: Vec<String> = input.config.config.env.clone().unwrap_or_default();
    let has = |env: &[String], key: &str| env.iter().any(|e| e.split('=').next() == Some(key));
    if !has(&env, "PATH") {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    if !has(&env, "HOME") {
        env.push(format!("HOME={}", input.user.home));
    }
    if input.terminal && !has(&env, "TERM") {
        env.push("TERM=xterm".into());
    }
    for setting in input.env {
        let key = setting.split('=').next().unwrap_or("");
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(setting.clone());
    }
    env
}

/// Docker's default capability set (moby `oci/caps/defaults.go`).
const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// `/proc` paths hidden from the container, and those made read-only (runtime-spec defaults as
/// `runc spec` and Docker write them).
const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];
const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

fn mounts(input: &SpecInput) -> Vec<Value> {
    let rootless = input.rootless.is_some();
    let mut pts = vec![
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
    ];
    if !rootless {
        pts.push("gid=5"); // tty; unmapped in a user namespace
    }
    let mut out = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": pts}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
    ];
    // sysfs may only be mounted by a process owning the network namespace it shows.
    out.push(if rootless || input.network == Network::Host {
        json!({"destination": "/sys", "type": "none", "source": "/sys",
               "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    } else {
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", "ro"]})
    });
    if input.network == Network::Host {
        for file in input.host_files {
            out.push(json!({"destination": file, "type": "bind", "source": file,
                            "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}));
        }
    }
    out
}

/// The `config.json` document for a bundle whose root file system is `rootfs/`.
pub fn runtime_spec(input: &SpecInput) -> Result<Value, SpecError> {
    let args = process_args(input.config, input.args)?;
    let cwd = input
        .config
        .config
        .working_dir
        .clone()
        .filter(|w| w.starts_with('/'))
        .unwrap_or_else(|| "/".into());
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "mount"}),
    ];
    if input.network == Network::None {
        namespaces.push(json!({"type": "network"}));
    }
    let mut linux = json!({
        "namespaces": namespaces,
        "maskedPaths": MASKED_PATHS,
        "readonlyPaths": READONLY_PATHS,
    });
    if let Some(ids) = input.rootless {
        linux["namespaces"]
            .as_array_mut()
            .expect("namespaces is an array")
            .push(json!({"type": "user"}));
        let maps = |m: &[IdMap]| -> Vec<Value> {
            m.iter()
                .map(|m| json!({"containerID": m.container, "hostID": m.host, "size": m.size}))
                .collect()
        };
        linux["uidMappings"] = maps(&ids.uid).into();
        linux["gidMappings"] = maps(&ids.gid).into();
    }
    Ok(json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": input.terminal,
            "user": {"uid": input.user.uid, "gid": input.user.gid},
            "args": args,
            "env": process_env(input),
            "cwd": cwd,
            "capabilities": {
                "bounding": DEFAULT_CAPS,
                "effective": DEFAULT_CAPS,
                "permitted": DEFAULT_CAPS,
            },
            "noNewPrivileges": true,
        },
        "root": {"path": "rootfs", "readonly": false},
        "mounts": mounts(input),
        "linux": linux,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::RuntimeConfig;

    fn config(entrypoint: &[&str], cmd: &[&str], env: &[&str]) -> ImageConfig {
        let list = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
        ImageConfig {
            config: RuntimeConfig {
                entrypoint: list(entrypoint),
                cmd: list(cmd),
                env: list(env),
                ..RuntimeConfig::default()
            },
            ..ImageConfig::default()
        }
    }

    fn user() -> RunUser {
        RunUser {
            uid: 65532,
            gid: 65532,
            home: "/home/nonroot".into(),
        }
    }

    fn input<'a>(config: &'a ImageConfig, user: &'a RunUser, env: &'a [String]) -> SpecInput<'a> {
        SpecInput {
            config,
            user,
            args: None,
            env,
            terminal: false,
            network: Network::Host,
            rootless: None,
            host_files: &[],
        }
    }

    #[test]
    fn args_replace_cmd_and_keep_the_entrypoint() {
        let c = config(&["/app"], &["--serve"], &[]);
        assert_eq!(process_args(&c, None).unwrap(), ["/app", "--serve"]);
        let args = vec!["--version".to_string()];
        assert_eq!(
            process_args(&c, Some(&args)).unwrap(),
            ["/app", "--version"]
        );
        let none = config(&[], &[], &[]);
        assert!(matches!(
            process_args(&none, None),
            Err(SpecError::NoCommand)
        ));
        assert_eq!(process_args(&none, Some(&args)).unwrap(), ["--version"]);
    }

    #[test]
    fn env_gets_docker_defaults_and_overrides_win() {
        let c = config(&["/app"], &[], &["PORT=8080", "MODE=prod"]);
        let u = user();
        let overrides = vec!["MODE=dev".to_string(), "EXTRA=1".to_string()];
        let env = process_env(&input(&c, &u, &overrides));
        assert_eq!(
            env,
            [
                DEFAULT_PATH,
                "PORT=8080",
                "HOME=/home/nonroot",
                "MODE=dev",
                "EXTRA=1"
            ]
        );
    }

    #[test]
    fn host_network_shares_the_host_namespace_and_rootless_maps_one_id() {
        let c = config(&["/app"], &[], &[]);
        let u = user();
        let mut i = input(&c, &u, &[]);
        let spec = runtime_spec(&i).unwrap();
        let types: Vec<&str> = spec["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["pid", "ipc", "mount"]);
        assert!(spec["linux"].get("uidMappings").is_none());
        assert_eq!(spec["process"]["user"]["uid"], 65532);
        let ids = crate::run::user::rootless_ids(&u, (1000, 1000), None, "", "", true);
        i.rootless = Some(&ids);
        i.network = Network::None;
        let spec = runtime_spec(&i).unwrap();
        assert_eq!(
            spec["linux"]["uidMappings"],
            json!([{"containerID": 0, "hostID": 1000, "size": 1}])
        );
        let pts = spec["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == "/dev/pts")
            .unwrap();
        assert!(!pts["options"].as_array().unwrap().contains(&json!("gid=5")));
    }
}
