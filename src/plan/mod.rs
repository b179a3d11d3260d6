//! The decisions a build makes and the reason for each: whether cgo is used and how, and which
//! files the image gets. The same functions serve `gopack build` and `gopack plan`, so what plan
//! says is what build does.

pub mod report;

use crate::binary::needs::{NeedsReport, RuntimeNeed};
use crate::gobuild::CgoMode;
use crate::project::cgo::CgoReport;
use crate::rootfs::BaseFiles;

/// `--cgo`: what the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgoChoice {
    /// Off unless a package needs cgo; then static, to stay on scratch.
    #[default]
    Auto,
    Off,
    Static,
    Dynamic,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CgoDecision {
    pub mode: CgoMode,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "--cgo off is refused: {packages} use cgo. A CGO_ENABLED=0 build would fail, or compile \
         a stub that fails at run time (mattn/go-sqlite3 does this).{alternatives}\nUse --cgo \
         static (the default, auto, picks it) to link C statically and stay on scratch"
    )]
    CgoRequired {
        packages: String,
        alternatives: String,
    },
    #[error(
        "cgo is needed ({packages}) but the C compiler `{compiler}` is not installed. Install it \
         (Debian/Ubuntu: apt-get install gcc; Alpine: apk add gcc musl-dev) or set CC.{alternatives}"
    )]
    NoCCompiler {
        packages: String,
        compiler: String,
        alternatives: String,
    },
    #[error(
        "cgo for {platform} needs a C cross-compiler for that architecture: set CC (e.g. \
         CC=aarch64-linux-gnu-gcc) or build this platform on a matching machine.{alternatives}"
    )]
    CgoCrossCompile {
        platform: String,
        alternatives: String,
    },
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

pub fn decide_cgo(choice: CgoChoice, report: &CgoReport) -> Result<CgoDecision, PlanError> {
    let packages = cgo_packages(report);
    let decision = |mode, reason: String| Ok(CgoDecision { mode, reason });
    match (choice, report.needs_cgo) {
        (CgoChoice::Auto, false) => decide_off(report),
        (CgoChoice::Auto, true) => decision(
            CgoMode::Static,
            format!(
                "{packages} use cgo: building with CGO_ENABLED=1, -tags netgo,osusergo and \
                 -linkmode external -extldflags \"-static\" so the binary stays static and the \
                 image stays on scratch"
            ),
        ),
        (CgoChoice::Off, true) => Err(PlanError::CgoRequired {
            packages,
            alternatives: alternatives_sentence(report),
        }),
        (CgoChoice::Off, false) => decide_off(report),
        (CgoChoice::Static, _) => decision(CgoMode::Static, "asked with --cgo static".into()),
        (CgoChoice::Dynamic, _) => decision(
            CgoMode::Dynamic,
            "asked with --cgo dynamic: the base image must provide the C libraries".into(),
        ),
    }
}

fn decide_off(report: &CgoReport) -> Result<CgoDecision, PlanError> {
    let reason = if report.std_packages.is_empty() {
        "no package uses cgo: CGO_ENABLED=0 gives a static binary".to_string()
    } else {
        format!(
            "only the standard library uses cgo ({}), and it has pure-Go fallbacks: \
             CGO_ENABLED=0 gives a static binary",
            report.std_packages.join(", ")
        )
    };
    Ok(CgoDecision {
        mode: CgoMode::Off,
        reason,
    })
}

/// Checks, before building, that a cgo build can run here.
pub fn check_cgo_toolchain(
    decision: &CgoDecision,
    report: &CgoReport,
    platforms: &[crate::oci::Platform],
    c_compiler: Option<&str>,
) -> Result<(), PlanError> {
    if decision.mode == CgoMode::Off {
        return Ok(());
    }
    let alternatives = alternatives_sentence(report);
    let host = crate::oci::Platform::host();
    if std::env::var_os("CC").is_none()
        && let Some(p) = platforms
            .iter()
            .find(|p| p.architecture != host.architecture)
    {
        return Err(PlanError::CgoCrossCompile {
            platform: p.to_string(),
            alternatives,
        });
    }
    let compiler = c_compiler.unwrap_or("gcc");
    let program = compiler.split_whitespace().next().unwrap_or(compiler);
    let found = std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        return Err(PlanError::NoCCompiler {
            packages: cgo_packages(report),
            compiler: compiler.to_string(),
            alternatives,
        });
    }
    Ok(())
}

/// `--certs`, `--tz`, `--userdb`, `--tmp`: include when needed (auto), always, or never.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toggle {
    #[default]
    Auto,
    Yes,
    No,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileChoices {
    pub certs: Toggle,
    pub tz: Toggle,
    pub userdb: Toggle,
    pub tmp: Toggle,
}

/// Whether one group of base files goes in, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileDecision {
    pub files: String,
    pub included: bool,
    pub reason: String,
}

