//! One file per verb: its arguments, the call into the library, and how the result is shown.

use std::process::ExitCode;

pub mod apply;
pub mod build;
pub mod build_progress;
pub mod build_report;
pub mod cache;
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
pub mod sbom;
pub mod size;

/// What a command asks the process to exit with: `Ok(code)` for a normal end (0, or 1 when a
/// check such as lint found problems), `Err` for a failure, shown to the user as `error: …`.
pub type CommandResult = anyhow::Result<ExitCode>;

/// Prints an error chain the way people read it: the failure, then each cause, then any hint.
pub fn finish(result: CommandResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit_code_for(&err))
        }
    }
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

/// `--platform` values (comma-separated or repeated), first occurrence kept; empty when none.
pub fn parse_platforms(values: &[String]) -> Result<Vec<gopack::oci::Platform>, UsageError> {
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
