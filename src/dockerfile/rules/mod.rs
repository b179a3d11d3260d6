//! The lint rules: a catalogue ([`RULES`], one [`RuleId`] per rule) and one function per rule
//! over the facts gathered once from a parsed Dockerfile ([`facts`]).
//!
//! IDs: `GO0xx` parsing, `GO1xx` Go build, `GO2xx` image, `GO3xx` general Dockerfile
//! essentials, `GO4xx` `.dockerignore`. Each rule knows the hadolint rules it matches, so
//! `# hadolint ignore=DLxxxx` pragmas keep working. A rule decides the severity of each finding
//! it makes (the catalogue holds the default).

pub(crate) mod facts;
mod general;
mod go;
mod image;

pub use general::looks_like_secret;

use std::fmt;
use std::ops::Range;

use super::model::{Dockerfile, Instruction};
use super::{Finding, FindingFile, LintInput, Severity};

pub(crate) use facts::run_script;

/// A rule's fixed description.
#[derive(Debug)]
pub struct RuleInfo {
    /// The rule's ID (`GO101`).
    pub id: RuleId,
    /// Short kebab-case name (SARIF `name`).
    pub name: &'static str,
    /// The default severity (a rule may raise or lower it for one finding).
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: &'static str,
    /// Why it matters and how to fix it, with an example (`--explain`, SARIF help).
    pub explanation: &'static str,
    /// One line: how to fix it (shown under every finding).
    pub fix: &'static str,
    /// hadolint rules with the same meaning.
    pub hadolint: &'static [&'static str],
}

macro_rules! rules {
    ($($id:ident $name:literal $sev:ident [$($dl:literal),*] $summary:literal $expl:literal $fix:literal;)*) => {
        /// Every rule's ID. A misspelt ID is a compile error.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum RuleId { $(#[doc = $summary] $id),* }

        impl RuleId {
            /// `"GO101"`.
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$id => stringify!($id)),* }
            }
        }

        /// Every rule gopack knows, in ID order.
        pub static RULES: &[RuleInfo] = &[$(RuleInfo {
            id: RuleId::$id, name: $name, severity: Severity::$sev, summary: $summary,
            explanation: $expl, fix: $fix, hadolint: &[$($dl),*],
        }),*];
    };
}

impl RuleId {
    /// The rule with this ID, case-insensitive.
    pub fn parse(s: &str) -> Option<RuleId> {
        RULES
            .iter()
            .find(|r| r.id.as_str().eq_ignore_ascii_case(s))
            .map(|r| r.id)
    }

