//! Issue 14 (lint on real Dockerfiles) and issue 8 items 7 and 13 (lint reading hostile
//! files): every example as a test, through the CLI and its JSON output so that the same test
//! can be pointed at an older gopack (`GOPACK_LINT_BIN=/path/to/gopack`) to see it fail there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    std::env::var_os("GOPACK_LINT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gopack")))
}

/// Runs gopack with a deadline; a run past it is killed and reported as a hang.
pub(crate) fn run(args: &[&str], dir: &Path, limit: Duration) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("gopack {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (line, code) of every finding on a Dockerfile text (no .dockerignore checks).
pub(crate) fn findings(text: &str) -> Vec<(u64, String)> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("Dockerfile"), text).unwrap();
    let out = run(
        &[
            "lint",
            "--no-dockerignore",
            "-f",
            "json",
            "-t",
            "none",
            "Dockerfile",
        ],
        tmp.path(),
        Duration::from_secs(30),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn has(f: &[(u64, String)], code: &str) -> bool {
    f.iter().any(|(_, c)| c == code)
}

pub(crate) fn at(f: &[(u64, String)], line: u64, code: &str) -> bool {
    f.iter().any(|(l, c)| *l == line && c == code)
}

#[test]
fn heredocs_in_every_form_buildkit_accepts_parse_and_the_rest_is_checked() {
    let cases = [
        "FROM golang:1.24\nRUN cat <<EOF > /etc/app.conf\nkey=value\nEOF\n",
        "FROM golang:1.24\nRUN python3 <<EOF\nprint('hi')\nEOF\n",
        "FROM golang:1.24\nRUN apt-get update && \\\n    cat <<EOF > /x\nhi\nEOF\n",
        "FROM golang:1.24\nRUN <<A cat > /a && <<B cat > /b\na\nA\nb\nB\n",
        "FROM golang:1.24\nRUN cat <<-\"EOT\" > /x\n\tquoted $HOME\n\tEOT\n",
        "FROM golang:1.24\nCOPY <<EOF /etc/x.conf\nk=v\nEOF\n",
        "FROM golang:1.24\nONBUILD RUN cat <<EOF > /x\nhi\nEOF\n",
    ];
    for text in cases {
        // A relative WORKDIR after the here-document is still found: the file was checked.
        let text = format!("{text}WORKDIR relative\n");
        let f = findings(&text);
        assert!(!has(&f, "GO001"), "{text}\n{f:?}");
        let line = text.lines().count() as u64;
        assert!(at(&f, line, "GO302"), "{text}\n{f:?}");
    }
}

#[test]
fn a_line_ending_in_two_escapes_is_not_a_continuation() {
    let f = findings("FROM alpine:3.20\nRUN echo a \\\\\nWORKDIR relative\nUSER 1\n");
    assert!(at(&f, 3, "GO302"), "{f:?}");
}

const CGO_EXAMPLE: &str = "FROM golang:1.24-alpine AS build
RUN apk add --no-cache gcc musl-dev
WORKDIR /src
COPY . .
RUN go build -trimpath -ldflags=-s -o /out/app .
FROM scratch
COPY --from=build /out/app /app
USER 65532
ENTRYPOINT [\"/app\"]
";

#[test]
fn go101_fires_on_a_c_compiler_with_a_scratch_final_stage_only() {
    assert!(at(&findings(CGO_EXAMPLE), 5, "GO101"));
    // golang:*-alpine has no C compiler: cgo is off already.
    let no_gcc = CGO_EXAMPLE.replace("RUN apk add --no-cache gcc musl-dev\n", "");
    assert!(!has(&findings(&no_gcc), "GO101"));
    // Same libc at run time: musl build on an Alpine final stage.
    let same = CGO_EXAMPLE.replace("FROM scratch", "FROM alpine:3.20");
    assert!(!has(&findings(&same), "GO101"));
    // Linked statically: fine on scratch.
    let static_ = CGO_EXAMPLE.replace(
        "-ldflags=-s",
        "-tags netgo,osusergo -ldflags='-s -linkmode external -extldflags -static'",
    );
    assert!(!has(&findings(&static_), "GO101"));
    // golang:<v> (Debian) has gcc: a glibc binary on scratch.
    let debian = CGO_EXAMPLE
        .replace("golang:1.24-alpine", "golang:1.24")
        .replace("RUN apk add --no-cache gcc musl-dev\n", "");
    assert!(has(&findings(&debian), "GO101"));
}

#[test]
fn go105_module_globs_are_not_sources_and_every_downloading_command_counts() {
    let glob = "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY go.* ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app .\n";
    assert!(!has(&findings(glob), "GO105"));
    for cmd in [
        "go install ./cmd/app",
        "go mod vendor",
        "go run ./tools/gen",
    ] {
        let text = format!("FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN {cmd}\n");
        assert!(at(&findings(&text), 3, "GO105"), "{cmd}");
    }
}

#[test]
fn go108_finds_go_install_and_go_get_through_compound_statements_and_onbuild() {
    for run in [
        "RUN if [ -n \"$DEV\" ]; then go install github.com/go-delve/delve/cmd/dlv@latest; fi",
        "RUN for t in a b; do go install golang.org/x/tools/cmd/stringer@master; done",
        "RUN (go install honnef.co/go/tools/cmd/staticcheck@latest)",
        "RUN go get github.com/pkg/errors",
        "RUN go get -u github.com/pkg/errors",
        "ONBUILD RUN go install github.com/air-verse/air@latest",
    ] {
        let f = findings(&format!("FROM golang:1.24\n{run}\n"));
        assert!(at(&f, 2, "GO108"), "{run}: {f:?}");
    }
    // Pinned, local and go.mod-pinned forms are fine.
    for run in [
        "RUN go install github.com/go-delve/delve/cmd/dlv@v1.23.1",
        "RUN go get ./...",
        "RUN go install ./cmd/app",
    ] {
        assert!(
            !has(&findings(&format!("FROM golang:1.24\n{run}\n")), "GO108"),
            "{run}"
        );
    }
}

#[test]
fn final_image_rules_look_through_the_stage_chain() {
    let text = "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y ca-certificates\nFROM base\nUSER 65532\nCOPY app /app\nENTRYPOINT [\"/app\"]\n";
    assert!(at(&findings(text), 2, "GO209"));
}

#[test]
fn cd_in_a_subshell_is_fine_and_onbuild_run_is_linted() {
    let f = findings("FROM alpine:3.20\nRUN (cd /out && tar c .) > /x.tar\nUSER 1\n");
    assert!(!has(&f, "GO308"), "{f:?}");
    let f = findings("FROM alpine:3.20\nONBUILD RUN cd /src && make\nUSER 1\n");
    assert!(at(&f, 2, "GO308"), "{f:?}");
}

#[test]
fn smaller_defects() {
    // GO306: an image reference is a valid --from; a near miss of a stage is still caught.
    let f = findings(
        "FROM golang:1.24 AS builder\nFROM scratch\nCOPY --from=busybox /bin/busybox /bin/sh\nCOPY --from=biulder /x /x\nUSER 1\n",
    );
    assert!(!at(&f, 3, "GO306") && at(&f, 4, "GO306"), "{f:?}");
    // GO107: GOOS=linux alone is harmless.
    let f = findings("FROM golang:1.24\nRUN GOOS=linux go build -o /app .\n");
    assert!(!has(&f, "GO107"), "{f:?}");
    // A hadolint pragma does not reach across a blank line (as in hadolint).
    let f = findings("FROM alpine:3.20\nUSER 1\n# hadolint ignore=DL3000\n\nWORKDIR rel\n");
    assert!(at(&f, 5, "GO302"), "{f:?}");
    // GO103: go build of several packages links nothing.
    let f = findings("FROM golang:1.24\nRUN go build ./...\n");
    assert!(!has(&f, "GO103"), "{f:?}");
}

#[test]
fn go402_stays_quiet_when_the_build_runs_git_describe() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -ldflags \"-X main.v=$(git describe --tags)\" -o /app .\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join(".dockerignore"), "*.md\n").unwrap();
    let out = run(
        &["lint", "-f", "json", "-t", "none"],
        tmp.path(),
        Duration::from_secs(30),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("GO402"), "{text}");
}

#[test]
fn missing_rules_fire() {
    for (text, code) in [
        (
            "FROM golang:1.24\nCOPY . .\nUSER 1\nCMD [\"go\", \"run\", \".\"]\n",
            "GO210",
        ),
        (
            "FROM golang:1.24 AS b\nRUN go build -o /app .\nFROM scratch\nCOPY --from=b /app /app\nUSER 1\n",
            "GO211",
        ),
        (
            "FROM golang:1.24 AS b\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o /app .\n",
            "GO111",
        ),
        ("FROM umputun/baseimage:buildgo-latest\n", "GO214"),
        ("FROM golang:1.24\nENV cgo_enabled=0\n", "GO112"),
        ("FROM golang:1.24\nRUN go mod tidy\n", "GO113"),
        (
            "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\nFROM alpine:3.20\nCOPY --from=b /src ./\nUSER 1\nENTRYPOINT [\"./app\"]\n",
            "GO212",
        ),
        (
            "FROM golang:1.24 AS b\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=b /out/server /server\nUSER 1\nENTRYPOINT [\"/server\"]\n",
            "GO213",
        ),
        (
            "FROM golang:1.24\nRUN go build -ldflags \"-X main.date=$(date +%F)\" -o /app .\n",
            "GO114",
        ),
    ] {
        let f = findings(text);
        assert!(has(&f, code), "{code}: {f:?}");
    }
}

#[test]
fn text_output_shows_the_fix_and_a_snippet_for_every_finding() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join(".dockerignore"), "*.md\n").unwrap();
    let out = run(&["lint"], tmp.path(), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let blocks: Vec<&str> = text.split("\n\n").filter(|b| b.contains('[')).collect();
    assert!(blocks.iter().any(|b| b.contains("GO402")), "{text}");
    for b in blocks.iter().filter(|b| b.contains("]: ")) {
        assert!(b.contains("help: "), "no fix shown:\n{b}");
        assert!(b.contains(" | "), "no source snippet:\n{b}");
    }
    // GO402's arrow is under the COPY that sends .git.
    let go402 = blocks.iter().find(|b| b.contains("GO402")).unwrap();
    assert!(
        go402.contains("3 | COPY . .") && go402.contains("^^^^^^^^"),
        "{go402}"
    );
}

