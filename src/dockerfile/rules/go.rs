//! GO1xx: how Go is built.

use crate::dockerfile::model::{Args, Instruction};
use crate::dockerfile::shell::SimpleCommand;

use super::facts::{
    Facts, GoCmd, Libc, Linkage, Run, golang_tag_version, is_golang_image, is_x_value,
};
use super::{Ctx, RuleId};

/// Every Go command of every RUN (ONBUILD RUN included), with its RUN.
fn go_cmds<'f>(f: &'f Facts<'_>) -> impl Iterator<Item = (&'f Run<'f>, &'f GoCmd)> {
    f.runs.iter().flat_map(|r| r.go.iter().map(move |g| (r, g)))
}

/// Go commands that link a program, with unknown words ruled out when asked.
fn linking<'f>(f: &'f Facts<'_>) -> impl Iterator<Item = (&'f Run<'f>, &'f GoCmd)> {
    go_cmds(f).filter(|(_, g)| g.links())
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
        let Some(why) = f.cgo_on(run, g) else {
            continue;
        };
        if f.linkage(run, g) != Linkage::Dynamic {
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
        let span = ctx.at(run, g.offset);
        ctx.push(
            RuleId::GO101,
            span,
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
        let span = ctx.at(run, g.offset);
        ctx.push(
            RuleId::GO102,
            span,
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
        if g.unknown_ldflags() {
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
        let span = ctx.at(run, g.offset);
        ctx.push(RuleId::GO103, span, msg.into());
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
        // With cgo off the internal linker links and -extldflags goes nowhere (-linkmode
        // external is GO109's; a -buildmode may need the external linker).
        let noop_static = g.extld_static()
            && f.cgo_off(run, g)
            && !linkmode_external(&g.ldflags())
            && !g.has_flag("buildmode")
            && !g.has_unknown_words();
        let mut parts = vec![];
        if !obsolete.is_empty() {
            parts.push(format!(
                "obsolete flag(s) {}: the Go 1.10+ build cache makes them useless (and -a ~60x slower)",
                obsolete.join(" ")
            ));
        }
        if noop_static {
            parts.push(
                "-extldflags -static does nothing with cgo off: Go links internally and the binary is static already".to_string(),
            );
        }
        if parts.is_empty() {
            continue;
        }
        let span = ctx.at(run, g.offset);
        ctx.push(RuleId::GO104, span, parts.join("; "));
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

/// A build run through a tool that may run `go build` itself (make, mage, task, a script).
pub(super) fn build_tool(c: &SimpleCommand) -> bool {
    let Some(p) = c.program() else { return false };
    let base = p.rsplit('/').next().unwrap_or(p);
    let script = |w: Option<&String>| {
        w.is_some_and(|w| w.ends_with(".sh") || w.ends_with(".py") || w.ends_with(".bash"))
    };
    match base {
        "make" | "gmake" | "mage" | "task" | "just" => true,
        "sh" | "bash" | "ash" | "dash" | "python" | "python3" => {
            script(c.words.iter().skip(1).find(|w| !w.starts_with('-')))
        }
        _ => base.ends_with(".sh") || (p.contains('/') && script(Some(&p.to_string()))),
    }
}

/// The whole build context (`COPY . .`, `ADD ./ /src`).
fn copies_context(sources: &[crate::dockerfile::model::Spanned]) -> bool {
    sources
        .iter()
        .any(|s| matches!(s.value.as_str(), "." | "./" | "*"))
}

/// `go.mod` named alone with no `go.sum` anywhere: a module without dependencies.
fn module_without_go_sum(copies: &[&[crate::dockerfile::model::Spanned]]) -> bool {
    let all = || copies.iter().flat_map(|c| c.iter());
    let base = |v: &str| {
        let v = v.trim_end_matches('/');
        v.rsplit('/').next().unwrap_or(v).to_string()
    };
    all().any(|s| base(&s.value) == "go.mod")
        && !all().any(|s| {
            let b = base(&s.value);
            b == "go.sum" || b == "." || b.is_empty() || s.value.contains(['*', '?', '['])
        })
}

/// A cache mount that keeps the module download cache (`/go/pkg/mod` or below it).
fn caches_downloads(run: &Run<'_>) -> bool {
    run.cache_targets
        .iter()
        .any(|t| t.contains("pkg/mod") || t.contains("GOMODCACHE") || t.contains("GOPATH"))
}

/// Where GO105 stands while walking a stage: the first source copy not yet followed by a
/// download, and whether the modules were downloaded in a layer of their own.
#[derive(Clone, Default)]
struct DepsState<'a> {
    source_copy: Option<&'a Instruction>,
    context_copy: bool,
    downloaded: bool,
    copies: Vec<&'a [crate::dockerfile::model::Spanned]>,
}

/// Whether the stage builds without modules: Go before 1.11 or GO111MODULE=off.
fn gopath_only(f: &Facts<'_>, stage: usize) -> bool {
    let old = match f.df.root_base(stage) {
        crate::dockerfile::model::Base::Image(img) if is_golang_image(img) => img
            .tag
            .as_deref()
            .and_then(golang_tag_version)
            .is_some_and(|v| v < (1, 11)),
        _ => false,
    };
    old || f.stages[stage].env.get("GO111MODULE").map(String::as_str) == Some("off")
}

/// Whether a stage chain shows a module build (for a build hidden behind make or a script,
/// which may as well build from vendor/): the context has go.mod without vendor/, or the chain
/// sets module-only settings (GO111MODULE=on, GOPROXY, GOPRIVATE, GONOSUMDB, GOSUMDB) or mounts
/// the build cache.
fn module_build(f: &Facts<'_>, stage: usize) -> bool {
    if let Some(vendored) = f.context_module {
        return !vendored;
    }
    let env = &f.stages[stage].env;
    let chain = f.df.stage_chain(stage);
    env.get("GO111MODULE").is_some_and(|v| v == "on")
        || ["GOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB"]
            .iter()
            .any(|k| env.contains_key(*k))
        || f.runs.iter().any(|r| {
            r.stage.is_some_and(|s| chain.contains(&s))
                && r.cache_targets.iter().any(|t| t.contains("go-build"))
        })
}

/// What in a RUN downloads the modules: a go command that downloads, or (in a golang stage
/// building a module) a make or script build. Described for the message.
fn download_trigger(run: &Run<'_>, go_image: bool) -> Option<String> {
    if let Some(g) = run.go.iter().find(|g| downloads(g)) {
        return Some(format!("`go {}` below", g.sub));
    }
    let c = run.cmds.iter().find(|c| go_image && build_tool(c))?;
    let w: Vec<&str> = c
        .words
        .iter()
        .take(2)
        .map(String::as_str)
        .filter(|w| !w.starts_with('-') && !w.contains('='))
        .collect();
    Some(format!("`{}` below builds the module", w.join(" ")))
}

fn report_go105(ctx: &mut Ctx<'_>, span: std::ops::Range<usize>, run: &Run<'_>, what: &str) {
    let cost = if caches_downloads(run) {
        "the cache mount keeps the modules on this builder, but a builder without it (CI) downloads them all again on every source change"
    } else {
        "every source change downloads all modules again"
    };
    ctx.push(
        RuleId::GO105,
        span,
        format!(
            "sources are copied before the modules are downloaded ({}): {cost}",
            super::super::input::excerpt(what, 60)
        ),
    );
}

pub(super) fn go105(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    let mut ends: Vec<DepsState<'_>> = Vec::with_capacity(df.stages.len());
    for stage in &df.stages {
        let mut st = match stage.base {
            crate::dockerfile::model::Base::Stage(p) if p < ends.len() => ends[p].clone(),
            _ => DepsState::default(),
        };
        let quiet = f.stage_vendored(stage.index)
            || gopath_only(f, stage.index)
            || f.context_module == Some(true);
        let go_image = matches!(df.root_base(stage.index),
            crate::dockerfile::model::Base::Image(img) if is_golang_image(img))
            && module_build(f, stage.index);
        // ONBUILD COPY/RUN run in the child image: a walk of their own.
        let mut onbuild = DepsState::default();
        for (pos, outer) in df.stage_body(stage).iter().enumerate() {
            let index = stage.body.start + pos;
            let (st, inst, onbuild_run) = match &outer.args {
                Args::Onbuild(inner) => (&mut onbuild, inner.as_ref(), true),
                _ => (&mut st, outer, false),
            };
            match (&inst.args, inst.keyword) {
                (Args::Copy { sources, .. }, "COPY" | "ADD") if inst.flag("from").is_none() => {
                    st.copies.push(sources);
                    if !st.downloaded && st.source_copy.is_none() && copies_sources(sources) {
                        // The span is the instruction as written (the ONBUILD line).
                        st.source_copy = Some(outer);
                        st.context_copy = copies_context(sources);
                    }
                }
                (_, "RUN") => {
                    let Some(run) = f
                        .runs
                        .iter()
                        .find(|r| r.index == index && r.onbuild == onbuild_run)
                    else {
                        continue;
                    };
                    let Some(what) = download_trigger(run, go_image) else {
                        continue;
                    };
                    let context_ok = run.go.iter().any(downloads) || st.context_copy;
                    if let Some(copy) = st.source_copy.filter(|_| !st.downloaded)
                        && !quiet
                        && context_ok
                        && !module_without_go_sum(&st.copies)
                    {
                        let span = ctx.head(copy);
                        report_go105(ctx, span, run, &what);
                    }
                    st.downloaded = true;
                }
                _ => {}
            }
        }
        ends.push(st);
    }
}

/// Where a module cache mount stands for one RUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mount {
    Whole,
    /// Only a part (`/go/pkg/mod/cache`: downloads kept, extraction redone).
    Part,
    None,
}

/// The module cache mount of a RUN, against GOMODCACHE (default `$GOPATH/pkg/mod`, `/go/pkg/mod`
/// in golang images). A target with a variable counts as whole.
fn module_mount(run: &Run<'_>, g: Option<&GoCmd>) -> Mount {
    let env = |k: &str| g.and_then(|g| g.env(k));
    let modcache = env("GOMODCACHE")
        .map(str::to_string)
        .or_else(|| env("GOPATH").map(|p| format!("{p}/pkg/mod")))
        .unwrap_or_else(|| "/go/pkg/mod".into());
    let modcache = modcache.trim_end_matches('/');
    let mut best = Mount::None;
    for t in &run.cache_targets {
        let t = t.trim_end_matches('/');
        if t.contains('$')
            || t.ends_with("/pkg/mod")
            || modcache == t
            || modcache.starts_with(&format!("{t}/"))
        {
            return Mount::Whole;
        }
        if t.starts_with(&format!("{modcache}/")) || t.contains("/pkg/mod/") {
            best = Mount::Part;
        }
    }
    best
}

/// Whether a RUN mounts the build cache (GOCACHE, default `$HOME/.cache/go-build`).
fn build_mount(run: &Run<'_>, g: Option<&GoCmd>) -> bool {
    let gocache = g
        .and_then(|g| g.env("GOCACHE"))
        .map(|c| c.trim_end_matches('/').to_string());
    run.cache_targets.iter().any(|t| {
        let t = t.trim_end_matches('/');
        t.contains('$')
            || t.ends_with("/.cache/go-build")
            || t.ends_with("/.cache")
            || gocache
                .as_deref()
                .is_some_and(|c| c == t || c.starts_with(&format!("{t}/")))
    })
}

/// Whether a stage builds Go sources it copied in: its chain starts from a golang image and
/// copies files from the context (a make or script build there compiles Go).
fn go_source_stage(f: &Facts<'_>, stage: usize) -> bool {
    let df = f.df;
    matches!(df.root_base(stage),
        crate::dockerfile::model::Base::Image(img) if is_golang_image(img))
        && df.chain_body(stage).iter().any(|i| {
            matches!(&i.args, Args::Copy { sources, .. } if i.flag("from").is_none() && copies_sources(sources))
        })
}

/// A RUN that compiles Go through make or a script in a Go source stage.
fn tool_build<'r>(f: &Facts<'_>, run: &'r Run<'_>) -> Option<&'r SimpleCommand> {
    let stage = run.stage?;
    run.cmds
        .iter()
        .find(|c| build_tool(c))
        .filter(|_| go_source_stage(f, stage))
}

/// What one RUN lacks: (the module cache mount, whether the build cache is missing); `None`
/// when it has what it needs or needs nothing.
fn missing_caches(f: &Facts<'_>, run: &Run<'_>) -> Option<Missing> {
    let needs_mod = run.go.iter().find(|g| {
        !g.vendored() && matches!(g.sub.as_str(), "build" | "install" | "mod download" | "run")
    });
    let needs_build = run.go.iter().find(|g| {
        matches!(g.sub.as_str(), "build" | "install") || (g.sub == "run" && !g.vendored())
    });
    let tool = needs_build.is_none() && tool_build(f, run).is_some();
    if needs_build.or(needs_mod).is_none() && !tool {
        return None;
    }
    let g = needs_build.or(needs_mod);
    let gopath = run.stage.is_some_and(|s| gopath_only(f, s));
    let module = if (needs_mod.is_some() || tool) && !gopath {
        module_mount(run, needs_mod.or(g))
    } else {
        Mount::Whole
    };
    let build = (needs_build.is_none() && !tool) || build_mount(run, g);
    (module != Mount::Whole || !build).then_some((module, !build))
}

/// A stage, and whether the RUNs are its ONBUILD triggers.
type StageKey = (Option<usize>, bool);
/// What a RUN lacks: the module cache mount, and whether the build cache is missing.
type Missing = (Mount, bool);

pub(super) fn go106(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    // One finding per stage (ONBUILD RUNs apart: they run in the child image).
    let mut groups: Vec<(StageKey, Vec<(&Run<'_>, Missing)>)> = vec![];
    for run in &f.runs {
        let Some(miss) = missing_caches(f, run) else {
            continue;
        };
        let key = (run.stage, run.onbuild);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((run, miss)),
            None => groups.push((key, vec![(run, miss)])),
        }
    }
    for (_, runs) in groups {
        // Reported on the RUN that builds the program, else one that compiles, else the first.
        let links = |r: &Run<'_>| r.go.iter().any(GoCmd::links) || tool_build(f, r).is_some();
        let compiles = |r: &Run<'_>| {
            r.go.iter()
                .any(|g| matches!(g.sub.as_str(), "build" | "install" | "run"))
        };
        let (run, (module, build)) = runs
            .iter()
            .find(|(r, _)| links(r))
            .or_else(|| runs.iter().find(|(r, _)| compiles(r)))
            .copied()
            .unwrap_or(runs[0]);
        let what = match (module, build) {
            (Mount::None, true) if !run.cache_mount => {
                "no BuildKit cache mount for the Go module and build caches".to_string()
            }
            (Mount::None, true) => {
                "the cache mounts hold neither the module cache (/go/pkg/mod) nor the build cache (/root/.cache/go-build)".to_string()
            }
            (Mount::None, false) if !run.cache_mount => {
                "no BuildKit cache mount for the Go module cache".to_string()
            }
            (Mount::None, false) => "no cache mount for the module cache (/go/pkg/mod)".to_string(),
            (Mount::Part, b) => format!(
                "the cache mount keeps only part of the module cache (mount /go/pkg/mod itself){}",
                if b { " and the build cache (/root/.cache/go-build) is not mounted" } else { "" }
            ),
            (Mount::Whole, _) => {
                "the build cache is not mounted: add --mount=type=cache,target=/root/.cache/go-build".to_string()
            }
        };
        let more = match runs.len() {
            1 => String::new(),
            2 => " (and in 1 more RUN of this stage)".to_string(),
            n => format!(" (and in {} more RUNs of this stage)", n - 1),
        };
        let head = ctx.head(run.outer);
        ctx.push(RuleId::GO106, head, format!("{what}{more}"));
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
        let head = ctx.at(run, g.offset);
        ctx.push(
            RuleId::GO107,
            head,
            format!("hard-coded GOARCH={arch}: use $TARGETARCH for multi-platform builds"),
        );
    }
    // A make or script build gets GOARCH from the stage's ENV/ARG (or its own assignment).
    for run in f.runs.iter().filter(|r| !r.onbuild && r.go.is_empty()) {
        let Some(c) = tool_build(f, run) else {
            continue;
        };
        let stage_env = run.stage.and_then(|s| f.stages[s].env.get("GOARCH"));
        let own = c
            .assigns
            .iter()
            .rev()
            .find(|(k, _)| k == "GOARCH")
            .map(|(_, v)| v);
        let Some(arch) = hard(own.or(stage_env).map(String::as_str)) else {
            continue;
        };
        let span = ctx.at(run, c.offset);
        ctx.push(
            RuleId::GO107,
            span,
            format!(
                "hard-coded GOARCH={arch} reaches `{}`: use $TARGETARCH for multi-platform builds",
                c.program().unwrap_or("make")
            ),
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
                let head = ctx.at(run, g.offset);
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
            let head = ctx.at(run, g.offset);
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
            let head = ctx.at(run, g.offset);
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
        for (k, _) in inst.assignments() {
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
                    let head = ctx.at(run, c.offset);
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
    for (run, g) in go_cmds(f).filter(|(_, g)| g.sub == "mod tidy") {
        let head = ctx.at(run, g.offset);
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
                let head = ctx.at(run, g.offset);
                ctx.push(
                    RuleId::GO114,
                    head,
                    "-X writes the build time into the binary: every build differs and no cache or digest is reproducible".into(),
                );
            }
        }
    }
}

/// Whether a `FROM` runs on the build platform (`--platform=$BUILDPLATFORM`).
fn on_build_platform(from: &Instruction) -> bool {
    from.flag("platform")
        .and_then(|p| p.value.as_deref())
        .is_some_and(|p| p.contains("BUILDPLATFORM"))
}

/// Stages whose files reach a stage that runs on the target platform (through `COPY --from`
/// or `FROM <stage>`).
fn feeds_target_platform(f: &Facts<'_>, stage: usize) -> bool {
    let df = f.df;
    df.stages.iter().any(|s| {
        if on_build_platform(&df.instructions[s.from]) {
            return false;
        }
        let chain = df.stage_chain(s.index);
        chain.contains(&stage)
            || df.chain_body(s.index).iter().any(|i| {
                i.keyword == "COPY"
                    && i.flag("from")
                        .and_then(|x| x.value.as_deref())
                        .and_then(|r| df.stage_by_ref(r))
                        .is_some_and(|src| df.stage_chain(src).contains(&stage))
            })
    })
}

pub(super) fn go115(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    let df = f.df;
    for stage in &df.stages {
        if !on_build_platform(&df.instructions[stage.from]) {
            continue;
        }
        let declared = df.stage_body(stage).iter().any(|i| {
            i.keyword == "ARG"
                && i.assignments()
                    .iter()
                    .any(|(k, _)| matches!(k.as_str(), "TARGETARCH" | "TARGETPLATFORM"))
        });
        let builds: Vec<(&Run<'_>, &GoCmd)> = f
            .stage_runs(stage.index)
            .flat_map(|r| r.go.iter().map(move |g| (r, g)))
            .filter(|(_, g)| g.links() && !g.is_tool_install())
            .collect();
        let Some(&(run, g)) = builds.first() else {
            continue;
        };
        // tonistiigi/xx (`xx-go --wrap`, xx-go build) sets GOARCH from TARGETPLATFORM itself.
        let xx = df.stage_chain(stage.index).iter().any(|&s| {
            f.stage_runs(s).any(|r| {
                r.cmds
                    .iter()
                    .any(|c| c.program().is_some_and(|p| p.starts_with("xx-")))
            })
        });
        let unknown = xx || builds.iter().any(|(_, g)| g.has_unknown_words());
        if !declared
            || unknown
            || builds.iter().any(|(_, g)| g.env("GOARCH").is_some())
            || !feeds_target_platform(f, stage.index)
        {
            continue;
        }
        let span = ctx.at(run, g.offset);
        ctx.push(
            RuleId::GO115,
            span,
            format!(
                "`go {}` gets no GOARCH in a stage on --platform=$BUILDPLATFORM that declares TARGETARCH: every platform's image gets a binary for the build machine (exec format error)",
                g.sub
            ),
        );
    }
}

pub(super) fn go116(ctx: &mut Ctx<'_>, f: &Facts<'_>) {
    for (run, g) in linking(f) {
        let Some(stage) = run.stage.filter(|_| !run.onbuild) else {
            continue;
        };
        if f.cgo_on(run, g).is_none() || !g.extld_static() || f.stages[stage].libc != Libc::Glibc {
            continue;
        }
        let tags = g.tags();
        let missing: Vec<&str> = ["netgo", "osusergo"]
            .into_iter()
            .filter(|t| !tags.iter().any(|x| x == t))
            .collect();
        if missing.is_empty() || g.has_unknown_words() {
            continue;
        }
        let span = ctx.at(run, g.offset);
        ctx.push(
            RuleId::GO116,
            span,
            format!(
                "cgo linked statically against glibc without -tags {}: user and host lookups go through glibc's NSS, which dlopens shared libraries at run time and fails in a static image",
                missing.join(",")
            ),
        );
    }
}
