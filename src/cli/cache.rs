//! `gopack cache info|prune`: what gopack's cache holds, and removing what has not been used.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use gopack::cache::{Cache, FORMAT};

use super::build::human;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Where the cache is, its format, and the files and bytes of each part
    Info {
        /// Print one JSON document
        #[arg(long)]
        json: bool,
    },
    /// Remove entries not used for a while, and temp files of killed runs
    Prune {
        /// Remove entries not used for this long: 30d, 12h, 90min
        #[arg(
            long,
            value_name = "DURATION",
            default_value = "30d",
            conflicts_with = "all"
        )]
        older_than: String,
        /// Remove every entry (the cache then refills as builds run)
        #[arg(long)]
        all: bool,
        /// Print one JSON document
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: CacheArgs) -> CommandResult {
    let cache = Cache::open_default()?;
    match args.command {
        CacheCommand::Info { json } => {
            let info = cache.info()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("cache   {} (format {FORMAT})", info.root.display());
            for part in &info.parts {
                println!(
                    "  {:>10}  {:>7} files  {}",
                    human(part.bytes),
                    part.files,
                    part.part.description()
                );
            }
            let total: u64 = info.parts.iter().map(|p| p.bytes).sum();
            println!("  {:>10}  total", human(total));
        }
        CacheCommand::Prune {
            older_than,
            all,
            json,
        } => {
            let age = if all {
                None
            } else {
                Some(humantime::parse_duration(&older_than).map_err(|e| {
                    UsageError(format!(
                        "--older-than `{older_than}`: {e}; write a duration such as 30d or 12h"
                    ))
                })?)
            };
            let report = cache.prune(age)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "removed {} ({}) from {}",
                gopack::text::counted(report.entries(), "entry", "entries"),
                human(report.bytes()),
                cache.root().display()
            );
            for (part, n, bytes) in &report.removed {
                println!("  {:>10}  {n:>7}  {}", human(*bytes), part.description());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
