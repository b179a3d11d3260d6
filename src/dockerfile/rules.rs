//! The lint rules: a catalogue ([`RULES`]) and the checks over a parsed Dockerfile.
//!
//! IDs: `GO0xx` parsing, `GO1xx` Go build, `GO2xx` image, `GO3xx` general Dockerfile
//! essentials, `GO4xx` `.dockerignore`. Each rule knows the hadolint rules it matches, so
//! `# hadolint ignore=DLxxxx` pragmas keep working.

use std::collections::HashMap;
use std::ops::Range;

use super::model::{Args, Base, CommandForm, Dockerfile, ImageRef, Instruction, Stage};
use super::shell::{self, SimpleCommand};
use super::{Finding, FindingFile, LintInput, Severity};

/// A rule's fixed description.
#[derive(Debug)]
pub struct RuleInfo {
    pub id: &'static str,
    /// Short kebab-case name (SARIF `name`).
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: &'static str,
    /// Why it matters and how to fix it, with an example (`--explain`, SARIF help).
    pub explanation: &'static str,
    /// hadolint rules with the same meaning.
    pub hadolint: &'static [&'static str],
}

pub const PARSE_ERROR: &str = "GO001";

macro_rules! rules {
    ($($id:literal $name:literal $sev:ident [$($dl:literal),*] $summary:literal $expl:literal;)*) => {
        /// Every rule gopack knows, in ID order.
        pub static RULES: &[RuleInfo] = &[$(RuleInfo {
            id: $id, name: $name, severity: Severity::$sev, summary: $summary,
            explanation: $expl, hadolint: &[$($dl),*],
        }),*];
    };
}

