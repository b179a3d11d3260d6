//! One file per verb: its arguments, the call into the library, and how the result is shown.

use std::process::ExitCode;

pub mod apply;
pub mod build;
pub mod build_progress;
pub mod build_report;
pub mod cache;
pub mod color;
pub mod completions;
pub mod dockerfile;
pub mod gc;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod login;
pub mod logout;
pub mod plan;
pub mod plan_flags;
pub mod plan_select;
pub mod plan_targets;
pub mod pull;
pub mod resolve;
pub mod run;
pub mod sbom;
pub mod size;
pub mod version;

/// What a command asks the process to exit with: `Ok(code)` for a normal end (0, or 1 when a
/// check such as lint found problems), `Err` for a failure, shown to the user as `error: …`.
pub type CommandResult = anyhow::Result<ExitCode>;

/// Prints an error chain the way people read it: the failure, then each cause, then any hint.
pub fn finish(result: CommandResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprint!("{}", render_error(&err, color::stderr()));
            ExitCode::from(exit_code_for(&err))
        }
    }
}

/// Longest text shown for one message of an error chain, in characters.
const MAX_MESSAGE_CHARS: usize = 8000;

/// The lines `finish` prints for `err`: `error: …` then `  caused by: …` per cause. Every
/// message goes through [`gopack::text::printable_lines`] (no terminal escape from a file
/// name, a registry or a Go error reaches the screen; line breaks stay). A cause whose text an
/// outer message already shows (`cannot read X: <io error>` over the io error itself) is not
/// repeated.
pub fn render_error(err: &anyhow::Error, color: bool) -> String {
    let mut shown: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = gopack::text::printable_lines(&cause.to_string(), MAX_MESSAGE_CHARS);
        if text.is_empty() || shown.iter().any(|s| s.contains(&text)) {
            continue;
        }
        shown.push(text);
    }
    let mut out = String::new();
    for (i, text) in shown.iter().enumerate() {
        if i == 0 {
            out.push_str(&format!("{} {text}\n", color::error_style("error:", color)));
        } else {
            out.push_str(&format!("  caused by: {text}\n"));
        }
    }
    out
}

/// Pairs of flags that ask for different outputs of one command (`-q` prints references only,
/// `--json` one document, `--explain` the whole plan, `-v` more detail): wherever a verb has
/// both, giving both is a usage error (exit 2) instead of one being ignored silently. Applied
/// to every verb by argument id, so verbs added later get it too.
const CONFLICTING_FLAGS: &[(&str, &str)] = &[
    ("quiet", "json"),
    ("quiet", "explain"),
    ("quiet", "verbose"),
];

/// `cmd` and all its subcommands with [`CONFLICTING_FLAGS`] declared as clap conflicts.
pub fn with_conflicts(mut cmd: clap::Command) -> clap::Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for (a, b) in CONFLICTING_FLAGS {
        if ids.iter().any(|i| i == a) && ids.iter().any(|i| i == b) {
            cmd = cmd.mut_arg(*a, |arg| arg.conflicts_with(*b));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, with_conflicts);
    }
    cmd
}

/// Usage mistakes exit 2 (like clap and hadolint); everything else exits 1.
fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err
        .chain()
        .any(|c| c.downcast_ref::<UsageError>().is_some())
    {
        2
    } else {
        1
    }
}

/// An error in how gopack was called (a bad flag value, a missing argument), as opposed to a
/// failure of the work itself.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether `--platform` asks for every platform the base offers: `all`, alone (mixed with
/// named platforms it is a usage error).
pub fn wants_all_platforms(values: &[String]) -> Result<bool, UsageError> {
    let words: Vec<&str> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    match (words.contains(&"all"), words.len()) {
        (false, _) => Ok(false),
        (true, 1) => Ok(true),
        (true, _) => Err(UsageError(
            "--platform all means every platform the base offers; it cannot be mixed with \
             named platforms"
                .into(),
        )),
    }
}

/// With `--platform all`, sets `request.platforms` to every platform its base offers (read
/// through the one resolver), or to [`gopack::base::SCRATCH_ALL_PLATFORMS`] on scratch.
pub fn expand_all_platforms(
    values: &[String],
    request: &mut gopack::plan::PlanRequest,
    registry: &gopack::registry::RegistryOptions,
) -> anyhow::Result<()> {
    if !wants_all_platforms(values)? {
        return Ok(());
    }
    let cache = gopack::cache::Cache::open_default()?;
    request.platforms = gopack::base::all_platforms(&request.base, cache.store(), registry)?;
    Ok(())
}

/// `--platform` values (comma-separated or repeated), first occurrence kept; empty when none
/// (or `all`, which [`expand_all_platforms`] fills in).
pub fn parse_platforms(values: &[String]) -> Result<Vec<gopack::oci::Platform>, UsageError> {
    if wants_all_platforms(values)? {
        return Ok(Vec::new());
    }
    let mut platforms = Vec::new();
    for list in values {
        for p in gopack::oci::parse_platform_list(list).map_err(|e| UsageError(e.to_string()))? {
            if !platforms.contains(&p) {
                platforms.push(p);
            }
        }
    }
    Ok(platforms)
}

/// `--tags a,b` as a list.
pub fn parse_build_tags(value: Option<&str>) -> Vec<String> {
    value
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}
