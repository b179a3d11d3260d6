//! `gopack login REGISTRY`: ask for the user and password on the terminal (the password
//! without echo), or take them from `-u USER --password-stdin`; check them against the
//! registry, then save them in docker's config format (or its credential helper), like
//! `docker login`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine as _;
use clap::Args;
use gopack::registry::{
    Credential, CredentialStore, RegistryClient, config_key, store_with_helper,
};

use super::pull::RegistryFlags;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct LoginArgs {
    /// Registry to log in to: HOST[:PORT] (docker.io for Docker Hub)
    pub registry: String,
    /// User name (asked for on a terminal when not given)
    #[arg(short, long)]
    pub username: Option<String>,
    /// Read the password (or token) from standard input instead of asking on the terminal;
    /// gopack never takes it as an argument
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry_flags: RegistryFlags,
}

pub fn run(args: LoginArgs) -> CommandResult {
    let registry = normalise_registry(&args.registry)?;
    let (username, password) = read_credentials(&args, &registry)?;
    if username.is_empty() || username.contains(':') {
        return Err(UsageError("the user name must be non-empty and contain no `:`".into()).into());
    }
    if password.is_empty() {
        return Err(UsageError("the password is empty".into()).into());
    }

    let options = args.registry_flags.options();
    let helper_timeout = options.credentials.helper_timeout;
    let client = RegistryClient::new(options)?;
    let checked = client
        .check_login(
            &registry,
            Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            },
        )
        .with_context(|| format!("cannot log in to {registry}"))?;

    let path = CredentialStore::login_file();
    let mut config = read_config_value(&path)?;
    let key = config_key(&registry);
    let in_helper = store_with_helper(&config, &registry, &username, &password, helper_timeout)?;
    let entry = if in_helper {
        serde_json::json!({})
    } else {
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        serde_json::json!({ "auth": auth })
    };
    auths_of(&mut config).insert(key, entry);
    write_private_atomically(&path, &serde_json::to_vec_pretty(&config)?)
        .with_context(|| format!("cannot save the credentials in {}", path.display()))?;
    let place = if in_helper {
        "the credential helper named in "
    } else {
        ""
    };
    println!(
        "Login succeeded for {registry} as {username}; credentials saved in {place}{}",
        path.display()
    );
    if !checked {
        eprintln!(
            "note: {registry} asks for no credentials, so they could not be checked; they are \
             saved for when it does"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The user and password: from the terminal (user echoed, password not) unless
/// `--password-stdin` says to read the password from standard input.
fn read_credentials(args: &LoginArgs, registry: &str) -> anyhow::Result<(String, String)> {
    if args.password_stdin {
        let Some(username) = args.username.clone() else {
            return Err(UsageError(format!(
                "--password-stdin needs the user name too: `printenv TOKEN | gopack login \
                 {registry} -u USER --password-stdin`"
            ))
            .into());
        };
        let mut password = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut password)
            .context("cannot read the password from standard input")?;
        let password = password.trim_end_matches(['\n', '\r']).to_string();
        return Ok((username, password));
    }
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
        return Err(UsageError(format!(
            "no terminal to ask for the password on: pass it on standard input, e.g. \
             `printenv TOKEN | gopack login {registry} -u USER --password-stdin`"
        ))
        .into());
    }
    let username = match &args.username {
        Some(u) => u.clone(),
        None => tty::ask("Username: ", true).context("cannot read the user name")?,
    };
    let password = tty::ask("Password: ", false).context("cannot read the password")?;
    Ok((username, password))
}

