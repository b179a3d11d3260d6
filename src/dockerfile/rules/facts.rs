//! What the rules look at, gathered once: every RUN (ONBUILD RUN included) read as shell
//! commands, the Go commands in them with the environment in effect, and what is known about
//! each stage's base image (libc, C compiler, default user).

use std::collections::HashMap;

use crate::dockerfile::LintInput;
use crate::dockerfile::model::{Args, Base, CommandForm, Dockerfile, ImageRef, Instruction};
use crate::dockerfile::shell::{self, SimpleCommand};
use crate::dockerfile::syntax::{self, Logical};

/// A RUN's script as lint reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    pub text: String,
    /// Shell form (or `sh -c`): the text runs in a shell.
    pub shell: bool,
    /// Where each byte of `text` is in the file; `None` when the text was rebuilt from an exec
    /// form.
    pub map: Option<Logical>,
}

/// A RUN's script as the shell sees it, and whether it is a shell script at all. Here-document
/// bodies are included when a shell reads them (`RUN <<EOF`, `RUN bash <<EOF`); a body fed to
/// another program (`cat <<EOF > f`, `python3 <<EOF`) is data.
pub(crate) fn run_script(inst: &Instruction, _escape: char) -> Option<Script> {
    match &inst.args {
        Args::Command {
            form: CommandForm::Shell(s),
            heredocs,
            source,
            ..
        } => {
            let trimmed = s.trim();
            if let Some(first) = heredocs.first()
                && syntax::parse_heredoc(trimmed).is_some_and(|h| h.name == first.name)
            {
                let body = &first.body;
                let shell = body.lines().next().is_none_or(|l| {
                    !l.starts_with("#!")
                        || ["sh", "bash", "ash", "dash", "zsh"].iter().any(|s| {
                            l.split_whitespace()
                                .flat_map(|w| w.rsplit('/').next())
                                .any(|w| w == *s)
                        })
                });
                let mut map = Logical::default();
                if shell {
                    map.push(body, first.body_span.start);
                }
                return Some(Script {
                    text: map.text.clone(),
                    shell,
                    map: Some(map),
                });
            }
            let mut map = source.clone();
            let cmds = shell::parse(s);
            let feeds_shell = cmds.iter().any(|c| {
                let c = c.unwrapped();
                matches!(c.program(), Some("sh" | "bash" | "ash" | "dash" | "zsh"))
                    && c.redirects.iter().any(|(op, _)| op.starts_with("<<"))
            });
            if feeds_shell {
                for h in heredocs {
                    map.push("\n", h.body_span.start);
                    map.push(&h.body, h.body_span.start);
                }
            }
            Some(Script {
                text: map.text.clone(),
                shell: true,
                map: Some(map),
            })
        }
        Args::Command {
            form: CommandForm::Exec(words),
            ..
        } => {
            // ["sh", "-c", "script"] is still a shell script.
            if words.len() >= 3 && words[0].ends_with("sh") && words[1] == "-c" {
                Some(Script {
                    text: words[2].clone(),
                    shell: true,
                    map: None,
                })
            } else {
                Some(Script {
                    text: words
                        .iter()
                        .map(|w| shell_quote(w))
                        .collect::<Vec<_>>()
                        .join(" "),
                    shell: false,
                    map: None,
                })
            }
        }
        _ => None,
    }
}

fn shell_quote(w: &str) -> String {
    if w.chars()
        .any(|c| c.is_whitespace() || "'\"|&;<>()$`\\".contains(c))
    {
        format!("'{}'", w.replace('\'', "'\\''"))
    } else {
        w.to_string()
    }
}

/// The C library a base image provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Libc {
    /// scratch, distroless/static, Chainguard static: none at all.
    None,
    Musl,
    Glibc,
    Unknown,
}

impl Libc {
    pub fn describe(self) -> &'static str {
        match self {
            Libc::None => "no C library",
            Libc::Musl => "musl",
            Libc::Glibc => "glibc",
            Libc::Unknown => "an unknown C library",
        }
    }
}

pub(crate) fn is_golang_image(img: &ImageRef) -> bool {
    img.short_name() == "golang" || img.name.ends_with("/go") && img.name.contains("chainguard")
}