    /// The rule's fixed description from [`RULES`].
    pub fn info(self) -> &'static RuleInfo {
        RULES
            .iter()
            .find(|r| r.id == self)
            .expect("RULES holds every RuleId")
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

rules! {
GO001 "parse-error" Error []
"The Dockerfile cannot be parsed, or BuildKit refuses an instruction's flags"
"BuildKit rejects this file too: its parser stops at the same line, or its instruction check
refuses the instruction before the build starts (unknown keyword, wrong number of arguments, an
unterminated here-document, a stage name used twice, a flag the instruction does not have or one
given twice). Fix the syntax first. No other rule runs on a file that does not parse; a refused
flag is reported on the flag and the other rules still run, since the rest reads fine.

  Bad:   FROM golang:1.23 AS
  Good:  FROM golang:1.23 AS builder
  Bad:   COPY --form=build /out/app /app      (unknown flag: --form)
  Bad:   FROM --platform= --platform=arm64 …  (duplicate flag: --platform)"
"fix the instruction at that line; BuildKit stops there too";

GO101 "cgo-not-disabled" Warning []
"cgo is on where the binary is built, and the final image has another libc"
"cgo is on when CGO_ENABLED=1, or when it is unset and a C compiler is on PATH (golang:<v>
Debian images ship gcc; golang:<v>-alpine does not, until `apk add gcc`). Then a program that
imports net or os/user links against the build stage's libc dynamically, and the binary does not
start on scratch or distroless/static (no libc at all: \"no such file or directory\") nor on a base
with the other libc (glibc-built on Alpine, musl-built on Debian). Build with CGO_ENABLED=0 when
the module needs no cgo: the binary is static, reproducible and runs anywhere. If it does need
cgo (mattn/go-sqlite3), link statically (see `gopack dockerfile`).

  Bad:   FROM golang:1.24-alpine AS build
         RUN apk add --no-cache gcc musl-dev
         RUN go build -o /out/app .
         FROM scratch
  Good:  RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/app ."
"build with CGO_ENABLED=0, or link statically: -tags netgo,osusergo -ldflags '-linkmode external -extldflags -static'";

GO102 "missing-trimpath" Warning []
"go build without -trimpath"
"Without -trimpath the builder's file-system paths (/app, /go/pkg/mod/...) are written into the
binary: the build is not reproducible across directories and leaks the build layout. -trimpath
also leaves GOROOT out of the binary. It costs nothing.

  Bad:   RUN CGO_ENABLED=0 go build -o /out/app .
  Good:  RUN CGO_ENABLED=0 go build -trimpath -o /out/app ."
"add -trimpath to go build";

GO103 "missing-strip" Info []
"go build without -s in -ldflags"
"-ldflags=-s drops the symbol table and, since -s implies -w, the DWARF data: about a third of
the binary. Stack traces still work (.gopclntab is kept). `-s -w` is the same as `-s`; `-w` alone
keeps the symbol table. Only checked where go build links a program (`-o`, one package): a build
of several packages (`./...`) writes no binary.

  Bad:   RUN go build -trimpath -o /out/app .
  Good:  RUN go build -trimpath -ldflags=-s -o /out/app ."
"add -ldflags=-s (it implies -w)";

GO104 "obsolete-build-flags" Warning []
"Obsolete or no-op go build flags (-a, -installsuffix, -extldflags -static without cgo)"
"Since Go 1.10 the build cache is content-based: it knows when a package must be rebuilt, so `-a`
only forces a full rebuild (about 60x slower, bit-identical output). `-installsuffix cgo` names
an install directory for prebuilt archives that no longer exist ($GOROOT/pkg has none since Go
1.20); it has no effect. Both are leftovers of pre-2018 advice. (`-a` is only useful with cgo
after a system C library changed, which the cache cannot see.) `-ldflags '-extldflags -static'`
with cgo off (CGO_ENABLED=0, or golang:*-alpine without gcc) does nothing: Go's internal linker
links the program and never calls the external one; the binary is static already.

  Bad:   RUN CGO_ENABLED=0 go build -a -installsuffix cgo -ldflags '-extldflags \"-static\"' -o main .
  Good:  RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o main ."
"drop -a, -installsuffix and (with cgo off) -extldflags -static";

GO105 "go-build-before-deps" Warning []
"Sources copied before the modules are downloaded"
"Copying the whole context before the modules are downloaded means any source change invalidates
the layer that downloads dependencies, so every build fetches all modules again. It happens with
`go mod download` and with every command that downloads on demand: go build, go install, go run,
go test, go mod vendor, go mod tidy, and a `make`/script build after `COPY . .` in a golang
stage. Copy go.mod and go.sum first (`COPY go.* ./` is fine), download, then copy the sources.
Not reported for a vendored build (-mod=vendor), Go before 1.11 or GO111MODULE=off (no
modules), a module with no go.sum (no dependencies), a RUN whose cache mount keeps the module
cache (nothing is downloaded again), or sources that come from another stage. Checked along
`FROM <stage>` chains and in ONBUILD COPY/RUN.

  Bad:   COPY . .
         RUN go mod download && go build -o /out/app .
  Good:  COPY go.mod go.sum ./
         RUN go mod download
         COPY . .
         RUN go build -o /out/app ."
"COPY go.mod go.sum ./ and RUN go mod download before COPY . .";

GO106 "no-cache-mount" Info []
"go build/download without BuildKit cache mounts for both Go caches"
"BuildKit can keep Go's module cache (GOMODCACHE, /go/pkg/mod) and build cache (GOCACHE,
/root/.cache/go-build) between builds with cache mounts, so a changed source file recompiles one
package instead of everything. Reported once per stage, on its build RUN, when a go build,
install, run or mod download lacks either mount (`go mod download` needs only the module
cache); a mount of /go/pkg/mod/cache keeps downloads but not the extracted modules.

  Good:  RUN --mount=type=cache,target=/go/pkg/mod \\
             --mount=type=cache,target=/root/.cache/go-build \\
             go build -o /out/app ."
"RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build …";

GO107 "hardcoded-goos-goarch" Info []
"Hard-coded GOARCH instead of TARGETARCH"
"A builder pinned to GOARCH=amd64 cannot produce multi-platform images, and with `--platform`
emulation it runs the compiler under QEMU. Run the builder on the build platform and
cross-compile to the target: Go cross-compiles natively. (GOOS=linux alone is harmless: images
are Linux.)

  Good:  FROM --platform=$BUILDPLATFORM golang:1.23.5 AS build
         ARG TARGETOS TARGETARCH
         RUN GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -o /out/app ."
"FROM --platform=$BUILDPLATFORM golang:… then ARG TARGETOS TARGETARCH and GOOS=$TARGETOS GOARCH=$TARGETARCH";

GO108 "go-install-unpinned" Warning ["DL3062"]
"go install/go get of a remote package without a pinned version"
"`go install tool@latest` (or a branch) and `go get example.com/pkg` without a version give a
different program every build. Pin a version. Local packages (`./...`, `.`) and `go install pkg`
in a module (the version comes from go.mod) are pinned already. Found inside if/for/case, `&&`
chains and subshells, in RUN and ONBUILD RUN.

