//! GO2xx: the final image — what it is based on, who it runs as, what it holds and runs.

use crate::dockerfile::Severity;
use crate::dockerfile::model::{Args, Base, CommandForm, Dockerfile, Instruction, Stage};
use crate::dockerfile::shell;

use super::facts::{
    Facts, installed_packages, is_full_distro, is_golang_image, is_shell_less,
    runs_as_root_by_default,
};
use super::{Ctx, RuleId};

fn final_from(df: &Dockerfile) -> Option<(&Stage, &Instruction)> {
    let fin = df.final_stage()?;
    Some((fin, &df.instructions[fin.from]))
}

pub(super) fn go201(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let Some((fin, from)) = final_from(f.df) else {
        return;
    };
    if let Base::Image(img) = f.df.root_base(fin.index)
        && is_golang_image(img)
        && (f.builds_go() || runs_go_run(f.df, fin))
    {
        let head = ctx.head(from);
        ctx.push(
            RuleId::GO201,
            head,
            format!(
                "the final image is based on `{}`: the Go toolchain ships with the program",
                fin.image
            ),
        );
    }
}

/// Whether the final image's command is `go run`.
fn runs_go_run(df: &Dockerfile, fin: &Stage) -> bool {
    final_command(df, fin).is_some_and(|i| {
        let w = command_words(i);
        w.windows(2).any(|p| p[0] == "go" && p[1] == "run")
    })
}

pub(super) fn go202(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let Some((fin, from)) = final_from(f.df) else {
        return;
    };
    if f.df.stages.len() == 1 && (f.builds_go() || runs_go_run(f.df, fin)) {
        let head = ctx.head(from);
        ctx.push(
            RuleId::GO202,
            head,
            "single-stage build: sources and toolchain end up in the image; build in one stage, copy the binary into scratch".into(),
        );
    }
}

/// Packages a static Go binary may need that distroless/static also has.
const STATIC_EXTRAS: &[&str] = &["ca-certificates", "tzdata"];

pub(super) fn go203(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, from)) = final_from(df) else {
        return;
    };
    let Base::Image(img) = df.root_base(fin.index) else {
        return;
    };
    let cgo_free = f.input.facts.needs_cgo == Some(false)
        || (f.input.facts.needs_cgo.is_none()
            && f.runs
                .iter()
                .any(|r| r.go.iter().any(|g| g.links() && g.cgo() == Some("0"))));
    let chain = df.stage_chain(fin.index);
    let other_packages = f
        .runs
        .iter()
        .filter(|r| r.stage.is_some_and(|s| chain.contains(&s)) && !r.onbuild)
        .flat_map(|r| r.cmds.iter().filter_map(installed_packages))
        .flatten()
        .any(|p| !STATIC_EXTRAS.contains(&p));
    if is_full_distro(img) && cgo_free && df.stages.len() > 1 && !other_packages {
        let head = ctx.head(from);
        ctx.push(
            RuleId::GO203,
            head,
            format!(
                "`{}` as final base for a static Go binary: scratch or distroless/static fits",
                fin.image
            ),
        );
    }
}

pub(super) fn go204(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for stage in &f.df.stages {
        let Base::Image(img) = &stage.base else {
            continue;
        };
        if img.unresolved || img.digest.is_some() {
            continue;
        }
        let from = &f.df.instructions[stage.from];
        let span = match &from.args {
            Args::From { image, .. } => image.span.clone(),
            _ => ctx.head(from),
        };
        let what = match img.tag.as_deref() {
            None => "has no tag",
            Some("latest") => "uses :latest",
            _ => continue,
        };
        ctx.push(
            RuleId::GO204,
            span,
            format!(
                "`{}` {what}: pin a version (and ideally a digest)",
                stage.image
            ),
        );
    }
}

pub(super) fn go214(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for stage in &f.df.stages {
        let Base::Image(img) = &stage.base else {
            continue;
        };
        let Some(tag) = img.tag.as_deref() else {
            continue;
        };
        if img.unresolved || img.digest.is_some() || tag == "latest" {
            continue;
        }
        let moving =
            tag.ends_with("-latest") || tag.starts_with("latest-") || tag.contains("-latest-");
        if moving {
            let from = &f.df.instructions[stage.from];
            let span = match &from.args {
                Args::From { image, .. } => image.span.clone(),
                _ => ctx.head(from),
            };
            ctx.push(
                RuleId::GO214,
                span,
                format!(
                    "`{}`: the tag `{tag}` moves with every release; pin a version",
                    stage.image
                ),
            );
        }
    }
}

