//! GO2xx: the final image — what it is based on, who it runs as, what it holds and runs.

use crate::dockerfile::Severity;
use crate::dockerfile::model::{Args, Base, CommandForm, Dockerfile, Instruction, Stage};
use crate::dockerfile::shell;

use super::facts::{
    Facts, Linkage, Run, golang_tag_version, installed_packages, is_full_distro, is_golang_image,
    is_shell_less, runs_as_root_by_default,
};
use super::{Ctx, RuleId};

fn final_from(df: &Dockerfile) -> Option<(&Stage, &Instruction)> {
    let fin = df.final_stage()?;
    Some((fin, &df.instructions[fin.from]))
}

/// Live-reload tools: a last stage running one is a development image.
const DEV_RUNNERS: &[&str] = &[
    "air",
    "reflex",
    "CompileDaemon",
    "gin",
    "realize",
    "watchexec",
    "modd",
    "gow",
];

/// The program the final image runs (the first word of its ENTRYPOINT, else CMD), base name.
fn final_program(df: &Dockerfile, fin: &Stage) -> Option<String> {
    let w = command_words(final_command(df, fin)?);
    let first = w.into_iter().next()?;
    Some(first.rsplit('/').next().unwrap_or(&first).to_string())
}

/// Whether the last stage is a live-reload development image (`CMD ["air"]`).
pub(super) fn is_dev_image(df: &Dockerfile, fin: &Stage) -> bool {
    final_program(df, fin).is_some_and(|p| DEV_RUNNERS.contains(&p.as_str()))
}

/// Whether the final stage's chain builds a program through make or a script and its command
/// names a program (not a shell, not go): the image runs what it built.
fn runs_tool_built_program(f: &Facts<'_>, fin: &Stage) -> bool {
    let chain = f.df.stage_chain(fin.index);
    let tool_build = f
        .runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| chain.contains(&s)))
        .any(|r| r.cmds.iter().any(super::go::build_tool));
    let names_program = final_program(f.df, fin).is_some_and(|p| {
        !matches!(
            p.as_str(),
            "sh" | "bash"
                | "ash"
                | "dash"
                | "zsh"
                | "go"
                | "true"
                | "sleep"
                | "tail"
                | "cat"
                | "echo"
                | "env"
        )
    });
    tool_build && names_program
}

/// Whether the final image is a Go toolchain image that ships a program it builds or runs.
fn golang_final(f: &Facts<'_>, fin: &Stage) -> bool {
    f.builds_go() || runs_go_run(f.df, fin) || runs_tool_built_program(f, fin)
}

