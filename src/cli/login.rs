//! `gopack login REGISTRY -u USER --password-stdin`: check the credentials against the registry,
//! then save them in docker's config format (or its credential helper), like `docker login`.

use std::io::{Read, Write};
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
    /// User name
    #[arg(short, long)]
    pub username: String,
    /// Read the password (or token) from standard input; gopack never takes it as an argument
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry_flags: RegistryFlags,
}

pub fn run(args: LoginArgs) -> CommandResult {
    let registry = normalise_registry(&args.registry)?;
    if !args.password_stdin {
        return Err(UsageError(
            "pass the password on standard input with --password-stdin, e.g. \
             `printenv TOKEN | gopack login REGISTRY -u USER --password-stdin`"
                .into(),
        )
        .into());
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(UsageError("the password read from standard input is empty".into()).into());
    }
    if args.username.is_empty() || args.username.contains(':') {
        return Err(UsageError("the user name must be non-empty and contain no `:`".into()).into());
    }

    let client = RegistryClient::new(args.registry_flags.options())?;
    client
        .check_login(
            &registry,
            Credential::Basic {
                username: args.username.clone(),
                password: password.clone(),
            },
        )
        .with_context(|| format!("cannot log in to {registry}"))?;

    let path = CredentialStore::login_file();
    let mut config: serde_json::Value = match std::fs::read(&path) {
        Ok(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => serde_json::from_slice(&bytes)
            .with_context(|| {
            format!(
                "{} is not valid JSON; fix or move it, then log in again",
                path.display()
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
    let key = config_key(&registry);
    let in_helper = store_with_helper(&config, &registry, &args.username, &password)?;
    let entry = if in_helper {
        serde_json::json!({})
    } else {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", args.username));
        serde_json::json!({ "auth": auth })
    };
    let auths = config
        .as_object_mut()
        .expect("checked to be an object")
        .entry("auths")
        .or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths
        .as_object_mut()
        .expect("just made an object")
        .insert(key, entry);
    write_private_atomically(&path, &serde_json::to_vec_pretty(&config)?)
        .with_context(|| format!("cannot save the credentials in {}", path.display()))?;
    let place = if in_helper {
        "the credential helper named in".to_string()
    } else {
        String::new()
    };
    println!(
        "Login succeeded for {registry} as {}; credentials saved in {place}{}",
        args.username,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn normalise_registry(input: &str) -> Result<String, UsageError> {
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
fn write_private_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
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
    Ok(())
}
