//! Whether a binary uses cgo and how, decided from its own dependencies (go-facts §4), with the
//! reason; and whether a cgo build can run on this machine.

use serde::Serialize;

use crate::config::GoEnv;
use crate::gobuild::CgoMode;
use crate::oci::Platform;
use crate::project::cgo::{CgoPackage, CgoReport};

/// `--cgo`: what the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgoChoice {
    /// Off unless a package needs cgo; then static, to stay on scratch.
    #[default]
    Auto,
    /// `CGO_ENABLED=0`, refused when a package needs cgo.
    Off,
    /// cgo linked statically.
    Static,
    /// cgo linked dynamically (the base must hold the libraries).
    Dynamic,
}

/// How one binary uses cgo, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CgoDecision {
    /// The mode.
    pub mode: CgoMode,
    /// Why.
    pub reason: String,
}

/// The cgo picture of the whole build: every package that uses cgo, and the decision when all
/// images share it.
#[derive(Clone, Debug, Serialize)]
pub struct CgoPlan {
    /// `--cgo` as given.
    pub choice: CgoChoice,
    /// What the build does, when every image does the same (`null` when they differ: see
    /// `images[].cgo`).
    pub mode: Option<CgoMode>,
    /// Why (the images' decisions when they differ).
    pub reason: String,
    /// Every non-standard package that uses cgo, with its module, C libraries and pure-Go
    /// alternatives.
    pub packages: Vec<CgoPackage>,
    /// Standard-library packages that use cgo (they have pure-Go fallbacks; never force cgo).
    pub std_packages: Vec<String>,
    /// The C compiler a cgo build uses (`CC`, else gcc); `None` when no image uses cgo.
    pub c_compiler: Option<String>,
}

/// Why a cgo decision cannot be built.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "--cgo off is refused: {packages} {verb} cgo. A CGO_ENABLED=0 build would fail, or compile \
         a stub that fails at run time (mattn/go-sqlite3 does this).{alternatives}\nUse --cgo \
         static (the default, auto, picks it) to link C statically and stay on scratch"
    )]
    /// `--cgo off` on a program that needs cgo.
    CgoRequired {
        /// The packages that use cgo, with their modules.
        packages: String,
        /// `uses` for one package, `use` for several.
        verb: &'static str,
        /// Pure-Go alternatives, as a sentence, or empty.
        alternatives: String,
    },
    #[error(
        "cgo is needed ({packages}) but the C compiler `{compiler}` is not installed. Install it \
         (Debian/Ubuntu: apt-get install gcc; Alpine: apk add gcc musl-dev) or set CC.{alternatives}"
    )]
    /// The C compiler is missing.
    NoCCompiler {
        /// The packages that use cgo, with their modules.
        packages: String,
        /// The compiler (CC, else gcc).
        compiler: String,
        /// Pure-Go alternatives, as a sentence, or empty.
        alternatives: String,
    },
    #[error(
        "cgo for {platform} needs a C cross-compiler for that architecture: set CC (e.g. \
         CC=aarch64-linux-gnu-gcc) or build this platform on a matching machine.{alternatives}"
    )]
    /// cgo for another architecture without a cross-compiler.
    CgoCrossCompile {
        /// The platform.
        platform: String,
        /// Pure-Go alternatives, as a sentence, or empty.
        alternatives: String,
    },
}

/// `uses` for one cgo package, `use` for several.
fn verb(report: &CgoReport) -> &'static str {
    if report.packages.len() == 1 {
        "uses"
    } else {
        "use"
    }
}