fn user_of(i: &Instruction) -> String {
    i.text()
        .map(|t| t.value.trim().to_string())
        .unwrap_or_default()
}

pub(super) fn go205(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, from)) = final_from(df) else {
        return;
    };
    let root = df.root_base(fin.index);
    let chain = df.chain_body(fin.index);
    // Images that start as root to drop privileges themselves.
    let drops_privileges = f
        .runs
        .iter()
        .filter(|r| {
            r.stage
                .is_some_and(|s| df.stage_chain(fin.index).contains(&s))
        })
        .flat_map(|r| r.cmds.iter().filter_map(installed_packages))
        .flatten()
        .any(|p| matches!(p, "su-exec" | "gosu" | "s6" | "s6-overlay"));
    match chain.iter().rev().find(|i| i.keyword == "USER") {
        None if runs_as_root_by_default(root) && !drops_privileges => {
            let head = ctx.head(from);
            ctx.push(
                RuleId::GO205,
                head,
                "the final stage has no USER: the program runs as root".into(),
            );
        }
        Some(u) => {
            let v = user_of(u);
            let user = v.split(':').next().unwrap_or("");
            if user == "root" || user == "0" {
                let head = ctx.head(u);
                ctx.push(
                    RuleId::GO205,
                    head,
                    format!("USER {v}: the program runs as root"),
                )
                .fix = Some("USER 65532:65532".into());
            }
        }
        None => {}
    }
}

pub(super) fn go206(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for s in &df.stages {
        if !matches!(df.root_base(s.index), Base::Scratch) {
            continue;
        }
        let chain = df.chain_body(s.index);
        let copies_passwd = chain.iter().any(|i| match &i.args {
            Args::Copy { sources, dest, .. } => {
                dest.value.contains("/etc/passwd")
                    || dest.value == "/etc/"
                    || dest.value == "/etc"
                    || sources.iter().any(|s| s.value.ends_with("/etc/passwd"))
            }
            _ => false,
        });
        for u in df.stage_body(s).iter().filter(|i| i.keyword == "USER") {
            let v = user_of(u);
            let named = v.split(':').any(|p| {
                !p.is_empty() && !p.starts_with('$') && !p.chars().all(|c| c.is_ascii_digit())
            });
            if named && !copies_passwd {
                let head = ctx.head(u);
                ctx.push(
                    RuleId::GO206,
                    head,
                    format!("USER {v} on scratch: there is no /etc/passwd to resolve the name; use numeric IDs"),
                )
                .fix = Some("USER 65532:65532".into());
            }
        }
    }
}

pub(super) fn go207(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    if !is_shell_less(df.root_base(fin.index)) {
        return;
    }
    for i in df.stage_body(fin) {
        if !matches!(i.keyword, "CMD" | "ENTRYPOINT") {
            continue;
        }
        if let Args::Command {
            form: CommandForm::Shell(s),
            span,
            ..
        } = &i.args
        {
            let words = shell::split_words(s);
            let fix = format!(
                "[{}]",
                words
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            ctx.push(
                RuleId::GO207,
                span.clone(),
                format!(
                    "shell-form {} on `{}`: there is no /bin/sh, the container will not start",
                    i.keyword, fin.image
                ),
            )
            .fix = Some(fix);
        }
    }
}

pub(super) fn go208(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, from)) = final_from(df) else {
        return;
    };
    let needs_tls = f.input.facts.needs_tls;
    if !matches!(df.root_base(fin.index), Base::Scratch) || needs_tls == Some(false) {
        return;
    }
    let has_ca = df.chain_body(fin.index).iter().any(|i| match &i.args {
        Args::Copy { sources, dest, .. } => sources.iter().chain([dest]).any(|s| {
            s.value.contains("ca-certificates")
                || s.value.contains("/etc/ssl")
                || s.value.contains("ca-bundle")
                || s.value.contains("cert.pem")
        }),
        _ => false,
    });
    if has_ca {
        return;
    }
    let note = if needs_tls == Some(true) {
        "the program makes TLS connections"
    } else {
        "if the program makes TLS connections"
    };
    let head = ctx.head(from);
    let finding = ctx.push(
        RuleId::GO208,
        head,
        format!("scratch final image without a CA bundle: {note}, every handshake will fail"),
    );
    if needs_tls == Some(true) {
        finding.severity = Severity::Warning;
    }
}