  Bad:   RUN go install golang.org/x/tools/cmd/stringer@latest
  Good:  RUN go install golang.org/x/tools/cmd/stringer@v0.29.0"
"pin a version: go install example.com/tool@v1.2.3";

GO109 "linkmode-external-without-cgo" Error []
"-linkmode external with CGO_ENABLED=0"
"Since Go 1.22 this is an error: \"-linkmode requires external (cgo) linking, but cgo is not
enabled\". It was never needed: a cgo-off binary is already static. Drop
`-linkmode external -extldflags -static`, or enable cgo if the program really needs it.

  Bad:   RUN CGO_ENABLED=0 go build -ldflags='-s -linkmode external -extldflags -static' .
  Good:  RUN CGO_ENABLED=0 go build -ldflags=-s ."
"drop -linkmode external -extldflags -static (a cgo-off binary is already static)";

GO110 "cgo-disabled-but-needed" Error []
"CGO_ENABLED=0 but the module needs cgo"
"The Go module uses cgo (a dependency has `import \"C\"`, e.g. mattn/go-sqlite3). With
CGO_ENABLED=0 the build fails (\"build constraints exclude all Go files\") or, worse, compiles a
stub that fails at run time (go-sqlite3: \"requires cgo to work. This is a stub\"). Known from
the module itself (`gopack lint --go-module`). Build with cgo and link statically, or replace the
dependency with a pure-Go one (modernc.org/sqlite).

  Good:  RUN CGO_ENABLED=1 go build -tags netgo,osusergo \\
             -ldflags='-s -linkmode external -extldflags -static' -o /out/app ."
"build with CGO_ENABLED=1 and link statically, or use a pure-Go replacement";

GO111 "cross-build-under-emulation" Warning []
"TARGETOS/TARGETARCH used in a stage without --platform=$BUILDPLATFORM"
"The stage cross-compiles with GOOS=$TARGETOS GOARCH=$TARGETARCH, but its FROM has no
`--platform=$BUILDPLATFORM`: for another target platform BuildKit pulls the builder for that
platform and runs the whole Go toolchain under QEMU emulation (often 5-20x slower), although Go
cross-compiles natively.

  Bad:   FROM golang:1.24 AS build
         ARG TARGETARCH
         RUN GOARCH=$TARGETARCH go build -o /out/app .
  Good:  FROM --platform=$BUILDPLATFORM golang:1.24 AS build"
"add --platform=$BUILDPLATFORM to the FROM of the build stage";

GO112 "lowercase-go-env" Warning []
"Lower-case Go environment variable (a no-op)"
"Environment variable names are case-sensitive: Go reads CGO_ENABLED, GOOS, GOARCH, GOFLAGS,
GOPROXY…, never `cgo_enabled`. A lower-case name sets nothing, and the build silently runs with
the defaults (cgo on when a C compiler is present).

  Bad:   ENV cgo_enabled=0
  Good:  ENV CGO_ENABLED=0"
"write the name in upper case";

GO113 "go-mod-tidy-in-build" Warning []
"go mod tidy in the image build"
"`go mod tidy` rewrites go.mod and go.sum inside the build: the image is built from dependency
versions the repository does not pin, and a build can pass while `go build` on the committed
files fails. Run tidy in development or CI; in the image use `go mod download` and build with
-mod=readonly (the default).

  Bad:   RUN go mod tidy && go build -o /out/app .
  Good:  RUN go mod download"
"drop go mod tidy from the Dockerfile; run it before committing";

GO114 "build-time-in-ldflags" Warning []
"-X stamps the build time: the binary is not reproducible"
"`-ldflags \"-X main.date=$(date …)\"` writes the wall-clock time into the binary: every build gives
different bytes and a different image digest, and caches never hit. Use the commit time
(`git log -1 --format=%cI`), SOURCE_DATE_EPOCH, or Go's own build info (vcs.time is the commit
time, read with debug.ReadBuildInfo).

  Bad:   RUN go build -ldflags \"-X main.built=$(date -u +%FT%TZ)\" -o /out/app .
  Good:  ARG SOURCE_DATE_EPOCH
         RUN go build -ldflags \"-X main.built=${SOURCE_DATE_EPOCH}\" -o /out/app ."
"stamp SOURCE_DATE_EPOCH or the commit time instead of $(date)";

GO115 "target-platform-ignored" Warning []
"A --platform=$BUILDPLATFORM builder declares TARGETARCH but go build gets no GOARCH"
"The stage runs on the build machine's platform and declares TARGETARCH (or TARGETPLATFORM),
but no go build in it sets GOARCH: Go builds for the platform it runs on, so an image built for
another platform (`docker buildx build --platform linux/arm64,linux/amd64`) receives a binary for
the build machine and fails with \"exec format error\". Pass the target to go build (the reverse
of GO111).

