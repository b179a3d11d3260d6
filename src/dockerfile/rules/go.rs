//! GO1xx: how Go is built.

use crate::dockerfile::model::Args;

use super::facts::{Facts, GoCmd, Libc, Run};
use super::{Ctx, RuleId};

/// Every Go command of every RUN (ONBUILD RUN included), with its RUN.
fn go_cmds<'f>(f: &'f Facts<'_>) -> impl Iterator<Item = (&'f Run<'f>, &'f GoCmd)> {
    f.runs.iter().flat_map(|r| r.go.iter().map(move |g| (r, g)))
}

/// Go commands that link a program, with unknown words ruled out when asked.
fn linking<'f>(f: &'f Facts<'_>) -> impl Iterator<Item = (&'f Run<'f>, &'f GoCmd)> {
    go_cmds(f).filter(|(_, g)| g.links())
}

/// Words of -ldflags (other than -X values) that are variables: they may link statically.
fn unknown_ldflags(g: &GoCmd) -> bool {
    let ld = g.ldflags();
    ld.iter()
        .enumerate()
        .any(|(i, w)| w.contains('$') && !is_x_value(&ld, i))
}

/// Whether `ld[i]` is a `-X` assignment (`-X a=b`, `-X=a=b`, `-Xa=b`).
fn is_x_value(ld: &[String], i: usize) -> bool {
    ld[i].starts_with("-X") || (i > 0 && ld[i - 1] == "-X")
}

fn static_link(g: &GoCmd) -> bool {
    let ld = g.ldflags();
    let extld_static = ld.iter().enumerate().any(|(i, w)| {
        (w.starts_with("-extldflags") || w.starts_with("--extldflags"))
            && (w.contains("-static") || ld.get(i + 1).is_some_and(|n| n.contains("-static")))
    });
    let tags = g.flag_value("tags").unwrap_or_default();
    extld_static || tags.split([',', ' ']).any(|t| t == "netgo")
}

pub(super) fn go101(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let Some(fin) = df.final_stage() else { return };
    let final_chain = df.stage_chain(fin.index);
    let final_libc = f.stages[fin.index].libc;
    for (run, g) in linking(f) {
        let Some(stage) = run.stage.filter(|_| !run.onbuild) else {
            continue;
        };
        let why = match g.cgo() {
            Some("0") => continue,
            Some("1") => "CGO_ENABLED=1".to_string(),
            Some(_) => continue,
            None => match f.stages[stage].c_compiler {
                Some(true) => "CGO_ENABLED is unset and a C compiler is installed".to_string(),
                _ => continue,
            },
        };
        if static_link(g) || unknown_ldflags(g) {
            continue;
        }
        let build_libc = f.stages[stage].libc;
        let runs_on = if final_chain.contains(&stage) {
            build_libc
        } else {
            final_libc
        };
        let mismatch = match (build_libc, runs_on) {
            (_, Libc::Unknown) => false,
            (_, Libc::None) => true,
            (Libc::Unknown, _) => false,
            (b, r) => b != r,
        };
        if !mismatch {
            continue;
        }
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO101,
            head,
            format!(
                "cgo is on ({why}): a program using net or os/user links {} dynamically and will not start on `{}` ({})",
                build_libc.describe(),
                fin.image,
                runs_on.describe()
            ),
        );
    }
}

pub(super) fn go102(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in linking(f) {
        if g.has_flag("trimpath")
            || g.has_unknown_words()
            || g.env("GOFLAGS").is_some_and(|v| v.contains("-trimpath"))
        {
            continue;
        }
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO102,
            head,
            format!(
                "`go {}` without -trimpath: builder paths end up in the binary",
                g.sub
            ),
        );
    }
}

pub(super) fn go103(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in linking(f) {
        let ld = g.ldflags();
        if g.has_unknown_words() && !g.has_flag("ldflags") {
            continue;
        }
        if unknown_ldflags(g) {
            continue;
        }
        let has = |flag: &str| {
            ld.iter().any(|x| {
                x == flag
                    || x.strip_prefix(flag)
                        .is_some_and(|r| r == "=true" || r == "=1")
            })
        };
        if has("-s") {
            continue;
        }
        let msg = if has("-w") {
            "-ldflags has -w but no -s: the symbol table stays in the binary (-s drops it and implies -w)"
        } else {
            "-ldflags has no -s: symbol table and DWARF stay in the binary (~30% of its size)"
        };
        let head = ctx.head(run.outer);
        ctx.push(RuleId::GO103, head, msg.into());
    }
}

pub(super) fn go104(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in go_cmds(f).filter(|(_, g)| matches!(g.sub.as_str(), "build" | "install")) {
        let mut obsolete = vec![];
        if g.has_flag("a") {
            obsolete.push("-a");
        }
        if g.has_flag("installsuffix") {
            obsolete.push("-installsuffix");
        }
        if obsolete.is_empty() {
            continue;
        }
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO104,
            head,
            format!(
                "obsolete flag(s) {}: the Go 1.10+ build cache makes them useless (and -a ~60x slower)",
                obsolete.join(" ")
            ),
        );
    }
}

