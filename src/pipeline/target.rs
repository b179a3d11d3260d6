//! One target, from the plan to a checked binary and its file decisions: `build_binary` (the
//! user's go) → `check_binary` (ELF, build info, pclntab needs, programs) → the file decisions
//! and the run user against the base → the checks that the binary can start in the image.
//! `gopack plan --deep` and `gopack build` both run exactly this.

use crate::assemble::BaseView;
use crate::binary::check::{CheckedBinary, check_binary};
use crate::gobuild::platform::{check_recorded_level, level_variable};
use crate::gobuild::{Builder, BuiltBinary, CgoMode};
use crate::plan::files::{FileInputs, apply_base, decide_files};
use crate::plan::report::BuiltTarget;
use crate::plan::{
    FileDecisions, ImagePlan, Plan, TargetPlan, UserPlan, cgo::alternatives_sentence,
};

use super::BuildError;

/// A target built and checked, with what goes in its image.
pub struct PreparedTarget {
    /// The linked binary.
    pub binary: BuiltBinary,
    /// What the binary is (linkage, build info, needs, programs).
    pub checked: CheckedBinary,
    /// The run user, resolved against the base.
    pub user: UserPlan,
    /// Which base files go in.
    pub files: FileDecisions,
    /// What is reported for it (plan --deep, build --json).
    pub report: BuiltTarget,
}

/// Builds and checks one target.
pub fn prepare(
    builder: &Builder,
    plan: &Plan,
    image: &ImagePlan,
    target: &TargetPlan,
    base: Option<&BaseView>,
) -> Result<PreparedTarget, BuildError> {
    let binary = builder.build(&target.request)?;
    crate::trace::mark("go build");
    let checked = check_binary(&binary.path)?;
    crate::trace::mark("check binary (ELF, build info, needs)");
    verify_level(image, target, &checked)?;
    verify_startable(image, target, &checked, base)?;
    let user = base.map_or_else(|| plan.user.clone(), |b| b.resolve_user(&plan.user));
    let extra_ca = !plan.extra_ca_files.is_empty();
    let mut files = decide_files(&FileInputs {
        choices: plan.file_choices,
        needs: checked.needs.as_ref().map_err(String::as_str),
        user: &user,
        tz: plan.env_value("TZ"),
        extra_ca,
    });
    if let Some(b) = base {
        apply_base(&mut files, &b.provides(&user), &user, extra_ca);
    }
    let warnings = missing_programs(image, target, &checked, base);
    let report = report(target, &checked, &files, warnings);
    Ok(PreparedTarget {
        binary,
        checked,
        user,
        files,
        report,
    })
}

fn report(
    target: &TargetPlan,
    checked: &CheckedBinary,
    files: &FileDecisions,
    warnings: Vec<String>,
) -> BuiltTarget {
    let needs = checked.needs.as_ref().ok();
    BuiltTarget {
        package: target.package.clone(),
        platform: target.platform.clone(),
        binary_size: checked.size,
        static_binary: checked.linkage.is_static(),
        interpreter: checked.linkage.interpreter.clone(),
        needed_libraries: checked.linkage.needed_libraries.clone(),
        needs: needs.map(|n| n.needs.clone()).unwrap_or_default(),
        satisfied_in_binary: needs
            .map(|n| n.satisfied_in_binary.clone())
            .unwrap_or_default(),
        reads_environment: needs
            .map(|n| n.reads_environment.clone())
            .unwrap_or_default(),
        needs_error: checked.needs.as_ref().err().cloned(),
        programs: checked.programs.clone(),
        files: files.clone(),
        warnings,
    }
}

/// The level the binary records (GOAMD64=v3…) is the image platform's.
fn verify_level(
    image: &ImagePlan,
    target: &TargetPlan,
    checked: &CheckedBinary,
) -> Result<(), BuildError> {
    let recorded = level_variable(&target.platform.architecture).and_then(|v| checked.setting(v));
    check_recorded_level(&target.platform, recorded).map_err(|detail| {
        BuildError::PlatformMismatch {
            binary: image.name.clone(),
            detail,
        }
    })
}

/// A dynamic binary starts only on a base that holds its loader and every library it names;
/// scratch holds none. The error names the real cause: the build flags, or cgo.
fn verify_startable(
    image: &ImagePlan,
    target: &TargetPlan,
    checked: &CheckedBinary,
    base: Option<&BaseView>,
) -> Result<(), BuildError> {
    let linkage = &checked.linkage;
    if linkage.is_static() {
        return Ok(());
    }
    if let Some(base) = base {
        let missing = base
            .fs
            .missing_for_dynamic(linkage.interpreter.as_deref(), &linkage.needed_libraries);
        if missing.is_empty() {
            return Ok(());
        }
        return Err(BuildError::BaseLacksLibraries {
            binary: image.name.clone(),
            platform: target.platform.to_string(),
            base: base.name.clone(),
            missing: missing.join(", "),
        });
    }
    let interpreter = linkage
        .interpreter
        .clone()
        .unwrap_or_else(|| "(none)".into());
    let libraries = if linkage.needed_libraries.is_empty() {
        "(none)".into()
    } else {
        linkage.needed_libraries.join(", ")
    };
    if let (Some(cause), false) = (&target.dynamic_cause, image.cgo.mode == CgoMode::Dynamic) {
        return Err(BuildError::DynamicByFlags {
            binary: image.name.clone(),
            platform: target.platform.to_string(),
            interpreter,
            libraries,
            cause: cause.clone(),
        });
    }
    let sentence = alternatives_sentence(&image.cgo_report);
    Err(BuildError::NotStatic {
        binary: image.name.clone(),
        platform: target.platform.to_string(),
        interpreter,
        libraries,
        alternatives: if sentence.is_empty() {
            String::new()
        } else {
            format!(
                " —{}",
                sentence.trim_end_matches('.').replacen('\n', " ", 1)
            )
        },
    })
}

/// Programs the binary may run by absolute path that the image lacks.
fn missing_programs(
    image: &ImagePlan,
    target: &TargetPlan,
    checked: &CheckedBinary,
    base: Option<&BaseView>,
) -> Vec<String> {
    checked
        .programs
        .iter()
        .filter(|p| base.is_none_or(|b| !b.fs.exists(p)))
        .map(|p| {
            format!(
                "{} ({}) may run {p} (it starts programs, and {p} is in its read-only data), but \
                 the image has no {p}: that call fails at run time with \"no such file or \
                 directory\". Build on a --base that has it, or drop the dependency",
                image.name, target.platform
            )
        })
        .collect()
}
