use clap::Args;

use super::CommandResult;

#[derive(Args)]
pub struct BuildArgs {
    /// Directories or Go package patterns of main packages
    #[arg(default_value = ".")]
    pub packages: Vec<String>,
}

pub fn run(_args: BuildArgs) -> CommandResult {
    anyhow::bail!("build: work in progress")
}