/// The Go version a golang image tag names (`1.22.5-alpine` → (1, 22), `1.23rc1` → (1, 23));
/// `None` for a tag that names no Go minor (`alpine`, `alpine3.10`, `bookworm`, `1`, `latest`).
pub(crate) fn golang_tag_version(tag: &str) -> Option<(u32, u32)> {
    let version = tag.split('-').next()?;
    let mut parts = version.splitn(3, '.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor.bytes().take_while(u8::is_ascii_digit).count();
    let pre = &minor[digits..];
    if digits == 0 || !(pre.is_empty() || pre.starts_with("rc") || pre.starts_with("beta")) {
        return None;
    }
    if let Some(patch) = parts.next()
        && (patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some((major, minor[..digits].parse().ok()?))
}

fn tag(img: &ImageRef) -> &str {
    img.tag.as_deref().unwrap_or("")
}

pub(crate) fn libc_of(base: &Base) -> Libc {
    let img = match base {
        Base::Scratch => return Libc::None,
        Base::Stage(_) => return Libc::Unknown,
        Base::Image(img) => img,
    };
    if img.unresolved {
        return Libc::Unknown;
    }
    let name = img.short_name();
    let t = tag(img);
    if img.name.contains("distroless") {
        return if name.starts_with("static") {
            Libc::None
        } else {
            Libc::Glibc
        };
    }
    if img.name.starts_with("cgr.dev/chainguard/static") {
        return Libc::None;
    }
    if name == "alpine" || t.contains("alpine") {
        return Libc::Musl;
    }
    match name {
        "debian" | "ubuntu" | "golang" | "buildpack-deps" | "centos" | "fedora" | "rockylinux"
        | "almalinux" | "amazonlinux" | "oraclelinux" | "ubi" | "ubi8" | "ubi9" | "node"
        | "python" => Libc::Glibc,
        _ => Libc::Unknown,
    }
}

/// Whether the base image has a C compiler on PATH (`None`: unknown image).
fn base_has_c_compiler(base: &Base) -> Option<bool> {
    match base {
        Base::Scratch => Some(false),
        Base::Stage(_) => None,
        Base::Image(img) if img.unresolved => None,
        Base::Image(img) if is_golang_image(img) => Some(!tag(img).contains("alpine")),
        Base::Image(img) if img.short_name() == "buildpack-deps" => Some(true),
        Base::Image(img) => match libc_of(base) {
            Libc::Unknown => None,
            _ => {
                let _ = img;
                Some(false)
            }
        },
    }
}

const C_COMPILERS: &[&str] = &[
    "gcc",
    "g++",
    "clang",
    "build-base",
    "build-essential",
    "alpine-sdk",
    "gcc-multilib",
    "tcc",
];

/// The packages a simple command installs, if it is a package install.
pub(crate) fn installed_packages(c: &SimpleCommand) -> Option<Vec<&str>> {
    let w: Vec<&str> = c.words.iter().map(String::as_str).collect();
    let (pm, rest) = w.split_first()?;
    let verb_at = match *pm {
        "apk" | "xx-apk" => rest.iter().position(|x| *x == "add")?,
        "apt-get" | "apt" | "xx-apt" | "xx-apt-get" | "yum" | "dnf" | "microdnf" | "zypper" => {
            rest.iter().position(|x| *x == "install")?
        }
        _ => return None,
    };
    let mut out = Vec::new();
    let mut it = rest[verb_at + 1..].iter();
    while let Some(x) = it.next() {
        if matches!(*x, "--virtual" | "-t" | "--repository" | "-X") {
            it.next();
        } else if !x.starts_with('-') {
            out.push(x.split(['=', '>', '<', '~']).next().unwrap_or(x));
        }
    }
    Some(out)
}

/// A `go …` command with the environment in effect where it runs.
#[derive(Debug, Clone)]
pub(crate) struct GoCmd {
    /// `build`, `install`, `run`, `get`, `test`, `vet`, `generate`, `mod download`,
    /// `mod vendor`, `mod tidy`, `env -w`, …
    pub sub: String,
    pub args: Vec<String>,
    pub env: HashMap<String, String>,
    /// GOPATH mode: the packages are the sources an earlier COPY put at `…/src/<package>`.
    pub gopath_local: bool,
    /// Byte offset of the command in its RUN's script.
    pub offset: usize,
}

/// go build/install flags that take a value.
const VALUE_FLAGS: &[&str] = &[
    "o",
    "p",
    "C",
    "asmflags",
    "buildmode",
    "compiler",
    "gccgoflags",
    "gcflags",
    "installsuffix",
    "ldflags",
    "mod",
    "modfile",
    "overlay",
    "pgo",
    "pkgdir",
    "tags",
    "toolexec",
    "covermode",
    "coverpkg",
    "exec",
];

impl GoCmd {
    pub fn env(&self, k: &str) -> Option<&str> {
        self.env.get(k).map(String::as_str)
    }

    fn flag_name(a: &str) -> Option<&str> {
        let a = a.strip_prefix('-')?;
        let a = a.strip_prefix('-').unwrap_or(a);
        Some(a.split('=').next().unwrap_or(a))
    }

    pub fn has_flag(&self, name: &str) -> bool {
        self.args
            .iter()
            .any(|a| Self::flag_name(a).is_some_and(|n| n == name))
    }

    pub fn flag_value(&self, name: &str) -> Option<String> {
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            let Some(n) = Self::flag_name(a) else {
                continue;
            };
            if n != name {
                continue;
            }
            return match a.split_once('=') {
                Some((_, v)) => Some(v.to_string()),
                None => it.next().cloned(),
            };
        }
        None
    }

    /// The words of -ldflags (several -ldflags: the last wins, as in go).
    pub fn ldflags(&self) -> Vec<String> {
        let mut last = None;
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if Self::flag_name(a) == Some("ldflags") {
                last = match a.split_once('=') {
                    Some((_, v)) => Some(v.to_string()),
                    None => it.next().cloned(),
                };
            }
        }
        last.map(|v| shell::split_words(&v)).unwrap_or_default()
    }

    /// Package arguments (not flags, not flag values).
    pub fn packages(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if let Some(n) = Self::flag_name(a) {
                if !a.contains('=') && VALUE_FLAGS.contains(&n) {
                    it.next();
                }
                continue;
            }
            out.push(a.as_str());
        }
        out
    }

    /// The CGO_ENABLED value in effect (`None`: unset).
    pub fn cgo(&self) -> Option<&str> {
        self.env("CGO_ENABLED").filter(|v| !v.is_empty())
    }

    /// A build that links a program into a file: go build with -o or one package (not
    /// `./...`), or go install of local packages.
    pub fn links(&self) -> bool {
        match self.sub.as_str() {
            "build" => {
                let out = self.flag_value("o");
                if out.as_deref() == Some("/dev/null") {
                    return false;
                }
                let pkgs = self.packages();
                out.is_some() || (pkgs.len() <= 1 && !pkgs.iter().any(|p| p.contains("...")))
            }
            // `go install example.com/lib/...` in a module only warms the cache (or installs
            // a tool pinned by go.mod); local packages are the program.
            "install" => {
                let pkgs = self.packages();
                !self.is_tool_install()
                    && (self.gopath_local
                        || pkgs
                            .iter()
                            .all(|p| p.starts_with('.') || p.starts_with('/')))
            }
            _ => false,
        }
    }

    /// `go install tool@version`: installing a tool, not building the module.
    pub fn is_tool_install(&self) -> bool {
        self.sub == "install" && self.packages().iter().any(|p| p.contains('@'))
    }

    /// Whether a whole argument is a variable whose value is unknown here (`go build
    /// $GO_ARGS`): it may hold any flag. A variable inside a flag's value (`-o ${OUT}/`) does
    /// not count.
    pub fn has_unknown_words(&self) -> bool {
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if let Some(n) = Self::flag_name(a) {
                if !a.contains('=') && VALUE_FLAGS.contains(&n) {
                    it.next();
                }
                continue;
            }
            if a.starts_with('$') {
                return true;
            }
        }
        self.env("GOFLAGS").is_some_and(|v| v.contains('$'))
    }

    /// The build tags (`-tags a,b` or `-tags 'a b'`).
    pub fn tags(&self) -> Vec<String> {
        self.flag_value("tags")
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `-extldflags -static` (or `'-static …'`) in -ldflags: the external linker links libc in.
    pub fn extld_static(&self) -> bool {
        let ld = self.ldflags();
        ld.iter().enumerate().any(|(i, w)| {
            (w.starts_with("-extldflags") || w.starts_with("--extldflags"))
                && (w.contains("-static") || ld.get(i + 1).is_some_and(|n| n.contains("-static")))
        })
    }

    /// A cgo build that still gives a static binary: libc linked in, or the pure-Go resolver.
    pub fn static_link(&self) -> bool {
        self.extld_static() || self.tags().iter().any(|t| t == "netgo")
    }

    /// Words of -ldflags (other than -X values) that are variables: they may link statically.
    pub fn unknown_ldflags(&self) -> bool {
        let ld = self.ldflags();
        ld.iter()
            .enumerate()
            .any(|(i, w)| w.contains('$') && !is_x_value(&ld, i))
    }

    /// -mod=vendor, or a GOFLAGS that says so.
    pub fn vendored(&self) -> bool {
        self.flag_value("mod").as_deref() == Some("vendor")
            || self
                .env("GOFLAGS")
                .is_some_and(|f| f.contains("-mod=vendor"))
    }
}

