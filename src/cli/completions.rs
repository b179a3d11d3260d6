//! `gopack completions SHELL` (a completion script on stdout, from clap_complete) and
//! `gopack man [--dir DIR]` (roff man pages from clap_mangen): both generated from the one CLI
//! definition in `main.rs`, so they never drift from the flags gopack accepts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap_complete::Shell;

use super::CommandResult;

#[derive(Args)]
#[command(after_help = "Install, for example:\n  \
    bash:        gopack completions bash > ~/.local/share/bash-completion/completions/gopack\n  \
    zsh:         gopack completions zsh > \"${fpath[1]}/_gopack\"\n  \
    fish:        gopack completions fish > ~/.config/fish/completions/gopack.fish\n  \
    powershell:  gopack completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to write a completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Args)]
#[command(after_help = "Read it with `gopack man | man -l -`; install with \
    `gopack man --dir ~/.local/share/man/man1` (then `man gopack-build`).")]
pub struct ManArgs {
    /// Write gopack.1 and one gopack-VERB.1 per verb into DIR (created if missing), instead of
    /// printing gopack.1 on stdout
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` of `cmd` (the whole CLI).
pub fn completions(args: CompletionsArgs, mut cmd: clap::Command) -> CommandResult {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "gopack", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `gopack.1`, or writes every page into `--dir`.
pub fn man(args: ManArgs, cmd: clap::Command) -> CommandResult {
    let Some(dir) = args.dir else {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        std::io::stdout().lock().write_all(&out)?;
        return Ok(ExitCode::SUCCESS);
    };
    let pages = pages(cmd)?;
    gopack::fsutil::create_dirs(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in &pages {
        write_page(&dir, name, bytes)?;
    }
    eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Every page: `gopack.1`, then `gopack-VERB.1` for each verb (and `gopack-VERB-SUB.1` below),
/// as (file name, roff bytes).
pub fn pages(cmd: clap::Command) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    collect_pages(&cmd, "gopack", &mut out)?;
    Ok(out)
}

fn collect_pages(
    cmd: &clap::Command,
    name: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    let page = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    clap_mangen::Man::new(page).render(&mut bytes)?;
    out.push((format!("{name}.1"), bytes));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect_pages(sub, &format!("{name}-{}", sub.get_name()), out)?;
    }
    Ok(())
}

/// Writes one page whole or not at all (temp file + rename).
fn write_page(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let dest = dir.join(name);
    let mut temp = gopack::fsutil::temp_file_in(dir)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    temp.write_all(bytes)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    gopack::fsutil::commit(temp, &dest)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}
