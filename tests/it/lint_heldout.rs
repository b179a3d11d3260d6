//! Issue 14, second round: the misses an outside reviewer found on 26 held-out Dockerfiles
//! (testdata/dockerfiles/real/hNN-*). One test per kind, built from the reviewer's minimal
//! reproductions and the held-out files; like lint_issue14, through the CLI so that
//! `GOPACK_LINT_BIN=/path/to/older/gopack` shows them failing there.

use std::time::Duration;

use crate::lint_issue14::{at, findings, has, run};

/// (line, code, message) of every finding, for the tests that read the wording.
fn messages(text: &str) -> Vec<(u64, String, String)> {
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
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const STATIC_TAIL: &str = "FROM scratch\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";

#[test]
fn golang_tags_without_a_go_minor_are_unpinned() {
    for from in [
        "golang:alpine",
        "golang:alpine3.10",
        "golang:bookworm",
        "golang:1",
        "golang:1-alpine",
    ] {
        let f = findings(&format!(
            "FROM {from} AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\n{STATIC_TAIL}"
        ));
        assert!(at(&f, 1, "GO204"), "{from}: {f:?}");
    }
    for from in [
        "golang:1.22-alpine",
        "golang:1.22.5",
        "golang:1.23rc1-bookworm",
    ] {
        let f = findings(&format!(
            "FROM {from} AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\n{STATIC_TAIL}"
        ));
        assert!(!has(&f, "GO204"), "{from}: {f:?}");
    }
}

#[test]
fn a_named_user_in_the_final_stage_is_reported_with_its_numeric_id() {
    let text = "FROM golang:1.24 AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=b /a /a\nUSER nonroot:nonroot\nENTRYPOINT [\"/a\"]\n";
    let m = messages(text);
    assert!(
        m.iter()
            .any(|(l, c, msg)| *l == 5 && c == "GO215" && msg.contains("65532:65532")),
        "{m:?}"
    );
    assert!(!has(
        &findings(&text.replace("nonroot:nonroot", "65532:65532")),
        "GO215"
    ));
    // A name on scratch without /etc/passwd is GO206's (an error), not reported twice.
    let f = findings(
        "FROM golang:1.24 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\nUSER app\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(at(&f, 5, "GO206") && !has(&f, "GO215"), "{f:?}");
}

#[test]
fn go105_sees_make_builds_and_onbuild_and_knows_when_nothing_downloads() {
    // h15: `COPY . .` then a make build on a module (the build cache mount shows it).
    let make = "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/go-build make build\n";
    assert!(at(&findings(make), 3, "GO105"));
    // go.mod and go.sum first: fine.
    let split = make.replace(
        "COPY . .\n",
        "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n",
    );
    assert!(!has(&findings(&split), "GO105"));
    // Go 1.10 has no modules: nothing to download (h05).
    assert!(!has(
        &findings(&make.replace("golang:1.24", "golang:1.10")),
        "GO105"
    ));
    // h21: ONBUILD COPY . . then ONBUILD RUN go build.
    let onbuild = "FROM golang:1.24\nWORKDIR /src\nONBUILD COPY . .\nONBUILD RUN go build -o /bin/app\nUSER 1\nENTRYPOINT [\"app\"]\n";
    assert!(at(&findings(onbuild), 3, "GO105"));
    // h26: go.mod named without go.sum is a module without dependencies.
    let no_sum = "FROM golang:1.24 AS b\nWORKDIR /src\nADD go.mod main.go ./\nRUN CGO_ENABLED=0 go build -o app\n";
    assert!(!has(&findings(no_sum), "GO105"));
    // A vendored module in the build context downloads nothing.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("go.mod"), "module x\n\ngo 1.22\n").unwrap();
    std::fs::create_dir(tmp.path().join("vendor")).unwrap();
    std::fs::write(tmp.path().join("vendor/modules.txt"), "").unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o /a .\n",
    )
    .unwrap();
    let out = run(
        &["lint", "--no-dockerignore", "-f", "json", "-t", "none"],
        tmp.path(),
        Duration::from_secs(30),
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("GO105"));
}

#[test]
fn golang_final_image_is_found_behind_make() {
    // repro r7 / h05: a single golang stage built with make, running what it built.
    let f = findings(
        "FROM golang:1.22-alpine\nRUN apk add --no-cache make\nCOPY . .\nRUN make build\nENTRYPOINT [\"app\"]\n",
    );
    assert!(at(&f, 1, "GO201") && at(&f, 1, "GO202"), "{f:?}");
    // h24: a live-reload dev stage left last is reported as such, not as a runtime image.
    let dev = "FROM golang:1.24 AS build\nRUN CGO_ENABLED=0 go build -o /app .\nFROM alpine:3.20 AS prod\nCOPY --from=build /app /app\nUSER 1\nCMD [\"/app\"]\nFROM golang:1.24 AS dev\nCOPY . .\nCMD [\"air\", \"-c\", \".air.toml\"]\n";
    let m = messages(dev);
    assert!(
        m.iter().any(|(l, c, msg)| *l == 7
            && c == "GO201"
            && msg.contains("put the production stage last")),
        "{m:?}"
    );
    assert!(
        !m.iter().any(|(_, c, _)| c == "GO205" || c == "GO212"),
        "{m:?}"
    );
    // h24: the production stage before the dev image is the one deployed: it must not run as root.
    let m = messages(&dev.replace("USER 1\n", ""));
    assert!(
        m.iter().any(|(l, c, msg)| *l == 3
            && c == "GO205"
            && msg.starts_with("the production stage `prod` has no USER")),
        "{m:?}"
    );
}

#[test]
fn go203_knows_cgo_is_off_without_a_c_compiler_and_for_static_cgo() {
    // h19: golang:*-alpine has no gcc, so the binary is static; alpine adds only tzdata.
    let alpine = "FROM golang:1.22-alpine AS b\nRUN go build -trimpath -ldflags=-s -o /a .\nFROM alpine:3.20\nRUN apk add --no-cache tzdata\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";
    assert!(at(&findings(alpine), 3, "GO203"));
    // With gcc the binary links musl dynamically: alpine is needed.
    let gcc = alpine.replace(
        "RUN go build",
        "RUN apk add --no-cache gcc musl-dev\nRUN go build",
    );
    assert!(!has(&findings(&gcc), "GO203"));
    // repro r8: cgo linked statically.
    let f = findings(
        "FROM golang:1.22-alpine AS b\nCOPY . .\nRUN CGO_ENABLED=1 go build -trimpath -ldflags \"-s -linkmode external -extldflags -static\" -o /a .\nFROM alpine:3.20\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(at(&f, 4, "GO203"), "{f:?}");
}

#[test]
fn a_build_platform_stage_must_pass_the_target_to_go_build() {
    // repro r4 / h20.
    let text = "FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS b\nARG TARGETOS TARGETARCH\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\nFROM scratch\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";
    assert!(at(&findings(text), 7, "GO115"));
    let passed = text.replace(
        "CGO_ENABLED=0 go build",
        "CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build",
    );
    assert!(!has(&findings(&passed), "GO115"));
    // tonistiigi/xx sets GOARCH itself.
    let xx = text.replace(
        "RUN CGO_ENABLED=0 go build",
        "RUN xx-go --wrap && CGO_ENABLED=0 go build",
    );
    assert!(!has(&findings(&xx), "GO115"));
}

#[test]
fn flags_buildkit_refuses_are_go001_and_the_rest_is_still_checked() {
    // repro r5 / h26: duplicate --platform.
    let f = findings(
        "FROM --platform=a --platform=b golang:1.22 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(at(&f, 1, "GO001") && at(&f, 2, "GO102"), "{f:?}");
    // repro r6: unknown flags on RUN and COPY.
    let m = messages(
        "FROM golang:1.22 AS b\nRUN --foo=bar true\nFROM scratch\nCOPY --form=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    let go001: Vec<_> = m.iter().filter(|(_, c, _)| c == "GO001").collect();
    assert_eq!(go001.len(), 2, "{m:?}");
    assert!(
        go001[1].0 == 4 && go001[1].2.contains("did you mean --from?"),
        "{m:?}"
    );
    // Every flag BuildKit knows passes.
    let f = findings(
        "FROM --platform=$BUILDPLATFORM golang:1.24 AS b\nRUN --mount=type=cache,target=/root/.cache/go-build --network=none --security=sandbox true\nFROM scratch\nCOPY --from=b --chown=1:1 --chmod=0755 --link --exclude=*.md --parents /a /a\nADD --checksum=sha256:0 --keep-git-dir=true --unpack=false https://example.com/x.tar /x\nHEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 CMD [\"/a\", \"-health\"]\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(!has(&f, "GO001"), "{f:?}");
}

#[test]
fn a_moving_tag_built_from_an_argument_without_default() {
    // repro r2 / h02.
    let f = findings(
        "ARG ARCH\nFROM golang:1.22 AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\nFROM gcr.io/distroless/static:latest-$ARCH\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(at(&f, 4, "GO214"), "{f:?}");
}

#[test]
fn static_cgo_link_needs_netgo_and_osusergo_and_extldflags_needs_cgo() {
    // h22/h25: a static glibc cgo link without the pure-Go resolver and user lookup.
    let text = "FROM golang:1.22 AS b\nRUN CGO_ENABLED=1 go build -trimpath -ldflags '-s -linkmode external -extldflags \"-static\"' -o /a .\nFROM scratch\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";
    assert!(at(&findings(text), 2, "GO116"));
    let tagged = text.replace("go build", "go build -tags netgo,osusergo");
    assert!(!has(&findings(&tagged), "GO116"));
    // musl has no NSS: fine on Alpine.
    let musl = text.replace(
        "golang:1.22 AS b\nRUN",
        "golang:1.22-alpine AS b\nRUN apk add gcc musl-dev\nRUN",
    );
    assert!(!has(&findings(&musl), "GO116"));
    // h13: with cgo off -extldflags -static does nothing.
    let m = messages(
        "FROM golang:1.22-alpine AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -extldflags \"-static\"' -o /a .\nFROM scratch\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    assert!(
        m.iter().any(|(l, c, msg)| *l == 2
            && c == "GO104"
            && msg.contains("does nothing with cgo off")),
        "{m:?}"
    );
}

#[test]
fn go106_is_once_per_stage_and_asks_for_the_missing_cache() {
    let three = "FROM golang:1.24 AS b\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build -o /a ./cmd/a\nRUN go build -o /b ./cmd/b\n";
    let f = findings(three);
    assert_eq!(f.iter().filter(|(_, c)| c == "GO106").count(), 1, "{f:?}");
    assert!(at(&f, 6, "GO106"), "reported on the first build RUN: {f:?}");
    let build =
        "FROM golang:1.24 AS b\nRUN --mount=type=cache,target=/go/pkg/mod go build -o /a .\n";
    let m = messages(build);
    assert!(
        m.iter()
            .any(|(_, c, msg)| c == "GO106" && msg.contains("/root/.cache/go-build")),
        "{m:?}"
    );
    let both = build.replace(
        "--mount=type=cache,target=/go/pkg/mod",
        "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build",
    );
    assert!(!has(&findings(&both), "GO106"));
    // h10: /go/pkg/mod/cache keeps downloads, not the module cache.
    let part = both.replace("target=/go/pkg/mod ", "target=/go/pkg/mod/cache ");
    assert!(has(&findings(&part), "GO106"));
}

#[test]
fn findings_on_a_long_run_point_at_the_culprit_line() {
    // h04: `-a` is on line 5, the RUN starts on line 2.
    let text = "FROM golang:1.24 AS b\nRUN export GOOS=linux && \\\n    export GOARCH=$(uname -m) && \\\n    echo building && \\\n    go build -mod vendor -a -o manager main.go\n";
    assert!(at(&findings(text), 5, "GO104"));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("Dockerfile"), text).unwrap();
    let out = run(
        &["lint", "--no-dockerignore", "-t", "none"],
        tmp.path(),
        Duration::from_secs(30),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    let block = shown.split("\n\n").find(|b| b.contains("GO104")).unwrap();
    assert!(block.contains("5 |     go build -mod vendor -a"), "{block}");
    // h20: a command inside a RUN here-document.
    let heredoc = "FROM golang:1.24 AS b\nRUN --mount=type=cache,target=/go/pkg/mod <<EOF\nset -e\ngo build \\\n    -o /dist/server .\nEOF\n";
    assert!(at(&findings(heredoc), 4, "GO102"));
}

#[test]
fn shell_slips_across_runs_and_continuations() {
    // repro r1 / h19: -o with a variable still gets GO102.
    let f = findings(
        "FROM golang:1.22-alpine AS b\nARG OUTPUT=/o\nRUN go build -ldflags \"-X main.V=1\" -o ${OUTPUT}/ ./...\n",
    );
    assert!(at(&f, 3, "GO102"), "{f:?}");
    // h14: `export PIE=…` in one RUN, `$PIE` in the next.
    let f = findings(
        "FROM golang:1.22-alpine AS b\nRUN if [ \"$(go env GOARCH)\" != arm ]; then export PIE=-buildmode=pie; fi\nRUN CGO_ENABLED=0 go build -trimpath $PIE .\n",
    );
    assert!(at(&f, 3, "GO310"), "{f:?}");
    // Set in the same RUN, or by ENV: fine.
    let f = findings(
        "FROM golang:1.22-alpine AS b\nENV PIE=-buildmode=pie\nRUN export PIE=-x\nRUN CGO_ENABLED=0 go build -trimpath $PIE .\n",
    );
    assert!(!has(&f, "GO310"), "{f:?}");
    // h11: a missing && turns the next command into arguments.
    let f = findings(
        "FROM golang:1.24\nRUN golangci-lint linters\nRUN cd /src && \\\n    touch dummy.go \\\n    golangci-lint run\n",
    );
    assert!(at(&f, 5, "GO311"), "{f:?}");
    // A package list across lines is not that.
    let f = findings("FROM debian:12\nRUN make\nRUN apt-get install -y \\\n    make \\\n    gcc\n");
    assert!(!has(&f, "GO311"), "{f:?}");
}

#[test]
fn go209_says_each_thing_once() {
    let m = messages(
        "FROM golang:1.24 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM alpine:3.20\nRUN apk update && apk add --no-cache ca-certificates\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n",
    );
    let (_, _, msg) = m.iter().find(|(_, c, _)| c == "GO209").unwrap();
    assert_eq!(
        msg,
        "`apk update` without removing /var/cache/apk: the package index stays in the final image"
    );
}

#[test]
fn a_clone_of_a_moving_branch_is_unpinned() {
    // h06: no --branch; h14: --branch from an ARG whose default is main.
    let f = findings(
        "FROM golang:1.24 AS b\nARG VERSION=main\nRUN git clone https://github.com/nats-io/natscli.git\nRUN git clone --depth=1 --branch=${VERSION} https://example.com/x.git\n",
    );
    assert!(at(&f, 3, "GO312") && at(&f, 4, "GO312"), "{f:?}");
    // A tag, a checkout after the clone, or a build argument without default: fine.
    let f = findings(
        "FROM golang:1.24 AS b\nARG REF\nRUN git clone --branch v1.2.0 https://example.com/x.git\nRUN git clone https://example.com/y.git && git -C y checkout 0123abc\nRUN git clone --branch \"$REF\" https://example.com/z.git\n",
    );
    assert!(!has(&f, "GO312"), "{f:?}");
}

#[test]
fn world_writable_files_in_the_final_image() {
    // h08: `chmod 777 -R` on the home directory of the final image.
    let text = "FROM golang:1.24 AS b\nRUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /a .\nFROM alpine:3.20\nRUN mkdir /home/ks && chmod 777 -R /home/ks\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";
    assert!(at(&findings(text), 4, "GO313"));
    // A sticky shared directory, a mode without write for others, or a build stage: fine.
    for ok in [
        "chmod 1777 /tmp/x",
        "chmod 755 -R /home/ks",
        "chmod +w /home/ks",
    ] {
        assert!(
            !has(
                &findings(&text.replace("chmod 777 -R /home/ks", ok)),
                "GO313"
            ),
            "{ok}"
        );
    }
    let build = text
        .replace("-o /a .\n", "-o /a . && chmod 777 /a\n")
        .replace("chmod 777 -R /home/ks", "true");
    assert!(!has(&findings(&build), "GO313"));
}

#[test]
fn development_packages_in_the_final_image() {
    // h03: libgit2-dev in the final alpine stage.
    let text = "FROM golang:1.24-alpine AS b\nRUN apk add gcc musl-dev libgit2-dev\nRUN CGO_ENABLED=1 go build -trimpath -ldflags=-s -o /a .\nFROM alpine:3.20\nRUN apk add --no-cache libgit2-dev~=1.1.0\nCOPY --from=b /a /a\nUSER 1\nENTRYPOINT [\"/a\"]\n";
    assert!(at(&findings(text), 5, "GO216"));
    // The runtime library, build dependencies removed in the same RUN, or a final image that
    // compiles: fine.
    for ok in [
        "RUN apk add --no-cache libgit2",
        "RUN apk add --virtual deps libgit2-dev && make && apk del deps",
        "RUN apk add --no-cache gcc libgit2-dev",
    ] {
        let t = text.replace("RUN apk add --no-cache libgit2-dev~=1.1.0", ok);
        assert!(!has(&findings(&t), "GO216"), "{ok}");
    }
}