pub(super) fn go209(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    let chain = df.stage_chain(fin.index);
    for run in f
        .runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| chain.contains(&s)))
    {
        if run.cache_mount {
            continue;
        }
        let has = |p: &dyn Fn(&[String]) -> bool| run.cmds.iter().any(|c| p(&c.words));
        let script = &run.script;
        let mut problems = vec![];
        if has(&|w| {
            w.first().is_some_and(|p| p == "apk")
                && w.iter().any(|s| s == "add")
                && !w.iter().any(|x| x == "--no-cache")
        }) && !script.contains("/var/cache/apk")
        {
            problems.push("`apk add` without --no-cache");
        }
        if has(&|w| {
            w.first().is_some_and(|p| p == "apk") && w.get(1).is_some_and(|s| s == "update")
        }) && !script.contains("/var/cache/apk")
        {
            problems.push("`apk update` (the package index stays in /var/cache/apk)");
        }
        if has(&|w| {
            w.first().is_some_and(|p| p == "apt-get" || p == "apt")
                && w.iter().any(|s| s == "install")
        }) && !script.contains("/var/lib/apt/lists")
        {
            problems.push("`apt-get install` without `rm -rf /var/lib/apt/lists/*`");
        }
        for pm in ["yum", "dnf", "microdnf"] {
            if has(&|w| w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "install"))
                && !has(&|w| w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "clean"))
            {
                problems.push(match pm {
                    "yum" => "`yum install` without `yum clean all`",
                    "dnf" => "`dnf install` without `dnf clean all`",
                    _ => "`microdnf install` without `microdnf clean all`",
                });
            }
        }
        let inherited = run.stage != Some(fin.index);
        for p in problems {
            let head = ctx.head(run.outer);
            let where_ = if inherited {
                format!(
                    " (stage `{}`, which the final stage is built on)",
                    df.stages[run.stage.unwrap_or(0)]
                        .name
                        .as_deref()
                        .unwrap_or("?")
                )
            } else {
                String::new()
            };
            ctx.push(
                RuleId::GO209,
                head,
                format!("{p}: the package cache stays in the final image{where_}"),
            );
        }
    }
}

/// The command of the final image: the last ENTRYPOINT along the chain, else the last CMD.
fn final_command<'a>(df: &'a Dockerfile, fin: &Stage) -> Option<&'a Instruction> {
    let chain = df.chain_body(fin.index);
    chain
        .iter()
        .rev()
        .find(|i| i.keyword == "ENTRYPOINT")
        .or_else(|| chain.iter().rev().find(|i| i.keyword == "CMD"))
        .copied()
}

fn command_words(i: &Instruction) -> Vec<String> {
    match &i.args {
        Args::Command {
            form: CommandForm::Exec(w),
            ..
        } => w.clone(),
        Args::Command {
            form: CommandForm::Shell(s),
            ..
        } => shell::split_words(s),
        _ => vec![],
    }
}

pub(super) fn go210(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    for i in df
        .chain_body(fin.index)
        .into_iter()
        .filter(|i| matches!(i.keyword, "CMD" | "ENTRYPOINT"))
    {
        let w = command_words(i);
        let go_at = w.iter().position(|x| x == "go" || x.ends_with("/go"));
        if go_at.is_some_and(|p| w.get(p + 1).is_some_and(|s| s == "run")) {
            let head = ctx.head(i);
            ctx.push(
                RuleId::GO210,
                head,
                format!(
                    "{} runs `go run`: the program is compiled at every container start",
                    i.keyword
                ),
            );
        }
    }
}

