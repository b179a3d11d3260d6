//! `gopack run [PKG|IMAGE] [-p PORT] [-e K=V] [-- ARGS]`: build a Go main package (or take an
//! image: `oci:DIR[:TAG]`, `oci-archive:`, `docker-archive:`, `docker://REF`,
//! `docker-daemon:REF`) and run it in the foreground with runc or crun, for the dev loop.
//! stdout and stderr are the program's; gopack's own lines go to stderr prefixed `gopack:`.
//! The exit code is the program's (128+N when it died of signal N); gopack's own failures exit
//! 1, usage mistakes 2.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use gopack::assemble::ImageSettings;
use gopack::cache::Cache;
use gopack::config::GoEnv;
use gopack::oci::source::{self, SourceOptions};
use gopack::oci::{
    Bare, BlobStore, Compression, Image, ImageRef, ImageSource, Limits, Platform, PlatformSelector,
    StoreBlobs, fetch_layers, resolve,
};
use gopack::pipeline::{self, BuildOptions, Progress};
use gopack::run::{self, Bundle, Network, RunRequest, Runtime};
use gopack::sink::Output;

use super::plan_flags::{CgoArg, DataSymlinksArg, PlanFlags, ToggleArg, image_env};
use super::pull::RegistryFlags;
use super::{CommandResult, UsageError};

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    gopack run ./testdata/hello -p 8080          # build, run, then: curl localhost:8080/healthz\n  \
    gopack run . --env LOG_LEVEL=debug -- --flag x  # ARGS replace the image's Cmd\n  \
    gopack run oci:gopack-out:latest             # an image already built\n  \
    gopack run docker://gcr.io/distroless/static-debian12 -- /bin/true\n\n\
    The container shares the host's network (--network host), so the program's ports are the \
    host's. Ctrl-C (or SIGTERM to gopack) stops it: the signal is forwarded, SIGKILL follows \
    10 s later, and the temporary bundle and runtime state are removed.")]
pub struct RunArgs {
    /// What to run: a Go main package (., ./cmd/api, an import path) built as `gopack build`
    /// would, or an image named with a transport (oci:DIR[:TAG], oci-archive:FILE,
    /// docker-archive:FILE, docker://REF, docker-daemon:REF). Build flags apply to packages;
    /// --env and --env-file apply to both (to an image, when it starts)
    #[command(flatten)]
    pub plan: PlanFlags,

    /// The port the program listens on: checked free on the host, passed as PORT, and
    /// announced once it accepts connections. HOST:CONTAINER mappings need a private network
    /// and are refused
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<String>,

    /// host: the host's network (the program's ports are the host's); none: loopback only
    #[arg(long, value_enum, default_value_t = NetworkArg::Host)]
    pub network: NetworkArg,

    /// The OCI runtime to use: runc, crun, or a path [default: runc, else crun, on PATH]
    #[arg(long, value_name = "PATH", env = "GOPACK_RUNTIME")]
    pub runtime: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryFlags,