/// Go commands that download modules on demand.
fn downloads(g: &GoCmd) -> bool {
    match g.sub.as_str() {
        "mod download" | "mod vendor" | "mod tidy" | "build" | "run" | "test" | "vet" | "get"
        | "generate" | "list" => !g.vendored(),
        "install" => !g.vendored() && !g.is_tool_install(),
        _ => false,
    }
}

/// Sources other than module files (`go.mod`, `go.sum`, `go.work*`, `go.*`).
fn copies_sources(sources: &[crate::dockerfile::model::Spanned]) -> bool {
    sources.iter().any(|s| {
        let base = s.value.trim_end_matches('/');
        let base = base.rsplit('/').next().unwrap_or(base);
        !(s.value.is_empty() || base.starts_with("go.") || base == "modules.txt")
    })
}

pub(super) fn go105(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for stage in &df.stages {
        if f.stage_vendored(stage.index) {
            continue;
        }
        let mut source_copy = None;
        let mut downloaded = false;
        let mut fired = false;
        for (pos, inst) in df.stage_body(stage).iter().enumerate() {
            let index = stage.body.start + pos;
            match (&inst.args, inst.keyword) {
                (Args::Copy { sources, .. }, "COPY" | "ADD")
                    if inst.flag("from").is_none()
                        && !downloaded
                        && source_copy.is_none()
                        && copies_sources(sources) =>
                {
                    source_copy = Some(inst);
                }
                (_, "RUN") => {
                    let Some(run) = f.runs.iter().find(|r| r.index == index && !r.onbuild) else {
                        continue;
                    };
                    let Some(g) = run.go.iter().find(|g| downloads(g)) else {
                        continue;
                    };
                    if let Some(copy) = source_copy.filter(|_| !downloaded && !fired) {
                        let head = ctx.head(copy);
                        ctx.push(
                            RuleId::GO105,
                            head,
                            format!(
                                "sources are copied before the modules are downloaded (`go {}` below): every source change re-downloads all modules",
                                g.sub
                            ),
                        );
                        fired = true;
                    }
                    downloaded = true;
                }
                _ => {}
            }
        }
    }
}

pub(super) fn go106(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for run in &f.runs {
        let compiles = run.go.iter().any(|g| {
            matches!(g.sub.as_str(), "build" | "install" | "mod download")
                || (g.sub == "run" && !g.vendored())
        });
        if !compiles || run.cache_mount {
            continue;
        }
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO106,
            head,
            "no BuildKit cache mount for the Go module and build caches".into(),
        );
    }
}

fn hard(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !v.is_empty() && !v.contains('$'))
}

pub(super) fn go107(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in linking(f) {
        let Some(arch) = hard(g.env("GOARCH")) else {
            continue;
        };
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO107,
            head,
            format!("hard-coded GOARCH={arch}: use $TARGETARCH for multi-platform builds"),
        );
    }
}

/// A package path on the network (`example.com/x`), not local (`./x`) or standard.
fn remote(pkg: &str) -> bool {
    let first = pkg.split('/').next().unwrap_or("");
    !pkg.starts_with('.') && !pkg.starts_with('/') && first.contains('.')
}

pub(super) fn go108(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in go_cmds(f) {
        if !matches!(g.sub.as_str(), "install" | "get") {
            continue;
        }
        for pkg in g.packages() {
            let (path, version) = match pkg.rsplit_once('@') {
                Some((p, v)) => (p, Some(v)),
                None => (pkg, None),
            };
            let unpinned = match version {
                Some(v) => matches!(v, "latest" | "master" | "main" | "HEAD" | "upgrade"),
                // In a module, `go install pkg` takes the version from go.mod; `go get pkg`
                // without a version takes the newest.
                None => g.sub == "get" && remote(path),
            };
            if unpinned && remote(path) {
                let head = ctx.head(run.outer);
                ctx.push(
                    RuleId::GO108,
                    head,
                    format!("`go {} {pkg}` is not pinned: name a version tag", g.sub),
                );
            }
        }
    }
}

fn linkmode_external(ld: &[String]) -> bool {
    ld.iter().any(|x| x == "-linkmode=external")
        || ld
            .windows(2)
            .any(|w| w[0] == "-linkmode" && w[1] == "external")
}

pub(super) fn go109(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in go_cmds(f).filter(|(_, g)| matches!(g.sub.as_str(), "build" | "install")) {
        if g.cgo() == Some("0") && linkmode_external(&g.ldflags()) {
            let head = ctx.head(run.outer);
            ctx.push(
                RuleId::GO109,
                head,
                "`-linkmode external` with CGO_ENABLED=0 fails since Go 1.22 and is never needed: a cgo-off binary is static".into(),
            );
        }
    }
}

