//! Runs the user's own `go build` for one main package and one platform, with gopack's flags:
//! `CGO_ENABLED=0 go build -trimpath -ldflags=-s` plus GOFLAGS' and the user's, merged as go
//! would apply them ([`flags`]), quoted with Go's rules ([`quoted`]), for a platform whose
//! variant and level variable are one decision ([`platform`]). Never `-a` or `-installsuffix`
//! (obsolete since Go 1.10; the build cache is content-based), so Go's cache makes warm builds
//! nearly free.
//!
//! [`Builder`] is the one way builds run. It may start the likely first build before the plan
//! is made ([`Builder::start_early`]); that is an optimisation hidden behind [`Builder::build`],
//! which uses the early result only for exactly the same build.

pub mod batch;
mod early;
pub mod flags;
pub mod platform;
pub mod quoted;
pub mod stamp;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::GoEnv;
use crate::oci::Platform;
use crate::project::MainPackage;

pub use early::running as early_build_running;
pub use flags::{BuildFlags, FlagError, FlagInputs, GoFlag};

/// How cgo is used for a build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgoMode {
    /// `CGO_ENABLED=0`: pure Go, static by construction.
    #[default]
    Off,
    /// `CGO_ENABLED=1` with `-tags netgo,osusergo` and `-linkmode external -extldflags "-static"`.
    Static,
    /// `CGO_ENABLED=1`, dynamically linked: the base image must hold the libraries.
    Dynamic,
}

/// Everything one `go build` depends on; the build is a plain function of it and the Go
/// environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoBuildRequest {
    /// Where `go build` runs (the module root).
    pub module_root: PathBuf,
    /// The main package.
    pub package: MainPackage,
    /// The target platform.
    pub platform: Platform,
    /// How cgo is used.
    pub cgo: CgoMode,
    /// `-ldflags`, `-tags` and GOFLAGS, merged.
    pub flags: BuildFlags,
    /// GOOS, GOARCH and, when needed, the level variable ([`platform::target_env`]).
    pub target_env: Vec<(&'static str, String)>,
}

/// A linked binary in gopack's build directory.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuiltBinary {
    /// Where the binary is.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// The command as a person would type it.
    pub command_line: String,
    /// How long the build took.
    #[serde(skip)]
    pub duration: Duration,
}

/// Why a `go build` failed.
#[derive(Debug, thiserror::Error)]
pub enum GoBuildError {
    /// The go program could not be started.
    #[error("cannot run `{program}`: {source}. Install Go (https://go.dev/dl) or set GOPACK_GO")]
    GoNotFound {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// go build failed; Go's own message, and gopack's hint when it has one.
    #[error("go build failed for {package} ({platform}):\n{stderr}{hint}")]
    Compile {
        /// The package.
        package: String,
        /// The platform.
        platform: String,
        /// Go's stderr.
        stderr: String,
        /// gopack's next step, or empty.
        hint: String,
    },
    /// go build succeeded but wrote nothing.
    #[error("go build reported success but wrote no binary at {0}")]
    NoOutput(PathBuf),
    /// The build directory under the cache could not be made.
    #[error("cannot create a build directory in {path}: {source}")]
    Scratch {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl GoBuildRequest {
    /// The environment gopack sets: GOFLAGS (as in effect, so the command shown is complete),
    /// CGO_ENABLED, GOOS, GOARCH and the level variable.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let cgo = if self.cgo == CgoMode::Off { "0" } else { "1" };
        let mut env = Vec::new();
        if let Some(goflags) = &self.flags.goflags {
            env.push(("GOFLAGS", goflags.clone()));
        }
        env.push(("CGO_ENABLED", cgo.to_string()));
        env.extend(self.target_env.iter().cloned());
        env
    }

    /// `go build` arguments writing the binary to `output`.
    pub fn args(&self, output: &Path) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            "-trimpath".into(),
            format!("-ldflags={}", self.flags.ldflags),
        ];
        if !self.flags.tags.is_empty() {
            args.push(format!("-tags={}", self.flags.tags.join(",")));
        }
        args.extend([
            "-o".into(),
            output.display().to_string(),
            self.package.import_path.clone(),
        ]);
        args
    }

