//! The plan: every decision `gopack build` makes, with the reason for each, as plain data.
//! `gopack plan --json` prints exactly [`Plan`] (with, for `--deep`, what each linked binary
//! turned out to need: [`report::PlanReport`]); `gopack build` builds from it: the same
//! [`GoBuildRequest`]s, the same cgo decision per binary, the same file rules.
//!
//! [`make_plan`] reads go.mod, runs one `CGO_ENABLED=1 go list -deps -json` per pattern and
//! scans `--data` directories; it builds nothing. Each decision and the sentence explaining it
//! are made by the same function ([`cgo`], [`files`], [`user`], [`flags`], [`data`]).

pub mod cgo;
pub mod data;
pub mod files;
pub mod flags;
pub mod go;
mod make;
pub mod report;
pub mod user;

use std::path::PathBuf;

use serde::Serialize;

pub use cgo::{CgoChoice, CgoDecision, CgoPlan, PlanError};
pub use data::{DataDir, DataPlan, DataSymlinks};
pub use files::{FileChoices, FileDecision, FileDecisions, FileGroup, Toggle};
pub use flags::FlagReason;
pub use go::GoPlan;
pub use make::{early_guess, make_plan, target_platforms};
pub use user::{UserPlan, WritablePlan};

use crate::base::BaseSpec;
use crate::config::SettingValue;
use crate::gobuild::GoBuildRequest;
use crate::oci::Platform;
use crate::project::{MainPackage, ProjectError, cgo::CgoReport};

/// Version of the JSON layout of [`Plan`]; raised on any incompatible change. 2: cgo is
/// decided per image (`images[].cgo`; `cgo.mode` is null when images differ), Go settings and
/// their sources (`go.environment`), `user` ids, `writable`, `data`, typed `problems`.
pub const PLAN_SCHEMA_VERSION: u32 = 2;

/// Where binaries go in every image.
pub const BINARY_DIR: &str = "/usr/local/bin";

/// What the user asked for: the inputs of a plan (flags, with the image's environment already
/// resolved from `--env NAME` and `--env-file`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanRequest {
    /// The directory gopack runs in.
    pub cwd: PathBuf,
    /// Package patterns (`.` when none).
    pub patterns: Vec<String>,
    /// `--platform`; empty for the host's.
    pub platforms: Vec<Platform>,
    /// `--ldflags`, every occurrence, split with Go's quoting.
    pub ldflags: Vec<String>,
    /// `--tags`.
    pub tags: Vec<String>,
    /// `--cgo`.
    pub cgo: CgoChoice,
    /// `--certs/--tz/--userdb/--tmp`.
    pub files: FileChoices,
    /// `--user`.
    pub user: Option<String>,
    /// `--ca-file`.
    pub extra_ca_files: Vec<PathBuf>,
    /// `--base`: scratch (the embedded empty base), a registry reference, or a layout.
    pub base: BaseSpec,
    /// The image config's environment (`--env`, `--env-file`), in order.
    pub env: Vec<(String, String)>,
    /// `--data`.
    pub data: Vec<DataDir>,
    /// `--data-symlinks`.
    pub data_symlinks: DataSymlinks,
    /// `--writable`: directories the run user owns.
    pub writable: Vec<String>,
    /// gopack.toml `flags`: `go build` flags passed through GOFLAGS after its own entries.
    pub go_flags: Vec<String>,
    /// Where each setting came from (flag, environment, gopack.toml), for the plan to show.
    pub settings: Vec<SettingValue>,
}

/// Everything `gopack build` will do, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema: u32,
    /// The module.
    pub module: ModulePlan,
    /// The Go toolchain and settings.
    pub go: GoPlan,
    /// The target platforms (`os/arch[/variant]`).
    pub platforms: Vec<String>,
    /// One per main package.
    pub images: Vec<ImagePlan>,
    /// The cgo picture of the whole build.
    pub cgo: CgoPlan,
    /// Each `go build` flag and environment variable gopack sets or passes on, and why.
    pub flags: Vec<FlagReason>,
    /// Flags gopack never sets, and why (the advice they come from is outdated).
    pub flags_not_used: Vec<FlagReason>,
    /// One per image and platform.
    pub targets: Vec<TargetPlan>,
    /// The base image.
    pub base: BasePlan,
    /// The run user.
    pub user: UserPlan,
    /// How the base files are chosen.
    pub files: files::FilesPlan,
    /// `--data` directories.
    pub data: Vec<DataPlan>,
    /// Where the run user can write.
    pub writable: WritablePlan,
    /// What deserves attention but does not stop the build.
    pub warnings: Vec<String>,
    /// What stops the build (it cannot start until these are fixed); empty when it can run.
    pub problems: Vec<Problem>,
    /// The settings given by flags, environment variables and gopack.toml, with where each
    /// came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<SettingValue>,
    /// The image config's environment (names and values; never printed by the text forms).
    #[serde(skip)]
    pub env: Vec<(String, String)>,
    /// `--ca-file`.
    #[serde(skip)]
    pub extra_ca_files: Vec<PathBuf>,
    /// `--certs/--tz/--userdb/--tmp`.
    #[serde(skip)]
    pub file_choices: FileChoices,
    /// `--base`.
    #[serde(skip)]
    pub base_spec: BaseSpec,
}

