//! Skipping `go build` when nothing it reads changed. A warm `go build` that links nothing still
//! loads the package graph and hashes every input (≈ 80 ms for a small net/http program on two
//! cores, most of a warm gopack build). Before running go, gopack hashes what the build reads
//! that can change; when that hash equals the one recorded beside the binary the last time go
//! built it, and the binary is the one go wrote then, go is not run.
//!
//! What the stamp covers:
//! - gopack's stamp format; the go program (path, size, mtime), its version and GOROOT;
//! - the build: `go build` arguments (flags, tags, output) and the environment gopack sets;
//! - every Go setting in effect (environment, the `go env -w` file, `$GOROOT/go.env`);
//! - every file of the module, by content (not mtime), in every directory except `.git` and
//!   nested modules — `_`, `.` and `testdata` directories included, since `//go:embed` may name
//!   them; `_test.go` files included too (cheap, and never wrong);
//! - when go stamps version control information (`-buildvcs` not false, a git work tree): the
//!   commit and its time and `git status --porcelain`, the inputs of `vcs.revision`,
//!   `vcs.time` and `vcs.modified`. git runs only when everything else matched (a no-change
//!   build); after an edit it runs beside `go build`, so the edit loop never waits for it.
//!
//! Module dependencies come from the module cache, which is read-only and checked against
//! go.sum (hashed), so they need no walk. Builds the stamp cannot cover are never skipped:
//! cgo (C compiler, headers and libraries outside the module), `go.work` workspaces and
//! `replace` directives to local directories (sources outside the module), `-overlay`,
//! `-modfile` and `-pgo` files named by path, version control other than git, more than
//! [`MAX_FILES`] files or [`MAX_BYTES`] bytes. `GOPACK_ALWAYS_GO_BUILD=1` turns skipping off.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest as _, Sha256};

use super::{CgoMode, GoBuildRequest};
use crate::config::GoEnv;

/// Changes whenever what goes into a stamp changes.
const STAMP_FORMAT: &str = "gobuild-stamp-v1";
/// Files (and directories) beyond this many: the walk is not worth it; go decides.
pub const MAX_FILES: usize = 20_000;
/// Bytes of file content beyond this: the walk is not worth it; go decides.
pub const MAX_BYTES: u64 = 64 << 20;

/// What one `go` invocation is: where it runs, whether cgo is on, its arguments (outputs
/// included) and the environment gopack sets for it.
pub struct Invocation<'a> {
    /// The module root `go` runs in.
    pub module_root: &'a Path,
    /// cgo mode of every package built.
    pub cgo: CgoMode,
    /// `go` arguments (`build …`).
    pub args: Vec<String>,
    /// Variables gopack sets (GOFLAGS, CGO_ENABLED, GOOS, GOARCH, …).
    pub env: Vec<(&'static str, String)>,
}

impl<'a> Invocation<'a> {
    /// The invocation that builds `req` into `output`.
    pub fn of(req: &'a GoBuildRequest, output: &Path) -> Invocation<'a> {
        Invocation {
            module_root: &req.module_root,
            cgo: req.cgo,
            args: req.args(output),
            env: req.env(),
        }
    }
}

/// What [`before`] decided.
pub enum Before {
    /// The outputs are what go would write: do not run it.
    Skip,
    /// Run go, then call [`Pending::done`] if it succeeded.
    Run(Pending),
}

/// A stamp to record once go has written the outputs.
pub struct Pending {
    base: Option<Base>,
    vcs: VcsAnswer,
    record: PathBuf,
    outputs: Vec<PathBuf>,
}

/// Decides whether `run`, writing `outputs` and keeping its record at `record`, needs go. When
/// it does, the old record is removed first. Version control is asked before go only when
/// everything else matched; otherwise beside go, for the record.
pub fn before(goenv: &GoEnv, run: &Invocation, record: PathBuf, outputs: Vec<PathBuf>) -> Before {
    let base = base(goenv, run);
    let mut known = None;
    if let Some(b) = &base
        && same_base(&record, b, &outputs)
    {
        match vcs(b) {
            Some(v) if same_vcs(&record, &v) => return Before::Skip,
            v => known = v,
        }
    }
    forget(&record);
    let vcs = match (&base, known) {
        (None, _) => VcsAnswer::None,
        (Some(_), Some(v)) => VcsAnswer::Known(v),
        (Some(b), None) if b.git_dir.is_none() => VcsAnswer::Known(String::new()),
        // git beside go: the edit loop never waits for it.
        (Some(b), None) => {
            let b = b.clone();
            VcsAnswer::Asking(std::thread::spawn(move || vcs(&b)))
        }
    };
    Before::Run(Pending {
        base,
        vcs,
        record,
        outputs,
    })
}

/// What version control says for the record: nothing to record, known, or git still running.
enum VcsAnswer {
    None,
    Known(String),
    Asking(std::thread::JoinHandle<Option<String>>),
}

impl Pending {
    /// Go succeeded: records the stamp for the outputs it wrote.
    pub fn done(self) {
        let Some(base) = self.base else { return };
        let vcs = match self.vcs {
            VcsAnswer::None => return,
            VcsAnswer::Known(v) => v,
            VcsAnswer::Asking(job) => match job.join() {
                Ok(Some(v)) => v,
                _ => return,
            },
        };
        record(&self.record, &base, &vcs, &self.outputs);
    }
}

/// The part of a stamp that needs no other program: a hex SHA-256 of everything but version
/// control, and where version control must be asked (`None`: go stamps nothing from it).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Base {
    hash: String,
    git_dir: Option<PathBuf>,
}