    /// The command as a person would type it in a shell.
    pub fn command_line(&self, output: &Path) -> String {
        let env: Vec<String> = self
            .env()
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        let args: Vec<String> = self.args(output).iter().map(|a| shell_quote(a)).collect();
        format!("{} go {}", env.join(" "), args.join(" "))
    }

    /// The same build (same package directory, flags, environment and target), whatever
    /// import path or directory it is named by.
    fn same_build(&self, other: &GoBuildRequest) -> bool {
        canonical(&self.package.dir) == canonical(&other.package.dir)
            && self.flags == other.flags
            && self.env() == other.env()
    }

    /// Where in `dir` this build's binary is kept between builds: one file per package
    /// directory, target and flag set, so alternating flags or packages never relinks or
    /// overwrites another build's binary.
    fn kept_output(&self, dir: &Path, toolchain: &str) -> PathBuf {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(canonical(&self.package.dir).as_os_str().as_encoded_bytes());
        h.update(format!(
            "\0{}\0{:?}\0{:?}\0{toolchain}",
            self.flags.ldflags,
            self.flags.tags,
            self.env()
        ));
        dir.join(format!("bin-{}", &hex::encode(h.finalize())[..16]))
    }
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=,:@+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `go build`s into gopack's build directory (the cache's binaries part), one binary per
/// distinct build, kept between runs so `go build -o` can skip an unchanged link.
pub struct Builder {
    goenv: GoEnv,
    binaries: PathBuf,
    early: Mutex<Option<early::EarlyBuild>>,
    prebuilt: Mutex<Vec<(GoBuildRequest, BuiltBinary)>>,
}

impl Builder {
    /// A builder for `goenv` keeping binaries under `binaries` (`cache::binaries_dir`).
    pub fn new(goenv: &GoEnv, binaries: &Path) -> Builder {
        Builder {
            goenv: goenv.clone(),
            binaries: binaries.to_path_buf(),
            early: Mutex::new(None),
            prebuilt: Mutex::new(Vec::new()),
        }
    }

    /// Builds `requests` ahead of [`Builder::build`]: those that differ only in their package
    /// share one `go build -o DIR/ pkg…` ([`batch`]), run one batch at a time (go runs `procs`
    /// compile and link jobs inside each; `None`: go's default, one per core). A request left
    /// alone in its batch is built later, by [`Builder::build`], as usual.
    pub fn prebuild(
        &self,
        requests: &[&GoBuildRequest],
        procs: Option<usize>,
        progress: &dyn Fn(&str),
    ) -> Result<(), GoBuildError> {
        for batch in batch::batches(requests) {
            if batch.len() < 2 {
                continue;
            }
            let members: Vec<&GoBuildRequest> = batch.iter().map(|&i| requests[i]).collect();
            progress(&format!(
                "go build: {} packages for {}",
                members.len(),
                members[0].platform
            ));
            let module_dir =
                output_dir(&self.binaries, &members[0].module_root).map_err(|source| {
                    GoBuildError::Scratch {
                        path: self.binaries.clone(),
                        source,
                    }
                })?;
            let dir = batch::batch_dir(&module_dir, &members, &self.goenv.toolchain().value);
            let built = batch::run_batch(&self.goenv, &members, &dir, procs)?;
            let mut done = self.prebuilt.lock().unwrap_or_else(|e| e.into_inner());
            done.extend(members.into_iter().cloned().zip(built));
        }
        Ok(())
    }

    /// Starts `guess` in the background, before the plan is made; [`Builder::build`] uses its
    /// binary only when the plan asks for exactly the same build.
    pub fn start_early(&self, guess: GoBuildRequest) {
        let Ok(output) = self.output_for(&guess) else {
            return;
        };
        let started = early::EarlyBuild::start(&self.goenv, guess, output);
        *self.early.lock().unwrap_or_else(|e| e.into_inner()) = Some(started);
    }

    /// Builds `request` (or takes the early build of the same request).
    pub fn build(&self, request: &GoBuildRequest) -> Result<BuiltBinary, GoBuildError> {
        if let Some((_, built)) = self
            .prebuilt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(r, _)| r == request)
        {
            return Ok(built.clone());
        }
        let output = self.output_for(request)?;
        let early = self.early.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut done) = early.and_then(|e| e.result_for(request)) {
            done.command_line = request.command_line(&output);
            return Ok(done);
        }
        run(&self.goenv, request, &output)
    }

    fn output_for(&self, request: &GoBuildRequest) -> Result<PathBuf, GoBuildError> {
        let dir = output_dir(&self.binaries, &request.module_root).map_err(|source| {
            GoBuildError::Scratch {
                path: self.binaries.clone(),
                source,
            }
        })?;
        Ok(request.kept_output(&dir, &self.goenv.toolchain().value))
    }
}

