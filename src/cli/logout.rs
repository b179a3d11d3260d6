//! `gopack logout REGISTRY`: forget the credentials `gopack login` (or `docker login`) saved
//! for a registry — its entry in the config file, and in the credential helper the file names.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gopack::registry::{CredentialStore, erase_with_helper, key_registry};

use super::CommandResult;
use super::login::{auths_of, normalise_registry, read_config_value, write_private_atomically};

#[derive(Args)]
pub struct LogoutArgs {
    /// Registry to log out of: HOST[:PORT] (docker.io for Docker Hub)
    pub registry: String,
}

pub fn run(args: LogoutArgs) -> CommandResult {
    let registry = normalise_registry(&args.registry)?;
    let path = CredentialStore::login_file();
    let mut config = read_config_value(&path)?;
    let timeout = CredentialStore::from_env().helper_timeout;
    let in_helper = erase_with_helper(&config, &registry, timeout)
        .with_context(|| format!("cannot remove the credentials for {registry}"))?;
    let auths = auths_of(&mut config);
    let keys: Vec<String> = auths
        .keys()
        .filter(|k| key_registry(k) == registry)
        .cloned()
        .collect();
    for k in &keys {
        auths.remove(k);
    }
    if !keys.is_empty() {
        write_private_atomically(&path, &serde_json::to_vec_pretty(&config)?)
            .with_context(|| format!("cannot update {}", path.display()))?;
    }
    if keys.is_empty() && !in_helper {
        println!(
            "{registry}: not logged in (no entry in {}); nothing to remove",
            path.display()
        );
    } else {
        let helper = if in_helper {
            " and its credential helper"
        } else {
            ""
        };
        println!(
            "Removed the login for {registry} from {}{helper}",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