/// The stamp base of `run`, or `None` when this build must always run go (see the module
/// documentation for which builds).
fn base(goenv: &GoEnv, run: &Invocation) -> Option<Base> {
    if std::env::var("GOPACK_ALWAYS_GO_BUILD").is_ok_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    if run.cgo != CgoMode::Off {
        return None;
    }
    let root = run.module_root.canonicalize().ok()?;
    if !crate::project::module_is_self_contained(&root)
        || goenv.get("GOWORK").is_some_and(|w| w != "off")
    {
        return None;
    }
    let (args, env) = (&run.args, &run.env);
    let flag_text = format!("{args:?} {env:?} {:?}", goenv.get("GOFLAGS"));
    if ["-overlay", "-modfile", "-pgo=/", "-pgo=.", "-pgo=~"]
        .iter()
        .any(|f| flag_text.contains(f))
    {
        return None;
    }
    let git_dir = vcs_root(&root, &flag_text)?;
    let mut h = Sha256::new();
    h.update(format!("{STAMP_FORMAT}\n{}\n", env!("CARGO_PKG_VERSION")));
    h.update(toolchain_identity(goenv)?);
    h.update(format!("{args:?}\n{env:?}\n"));
    for (name, value) in goenv.settings() {
        h.update(format!("{name}={value}\n"));
    }
    let mut budget = (MAX_FILES, MAX_BYTES);
    walk(&root, &root, &mut h, &mut budget)?;
    Some(Base {
        hash: hex::encode(h.finalize()),
        git_dir: git_dir.map(|_| root),
    })
}

/// What go would stamp from version control for `base`, hashed: empty when it stamps nothing,
/// else from `git log -1` and `git status --porcelain` (as `go build` asks git); `None` when
/// git fails.
fn vcs(base: &Base) -> Option<String> {
    let Some(dir) = &base.git_dir else {
        return Some(String::new());
    };
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    };
    let head = git(&[
        "-c",
        "log.showsignature=false",
        "log",
        "-1",
        "--format=%H:%ct",
    ])?;
    let status = git(&["status", "--porcelain"])?;
    let mut h = Sha256::new();
    h.update(&head);
    h.update(b"\0");
    h.update(&status);
    Some(hex::encode(h.finalize()))
}

/// True when the record at `record` holds `base` and every one of `outputs` is the file go
/// wrote when it was recorded (same size, mtime and inode); version control still to check
/// with [`same_vcs`].
fn same_base(record: &Path, base: &Base, outputs: &[PathBuf]) -> bool {
    let (Ok(recorded), Some(now)) = (fs::read_to_string(record), outputs_text(outputs)) else {
        return false;
    };
    let mut lines = recorded.splitn(3, '\n');
    lines.next() == Some(base.hash.as_str()) && lines.nth(1) == Some(now.as_str())
}

