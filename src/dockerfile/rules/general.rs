//! GO3xx: Dockerfile essentials every reviewer checks (the hadolint rules teams rely on).

use std::collections::HashSet;

use crate::dockerfile::model::{Args, Spanned, expand_args, parse_arg_words, parse_assignments};
use crate::dockerfile::shell;

use super::facts::{Facts, Run};
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
                            let d =
                                crate::dockerfile::model::distance(&lower, &n.to_ascii_lowercase());
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
    let pairs = if keyword == "ARG" {
        parse_arg_words(&t.value)
    } else {
        parse_assignments(&t.value)
    };
    for (name, value) in pairs {
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
        if let Some(cd) = run
            .cmds
            .iter()
            .find(|c| c.program() == Some("cd") && !c.subshell)
        {
            let head = ctx.at(run, cd.offset);
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

/// Names a RUN gives a value to itself: assignments, `export`/`local`/`declare`/`readonly`
/// words, `read` arguments, `for NAME in`.
fn set_in(run: &Run<'_>) -> HashSet<String> {
    let mut out = HashSet::new();
    for c in &run.cmds {
        out.extend(c.assigns.iter().map(|(k, _)| k.clone()));
        if matches!(
            c.program(),
            Some("export" | "local" | "declare" | "typeset" | "readonly" | "read" | "getopts")
        ) {
            for w in c.words.iter().skip(1) {
                let name = w.split('=').next().unwrap_or(w);
                out.insert(name.to_string());
            }
        }
    }
    for w in run.script.split_whitespace().collect::<Vec<_>>().windows(2) {
        if w[0] == "for" || w[0] == "select" {
            out.insert(w[1].to_string());
        }
    }
    out
}

/// Names a RUN sets for itself only, at its top level (a subshell's are gone even sooner):
/// `export NAME=…` and plain `NAME=…` commands.
fn exported_by(run: &Run<'_>) -> Vec<String> {
    let mut out = vec![];
    for c in run.cmds.iter().filter(|c| !c.subshell) {
        if c.program() == Some("export") {
            out.extend(
                c.words
                    .iter()
                    .skip(1)
                    .filter_map(|w| shell::split_assign(w).map(|(k, _)| k)),
            );
        } else if c.words.is_empty() {
            out.extend(c.assigns.iter().map(|(k, _)| k.clone()));
        }
    }
    out
}

pub(super) fn go310(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    // A SHELL that reads a profile (bash -l, BASH_ENV) may bring values back.
    let login_shell = df.instructions.iter().any(|i| {
        i.keyword == "SHELL"
            && matches!(&i.args, Args::List(l) if l.iter().any(|w| w.value == "-l" || w.value == "--login"))
    });
    if login_shell {
        return;
    }
    for stage in &df.stages {
        let defined: HashSet<String> = df
            .chain_body(stage.index)
            .iter()
            .flat_map(|i| i.assignments().into_iter().map(|(k, _)| k))
            .chain(df.global_args.iter().map(|(k, _)| k.clone()))
            .chain(["BASH_ENV".to_string(), "ENV".to_string()])
            .collect();
        let mut lost: Vec<(String, usize)> = vec![];
        let chain = df.stage_chain(stage.index);
        for &s in chain.iter().rev() {
            for run in f.stage_runs(s).filter(|r| r.shell_form) {
                let sources = run
                    .cmds
                    .iter()
                    .any(|c| matches!(c.program(), Some("." | "source")));
                if s == stage.index && !sources {
                    let here = set_in(run);
                    let mut seen = HashSet::new();
                    for c in &run.cmds {
                        for v in &c.vars {
                            let Some((_, line)) = lost.iter().find(|(n, _)| n == v) else {
                                continue;
                            };
                            if defined.contains(v) || here.contains(v) || !seen.insert(v.clone()) {
                                continue;
                            }
                            let span = ctx.at(run, c.offset);
                            ctx.push(
                                RuleId::GO310,
                                span,
                                format!(
                                    "`${v}` was set by the RUN at line {line}, but every RUN starts a new shell: here it does not have that value"
                                ),
                            );
                        }
                    }
                }
                let line = run.outer.line;
                for name in exported_by(run) {
                    lost.retain(|(n, _)| *n != name);
                    lost.push((name, line));
                }
            }
        }
    }
}

/// Programs whose arguments are file names: a command name joined to them is a bug.
const FILE_ARGS: &[&str] = &[
    "touch", "mkdir", "rm", "cp", "mv", "ln", "chmod", "chown", "cd",
];

pub(super) fn go311(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let programs: HashSet<&str> = f
        .runs
        .iter()
        .flat_map(|r| r.cmds.iter().filter_map(|c| c.program()))
        .collect();
    for run in f.runs.iter().filter(|r| r.shell_form) {
        let Some(map) = &run.map else { continue };
        if map.text != run.script {
            continue;
        }
        for b in map.piece_starts().skip(1) {
            let before = run.script[..b].trim_end();
            let ends_op = ["&&", "||", "|", ";", "(", "{", "then", "do", "else", "in"]
                .iter()
                .any(|op| before.ends_with(op));
            let Some(word) = run.script[b..].split_whitespace().next() else {
                continue;
            };
            if ends_op || !programs.contains(word) {
                continue;
            }
            let Some(c) = run
                .cmds
                .iter()
                .filter(|c| c.offset < b)
                .max_by_key(|c| c.offset)
            else {
                continue;
            };
            let joined = c.program().is_some_and(|p| FILE_ARGS.contains(&p))
                && c.words.iter().skip(1).any(|w| w == word);
            if !joined {
                continue;
            }
            let span = ctx.at(
                run,
                b + (run.script[b..].len() - run.script[b..].trim_start().len()),
            );
            ctx.push(
                RuleId::GO311,
                span,
                format!(
                    "`{word}` is an argument of `{}` here: the line before ends without && or ;, so it never runs",
                    c.program().unwrap_or("?")
                ),
            );
        }
    }
}

/// Branch names that follow every push: a clone of one builds different code each time.
const MOVING_REFS: &[&str] = &[
    "main", "master", "develop", "dev", "trunk", "HEAD", "latest", "nightly",
];

/// The subcommand of a `git` command and the index of its first argument (`git -C dir clone`).
fn git_subcommand(c: &shell::SimpleCommand) -> Option<(&str, usize)> {
    if c.program() != Some("git") {
        return None;
    }
    let mut i = 1;
    while let Some(w) = c.words.get(i) {
        match w.as_str() {
            "-C" | "-c" | "--git-dir" | "--work-tree" => i += 2,
            o if o.starts_with('-') => i += 1,
            sub => return Some((sub, i + 1)),
        }
    }
    None
}

/// The `--branch`/`-b` value of a `git clone`, and whether `--revision` pins it.
fn clone_ref(words: &[String]) -> (Option<&str>, bool) {
    let mut branch = None;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "--branch" || w == "-b" {
            branch = it.next().map(String::as_str);
        } else if let Some(v) = w.strip_prefix("--branch=") {
            branch = Some(v);
        } else if w == "--revision" || w.starts_with("--revision=") {
            return (branch, true);
        }
    }
    (branch, false)
}

pub(super) fn go312(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let pins = |r: &Run<'_>| {
        r.cmds.iter().any(|c| {
            git_subcommand(c).is_some_and(|(s, _)| matches!(s, "checkout" | "reset" | "switch"))
        })
    };
    for run in &f.runs {
        // A checkout in this RUN or a later one of the stage picks the commit.
        let pinned_later = pins(run)
            || run
                .stage
                .is_some_and(|s| f.stage_runs(s).any(|r| r.index > run.index && pins(r)));
        if pinned_later {
            continue;
        }
        let env = run.stage.map(|s| &f.stages[s].env);
        for c in &run.cmds {
            let Some(("clone", first)) = git_subcommand(c) else {
                continue;
            };
            let (branch, revision) = clone_ref(&c.words[first..]);
            let resolved = branch.map(|b| {
                let vars: Vec<(String, Option<String>)> = env
                    .map(|e| {
                        e.iter()
                            .map(|(k, v)| (k.clone(), Some(v.clone())))
                            .collect()
                    })
                    .unwrap_or_default();
                expand_args(b, &vars)
            });
            let message = match resolved.as_deref() {
                _ if revision => continue,
                None => "`git clone` without --branch builds whatever the default branch holds at build time: the image is not reproducible".to_string(),
                Some(b) if MOVING_REFS.contains(&b) => format!(
                    "`git clone --branch {b}` follows a branch that moves: the image is not reproducible"
                ),
                Some(_) => continue,
            };
            let span = ctx.at(run, c.offset);
            ctx.push(RuleId::GO312, span, message);
        }
    }
}

