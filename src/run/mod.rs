//! `gopack run`: an image started for the dev loop with runc or crun, no daemon. The image's
//! layers are unpacked into a temporary bundle ([`unpack`]), its config becomes the runtime's
//! `config.json` ([`spec`]: user, env, working directory, entrypoint/cmd, host network by
//! default), the runtime runs it in the foreground, and the bundle and runtime state are removed
//! when it ends — also when gopack is interrupted ([`runtime`]), and at the next run when gopack
//! was killed ([`bundle::sweep`]).
//!
//! Works as root and as a normal user. As a normal user the container gets a user namespace
//! that maps that one user to the image's user and group (no other ids exist inside; files are
//! the user's own), no cgroup limits, and the host's network; the runtime must support rootless
//! mode (runc ≥ 1.0 and crun do) and the kernel must allow unprivileged user namespaces.

pub mod bundle;
pub mod program;
pub mod runtime;
pub mod spec;
pub mod unpack;
pub mod user;

use std::io::Write as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::oci::{Image, ImageSource, Limits};

pub use bundle::Bundle;
pub use runtime::{Ended, Runtime, RuntimeError, Signals};
pub use spec::Network;

/// Host files bound into a host-network container, so names resolve as on the host.
const HOST_FILES: &[&str] = &["/etc/resolv.conf", "/etc/hosts"];

/// How long gopack watches for the program to listen on `-p PORT`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run, and how.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// Arguments replacing the image's `Cmd`, when given (`-- ARGS`).
    pub args: Option<Vec<String>>,
    /// `KEY=VALUE` settings over the image's `Env`.
    pub env: Vec<String>,
    /// The port the program should listen on (`-p`): checked free first, given as `PORT`, and
    /// watched until it accepts connections.
    pub port: Option<u16>,
    /// Host network (default) or none.
    pub network: Network,
    /// Allocate a terminal (stdin and stdout are terminals).
    pub terminal: bool,
}

/// Why the image was not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Unpacking failed.
    #[error(transparent)]
    Unpack(#[from] unpack::UnpackError),
    /// The image's user cannot be resolved.
    #[error("{0}")]
    User(String),
    /// The image has no command.
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    /// The port is taken.
    #[error(
        "port {port} is already in use on this machine (the container shares the host's \
         network): stop what listens there, or choose another with -p"
    )]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// The bundle could not be written or the runtime started.
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// The runtime exited before it had created the container (its own message went to
    /// stderr before this one): cgroups, namespaces or seccomp the host refuses, most often.
    #[error(
        "{runtime} could not start the container (it exited with status {code}; its own \
         message is above), so the program never ran; nothing is left behind. When the message \
         names cgroups, namespaces or seccomp, this host refuses what {runtime} needs: try the \
         other runtime (--runtime {other}), or see gopack's README, Troubleshooting"
    )]
    NotStarted {
        /// The runtime's name (`crun`).
        runtime: String,
        /// The other runtime to try.
        other: &'static str,
        /// Its exit status.
        code: i32,
    },
    /// The program is dynamically linked and the image lacks its loader.
    #[error(
        "{program} is dynamically linked and needs the loader {loader}, which the image does \
         not have, so it cannot start (the runtime would say only `exec {program}: no such \
         file or directory`). Build it static (Go: CGO_ENABLED=0, or `gopack build --cgo \
         static`), or put it on a base holding the C library (--base \
         gcr.io/distroless/base-debian12)"
    )]
    MissingLoader {
        /// The program (`/app`).
        program: String,
        /// Its PT_INTERP (`/lib64/ld-linux-x86-64.so.2`).
        loader: String,
    },
    /// Interrupted before the container started.
    #[error("interrupted before the container started; nothing is left behind")]
    Interrupted,
}