/// Whether `ld[i]` is a `-X` assignment (`-X a=b`, `-X=a=b`, `-Xa=b`).
pub(crate) fn is_x_value(ld: &[String], i: usize) -> bool {
    ld[i].starts_with("-X") || (i > 0 && ld[i - 1] == "-X")
}

/// What a `go build` gives, as far as the Dockerfile tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linkage {
    /// cgo off (CGO_ENABLED=0, or unset with no C compiler), or cgo linked statically.
    Static,
    /// cgo on and linked against the build stage's libc.
    Dynamic,
    Unknown,
}

/// One RUN instruction (or the RUN under an ONBUILD), read.
#[derive(Debug)]
pub(crate) struct Run<'a> {
    /// The RUN itself (for ONBUILD, the inner instruction).
    pub inst: &'a Instruction,
    /// The instruction as it stands in the file (the ONBUILD for ONBUILD RUN).
    pub outer: &'a Instruction,
    pub stage: Option<usize>,
    /// Index of `outer` in `Dockerfile::instructions`.
    pub index: usize,
    pub onbuild: bool,
    /// Shell form (or `sh -c`): its script runs in a shell.
    pub shell_form: bool,
    pub script: String,
    /// The simple commands, unwrapped (`env`, `sudo`… removed).
    pub cmds: Vec<SimpleCommand>,
    pub go: Vec<GoCmd>,
    /// Some `--mount=type=cache`.
    pub cache_mount: bool,
    /// The targets of its `--mount=type=cache` flags.
    pub cache_targets: Vec<String>,
    /// Where the script's bytes are in the file (`None`: rebuilt from an exec form).
    pub map: Option<Logical>,
}