/// Whether a chmod mode gives everyone write access: `777`, `0666`, `o+w`, `a+rwx`. A sticky
/// directory (`1777`, as /tmp) is meant to be shared; `+w` without a who is masked by the umask.
fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.len() <= 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let digit = |i: usize| mode.as_bytes()[i] - b'0';
        let sticky = mode.len() == 4 && digit(0) & 1 != 0;
        return digit(mode.len() - 1) & 2 != 0 && !sticky;
    }
    mode.split(',').any(|clause| {
        let (who, rest) = clause.split_at(clause.find(['+', '=']).unwrap_or(clause.len()));
        who.contains(['o', 'a']) && rest.len() > 1 && rest[1..].contains('w')
    })
}

pub(super) fn go313(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let Some(fin) = f.df.final_stage() else {
        return;
    };
    let chain = f.df.stage_chain(fin.index);
    for run in f
        .runs
        .iter()
        .filter(|r| !r.onbuild && r.stage.is_some_and(|s| chain.contains(&s)))
    {
        for c in run.cmds.iter().filter(|c| c.program() == Some("chmod")) {
            let Some(mode) = c.words[1..].iter().find(|w| !w.starts_with('-')) else {
                continue;
            };
            if world_writable(mode) {
                let span = ctx.at(run, c.offset);
                ctx.push(
                    RuleId::GO313,
                    span,
                    format!("`chmod {mode}` makes files in the final image writable by every user: any process in the container can replace them"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_writable_modes() {
        for m in [
            "777", "0666", "0777", "2777", "o+w", "a+rwx", "u+x,o+w", "a=rw",
        ] {
            assert!(world_writable(m), "{m}");
        }
        for m in [
            "755", "0644", "1777", "775", "+w", "u+w", "g+w", "o-w", "a+x", "-R",
        ] {
            assert!(!world_writable(m), "{m}");
        }
    }

    #[test]
    fn clone_refs() {
        let w = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            clone_ref(&w("--depth=1 --branch=v1 u")),
            (Some("v1"), false)
        );
        assert_eq!(clone_ref(&w("-b main u")), (Some("main"), false));
        assert_eq!(clone_ref(&w("--revision=abc u")), (None, true));
        assert_eq!(clone_ref(&w("u d")), (None, false));
    }
}