    /// Arguments for the program, after `--`; they replace the image's Cmd (its Entrypoint
    /// stays), as `docker run IMAGE ARGS` does
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NetworkArg {
    Host,
    None,
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// `-p 8080` (or `8080:8080`); `HOST:CONTAINER` with different ports is refused.
fn parse_port(text: &str) -> anyhow::Result<u16> {
    let number = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0);
    let bad = || {
        usage(format!(
            "-p `{text}` must be a port, 1-65535 (e.g. -p 8080)"
        ))
    };
    let text = text.strip_suffix("/tcp").unwrap_or(text);
    match text.split_once(':') {
        None => number(text).ok_or_else(bad),
        Some((host, container)) => {
            let (h, c) = (
                number(host).ok_or_else(bad)?,
                number(container).ok_or_else(bad)?,
            );
            if h == c {
                return Ok(h);
            }
            Err(usage(format!(
                "-p {h}:{c}: the container shares the host's network, so its port {c} is the \
                 host's port {c} and cannot be mapped to {h}. Use -p {h} (given to the program \
                 as PORT), or make the program listen on {h}"
            )))
        }
    }
}

/// The build flags that were given, by name (they do not apply to an image).
fn build_flags_given(plan: &PlanFlags) -> Vec<&'static str> {
    let mut given = Vec::new();
    let mut flag = |on: bool, name| {
        if on {
            given.push(name)
        }
    };
    flag(!plan.platform.is_empty(), "--platform");
    flag(!plan.ldflags.is_empty(), "--ldflags");
    flag(plan.build_tags.is_some(), "--tags");
    flag(!matches!(plan.cgo, None | Some(CgoArg::Auto)), "--cgo");
    for (toggle, name) in [
        (plan.certs, "--certs"),
        (plan.tz, "--tz"),
        (plan.userdb, "--userdb"),
        (plan.tmp, "--tmp"),
    ] {
        flag(!matches!(toggle, None | Some(ToggleArg::Auto)), name);
    }
    flag(!plan.ca_files.is_empty(), "--ca-file");
    flag(plan.user.is_some(), "--user");
    flag(!plan.data.is_empty(), "--data");
    flag(!plan.writable.is_empty(), "--writable");
    flag(
        !matches!(plan.data_symlinks, DataSymlinksArg::Refuse),
        "--data-symlinks",
    );
    given
}

/// Reports build steps on stderr, as a spinner on a terminal.
struct Spinner(Option<indicatif::ProgressBar>);

impl Progress for Spinner {
    fn step(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }
}

/// The checked command line: what to run and how to reach it.
struct Checked {
    target: String,
    port: Option<u16>,
    network: Network,
    /// The image, when the target names one (else it is a package to build).
    image: Option<ImageRef>,
}

fn check(args: &RunArgs) -> anyhow::Result<Checked> {
    let [target] = &args.plan.packages[..] else {
        return Err(usage(
            "gopack run runs one program: name one package or image (then `--` and its \
             arguments)",
        ));
    };
    let port = args.port.as_deref().map(parse_port).transpose()?;
    let network = match args.network {
        NetworkArg::Host => Network::Host,
        NetworkArg::None => Network::None,
    };
    if port.is_some() && network == Network::None {
        return Err(usage("-p needs the host's network; drop --network none"));
    }
    let image = ImageRef::parse(target, Bare::Refuse).ok();
    if image.is_some() {
        let given = build_flags_given(&args.plan);
        if !given.is_empty() {
            return Err(usage(format!(
                "{} apply when gopack run builds a package; {target} is an image already built",
                given.join(", ")
            )));
        }
    }
    Ok(Checked {
        target: target.clone(),
        port,
        network,
        image,
    })
}