/// What is known about one stage.
#[derive(Debug, Clone)]
pub(crate) struct StageFacts {
    /// ENV and ARG values along the stage chain, in order.
    pub env: HashMap<String, String>,
    /// A C compiler is present by the end of the stage (`None`: unknown base image).
    pub c_compiler: Option<bool>,
    /// Libc of the image at the root of the stage chain.
    pub libc: Libc,
}

pub(crate) struct Facts<'a> {
    pub df: &'a Dockerfile,
    pub input: &'a LintInput<'a>,
    pub runs: Vec<Run<'a>>,
    pub stages: Vec<StageFacts>,
    /// The build context holds a Go module (go.mod): `Some(vendored)`, where vendored means
    /// `vendor/modules.txt` is there (Go 1.14+ then builds from vendor/ without downloading).
    pub context_module: Option<bool>,
}

impl<'a> Facts<'a> {
    pub fn gather(df: &'a Dockerfile, input: &'a LintInput<'a>) -> Facts<'a> {
        let mut stages: Vec<StageFacts> = Vec::with_capacity(df.stages.len());
        let mut runs = Vec::new();
        for s in &df.stages {
            let (mut env, mut cc) = match s.base {
                Base::Stage(p) if p < stages.len() => (stages[p].env.clone(), stages[p].c_compiler),
                _ => (HashMap::new(), base_has_c_compiler(&s.base)),
            };
            let libc = match s.base {
                Base::Stage(p) if p < stages.len() => stages[p].libc,
                _ => libc_of(&s.base),
            };
            for (pos, inst) in df.stage_body(s).iter().enumerate() {
                let index = s.body.start + pos;
                match inst.keyword {
                    "ENV" | "ARG" => apply_env(inst, &mut env),
                    "RUN" => {
                        let run = read_run(df, inst, inst, Some(s.index), index, false, &env);
                        if run
                            .cmds
                            .iter()
                            .filter_map(installed_packages)
                            .any(|p| p.iter().any(|x| C_COMPILERS.contains(x)))
                        {
                            cc = Some(true);
                        }
                        for g in &run.go {
                            if g.sub == "env -w" {
                                for (k, v) in g.args.iter().filter_map(|a| a.split_once('=')) {
                                    env.insert(k.to_string(), v.to_string());
                                }
                            }
                        }
                        runs.push(run);
                    }
                    "ONBUILD" => {
                        if let Args::Onbuild(inner) = &inst.args
                            && inner.keyword == "RUN"
                        {
                            runs.push(read_run(df, inner, inst, Some(s.index), index, true, &env));
                        }
                    }
                    _ => {}
                }
            }
            stages.push(StageFacts {
                env,
                c_compiler: cc,
                libc,
            });
        }
        mark_gopath_sources(df, &mut runs);
        let context_module = input
            .context_dir
            .as_ref()
            .filter(|d| d.join("go.mod").is_file())
            .map(|d| d.join("vendor/modules.txt").is_file());
        Facts {
            df,
            input,
            runs,
            stages,
            context_module,
        }
    }

    /// Runs of a stage (ONBUILD RUN excluded: they run in a child image).
    pub fn stage_runs(&self, stage: usize) -> impl Iterator<Item = &Run<'a>> {
        self.runs
            .iter()
            .filter(move |r| r.stage == Some(stage) && !r.onbuild)
    }