/// Checks that nothing listens on `port` yet (a second server would fail with a less clear
/// message from inside the container).
pub fn check_port_free(port: u16) -> Result<(), RunError> {
    match std::net::TcpListener::bind(("0.0.0.0", port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(RunError::PortInUse { port }),
        Err(_) => Ok(()), // e.g. a privileged port as a normal user: the program will say
    }
}

/// Unpacks `image` (read from `source`) into `bundle`, writes its `config.json`, and runs it
/// with `runtime` until it ends; removes the bundle and runtime state in every case. `status`
/// gets progress lines for stderr.
pub fn run_image(
    source: &dyn ImageSource,
    image: &Image,
    bundle: &mut Bundle,
    runtime: &Runtime,
    request: &RunRequest,
    status: &mut dyn FnMut(&str),
) -> Result<Ended, RunError> {
    let signals = Signals::catch().map_err(|error| RunError::Io {
        what: "cannot catch signals".into(),
        error,
    })?;
    let result = prepare_and_run(source, image, bundle, runtime, request, &signals, status);
    let cleanup = bundle.remove(Some(runtime));
    let ended = result?;
    cleanup.map_err(|error| RunError::Io {
        what: format!("cannot remove the bundle {}", bundle.dir.display()),
        error,
    })?;
    Ok(ended)
}

fn prepare_and_run(
    source: &dyn ImageSource,
    image: &Image,
    bundle: &Bundle,
    runtime: &Runtime,
    request: &RunRequest,
    signals: &Signals,
    status: &mut dyn FnMut(&str),
) -> Result<Ended, RunError> {
    let root = rustix::process::geteuid().is_root();
    let rootfs = bundle.rootfs();
    let report = unpack::unpack(source, image, &rootfs, root, &Limits::default())?;
    if signals.take().is_some() {
        return Err(RunError::Interrupted);
    }
    if report.skipped_devices > 0 {
        status(&format!(
            "{} device nodes in the image were not created (the runtime provides /dev)",
            report.skipped_devices
        ));
    }
    let user_spec = image.config.config.user.clone().unwrap_or_default();
    let image_user = user::resolve_user(&user_spec, &rootfs).map_err(RunError::User)?;
    let rootless = (!root).then(|| host_rootless_ids(&image_user));
    if let Some(note) = rootless.as_ref().and_then(|r| r.note.as_deref()) {
        status(note);
    }
    let user = rootless
        .as_ref()
        .map(|r| r.process.clone())
        .unwrap_or(image_user);
    write_spec(bundle, image, request, &user, rootless.as_ref())?;
    let stdin_is_terminal = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let command = runtime::run_command(
        runtime,
        &bundle.dir,
        &bundle.id,
        !request.terminal,
        stdin_is_terminal && !request.terminal,
    );
    status(&format!(
        "running {} as {}:{} with {} ({}; Ctrl-C stops it)",
        bundle.id,
        user.uid,
        user.gid,
        runtime.name(),
        match request.network {
            Network::Host => "host network",
            Network::None => "no network",
        }
    ));
    let mut watch = PortWatch {
        port: request.port,
        until: Instant::now() + READY_TIMEOUT,
        status,
        next_try: Instant::now(),
    };
    let ended =
        runtime::supervise(runtime, &bundle.id, command, signals, &mut watch).map_err(|error| {
            RunError::Io {
                what: format!("cannot start {}", runtime.program.display()),
                error,
            }
        })?;
    started(ended, &bundle.dir.join(runtime::PID_FILE), runtime)
}

/// Writes the bundle's `config.json` (the runtime spec) for `user`, after checking the program
/// can start in the unpacked root.
fn write_spec(
    bundle: &Bundle,
    image: &Image,
    request: &RunRequest,
    user: &user::RunUser,
    rootless: Option<&user::RootlessIds>,
) -> Result<(), RunError> {
    let mut env = request.env.clone();
    if let Some(port) = request.port {
        env.push(format!("PORT={port}"));
    }
    let host_files: Vec<&str> = HOST_FILES
        .iter()
        .copied()
        .filter(|f| std::path::Path::new(f).is_file())
        .collect();
    let input = spec::SpecInput {
        config: &image.config,
        user,
        args: request.args.as_deref(),
        env: &env,
        terminal: request.terminal,
        network: request.network,
        rootless,
        host_files: &host_files,
    };
    let config = spec::runtime_spec(&input)?;
    check_loader(&bundle.rootfs(), &config)?;
    let io_err = |error| RunError::Io {
        what: "cannot write the bundle's config.json".into(),
        error,
    };
    let mut file = std::fs::File::create(bundle.dir.join("config.json")).map_err(io_err)?;
    file.write_all(&serde_json::to_vec_pretty(&config).expect("a JSON value serialises"))
        .map_err(io_err)
}

/// Refuses a dynamically linked program whose loader the unpacked image lacks (`config` is the
/// runtime spec: its process args and env, PATH included).
fn check_loader(rootfs: &std::path::Path, config: &serde_json::Value) -> Result<(), RunError> {
    let process = &config["process"];
    let Some(argv0) = process["args"][0].as_str() else {
        return Ok(());
    };
    let path_var = process["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str()?.strip_prefix("PATH="))
        .next_back()
        .unwrap_or_default();
    match program::missing_loader(rootfs, argv0, path_var) {
        Some(loader) => Err(RunError::MissingLoader {
            program: argv0.to_string(),
            loader,
        }),
        None => Ok(()),
    }
}

/// `ended` when the runtime had created the container (it wrote `pid_file`), else why not.
fn started(ended: Ended, pid_file: &std::path::Path, runtime: &Runtime) -> Result<Ended, RunError> {
    if ended.code == 0 || pid_file.exists() {
        return Ok(ended);
    }
    if ended.stopped_by.is_some() {
        return Err(RunError::Interrupted);
    }
    let name = runtime.name();
    Err(RunError::NotStarted {
        other: if name.contains("crun") {
            "runc"
        } else {
            "crun"
        },
        runtime: name,
        code: ended.code,
    })
}

/// The user namespace for this (normal) user: its name from the host's /etc/passwd, its
/// ranges from /etc/subuid and /etc/subgid, and whether newuidmap/newgidmap are installed.
fn host_rootless_ids(image_user: &user::RunUser) -> user::RootlessIds {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid.to_string())
        .map(|f| f[0].to_string());
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let helpers = ["newuidmap", "newgidmap"].iter().all(|h| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(h).is_file()))
    });
    user::rootless_ids(
        image_user,
        (uid, gid),
        name.as_deref(),
        &read("/etc/subuid"),
        &read("/etc/subgid"),
        helpers,
    )
}

/// Says once when the program accepts connections on its port.
struct PortWatch<'s> {
    port: Option<u16>,
    until: Instant,
    next_try: Instant,
    status: &'s mut dyn FnMut(&str),
}

impl runtime::Watch for PortWatch<'_> {
    fn tick(&mut self) {
        let Some(port) = self.port else { return };
        let now = Instant::now();
        if now > self.until {
            self.port = None;
            return;
        }
        if now < self.next_try {
            return;
        }
        self.next_try = now + Duration::from_millis(200);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            (self.status)(&format!("listening on http://127.0.0.1:{port}"));
            self.port = None;
        }
    }

    fn stopping(&mut self, signal: i32) {
        (self.status)(&format!(
            "stopping the container (SIG{}; it has {}s before SIGKILL, Ctrl-C again to kill it now)",
            runtime::signal_name(signal),
            runtime::STOP_GRACE.as_secs()
        ));
    }
}
