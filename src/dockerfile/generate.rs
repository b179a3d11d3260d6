//! `gopack dockerfile`: the multi-stage Dockerfile and `.dockerignore` a Go module should have.
//!
//! A pure function of a [`GenerateSpec`]; the CLI fills the spec from the project (go.mod,
//! `go list`) and writes the files. The output passes `gopack lint` and hadolint with no
//! findings.

use std::fmt::Write as _;

/// Where the binaries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalBase {
    /// `scratch` plus the CA bundle and a passwd/group with nonroot from the builder.
    Scratch,
    /// `gcr.io/distroless/static-debian12:nonroot` (CA bundle, passwd, tzdata included).
    Distroless,
}

/// One main package to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainTarget {
    /// Binary name (`go build`'s choice: last import path element).
    pub name: String,
    /// Package path relative to the module root: `.` or `./cmd/api`.
    pub package: String,
}

/// A module the build needs before `go mod download`: a local `replace` target or a module of
/// the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModule {
    /// Directory relative to the build context, `/`-separated, without `./`: `sdk`, `libs/x`.
    pub dir: String,
    /// It has a go.sum to copy (a module without dependencies has none).
    pub has_go_sum: bool,
}

/// Everything the generator needs to know.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    /// The main module's path from go.mod, named in the header comment.
    pub module: String,
    /// `x.y.z` for the `golang:<x.y.z>-alpine` builder.
    pub go_version: String,
    /// The commands to build, one final stage each (at least one).
    pub mains: Vec<MainTarget>,
    /// The module has a go.sum (a module without dependencies has none; COPY would fail).
    pub has_go_sum: bool,
    /// The module's directory relative to the build context (`.` when the context is the
    /// module root; `app` when a `replace ../sdk` makes the parent the context).
    pub module_dir: String,
    /// Local replacement targets and workspace modules other than the main one.
    pub local_modules: Vec<LocalModule>,
    /// A go.work at the context root (with a go.work.sum when the bool is true) is used.
    pub workspace: Option<bool>,
    /// vendor/modules.txt exists: build with -mod=vendor and download nothing.
    pub vendored: bool,
    /// The final stages' base: scratch (with CA bundle and passwd/group) or distroless.
    pub final_base: FinalBase,
    /// Port written as `EXPOSE` in every final stage.
    pub port: Option<u16>,
    /// The module needs cgo: use the static-cgo recipe.
    pub cgo: bool,
}

/// Why no Dockerfile can be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// go.mod has no `go` line, or one that is not `1.N[.P]` (the text found, if any).
    #[error(
        "go.mod has no usable `go` line (found {0:?}): add `go 1.xx` so the builder image can be pinned"
    )]
    NoGoVersion(Option<String>),
    /// No main package was found or named.
    #[error(
        "no main package to build: pass --main ./cmd/NAME or run in a module with `package main`"
    )]
    NoMains,
    /// A binary name with characters other than letters, digits, `.`, `_`, `-` (or a leading
    /// `.`), which would break the Dockerfile's paths.
    #[error(
        "binary name `{0}` is not usable in a Dockerfile path (allowed: letters, digits, . _ -)"
    )]
    BadName(String),
}

/// The distroless image used with [`FinalBase::Distroless`].
pub const DISTROLESS_STATIC: &str = "gcr.io/distroless/static-debian12:nonroot";

/// The builder's Go version: the highest of the `go` and `toolchain` lines, or the installed
/// Go when it has the same minor version and a newer patch (the one the developer tests with).
/// `1.23` becomes `1.23.0`, since a Docker tag `1.23` floats.
pub fn builder_go_version(
    go_line: Option<&str>,
    toolchain: Option<&str>,
    installed: Option<&str>,
) -> Result<String, GenerateError> {
    // A pre-release (`1.21rc1`) rounds to its release.
    let parse = |s: &str| -> Option<(u32, u32, u32)> {
        crate::project::GoVersion::parse(s).map(|v| (v.major, v.minor, v.patch))
    };
    let go = go_line
        .and_then(parse)
        .ok_or_else(|| GenerateError::NoGoVersion(go_line.map(str::to_string)))?;
    let mut best = go;
    if let Some(tc) = toolchain.and_then(parse) {
        best = best.max(tc);
    }
    if let Some(inst) = installed.and_then(parse)
        && (inst.0, inst.1) == (best.0, best.1)
        && inst > best
    {
        best = inst;
    }
    Ok(format!("{}.{}.{}", best.0, best.1, best.2))
}

fn check_name(name: &str) -> Result<(), GenerateError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(GenerateError::BadName(name.to_string()))
    }
}

