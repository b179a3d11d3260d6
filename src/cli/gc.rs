//! `gopack gc oci:DIR`: removes the blobs of an OCI layout that no image in its `index.json`
//! uses any more (left when a build moves a tag), and temp files of killed writers.

use std::process::ExitCode;

use clap::Args;
use gopack::oci::{Bare, ImageRef};
use gopack::sink::gc_layout;

use super::build::human;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct GcArgs {
    /// The layout to clean: oci:DIR
    pub layout: String,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: GcArgs) -> CommandResult {
    let dir = match ImageRef::parse(&args.layout, Bare::Refuse) {
        Ok(ImageRef::Layout { dir, tag: None }) => dir,
        Ok(ImageRef::Layout { tag: Some(_), .. }) => {
            return Err(UsageError(format!(
                "gc cleans a whole layout: write oci:DIR without a tag, not `{}`",
                args.layout
            ))
            .into());
        }
        Ok(_) => {
            return Err(UsageError(format!(
                "gc cleans OCI layouts: write oci:DIR, not `{}`",
                args.layout
            ))
            .into());
        }
        Err(e) => return Err(UsageError(e.to_string()).into()),
    };
    let report = gc_layout(&dir, &|m| eprintln!("{m}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "removed {} unused blobs ({}) from oci:{}; {} in use",
            report.removed,
            human(report.removed_bytes),
            dir.display(),
            report.kept
        );
    }
    Ok(ExitCode::SUCCESS)
}