  Bad:   FROM --platform=$BUILDPLATFORM golang:1.24 AS build
         ARG TARGETOS TARGETARCH
         RUN CGO_ENABLED=0 go build -o /out/app .
  Good:  RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ."
"RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build …";

GO116 "static-cgo-without-netgo" Info []
"cgo linked statically against glibc without -tags netgo,osusergo"
"With cgo, os/user lookups (and DNS, when Go picks the cgo resolver) call glibc's NSS functions,
which load libnss_*.so with dlopen at run time even in a statically linked binary: the linker
warns \"Using 'getaddrinfo' in statically linked applications requires at runtime the shared
libraries from the glibc version used for linking\", and on scratch or distroless/static the
lookups fail. The build tags netgo and osusergo select Go's own resolver and user lookup, so the
static binary needs nothing at run time. (musl has no NSS: Alpine builds are not reported.)

  Bad:   RUN CGO_ENABLED=1 go build -ldflags '-linkmode external -extldflags -static' -o /app .
  Good:  RUN CGO_ENABLED=1 go build -tags netgo,osusergo \\
             -ldflags '-linkmode external -extldflags -static' -o /app ."
"add -tags netgo,osusergo to the static cgo build";

GO201 "golang-final-stage" Warning []
"Final image is based on a golang image"
"The final stage ships the whole Go toolchain (hundreds of MB, a shell, a package manager, many
CVEs) to run one static binary. Build in a golang stage, then copy the binary into scratch or
distroless. Also reported when the build runs through make or a script and the image runs the
program it built, and when the last stage is a live-reload development image (air, reflex…):
`docker build` without --target builds the last stage, so put the production stage last.

  Good:  FROM golang:1.23.5 AS build
         ...
         FROM scratch
         COPY --from=build /out/app /app"
"build in a golang stage, then COPY --from=build the binary into scratch or distroless";

GO202 "single-stage-build" Warning []
"Go is built and run in a single stage"
"Everything needed to build (toolchain, sources, module cache) ends up in the image. Use a
multi-stage build: compile in one stage, copy only the binary into the final one."
"add a final FROM scratch (or distroless) stage and COPY --from=build only the binary";

GO203 "full-distro-final-base" Warning []
"Full distribution as the final base where scratch/distroless fits"
"The binary is static (CGO_ENABLED=0; cgo unset on golang:*-alpine, which has no C compiler;
or cgo linked with -extldflags -static), so it needs no libc, shell or package manager. A
Debian/Ubuntu/Alpine final base that only adds a CA bundle or tzdata adds megabytes and CVEs for
nothing: distroless/static has both. (A final stage that installs other packages, e.g. git for a
program that runs it, or runs a program copied from the context, is left alone.)

  Good:  FROM gcr.io/distroless/static-debian12:nonroot"
"use FROM gcr.io/distroless/static-debian12:nonroot (or scratch with the CA bundle)";

GO204 "base-image-unpinned" Warning ["DL3006", "DL3007"]
"Base image without a version tag or with :latest (for golang: without a Go minor)"
"An untagged or :latest base changes under you: builds are not reproducible and a new major
version can break the image silently. For golang images the Go version is what matters: a tag
without a Go minor (`golang:alpine`, `golang:alpine3.10`, `golang:bookworm`, `golang:1`) gets
each new Go release. Pin a version tag; pin the digest too for full reproducibility.

  Bad:   FROM alpine:latest
  Bad:   FROM golang:alpine
  Good:  FROM alpine:3.20@sha256:<digest>
  Good:  FROM golang:1.24.5-alpine3.22"
"pin a version tag (and a digest): FROM alpine:3.20@sha256:…";

GO205 "runs-as-root" Warning ["DL3002"]
"Final stage runs as root"
"With no USER (or USER root/0) the process runs as uid 0. Kubernetes `runAsNonRoot` rejects it
and a compromise gets root in the container. Use a numeric non-root user; on scratch and
distroless the convention is 65532 (nonroot). Checked along the chain of stages the final one is
built on; a base image gopack does not know may set its own USER, so only well-known bases count.
When the last stage is a live-reload development image (GO201), the production stage before it
is the one checked.

  Good:  USER 65532:65532"