/// Decides the base files from what the linked binary needs and what the user forced.
/// `needs` is `Err` when the function table could not be read: then everything is included.
pub fn decide_files(
    choices: &FileChoices,
    needs: Result<&NeedsReport, &str>,
    user: &str,
) -> (BaseFiles, Vec<FileDecision>) {
    let mut decisions = Vec::new();
    let mut decide = |toggle: Toggle,
                      need: RuntimeNeed,
                      files: &str,
                      extra: Option<String>|
     -> bool {
        let (included, reason) = match (toggle, &needs) {
            (Toggle::Yes, _) => (true, "forced on by flag".to_string()),
            (Toggle::No, _) => (false, "forced off by flag".to_string()),
            (Toggle::Auto, Err(why)) => (
                true,
                format!("included because the binary's function table could not be read ({why})"),
            ),
            (Toggle::Auto, Ok(report)) => {
                if let Some(hit) = report.needs.iter().find(|n| n.need == need) {
                    (true, format!("{} is linked: {}", hit.function, hit.why))
                } else if let Some(extra) = &extra {
                    (true, extra.clone())
                } else if let Some(own) = report.satisfied_in_binary.iter().find(|n| n.need == need)
                {
                    (false, format!("not needed: {} ({})", own.function, own.why))
                } else {
                    (
                        false,
                        format!(
                            "not needed: no function that reads {} survived dead-code elimination",
                            need.paths()[0]
                        ),
                    )
                }
            }
        };
        decisions.push(FileDecision {
            files: files.to_string(),
            included,
            reason,
        });
        included
    };
    let named_user = !user
        .split(':')
        .all(|part| part.chars().all(|c| c.is_ascii_digit()));
    let user_reason = named_user.then(|| {
        format!("the image runs as the named user `{user}`, which needs /etc/passwd to resolve")
    });
    let ca_certificates = decide(
        choices.certs,
        RuntimeNeed::CaCertificates,
        crate::rootfs::CA_BUNDLE_PATH,
        None,
    );
    let zoneinfo = decide(
        choices.tz,
        RuntimeNeed::Zoneinfo,
        crate::rootfs::ZONEINFO_DIR,
        None,
    );
    let user_database = decide(
        choices.userdb,
        RuntimeNeed::UserDatabase,
        "/etc/passwd, /etc/group, /home/nonroot",
        user_reason,
    );
    let tmp_reason = Some(
        "always included: an empty 1777 directory costs 512 bytes, and os.TempDir() is inlined, \
         so the binary cannot prove it never writes there"
            .to_string(),
    );
    let tmp = decide(choices.tmp, RuntimeNeed::TempDir, "/tmp", tmp_reason);
    (
        BaseFiles {
            ca_certificates,
            user_database,
            tmp,
            zoneinfo,
        },
        decisions,
    )
}

/// Paths Go's crypto/x509 reads a CA bundle from on Linux (go-facts §7), in its order.
const CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// With a base image, leaves out the files the base already provides (`provides(path)` says
/// whether a path exists in it), and says so in the decisions.
pub fn leave_to_base(
    files: &mut BaseFiles,
    decisions: &mut [FileDecision],
    provides: impl Fn(&str) -> bool,
) {
    let groups: [(&mut bool, Option<&str>); 4] = [
        (
            &mut files.ca_certificates,
            CA_FILES.iter().copied().find(|p| provides(p)),
        ),
        (
            &mut files.zoneinfo,
            Some(crate::rootfs::ZONEINFO_DIR).filter(|p| provides(p)),
        ),
        (
            &mut files.user_database,
            Some("/etc/passwd").filter(|p| provides(p) && provides("/etc/group")),
        ),
        (&mut files.tmp, Some("/tmp").filter(|p| provides(p))),
    ];
    for ((included, provided), decision) in groups.into_iter().zip(decisions.iter_mut()) {
        if let (true, Some(path)) = (*included, provided) {
            *included = false;
            decision.included = false;
            decision.reason = format!("{}; the base image provides {path}", decision.reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::needs::detect_needs;

    fn report(functions: &[&str]) -> NeedsReport {
        NeedsReport {
            needs: detect_needs(functions),
            ..NeedsReport::default()
        }
    }

    #[test]
    fn files_follow_the_linked_functions() {
        let r = report(&["crypto/x509.loadSystemRoots", "main.main"]);
        let (files, why) = decide_files(&FileChoices::default(), Ok(&r), "65532:65532");
        assert!(files.ca_certificates && !files.zoneinfo && !files.user_database && files.tmp);
        assert!(why[0].reason.contains("crypto/x509.loadSystemRoots"));
        assert!(why[2].reason.starts_with("not needed"));
    }

    #[test]
    fn flags_and_named_users_override() {
        let r = report(&["main.main"]);
        let choices = FileChoices {
            certs: Toggle::Yes,
            tmp: Toggle::No,
            ..FileChoices::default()
        };
        let (files, _) = decide_files(&choices, Ok(&r), "nonroot");
        assert!(files.ca_certificates && files.user_database && !files.tmp);
    }

    #[test]
    fn unreadable_table_includes_everything_and_says_why() {
        let (files, why) = decide_files(&FileChoices::default(), Err("truncated"), "0");
        assert!(files.ca_certificates && files.zoneinfo && files.user_database);
        assert!(why[1].reason.contains("truncated"));
    }
}