/// True when the record at `record` holds `vcs` (from [`vcs`]).
fn same_vcs(record: &Path, vcs: &str) -> bool {
    fs::read_to_string(record).is_ok_and(|r| r.split('\n').nth(1) == Some(vcs))
}

/// Records `base` and `vcs` for the `outputs` go just wrote (best effort: without a record the
/// next build runs go, as it always did).
fn record(record: &Path, base: &Base, vcs: &str, outputs: &[PathBuf]) {
    let (Some(files), Some(dir)) = (outputs_text(outputs), record.parent()) else {
        return;
    };
    let text = format!("{}\n{vcs}\n{files}", base.hash);
    // gopack's temp naming, so a run killed here leaves nothing the next run does not sweep.
    if let Ok(mut tmp) = crate::fsutil::temp_file_in(dir)
        && tmp.write_all(text.as_bytes()).is_ok()
    {
        let _ = tmp.persist(record);
    }
}

/// Removes a record (before go runs: whatever happens, the old stamp no longer describes the
/// outputs).
fn forget(record: &Path) {
    let _ = fs::remove_file(record);
}

/// Where the record of a single build writing `output` is kept: beside it.
pub fn record_beside(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".stamp");
    PathBuf::from(name)
}

/// Size, mtime and inode of each output, one line each.
fn outputs_text(outputs: &[PathBuf]) -> Option<String> {
    let mut text = String::new();
    for output in outputs {
        let meta = fs::metadata(output).ok()?;
        text.push_str(&format!(
            "{} {} {} {}\n",
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ino()
        ));
    }
    Some(text)
}

/// The go program as found on PATH (size and mtime: a toolchain replaced in place counts),
/// its version and GOROOT.
fn toolchain_identity(goenv: &GoEnv) -> Option<String> {
    let program = goenv.program();
    let found = if program.components().count() > 1 {
        program.to_path_buf()
    } else {
        crate::fsutil::executable_on_path(&program.to_string_lossy())?
    };
    let meta = fs::metadata(&found).ok()?;
    let installed = goenv.installed();
    Some(format!(
        "{} {} {} {}\n{}\n{}\n",
        found.display(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        installed.name,
        installed.goroot.display()
    ))
}

/// Whether go stamps version control information for a module at `root`: `Some(None)` when it
/// does not (`-buildvcs=false`, no work tree), `Some(Some(repo))` for a git work tree, `None`
/// (never skip) for other version control systems.
fn vcs_root(root: &Path, flag_text: &str) -> Option<Option<PathBuf>> {
    if flag_text.contains("-buildvcs=false") {
        return Some(None);
    }
    let Some(repo) = root.ancestors().find(|d| {
        [".git", ".hg", ".svn", ".bzr", ".fossil", "_FOSSIL_"]
            .iter()
            .any(|m| d.join(m).exists())
    }) else {
        return Some(None);
    };
    repo.join(".git").exists().then(|| Some(repo.to_path_buf()))
}

/// Hashes every file under `dir` by content, in name order, skipping `.git` and nested
/// modules; `None` when the walk goes over `budget` (files, bytes) or a file cannot be read.
fn walk(root: &Path, dir: &Path, h: &mut Sha256, budget: &mut (usize, u64)) -> Option<()> {
    let mut children: Vec<_> = fs::read_dir(dir).ok()?.flatten().collect();
    children.sort_by_key(|e| e.file_name());
    for child in children {
        budget.0 = budget.0.checked_sub(1)?;
        let path = child.path();
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let name = child.file_name();
        let Ok(meta) = fs::metadata(&path) else {
            // A dangling symlink: go cannot read it either; its presence is part of the state.
            h.update(format!("x {}\n", rel.display()));
            continue;
        };
        if meta.is_dir() {
            if name == ".git" || path.join("go.mod").is_file() {
                continue;
            }
            h.update(format!("d {}\n", rel.display()));
            walk(root, &path, h, budget)?;
        } else if meta.is_file() {
            budget.1 = budget.1.checked_sub(meta.len())?;
            let content = fs::read(&path).ok()?;
            h.update(format!(
                "f {} {}\n",
                rel.display(),
                hex::encode(Sha256::digest(&content))
            ));
        } else {
            h.update(format!("o {}\n", rel.display()));
        }
    }
    Some(())
}
