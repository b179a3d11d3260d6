//! `gopack plan`: what `gopack build` would do and why, as text (long form) or `--json` (the
//! [`Plan`] structure itself). The short form, one line per decision, is printed by build.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use gopack::cache::Cache;
use gopack::config::GoEnv;
use gopack::plan::report::{BuiltTarget, PlanReport};
use gopack::plan::{Plan, TargetPlan, make_plan};
use gopack::text::counted;

use super::CommandResult;
use super::plan_flags::PlanFlags;
use super::plan_targets::{Inputs, Setup, setup};

#[derive(Args)]
pub struct PlanArgs {
    /// Print the plan as JSON (the structure `gopack build` follows)
    #[arg(long)]
    pub json: bool,

    /// Also build each target (exactly as `gopack build` would, reading the --base too) and
    /// report what each linked binary needs and which files it gets
    #[arg(long)]
    pub deep: bool,

    /// Print the exact go commands and registry requests on stderr (never credentials)
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub plan: PlanFlags,

    #[command(flatten)]
    pub registry: super::pull::RegistryFlags,
}

pub fn run(args: PlanArgs) -> CommandResult {
    gopack::log::set_verbose(args.verbose);
    let goenv = GoEnv::read()?;
    let inputs = Inputs {
        flags: &args.plan,
        image_layer: Default::default(),
        image_names: Default::default(),
        output: Default::default(),
        registry: args.registry.options(),
        selection: Default::default(),
    };
    let setup = setup(&inputs, &goenv)?;
    setup
        .warnings
        .iter()
        .for_each(|w| eprintln!("warning: {w}"));
    let mut reports = Vec::new();
    for job in &setup.jobs {
        let plan = match &job.plan {
            Some(p) => p.clone(),
            None => make_plan(&job.options.plan, &goenv)?,
        };
        let report = if args.deep && plan.problems.is_empty() {
            let cache = Cache::open_default()?;
            gopack::pipeline::plan_deep_of(cache.store(), &goenv, plan, &job.options.registry)?
        } else {
            PlanReport {
                plan,
                built: Vec::new(),
            }
        };
        reports.push(report);
    }
    if args.json {
        let doc = match reports.as_slice() {
            [one] => serde_json::to_value(one)?,
            many => serde_json::json!({ "plans": many }),
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for report in &reports {
            print!("{}", long_form(report));
            print!("{}", image_settings(report, &setup));
        }
    }
    let problems: Vec<String> = reports
        .iter()
        .flat_map(|r| r.plan.problems.iter().map(|p| p.to_string()))
        .collect();
    if !problems.is_empty() {
        anyhow::bail!("the build cannot start: {}", problems.join("\n").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// The image settings of the report's images (ports, labels…) with where each came from.
fn image_settings(report: &PlanReport, setup: &Setup) -> String {
    let mut o = String::new();
    for (dir, name, values) in &setup.image_settings {
        if !report.plan.images.iter().any(|i| &i.dir == dir) || values.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\nImage settings of {name}");
        for v in values {
            let _ = writeln!(o, "  {} {}{}", v.setting, v.value, from(&v.origins));
        }
    }
    o
}

fn from(origins: &[gopack::config::Origin]) -> String {
    let names: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
    format!(" (from {})", names.join(", "))
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
pub fn long_form(report: &PlanReport) -> String {
    let plan = &report.plan;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "gopack plan for {} ({})",
        plan.module.path,
        plan.module.root.display()
    );
    go_section(&mut o, plan);
    images_section(&mut o, plan);
    cgo_section(&mut o, plan);
    build_section(&mut o, plan);
    image_section(&mut o, plan);
    settings_section(&mut o, plan);
    files_section(&mut o, plan, !report.built.is_empty());
    for t in &plan.targets {
        if let Some(b) = report.built_for(t) {
            built_section(&mut o, t, b);
        }
    }
    list_section(&mut o, "Warnings", "!", &plan.warnings);
    let problems: Vec<String> = plan.problems.iter().map(|p| p.to_string()).collect();
    list_section(&mut o, "Problems (the build cannot start)", "x", &problems);
    o
}

fn go_section(w: &mut String, plan: &Plan) {
    let go = &plan.go;
    let _ = writeln!(w, "\nGo");
    let _ = writeln!(
        w,
        "  go.mod requires  go {}{}",
        go.required.as_deref().unwrap_or("(no go line)"),
        go.toolchain
            .as_deref()
            .map(|t| format!(", suggests toolchain {t}"))
            .unwrap_or_else(|| ", no toolchain line".into())
    );
    let _ = writeln!(
        w,
        "  installed        {} (GOTOOLCHAIN={}){}",
        go.installed,
        go.gotoolchain,
        if go.satisfied { "" } else { "  TOO OLD" }
    );
    for s in &go.environment {
        let source = s.source.describe(go.env_file.as_deref());
        let _ = writeln!(w, "  {}={}  (from {source})", s.name, s.value);
    }
    if let Some(s) = &go.suggestion {
        let _ = writeln!(w, "  ! {s}");
    }
}

fn images_section(w: &mut String, plan: &Plan) {
    if !plan.images.is_empty() {
        let _ = writeln!(w, "\nImages (one per main package)");
        for image in &plan.images {
            let _ = writeln!(
                w,
                "  {:<14} from {}  entrypoint {}  cgo {}",
                image.name,
                image.package,
                image.entrypoint.join(" "),
                word(&image.cgo.mode)
            );
        }
    }
    let _ = writeln!(w, "  platforms: {}", plan.platforms.join(", "));
}

fn cgo_mode(plan: &Plan) -> String {
    match &plan.cgo.mode {
        Some(mode) => word(mode),
        None if plan.images.is_empty() => "undecided".into(),
        None => "per binary".into(),
    }
}

fn cgo_section(w: &mut String, plan: &Plan) {
    let _ = writeln!(
        w,
        "\ncgo: {} (--cgo {})",
        cgo_mode(plan),
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
                let version = m
                    .version
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                format!("module {}{version}", m.path)
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
}

fn build_section(w: &mut String, plan: &Plan) {
    if plan.targets.is_empty() {
        return;
    }
    let _ = writeln!(w, "\ngo build, per target");
    for t in &plan.targets {
        let _ = writeln!(w, "  {} {}:\n    {}", t.image, t.platform, t.go_build);
        if let Some(cause) = &t.dynamic_cause {
            let _ = writeln!(w, "    ! dynamic: {cause}");
        }
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

fn image_section(w: &mut String, plan: &Plan) {
    let embedded = if plan.base.embedded {
        " (embedded in gopack, nothing is pulled)"
    } else {
        ""
    };
    let _ = writeln!(
        w,
        "\nBase: {}{embedded}{}",
        plan.base.image,
        plan.from_clause("base")
    );
    let _ = writeln!(w, "  why: {}", plan.base.reason);
    let _ = writeln!(
        w,
        "User: {}{}\n  why: {}",
        plan.user.user,
        plan.from_clause("user"),
        plan.user.reason
    );
    let _ = writeln!(w, "Writable by {}:", plan.writable.user);
    for p in &plan.writable.paths {
        let _ = writeln!(w, "  {}  ({})", p.path, p.why);
    }
    let _ = writeln!(w, "  read-only: {}", plan.writable.read_only);
    for d in &plan.data {
        let _ = writeln!(
            w,
            "Data: {} → {} ({}, {}{})",
            d.source.display(),
            d.dest,
            counted(d.files as u64, "file", "files"),
            counted(d.symlinks as u64, "symlink", "symlinks"),
            if d.followed.is_empty() {
                String::new()
            } else {
                format!("; followed: {}", d.followed.join(", "))
            }
        );
    }
}

fn settings_section(w: &mut String, plan: &Plan) {
    if plan.settings.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "\nSettings (flag > environment > gopack.toml [[target]] > [defaults])"
    );
    for s in &plan.settings {
        let _ = writeln!(w, "  {} {}{}", s.setting, s.value, from(&s.origins));
    }
}

/// `deep`: the targets were built, so the files come from the linked binaries; otherwise
/// `plan --deep` is worth advising.
fn files_section(w: &mut String, plan: &Plan, deep: bool) {
    let _ = writeln!(w, "\nFiles");
    if deep {
        let _ = writeln!(
            w,
            "  decided from the linked binaries: each target below lists the functions that \
             survived dead-code elimination and the files they read"
        );
    } else {
        let _ = writeln!(
            w,
            "  decided from {} (run `gopack plan --deep` to build now and see them)",
            plan.files.decided_from
        );
    }
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
}

fn list_section(w: &mut String, title: &str, mark: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(w, "\n{title}");
    for item in items {
        let _ = writeln!(w, "  {mark} {item}");
    }
}

fn built_section(w: &mut String, t: &TargetPlan, b: &BuiltTarget) {
    let linkage = if b.static_binary {
        ", static".to_string()
    } else {
        format!(
            ", DYNAMIC: interpreter {}, needs {}",
            b.interpreter.as_deref().unwrap_or("(none)"),
            b.needed_libraries.join(", ")
        )
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
    for f in b.files.iter() {
        let _ = writeln!(w, "    {} {}: {}", mark(f.included), f.files, f.reason);
    }
    for warning in &b.warnings {
        let _ = writeln!(w, "    ! {warning}");
    }
}

/// One line per decision, for `gopack build`'s text output.
/// Only the warnings of [`short_form`], in the same words (what `build -q` still says).
pub fn warnings_only(report: &PlanReport) -> String {
    short_form(report)
        .lines()
        .filter(|l| l.starts_with("plan: warning: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn short_form(report: &PlanReport) -> String {
    let plan = &report.plan;
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "plan: module {}, go {} required, {} installed",
        plan.module.path,
        plan.go.required.as_deref().unwrap_or("(any)"),
        plan.go.installed
    );
    let _ = writeln!(w, "plan: cgo {}: {}", cgo_mode(plan), plan.cgo.reason);
    for t in &plan.targets {
        let _ = writeln!(w, "plan: {} {}: {}", t.image, t.platform, t.go_build);
    }
    let _ = writeln!(
        w,
        "plan: base {}{}: {}",
        plan.base.image,
        plan.from_clause("base"),
        plan.base.reason
    );
    let _ = writeln!(
        w,
        "plan: user {}{}: {}",
        plan.user.user,
        plan.from_clause("user"),
        plan.user.reason
    );
    for s in plan
        .settings
        .iter()
        .filter(|s| !matches!(s.setting.as_str(), "base" | "user"))
    {
        let _ = writeln!(w, "plan: {} {}{}", s.setting, s.value, from(&s.origins));
    }
    for t in &plan.targets {
        let Some(b) = report.built_for(t) else {
            continue;
        };
        for f in b.files.iter() {
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
        for warning in &b.warnings {
            let _ = writeln!(w, "plan: warning: {warning}");
        }
    }
    for warning in &plan.warnings {
        let _ = writeln!(w, "plan: warning: {warning}");
    }
    o
}
