//! `gopack lint [FILE…]`: Dockerfile and .dockerignore audit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use gopack::dockerfile::config::Threshold;
use gopack::dockerfile::format::{self, FileReport};
use gopack::dockerfile::input::{self, Origin};
use gopack::dockerfile::{self as df, LintConfig, LintInput};

use super::{CommandResult, UsageError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Dockerfiles to check (`-` reads stdin) [default: Dockerfile]
    pub files: Vec<PathBuf>,

    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Exit 1 when a finding is at least this severe: error, warning, info, style or none
    /// [default: from gopack.toml, else info]
    #[arg(long, short = 't', value_name = "LEVEL")]
    pub failure_threshold: Option<String>,

    /// Ignore a rule (repeatable), on top of gopack.toml's `[lint] ignore`
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,

    /// Explain a rule: why it matters and how to fix it
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,

    /// List every rule with its ID, severity and summary
    #[arg(long)]
    pub list_rules: bool,

    /// gopack.toml to read `[lint]` from [default: nearest gopack.toml from the current directory]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Build context directory, where .dockerignore lives [default: the Dockerfile's directory]
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,

    /// Do not check .dockerignore
    #[arg(long)]
    pub no_dockerignore: bool,

    /// Read the Go module in the build context (`go list`) to know whether it needs cgo, making
    /// GO101 certain and enabling GO110
    #[arg(long)]
    pub go_module: bool,

    /// Never colour the text output (also: NO_COLOR, or when stdout is not a terminal)
    #[arg(long)]
    pub no_color: bool,
}

pub fn run(args: LintArgs) -> CommandResult {
    if args.list_rules {
        let mut out = String::new();
        for r in df::RULES {
            out.push_str(&format!(
                "{}  {:<7}  {:<34} {}\n",
                r.id,
                r.severity.as_str(),
                r.name,
                r.summary
            ));
        }
        print_out(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = &args.explain {
        let text = format::explain(id).ok_or_else(|| {
            UsageError(format!(
                "unknown rule `{id}`; `gopack lint --list-rules` shows them all"
            ))
        })?;
        print_out(&text)?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut config = load_config(args.config.as_deref())?;
    for id in &args.ignore {
        if df::rule(id).is_none() {
            return Err(UsageError(format!(
                "--ignore {id}: unknown rule; `gopack lint --list-rules` shows them all"
            ))
            .into());
        }
        config.ignore.push(id.clone());
    }
    let threshold = match &args.failure_threshold {
        Some(t) => t
            .parse::<Threshold>()
            .map_err(|e| UsageError(format!("--failure-threshold: {e}")))?,
        None => config.failure_threshold.unwrap_or(Threshold::Info),
    };

    let files = if args.files.is_empty() {
        vec![PathBuf::from("Dockerfile")]
    } else {
        args.files.clone()
    };
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        reports.push(lint_one(file, &args, &config)?);
    }

    let color = !args.no_color && super::color::stdout();
    let out = match args.format {
        OutputFormat::Text => format::text(&reports, color),
        OutputFormat::Json => format::json(&reports) + "\n",
        OutputFormat::Sarif => format::sarif(&reports) + "\n",
    };
    print_out(&out)?;
    let failed = reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| threshold.fails(f.severity));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_out(s: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`gopack lint | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to stdout"),
    }
}

fn load_config(explicit: Option<&Path>) -> anyhow::Result<LintConfig> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                return Err(UsageError(format!("--config {}: no such file", p.display())).into());
            }
            Some(p.to_path_buf())
        }
        None => std::env::current_dir()
            .ok()
            .and_then(|d| LintConfig::discover(&d)),
    };
    match path {
        Some(p) => LintConfig::load(&p).map_err(|e| UsageError(e.to_string()).into()),
        None => Ok(LintConfig::default()),
    }
}

fn read_error(e: input::ReadError) -> anyhow::Error {
    match e {
        input::ReadError::Io { .. } => anyhow::Error::new(e),
        // Refusals and missing files are the user's to fix: usage errors (exit 2).
        other => UsageError(other.to_string()).into(),
    }
}

fn lint_one(file: &Path, args: &LintArgs, config: &LintConfig) -> anyhow::Result<FileReport> {
    // `gopack lint services/api` means the Dockerfile in that directory.
    let (file, origin) = if file.is_dir() {
        (file.join("Dockerfile"), Origin::Found)
    } else {
        (file.to_path_buf(), Origin::Named)
    };
    let file = file.as_path();
    let stdin = file.as_os_str() == "-";
    let context_dir = args
        .context
        .clone()
        .or_else(|| (!stdin).then(|| file.parent().map(Path::to_path_buf).unwrap_or_default()))
        .map(|d| {
            if d.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                d
            }
        });
    let text = if stdin {
        input::read_stdin(input::MAX_DOCKERFILE_BYTES).map_err(read_error)?
    } else {
        let ctx = context_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        match input::read_text(file, origin, &ctx, input::MAX_DOCKERFILE_BYTES) {
            Err(input::ReadError::NotFound(_)) => {
                return Err(UsageError(format!(
                    "{}: no such file; pass the Dockerfile to check, e.g. `gopack lint path/to/Dockerfile`",
                    file.display()
                ))
                .into());
            }
            r => r.map_err(read_error)?,
        }
    };
    let check_dockerignore = !args.no_dockerignore && context_dir.is_some();
    let mut dockerignore_path = None;
    let mut dockerignore_text = None;
    if check_dockerignore && let Some(ctx) = &context_dir {
        // BuildKit reads `<Dockerfile>.dockerignore` next to the Dockerfile first.
        let candidates = [
            PathBuf::from(format!("{}.dockerignore", file.display())),
            ctx.join(".dockerignore"),
        ];
        for c in candidates {
            if std::fs::symlink_metadata(&c).is_err() {
                continue;
            }
            let t = input::read_text(&c, Origin::Found, ctx, input::MAX_SIDE_FILE_BYTES)
                .map_err(read_error)?;
            dockerignore_path = Some(c.display().to_string());
            dockerignore_text = Some(t);
            break;
        }
    }
    let input = LintInput {
        dockerfile: &text,
        dockerignore: dockerignore_text.as_deref(),
        check_dockerignore,
        context_dir: context_dir.clone(),
        facts: match (&context_dir, args.go_module) {
            (Some(dir), true) => module_facts(dir)?,
            _ => Default::default(),
        },
    };
    let findings = df::lint(&input, config);
    Ok(FileReport {
        path: if stdin {
            "-".into()
        } else {
            file.display().to_string()
        },
        text,
        dockerignore_path,
        dockerignore_text,
        findings,
    })
}

/// What the Go module in the build context tells about the program (cgo need, for Linux).
fn module_facts(context: &Path) -> anyhow::Result<df::ProgramFacts> {
    let root = gopack::project::find_module_root(context).with_context(|| {
        format!(
            "--go-module: no Go module in the build context {}",
            context.display()
        )
    })?;
    let query = gopack::project::cgo::CgoQuery {
        goos: Some("linux".into()),
        ..Default::default()
    };
    let goenv = gopack::config::GoEnv::read()?;
    let report = gopack::project::cgo::detect_cgo(&goenv, &root, &["./..."], &query)?;
    Ok(df::ProgramFacts {
        needs_cgo: Some(report.needs_cgo),
        needs_tls: None,
    })
}