// ---- issue 8 items 7 and 13 ----

const SECRET: &str = "root:$6$Zq9SECRETHASH:19000:0:99999:7:::\ngithub_pat_TOKEN123\n";

#[test]
fn a_symlinked_dockerfile_leaving_the_context_is_refused_and_not_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("shadow"), SECRET).unwrap();
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::os::unix::fs::symlink("../shadow", ctx.join("Dockerfile")).unwrap();
    for args in [
        &["lint", "Dockerfile"][..],
        &["lint"],
        &["lint", "-f", "json", "."],
    ] {
        let out = run(args, &ctx, Duration::from_secs(30));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(!all.contains("SECRET") && !all.contains("TOKEN"), "{all}");
        assert!(all.contains("outside the build context"), "{all}");
    }
}

#[test]
fn a_symlinked_dockerignore_leaving_the_context_is_refused_and_not_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("creds"),
        "*.go\nhttps://u:TOKEN@example.com\n",
    )
    .unwrap();
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM golang:1.24\nCOPY . .\nRUN go build -o /app .\n",
    )
    .unwrap();
    std::fs::write(ctx.join("main.go"), "package main\nfunc main() {}\n").unwrap();
    std::os::unix::fs::symlink("../creds", ctx.join(".dockerignore")).unwrap();
    let out = run(&["lint"], &ctx, Duration::from_secs(30));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("TOKEN"), "{all}");
    assert_eq!(out.status.code(), Some(2), "{all}");
}

