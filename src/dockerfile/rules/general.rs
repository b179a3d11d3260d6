//! GO3xx: Dockerfile essentials every reviewer checks (the hadolint rules teams rely on).

use crate::dockerfile::model::{Args, Spanned, expand_args, parse_assignments};
use crate::dockerfile::shell;

use super::facts::Facts;
use super::{Ctx, RuleId};

pub(super) fn go301(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let special = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.contains("://")
            || l.starts_with("git@")
            || [
                ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
            ]
            .iter()
            .any(|e| l.ends_with(e))
            || s.is_empty()
    };
    for inst in f.df.instructions.iter().filter(|i| i.keyword == "ADD") {
        let Args::Copy { sources, .. } = &inst.args else {
            continue;
        };
        if !sources.is_empty() && !sources.iter().any(|s| special(&s.value)) {
            // The fix replaces the keyword only.
            let start = inst.span.start;
            ctx.push(
                RuleId::GO301,
                start..start + "ADD".len(),
                "ADD for local files: use COPY".into(),
            )
            .fix = Some("COPY".into());
        }
    }
}

pub(super) fn go302(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for inst in f.df.instructions.iter().filter(|i| i.keyword == "WORKDIR") {
        let Some(t) = inst.text() else { continue };
        let v = t.value.trim_matches('"');
        let windows = v.len() > 1 && v.as_bytes()[1] == b':';
        if !v.starts_with('/') && !v.starts_with('$') && !windows {
            ctx.push(
                RuleId::GO302,
                t.span.clone(),
                format!("WORKDIR `{v}` is relative: use an absolute path"),
            )
            .fix = Some(format!("/{v}"));
        }
    }
}

pub(super) fn go303(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for stage in &f.df.stages {
        for kw in ["CMD", "ENTRYPOINT"] {
            let all: Vec<_> =
                f.df.stage_body(stage)
                    .iter()
                    .filter(|i| i.keyword == kw)
                    .collect();
            for i in all.iter().skip(1) {
                let head = ctx.head(i);
                ctx.push(
                    RuleId::GO303,
                    head,
                    format!("more than one {kw} in this stage: only the last one takes effect"),
                );
            }
        }
    }
}

pub(super) fn go304(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for inst in f.df.instructions.iter().filter(|i| i.keyword == "EXPOSE") {
        let Args::List(ports) = &inst.args else {
            continue;
        };
        for p in ports {
            let v = p.value.as_str();
            if v.contains('$') {
                continue;
            }
            let (port, proto) = v.split_once('/').unwrap_or((v, "tcp"));
            let proto_ok = matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp");
            let valid_one = |s: &str| s.parse::<u32>().is_ok_and(|n| n <= 65535);
            let ports_ok = match port.split_once('-') {
                Some((a, b)) => valid_one(a) && valid_one(b),
                None => valid_one(port),
            };
            if !(proto_ok && ports_ok) {
                ctx.push(
                    RuleId::GO304,
                    p.span.clone(),
                    format!("`{v}` is not a valid port (0-65535[/tcp|udp|sctp])"),
                );
            }
        }
    }
}

pub(super) fn go305(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for inst in
        f.df.instructions
            .iter()
            .filter(|i| i.keyword == "MAINTAINER")
    {
        let who = inst.text().map(|t| t.value.clone()).unwrap_or_default();
        let head = ctx.head(inst);
        ctx.push(
            RuleId::GO305,
            head,
            "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors".into(),
        )
        .fix = Some(format!(
            "LABEL org.opencontainers.image.authors=\"{}\"",
            who.replace('"', "\\\"")
        ));
    }
}

/// Optimal string alignment distance, for "did you mean" on stage names.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

