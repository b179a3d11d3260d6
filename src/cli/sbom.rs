//! `gopack sbom BIN|IMAGE`: an SPDX 2.3 or CycloneDX 1.6 bill of materials of a Go binary, or of
//! every Go binary in an image (any transport), printed or written to a file; `--attach` pushes
//! it to the registry (or lists it in an OCI layout) as a referrer of each platform manifest;
//! `--referrers` lists what is attached to an image.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use gopack::oci::source::{self, SourceOptions};
use gopack::oci::{
    Bare, BlobStore, Image, ImageRef, ImageSource, Limits, PlatformSelector, resolve,
};
use gopack::registry::{Reference, RegistryClient};
use gopack::sbom::referrer::{Listed, list_referrers, sbom_artifact};
use gopack::sbom::{
    Bom, Format, GoBinary, ImageSubject, LicenceFinder, SbomInput, bom, golang, image, licence,
};

use super::pull::RegistryFlags;
use super::{CommandResult, UsageError};

#[derive(Args)]
pub struct SbomArgs {
    /// A Go binary (a file path), or an image: oci:DIR[:TAG], oci-archive:FILE[:TAG],
    /// docker-archive:FILE[:REF], docker://REF or a bare REF
    pub target: String,
    /// Document format: spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.6 JSON); with
    /// --attach, a comma-separated list
    #[arg(long, short = 'f', value_name = "FORMAT", default_value = "spdx")]
    pub format: String,
    /// Write the document to FILE (atomically) instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// For a multi-platform image: the platform to describe (os/arch[/variant])
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Creation time written into the document, RFC 3339 UTC (default: SOURCE_DATE_EPOCH, else
    /// the image's `created`, else now). Same input and time give the same bytes
    #[arg(long, value_name = "TIME")]
    pub created: Option<String>,
    /// Go module cache to read licences from (default: GOMODCACHE, `go env GOMODCACHE`)
    #[arg(long, value_name = "DIR")]
    pub modcache: Option<PathBuf>,
    /// Attach the document(s) as referrers of each platform manifest: pushed to the image's
    /// registry (referrers API when it has one, else the referrers tag schema), or listed in
    /// an OCI layout's index.json
    #[arg(long)]
    pub attach: bool,
    /// List the referrers attached to the image (each platform manifest and the index)
    /// instead of making an SBOM
    #[arg(long, conflicts_with_all = ["attach", "output"])]
    pub referrers: bool,
    /// With --referrers: print JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub fn run(args: SbomArgs) -> CommandResult {
    let formats = gopack::sbom::parse_formats(&args.format).map_err(UsageError)?;
    if let Some(created) = &args.created {
        gopack::sbom::check_created(created).map_err(UsageError)?;
    }
    if args.referrers {
        let target = parse_image_ref(&args.target)?;
        return print_referrers(&target, &args.registry, args.json);
    }
    let path = Path::new(&args.target);
    let looks_like_path = ["/", "./", "../", "~"]
        .iter()
        .any(|p| args.target.starts_with(p));
    if looks_like_path && !path.exists() {
        anyhow::bail!(
            "{}: no such file; name a Go binary, or an image (oci:DIR, docker://REF…)",
            args.target
        );
    }
    let is_file = !has_transport(&args.target) && path.is_file();
    if is_file {
        if args.attach {
            return Err(UsageError(
                "--attach needs an image to attach to; name one (docker://REF, oci:DIR)".into(),
            )
            .into());
        }
        return binary_sbom(path, &args, one_format(&formats)?);
    }
    if path.is_dir() && !has_transport(&args.target) {
        return Err(UsageError(format!(
            "{} is a directory; for an OCI image layout write oci:{}",
            args.target, args.target
        ))
        .into());
    }
    image_sbom(&args, &formats)
}

fn has_transport(target: &str) -> bool {
    [
        "oci:",
        "oci-archive:",
        "docker-archive:",
        "docker://",
        "docker-daemon:",
    ]
    .iter()
    .any(|t| target.starts_with(t))
}

fn parse_image_ref(target: &str) -> Result<ImageRef, UsageError> {
    ImageRef::parse(target, Bare::Registry).map_err(|e| UsageError(e.to_string()))
}

fn one_format(formats: &[Format]) -> Result<Format, UsageError> {
    match formats {
        [one] => Ok(*one),
        _ => Err(UsageError(
            "one document is printed at a time: give one --format (several are for --attach)"
                .into(),
        )),
    }
}

fn finder(args: &SbomArgs) -> LicenceFinder {
    LicenceFinder::new(
        args.modcache
            .clone()
            .or_else(|| gopack::sbom::module_cache(None)),
    )
}

fn binary_sbom(path: &Path, args: &SbomArgs, format: Format) -> CommandResult {
    let finder = finder(args);
    let mut binary = gopack::sbom::read_binary(path, Some(&finder))?;
    binary.x_values = ldflags_x_values(&binary);
    let created = match &args.created {
        Some(c) => c.clone(),
        None => gopack::sbom::created_now(),
    };
    let input = SbomInput {
        image: None,
        binaries: vec![binary],
        created,
    };
    let bom = bom::build(&input, &finder);
    write_document(args.output.as_deref(), &format.render(&bom))?;
    summarise(&bom, format);
    Ok(ExitCode::SUCCESS)
}

/// The `-X` values in the build info's `-ldflags` setting (present when the binary was built
/// without `-trimpath`).
fn ldflags_x_values(binary: &GoBinary) -> Vec<(String, String)> {
    binary
        .info
        .setting("-ldflags")
        .map(|flags| golang::x_assignments(&golang::split_quoted(flags)))
        .unwrap_or_default()
}

fn image_sbom(args: &SbomArgs, formats: &[Format]) -> CommandResult {
    let target = parse_image_ref(&args.target)?;
    let attach_to = match (&target, args.attach) {
        (ImageRef::Registry(r), true) => Some(AttachTo::Registry(r.clone())),
        (ImageRef::Layout { dir, .. }, true) => Some(AttachTo::Layout(dir.clone())),
        (_, true) => {
            return Err(UsageError(format!(
                "--attach writes referrers to a registry (docker://REF) or an OCI layout \
                 (oci:DIR:TAG); {} holds none: write the document with -o FILE instead",
                args.target
            ))
            .into());
        }
        (_, false) => None,
    };
    let store = BlobStore::open_default()?;
    let options = SourceOptions {
        registry: args.registry.options(),
        limits: Limits::default(),
    };
    let src = source::open(&target, &store, &options)?;
    let platforms = match &args.platform {
        Some(p) => gopack::oci::parse_platform_list(p).map_err(|e| UsageError(e.to_string()))?,
        None => Vec::new(),
    };
    let resolved = resolve(
        &*src,
        &PlatformSelector::from_list(&platforms),
        &store,
        &options.limits,
    )?;
    if !args.attach && resolved.images.len() > 1 {
        let list: Vec<String> = resolved
            .images
            .iter()
            .map(|i| i.platform.to_string())
            .collect();
        return Err(UsageError(format!(
            "{} holds {} platforms ({}); choose one with --platform, or --attach to attach an \
             SBOM to each",
            args.target,
            list.len(),
            list.join(", ")
        ))
        .into());
    }
    let finder = finder(args);
    let mut documents = Vec::new();
    for image in &resolved.images {
        let bom = image_bom(&*src, &target, image, args, &finder, &options.limits)?;
        documents.push((image, bom));
    }
    match attach_to {
        Some(AttachTo::Registry(reference)) => {
            attach(&store, &reference, &documents, formats, &args.registry)
        }
        Some(AttachTo::Layout(dir)) => attach_in_layout(&store, &dir, &documents, formats),
        None => {
            let format = one_format(formats)?;
            let (_, bom) = &documents[0];
            write_document(args.output.as_deref(), &format.render(bom))?;
            summarise(bom, format);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn image_bom(
    src: &dyn ImageSource,
    target: &ImageRef,
    image: &Image,
    args: &SbomArgs,
    finder: &LicenceFinder,
    limits: &Limits,
) -> anyhow::Result<Bom> {
    let mut binaries = image::go_binaries(src, image, limits)?;
    if binaries.is_empty() {
        anyhow::bail!(
            "no Go binary found in {} ({}): gopack sbom describes Go programs, found by their \
             build information",
            src.name(),
            image.platform
        );
    }
    for b in &mut binaries {
        b.x_values = ldflags_x_values(b);
    }
    let created = args
        .created
        .clone()
        .or_else(|| {
            std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .map(|_| gopack::sbom::created_now())
        })
        .or_else(|| {
            image
                .config
                .created
                .as_deref()
                .and_then(|c| gopack::sbom::check_created(c).ok())
        })
        .unwrap_or_else(gopack::sbom::created_now);
    let input = SbomInput {
        image: Some(subject_of(target, image)),
        binaries,
        created,
    };
    Ok(bom::build(&input, finder))
}

/// How the image is named in the document: its repository for registry images, its tag or
/// file name otherwise.
fn subject_of(target: &ImageRef, image: &Image) -> ImageSubject {
    let (name, repository_url, tag) = match target {
        ImageRef::Registry(r) => (r.name(), Some(r.name()), r.tag.clone()),
        ImageRef::Layout { dir, tag } => (file_stem(dir), None, tag.clone()),
        ImageRef::OciArchive { file, tag } => (file_stem(file), None, tag.clone()),
        ImageRef::DockerArchive { file, reference } => match reference {
            Some(r) => (r.to_string(), None, None),
            None => (file_stem(file), None, None),
        },
        ImageRef::DockerDaemon(r) => (r.to_string(), None, None),
    };
    ImageSubject {
        name,
        repository_url,
        tag,
        manifest_digest: image.manifest_digest.clone(),
        platform: image.platform.clone(),
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

/// Where `--attach` writes referrers.
enum AttachTo {
    Registry(Reference),
    Layout(PathBuf),
}

/// Lists one referrer per format per platform manifest in the layout's `index.json` (unnamed
/// entries carrying `artifactType`, written as the build writes them: blobs first, the index
/// last, under the layout's lock).
fn attach_in_layout(
    store: &BlobStore,
    dir: &Path,
    documents: &[(&Image, Bom)],
    formats: &[Format],
) -> CommandResult {
    let mut artifacts = Vec::new();
    let mut out = std::io::stdout().lock();
    for (image, bom) in documents {
        for format in formats {
            let mut subject = image.descriptor();
            subject.platform = None;
            let artifact =
                sbom_artifact(store, *format, &format.render(bom), subject, &bom.created)?;
            writeln!(
                out,
                "oci:{}@{}\t{}\t{}",
                dir.display(),
                artifact.digest,
                format.media_type(),
                image.platform
            )?;
            artifacts.push(artifact);
        }
    }
    gopack::sink::add_layout_referrers(store, dir, &artifacts, &|m| eprintln!("{m}"))?;
    eprintln!(
        "attached {} SBOM(s) in {}/index.json",
        artifacts.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn attach(
    store: &BlobStore,
    reference: &Reference,
    documents: &[(&Image, Bom)],
    formats: &[Format],
    flags: &RegistryFlags,
) -> CommandResult {
    let client = RegistryClient::new(flags.options())?;
    let mut out = std::io::stdout().lock();
    for (image, bom) in documents {
        for format in formats {
            let mut subject = image.descriptor();
            subject.platform = None;
            let artifact =
                sbom_artifact(store, *format, &format.render(bom), subject, &bom.created)?;
            let pushed = client
                .push_referrer(store, reference, &artifact)
                .with_context(|| format!("attaching the {format} SBOM of {}", image.platform))?;
            writeln!(
                out,
                "{}@{}\t{}\t{}",
                reference.name(),
                pushed.digest,
                format.media_type(),
                image.platform
            )?;
            eprintln!(
                "attached {format} SBOM {} to {} ({}) by the {}",
                pushed.digest.short(),
                image.manifest_digest.short(),
                image.platform,
                pushed.path
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists the referrers of every manifest `target` names (each platform manifest, and the
/// index when there is one): one line per referrer on stdout (`SUBJECT REFERRER ARTIFACT-TYPE
/// CREATED`), or JSON. Exits 0 also when there are none (stderr says so). The entry point
/// `gopack inspect REF --referrers` calls.
pub fn print_referrers(target: &ImageRef, flags: &RegistryFlags, json: bool) -> CommandResult {
    let store = BlobStore::open_default()?;
    let options = SourceOptions {
        registry: flags.options(),
        limits: Limits::default(),
    };
    let listed: Vec<Listed> = list_referrers(target, &store, &options)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &listed)?;
        writeln!(out)?;
    } else {
        for l in &listed {
            for r in &l.referrers {
                let created = r
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(gopack::registry::referrers::ANNOTATION_CREATED))
                    .map(String::as_str)
                    .unwrap_or("-");
                writeln!(
                    out,
                    "{}\t{}\t{}\t{created}",
                    l.subject,
                    r.digest,
                    r.artifact_type.as_deref().unwrap_or("-"),
                )?;
            }
        }
    }
    let total: usize = listed.iter().map(|l| l.referrers.len()).sum();
    let sources: BTreeMap<String, usize> = listed.iter().fold(BTreeMap::new(), |mut m, l| {
        *m.entry(l.source.to_string()).or_default() += 1;
        m
    });
    let how: Vec<String> = sources.keys().cloned().collect();
    eprintln!(
        "{total} referrer(s) of {} manifest(s) in {target} (listed by {})",
        listed.len(),
        how.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `output` atomically (temp file in the same directory, flushed, renamed;
/// mode 0666 minus the umask), or to stdout.
fn write_document(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    let Some(path) = output else {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return Ok(out.flush()?);
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let context = || format!("cannot write {}", path.display());
    let mut temp = tempfile::NamedTempFile::new_in(&dir).with_context(context)?;
    temp.write_all(bytes).with_context(context)?;
    temp.as_file().sync_all().with_context(context)?;
    set_umask_mode(temp.as_file()).with_context(context)?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

fn set_umask_mode(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask() only reads and sets the process mask; it is set back at once.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    file.set_permissions(std::fs::Permissions::from_mode(0o666 & !mask))
}

/// One line on stderr: what the document holds and what was not known.
fn summarise(bom: &Bom, format: Format) {
    use gopack::sbom::bom::Kind;
    let count = |k: Kind| bom.components.iter().filter(|c| c.kind == k).count();
    let mut identified = 0;
    let mut unrecognised = Vec::new();
    let mut not_cached = 0;
    for c in bom
        .components
        .iter()
        .filter(|c| matches!(c.kind, Kind::Library | Kind::Application))
    {
        match &c.licence {
            licence::Licence::NotInCache => not_cached += 1,
            l if !l.unrecognised().is_empty() => unrecognised.push(c.name.clone()),
            l if !l.identifiers().is_empty() => identified += 1,
            _ => {}
        }
    }
    let mut line = format!(
        "{format}: {} binar{}, {} modules, stdlib; licences: {identified} identified",
        count(Kind::Application),
        if count(Kind::Application) == 1 {
            "y"
        } else {
            "ies"
        },
        count(Kind::Library),
    );
    if !unrecognised.is_empty() {
        line.push_str(&format!(
            ", {} with a licence file gopack does not recognise ({})",
            unrecognised.len(),
            unrecognised
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if not_cached > 0 {
        line.push_str(&format!(
            ", {not_cached} not read (not in the module cache: `go mod download` in the project \
             reads them next time)"
        ));
    }
    eprintln!("{line}");
}
