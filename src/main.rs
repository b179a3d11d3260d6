use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod cli;

/// Shown by `--help`; the README's "Exit codes" says the same.
const EXIT_CODES: &str = "Exit status: 0 success; 1 failure, or findings at the failure threshold (lint, \
inspect --ci, size budgets); 2 usage error (a bad flag, argument or gopack.toml).\n\
stdout carries results (references, JSON, YAML); stderr carries plan lines, progress and summaries.";

/// Turn a Go program into the smallest, safest container image that still runs it.
#[derive(Parser)]
#[command(
    name = "gopack",
    version,
    long_version = cli::version::long_version(),
    about,
    propagate_version = true,
    after_help = EXIT_CODES
)]
struct Cli {
    /// When to colour text: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    color: Option<cli::color::ColorWhen>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build Go main package(s) into OCI image(s)
    Build(Box<cli::build::BuildArgs>),
    /// Audit Dockerfiles and .dockerignore with Go-specific rules (text, JSON, SARIF)
    Lint(cli::lint::LintArgs),
    /// Write an optimal multi-stage Dockerfile and .dockerignore for a Go module
    Dockerfile(cli::dockerfile::DockerfileArgs),
    /// Explain what build would do and why: Go version, cgo, flags, base, files (--deep builds)
    Plan(cli::plan::PlanArgs),
    /// Check registry credentials and save them in docker's config format
    Login(cli::login::LoginArgs),
    /// Forget the credentials saved for a registry
    Logout(cli::logout::LogoutArgs),
    /// Build the gopack:// and ko:// images named in Kubernetes YAML, push them, print the YAML
    /// with REPO@sha256:… in their place
    Resolve(Box<cli::resolve::ResolveArgs>),
    /// `gopack resolve`, piped into `kubectl apply -f -`
    Apply(Box<cli::apply::ApplyArgs>),
    /// Write a commented gopack.toml for this module (or convert a .ko.yaml)
    Init(cli::init::InitArgs),
    /// Copy an image from a registry, layout or archive to a layout, archive, registry or daemon
    Pull(cli::pull::PullArgs),
    /// SPDX or CycloneDX bill of materials of a Go binary or of the Go binaries in an image
    Sbom(cli::sbom::SbomArgs),
    /// Where a Go binary's bytes go: modules, packages, symbols, sections; diff, budgets, HTML
    Size(Box<cli::size::SizeArgs>),
    /// Show or prune gopack's cache (blob store, layer records, binaries, go list answers)
    Cache(cli::cache::CacheArgs),
    /// Remove the blobs of an OCI layout that no image in it uses: gc oci:DIR
    Gc(cli::gc::GcArgs),
    /// Build a Go main package (or take an image) and run it with runc or crun, no Docker
    Run(Box<cli::run::RunArgs>),
    /// Print gopack's version, the git commit it was built from, and the Go it finds
    Version(cli::version::VersionArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell (or elvish)
    Completions(cli::completions::CompletionsArgs),
    /// Print gopack's man page (roff), or write one page per verb with --dir
    Man(cli::completions::ManArgs),
    /// Look inside an image without a daemon: layers, waste, files, security findings, Go binaries and what they need; or compare two
    Inspect(Box<cli::inspect::InspectArgs>),
}

/// The whole CLI definition, as parsing, completions and man pages see it.
fn command() -> clap::Command {
    cli::with_conflicts(Cli::command())
}

fn main() -> ExitCode {
    gopack::trace::start();
    // Like other Unix tools, end quietly when a reader (`| head`) goes away, instead of
    // panicking on the failed write.
    // SAFETY: restoring the default SIGPIPE action before any thread starts is sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let early_color = cli::color::resolve(
        cli::color::prescan(&args),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let parsed = command()
        .color(cli::color::for_clap(early_color))
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    cli::color::init(cli.color);
    let result = match cli.command {
        Command::Build(args) => cli::build::run(*args),
        Command::Lint(args) => cli::lint::run(args),
        Command::Dockerfile(args) => cli::dockerfile::run(args),
        Command::Login(args) => cli::login::run(args),
        Command::Logout(args) => cli::logout::run(args),
        Command::Plan(args) => cli::plan::run(args),
        Command::Pull(args) => cli::pull::run(args),
        Command::Resolve(args) => cli::resolve::run(*args),
        Command::Apply(args) => cli::apply::run(*args),
        Command::Init(args) => cli::init::run(args),
        Command::Sbom(args) => cli::sbom::run(args),
        Command::Size(args) => cli::size::run(*args),
        Command::Cache(args) => cli::cache::run(args),
        Command::Gc(args) => cli::gc::run(args),
        Command::Run(args) => cli::run::run(*args),
        Command::Version(args) => cli::version::run(args),
        Command::Completions(args) => cli::completions::completions(args, command()),
        Command::Man(args) => cli::completions::man(args, command()),
        Command::Inspect(args) => cli::inspect::run(*args),
    };
    cli::finish(result)
}