pub(super) fn go110(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    if f.input.facts.needs_cgo != Some(true) {
        return;
    }
    for (run, g) in linking(f) {
        if g.cgo() == Some("0") {
            let head = ctx.head(run.outer);
            ctx.push(
                RuleId::GO110,
                head,
                "CGO_ENABLED=0 but the module needs cgo: the build fails or a stub fails at run time".into(),
            );
        }
    }
}

pub(super) fn go111(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for stage in &df.stages {
        let from = &df.instructions[stage.from];
        let platform = from.flag("platform").and_then(|p| p.value.as_deref());
        if platform.is_some_and(|p| p.contains("BUILDPLATFORM")) {
            continue;
        }
        // An explicit other platform is deliberate.
        if platform.is_some() {
            continue;
        }
        let cross = f.stage_runs(stage.index).any(|r| {
            r.go.iter().any(|g| {
                g.links()
                    && ["GOARCH", "GOOS"].iter().any(|k| {
                        g.env(k)
                            .is_some_and(|v| v.contains("TARGETARCH") || v.contains("TARGETOS"))
                    })
            })
        });
        if cross {
            let head = ctx.head(from);
            ctx.push(
                RuleId::GO111,
                head,
                "this stage cross-compiles with $TARGETOS/$TARGETARCH but has no --platform=$BUILDPLATFORM: other platforms build under emulation".into(),
            );
        }
    }
}

const GO_ENV: &[&str] = &[
    "CGO_ENABLED",
    "GOOS",
    "GOARCH",
    "GOARM",
    "GOAMD64",
    "GOARM64",
    "GOFLAGS",
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOSUMDB",
    "GO111MODULE",
    "GOTOOLCHAIN",
    "GOCACHE",
    "GOMODCACHE",
    "GOPATH",
    "GOBIN",
    "GOEXPERIMENT",
    "GODEBUG",
    "GOMAXPROCS",
    "GOINSECURE",
    "GOWORK",
];

pub(super) fn go112(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let is_lower_go =
        |k: &str| k != k.to_ascii_uppercase() && GO_ENV.iter().any(|g| g.eq_ignore_ascii_case(k));
    for inst in &f.df.instructions {
        if !matches!(inst.keyword, "ENV" | "ARG") {
            continue;
        }
        let Some(t) = inst.text() else { continue };
        for (k, _) in crate::dockerfile::model::parse_assignments(&t.value) {
            if is_lower_go(&k) {
                let head = ctx.head(inst);
                ctx.push(
                    RuleId::GO112,
                    head,
                    format!(
                        "`{k}` is not `{}`: Go reads the upper-case name only",
                        k.to_ascii_uppercase()
                    ),
                );
            }
        }
    }
    for run in &f.runs {
        for c in &run.cmds {
            for (k, _) in &c.assigns {
                if is_lower_go(k) {
                    let head = ctx.head(run.outer);
                    ctx.push(
                        RuleId::GO112,
                        head,
                        format!(
                            "`{k}` is not `{}`: Go reads the upper-case name only",
                            k.to_ascii_uppercase()
                        ),
                    );
                }
            }
        }
    }
}

pub(super) fn go113(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, _) in go_cmds(f).filter(|(_, g)| g.sub == "mod tidy") {
        let head = ctx.head(run.outer);
        ctx.push(
            RuleId::GO113,
            head,
            "`go mod tidy` rewrites go.mod and go.sum during the image build: the image is not built from the pinned dependencies".into(),
        );
    }
}

/// Whether a value runs `date` (directly or through a shell variable set from it).
fn stamps_date(v: &str, tainted: &[String]) -> bool {
    v.contains("$(date")
        || v.contains("`date")
        || tainted
            .iter()
            .any(|t| v.contains(&format!("${t}")) || v.contains(&format!("${{{t}}}")))
}

pub(super) fn go114(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for run in &f.runs {
        let tainted: Vec<String> = run
            .cmds
            .iter()
            .flat_map(|c| c.assigns.iter())
            .filter(|(_, v)| stamps_date(v, &[]))
            .map(|(k, _)| k.clone())
            .collect();
        for g in run.go.iter().filter(|g| g.links()) {
            let ld = g.ldflags();
            let stamped = ld
                .iter()
                .enumerate()
                .filter(|(i, _)| is_x_value(&ld, *i))
                .any(|(_, w)| stamps_date(w, &tainted));
            if stamped {
                let head = ctx.head(run.outer);
                ctx.push(
                    RuleId::GO114,
                    head,
                    "-X writes the build time into the binary: every build differs and no cache or digest is reproducible".into(),
                );
            }
        }
    }
}