"add USER 65532:65532 to the final stage";

GO206 "named-user-on-scratch" Error []
"Non-numeric USER on a scratch image without /etc/passwd"
"A scratch image has no /etc/passwd, so a user name cannot be resolved and the container fails
to start (\"unable to find user\"). Use numeric IDs, or copy /etc/passwd from the builder.

  Bad:   USER nonroot
  Good:  USER 65532:65532"
"use numeric IDs: USER 65532:65532";

GO207 "shell-form-on-shell-less-base" Error []
"Shell-form CMD/ENTRYPOINT on an image without a shell"
"Shell form runs `/bin/sh -c \"...\"`. scratch and distroless have no /bin/sh, so the container
fails at start. Use exec form.

  Bad:   ENTRYPOINT /app --port 8080
  Good:  ENTRYPOINT [\"/app\", \"--port\", \"8080\"]"
"use exec form: ENTRYPOINT [\"/app\", \"--flag\"]";

GO208 "scratch-without-ca-bundle" Info []
"scratch final image without a CA bundle"
"On scratch, crypto/x509 finds zero root certificates and returns no error: every TLS handshake
then fails with \"certificate signed by unknown authority\". If the program makes HTTPS calls,
copy the bundle from the builder (or use distroless/static, which has one).

  Good:  COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"
"COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/";

GO209 "package-cache-left" Warning ["DL3009", "DL3019", "DL3032", "DL3040"]
"Package install without cleanup in the final stage"
"The package manager's index and cache stay in the layer and bloat the image. Checked in the
final stage and in every stage it is built FROM.

  Good:  RUN apk add --no-cache ca-certificates
  Good:  RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\
             && rm -rf /var/lib/apt/lists/*"
"apk add --no-cache …, or apt-get install … && rm -rf /var/lib/apt/lists/*";

GO210 "go-run-at-start" Warning []
"CMD/ENTRYPOINT runs `go run`: the program is compiled at every start"
"`go run` compiles the program each time the container starts: slow starts, the whole toolchain
and module cache in the image, and a crash loop when the module proxy is unreachable. Build the
binary in the image build and run it.

  Bad:   CMD [\"go\", \"run\", \"main.go\"]
  Good:  RUN go build -o /out/app .
         ...
         ENTRYPOINT [\"/app\"]"
"RUN go build -o /app . in a build stage and ENTRYPOINT [\"/app\"]";

GO211 "no-entrypoint" Warning []
"The final image has no ENTRYPOINT or CMD"
"The final stage (and the stages it is built on) sets neither ENTRYPOINT nor CMD, so the image
runs the base image's default (a shell on Alpine/Debian, nothing at all on scratch and
distroless: \"no command specified\"). Name the program.

  Good:  ENTRYPOINT [\"/usr/local/bin/app\"]"
"add ENTRYPOINT [\"/path/to/binary\"] to the final stage";

GO212 "source-in-final-image" Warning []
"The source tree is copied into the final image"
"The final image receives the whole build context (`COPY . .`) or the build stage's source
directory (`COPY --from=build /src ./`) instead of the binary alone: sources, go.mod, tests, maybe
.git and secrets ship with the program, and every source change makes a new image layer.

  Bad:   COPY --from=build /go/src/app ./
  Good:  COPY --from=build /go/src/app/app /usr/local/bin/app"
"COPY --from=build only the binary (and the data files it reads)";

GO213 "entrypoint-not-built" Error []
"ENTRYPOINT names a file the build never writes"
"The ENTRYPOINT (or CMD) runs a path that the COPY --from into the final image does not provide:
the build stage writes its binary elsewhere (`go build -o /out/app`, then `COPY --from=build
/out/server /server`). The build fails at the COPY or the container fails with \"no such file\".
Checked when the `-o` path, the COPY paths and the ENTRYPOINT are all literal.

  Bad:   RUN go build -o /out/app .
         COPY --from=build /out/server /server
  Good:  COPY --from=build /out/app /server"
"copy the path go build -o writes, and run the path it is copied to";

GO214 "moving-tag" Warning []
"Base image tag that moves (`*-latest`, `latest-*`)"
"Tags like `buildgo-latest`, `latest-alpine` or `stable-latest` follow new releases just as `:latest`
does: the base changes under the build, which is not reproducible and may break silently. Pin a
version tag, and a digest for full reproducibility. A tag built from a build argument moves too
when its literal part does (`distroless/static:latest-$ARCH`).

  Bad:   FROM umputun/baseimage:buildgo-latest
  Good:  FROM umputun/baseimage:buildgo-v1.14.0"
"pin a version tag (and a digest)";

GO215 "non-numeric-user" Info ["DL3066"]
"USER names a user instead of a numeric ID"
"Kubernetes cannot tell whether a named user is root: with `runAsNonRoot: true` (required by
the restricted Pod Security Standard) and no `runAsUser`, the kubelet refuses to start the
container (\"image has non-numeric user (nonroot), cannot verify user is non-root\"). A numeric
UID works everywhere; on distroless and Chainguard images `nonroot` is 65532. (A name on scratch
without /etc/passwd is GO206, an error.)

  Bad:   USER nonroot:nonroot
  Good:  USER 65532:65532"
"use the numeric IDs: USER 65532:65532 for distroless's nonroot";

GO216 "dev-package-in-final" Warning []
"Development packages (-dev, -devel) installed in the final image"
"A `-dev`/`-devel` package holds headers, static libraries and pkg-config files for compiling
against a library; a Go program built with cgo needs only the runtime library at run time. The
extra files grow the image and the attack surface, and pull in the library anyway. Install the
runtime package in the final stage (Alpine: the name without -dev; Debian: libfooN). Not
reported when the final image compiles (a C compiler, a golang base, a live-reload dev image).

  Bad:   RUN apk add --no-cache libgit2-dev
  Good:  RUN apk add --no-cache libgit2"
"install the runtime package (without -dev) in the final stage";

GO301 "add-instead-of-copy" Warning ["DL3020"]
"ADD used for local files"
"ADD also fetches URLs and unpacks archives; for plain files COPY says what it does.

  Bad:   ADD . /src
  Good:  COPY . /src"
"use COPY";

GO302 "relative-workdir" Error ["DL3000"]
"WORKDIR is a relative path"
"A relative WORKDIR depends on every earlier WORKDIR and is easy to break. Use absolute paths.

  Bad:   WORKDIR app
  Good:  WORKDIR /app"
"use an absolute path: WORKDIR /app";

GO303 "multiple-cmd-entrypoint" Warning ["DL4003", "DL4004"]
"More than one CMD or ENTRYPOINT in a stage"
"Only the last CMD and the last ENTRYPOINT of a stage take effect; the others are dead code that
misleads readers."
"keep only the last CMD/ENTRYPOINT of the stage";

GO304 "invalid-expose-port" Error ["DL3011"]
"EXPOSE port out of range"
"Ports are 0-65535, optionally with /tcp, /udp or /sctp.

  Bad:   EXPOSE 80800
  Good:  EXPOSE 8080/tcp"
"use a port 0-65535 with an optional /tcp, /udp or /sctp";

GO305 "maintainer-deprecated" Warning ["DL4000"]
"MAINTAINER is deprecated"
"Use a label instead.

  Good:  LABEL org.opencontainers.image.authors=\"team@example.com\""
"LABEL org.opencontainers.image.authors=\"…\"";

GO306 "copy-from-unknown-stage" Error ["DL3022", "DL3023"]
"COPY --from names no earlier stage"
"`--from` must name a stage defined above, or an image. A stage name with a typo is taken as an
image to pull and the build fails; a stage cannot copy from itself or from a later stage.
A name that is no stage and not close to one is an image reference (`--from=golang:1.23`,
`--from=busybox`) and is fine.

  Bad:   COPY --from=biulder /out/app /app
  Good:  COPY --from=builder /out/app /app"
"name a stage defined above (or a full image reference)";

GO307 "secret-in-arg-env" Warning []
"Secret-like value in ARG or ENV"
"ARG and ENV values are stored in the image history and config, readable by anyone who can pull
the image. Use BuildKit secrets: RUN --mount=type=secret,id=token ..."
"pass secrets with RUN --mount=type=secret,id=… instead";

GO308 "cd-instead-of-workdir" Warning ["DL3003"]
"cd in RUN instead of WORKDIR"
"`cd` lasts only for that RUN. Use WORKDIR so every later instruction sees the directory. A cd
inside a subshell `( cd /out && tar c . )` is scoped on purpose and is not reported."
"use WORKDIR /dir before the RUN (a cd inside ( … ) is fine)";

GO309 "pipe-without-pipefail" Warning ["DL4006"]
"RUN with a pipe but without pipefail"
"In `a | b` the shell reports only b's status: if a fails (a download, a build), the step still
succeeds. Set pipefail first.

  Good:  SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]
         RUN wget -O - https://example.com/x | tar xz"
"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before the RUN, or set -o pipefail in it";

GO310 "export-lost-between-runs" Warning []
"A variable exported in one RUN is used in a later RUN"
"Every RUN starts a new shell: `export VAR=…` (or `VAR=…`) lasts until the end of its RUN. A
later RUN that uses $VAR gets an empty string, so the flag or path it was meant to carry is
silently dropped. Set it with ENV or ARG, or use it in the same RUN. (Not reported when the later
RUN sources a file, or when ENV/ARG define the name.)

  Bad:   RUN if [ \"$(go env GOARCH)\" != arm ]; then export PIE=-buildmode=pie; fi
         RUN go build $PIE -o /out/app .
  Good:  RUN if [ \"$(go env GOARCH)\" != arm ]; then PIE=-buildmode=pie; fi; \\
             go build $PIE -o /out/app ."
"use the variable in the RUN that sets it, or set it with ENV/ARG";

GO311 "missing-operator-at-continuation" Warning []
"A continued line joins the next command into the previous one's arguments"
"A line of a RUN ends with `\\` but no `&&`, `;` or `|`, so the command on the next line becomes
arguments of the previous command: `touch dummy.go \\` then `golangci-lint run` creates files
named golangci-lint and run, and the linter never runs. Reported when the next line starts with
a program the Dockerfile runs elsewhere and the previous command takes file names (touch, mkdir,
rm, cp, mv, ln, chmod, chown, cd).

  Bad:   RUN touch dummy.go \\
             golangci-lint run
  Good:  RUN touch dummy.go && \\
             golangci-lint run"
"end the line with && \\ (or ; \\)";

GO312 "unpinned-git-clone" Warning []
"git clone of a branch that moves"
"`git clone URL` (no --branch) or `--branch main` takes whatever the branch holds when the image
is built: two builds of the same Dockerfile get different code, and a compromised or broken push
lands in the next image unreviewed. Clone a tag or check out a commit. (Not reported when a
`git checkout`, `git reset` or `git switch` in that RUN or a later one of the stage picks the
commit, nor for a --branch whose value comes from a build argument without default.)

  Bad:   RUN git clone https://github.com/nats-io/natscli.git
  Good:  RUN git clone --depth 1 --branch v0.1.5 https://github.com/nats-io/natscli.git"
"clone a tag (--branch vX.Y.Z) or git checkout a commit after the clone";

GO313 "world-writable-files" Warning []
"chmod gives every user write access in the final image"
"`chmod 777` (or o+w, a+w) lets any process in the container, whatever its user, replace the
files: a compromised unprivileged process can rewrite the program or its configuration. Give the
files to the user that runs the program instead (COPY --chown=65532:65532, chown) and keep the
mode at 755/644 (775 when a group shares them).

  Bad:   RUN chmod -R 777 /home/app
  Good:  COPY --chown=65532:65532 --from=build /out/data /home/app"
"chown the files to the runtime user and keep 755/644";

GO401 "missing-dockerignore" Warning []
"No .dockerignore next to the build context"
"Without .dockerignore the whole directory (.git, binaries, editor files) is sent to the builder
and `COPY . .` puts it in a layer: slow builds, cache misses on every commit, leaked files.
`gopack dockerfile` writes one for Go modules."
"write a .dockerignore (gopack dockerfile makes one for Go modules)";

GO402 "dockerignore-keeps-git" Warning []
".dockerignore does not exclude .git"
".git changes on every commit, so `COPY . .` misses the cache each time, and the history may
hold secrets. Add `.git` to .dockerignore. Not reported when the build runs git on the context
(git describe for a version stamp needs .git)."
"add .git to .dockerignore";

GO403 "dockerignore-keeps-tests" Info []
".dockerignore keeps test files or build outputs"
"*_test.go files, testdata/ and local build outputs (bin/, dist/) are not needed to build the
binary; sending them only invalidates the cache when they change. Exclude them."
"add **/*_test.go, **/testdata/ and local output directories to .dockerignore";

GO404 "dockerignore-excludes-sources" Error []
".dockerignore excludes files the build needs"
"go.mod, go.sum or Go sources are excluded, so `COPY` sends an incomplete module and `go build`
fails (\"go.mod file not found\", \"no Go files\"). Remove the pattern or add a `!` exception. With
a build context directory, the Go files in it are checked; without one, go.mod, go.sum and any
`.go` file."
"remove the pattern or add a ! exception for the files the build needs";
}

/// Builds findings with positions from spans.
pub(crate) struct Ctx<'a> {
    pub df: &'a Dockerfile,
    pub text: &'a str,
    pub out: Vec<Finding>,
}

impl Ctx<'_> {
    /// Adds a finding with the rule's default severity; the rule may change the returned
    /// finding (severity, fix) before the next one.
    pub fn push(&mut self, rule: RuleId, span: Range<usize>, message: String) -> &mut Finding {
        let (line, column) = self.df.line_col(self.text, span.start);
        let (end_line, end_column) = self.df.line_col(self.text, span.end);
        self.out.push(Finding {
            code: rule,
            severity: rule.info().severity,
            message,
            file: FindingFile::Dockerfile,
            line,
            column,
            end_line,
            end_column,
            span,
            fix: None,
        });
        self.out.last_mut().expect("just pushed")
    }

    /// Span of the first line of an instruction (what a reader looks at).
    pub fn head(&self, inst: &Instruction) -> Range<usize> {
        head(self.text, inst)
    }

    /// Span of the line of a RUN that holds the command at `offset` in its script, from the
    /// command to the end of that line (a trailing line continuation left out). A script rebuilt
    /// from an exec form points at the instruction's first line.
    pub fn at(&self, run: &facts::Run<'_>, offset: usize) -> Range<usize> {
        let outer = &run.outer.span;
        let Some(map) = run.map.as_ref().filter(|m| !m.text.is_empty()) else {
            return self.head(run.outer);
        };
        let start = map.to_file(offset.min(map.text.len() - 1));
        if !outer.contains(&start) || !self.text.is_char_boundary(start) {
            return self.head(run.outer);
        }
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i)
            .min(outer.end);
        let blank = [' ', '\t', '\r'];
        let line = self.text[start..end].trim_end_matches(blank);
        let line = line
            .strip_suffix(self.df.escape)
            .unwrap_or(line)
            .trim_end_matches(blank);
        start..start + line.len().max(1).min(end - start)
    }
}

