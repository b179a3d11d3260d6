//! The OCI runtime that starts the container: runc or crun (same command line), found on PATH
//! or named with `--runtime`/`GOPACK_RUNTIME`. `run` in the foreground; signals gopack receives
//! (SIGINT, SIGTERM, SIGHUP) are forwarded once with `RUNTIME kill`; a container still running
//! [`STOP_GRACE`] later is killed (SIGKILL), and a runtime still running [`KILL_GRACE`] after
//! that is killed itself. Every runtime call but `run` is bounded by [`CALL_TIMEOUT`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a container has to stop after the signal is forwarded (Docker's `stop` default).
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long after SIGKILL gopack waits for the runtime before killing it too.
pub const KILL_GRACE: Duration = Duration::from_secs(5);
/// Limit for `kill`, `delete` and `list` calls.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A runtime gopack can drive.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// The program.
    pub program: PathBuf,
    /// `--root` for its state, when gopack must choose it (a normal user without
    /// XDG_RUNTIME_DIR); `None` leaves the runtime's default.
    pub state_root: Option<PathBuf>,
}

/// Why the runtime could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// None found.
    #[error(
        "gopack run needs an OCI runtime, and neither runc nor crun is on PATH. Install one \
         (Debian/Ubuntu: `sudo apt-get install runc`; Fedora: `sudo dnf install crun`), or name \
         one with --runtime PATH. With Docker or podman instead: `gopack build -o \
         docker-daemon:app:dev` then `docker run --rm --network host app:dev`"
    )]
    NotFound,
    /// The one named is not there.
    #[error("the runtime {} cannot be run: {error}", .program.display())]
    Unusable {
        /// The program named.
        program: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
}

fn on_path(name: &str) -> Option<PathBuf> {
    crate::fsutil::executable_on_path(name)
}

impl Runtime {
    /// `named` (a path or a program on PATH), else `GOPACK_RUNTIME`, else runc, else crun.
    /// `state_dir` is where state goes for a normal user without XDG_RUNTIME_DIR.
    pub fn find(named: Option<&Path>, state_dir: &Path) -> Result<Runtime, RuntimeError> {
        let from_env = std::env::var_os("GOPACK_RUNTIME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let program = match named.map(Path::to_path_buf).or(from_env) {
            Some(p) if p.components().count() > 1 => p,
            Some(p) => on_path(&p.to_string_lossy()).ok_or_else(|| RuntimeError::Unusable {
                program: p.clone(),
                error: std::io::ErrorKind::NotFound.into(),
            })?,
            None => on_path("runc")
                .or_else(|| on_path("crun"))
                .ok_or(RuntimeError::NotFound)?,
        };
        let rootless = !rustix::process::geteuid().is_root();
        let xdg = std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|d| d.is_dir());
        let state_root = (rootless && xdg.is_none()).then(|| state_dir.to_path_buf());
        let runtime = Runtime {
            program,
            state_root,
        };
        runtime
            .command()
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|error| RuntimeError::Unusable {
                program: runtime.program.clone(),
                error,
            })?;
        Ok(runtime)
    }

    /// The program's name (`runc`), for messages.
    pub fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string())
    }

    /// A command for the runtime, with `--root` when gopack chose it.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        if let Some(root) = &self.state_root {
            cmd.arg("--root").arg(root);
        }
        cmd
    }

    /// `RUNTIME ARGS…` bounded by [`CALL_TIMEOUT`]; whether it succeeded.
    pub fn call(&self, args: &[&str]) -> bool {
        let Ok(mut child) = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        matches!(wait_bounded(&mut child, CALL_TIMEOUT), Some(s) if s.success())
    }

    /// Forwards `signal` (a name runc and crun take: TERM, INT, KILL…) to the container.
    pub fn kill(&self, id: &str, signal: &str) -> bool {
        self.call(&["kill", id, signal])
    }

    /// Removes the container's state whatever it is doing.
    pub fn delete(&self, id: &str) -> bool {
        self.call(&["delete", "--force", id])
    }
}