/// The Dockerfile text.
pub fn dockerfile(spec: &GenerateSpec) -> Result<String, GenerateError> {
    if spec.mains.is_empty() {
        return Err(GenerateError::NoMains);
    }
    for m in &spec.mains {
        check_name(&m.name)?;
    }
    let mut s = String::new();
    write_header(&mut s, spec);
    write_builder_stage(&mut s, spec);
    write_module_steps(&mut s, spec);
    write_build_step(&mut s, spec);
    for m in &spec.mains {
        write_final_stage(&mut s, spec, m);
    }
    Ok(s)
}

/// The syntax line and the comments saying what generated the file and how to build it.
fn write_header(w: &mut String, spec: &GenerateSpec) {
    let _ = writeln!(w, "# syntax=docker/dockerfile:1");
    let _ = writeln!(
        w,
        "# Generated by gopack {} for {}.",
        env!("CARGO_PKG_VERSION"),
        spec.module
    );
    if let Some(cmd) = build_command(spec) {
        let _ = writeln!(
            w,
            "# The build needs files outside this module: build from the directory above with\n#   {cmd}"
        );
    }
    if spec.mains.len() > 1 {
        let names: Vec<&str> = spec.mains.iter().map(|m| m.name.as_str()).collect();
        let _ = writeln!(
            w,
            "# One image per command: docker build --target <{}> .",
            names.join("|")
        );
    }
}

/// The `build` stage up to the module steps: its base (native for cgo, cross-compiling
/// otherwise) and, for a scratch final image, the passwd/group files it copies.
fn write_builder_stage(w: &mut String, spec: &GenerateSpec) {
    let v = &spec.go_version;
    let _ = writeln!(w);
    if spec.cgo {
        let _ = writeln!(
            w,
            "# This module needs cgo. The builder compiles natively for each target platform (C cross"
        );
        let _ = writeln!(
            w,
            "# compilers are not set up), links statically against musl, and uses the pure-Go DNS"
        );
        let _ = writeln!(
            w,
            "# resolver and user lookup (netgo, osusergo), so the binary still runs on an empty base."
        );
        let _ = writeln!(w, "FROM golang:{v}-alpine AS build");
        let _ = writeln!(
            w,
            "# Package versions follow the pinned Alpine release of the golang image."
        );
        let _ = writeln!(w, "# hadolint ignore=DL3018");
        let _ = writeln!(w, "RUN apk add --no-cache gcc musl-dev");
    } else {
        let _ = writeln!(
            w,
            "# The builder runs on the build machine and cross-compiles: Go needs no emulation."
        );
        let _ = writeln!(
            w,
            "FROM --platform=$BUILDPLATFORM golang:{v}-alpine AS build"
        );
    }
    let _ = writeln!(w, "WORKDIR /src");
    if spec.final_base == FinalBase::Scratch {
        let _ = writeln!(
            w,
            "# scratch has no /etc/passwd: give it root, nobody and nonroot (65532), as distroless does."
        );
        let _ = writeln!(
            w,
            "RUN mkdir -p /out/etc \\\n    && printf '%s\\n' 'root:x:0:0:root:/root:/sbin/nologin' \\\n        'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \\\n        'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /out/etc/passwd \\\n    && printf '%s\\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /out/etc/group"
        );
    }
}

/// The one `RUN go build` of every command, with the cgo or cross-compiling settings.
fn write_build_step(w: &mut String, spec: &GenerateSpec) {
    let extra = if spec.cgo {
        let _ = writeln!(w, "ENV CGO_ENABLED=1");
        " -tags netgo,osusergo -ldflags=\"-s -linkmode external -extldflags -static\""
    } else {
        let _ = writeln!(w, "ARG TARGETOS TARGETARCH");
        let _ = writeln!(w, "ENV CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH");
        " -ldflags=-s"
    };
    let vendor = if spec.vendored { " -mod=vendor" } else { "" };
    let _ = writeln!(
        w,
        "# -trimpath: reproducible, no builder paths; -s: no symbol table or DWARF (about a third smaller)."
    );
    let builds: Vec<String> = spec
        .mains
        .iter()
        .map(|m| {
            format!(
                "go build -trimpath{vendor}{extra} -o /out/bin/{} {}",
                m.name, m.package
            )
        })
        .collect();
    let _ = writeln!(
        w,
        "RUN --mount=type=cache,target=/go/pkg/mod \\\n    --mount=type=cache,target=/root/.cache/go-build \\\n    {}",
        builds.join(" \\\n    && ")
    );
}

/// The final stage of one command, named after it.
fn write_final_stage(w: &mut String, spec: &GenerateSpec, m: &MainTarget) {
    let _ = writeln!(w);
    match spec.final_base {
        FinalBase::Scratch => {
            let _ = writeln!(w, "FROM scratch AS {}", m.name);
            let _ = writeln!(
                w,
                "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt"
            );
            let _ = writeln!(w, "COPY --from=build /out/etc/passwd /out/etc/group /etc/");
        }
        FinalBase::Distroless => {
            let _ = writeln!(w, "FROM {DISTROLESS_STATIC} AS {}", m.name);
        }
    }
    let _ = writeln!(
        w,
        "COPY --from=build /out/bin/{0} /usr/local/bin/{0}",
        m.name
    );
    let _ = writeln!(w, "USER 65532:65532");
    if let Some(p) = spec.port {
        let _ = writeln!(w, "EXPOSE {p}");
    }
    let _ = writeln!(w, "ENTRYPOINT [\"/usr/local/bin/{}\"]", m.name);
}