/// Span of the first line of an instruction.
pub(crate) fn head(text: &str, inst: &Instruction) -> Range<usize> {
    let end = text[inst.span.clone()]
        .find('\n')
        .map_or(inst.span.end, |i| inst.span.start + i);
    inst.span.start..end.max(inst.span.start)
}

type Check = fn(&mut Ctx<'_>, &facts::Facts<'_>);

/// The Dockerfile rules, in ID order (GO4xx are in `ignore`).
const CHECKS: &[(RuleId, Check)] = &[
    (RuleId::GO101, go::go101),
    (RuleId::GO102, go::go102),
    (RuleId::GO103, go::go103),
    (RuleId::GO104, go::go104),
    (RuleId::GO105, go::go105),
    (RuleId::GO106, go::go106),
    (RuleId::GO107, go::go107),
    (RuleId::GO108, go::go108),
    (RuleId::GO109, go::go109),
    (RuleId::GO110, go::go110),
    (RuleId::GO111, go::go111),
    (RuleId::GO112, go::go112),
    (RuleId::GO113, go::go113),
    (RuleId::GO114, go::go114),
    (RuleId::GO115, go::go115),
    (RuleId::GO116, go::go116),
    (RuleId::GO201, image::go201),
    (RuleId::GO202, image::go202),
    (RuleId::GO203, image::go203),
    (RuleId::GO204, image::go204),
    (RuleId::GO205, image::go205),
    (RuleId::GO206, image::go206),
    (RuleId::GO207, image::go207),
    (RuleId::GO208, image::go208),
    (RuleId::GO209, image::go209),
    (RuleId::GO210, image::go210),
    (RuleId::GO211, image::go211),
    (RuleId::GO212, image::go212),
    (RuleId::GO213, image::go213),
    (RuleId::GO214, image::go214),
    (RuleId::GO215, image::go215),
    (RuleId::GO216, image::go216),
    (RuleId::GO301, general::go301),
    (RuleId::GO302, general::go302),
    (RuleId::GO303, general::go303),
    (RuleId::GO304, general::go304),
    (RuleId::GO305, general::go305),
    (RuleId::GO306, general::go306),
    (RuleId::GO307, general::go307),
    (RuleId::GO308, general::go308),
    (RuleId::GO309, general::go309),
    (RuleId::GO310, general::go310),
    (RuleId::GO311, general::go311),
    (RuleId::GO312, general::go312),
    (RuleId::GO313, general::go313),
];

/// Runs every Dockerfile rule.
pub fn check(df: &Dockerfile, input: &LintInput<'_>) -> Vec<Finding> {
    let facts = facts::Facts::gather(df, input);
    let mut ctx = Ctx {
        df,
        text: input.dockerfile,
        out: Vec::new(),
    };
    for refused in &df.refused_flags {
        ctx.push(
            RuleId::GO001,
            refused.span.clone(),
            format!("BuildKit refuses this file: {}", refused.message),
        );
    }
    for (_, rule) in CHECKS {
        rule(&mut ctx, &facts);
    }
    ctx.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dockerfile_rule_has_a_check() {
        for r in RULES {
            let n = r.id.as_str();
            if n.starts_with("GO0") || n.starts_with("GO4") {
                continue;
            }
            assert!(CHECKS.iter().any(|(id, _)| *id == r.id), "{n} has no check");
        }
    }
}