pub(super) fn go201(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let Some((fin, from)) = final_from(f.df) else {
        return;
    };
    if let Base::Image(img) = f.df.root_base(fin.index)
        && is_golang_image(img)
        && golang_final(f, fin)
    {
        let head = ctx.head(from);
        let message = match final_program(f.df, fin).filter(|_| is_dev_image(f.df, fin)) {
            Some(p) => format!(
                "the last stage is a development image (`{p}` on `{}`): `docker build` without --target builds it, Go toolchain and sources included; put the production stage last",
                fin.image
            ),
            None => format!(
                "the final image is based on `{}`: the Go toolchain ships with the program",
                fin.image
            ),
        };
        ctx.push(RuleId::GO201, head, message);
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
    if f.df.stages.len() == 1 && golang_final(f, fin) {
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

/// Stages whose files the final stage copies (`COPY --from`), with their chains.
fn feeding_stages(df: &Dockerfile, fin: &Stage) -> Vec<usize> {
    let mut out = vec![];
    for i in df.chain_body(fin.index) {
        if let Some(s) = i
            .flag("from")
            .and_then(|x| x.value.as_deref())
            .and_then(|r| df.stage_by_ref(r))
        {
            out.extend(df.stage_chain(s));
        }
    }
    out
}

/// Whether the final command runs a file that a COPY from the build context put there.
fn runs_context_file(df: &Dockerfile, fin: &Stage) -> bool {
    let Some(cmd) = final_command(df, fin) else {
        return false;
    };
    let Some(entry) = command_words(cmd).into_iter().next() else {
        return false;
    };
    let name = entry.rsplit('/').next().unwrap_or(&entry).to_string();
    df.chain_body(fin.index).iter().any(|i| match &i.args {
        Args::Copy { sources, dest, .. } if i.flag("from").is_none() => {
            let d = dest.value.trim_end_matches('/');
            d.rsplit('/').next() == Some(name.as_str())
                || (dest.value.ends_with('/')
                    && sources
                        .iter()
                        .any(|s| s.value.rsplit('/').next() == Some(name.as_str())))
        }
        _ => false,
    })
}

pub(super) fn go203(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, from)) = final_from(df) else {
        return;
    };
    let Base::Image(img) = df.root_base(fin.index) else {
        return;
    };
    let feeding = feeding_stages(df, fin);
    let builds: Vec<Linkage> = f
        .runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| feeding.contains(&s)))
        .flat_map(|r| {
            r.go.iter()
                .filter(|g| g.links())
                .map(move |g| f.linkage(r, g))
        })
        .collect();
    let cgo_free = f.input.facts.needs_cgo == Some(false)
        || (f.input.facts.needs_cgo.is_none()
            && builds.contains(&Linkage::Static)
            && !builds.contains(&Linkage::Dynamic));
    let chain = df.stage_chain(fin.index);
    let other_packages = f
        .runs
        .iter()
        .filter(|r| r.stage.is_some_and(|s| chain.contains(&s)) && !r.onbuild)
        .flat_map(|r| r.cmds.iter().filter_map(installed_packages))
        .flatten()
        .any(|p| !STATIC_EXTRAS.contains(&p));
    if is_full_distro(img)
        && cgo_free
        && df.stages.len() > 1
        && !other_packages
        && !runs_context_file(df, fin)
    {
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
        if img.digest.is_some() {
            continue;
        }
        let from = &f.df.instructions[stage.from];
        let span = match &from.args {
            Args::From { image, .. } => image.span.clone(),
            _ => ctx.head(from),
        };
        // A variable may hold the tag; a literal `:latest` moves whatever the name is.
        let message = match img.tag.as_deref() {
            Some("latest") => format!(
                "`{}` uses :latest: pin a version (and ideally a digest)",
                stage.image
            ),
            _ if img.unresolved => continue,
            None => format!(
                "`{}` has no tag: pin a version (and ideally a digest)",
                stage.image
            ),
            // A moving `-latest` tag is GO214's.
            Some(t)
                if is_golang_image(img)
                    && golang_tag_version(t).is_none()
                    && !t.split('-').any(|p| p == "latest") =>
            {
                // `1`, `1-alpine`: the major only; `alpine`, `bookworm`: no version at all.
                let (what, variant) = match t.split_once('-') {
                    _ if t.bytes().all(|b| b.is_ascii_digit()) => ("pins the Go major only", ""),
                    Some((major, v)) if major.bytes().all(|b| b.is_ascii_digit()) => {
                        ("pins the Go major only", v)
                    }
                    _ => ("names no Go version", t),
                };
                let dash = if variant.is_empty() { "" } else { "-" };
                format!(
                    "`{}` {what}: the toolchain changes with every Go release; pin a Go minor (golang:1.N.P{dash}{variant})",
                    stage.image
                )
            }
            _ => continue,
        };
        ctx.push(RuleId::GO204, span, message);
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
        if img.digest.is_some() || tag == "latest" {
            continue;
        }
        // Only the literal part counts when a build argument has no default.
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

/// The stage that is deployed when the last one is a live-reload development image: the last
/// earlier stage with a command that is neither a golang image nor a development image.
fn production_stage<'a>(df: &'a Dockerfile, dev: &Stage) -> Option<&'a Stage> {
    df.stages[..dev.index].iter().rev().find(|s| {
        final_command(df, s).is_some()
            && !is_dev_image(df, s)
            && !matches!(df.root_base(s.index), Base::Image(img) if is_golang_image(img))
    })
}

fn stage_label(s: &Stage) -> String {
    s.name.clone().unwrap_or_else(|| s.index.to_string())
}

