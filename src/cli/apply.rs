//! `gopack apply -f …`: `gopack resolve`, piped into `kubectl apply -f -` (with any arguments
//! after `--`). Without kubectl on PATH it says so before building anything.

use std::io::Write as _;
use std::process::{Command, ExitCode, Stdio};

use clap::Args;

use super::CommandResult;
use super::resolve::{ResolveArgs, resolved_yaml};

#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub resolve: ResolveArgs,

    /// Arguments for `kubectl apply` (after --), e.g. -- --namespace prod --dry-run=server
    #[arg(last = true, value_name = "KUBECTL_ARGS")]
    pub kubectl_args: Vec<String>,
}

/// `kubectl` on PATH, or `GOPACK_KUBECTL`.
fn kubectl() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("GOPACK_KUBECTL").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

pub fn run(args: ApplyArgs) -> CommandResult {
    let Some(kubectl) = kubectl() else {
        anyhow::bail!(
            "kubectl is not on PATH: install it (https://kubernetes.io/docs/tasks/tools/), or \
             run `gopack resolve -f … > resolved.yaml` and apply that file with your own tool"
        );
    };
    let yaml = resolved_yaml(&args.resolve)?;
    let mut child = Command::new(&kubectl)
        .args(["apply", "-f", "-"])
        .args(&args.kubectl_args)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", kubectl.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // kubectl may exit early (a bad flag); its own message says why.
        let _ = stdin.write_all(yaml.as_bytes());
    }
    let status = child.wait()?;
    if status.success() {
        Ok(ExitCode::SUCCESS)
    } else {
        let code = status.code().unwrap_or(1).clamp(1, 255) as u8;
        eprintln!("error: `kubectl apply` failed (exit status {code})");
        Ok(ExitCode::from(code))
    }
}