rules! {
"GO001" "parse-error" Error [] "The Dockerfile cannot be parsed"
"BuildKit would reject this file too. The message says what the parser expected and where.
Fix the syntax first; no other rule runs on a file that does not parse.

  Bad:   FROM golang:1.23 AS
  Good:  FROM golang:1.23 AS builder";

"GO101" "cgo-not-disabled" Warning [] "go build without CGO_ENABLED=0"
"With cgo enabled (the default when a C compiler is present, as in golang:<v> Debian images),
a program that imports net or os/user links against libc dynamically and will not start on
scratch or distroless/static. If the module needs no cgo, say so explicitly: the binary is then
static, reproducible, and runs on an empty base. If the module does need cgo (for example
mattn/go-sqlite3), set CGO_ENABLED=1 explicitly and link statically (see `gopack dockerfile`).

  Bad:   RUN go build -o /out/app ./cmd/app
  Good:  RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/app ./cmd/app";

"GO102" "missing-trimpath" Warning [] "go build without -trimpath"
"Without -trimpath the builder's file-system paths (/app, /go/pkg/mod/...) are written into the
binary: the build is not reproducible across directories and leaks the build layout. -trimpath
also leaves GOROOT out of the binary. It costs nothing.

  Bad:   RUN CGO_ENABLED=0 go build -o /out/app .
  Good:  RUN CGO_ENABLED=0 go build -trimpath -o /out/app .";

"GO103" "missing-strip" Info [] "go build without -s in -ldflags"
"-ldflags=-s drops the symbol table and, since -s implies -w, the DWARF data: about a third of
the binary. Stack traces still work (.gopclntab is kept). `-s -w` is the same as `-s`.

  Bad:   RUN go build -trimpath -o /out/app .
  Good:  RUN go build -trimpath -ldflags=-s -o /out/app .";

"GO104" "obsolete-build-flags" Warning [] "Obsolete go build flags -a / -installsuffix"
"Since Go 1.10 the build cache is content-based: it knows when a package must be rebuilt, so `-a`
only forces a full rebuild (about 60x slower, bit-identical output). `-installsuffix cgo` names
an install directory for prebuilt archives that no longer exist ($GOROOT/pkg has none since Go
1.20); it has no effect. Both are leftovers of pre-2018 advice. (`-a` is only useful with cgo
after a system C library changed, which the cache cannot see.)

  Bad:   RUN CGO_ENABLED=0 go build -a -installsuffix cgo -o main .
  Good:  RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o main .";

"GO105" "go-build-before-deps" Warning [] "Sources copied before `go mod download`"
"Copying the whole context before downloading modules means any source change invalidates the
layer that downloads dependencies, so every build fetches all modules again. Copy go.mod and
go.sum first, download, then copy the sources.

  Bad:   COPY . .
         RUN go mod download && go build -o /out/app .
  Good:  COPY go.mod go.sum ./
         RUN go mod download
         COPY . .
         RUN go build -o /out/app .";

"GO106" "no-cache-mount" Info [] "go build/download without a BuildKit cache mount"
"BuildKit can keep Go's module cache and build cache between builds with cache mounts, so a
changed source file recompiles one package instead of everything.

  Good:  RUN --mount=type=cache,target=/go/pkg/mod \\
             --mount=type=cache,target=/root/.cache/go-build \\
             go build -o /out/app .";

"GO107" "hardcoded-goos-goarch" Info [] "Hard-coded GOOS/GOARCH instead of TARGETOS/TARGETARCH"
"A builder pinned to GOOS=linux GOARCH=amd64 cannot produce multi-platform images, and with
`--platform` emulation it runs the compiler under QEMU. Run the builder on the build platform
and cross-compile to the target: Go cross-compiles natively.

  Good:  FROM --platform=$BUILDPLATFORM golang:1.23.5 AS build
         ARG TARGETOS TARGETARCH
         RUN GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -o /out/app .";

"GO108" "go-install-unpinned" Warning ["DL3062"] "go install of a tool at @latest or a branch"
"`go install tool@latest` gives a different tool every build. Pin a version.

  Bad:   RUN go install golang.org/x/tools/cmd/stringer@latest
  Good:  RUN go install golang.org/x/tools/cmd/stringer@v0.29.0";

"GO109" "linkmode-external-without-cgo" Error [] "-linkmode external with CGO_ENABLED=0"
"Since Go 1.22 this is an error: \"-linkmode requires external (cgo) linking, but cgo is not
enabled\". It was never needed: a cgo-off binary is already static. Drop
`-linkmode external -extldflags -static`, or enable cgo if the program really needs it.

  Bad:   RUN CGO_ENABLED=0 go build -ldflags='-s -linkmode external -extldflags -static' .
  Good:  RUN CGO_ENABLED=0 go build -ldflags=-s .";

"GO110" "cgo-disabled-but-needed" Error [] "CGO_ENABLED=0 but the module needs cgo"
"The Go module uses cgo (a dependency has `import \"C\"`, e.g. mattn/go-sqlite3). With
CGO_ENABLED=0 the build fails (\"build constraints exclude all Go files\") or, worse, compiles a
stub that fails at run time (go-sqlite3: \"requires cgo to work. This is a stub\"). Known from
the module itself (`gopack lint --go-module`). Build with cgo and link statically, or replace the
dependency with a pure-Go one (modernc.org/sqlite).

  Good:  RUN CGO_ENABLED=1 go build -tags netgo,osusergo \\
             -ldflags='-s -linkmode external -extldflags -static' -o /out/app .";

"GO201" "golang-final-stage" Warning [] "Final image is based on a golang image"
"The final stage ships the whole Go toolchain (hundreds of MB, a shell, a package manager, many
CVEs) to run one static binary. Build in a golang stage, then copy the binary into scratch or
distroless.

  Good:  FROM golang:1.23.5 AS build
         ...
         FROM scratch
         COPY --from=build /out/app /app";

"GO202" "single-stage-build" Warning [] "Go is built and run in a single stage"
"Everything needed to build (toolchain, sources, module cache) ends up in the image. Use a
multi-stage build: compile in one stage, copy only the binary into the final one.";

"GO203" "full-distro-final-base" Warning [] "Full distribution as the final base where scratch/distroless fits"
"The binary is built with CGO_ENABLED=0, so it is static and needs no libc, shell or package
manager. A Debian/Ubuntu/Alpine final base adds megabytes and CVEs for nothing. Use scratch
(copy the CA bundle and passwd from the builder) or gcr.io/distroless/static-debian12:nonroot.";

"GO204" "base-image-unpinned" Warning ["DL3006", "DL3007"] "Base image without a version tag or with :latest"
"An untagged or :latest base changes under you: builds are not reproducible and a new major
version can break the image silently. Pin a version tag; pin the digest too for full
reproducibility.

  Bad:   FROM alpine:latest
  Good:  FROM alpine:3.20@sha256:<digest>";

"GO205" "runs-as-root" Warning ["DL3002"] "Final stage runs as root"
"With no USER (or USER root/0) the process runs as uid 0. Kubernetes `runAsNonRoot` rejects it
and a compromise gets root in the container. Use a numeric non-root user; on scratch and
distroless the convention is 65532 (nonroot).

  Good:  USER 65532:65532";

"GO206" "named-user-on-scratch" Error [] "Non-numeric USER on a scratch image without /etc/passwd"
"A scratch image has no /etc/passwd, so a user name cannot be resolved and the container fails
to start (\"unable to find user\"). Use numeric IDs, or copy /etc/passwd from the builder.

  Bad:   USER nonroot
  Good:  USER 65532:65532";

"GO207" "shell-form-on-shell-less-base" Error [] "Shell-form CMD/ENTRYPOINT on an image without a shell"
"Shell form runs `/bin/sh -c \"...\"`. scratch and distroless have no /bin/sh, so the container
fails at start. Use exec form.

  Bad:   ENTRYPOINT /app --port 8080
  Good:  ENTRYPOINT [\"/app\", \"--port\", \"8080\"]";

"GO208" "scratch-without-ca-bundle" Info [] "scratch final image without a CA bundle"
"On scratch, crypto/x509 finds zero root certificates and returns no error: every TLS handshake
then fails with \"certificate signed by unknown authority\". If the program makes HTTPS calls,
copy the bundle from the builder (or use distroless/static, which has one).

  Good:  COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/";

"GO209" "package-cache-left" Warning ["DL3009", "DL3019", "DL3032", "DL3040"] "Package install without cleanup in the final stage"
"The package manager's index and cache stay in the layer and bloat the image.

  Good:  RUN apk add --no-cache ca-certificates
  Good:  RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\
             && rm -rf /var/lib/apt/lists/*";

"GO301" "add-instead-of-copy" Warning ["DL3020"] "ADD used for local files"
"ADD also fetches URLs and unpacks archives; for plain files COPY says what it does.

  Bad:   ADD . /src
  Good:  COPY . /src";

"GO302" "relative-workdir" Error ["DL3000"] "WORKDIR is a relative path"
"A relative WORKDIR depends on every earlier WORKDIR and is easy to break. Use absolute paths.

  Bad:   WORKDIR app
  Good:  WORKDIR /app";

"GO303" "multiple-cmd-entrypoint" Warning ["DL4003", "DL4004"] "More than one CMD or ENTRYPOINT in a stage"
"Only the last CMD and the last ENTRYPOINT of a stage take effect; the others are dead code that
misleads readers.";

"GO304" "invalid-expose-port" Error ["DL3011"] "EXPOSE port out of range"
"Ports are 0-65535, optionally with /tcp, /udp or /sctp.

  Bad:   EXPOSE 80800
  Good:  EXPOSE 8080/tcp";

"GO305" "maintainer-deprecated" Warning ["DL4000"] "MAINTAINER is deprecated"
"Use a label instead.

  Good:  LABEL org.opencontainers.image.authors=\"team@example.com\"";

"GO306" "copy-from-unknown-stage" Error ["DL3022", "DL3023"] "COPY --from names no earlier stage"
"`--from` must name a stage defined above (or an image reference). A misspelt stage name is
taken as an image to pull and the build fails; a stage cannot copy from itself.

  Bad:   COPY --from=biulder /out/app /app
  Good:  COPY --from=builder /out/app /app";

"GO307" "secret-in-arg-env" Warning [] "Secret-like value in ARG or ENV"
"ARG and ENV values are stored in the image history and config, readable by anyone who can pull
the image. Use BuildKit secrets: RUN --mount=type=secret,id=token ...";

"GO308" "cd-instead-of-workdir" Warning ["DL3003"] "cd in RUN instead of WORKDIR"
"`cd` lasts only for that RUN. Use WORKDIR so every later instruction sees the directory.";

"GO309" "pipe-without-pipefail" Warning ["DL4006"] "RUN with a pipe but without pipefail"
"In `a | b` the shell reports only b's status: if a fails (a download, a build), the step still
succeeds. Set pipefail first.

  Good:  SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]
         RUN wget -O - https://example.com/x | tar xz";

"GO401" "missing-dockerignore" Warning [] "No .dockerignore next to the build context"
"Without .dockerignore the whole directory (.git, binaries, editor files) is sent to the builder
and `COPY . .` puts it in a layer: slow builds, cache misses on every commit, leaked files.
`gopack dockerfile` writes one for Go modules.";

"GO402" "dockerignore-keeps-git" Warning [] ".dockerignore does not exclude .git"
".git changes on every commit, so `COPY . .` misses the cache each time, and the history may
hold secrets. Add `.git` to .dockerignore.";

"GO403" "dockerignore-keeps-tests" Info [] ".dockerignore keeps test files or build outputs"
"*_test.go files, testdata/ and local build outputs (bin/, dist/) are not needed to build the
binary; sending them only invalidates the cache when they change. Exclude them.";

"GO404" "dockerignore-excludes-sources" Error [] ".dockerignore excludes files the build needs"
"go.mod, go.sum or Go sources are excluded, so `COPY` sends an incomplete module and `go build`
fails (\"go.mod file not found\", \"no Go files\"). Remove the pattern or add a `!` exception.";
}

/// Builds findings with positions from spans.
struct Ctx<'a> {
    df: &'a Dockerfile,
    text: &'a str,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        code: &'static str,
        span: Range<usize>,
        message: String,
        fix: Option<String>,
    ) {
        let info = super::rule(code).expect("every emitted code is in RULES");
        let (line, column) = self.df.line_col(self.text, span.start);
        let (end_line, end_column) = self.df.line_col(self.text, span.end);
        self.out.push(Finding {
            code: info.id,
            severity: info.severity,
            message,
            file: FindingFile::Dockerfile,
            line,
            column,
            end_line,
            end_column,
            span,
            fix,
        });
    }

    /// Span of the first line of an instruction (what a reader looks at).
    fn head(&self, inst: &Instruction) -> Range<usize> {
        let end = self.text[inst.span.clone()]
            .find('\n')
            .map_or(inst.span.end, |i| inst.span.start + i);
        inst.span.start..end
    }
}

/// A RUN's script, ready for the shell reader.
pub(crate) fn run_script(inst: &Instruction, escape: char) -> Option<(String, bool)> {
    match &inst.args {
        Args::Command {
            form: CommandForm::Shell(s),
            heredocs,
            ..
        } => {
            let mut script = shell::join_continuations(s, escape);
            for h in heredocs {
                script.push('\n');
                script.push_str(h);
            }
            Some((script, true))
        }
        Args::Command {
            form: CommandForm::Exec(words),
            ..
        } => {
            // ["sh", "-c", "script"] is still a shell script.
            if words.len() >= 3 && words[0].ends_with("sh") && words[1] == "-c" {
                Some((words[2].clone(), true))
            } else {
                Some((
                    words
                        .iter()
                        .map(|w| shell_quote(w))
                        .collect::<Vec<_>>()
                        .join(" "),
                    false,
                ))
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

/// A `go build` or `go install` found in a RUN.
#[derive(Debug, Default)]
struct GoBuild {
    install: bool,
    args: Vec<String>,
    /// CGO_ENABLED in effect: from the command, an export, ENV or ARG. `None` = unset.
    cgo: Option<String>,
    goos: Option<String>,
    goarch: Option<String>,
}

impl GoBuild {
    fn has_flag(&self, name: &str) -> bool {
        let name = name.trim_start_matches('-');
        self.args.iter().filter(|a| a.starts_with('-')).any(|a| {
            let a = a.trim_start_matches('-');
            a == name || a.strip_prefix(name).is_some_and(|r| r.starts_with('='))
        })
    }

    fn flag_value(&self, name: &str) -> Option<String> {
        let name = name.trim_start_matches('-');
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if !a.starts_with('-') {
                continue;
            }
            let a2 = a.trim_start_matches('-');
            if a2 == name {
                return it.next().cloned();
            }
            if let Some(v) = a2.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_string());
            }
        }
        None
    }

    fn ldflags(&self) -> Vec<String> {
        self.flag_value("-ldflags")
            .map(|v| shell::split_words(&v))
            .unwrap_or_default()
    }

    fn cgo_off(&self) -> bool {
        self.cgo.as_deref() == Some("0")
    }
}

/// Stage-level environment: ENV and ARG defaults, inherited through `FROM <stage>`.
fn stage_env(df: &Dockerfile, stage: usize) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for s in df.stage_chain(stage).into_iter().rev() {
        for inst in df.stage_body(&df.stages[s]) {
            if matches!(inst.keyword, "ENV" | "ARG")
                && let Some(t) = inst.text()
            {
                for (k, v) in super::model::parse_assignments(&t.value) {
                    match v {
                        Some(v) => {
                            env.insert(k, v);
                        }
                        None if inst.keyword == "ARG" => {
                            // `ARG TARGETOS` re-declares a global/automatic arg: value comes at build.
                            env.entry(k.clone()).or_insert_with(|| format!("${k}"));
                        }
                        None => {}
                    }
                }
            }
        }
    }
    env
}

/// Finds go build/install commands in one RUN script, tracking exports and env.
fn go_builds(cmds: &[SimpleCommand], env: &HashMap<String, String>) -> Vec<GoBuild> {
    let mut env = env.clone();
    let mut out = Vec::new();
    for c in cmds {
        let c = c.unwrapped();
        match c.program() {
            Some("export") => {
                for w in &c.words[1..] {
                    if let Some((k, v)) = w.split_once('=') {
                        env.insert(k.to_string(), v.to_string());
                    }
                }
            }
            Some("go") => {
                let sub = c.words.get(1).map(String::as_str);
                if sub == Some("env") && c.words.get(2).map(String::as_str) == Some("-w") {
                    for w in &c.words[3..] {
                        if let Some((k, v)) = w.split_once('=') {
                            env.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                if matches!(sub, Some("build" | "install")) {
                    let mut local = env.clone();
                    for (k, v) in &c.assigns {
                        local.insert(k.clone(), v.clone());
                    }
                    let get = |k: &str| local.get(k).cloned();
                    out.push(GoBuild {
                        install: sub == Some("install"),
                        args: c.words[2..].to_vec(),
                        cgo: get("CGO_ENABLED"),
                        goos: get("GOOS"),
                        goarch: get("GOARCH"),
                    });
                }
            }
            _ => {
                for (k, v) in &c.assigns {
                    if c.words.is_empty() {
                        env.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    out
}

fn installs_c_toolchain(cmds: &[SimpleCommand]) -> bool {
    cmds.iter().any(|c| {
        let c = c.unwrapped();
        let is_install = matches!(
            (
                c.words.first().map(String::as_str),
                c.words.get(1).map(String::as_str)
            ),
            (Some("apk"), Some("add"))
                | (
                    Some("apt-get" | "apt" | "yum" | "dnf" | "microdnf"),
                    Some("install")
                )
        );
        is_install
            && c.words.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "gcc"
                        | "build-base"
                        | "musl-dev"
                        | "build-essential"
                        | "clang"
                        | "g++"
                        | "libc6-dev"
                )
            })
    })
}

fn is_golang_image(img: &ImageRef) -> bool {
    img.short_name() == "golang" || img.name.ends_with("/go") && img.name.contains("chainguard")
}

fn is_full_distro(img: &ImageRef) -> bool {
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

fn is_shell_less(base: &Base) -> bool {
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

fn is_nonroot_base(base: &Base) -> bool {
    match base {
        Base::Image(img) => {
            img.tag.as_deref().is_some_and(|t| t.contains("nonroot"))
                || img.name.starts_with("cgr.dev/chainguard/")
        }
        _ => false,
    }
}

/// Runs every Dockerfile rule.
pub fn check(df: &Dockerfile, input: &LintInput<'_>) -> Vec<Finding> {
    let mut ctx = Ctx {
        df,
        text: input.dockerfile,
        out: Vec::new(),
    };
    let mut any_cgo_off_build = false;
    let mut any_go_build = false;

    for stage in &df.stages {
        let env = stage_env(df, stage.index);
        let body = df.stage_body(stage);
        let mut seen_cmd: Option<usize> = None;
        let mut seen_entry: Option<usize> = None;
        let mut source_copy: Option<&Instruction> = None;
        let mut downloaded = false;
        let stage_cmds: Vec<Vec<SimpleCommand>> = body
            .iter()
            .map(|i| {
                run_script(i, df.escape)
                    .filter(|_| i.keyword == "RUN")
                    .map(|(s, _)| shell::parse(&s))
                    .unwrap_or_default()
            })
            .collect();
        let c_toolchain = stage_cmds.iter().any(|c| installs_c_toolchain(c));
        let mut shell_has_pipefail: Option<bool> = None;

        for (pos, inst) in body.iter().enumerate() {
            let idx = stage.body.start + pos;
            match inst.keyword {
                "RUN" => {
                    let cmds = &stage_cmds[pos];
                    let builds = go_builds(cmds, &env);
                    let downloads = cmds.iter().any(|c| {
                        let c = c.unwrapped();
                        c.words.len() >= 3
                            && c.words[0] == "go"
                            && c.words[1] == "mod"
                            && c.words[2] == "download"
                    });
                    if (downloads || builds.iter().any(|b| !b.install))
                        && !downloaded
                        && let Some(copy) = source_copy
                    {
                        {
                            let span = ctx.head(copy);
                            ctx.push(
                                "GO105",
                                span,
                                "sources are copied before `go mod download`: every source change re-downloads all modules".into(),
                                None,
                            );
                        }
                    }
                    if downloads {
                        downloaded = true;
                    }
                    check_go_builds(&mut ctx, inst, &builds, c_toolchain, input);
                    if !builds.is_empty() || downloads {
                        any_go_build |= !builds.is_empty();
                        any_cgo_off_build |= builds.iter().any(|b| !b.install && b.cgo_off());
                        let mounts: Vec<&str> = inst
                            .flags
                            .iter()
                            .filter(|f| f.name == "mount")
                            .filter_map(|f| f.value.as_deref())
                            .filter(|v| v.contains("type=cache"))
                            .collect();
                        if mounts.is_empty() {
                            ctx.push(
                                "GO106",
                                ctx.head(inst),
                                "no BuildKit cache mount for the Go module and build caches".into(),
                                None,
                            );
                        }
                    }
                    check_run_general(&mut ctx, inst, cmds, shell_has_pipefail);
                }
                "COPY" | "ADD" => {
                    if let Args::Copy { sources, .. } = &inst.args {
                        let from = inst.flag("from").and_then(|f| f.value.clone());
                        if from.is_none() && !downloaded && source_copy.is_none() {
                            let only_mod = sources.iter().all(|s| {
                                let base = s.value.rsplit('/').next().unwrap_or(&s.value);
                                matches!(base, "go.mod" | "go.sum" | "go.work" | "go.work.sum")
                                    || s.value.is_empty()
                            });
                            if !only_mod {
                                source_copy = Some(inst);
                            }
                        }
                        if let Some(from) = from {
                            check_copy_from(&mut ctx, df, stage, inst, &from);
                        }
                        if inst.keyword == "ADD" {
                            check_add(&mut ctx, inst, sources);
                        }
                    }
                }
                "CMD" => {
                    if seen_cmd.is_some() {
                        ctx.push(
                            "GO303",
                            ctx.head(inst),
                            "more than one CMD in this stage: only the last one takes effect"
                                .into(),
                            None,
                        );
                    }
                    seen_cmd = Some(idx);
                }
                "ENTRYPOINT" => {
                    if seen_entry.is_some() {
                        ctx.push("GO303", ctx.head(inst), "more than one ENTRYPOINT in this stage: only the last one takes effect".into(), None);
                    }
                    seen_entry = Some(idx);
                }
                "WORKDIR" => {
                    if let Some(t) = inst.text() {
                        let v = t.value.trim_matches('"');
                        let windows = v.len() > 1 && v.as_bytes()[1] == b':';
                        if !v.starts_with('/') && !v.starts_with('$') && !windows {
                            ctx.push(
                                "GO302",
                                t.span.clone(),
                                format!("WORKDIR `{v}` is relative: use an absolute path"),
                                Some(format!("/{v}")),
                            );
                        }
                    }
                }
                "SHELL" => {
                    // A non-POSIX shell (pwsh, cmd) has no pipefail to ask for.
                    shell_has_pipefail = Some(match &inst.args {
                        Args::List(l) => {
                            let posix = l.first().is_some_and(|w| w.value.ends_with("sh"));
                            !posix || l.iter().any(|w| w.value.contains("pipefail"))
                        }
                        _ => false,
                    });
                }
                "EXPOSE" => check_expose(&mut ctx, inst),
                "MAINTAINER" => {
                    let who = inst.text().map(|t| t.value.clone()).unwrap_or_default();
                    ctx.push(
                        "GO305",
                        ctx.head(inst),
                        "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors"
                            .into(),
                        Some(format!(
                            "LABEL org.opencontainers.image.authors=\"{}\"",
                            who.replace('"', "\\\"")
                        )),
                    );
                }
                "ARG" | "ENV" => check_secrets(&mut ctx, inst),
                _ => {}
            }
        }
    }
    for inst in df
        .instructions
        .iter()
        .filter(|i| i.stage.is_none() && i.keyword == "ARG")
    {
        check_secrets(&mut ctx, inst);
    }
    for stage in &df.stages {
        check_base_pinned(&mut ctx, df, stage);
    }
    check_final_stage(&mut ctx, df, input, any_go_build, any_cgo_off_build);
    ctx.out
}

fn check_go_builds(
    ctx: &mut Ctx<'_>,
    inst: &Instruction,
    builds: &[GoBuild],
    c_toolchain: bool,
    input: &LintInput<'_>,
) {
    let head = ctx.head(inst);
    for b in builds {
        if b.install {
            for pkg in b.args.iter().filter(|a| !a.starts_with('-')) {
                if let Some((_, ver)) = pkg.rsplit_once('@')
                    && matches!(ver, "latest" | "master" | "main" | "HEAD")
                {
                    ctx.push(
                        "GO108",
                        head.clone(),
                        format!("`go install {pkg}` is not pinned: use a version tag"),
                        None,
                    );
                }
            }
        }
        let ld = b.ldflags();
        let has = |f: &str| {
            ld.iter()
                .any(|x| x == f || x.strip_prefix(f).is_some_and(|r| r == "=true" || r == "=1"))
        };
        let linkmode_external = ld.iter().any(|x| x == "-linkmode=external")
            || ld
                .windows(2)
                .any(|w| w[0] == "-linkmode" && w[1] == "external");
        if b.cgo_off() && linkmode_external {
            ctx.push(
                "GO109",
                head.clone(),
                "`-linkmode external` with CGO_ENABLED=0 fails since Go 1.22 and is never needed: a cgo-off binary is static".into(),
                None,
            );
        }
        if b.install && b.args.iter().any(|a| a.contains('@')) {
            continue; // installing a tool, not building the program
        }
        let cgo_explicit_on = b.cgo.as_deref() == Some("1");
        let needs_cgo = input.facts.needs_cgo;
        let flag_cgo = match needs_cgo {
            Some(true) => false,
            Some(false) => !b.cgo_off(),
            None => b.cgo.is_none() && !c_toolchain && !linkmode_external,
        };
        if flag_cgo {
            let why = if cgo_explicit_on {
                "CGO_ENABLED=1 but the module needs no cgo"
            } else {
                "CGO_ENABLED is not set to 0"
            };
            ctx.push(
                "GO101",
                head.clone(),
                format!(
                    "{why}: the binary may link libc dynamically and fail on scratch/distroless"
                ),
                None,
            );
        }
        if needs_cgo == Some(true) && b.cgo_off() {
            ctx.push(
                "GO110",
                head.clone(),
                "CGO_ENABLED=0 but the module needs cgo: the build fails or a stub fails at run time".into(),
                None,
            );
        }
        if !b.has_flag("-trimpath") {
            ctx.push(
                "GO102",
                head.clone(),
                format!(
                    "`go {}` without -trimpath: builder paths end up in the binary",
                    if b.install { "install" } else { "build" }
                ),
                None,
            );
        }
        if !has("-s") {
            ctx.push(
                "GO103",
                head.clone(),
                "-ldflags has no -s: symbol table and DWARF stay in the binary (~30% of its size)"
                    .into(),
                None,
            );
        }
        let mut obsolete = vec![];
        if b.has_flag("-a") {
            obsolete.push("-a");
        }
        if b.has_flag("-installsuffix") {
            obsolete.push("-installsuffix");
        }
        if !obsolete.is_empty() {
            ctx.push(
                "GO104",
                head.clone(),
                format!("obsolete flag(s) {}: the Go 1.10+ build cache makes them useless (and -a ~60x slower)", obsolete.join(" ")),
                None,
            );
        }
        let hard = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| !v.is_empty() && !v.contains('$'))
        };
        if hard(&b.goos) || hard(&b.goarch) {
            let mut what = vec![];
            if let Some(v) = b.goos.as_deref().filter(|_| hard(&b.goos)) {
                what.push(format!("GOOS={v}"));
            }
            if let Some(v) = b.goarch.as_deref().filter(|_| hard(&b.goarch)) {
                what.push(format!("GOARCH={v}"));
            }
            ctx.push(
                "GO107",
                head.clone(),
                format!(
                    "hard-coded {}: use $TARGETOS/$TARGETARCH for multi-platform builds",
                    what.join(" ")
                ),
                None,
            );
        }
    }
}

fn check_run_general(
    ctx: &mut Ctx<'_>,
    inst: &Instruction,
    cmds: &[SimpleCommand],
    shell_pipefail: Option<bool>,
) {
    let head = ctx.head(inst);
    if cmds.iter().any(|c| c.unwrapped().program() == Some("cd")) {
        ctx.push(
            "GO308",
            head.clone(),
            "`cd` in RUN: use WORKDIR to change directory".into(),
            None,
        );
    }
    let shell_form = matches!(
        &inst.args,
        Args::Command {
            form: CommandForm::Shell(_),
            ..
        }
    );
    if shell_form && shell::has_pipe(cmds) && shell_pipefail != Some(true) {
        let set_in_script = cmds.iter().any(|c| {
            let c = c.unwrapped();
            c.program() == Some("set")
                && (c.words.iter().any(|w| w == "pipefail")
                    || c.words.iter().any(|w| {
                        w.starts_with('-')
                            && w.contains('o')
                            && c.words.iter().any(|x| x == "pipefail")
                    }))
        });
        if !set_in_script {
            ctx.push(
                "GO309",
                head,
                "RUN pipes commands without `set -o pipefail`: a failure before the pipe is hidden"
                    .into(),
                None,
            );
        }
    }
}

fn check_copy_from(
    ctx: &mut Ctx<'_>,
    df: &Dockerfile,
    stage: &Stage,
    inst: &Instruction,
    from: &str,
) {
    let span = inst
        .flag("from")
        .map_or_else(|| ctx.head(inst), |f| f.span.clone());
    let from_expanded = super::model::expand_args(from, &df.global_args);
    let looks_like_image = from_expanded.contains(['/', ':', '.', '$']);
    if let Ok(n) = from_expanded.parse::<usize>() {
        if n >= stage.index {
            ctx.push(
                "GO306",
                span,
                format!("`--from={n}` does not refer to an earlier stage"),
                None,
            );
        }
        return;
    }
    match df.stage_by_ref(&from_expanded) {
        Some(i) if i == stage.index => ctx.push(
            "GO306",
            span,
            format!("`--from={from}` copies from the stage it is in"),
            None,
        ),
        Some(i) if i > stage.index => ctx.push(
            "GO306",
            span,
            format!("`--from={from}` refers to a later stage"),
            None,
        ),
        Some(_) => {}
        None if !looks_like_image => {
            let names: Vec<&str> = df.stages[..stage.index]
                .iter()
                .filter_map(|s| s.name.as_deref())
                .collect();
            let hint = if names.is_empty() {
                String::new()
            } else {
                format!(" (stages: {})", names.join(", "))
            };
            ctx.push("GO306", span, format!("`--from={from}` names no stage defined above{hint}; it would be pulled as an image"), None);
        }
        None => {}
    }
}

fn check_add(ctx: &mut Ctx<'_>, inst: &Instruction, sources: &[super::model::Spanned]) {
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
    if !sources.is_empty() && !sources.iter().any(|s| special(&s.value)) {
        // The fix replaces the keyword only.
        ctx.push(
            "GO301",
            inst.span.start..inst.span.start + "ADD".len(),
            "ADD for local files: use COPY".into(),
            Some("COPY".into()),
        );
    }
}

fn check_expose(ctx: &mut Ctx<'_>, inst: &Instruction) {
    let Args::List(ports) = &inst.args else {
        return;
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
                "GO304",
                p.span.clone(),
                format!("`{v}` is not a valid port (0-65535[/tcp|udp|sctp])"),
                None,
            );
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

fn check_secrets(ctx: &mut Ctx<'_>, inst: &Instruction) {
    let Some(t) = inst.text() else { return };
    for (name, value) in super::model::parse_assignments(&t.value) {
        if !looks_like_secret(&name) {
            continue;
        }
        // An ARG without a value is still passed with --build-arg and lands in the history.
        if inst.keyword == "ENV" && value.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        ctx.push(
            "GO307",
            t.span.clone(),
            format!("{} `{name}` looks like a secret: it is stored in the image; use RUN --mount=type=secret", inst.keyword),
            None,
        );
    }
}

fn check_base_pinned(ctx: &mut Ctx<'_>, df: &Dockerfile, stage: &Stage) {
    let Base::Image(img) = &stage.base else {
        return;
    };
    if img.unresolved || img.digest.is_some() {
        return;
    }
    let from = &df.instructions[stage.from];
    let span = match &from.args {
        Args::From { image, .. } => image.span.clone(),
        _ => ctx.head(from),
    };
    match img.tag.as_deref() {
        None => ctx.push(
            "GO204",
            span,
            format!(
                "`{}` has no tag: pin a version (and ideally a digest)",
                stage.image
            ),
            None,
        ),
        Some("latest") => ctx.push(
            "GO204",
            span,
            format!(
                "`{}` uses :latest: pin a version (and ideally a digest)",
                stage.image
            ),
            None,
        ),
        _ => {}
    }
}

fn check_final_stage(
    ctx: &mut Ctx<'_>,
    df: &Dockerfile,
    input: &LintInput<'_>,
    any_go_build: bool,
    any_cgo_off: bool,
) {
    let Some(fin) = df.final_stage() else { return };
    let from_inst = &df.instructions[fin.from];
    let from_span = ctx.head(from_inst);
    let root = df.root_base(fin.index).clone();
    let chain = df.stage_chain(fin.index);
    let chain_insts: Vec<&Instruction> = chain
        .iter()
        .rev()
        .flat_map(|&s| df.stage_body(&df.stages[s]).iter())
        .collect();

    if let Base::Image(img) = &root
        && is_golang_image(img)
    {
        ctx.push(
            "GO201",
            from_span.clone(),
            format!(
                "the final image is based on `{}`: the Go toolchain ships with the program",
                fin.image
            ),
            None,
        );
    }
    if df.stages.len() == 1 && any_go_build {
        ctx.push("GO202", from_span.clone(), "single-stage build: sources and toolchain end up in the image; build in one stage, copy the binary into scratch".into(), None);
    }
    if let Base::Image(img) = &root {
        let cgo_free = input.facts.needs_cgo == Some(false)
            || (input.facts.needs_cgo.is_none() && any_cgo_off);
        if is_full_distro(img) && cgo_free && df.stages.len() > 1 {
            ctx.push(
                "GO203",
                from_span.clone(),
                format!(
                    "`{}` as final base for a static Go binary: scratch or distroless/static fits",
                    fin.image
                ),
                None,
            );
        }
    }

    // USER: the last one along the stage chain.
    let last_user = chain_insts
        .iter()
        .rev()
        .find(|i| i.keyword == "USER")
        .copied();
    match last_user {
        None if !is_nonroot_base(&root) => ctx.push(
            "GO205",
            from_span.clone(),
            "the final stage has no USER: the program runs as root".into(),
            None,
        ),
        Some(u) => {
            let v = u
                .text()
                .map(|t| t.value.trim().to_string())
                .unwrap_or_default();
            let user = v.split(':').next().unwrap_or("");
            if user == "root" || user == "0" {
                ctx.push(
                    "GO205",
                    ctx.head(u),
                    format!("USER {v}: the program runs as root"),
                    Some("USER 65532:65532".into()),
                );
            }
        }
        None => {}
    }

    let copies_passwd = chain_insts.iter().any(|i| match &i.args {
        Args::Copy { sources, dest, .. } if matches!(i.keyword, "COPY" | "ADD") => {
            dest.value.contains("/etc/passwd")
                || dest.value == "/etc/"
                || dest.value == "/etc"
                || sources.iter().any(|s| s.value.ends_with("/etc/passwd"))
        }
        _ => false,
    });
    for s in &df.stages {
        if !matches!(df.root_base(s.index), Base::Scratch) {
            continue;
        }
        for u in df.stage_body(s).iter().filter(|i| i.keyword == "USER") {
            let v = u
                .text()
                .map(|t| t.value.trim().to_string())
                .unwrap_or_default();
            let named = v.split(':').any(|p| {
                !p.is_empty() && !p.starts_with('$') && !p.chars().all(|c| c.is_ascii_digit())
            });
            if named && !copies_passwd {
                ctx.push("GO206", ctx.head(u), format!("USER {v} on scratch: there is no /etc/passwd to resolve the name; use numeric IDs"), Some("USER 65532:65532".into()));
            }
        }
    }

    if is_shell_less(&root) {
        for i in df
            .stage_body(fin)
            .iter()
            .filter(|i| matches!(i.keyword, "CMD" | "ENTRYPOINT"))
        {
            if let Args::Command {
                form: CommandForm::Shell(s),
                span,
                ..
            } = &i.args
            {
                let words = shell::split_words(&shell::join_continuations(s, df.escape));
                let fix = format!(
                    "[{}]",
                    words
                        .iter()
                        .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                ctx.push(
                    "GO207",
                    span.clone(),
                    format!(
                        "shell-form {} on `{}`: there is no /bin/sh, the container will not start",
                        i.keyword, fin.image
                    ),
                    Some(fix),
                );
            }
        }
    }

    if matches!(root, Base::Scratch) && input.facts.needs_tls != Some(false) {
        let has_ca = chain_insts.iter().any(|i| match &i.args {
            Args::Copy { sources, dest, .. } => sources.iter().chain([dest]).any(|s| {
                s.value.contains("ca-certificates")
                    || s.value.contains("/etc/ssl")
                    || s.value.contains("ca-bundle")
                    || s.value.contains("cert.pem")
            }),
            _ => false,
        });
        if !has_ca {
            let sev_note = if input.facts.needs_tls == Some(true) {
                "the program makes TLS connections"
            } else {
                "if the program makes TLS connections"
            };
            ctx.push(
                "GO208",
                from_span.clone(),
                format!(
                    "scratch final image without a CA bundle: {sev_note}, every handshake will fail"
                ),
                None,
            );
            if input.facts.needs_tls == Some(true)
                && let Some(last) = ctx.out.last_mut()
            {
                last.severity = Severity::Warning;
            }
        }
    }

    for i in df.stage_body(fin).iter().filter(|i| i.keyword == "RUN") {
        let Some((script, _)) = run_script(i, df.escape) else {
            continue;
        };
        let cmds = shell::parse(&script);
        let words_of = |c: &SimpleCommand| c.unwrapped().words;
        let has_cmd = |p: &dyn Fn(&[String]) -> bool| cmds.iter().any(|c| p(&words_of(c)));
        let cache_mount = i.flags.iter().any(|f| {
            f.name == "mount" && f.value.as_deref().is_some_and(|v| v.contains("type=cache"))
        });
        if cache_mount {
            continue;
        }
        let mut problems = vec![];
        if has_cmd(&|w| {
            w.first().is_some_and(|p| p == "apk")
                && w.get(1).is_some_and(|s| s == "add")
                && !w.iter().any(|x| x == "--no-cache")
        }) && !script.contains("/var/cache/apk")
        {
            problems.push("`apk add` without --no-cache");
        }
        if has_cmd(&|w| {
            w.first().is_some_and(|p| p == "apt-get" || p == "apt")
                && w.iter().any(|s| s == "install")
        }) && !script.contains("/var/lib/apt/lists")
        {
            problems.push("`apt-get install` without `rm -rf /var/lib/apt/lists/*`");
        }
        for pm in ["yum", "dnf", "microdnf"] {
            if has_cmd(&|w| w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "install"))
                && !has_cmd(&|w| {
                    w.first().is_some_and(|p| p == pm) && w.iter().any(|s| s == "clean")
                })
            {
                problems.push(match pm {
                    "yum" => "`yum install` without `yum clean all`",
                    "dnf" => "`dnf install` without `dnf clean all`",
                    _ => "`microdnf install` without `microdnf clean all`",
                });
            }
        }
        for p in problems {
            ctx.push(
                "GO209",
                ctx.head(i),
                format!("{p}: the package cache stays in the final image"),
                None,
            );
        }
    }
}