#[test]
fn a_named_file_that_is_not_a_dockerfile_shows_only_an_escaped_excerpt() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("notes"),
        "ghp_\u{1b}]0;pwned\u{7}TOKENTOKENTOKENTOKEN secret\n",
    )
    .unwrap();
    let out = run(&["lint", "notes"], tmp.path(), Duration::from_secs(30));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("GO001"), "{all}");
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
    assert!(
        !all.contains("TOKENTOKEN") && !all.contains("secret"),
        "{all}"
    );
}

#[test]
fn a_51_byte_dockerignore_does_not_hang_lint() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n",
    )
    .unwrap();
    let pattern = format!("{}b\n", "*a".repeat(25));
    assert_eq!(pattern.len(), 52);
    std::fs::write(tmp.path().join(".dockerignore"), pattern).unwrap();
    let deep = tmp.path().join("a".repeat(60));
    std::fs::create_dir(&deep).unwrap();
    std::fs::write(deep.join("x.go"), "package x\n").unwrap();
    let out = run(
        &["lint", "-f", "json", "-t", "none"],
        tmp.path(),
        Duration::from_secs(10),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn endless_and_special_inputs_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    // A device named on the command line: read up to the limit, then refused.
    let out = run(&["lint", "/dev/zero"], tmp.path(), Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
    // A FIFO found by gopack (.dockerignore) is not read; one named with no writer reads empty.
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM golang:1.24\nCOPY . .\nRUN go build -o /app .\n",
    )
    .unwrap();
    let fifo = tmp.path().join(".dockerignore");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = run(&["lint"], tmp.path(), Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    let out = run(
        &["lint", "--no-dockerignore", ".dockerignore"],
        tmp.path(),
        Duration::from_secs(20),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "an empty file is a GO001, not a hang"
    );
    // Standard input is bounded too.
    let mut child = Command::new(bin())
        .args(["lint", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'#'; 1 << 16];
        // Stops when gopack closes the pipe; bounded by 64 MiB otherwise.
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_gopath_install_of_the_copied_sources_is_a_program_build() {
    let f = findings(
        "FROM golang:1.10\nCOPY . /go/src/github.com/x/app\nRUN go install github.com/x/app\nCMD [\"app\"]\n",
    );
    assert!(at(&f, 3, "GO102") && at(&f, 3, "GO103"), "{f:?}");
    // In a module, `go install example.com/lib/...` only warms the cache.
    let f =
        findings("FROM golang:1.24\nCOPY go.mod go.sum ./\nRUN go install github.com/x/lib/...\n");
    assert!(!has(&f, "GO102") && !has(&f, "GO103"), "{f:?}");
}