pub(super) fn go211(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, from)) = final_from(df) else {
        return;
    };
    if final_command(df, fin).is_some() {
        return;
    }
    let known_base = match df.root_base(fin.index) {
        Base::Scratch => true,
        Base::Image(img) => {
            !img.unresolved
                && (is_full_distro(img) || is_golang_image(img) || img.name.contains("distroless"))
        }
        Base::Stage(_) => false,
    };
    // A final stage that copies a directory or a glob holds several programs: which one to
    // run is the user's choice at `docker run`.
    let several = df.chain_body(fin.index).iter().any(|i| match &i.args {
        Args::Copy { sources, .. } if i.flag("from").is_some() => {
            sources.len() > 1
                || sources
                    .iter()
                    .any(|s| s.value.ends_with('/') || s.value.contains('*'))
        }
        _ => false,
    });
    if known_base && !several && (f.builds_go() || f.final_copies_from_stage()) {
        let head = ctx.head(from);
        ctx.push(
            RuleId::GO211,
            head,
            "the final image has no ENTRYPOINT or CMD: it runs the base image's default, not the program".into(),
        );
    }
}

/// `a/./b//c/` → `a/b/c`.
fn normalize(p: &str) -> String {
    let abs = p.starts_with('/');
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let joined = parts.join("/");
    if abs { format!("/{joined}") } else { joined }
}

fn join(base: &str, p: &str) -> String {
    if p.starts_with('/') {
        normalize(p)
    } else {
        normalize(&format!("{base}/{p}"))
    }
}

fn literal(p: &str) -> bool {
    !p.is_empty() && !p.contains(['$', '*', '?', '['])
}

