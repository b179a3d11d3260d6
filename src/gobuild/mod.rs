//! Runs the user's own `go build` for one main package and one platform, with gopack's flags:
//! `CGO_ENABLED=0 go build -trimpath -ldflags=-s` plus the user's. Never `-a` or
//! `-installsuffix` (obsolete since Go 1.10; the build cache is content-based), so Go's cache
//! makes warm builds nearly free.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::oci::Platform;
use crate::project::{MainPackage, go_command, go_program};

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

/// Everything one `go build` depends on; the build is a plain function of it.
#[derive(Clone, Debug)]
pub struct GoBuildRequest {
    pub module_root: PathBuf,
    pub package: MainPackage,
    pub platform: Platform,
    /// Extra `-ldflags` words from the user, appended after gopack's `-s`.
    pub ldflags: Vec<String>,
    pub tags: Vec<String>,
    pub cgo: CgoMode,
    /// Where to write the binary.
    pub output: PathBuf,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct BuiltBinary {
    pub path: PathBuf,
    pub size: u64,
    /// The command as a person would type it, for `--explain` and error messages.
    pub command_line: String,
    #[serde(skip)]
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum GoBuildError {
    #[error("cannot run `{program}`: {source}. Install Go (https://go.dev/dl) or set GOPACK_GO")]
    GoNotFound {
        program: String,
        source: std::io::Error,
    },
    #[error("go build failed for {package} ({platform}):\n{stderr}{hint}")]
    Compile {
        package: String,
        platform: String,
        stderr: String,
        hint: String,
    },
    #[error("go build reported success but wrote no binary at {0}")]
    NoOutput(PathBuf),
}

impl GoBuildRequest {
    pub fn ldflags_value(&self) -> String {
        let mut words = vec!["-s".to_string()];
        if self.cgo == CgoMode::Static {
            words.extend([
                "-linkmode".into(),
                "external".into(),
                "-extldflags".into(),
                "\"-static\"".into(),
            ]);
        }
        words.extend(self.ldflags.iter().cloned());
        words.join(" ")
    }

    fn tags_value(&self) -> Option<String> {
        let mut tags = self.tags.clone();
        if self.cgo == CgoMode::Static {
            for t in ["netgo", "osusergo"] {
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.into());
                }
            }
        }
        (!tags.is_empty()).then(|| tags.join(","))
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        let cgo = if self.cgo == CgoMode::Off { "0" } else { "1" };
        let mut env = vec![("CGO_ENABLED", cgo.to_string())];
        env.extend(self.platform.go_env());
        env
    }

    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            "-trimpath".into(),
            format!("-ldflags={}", self.ldflags_value()),
        ];
        if let Some(tags) = self.tags_value() {
            args.push(format!("-tags={tags}"));
        }
        args.extend([
            "-o".into(),
            self.output.display().to_string(),
            self.package.import_path.clone(),
        ]);
        args
    }

    /// Where in `dir` this build's binary is kept between builds: one file per package
    /// directory, target and flag set, so alternating flags or packages never relinks or
    /// overwrites another build's binary. Two requests get the same path exactly when they are
    /// the same build of the same package directory.
    pub fn cached_output(&self, dir: &Path) -> PathBuf {
        use sha2::Digest as _;
        let package_dir = self
            .package
            .dir
            .canonicalize()
            .unwrap_or_else(|_| self.package.dir.clone());
        let mut h = sha2::Sha256::new();
        h.update(package_dir.as_os_str().as_encoded_bytes());
        h.update(format!(
            "\0{}\0{:?}\0{:?}",
            self.ldflags_value(),
            self.tags_value(),
            self.env()
        ));
        dir.join(format!("bin-{}", &hex::encode(h.finalize())[..16]))
    }

    pub fn command_line(&self) -> String {
        let env: Vec<String> = self.env().iter().map(|(k, v)| format!("{k}={v}")).collect();
        let args: Vec<String> = self.args().iter().map(|a| shell_quote(a)).collect();
        format!("{} go {}", env.join(" "), args.join(" "))
    }
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./=,:@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn build(req: &GoBuildRequest) -> Result<BuiltBinary, GoBuildError> {
    let started = Instant::now();
    let mut cmd = go_command(&req.module_root);
    cmd.args(req.args());
    for (k, v) in req.env() {
        cmd.env(k, v);
    }
    let output = cmd.output().map_err(|source| GoBuildError::GoNotFound {
        program: go_program().display().to_string(),
        source,
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr)
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
    let size = std::fs::metadata(&req.output)
        .map_err(|_| GoBuildError::NoOutput(req.output.clone()))?
        .len();
    Ok(BuiltBinary {
        path: req.output.clone(),
        size,
        command_line: req.command_line(),
        duration: started.elapsed(),
    })
}

/// Where binaries are built before they go into layers: a directory per module under the gopack
/// cache, so they never land in the user's project. It is kept between builds on purpose: `go
/// build -o FILE` skips the link step when FILE already holds the binary for the same inputs
/// (Go compares build IDs), which is most of a warm build's time.
pub fn output_dir(cache: &Path, module_root: &Path) -> std::io::Result<PathBuf> {
    use sha2::Digest as _;
    let key = sha2::Sha256::digest(module_root.as_os_str().as_encoded_bytes());
    let dir = cache.join("build").join(&hex::encode(key)[..16]);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