/// A docker config file as JSON (an empty object when it is missing or empty).
pub(super) fn read_config_value(path: &Path) -> anyhow::Result<serde_json::Value> {
    let config = match std::fs::read(path) {
        Ok(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(&bytes)
            .map_err(|e| {
            anyhow::anyhow!(
                "{} is not valid JSON (line {}, column {}); fix or move it, then try again",
                path.display(),
                e.line(),
                e.column()
            )
        })?,
        Ok(_) => serde_json::json!({}),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !config.is_object() {
        anyhow::bail!(
            "{} is not a docker config file (not a JSON object)",
            path.display()
        );
    }
    Ok(config)
}

/// The `auths` object of a config (created, or replaced when it is not an object).
pub(super) fn auths_of(
    config: &mut serde_json::Value,
) -> &mut serde_json::Map<String, serde_json::Value> {
    let top = config
        .as_object_mut()
        .expect("read_config_value gives an object");
    let auths = top.entry("auths").or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths.as_object_mut().expect("just made an object")
}

/// `HOST[:PORT]` from what a person may type (`https://ghcr.io/`, `index.docker.io`).
pub(super) fn normalise_registry(input: &str) -> Result<String, UsageError> {
    let s = input
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = s.split('/').next().unwrap_or("");
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        h => h,
    };
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(host.to_string())
    } else {
        Err(UsageError(format!(
            "`{input}` is not a registry: give HOST[:PORT], e.g. ghcr.io or localhost:5000"
        )))
    }
}

/// Writes `bytes` to `path` readable by the owner only, appearing whole or not at all.
pub(super) fn write_private_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Questions on the controlling terminal (`/dev/tty`), so standard output stays clean.
///
/// Written here rather than taken from a crate: echo must be off *before* the prompt appears
/// (otherwise a password typed ahead is echoed), and Ctrl-C must give the terminal back with
/// echo on.
mod tty {
    use std::fs::File;
    use std::io::{self, BufRead, BufReader, Read, Write};
    use std::os::fd::AsRawFd;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The terminal settings to restore if a signal ends the process while echo is off.
    static SAVED: Mutex<Option<(i32, libc::termios)>> = Mutex::new(None);
    static HANDLING: AtomicBool = AtomicBool::new(false);

    extern "C" fn restore_and_reraise(signal: libc::c_int) {
        // Only async-signal-safe calls: tcsetattr, signal, raise. `try_lock` never blocks.
        if let Ok(saved) = SAVED.try_lock()
            && let Some((fd, termios)) = saved.as_ref()
        {
            // SAFETY: restoring settings read from this descriptor earlier.
            unsafe {
                libc::tcsetattr(*fd, libc::TCSANOW, termios);
            }
        }
        // SAFETY: back to the default action, then the same signal again.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    /// Prints `prompt` on the terminal and reads one line; with `echo` false, the terminal
    /// does not show what is typed.
    pub fn ask(prompt: &str, echo: bool) -> io::Result<String> {
        let mut tty = File::options().read(true).write(true).open("/dev/tty")?;
        let fd = tty.as_raw_fd();
        let mut saved: Option<libc::termios> = None;
        if !echo {
            // SAFETY: a zeroed termios is a valid buffer for tcgetattr to fill.
            let mut original: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: fd is the open terminal.
            if unsafe { libc::tcgetattr(fd, &mut original) } != 0 {
                return Err(io::Error::last_os_error());
            }
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, original));
            if !HANDLING.swap(true, Ordering::SeqCst) {
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                    // SAFETY: installing a handler that only makes async-signal-safe calls.
                    unsafe {
                        let handler: extern "C" fn(libc::c_int) = restore_and_reraise;
                        libc::signal(signal, handler as libc::sighandler_t);
                    }
                }
            }
            let mut quiet = original;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            // SAFETY: as above.
            if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
                return Err(io::Error::last_os_error());
            }
            saved = Some(original);
        }
        let answer = (|| {
            tty.write_all(prompt.as_bytes())?;
            tty.flush()?;
            let mut line = String::new();
            BufReader::new(&tty).take(64 << 10).read_line(&mut line)?;
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        })();
        if let Some(original) = saved {
            // SAFETY: restoring what tcgetattr gave.
            unsafe {
                libc::tcsetattr(fd, libc::TCSANOW, &original);
            }
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        answer
    }
}
