//! `gopack init`: writes a commented gopack.toml from the plan of the module (its main
//! packages, each a `[[target]]`, and the defaults gopack would use, commented out), or
//! converts a `.ko.yaml` (`--from`). `--schema` prints the file's JSON schema for editors.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use gopack::config::file::{CONFIG_FILE_NAME, ConfigFile, json_schema};
use gopack::config::{GoEnv, ko};
use gopack::plan::{Plan, PlanRequest, make_plan};

use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct InitArgs {
    /// The module directory to write gopack.toml in [default: .]
    pub dir: Option<PathBuf>,

    /// Convert this ko configuration (.ko.yaml) instead of writing one from the plan
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// Replace an existing gopack.toml
    #[arg(long)]
    pub force: bool,

    /// Print the file on stdout instead of writing it
    #[arg(long)]
    pub stdout: bool,

    /// Print the JSON schema of gopack.toml (for editors and check-jsonschema) and exit
    #[arg(long)]
    pub schema: bool,
}

pub fn run(args: InitArgs) -> CommandResult {
    if args.schema {
        println!("{}", serde_json::to_string_pretty(&json_schema())?);
        return Ok(ExitCode::SUCCESS);
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let text = match &args.from {
        Some(file) => {
            let yaml = std::fs::read_to_string(file)
                .map_err(|e| UsageError(format!("--from {}: {e}", file.display())))?;
            let converted = ko::convert(&yaml)
                .map_err(|e| UsageError(format!("--from {}: {e}", file.display())))?;
            for note in &converted.notes {
                eprintln!("note: {note}");
            }
            converted.toml
        }
        None => from_plan(&dir)?,
    };
    let target = dir.join(CONFIG_FILE_NAME);
    // What gopack writes, gopack must read: a bug here would hand the user a broken file.
    ConfigFile::parse(&text, &target)
        .map_err(|e| anyhow::anyhow!("gopack init produced a file it cannot read ({e})"))?;
    if args.stdout {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if target.exists() && !args.force {
        return Err(UsageError(format!(
            "{} exists; pass --force to replace it, or --stdout to see the new one",
            target.display()
        ))
        .into());
    }
    write_atomically(&target, &text)?;
    println!("{}", target.display());
    Ok(ExitCode::SUCCESS)
}

fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = gopack::fsutil::parent_of(path);
    let write = || -> std::io::Result<()> {
        let mut tmp = gopack::fsutil::temp_file_in(&dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        gopack::fsutil::commit(tmp, path)?;
        Ok(())
    };
    write().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// A gopack.toml for the module at `dir`: one `[[target]]` per main package, and the
/// defaults the plan would use, commented out.
fn from_plan(dir: &Path) -> anyhow::Result<String> {
    let goenv = GoEnv::read()?;
    let cwd = dir.canonicalize()?;
    let root = gopack::project::find_module_root(&cwd)?;
    let request = PlanRequest {
        cwd: root.clone(),
        patterns: vec!["./...".into()],
        ..PlanRequest::default()
    };
    let plan = make_plan(&request, &goenv)?;
    Ok(render(&plan, &root))
}

fn render(plan: &Plan, root: &Path) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# gopack.toml for {}, written by `gopack init` from its plan.\n\
         # Every key is optional. Precedence: flag > environment (GOPACK_BASE, GOPACK_REPO) >\n\
         # [[target]] > [defaults]. Templates: {}.\n\
         # Editors: `gopack init --schema > gopack.schema.json` validates this file.\n",
        plan.module.path,
        gopack::config::template::TEMPLATE_FIELDS
    );
    let _ = writeln!(o, "[defaults]");
    let _ = writeln!(
        o,
        "# base = \"scratch\"            # {}",
        first_sentence(&plan.base.reason)
    );
    let _ = writeln!(o, "# platforms = {:?}", plan.platforms);
    let _ = writeln!(o, "# user = \"{}\"", plan.user.user);
    let _ = writeln!(o, "# ldflags = [\"-X main.version={{{{.Version}}}}\"]");
    let _ = writeln!(
        o,
        "# files = {{ certs = \"auto\", tz = \"auto\", userdb = \"auto\", tmp = \"auto\" }}"
    );
    let _ = writeln!(
        o,
        "# repository = \"registry.example.com/team\"   # --push: REPOSITORY/<name>"
    );
    let _ = writeln!(
        o,
        "# labels = {{ \"org.opencontainers.image.vendor\" = \"Example\" }}"
    );
    for image in &plan.images {
        let relative = image
            .dir
            .strip_prefix(root)
            .map(|r| {
                if r.as_os_str().is_empty() {
                    ".".to_string()
                } else {
                    format!("./{}", r.display())
                }
            })
            .unwrap_or_else(|_| image.package.clone());
        let _ = writeln!(o, "\n[[target]]\npackage = \"{relative}\"");
        let _ = writeln!(o, "# name = \"{}\"", image.name);
        let _ = writeln!(
            o,
            "# cgo: {} ({})",
            serde_json::to_value(image.cgo.mode)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            first_sentence(&image.cgo.reason)
        );
        let _ = writeln!(o, "# ports = [8080]");
    }
    o
}

fn first_sentence(text: &str) -> String {
    text.split(['.', ';', ':'])
        .next()
        .unwrap_or(text)
        .trim()
        .to_string()
}