pub(super) fn go306(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for stage in &df.stages {
        for inst in df.stage_body(stage) {
            let Some(flag) = inst.flag("from").filter(|_| inst.keyword == "COPY") else {
                continue;
            };
            let Some(from) = flag.value.as_deref() else {
                continue;
            };
            let span = flag.span.clone();
            let from_expanded = expand_args(from, &df.global_args);
            if let Ok(n) = from_expanded.parse::<usize>() {
                if n >= stage.index {
                    ctx.push(
                        RuleId::GO306,
                        span,
                        format!("`--from={n}` does not refer to an earlier stage"),
                    );
                }
                continue;
            }
            match df.stage_by_ref(&from_expanded) {
                Some(i) if i == stage.index => {
                    ctx.push(
                        RuleId::GO306,
                        span,
                        format!("`--from={from}` copies from the stage it is in"),
                    );
                }
                Some(i) if i > stage.index => {
                    ctx.push(
                        RuleId::GO306,
                        span,
                        format!("`--from={from}` refers to a later stage"),
                    );
                }
                Some(_) => {}
                None => {
                    // Any other name is an image reference; only a near miss of a stage name
                    // is a typo.
                    let lower = from_expanded.to_ascii_lowercase();
                    let near = df.stages[..stage.index]
                        .iter()
                        .filter_map(|s| s.name.as_deref())
                        .find(|n| {
                            let d = distance(&lower, &n.to_ascii_lowercase());
                            d > 0 && d <= 2 && n.len() > 3
                        });
                    if let Some(name) = near {
                        ctx.push(
                            RuleId::GO306,
                            span,
                            format!("`--from={from}` names no stage (did you mean `{name}`?); it would be pulled as an image"),
                        )
                        .fix = Some(format!("--from={name}"));
                    }
                }
            }
        }
    }
}

/// GO307's test: an environment variable or build argument named like a secret (a password,
/// token or key), and not a reference to one (`…_FILE`, `…_PATH`, `…_URL`…). Also used by
/// `gopack build --env`.
pub fn looks_like_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let secretish = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|s| upper.contains(s));
    let indirect = ["_FILE", "_PATH", "_DIR", "_URL", "_ID"]
        .iter()
        .any(|s| upper.ends_with(s));
    secretish && !indirect
}

fn check_secrets(ctx: &mut Ctx<'_>, keyword: &str, t: &Spanned) {
    for (name, value) in parse_assignments(&t.value) {
        if !looks_like_secret(&name) {
            continue;
        }
        // An ARG without a value is still passed with --build-arg and lands in the history.
        if keyword == "ENV" && value.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        ctx.push(
            RuleId::GO307,
            t.span.clone(),
            format!("{keyword} `{name}` looks like a secret: it is stored in the image; use RUN --mount=type=secret"),
        );
    }
}

pub(super) fn go307(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for inst in
        f.df.instructions
            .iter()
            .filter(|i| matches!(i.keyword, "ARG" | "ENV"))
    {
        if let Some(t) = inst.text() {
            check_secrets(ctx, inst.keyword, t);
        }
    }
}

pub(super) fn go308(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for run in f.runs.iter().filter(|r| r.shell_form) {
        if run
            .cmds
            .iter()
            .any(|c| c.program() == Some("cd") && !c.subshell)
        {
            let head = ctx.head(run.outer);
            ctx.push(
                RuleId::GO308,
                head,
                "`cd` in RUN: use WORKDIR to change directory".into(),
            );
        }
    }
}

pub(super) fn go309(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for stage in &df.stages {
        // A non-POSIX shell (pwsh, cmd) has no pipefail to ask for.
        let mut shell_pipefail = false;
        for (pos, inst) in df.stage_body(stage).iter().enumerate() {
            let index = stage.body.start + pos;
            if inst.keyword == "SHELL" {
                shell_pipefail = match &inst.args {
                    Args::List(l) => {
                        let posix = l.first().is_some_and(|w| w.value.ends_with("sh"));
                        !posix || l.iter().any(|w| w.value.contains("pipefail"))
                    }
                    _ => false,
                };
                continue;
            }
            let Some(run) = f.runs.iter().find(|r| r.index == index) else {
                continue;
            };
            let shell_form = matches!(
                &run.inst.args,
                Args::Command {
                    form: crate::dockerfile::model::CommandForm::Shell(_),
                    ..
                }
            );
            // Pipes inside $( … ) or ( … ) are not what the RUN's status reports.
            let top_pipe = run
                .cmds
                .iter()
                .any(|c| c.joiner == shell::Joiner::Pipe && !c.subshell);
            if !shell_form || shell_pipefail || !top_pipe {
                continue;
            }
            let set_in_script = run
                .cmds
                .iter()
                .any(|c| c.program() == Some("set") && c.words.iter().any(|w| w == "pipefail"));
            if !set_in_script {
                let head = ctx.head(run.outer);
                ctx.push(
                    RuleId::GO309,
                    head,
                    "RUN pipes commands without `set -o pipefail`: a failure before the pipe is hidden"
                        .into(),
                );
            }
        }
    }
}