/// The module steps: go.mod/go.sum of every module the build needs (and go.work), the module
/// download (not for a vendored module: it downloads nothing), then the sources.
fn write_module_steps(w: &mut String, spec: &GenerateSpec) {
    let at = |dir: &str, file: &str| {
        if dir == "." {
            file.to_string()
        } else {
            format!("{dir}/{file}")
        }
    };
    let dest = |dir: &str| {
        if dir == "." {
            "./".to_string()
        } else {
            format!("{dir}/")
        }
    };
    let module_dir = spec.module_dir.as_str();
    if !spec.vendored {
        let _ = writeln!(
            w,
            "# Modules first: this layer is reused until a go.mod or go.sum changes."
        );
        let mut files = vec![at(module_dir, "go.mod")];
        if spec.has_go_sum {
            files.push(at(module_dir, "go.sum"));
        }
        let _ = writeln!(w, "COPY {} {}", files.join(" "), dest(module_dir));
        if !spec.local_modules.is_empty() {
            let _ = writeln!(
                w,
                "# go mod download reads the go.mod of every local module the build uses."
            );
        }
        for m in &spec.local_modules {
            let mut files = vec![at(&m.dir, "go.mod")];
            if m.has_go_sum {
                files.push(at(&m.dir, "go.sum"));
            }
            let _ = writeln!(w, "COPY {} {}", files.join(" "), dest(&m.dir));
        }
        if let Some(sum) = spec.workspace {
            let files = if sum {
                "go.work go.work.sum"
            } else {
                "go.work"
            };
            let _ = writeln!(w, "COPY {files} ./");
        }
        if module_dir != "." {
            let _ = writeln!(w, "WORKDIR /src/{module_dir}");
        }
        let _ = writeln!(
            w,
            "RUN --mount=type=cache,target=/go/pkg/mod \\\n    go mod download"
        );
        if module_dir != "." {
            let _ = writeln!(w, "WORKDIR /src");
        }
    } else {
        let _ = writeln!(
            w,
            "# The module is vendored: the build reads vendor/ and downloads nothing."
        );
    }
    let _ = writeln!(w, "COPY . .");
    if module_dir != "." {
        let _ = writeln!(w, "WORKDIR /src/{module_dir}");
    }
}

/// Where the files are written and how to build, when the build context is not the module
/// root (a `replace ../sdk` or a workspace above the module).
pub fn build_command(spec: &GenerateSpec) -> Option<String> {
    (spec.module_dir != ".").then(|| {
        let up = spec
            .module_dir
            .split('/')
            .map(|_| "..")
            .collect::<Vec<_>>()
            .join("/");
        format!("docker build -f Dockerfile {up}")
    })
}

/// The `.dockerignore` text: send only what `go build` needs.
pub fn dockerignore(spec: &GenerateSpec) -> String {
    let mut s = dockerignore_base().to_string();
    if spec.workspace.is_some() {
        // The workspace file is what ties the modules together: keep it.
        s = s.replace(
            "# Workspace files point outside the context\ngo.work\ngo.work.sum\n",
            "",
        );
    }
    s
}

fn dockerignore_base() -> &'static str {
    "# Generated by gopack: send the builder only what `go build` needs.
# Version control and CI
.git
.gitignore
.gitattributes
.github/
.gitlab-ci.yml
# Docker files (changing them must not bust the source layer)
Dockerfile*
.dockerignore
docker-compose*.yml
# Workspace files point outside the context
go.work
go.work.sum
# Tests are not needed to build the binary
**/*_test.go
**/testdata/
# Local build outputs
bin/
dist/
*.exe
*.test
*.out
# Editors, OS, secrets
.vscode/
.idea/
*.swp
*~
.DS_Store
.env
.env.*
"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_version_rules() {
        assert_eq!(
            builder_go_version(Some("1.23"), None, None).unwrap(),
            "1.23.0"
        );
        assert_eq!(
            builder_go_version(Some("1.22.3"), Some("go1.23.1"), None).unwrap(),
            "1.23.1"
        );
        assert_eq!(
            builder_go_version(Some("1.23"), None, Some("go1.23.5")).unwrap(),
            "1.23.5"
        );
        assert_eq!(
            builder_go_version(Some("1.23"), None, Some("go1.26.8")).unwrap(),
            "1.23.0"
        );
        assert_eq!(
            builder_go_version(Some("1.21rc1"), None, None).unwrap(),
            "1.21.0"
        );
        assert!(builder_go_version(None, None, Some("go1.26.8")).is_err());
    }
}