/// Waits at most `timeout` for `child`; kills it after that. `None` when it had to be killed.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// The signals gopack forwards, each recorded in one flag (its number) until read.
pub struct Signals {
    pending: Arc<AtomicUsize>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    /// Starts catching SIGINT, SIGTERM and SIGHUP (instead of dying of them).
    pub fn catch() -> std::io::Result<Signals> {
        let pending = Arc::new(AtomicUsize::new(0));
        let mut ids = Vec::new();
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            ids.push(signal_hook::flag::register_usize(
                sig,
                pending.clone(),
                sig as usize,
            )?);
        }
        Ok(Signals { pending, ids })
    }

    /// The last signal received since the previous call, if any.
    pub fn take(&self) -> Option<i32> {
        match self.pending.swap(0, Ordering::SeqCst) {
            0 => None,
            s => Some(s as i32),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// The runtime's name for a signal.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "INT",
        libc::SIGHUP => "HUP",
        libc::SIGKILL => "KILL",
        _ => "TERM",
    }
}

/// How the container's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    /// The exit code to give: the program's, or 128+N when it died of signal N.
    pub code: i32,
    /// The signal gopack forwarded, if it was stopped.
    pub stopped_by: Option<i32>,
}

/// What `supervise` reports while the container runs.
pub trait Watch {
    /// Called every tick (about 50 ms) while the container runs.
    fn tick(&mut self) {}
    /// Called once when gopack starts stopping the container.
    fn stopping(&mut self, _signal: i32) {}
}

/// Runs `run` (a prepared `RUNTIME run` command) until the container ends, forwarding
/// signals. `id` is the container id.
pub fn supervise(
    runtime: &Runtime,
    id: &str,
    mut run: Command,
    signals: &Signals,
    watch: &mut dyn Watch,
) -> std::io::Result<Ended> {
    let mut child = run.spawn()?;
    let mut stopped_by = None;
    let mut kill_at: Option<Instant> = None;
    let mut give_up_at: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended {
                code: exit_code(status),
                stopped_by,
            });
        }
        if let Some(sig) = signals.take() {
            if stopped_by.is_none() {
                stopped_by = Some(sig);
                watch.stopping(sig);
                runtime.kill(id, signal_name(sig));
                kill_at = Some(Instant::now() + STOP_GRACE);
            } else {
                kill_at = Some(Instant::now()); // a second signal: no more waiting
            }
        }
        let now = Instant::now();
        if kill_at.is_some_and(|t| now >= t) && give_up_at.is_none() {
            runtime.kill(id, "KILL");
            give_up_at = Some(Instant::now() + KILL_GRACE);
        }
        if give_up_at.is_some_and(|t| now >= t) {
            let _ = child.kill();
            let status = child.wait()?;
            return Ok(Ended {
                code: exit_code(status),
                stopped_by,
            });
        }
        watch.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The code `sh` would report: the exit code, or 128+N for death by signal N.
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// The file in the bundle where the runtime writes the container's process id once it has
/// created it (`--pid-file`, runc and crun alike): absent after the run means the runtime
/// failed before the program existed.
pub const PID_FILE: &str = "container.pid";

/// `RUNTIME run --bundle DIR --pid-file DIR/container.pid ID`, with stdio as `stdin_null` says.
pub fn run_command(
    runtime: &Runtime,
    bundle: &Path,
    id: &str,
    own_group: bool,
    stdin_null: bool,
) -> Command {
    let mut cmd = runtime.command();
    cmd.arg("run")
        .arg("--bundle")
        .arg(bundle)
        .arg("--pid-file")
        .arg(bundle.join(PID_FILE))
        .arg(OsString::from(id));
    if stdin_null {
        cmd.stdin(Stdio::null());
    }
    if own_group {
        // A terminal's Ctrl-C then reaches gopack only, which forwards it once.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd
}