/// The Go module.
#[derive(Clone, Debug, Serialize)]
pub struct ModulePlan {
    /// Its module path.
    pub path: String,
    /// Its root directory.
    pub root: PathBuf,
    /// `vendor/modules.txt` exists: go builds from the vendor directory, offline.
    pub vendored: bool,
}

/// One image: one main package.
#[derive(Clone, Debug, Serialize)]
pub struct ImagePlan {
    /// Image name (the binary name, as `go build` chooses it).
    pub name: String,
    /// The main package's import path.
    pub package: String,
    /// Its directory.
    pub dir: PathBuf,
    /// The config's Entrypoint.
    pub entrypoint: Vec<String>,
    /// How this binary uses cgo, decided from its own dependencies.
    pub cgo: CgoDecision,
    /// The main package.
    #[serde(skip)]
    pub main: MainPackage,
    /// The cgo verdict for this binary's packages (for the ways out of a dynamic binary).
    #[serde(skip)]
    pub cgo_report: CgoReport,
}

/// One `go build`: one main package for one platform.
#[derive(Clone, Debug, Serialize)]
pub struct TargetPlan {
    /// The image name.
    pub image: String,
    /// The main package.
    pub package: String,
    /// The platform.
    pub platform: Platform,
    /// The exact command (`-o` names the binary; gopack writes it in its build directory).
    pub go_build: String,
    /// Why the binary will not be static, when its flags say so (`-buildmode=pie`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_cause: Option<String>,
    /// The build itself, exactly as `gopack build` runs it.
    #[serde(skip)]
    pub request: GoBuildRequest,
}

/// The base image decision.
#[derive(Clone, Debug, Serialize)]
pub struct BasePlan {
    /// The base as named, or `scratch`.
    pub image: String,
    /// Built into gopack (nothing is pulled).
    pub embedded: bool,
    /// Why.
    pub reason: String,
}

/// A reason the build cannot start. Shown as its sentence (in JSON too).
#[derive(Clone, Debug, thiserror::Error)]
pub enum Problem {
    /// go.mod needs a newer Go than the installed one.
    #[error("{suggestion}")]
    GoTooOld {
        /// The `go` line.
        required: String,
        /// The installed Go.
        installed: String,
        /// What to do.
        suggestion: String,
    },
    /// A cgo decision that cannot be built.
    #[error("{image}: {error}")]
    Cgo {
        /// The image.
        image: String,
        /// The cgo error.
        error: PlanError,
    },
    /// GOFLAGS or `--ldflags` that cannot be used.
    #[error("{0}")]
    Flags(String),
    /// A `--data` directory that cannot go in the image.
    #[error("{0}")]
    Data(#[from] data::DataError),
    /// Any other flag that cannot be used.
    #[error("{0}")]
    Input(String),
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Why no plan could be made at all.
#[derive(Debug, thiserror::Error)]
pub enum MakePlanError {
    /// The project could not be read.
    #[error(transparent)]
    Project(#[from] ProjectError),
}

impl Plan {
    /// `Err` with the first problem when the build cannot start.
    pub fn check_buildable(&self) -> Result<(), Problem> {
        match self.problems.first() {
            Some(p) => Err(p.clone()),
            None => Ok(()),
        }
    }

    /// The targets of one image, in platform order.
    pub fn targets_of<'a>(&'a self, image: &'a ImagePlan) -> impl Iterator<Item = &'a TargetPlan> {
        self.targets
            .iter()
            .filter(move |t| t.package == image.package)
    }

    /// ` (from ORIGIN)` for a setting given by a flag, an environment variable or gopack.toml;
    /// empty for gopack's own default.
    pub fn from_clause(&self, setting: &str) -> String {
        self.settings
            .iter()
            .find(|s| s.setting == setting)
            .map(|s| {
                let names: Vec<String> = s.origins.iter().map(|o| o.to_string()).collect();
                format!(" (from {})", names.join(", "))
            })
            .unwrap_or_default()
    }

    /// The value of `name` in the image config's environment, if set.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