pub fn run(args: RunArgs) -> CommandResult {
    let Checked {
        target,
        port,
        network,
        image: image_ref,
    } = check(&args)?;
    let cache = Cache::open_default()?;
    let run_dir = cache.root().join("run");
    let runtime = Runtime::find(args.runtime.as_deref(), &run_dir.join("state"))?;
    let swept = run::bundle::sweep(&run_dir, &runtime);
    if swept > 0 {
        eprintln!("gopack: removed {swept} bundles left by runs that were killed");
    }
    if let Some(port) = port {
        run::check_port_free(port)?;
    }
    let name = match &image_ref {
        Some(r) => image_name(r),
        None => target
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("app")
            .to_string(),
    };
    let mut bundle = Bundle::create(&run_dir, &name)
        .with_context(|| format!("cannot create a bundle in {}", run_dir.display()))?;
    let store = cache.store();
    let source_options = SourceOptions {
        registry: args.registry.options(),
        limits: Limits::default(),
    };
    let (source, image, fetched) = match &image_ref {
        Some(r) => open_image(r, store, &source_options)?,
        None => {
            let layout = build_package(&args, &bundle, store)?;
            open_image(&layout, store, &source_options)?
        }
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // A package built here has --env in its image already; an image gets it when it starts.
    let env = match &image_ref {
        Some(_) => image_env(&args.plan.env, &args.plan.env_files)?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        None => Vec::new(),
    };
    let request = RunRequest {
        args: (!args.args.is_empty()).then(|| args.args.clone()),
        env,
        port,
        network,
        terminal,
    };
    let in_store = StoreBlobs(store);
    let reader: &dyn ImageSource = if fetched { &in_store } else { source.as_ref() };
    let ended = run::run_image(
        reader,
        &image,
        &mut bundle,
        &runtime,
        &request,
        &mut |line| eprintln!("gopack: {}", gopack::text::printable(line, 500)),
    )?;
    Ok(ExitCode::from(ended.code.clamp(0, 255) as u8))
}

/// A short name for the container id: the last path part of the repository or directory.
fn image_name(r: &ImageRef) -> String {
    let text = match r {
        ImageRef::Layout { dir, .. } => dir.display().to_string(),
        ImageRef::OciArchive { file, .. } | ImageRef::DockerArchive { file, .. } => {
            file.display().to_string()
        }
        ImageRef::Registry(r) | ImageRef::DockerDaemon(r) => r.repository.clone(),
    };
    let last = text
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("image");
    last.split('.').next().unwrap_or(last).to_string()
}

/// Opens `r` and resolves the host's platform; a registry image's layers are fetched into the
/// store first (with retries) and are to be read from there (`true`).
fn open_image(
    r: &ImageRef,
    store: &BlobStore,
    options: &SourceOptions,
) -> anyhow::Result<(Box<dyn ImageSource>, Image, bool)> {
    let source = source::open(r, store, options)?;
    let selector = PlatformSelector::Only(vec![Platform::host()]);
    let resolved = resolve(source.as_ref(), &selector, store, &options.limits)
        .with_context(|| format!("cannot run {r}"))?;
    let image = resolved
        .images
        .into_iter()
        .next()
        .context("the image resolved to no image")?;
    if matches!(r, ImageRef::Registry(_)) {
        fetch_layers(
            source.as_ref(),
            std::slice::from_ref(&image),
            store,
            options.registry.concurrency,
        )?;
        return Ok((source, image, true));
    }
    Ok((source, image, false))
}

/// Builds the package into an OCI layout inside the bundle directory; returns its reference.
fn build_package(args: &RunArgs, bundle: &Bundle, store: &BlobStore) -> anyhow::Result<ImageRef> {
    if super::wants_all_platforms(&args.plan.platform)? {
        return Err(usage(
            "gopack run runs the host's platform; --platform all is for gopack build",
        ));
    }
    let resolved = gopack::config::layers::resolve(&[args.plan.layer()?]);
    let mut plan = args.plan.request(&resolved, args.plan.packages.clone())?;
    let host = Platform::host();
    if plan.platforms.iter().any(|p| *p != host) {
        return Err(usage(format!(
            "gopack run runs the host's platform ({host}); build other platforms with gopack \
             build --platform"
        )));
    }
    plan.platforms = vec![host];
    let layout = ImageRef::Layout {
        dir: bundle.dir.join("image"),
        tag: Some("run".into()),
    };
    let goenv = GoEnv::read()?;
    let options = BuildOptions {
        plan,
        compression: Compression::DEFAULT,
        settings: ImageSettings::default(),
        outputs: vec![Output::new(layout.clone())],
        registry: args.registry.options(),
        sbom: Vec::new(),
        images: Vec::new(),
    };
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let progress = Spinner(spinner);
    let started = std::time::Instant::now();
    let result = pipeline::build(store, &goenv, &options, &progress);
    if let Some(bar) = &progress.0 {
        bar.finish_and_clear();
    }
    let outcome = result?;
    if outcome.images.len() != 1 {
        let names: Vec<&str> = outcome.images.iter().map(|i| i.name.as_str()).collect();
        return Err(usage(format!(
            "{} holds {} main packages ({}); gopack run runs one: name it (e.g. ./cmd/{})",
            args.plan.packages[0],
            names.len(),
            names.join(", "),
            names.first().copied().unwrap_or("api")
        )));
    }
    let image = &outcome.images[0];
    eprintln!(
        "gopack: built {} ({}) in {:.1}s",
        image.name,
        image.digest.short(),
        started.elapsed().as_secs_f64()
    );
    Ok(layout)
}