/// Runs one `go build` writing `output`.
/// Go is not run when nothing it reads changed since it wrote `output` ([`stamp`]).
fn run(goenv: &GoEnv, req: &GoBuildRequest, output: &Path) -> Result<BuiltBinary, GoBuildError> {
    let started = Instant::now();
    let pending = match stamp::before(
        goenv,
        &stamp::Invocation::of(req, output),
        stamp::record_beside(output),
        vec![output.to_path_buf()],
    ) {
        stamp::Before::Skip => {
            crate::log::verbose(&format!(
                "skip: {} (go not run: nothing it reads changed since it wrote {}; \
                 GOPACK_ALWAYS_GO_BUILD=1 runs it)",
                req.command_line(output),
                output.display()
            ));
            return Ok(BuiltBinary {
                path: output.to_path_buf(),
                size: std::fs::metadata(output).map_or(0, |m| m.len()),
                command_line: req.command_line(output),
                duration: started.elapsed(),
            });
        }
        stamp::Before::Run(pending) => pending,
    };
    crate::trace::mark("go build stamp");
    crate::log::verbose(&format!("run: {}", req.command_line(output)));
    let mut cmd = goenv.command(&req.module_root);
    cmd.args(req.args(output));
    for (k, v) in req.env() {
        cmd.env(k, v);
    }
    let result = cmd.output().map_err(|source| GoBuildError::GoNotFound {
        program: goenv.program().display().to_string(),
        source,
    })?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr)
            .trim_end()
            .to_string();
        let hint = crate::project::hint_for_go_error(&stderr).to_string();
        return Err(GoBuildError::Compile {
            package: req.package.import_path.clone(),
            platform: req.platform.to_string(),
            stderr,
            hint,
        });
    }
    let size = std::fs::metadata(output)
        .map_err(|_| GoBuildError::NoOutput(output.to_path_buf()))?
        .len();
    pending.done();
    Ok(BuiltBinary {
        path: output.to_path_buf(),
        size,
        command_line: req.command_line(output),
        duration: started.elapsed(),
    })
}

/// Where binaries are built before they go into layers: a directory per module under the cache's
/// binaries directory, so they never land in the user's project. It is kept between builds on purpose: `go
/// build -o FILE` skips the link step when FILE already holds the binary for the same inputs
/// (Go compares build IDs), which is most of a warm build's time.
pub fn output_dir(binaries: &Path, module_root: &Path) -> std::io::Result<PathBuf> {
    use sha2::Digest as _;
    let key = sha2::Sha256::digest(canonical(module_root).as_os_str().as_encoded_bytes());
    let dir = binaries.join(&hex::encode(key)[..16]);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ldflags: &str) -> GoBuildRequest {
        GoBuildRequest {
            module_root: "/src".into(),
            package: MainPackage {
                import_path: "example.com/app".into(),
                dir: "/src".into(),
                name: "app".into(),
            },
            platform: Platform::linux("amd64"),
            cgo: CgoMode::Off,
            flags: BuildFlags {
                ldflags: ldflags.into(),
                tags: vec![],
                goflags: None,
            },
            target_env: vec![("GOOS", "linux".into()), ("GOARCH", "amd64".into())],
        }
    }

    #[test]
    fn the_command_line_is_what_a_shell_runs() {
        let r = request("-s -X 'main.v=a b'");
        assert_eq!(
            r.command_line(Path::new("app")),
            "CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath \
             '-ldflags=-s -X '\\''main.v=a b'\\''' -o app example.com/app"
        );
        assert_eq!(
            request("-s").command_line(Path::new("app")),
            "CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags=-s -o app example.com/app"
        );
    }

    #[test]
    fn kept_outputs_differ_by_flags_only() {
        let dir = Path::new("/cache");
        assert_eq!(
            request("-s").kept_output(dir, "local"),
            request("-s").kept_output(dir, "local")
        );
        assert_ne!(
            request("-s").kept_output(dir, "local"),
            request("-s -w").kept_output(dir, "local")
        );
    }
}
