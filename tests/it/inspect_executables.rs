//! `gopack inspect` on images holding ELF files that are not Go binaries (issue 13 §4): gopack
//! itself built static for musl, and a C program gcc links against glibc, on scratch and on a
//! Debian layer holding its loader and libc. Each is described from its headers (class,
//! machine, type, static or dynamic, loader, DT_NEEDED, stripped) and checked against the image
//! with the lookup Go binaries get; readelf, run here on the same files, is the independent
//! reader of what the headers say.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{repo_root, require_tool, run_ok};
use crate::inspect_support::*;
use crate::static_build::musl_gopack;

fn root_and(tools: &[&str]) -> bool {
    // umoci unpack/repack keep owners and modes only as root.
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "needs root");
        eprintln!("skipped: needs root");
        return false;
    }
    tools.iter().all(|t| require_tool(t))
}

/// The `executables` entry of `path`.
fn executable<'a>(im: &'a Value, path: &str) -> &'a Value {
    im["executables"]
        .as_array()
        .expect("executables")
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in executables: {:#}", im["executables"]))
}

/// `gopack inspect REF` as text.
fn inspect_text(cache: &Path, reference: &str) -> String {
    let out = inspect(cache, &[reference]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The report validates against the published schema.
fn check_schema(work: &Path, cache: &Path, reference: &str) {
    if !require_tool("check-jsonschema") {
        return;
    }
    let out = inspect(cache, &[reference, "--json"]);
    let json = work.join("report.json");
    fs::write(&json, &out.stdout).unwrap();
    run_ok(
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(repo_root().join("src/inspect/inspect-v1.schema.json"))
            .arg(&json),
    );
}

/// What readelf says of a file's program headers and dynamic section.
fn readelf(path: &Path) -> (String, String) {
    let text = |args: &[&str]| {
        let out = run_ok(Command::new("readelf").args(args).arg(path));
        String::from_utf8(out.stdout).unwrap()
    };
    (text(&["-lW"]), text(&["-dW"]))
}

#[test]
fn the_static_musl_gopack_is_an_executable_not_a_go_binary_under_umoci() {
    let Some(binary) = musl_gopack() else {
        return;
    };
    if !root_and(&["umoci", "readelf"]) {
        return;
    }
    let (headers, dynamic) = readelf(&binary);
    assert!(!headers.contains("INTERP") && !dynamic.contains("(NEEDED)"));
    let tmp = tempfile::tempdir().unwrap();
    let img = UmociImage::new(tmp.path(), "gopack");
    fs::copy(&binary, img.rootfs().join("gopack")).unwrap();
    img.layer("COPY gopack /gopack");
    img.config(&["--config.entrypoint", "/gopack"]);
    let cache = tmp.path().join("cache");
    let (doc, code) = inspect_json(&cache, &[&img.reference()]);
    assert_eq!(code, 0, "{doc:#}");
    let im = image(&doc);
    // gopack holds Go's build-info magic as a constant, not as a build-info blob.
    assert_eq!(im["go_binaries"], serde_json::json!([]), "{im:#}");
    assert_eq!(im["executables"].as_array().unwrap().len(), 1, "{im:#}");
    let e = executable(im, "/gopack");
    assert_eq!(e["static"], true, "{e:#}");
    assert_eq!(e["interpreter"], Value::Null, "{e:#}");
    assert_eq!(e["needed_libraries"], serde_json::json!([]), "{e:#}");
    assert_eq!(e["missing_interpreter"], false, "{e:#}");
    assert_eq!(
        (&e["class"], &e["machine"]),
        (&"ELF64".into(), &"x86_64".into())
    );
    assert_eq!(e["goarch"], "amd64");
    // readelf's word on the type: DYN with FLAGS_1 PIE (static-pie) or EXEC.
    let expected = if dynamic.contains("PIE") {
        "pie"
    } else {
        "executable"
    };
    assert_eq!(e["type"], expected, "{e:#}\n{dynamic}");
    assert!(e.get("error").is_none(), "{e:#}");
    let text = inspect_text(&cache, &img.reference());
    let line = text
        .lines()
        .skip_while(|l| *l != "Executables (not Go)")
        .nth(1)
        .unwrap_or_else(|| panic!("no executables section:\n{text}"));
    assert!(
        line.starts_with("  /gopack  ELF64 x86_64 ") && line.contains(", static"),
        "{line}"
    );
    assert!(!text.contains("Go binaries"), "{text}");
    check_schema(tmp.path(), &cache, &img.reference());
}

/// `hello` built with gcc, dynamic against glibc (Debian's gcc makes PIEs).
fn gcc_hello(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("hello.c");
    fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .unwrap();
    let bin = dir.join("hello");
    run_ok(Command::new("gcc").arg("-o").arg(&bin).arg(&src));
    bin
}

fn put_hello(img: &UmociImage, bin: &Path) {
    let dest = img.rootfs().join("usr/local/bin");
    fs::create_dir_all(&dest).unwrap();
    fs::copy(bin, dest.join("hello")).unwrap();
    img.layer("COPY hello /usr/local/bin/");
    img.config(&["--config.entrypoint", "/usr/local/bin/hello"]);
}

#[test]
fn a_dynamic_c_program_names_its_loader_and_libc_and_what_the_image_lacks_under_umoci() {
    if !root_and(&["umoci", "gcc", "readelf", "apt-get", "dpkg"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = gcc_hello(tmp.path());
    let (headers, dynamic) = readelf(&bin);
    assert!(headers.contains("/lib64/ld-linux-x86-64.so.2") && dynamic.contains("[libc.so.6]"));
    let cache = tmp.path().join("cache");

    let scratch = UmociImage::new(&tmp.path().join("a"), "scratch");
    put_hello(&scratch, &bin);
    let (doc, code) = inspect_json(&cache, &[&scratch.reference()]);
    assert_eq!(code, 0, "{doc:#}");
    let im = image(&doc);
    let e = executable(im, "/usr/local/bin/hello");
    assert_eq!(e["static"], false, "{e:#}");
    assert_eq!(e["interpreter"], "/lib64/ld-linux-x86-64.so.2", "{e:#}");
    assert_eq!(e["needed_libraries"], serde_json::json!(["libc.so.6"]));
    assert_eq!(e["missing_interpreter"], true, "{e:#}");
    assert_eq!(e["missing_libraries"], serde_json::json!(["libc.so.6"]));
    assert_eq!(e["stripped"], !readelf_has_symtab(&bin), "{e:#}");
    let kind = if dynamic.contains("PIE") {
        "pie"
    } else {
        "executable"
    };
    assert_eq!(e["type"], kind, "{e:#}");
    // Described, not judged: IMG404/IMG405 stay about Go binaries.
    let c = codes(im);
    assert!(
        !c.contains(&"IMG404".into()) && !c.contains(&"IMG405".into()),
        "{c:?}"
    );
    let text = inspect_text(&cache, &scratch.reference());
    assert!(
        text.contains(&format!(
            "  /usr/local/bin/hello  ELF64 x86_64 {kind}, dynamic (/lib64/ld-linux-x86-64.so.2), \
             needs libc.so.6"
        )) && text
            .contains("      not in the image: loader /lib64/ld-linux-x86-64.so.2, libc.so.6"),
        "{text}"
    );

    // On a Debian layer holding libc6: nothing missing, and libc itself counted.
    let debian = UmociImage::new(&tmp.path().join("b"), "debian");
    let Some(()) = debian_root(&debian.rootfs(), &["libc6", "base-files"]) else {
        return;
    };
    debian.layer("debian libc6");
    put_hello(&debian, &bin);
    let (doc, code) = inspect_json(&cache, &[&debian.reference()]);
    assert_eq!(code, 0, "{doc:#}");
    let im = image(&doc);
    let e = executable(im, "/usr/local/bin/hello");
    assert_eq!(e["missing_interpreter"], false, "{e:#}");
    assert_eq!(e["missing_libraries"], serde_json::json!([]), "{e:#}");
    let all = im["executables"].as_array().unwrap();
    // Nothing libc6 ships lacks anything, gconv modules included: they find libGB.so and
    // friends through DT_RUNPATH $ORIGIN.
    let lacking: Vec<&Value> = all
        .iter()
        .filter(|x| {
            x["missing_interpreter"] == true || x["missing_libraries"] != serde_json::json!([])
        })
        .collect();
    assert!(lacking.is_empty(), "{lacking:#?}");
    let gconv = executable(im, "/usr/lib/x86_64-linux-gnu/gconv/EUC-CN.so");
    assert_eq!(
        gconv["runpath"],
        serde_json::json!(["$ORIGIN"]),
        "{gconv:#}"
    );
    assert!(
        gconv["needed_libraries"]
            .as_array()
            .unwrap()
            .contains(&"libGB.so".into()),
        "{gconv:#}"
    );
    assert!(
        all.iter().any(|x| x["path"]
            .as_str()
            .unwrap()
            .ends_with("x86_64-linux-gnu/libc.so.6")
            && x["type"] == "shared_object"),
        "{all:#?}"
    );
    let text = inspect_text(&cache, &debian.reference());
    assert!(!text.contains("not in the image"), "{text}");
    let so = text
        .lines()
        .find(|l| l.starts_with("  and ") && l.contains(" shared object"))
        .unwrap_or_else(|| panic!("no shared-object count:\n{text}"));
    assert!(!so.contains("libc.so.6"), "{so}");
    check_schema(tmp.path(), &cache, &debian.reference());

    // The two compared: the diff still reads both.
    let out = inspect(
        &cache,
        &[&scratch.reference(), &debian.reference(), "--json"],
    );
    assert!(out.status.success(), "{out:?}");
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["schema"], "gopack.inspect-diff/v1");
    let added = diff["files"]["added"].as_array().unwrap();
    assert!(
        added
            .iter()
            .any(|f| f["path"].as_str().unwrap().ends_with("/libc.so.6")),
        "{added:#?}"
    );
}

fn readelf_has_symtab(path: &Path) -> bool {
    let out = run_ok(Command::new("readelf").arg("-SW").arg(path));
    String::from_utf8_lossy(&out.stdout).contains(" .symtab ")
}