    /// Whether any stage builds a Go program (go build/install of the module, go run).
    pub fn builds_go(&self) -> bool {
        self.runs.iter().any(|r| {
            !r.onbuild
                && r.go
                    .iter()
                    .any(|g| g.links() || matches!(g.sub.as_str(), "build" | "run"))
        })
    }

    /// Whether cgo is on for a go command: `Some(reason)` when it is, `None` when it is off or
    /// unknown (use [`Facts::cgo_off`] to tell those apart).
    pub fn cgo_on(&self, run: &Run<'_>, g: &GoCmd) -> Option<&'static str> {
        match g.cgo() {
            Some("1") => Some("CGO_ENABLED=1"),
            None if self.c_compiler(run) == Some(true) => {
                Some("CGO_ENABLED is unset and a C compiler is installed")
            }
            _ => None,
        }
    }

    /// Whether cgo is certainly off for a go command: CGO_ENABLED=0, or unset where the stage
    /// has no C compiler (golang:*-alpine without gcc).
    pub fn cgo_off(&self, run: &Run<'_>, g: &GoCmd) -> bool {
        match g.cgo() {
            Some("0") => true,
            None => self.c_compiler(run) == Some(false),
            _ => false,
        }
    }

    fn c_compiler(&self, run: &Run<'_>) -> Option<bool> {
        run.stage
            .filter(|_| !run.onbuild)
            .and_then(|s| self.stages[s].c_compiler)
    }

    /// Whether a program build gives a static binary.
    pub fn linkage(&self, run: &Run<'_>, g: &GoCmd) -> Linkage {
        if self.cgo_off(run, g) {
            return Linkage::Static;
        }
        if self.cgo_on(run, g).is_none() {
            return Linkage::Unknown;
        }
        if g.static_link() {
            Linkage::Static
        } else if g.unknown_ldflags() {
            Linkage::Unknown
        } else {
            Linkage::Dynamic
        }
    }

    /// Whether a stage works on a vendored module (some go command there uses -mod=vendor):
    /// its builds download nothing.
    pub fn stage_vendored(&self, stage: usize) -> bool {
        self.stage_runs(stage)
            .any(|r| r.go.iter().any(GoCmd::vendored))
    }

    /// Whether the final stage receives files from another stage.
    pub fn final_copies_from_stage(&self) -> bool {
        let Some(fin) = self.df.final_stage() else {
            return false;
        };
        self.df.chain_body(fin.index).iter().any(|i| {
            i.keyword == "COPY"
                && i.flag("from")
                    .and_then(|f| f.value.as_deref())
                    .is_some_and(|v| self.df.stage_by_ref(v).is_some())
        })
    }
}

/// `COPY . /go/src/example.com/app` then `go install example.com/app`: in GOPATH mode the
/// package is the copied source, so the install links the program.
fn mark_gopath_sources(df: &Dockerfile, runs: &mut [Run<'_>]) {
    for run in runs.iter_mut().filter(|r| !r.onbuild) {
        let Some(stage) = run.stage else { continue };
        let dests: Vec<String> = df
            .chain_body(stage)
            .into_iter()
            .take_while(|i| !std::ptr::eq(*i, run.outer))
            .filter(|i| i.flag("from").is_none())
            .filter_map(|i| match &i.args {
                Args::Copy { dest, .. } => Some(dest.value.trim_end_matches('/').to_string()),
                _ => None,
            })
            .collect();
        for g in run.go.iter_mut().filter(|g| g.sub == "install") {
            let pkgs = g.packages();
            g.gopath_local = !pkgs.is_empty()
                && pkgs.iter().all(|p| {
                    dests
                        .iter()
                        .any(|d| d.ends_with(&format!("/src/{}", p.trim_end_matches("/..."))))
                });
        }
    }
}

fn apply_env(inst: &Instruction, env: &mut HashMap<String, String>) {
    for (k, v) in inst.assignments() {
        match v {
            Some(v) => {
                let v = resolve(&v, env);
                env.insert(k, v);
            }
            // `ARG TARGETOS` declares a build argument: its value comes at build time.
            None if inst.keyword == "ARG" => {
                env.entry(k.clone()).or_insert_with(|| format!("${k}"));
            }
            None => {}
        }
    }
}

/// Replaces `$NAME` / `${NAME}` when the whole value is one known variable.
fn resolve(v: &str, env: &HashMap<String, String>) -> String {
    let name = v
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| v.strip_prefix('$'));
    match name.and_then(|n| env.get(n)) {
        Some(val) if val != v => val.clone(),
        _ => v.to_string(),
    }
}

/// A `go …` command with the environment it runs with; `go env -w` also changes `env` for the
/// commands after it.
fn go_command(c: &SimpleCommand, env: &mut HashMap<String, String>) -> GoCmd {
    let mut local = env.clone();
    for (k, v) in &c.assigns {
        let v = resolve(v, env);
        local.insert(k.clone(), v);
    }
    let w = &c.words;
    let (sub, skip) = match w.get(1).map(String::as_str) {
        Some("mod") => (format!("mod {}", w.get(2).map_or("", |s| s.as_str())), 3),
        Some("env") if w.get(2).is_some_and(|s| s == "-w") => ("env -w".into(), 3),
        Some(s) => (s.to_string(), 2),
        None => (String::new(), 1),
    };
    if sub == "env -w" {
        for (k, v) in w[3..].iter().filter_map(|a| a.split_once('=')) {
            env.insert(k.to_string(), v.to_string());
        }
    }
    GoCmd {
        sub,
        args: w.get(skip..).map(<[String]>::to_vec).unwrap_or_default(),
        env: local,
        gopath_local: false,
        offset: c.offset,
    }
}

fn read_run<'a>(
    df: &Dockerfile,
    inst: &'a Instruction,
    outer: &'a Instruction,
    stage: Option<usize>,
    index: usize,
    onbuild: bool,
    stage_env: &HashMap<String, String>,
) -> Run<'a> {
    let Script {
        text: script,
        shell: shell_form,
        map,
    } = run_script(inst, df.escape).unwrap_or_default();
    let cmds = simple_commands(inst, &script, shell_form);
    let go = go_commands(&cmds, stage_env);
    let cache_targets = cache_targets(inst);
    let cache_mount = !cache_targets.is_empty();
    Run {
        inst,
        outer,
        stage,
        index,
        onbuild,
        shell_form,
        script,
        cmds,
        go,
        cache_mount,
        cache_targets,
        map,
    }
}

