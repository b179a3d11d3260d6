//! The build-info parser against Go's own reader (`go version -m`) on binaries built here.

use crate::common;

use std::process::Command;

use common::*;
use gopack::binary::buildinfo::read_build_info;
use gopack::binary::elf::read_linkage;

fn go_build(dir: &std::path::Path, out: &std::path::Path, env: &[(&str, &str)], ldflags: &str) {
    let mut cmd = Command::new("go");
    cmd.current_dir(dir)
        .args(["build", "-trimpath", &format!("-ldflags={ldflags}"), "-o"])
        .arg(out)
        .arg(".");
    cmd.env("CGO_ENABLED", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_ok(&mut cmd);
}

/// `go version -m` lines, tab-split, with the leading path line's file name removed.
fn go_version_m(binary: &std::path::Path) -> (String, Vec<Vec<String>>) {
    let out = run_ok(Command::new("go").arg("version").arg("-m").arg(binary));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let version = first.rsplit(": ").next().unwrap().to_string();
    let rows = lines
        .map(|l| {
            l.trim_start_matches('\t')
                .split('\t')
                .map(String::from)
                .collect()
        })
        .collect();
    (version, rows)
}

fn check_against_go(binary: &std::path::Path) {
    let data = std::fs::read(binary).unwrap();
    let info = read_build_info(&data).expect("build info is found");
    let (version, rows) = go_version_m(binary);
    assert_eq!(info.go_version, version);
    let mut deps = info.deps.iter();
    let mut settings = info.settings.iter();
    for row in rows {
        match row[0].as_str() {
            "path" => assert_eq!(info.path, row[1]),
            "mod" => {
                let main = info.main.as_ref().unwrap();
                assert_eq!(
                    (main.path.as_str(), main.version.as_str()),
                    (row[1].as_str(), row[2].as_str())
                );
            }
            "dep" => {
                let dep = deps.next().expect("as many deps as go version -m");
                assert_eq!(
                    (dep.path.as_str(), dep.version.as_str()),
                    (row[1].as_str(), row[2].as_str())
                );
                assert_eq!(
                    dep.sum.as_deref(),
                    row.get(3).map(String::as_str).filter(|s| !s.is_empty())
                );
            }
            "build" => {
                let (k, v) = settings.next().expect("as many settings as go version -m");
                // go version -m quotes values with spaces; we store them unquoted.
                let shown = if v.contains(' ') || v.contains('"') {
                    format!("{v:?}")
                } else {
                    v.clone()
                };
                assert_eq!(row[1], format!("{k}={shown}"));
            }
            other => panic!("unexpected go version -m line kind {other}"),
        }
    }
    assert!(deps.next().is_none() && settings.next().is_none());
}

#[test]
fn matches_go_version_m_for_a_module_with_a_dependency() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("withdep");
    go_build(&testdata("withdep"), &bin, &[], "-s -X 'main.note=a b'");
    check_against_go(&bin);
    let info = read_build_info(&std::fs::read(&bin).unwrap()).unwrap();
    assert_eq!(info.deps[0].path, "github.com/google/uuid");
    assert_eq!(info.setting("CGO_ENABLED"), Some("0"));
    let linkage = read_linkage(&std::fs::read(&bin).unwrap()).unwrap();
    assert!(linkage.is_static() && linkage.stripped && !linkage.has_debug_info);
}

#[test]
fn matches_go_version_m_for_32_bit_arm_and_big_endian_s390x() {
    let tmp = tempfile::tempdir().unwrap();
    for (arch, extra) in [("arm", ("GOARM", "7")), ("s390x", ("GOS390X", ""))] {
        let bin = tmp.path().join(format!("hello-{arch}"));
        go_build(&testdata("hello"), &bin, &[("GOARCH", arch), extra], "");
        check_against_go(&bin);
        let linkage = read_linkage(&std::fs::read(&bin).unwrap()).unwrap();
        assert_eq!(linkage.goarch, Some(arch));
        assert!(!linkage.stripped, "built without -s keeps .symtab");
    }
}

/// gopack holds Go's build-info magic as a constant in its read-only data (once at a 16-byte
/// boundary in the musl build); `go version -m` says it is not a Go executable, and so does
/// gopack, which looks where Go looks (`.go.buildinfo`, else the first writable segment).
#[test]
fn programs_holding_the_magic_as_a_constant_are_not_go_binaries_as_go_says() {
    let mut programs = vec![std::path::PathBuf::from(env!("CARGO_BIN_EXE_gopack"))];
    programs.extend(crate::static_build::musl_gopack());
    for program in programs {
        let data = std::fs::read(&program).unwrap();
        assert!(
            memchr::memmem::find(&data, b"\xff Go buildinf:").is_some(),
            "{} holds the magic",
            program.display()
        );
        let out = Command::new("go")
            .args(["version", "-m"])
            .arg(&program)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("not a Go executable"), "{said}");
        assert_eq!(
            read_build_info(&data),
            Err(gopack::binary::buildinfo::BuildInfoError::NotFound),
            "{}",
            program.display()
        );
    }
}