fn cgo_packages(report: &CgoReport) -> String {
    report
        .packages
        .iter()
        .map(|p| match &p.module {
            Some(m) if !m.main => format!("{} (module {})", p.import_path, m.path),
            _ => p.import_path.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pure-Go replacements for the cgo packages, as one sentence for error messages.
pub fn alternatives_sentence(report: &CgoReport) -> String {
    let mut lines = Vec::new();
    for p in &report.packages {
        let alts: Vec<String> = p.alternatives.iter().map(|a| a.module.clone()).collect();
        if let (Some(m), false) = (&p.module, alts.is_empty()) {
            lines.push(format!("{} → {}", m.path, alts.join(" or ")));
        }
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!("\nPure-Go alternatives: {}.", lines.join("; "))
    }
}

/// The cgo mode for one binary whose packages are described by `report`.
pub fn decide_cgo(choice: CgoChoice, report: &CgoReport) -> Result<CgoDecision, PlanError> {
    let packages = cgo_packages(report);
    let decision = |mode, reason: String| Ok(CgoDecision { mode, reason });
    match (choice, report.needs_cgo) {
        (CgoChoice::Auto, false) | (CgoChoice::Off, false) => Ok(decide_off(report)),
        (CgoChoice::Auto, true) => decision(
            CgoMode::Static,
            format!(
                "{packages} {} cgo: building with CGO_ENABLED=1, -tags netgo,osusergo and \
                 -linkmode external -extldflags \"-static\" so the binary stays static and the \
                 image stays on scratch",
                verb(report)
            ),
        ),
        (CgoChoice::Off, true) => Err(PlanError::CgoRequired {
            packages,
            verb: verb(report),
            alternatives: alternatives_sentence(report),
        }),
        (CgoChoice::Static, _) => decision(CgoMode::Static, "asked with --cgo static".into()),
        (CgoChoice::Dynamic, _) => decision(
            CgoMode::Dynamic,
            "asked with --cgo dynamic: the base image must provide the C libraries".into(),
        ),
    }
}

fn decide_off(report: &CgoReport) -> CgoDecision {
    let reason = if report.std_packages.is_empty() {
        "no package uses cgo: CGO_ENABLED=0 gives a static binary".to_string()
    } else {
        format!(
            "only the standard library uses cgo ({}), and it has pure-Go fallbacks: \
             CGO_ENABLED=0 gives a static binary",
            report.std_packages.join(", ")
        )
    };
    CgoDecision {
        mode: CgoMode::Off,
        reason,
    }
}

/// Checks, before building, that a cgo build can run here: a C compiler, and for another
/// architecture than the host's, a CC that is a cross-compiler.
pub fn check_cgo_toolchain(
    decision: &CgoDecision,
    report: &CgoReport,
    platforms: &[Platform],
    goenv: &GoEnv,
) -> Result<(), PlanError> {
    if decision.mode == CgoMode::Off {
        return Ok(());
    }
    let alternatives = alternatives_sentence(report);
    let host = Platform::host();
    if goenv.get("CC").is_none()
        && let Some(p) = platforms
            .iter()
            .find(|p| p.architecture != host.architecture)
    {
        return Err(PlanError::CgoCrossCompile {
            platform: p.to_string(),
            alternatives,
        });
    }
    let compiler = goenv.c_compiler();
    let program = compiler.split_whitespace().next().unwrap_or(&compiler);
    let found = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        return Err(PlanError::NoCCompiler {
            packages: cgo_packages(report),
            compiler,
            alternatives,
        });
    }
    Ok(())
}

/// The module-level summary of the images' decisions.
pub fn summary(choice: CgoChoice, report: &CgoReport, images: &[(String, CgoDecision)]) -> CgoPlan {
    let first = images.first().map(|(_, d)| d.mode);
    let same = images.iter().all(|(_, d)| Some(d.mode) == first);
    let (mode, reason) = match (same, images.first()) {
        (true, Some((_, d))) => (Some(d.mode), d.reason.clone()),
        (true, None) => (None, String::new()),
        (false, _) => (
            None,
            format!(
                "decided per binary, from each one's own dependencies: {}",
                images
                    .iter()
                    .map(|(name, d)| format!("{name} {}", mode_word(d.mode)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    CgoPlan {
        choice,
        mode,
        reason,
        packages: report.packages.clone(),
        std_packages: report.std_packages.clone(),
        c_compiler: None,
    }
}

/// `off`, `static` or `dynamic`.
pub fn mode_word(mode: CgoMode) -> &'static str {
    match mode {
        CgoMode::Off => "off",
        CgoMode::Static => "static",
        CgoMode::Dynamic => "dynamic",
    }
}