/// The simple commands of a RUN: the shell script's (wrappers such as `env`, `sudo` removed),
/// or the exec form's one command.
fn simple_commands(inst: &Instruction, script: &str, shell_form: bool) -> Vec<SimpleCommand> {
    if shell_form {
        shell::parse(script).iter().map(|c| c.unwrapped()).collect()
    } else {
        match &inst.args {
            Args::Command {
                form: CommandForm::Exec(w),
                ..
            } => vec![SimpleCommand {
                joiner: shell::Joiner::Start,
                assigns: vec![],
                words: w.clone(),
                redirects: vec![],
                subshell: false,
                offset: 0,
                vars: vec![],
            }],
            _ => vec![],
        }
    }
}

/// The `go` commands of a RUN, each with the environment the commands before it set up
/// (`export`, `unset`, bare assignments) on top of the stage's.
fn go_commands(cmds: &[SimpleCommand], stage_env: &HashMap<String, String>) -> Vec<GoCmd> {
    let mut env = stage_env.clone();
    let mut go = Vec::new();
    for c in cmds {
        match c.program() {
            Some("export") => {
                for (k, v) in c.words[1..].iter().filter_map(|w| shell::split_assign(w)) {
                    let v = resolve(&v, &env);
                    env.insert(k, v);
                }
            }
            Some("unset") => {
                for w in &c.words[1..] {
                    env.remove(w);
                }
            }
            Some("go") => go.push(go_command(c, &mut env)),
            None if !c.assigns.is_empty() => {
                for (k, v) in &c.assigns {
                    let v = resolve(v, &env);
                    env.insert(k.clone(), v);
                }
            }
            _ => {}
        }
    }
    go
}

