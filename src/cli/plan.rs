//! `gopack plan`: what `gopack build` would do and why, as text (long form) or `--json` (the
//! [`Plan`] structure itself). The short form, one line per decision, is printed by build.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use gopack::plan::report::{Plan, TargetPlan, make_plan};

use super::CommandResult;
use super::plan_flags::PlanFlags;

#[derive(Args)]
pub struct PlanArgs {
    /// Print the plan as JSON (the structure `gopack build` follows)
    #[arg(long)]
    pub json: bool,

    /// Also build each target (in a temporary directory, exactly as `gopack build` would) and
    /// report what each linked binary needs and which files it gets
    #[arg(long)]
    pub deep: bool,

    #[command(flatten)]
    pub plan: PlanFlags,
}

pub fn run(args: PlanArgs) -> CommandResult {
    let mut plan = make_plan(&args.plan.request()?)?;
    if args.deep && plan.problems.is_empty() {
        let dir = tempfile::Builder::new().prefix("gopack-plan-").tempdir()?;
        plan.go_deep(dir.path())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", long_form(&plan));
    }
    if !plan.problems.is_empty() {
        anyhow::bail!(
            "the build cannot start: {}",
            plan.problems.join("\n").trim_end()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A value as its JSON spelling (`off`, `auto`…), so text and JSON use the same words.
fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn mark(included: bool) -> &'static str {
    if included { "+" } else { "-" }
}

fn human(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The full report, section by section, every decision with its reason.
pub fn long_form(plan: &Plan) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "gopack plan for {} ({})",
        plan.module.path,
        plan.module.root.display()
    );
    let _ = writeln!(w, "\nGo");
    let _ = writeln!(
        w,
        "  go.mod requires  go {}{}",
        plan.go.required.as_deref().unwrap_or("(no go line)"),
        plan.go
            .toolchain
            .as_deref()
            .map(|t| format!(", suggests toolchain {t}"))
            .unwrap_or_else(|| ", no toolchain line".into())
    );
    let _ = writeln!(
        w,
        "  installed        {} (GOTOOLCHAIN={}){}",
        plan.go.installed,
        plan.go.gotoolchain,
        if plan.go.satisfied { "" } else { "  TOO OLD" }
    );
    if let Some(s) = &plan.go.suggestion {
        let _ = writeln!(w, "  ! {s}");
    }

    if !plan.images.is_empty() {
        let _ = writeln!(w, "\nImages (one per main package)");
        for image in &plan.images {
            let _ = writeln!(
                w,
                "  {:<14} from {}  entrypoint {}",
                image.name,
                image.package,
                image.entrypoint.join(" ")
            );
        }
    }
    let _ = writeln!(w, "  platforms: {}", plan.platforms.join(", "));

    let _ = writeln!(
        w,
        "\ncgo: {} (--cgo {})",
        word(&plan.cgo.mode),
        word(&plan.cgo.choice)
    );
    let _ = writeln!(w, "  why: {}", plan.cgo.reason);
    if let Some(cc) = &plan.cgo.c_compiler {
        let _ = writeln!(w, "  C compiler: {cc}");
    }
    for p in &plan.cgo.packages {
        let module = p
            .module
            .as_ref()
            .map(|m| {
                format!(
                    "module {}{}",
                    m.path,
                    m.version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|| "no module".into());
        let _ = writeln!(w, "  uses cgo: {} ({module})", p.import_path);
        let mut libs: Vec<String> = p.libraries.iter().map(|l| format!("-l{l}")).collect();
        libs.extend(p.pkg_config.iter().map(|l| format!("pkg-config {l}")));
        if !libs.is_empty() {
            let _ = writeln!(w, "    C libraries: {}", libs.join(", "));
        }
        if !p.native_files.is_empty() {
            let _ = writeln!(w, "    C sources: {} file(s)", p.native_files.len());
        }
        for alt in &p.alternatives {
            let _ = writeln!(w, "    pure-Go alternative: {} ({})", alt.module, alt.note);
        }
    }
    if !plan.cgo.std_packages.is_empty() {
        let _ = writeln!(
            w,
            "  standard library with optional cgo (never forces cgo): {}",
            plan.cgo.std_packages.join(", ")
        );
    }

    if !plan.targets.is_empty() {
        let _ = writeln!(w, "\ngo build, per target");
        for t in &plan.targets {
            let _ = writeln!(w, "  {} {}:\n    {}", t.image, t.platform, t.go_build);
        }
        let _ = writeln!(w, "  flags and why:");
        for f in &plan.flags {
            let _ = writeln!(w, "    {}\n        {}", f.flag, f.why);
        }
        let _ = writeln!(w, "  never used, and why:");
        for f in &plan.flags_not_used {
            let _ = writeln!(w, "    {}\n        {}", f.flag, f.why);
        }
    }

    let _ = writeln!(
        w,
        "\nBase: {}{}",
        plan.base.image,
        if plan.base.embedded {
            " (embedded in gopack, nothing is pulled)"
        } else {
            ""
        }
    );
    let _ = writeln!(w, "  why: {}", plan.base.reason);
    let _ = writeln!(w, "User: {}\n  why: {}", plan.user.user, plan.user.reason);

    let _ = writeln!(w, "\nFiles");
    let _ = writeln!(w, "  decided from {}", plan.files.decided_from);
    for r in &plan.files.rules {
        let _ = writeln!(
            w,
            "  {} ({} {}): {}",
            r.files,
            r.flag,
            word(&r.choice),
            r.rule
        );
    }
    for ca in &plan.files.extra_ca_files {
        let _ = writeln!(
            w,
            "  --ca-file {} is appended to the CA bundle",
            ca.display()
        );
    }
    for t in plan.targets.iter().filter(|t| t.built.is_some()) {
        built_section(w, t);
    }

    if !plan.warnings.is_empty() {
        let _ = writeln!(w, "\nWarnings");
        for warning in &plan.warnings {
            let _ = writeln!(w, "  ! {warning}");
        }
    }
    if !plan.problems.is_empty() {
        let _ = writeln!(w, "\nProblems (the build cannot start)");
        for p in &plan.problems {
            let _ = writeln!(w, "  x {p}");
        }
    }
    o
}

fn built_section(w: &mut String, t: &TargetPlan) {
    let Some(b) = &t.built else { return };
    let linkage = match b.static_binary {
        Some(true) => ", static".to_string(),
        Some(false) => format!(
            ", DYNAMIC: interpreter {}, needs {}",
            b.interpreter.as_deref().unwrap_or("(none)"),
            b.needed_libraries.join(", ")
        ),
        None => String::new(),
    };
    let _ = writeln!(
        w,
        "  {} {} (linked binary {}{linkage}):",
        t.image,
        t.platform,
        human(b.binary_size)
    );
    if let Some(e) = &b.needs_error {
        let _ = writeln!(w, "    function table unreadable: {e}");
    }
    for n in &b.needs {
        let _ = writeln!(
            w,
            "    needs {} because {} is linked ({})",
            n.need.describe(),
            n.function,
            n.why
        );
    }
    for n in &b.satisfied_in_binary {
        let _ = writeln!(
            w,
            "    carries its own {}: {} ({})",
            n.need.describe(),
            n.function,
            n.why
        );
    }
    for f in &b.files {
        let _ = writeln!(w, "    {} {}: {}", mark(f.included), f.files, f.reason);
    }
}

/// One line per decision, for `gopack build`'s text output.
pub fn short_form(plan: &Plan) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "plan: module {}, go {} required, {} installed",
        plan.module.path,
        plan.go.required.as_deref().unwrap_or("(any)"),
        plan.go.installed
    );
    let _ = writeln!(w, "plan: cgo {}: {}", word(&plan.cgo.mode), plan.cgo.reason);
    for t in &plan.targets {
        let _ = writeln!(w, "plan: {} {}: {}", t.image, t.platform, t.go_build);
    }
    let _ = writeln!(w, "plan: base {}: {}", plan.base.image, plan.base.reason);
    let _ = writeln!(w, "plan: user {}", plan.user.user);
    for t in &plan.targets {
        if let Some(b) = &t.built {
            for f in &b.files {
                let _ = writeln!(
                    w,
                    "plan: {} {}: {} {}: {}",
                    t.image,
                    t.platform,
                    mark(f.included),
                    f.files,
                    f.reason
                );
            }
        }
    }
    for warning in &plan.warnings {
        let _ = writeln!(w, "plan: warning: {warning}");
    }
    o
}