/// The working directory after each instruction of a stage chain (`None`: unknown).
fn workdirs(df: &Dockerfile, stage: usize) -> Vec<(&Instruction, Option<String>)> {
    let mut wd = match df.root_base(stage) {
        Base::Scratch => Some("/".to_string()),
        Base::Image(img) if is_golang_image(img) => Some("/go".to_string()),
        Base::Image(img) if !img.unresolved && is_full_distro(img) => Some("/".to_string()),
        Base::Image(img) if img.name.contains("distroless") => Some("/".to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    for i in df.chain_body(stage) {
        if i.keyword == "WORKDIR"
            && let Some(t) = i.text()
        {
            let v = t.value.trim().trim_matches('"');
            wd = if !literal(v) {
                None
            } else if v.starts_with('/') {
                Some(normalize(v))
            } else {
                wd.map(|w| join(&w, v))
            };
        }
        out.push((i, wd.clone()));
    }
    out
}

/// Directories of a stage that hold the build context (`COPY . <dir>`).
fn source_dirs(df: &Dockerfile, stage: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (i, wd) in workdirs(df, stage) {
        if let Args::Copy { sources, dest, .. } = &i.args
            && i.flag("from").is_none()
            && sources
                .iter()
                .any(|s| matches!(s.value.as_str(), "." | "./"))
            && literal(&dest.value)
            && let Some(d) = if dest.value.starts_with('/') {
                Some(normalize(&dest.value))
            } else {
                wd.map(|w| join(&w, &dest.value))
            }
        {
            out.push(d);
        }
    }
    out
}

pub(super) fn go212(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    if df.stages.len() < 2 || !f.builds_go() {
        return;
    }
    for i in df.stage_body(fin) {
        let Args::Copy { sources, .. } = &i.args else {
            continue;
        };
        let from = i.flag("from").and_then(|x| x.value.as_deref());
        let whole = match from {
            None => sources
                .iter()
                .any(|s| matches!(s.value.as_str(), "." | "./")),
            Some(r) => match df.stage_by_ref(r) {
                Some(s) if s != fin.index => {
                    let dirs = source_dirs(df, s);
                    sources.iter().any(|src| {
                        literal(&src.value) && src.value.starts_with('/') && {
                            let p = normalize(&src.value);
                            p != "/"
                                && dirs
                                    .iter()
                                    .any(|d| *d == p || d.starts_with(&format!("{p}/")))
                        }
                    })
                }
                _ => false,
            },
        };
        if whole {
            let head = ctx.head(i);
            ctx.push(
                RuleId::GO212,
                head,
                "the source tree is copied into the final image: copy the built binary only".into(),
            );
        }
    }
}

/// Commands a build stage may run without creating or moving the binary.
const HARMLESS: &[&str] = &[
    "go",
    "apk",
    "apt-get",
    "apt",
    "mkdir",
    "echo",
    "printf",
    "git",
    "export",
    "chmod",
    "chown",
    "rm",
    "set",
    "test",
    "[",
    "true",
    "adduser",
    "addgroup",
    "useradd",
    "groupadd",
    "update-ca-certificates",
    "xx-go",
    "xx-verify",
    "xx-apk",
    "xx-apt",
    "xx-apt-get",
];

pub(super) fn go213(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    let Some(cmd) = final_command(df, fin) else {
        return;
    };
    let Some(entry) = command_words(cmd).into_iter().next() else {
        return;
    };
    let fin_wds = workdirs(df, fin.index);
    // Where the command runs from: the path, resolved against the final WORKDIR.
    let target = if entry.starts_with('/') {
        normalize(&entry)
    } else if entry.contains('/')
        && let Some(Some(w)) = fin_wds.last().map(|(_, w)| w.clone())
    {
        join(&w, &entry)
    } else {
        return;
    };
    if !literal(&target) {
        return;
    }
    for (i, wd) in &fin_wds {
        let Some((s, from_path)) = copied_to(df, i, wd.as_deref(), &target) else {
            continue;
        };
        let Some(outputs) = stage_outputs(f, s).filter(|o| !o.is_empty()) else {
            continue;
        };
        let made = outputs.iter().any(|o| {
            *o == from_path
                || o.starts_with(&format!("{from_path}/"))
                || from_path.starts_with(&format!("{o}/"))
        });
        if !made {
            let head = ctx.head(cmd);
            ctx.push(
                RuleId::GO213,
                head,
                format!(
                    "{} runs {target}, copied from {from_path} in stage `{}`, but that stage's go build writes {}",
                    cmd.keyword,
                    df.stages[s].name.as_deref().unwrap_or("?"),
                    outputs.join(", ")
                ),
            );
        }
    }
}

/// When `i` is a `COPY --from=<stage>` (all paths literal) that puts a file at `target`: the
/// stage and the path copied from it.
fn copied_to(
    df: &Dockerfile,
    i: &Instruction,
    wd: Option<&str>,
    target: &str,
) -> Option<(usize, String)> {
    let Args::Copy { sources, dest, .. } = &i.args else {
        return None;
    };
    let s = i
        .flag("from")
        .and_then(|x| x.value.as_deref())
        .and_then(|r| df.stage_by_ref(r))?;
    if !literal(&dest.value) || sources.iter().any(|x| !literal(&x.value)) {
        return None;
    }
    let d = if dest.value.starts_with('/') {
        dest.value.clone()
    } else {
        format!("{}/{}", wd?, dest.value)
    };
    sources.iter().find_map(|src| {
        let base = src
            .value
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let lands = if d.ends_with('/') || sources.len() > 1 {
            join(&d, base)
        } else {
            normalize(&d)
        };
        (lands == target).then(|| (s, normalize(&src.value)))
    })
}

/// The files a stage's go builds write (`-o`, resolved), or `None` when something else in the
/// stage may create or move files (a script, make, mv, a COPY of other files…).
fn stage_outputs(f: &Facts<'_>, stage: usize) -> Option<Vec<String>> {
    let df = f.df;
    let mut out = Vec::new();
    for (i, wd) in workdirs(df, stage) {
        if i.keyword != "RUN" {
            continue;
        }
        let run = f.runs.iter().find(|r| std::ptr::eq(r.outer, i))?;
        if !run.shell_form
            || run
                .cmds
                .iter()
                .any(|c| c.program().is_some_and(|p| !HARMLESS.contains(&p)))
        {
            return None;
        }
        for g in run.go.iter().filter(|g| g.links()) {
            let o = g.flag_value("o")?;
            if !literal(&o) {
                return None;
            }
            let p = if o.starts_with('/') {
                normalize(&o)
            } else {
                join(wd.as_deref()?, &o)
            };
            out.push(p);
        }
    }
    Some(out)
}