/// The targets of the RUN's `--mount=type=cache` flags (empty for a mount without one).
fn cache_targets(inst: &Instruction) -> Vec<String> {
    inst.flags
        .iter()
        .filter(|f| f.name == "mount")
        .filter_map(|f| f.value.as_deref())
        .filter(|v| v.split(',').any(|kv| kv == "type=cache"))
        .map(|v| {
            v.split(',')
                .find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    matches!(k, "target" | "dst" | "destination").then(|| v.to_string())
                })
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) fn is_full_distro(img: &ImageRef) -> bool {
    matches!(
        img.short_name(),
        "debian"
            | "ubuntu"
            | "alpine"
            | "centos"
            | "fedora"
            | "rockylinux"
            | "almalinux"
            | "amazonlinux"
            | "oraclelinux"
            | "archlinux"
            | "opensuse"
            | "busybox"
            | "ubi"
            | "ubi8"
            | "ubi9"
            | "buildpack-deps"
    )
}

pub(crate) fn is_shell_less(base: &Base) -> bool {
    match base {
        Base::Scratch => true,
        Base::Image(img) => {
            let debug = img.tag.as_deref().is_some_and(|t| t.contains("debug"));
            (img.name.contains("distroless") || img.name.starts_with("cgr.dev/chainguard/static"))
                && !debug
        }
        Base::Stage(_) => false,
    }
}

pub(crate) fn is_nonroot_base(base: &Base) -> bool {
    match base {
        Base::Image(img) => {
            img.tag.as_deref().is_some_and(|t| t.contains("nonroot"))
                || img.name.starts_with("cgr.dev/chainguard/")
        }
        _ => false,
    }
}

/// A base image known to run as root unless told otherwise (an unknown image may set USER).
pub(crate) fn runs_as_root_by_default(base: &Base) -> bool {
    match base {
        Base::Scratch => true,
        Base::Stage(_) => false,
        Base::Image(img) if img.unresolved || is_nonroot_base(base) => false,
        Base::Image(img) => {
            is_full_distro(img)
                || is_golang_image(img)
                || img.name.contains("distroless")
                || matches!(img.short_name(), "node" | "python")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golang_tags_pin_a_go_minor_or_not() {
        for (tag, v) in [
            ("1.22", Some((1, 22))),
            ("1.22.5-alpine3.20", Some((1, 22))),
            ("1.23rc1-bookworm", Some((1, 23))),
            ("1.10-alpine", Some((1, 10))),
            ("alpine", None),
            ("alpine3.10", None),
            ("bookworm", None),
            ("1", None),
            ("1-alpine", None),
            ("latest", None),
            ("1.x", None),
        ] {
            assert_eq!(golang_tag_version(tag), v, "{tag}");
        }
    }
}