pub(super) fn go205(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((last, _)) = final_from(df) else {
        return;
    };
    // A live-reload development image is not deployed (GO201 asks to put production last): the
    // production stage before it is what runs.
    let (fin, whose) = if is_dev_image(df, last) {
        match production_stage(df, last) {
            Some(p) => (p, format!("the production stage `{}`", stage_label(p))),
            None => return,
        }
    } else {
        (last, "the final stage".to_string())
    };
    let from = &df.instructions[fin.from];
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
        .any(|p| {
            matches!(p, "su-exec" | "gosu" | "s6" | "s6-overlay")
                // Network administration (kube-vip, CNI agents) needs root's capabilities.
                || matches!(p, "iptables" | "ip6tables" | "nftables" | "ipset" | "ipvsadm" | "iproute2")
        });
    // A multi-stage file whose last stage is a golang build stage with no command is a build
    // pipeline (binaries are copied out, or built with --target), not a runtime image.
    let build_only = df.stages.len() > 1
        && matches!(root, Base::Image(img) if is_golang_image(img))
        && final_command(df, fin).is_none();
    if build_only {
        return;
    }
    match chain.iter().rev().find(|i| i.keyword == "USER") {
        None if runs_as_root_by_default(root) && !drops_privileges => {
            let head = ctx.head(from);
            ctx.push(
                RuleId::GO205,
                head,
                format!("{whose} has no USER: the program runs as root"),
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

/// Whether a stage chain puts an /etc/passwd in place.
fn copies_passwd(df: &Dockerfile, stage: usize) -> bool {
    df.chain_body(stage).iter().any(|i| match &i.args {
        Args::Copy { sources, dest, .. } => {
            dest.value.contains("/etc/passwd")
                || dest.value == "/etc/"
                || dest.value == "/etc"
                || sources.iter().any(|s| s.value.ends_with("/etc/passwd"))
        }
        _ => false,
    })
}

/// `USER name`, `USER 1000:group`: a part that is a literal name, not a number.
fn is_named(user: &str) -> bool {
    user.split(':')
        .any(|p| !p.is_empty() && !p.contains('$') && !p.chars().all(|c| c.is_ascii_digit()))
}

pub(super) fn go206(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for s in &df.stages {
        if !matches!(df.root_base(s.index), Base::Scratch) {
            continue;
        }
        let copies_passwd = copies_passwd(df, s.index);
        for u in df.stage_body(s).iter().filter(|i| i.keyword == "USER") {
            let v = user_of(u);
            if is_named(&v) && !copies_passwd {
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

/// What a RUN leaves of the package manager's cache: (offset of the command, what it does,
/// what stays behind).
fn package_cache_problems(run: &Run<'_>) -> Vec<(usize, &'static str, &'static str)> {
    // (offset of the command, what it does, what stays behind)
    let find =
        |p: &dyn Fn(&[String]) -> bool| run.cmds.iter().find(|c| p(&c.words)).map(|c| c.offset);
    let script = &run.script;
    let cache = "the package cache stays in the final image";
    let mut problems: Vec<(usize, &'static str, &'static str)> = vec![];
    if let Some(at) = find(&|w| {
        w.first().is_some_and(|p| p == "apk")
            && w.iter().any(|s| s == "add")
            && !w.iter().any(|x| x == "--no-cache")
    })
    .filter(|_| !script.contains("/var/cache/apk"))
    {
        problems.push((at, "`apk add` without --no-cache", cache));
    }
    if let Some(at) =
        find(&|w| w.first().is_some_and(|p| p == "apk") && w.get(1).is_some_and(|s| s == "update"))
            .filter(|_| !script.contains("/var/cache/apk"))
    {
        problems.push((
            at,
            "`apk update` without removing /var/cache/apk",
            "the package index stays in the final image",
        ));
    }
    if let Some(at) = find(&|w| {
        w.first().is_some_and(|p| p == "apt-get" || p == "apt") && w.iter().any(|s| s == "install")
    })
    .filter(|_| !script.contains("/var/lib/apt/lists"))
    {
        problems.push((
            at,
            "`apt-get install` without `rm -rf /var/lib/apt/lists/*`",
            "the package lists stay in the final image",
        ));
    }
    for pm in ["yum", "dnf", "microdnf"] {
        if let Some(at) =
            find(&|w| w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "install"))
            && find(&|w| w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "clean"))
                .is_none()
        {
            let what = match pm {
                "yum" => "`yum install` without `yum clean all`",
                "dnf" => "`dnf install` without `dnf clean all`",
                _ => "`microdnf install` without `microdnf clean all`",
            };
            problems.push((at, what, cache));
        }
    }
    problems
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
        let problems = package_cache_problems(run);
        let inherited = run.stage != Some(fin.index);
        for (at, what, stays) in problems {
            let span = ctx.at(run, at);
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
            ctx.push(RuleId::GO209, span, format!("{what}: {stays}{where_}"));
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
    if df.stages.len() < 2 || !f.builds_go() || is_dev_image(df, fin) {
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

/// The numeric IDs of well-known user names, and of users the chain creates with an explicit
/// UID (`adduser -u 10001 app`, `useradd --uid 10001 app`).
fn numeric_user(f: &Facts<'_>, stage: usize, name: &str) -> Option<String> {
    match name {
        "nonroot" => return Some("65532".into()),
        "nobody" => return Some("65534".into()),
        _ => {}
    }
    let chain = f.df.stage_chain(stage);
    f.runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| chain.contains(&s)))
        .flat_map(|r| r.cmds.iter())
        .filter(|c| matches!(c.program(), Some("adduser" | "useradd")))
        .filter(|c| c.words.last().is_some_and(|w| w == name))
        .find_map(|c| {
            let w = &c.words;
            let i = w
                .iter()
                .position(|x| matches!(x.as_str(), "-u" | "--uid"))?;
            w.get(i + 1)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .cloned()
        })
}

pub(super) fn go215(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some((fin, _)) = final_from(df) else {
        return;
    };
    // A name on scratch without /etc/passwd is GO206's (the container does not start).
    if matches!(df.root_base(fin.index), Base::Scratch) && !copies_passwd(df, fin.index) {
        return;
    }
    let chain = df.chain_body(fin.index);
    let Some(u) = chain.iter().rev().find(|i| i.keyword == "USER") else {
        return;
    };
    let v = user_of(u);
    let mut parts = v.splitn(2, ':');
    let user = parts.next().unwrap_or("");
    let group = parts.next();
    if !is_named(&v) || user == "root" {
        return;
    }
    let id = |p: &str| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            Some(p.to_string())
        } else {
            numeric_user(f, fin.index, p)
        }
    };
    let fix = match (id(user), group.map(id)) {
        (Some(u), None) => Some(u),
        (Some(u), Some(Some(g))) => Some(format!("{u}:{g}")),
        _ => None,
    };
    let hint = fix
        .as_deref()
        .map_or("use numeric IDs".to_string(), |n| format!("use USER {n}"));
    let head = ctx.head(u);
    ctx.push(
        RuleId::GO215,
        head,
        format!(
            "USER {v} is a name: Kubernetes runAsNonRoot cannot verify it is not root and refuses the pod unless runAsUser is set; {hint}"
        ),
    )
    .fix = fix.map(|n| format!("USER {n}"));
}

/// Whether a package name is a development package (headers, static libraries, pkg-config).
fn is_dev_package(name: &str) -> bool {
    name.ends_with("-dev") || name.ends_with("-devel")
}

pub(super) fn go216(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let Some((fin, _)) = final_from(f.df) else {
        return;
    };
    // A final image that compiles (a C compiler, a Go toolchain, a live-reload dev image) needs
    // the headers; GO201 speaks about those.
    let builds = f.stages[fin.index].c_compiler == Some(true)
        || matches!(f.df.root_base(fin.index), Base::Image(img) if is_golang_image(img))
        || is_dev_image(f.df, fin);
    if builds {
        return;
    }
    let chain = f.df.stage_chain(fin.index);
    for run in f
        .runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| chain.contains(&s)))
    {
        // Build dependencies removed in the same RUN (`apk del`, `apt-get purge`) do not stay.
        let removes = run.cmds.iter().any(|c| {
            let w: Vec<&str> = c.words.iter().map(String::as_str).collect();
            matches!(w.as_slice(), ["apk", "del", ..])
                || matches!(w.as_slice(), ["apt-get" | "apt" | "yum" | "dnf" | "microdnf", verb, ..]
                    if matches!(*verb, "remove" | "purge" | "autoremove"))
        });
        if removes {
            continue;
        }
        for c in &run.cmds {
            let Some(pkgs) = installed_packages(c) else {
                continue;
            };
            let dev: Vec<&str> = pkgs.into_iter().filter(|p| is_dev_package(p)).collect();
            if dev.is_empty() {
                continue;
            }
            let span = ctx.at(run, c.offset);
            ctx.push(
                RuleId::GO216,
                span,
                format!(
                    "`{}` in the final image: headers and static libraries are for building; the program needs only the runtime library",
                    dev.join(" ")
                ),
            );
        }
    }
}
