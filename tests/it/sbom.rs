//! `gopack sbom BIN`: SPDX 2.3 and CycloneDX 1.6 documents of a real Go binary (testdata/sbomapp:
//! uuid, cobra → pflag), checked by the official validators (spdx-tools' pyspdxtools,
//! cyclonedx-python-lib), against `go version -m` and syft, for version provenance, the stdlib
//! component, licences from the module cache, determinism and bad input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{self, copy_tree, run_fail, run_ok, testdata};

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sbom-cache")
}

pub fn gp() -> Command {
    common::gopack(&cache())
}

/// Builds testdata/sbomapp with `go build` and the given flags/env; returns (tempdir, binary).
pub fn build_app(args: &[&str], env: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    copy_tree(&testdata("sbomapp"), &src);
    let bin = dir.path().join("sbomapp");
    let mut cmd = Command::new("go");
    cmd.current_dir(&src)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .arg("build")
        .args(args)
        .arg("-o")
        .arg(&bin)
        .arg(".");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_ok(&mut cmd);
    (dir, bin)
}

pub fn sbom_json(args: &[&str]) -> Value {
    let out = run_ok(gp().arg("sbom").args(args));
    serde_json::from_slice(&out.stdout).expect("gopack sbom prints JSON")
}

/// `(path, version)` of every `mod`/`dep` line of `go version -m` (replacements applied).
pub fn go_version_m(bin: &Path) -> BTreeSet<(String, String)> {
    let out = run_ok(Command::new("go").arg("version").arg("-m").arg(bin));
    let mut set = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.trim().split('\t').collect();
        match f.as_slice() {
            ["mod" | "dep", path, version, ..] => {
                set.insert((path.to_string(), version.to_string()));
            }
            ["=>", path, version, ..] => {
                set.pop_last();
                set.insert((path.to_string(), version.to_string()));
            }
            _ => {}
        }
    }
    set
}

/// `(name, version)` of a CycloneDX document's Go module components (root included, stdlib
/// and the image left out); a main module without a version counts as `(devel)`.
pub fn cdx_modules(doc: &Value) -> BTreeSet<(String, String)> {
    let mut all: Vec<&Value> = doc["components"].as_array().unwrap().iter().collect();
    all.push(&doc["metadata"]["component"]);
    all.into_iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:golang/"))
        })
        .filter(|c| c["name"] != "stdlib")
        .map(|c| {
            let version = c["version"].as_str().unwrap_or("(devel)").to_string();
            (c["name"].as_str().unwrap().to_string(), version)
        })
        .collect()
}

fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    std::iter::once(&doc["metadata"]["component"])
        .chain(doc["components"].as_array().unwrap())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn property<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

fn spdx_package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

/// pyspdxtools (spdx-tools) must read and validate the file without a single message.
pub fn validate_spdx(path: &Path) {
    let out = run_ok(Command::new("pyspdxtools").arg("-i").arg(path));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.trim().is_empty(),
        "pyspdxtools found problems in {}:\n{said}",
        path.display()
    );
    // The same through the library's validator, which returns the messages as a list.
    let script = "import sys\nfrom spdx_tools.spdx.parser.parse_anything import parse_file\nfrom spdx_tools.spdx.validation.document_validator import validate_full_spdx_document\nmsgs = validate_full_spdx_document(parse_file(sys.argv[1]))\nfor m in msgs: print(m.validation_message)\nsys.exit(1 if msgs else 0)\n";
    run_ok(Command::new("python3").args(["-c", script]).arg(path));
    // And the SPDX 2.3 JSON schema itself, by check-jsonschema.
    if let Some(schema) = spdx_schema()
        && common::require_tool("check-jsonschema")
    {
        run_ok(
            Command::new("check-jsonschema")
                .arg("--schemafile")
                .arg(&schema)
                .arg(path),
        );
    }
}

/// The SPDX 2.3 JSON schema (spdx-schema-2.3.json, as the SPDX project publishes it), from the
/// copy syft's module carries in the Go module cache (`go mod download
/// github.com/anchore/syft@v1.57.1`: the proxy is reachable, the schema's web home is not).
fn spdx_schema() -> Option<PathBuf> {
    let dir = modcache().join("github.com/anchore");
    let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("syft@"))
            .map(|e| e.path().join("schema/spdx-json/spdx-schema-2.3.json"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "note: SPDX 2.3 JSON schema not in the module cache (go mod download \
             github.com/anchore/syft@v1.57.1); schema check left out, pyspdxtools still ran"
        );
    }
    found
}

/// cyclonedx-python-lib's strict JSON validator for CycloneDX 1.6 must find no error.
pub fn validate_cdx(path: &Path) {
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\ne = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nprint(e or '')\nsys.exit(1 if e else 0)\n";
    run_ok(Command::new("python3").args(["-c", script]).arg(path));
    // And the CycloneDX 1.6 JSON schema by check-jsonschema: the copy cyclonedx-python-lib
    // ships, its $refs (SPDX licence ids, JSF) resolved beside it rather than on the web.
    let out = run_ok(Command::new("python3").args([
        "-c",
        "import cyclonedx.schema._res as r, os; print(os.path.dirname(r.__file__))",
    ]));
    let res = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let schema = res.join("bom-1.6.SNAPSHOT.schema.json");
    if common::require_tool("check-jsonschema") {
        run_ok(
            Command::new("check-jsonschema")
                .arg("--base-uri")
                .arg(format!("file://{}", schema.display()))
                .arg("--schemafile")
                .arg(&schema)
                .arg(path),
        );
    }
}

fn has_validators() -> bool {
    common::require_tool("pyspdxtools") && common::require_tool("python3")
}

fn go_version() -> String {
    let out = run_ok(
        Command::new("go")
            .args(["env", "GOVERSION"])
            .env("GOTOOLCHAIN", "local"),
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn modcache() -> PathBuf {
    let out = run_ok(Command::new("go").args(["env", "GOMODCACHE"]));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn spdx_and_cyclonedx_of_a_binary_pass_the_official_validators() {
    if !has_validators() {
        return;
    }
    let (dir, bin) = build_app(&[], &[]);
    for (format, file) in [("spdx", "s.spdx.json"), ("cyclonedx", "s.cdx.json")] {
        let out = dir.path().join(file);
        run_ok(
            gp().args(["sbom", "--format", format, "-o"])
                .arg(&out)
                .arg(&bin),
        );
        if format == "spdx" {
            validate_spdx(&out);
        } else {
            validate_cdx(&out);
        }
    }
    let spdx: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.spdx.json")).unwrap()).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let cdx: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.cdx.json")).unwrap()).unwrap();
    assert_eq!(cdx["specVersion"], "1.6");
    // Every component has a purl.
    for c in cdx["components"].as_array().unwrap() {
        assert!(
            c["purl"].as_str().is_some_and(|p| p.starts_with("pkg:")),
            "{c}"
        );
    }
}

#[test]
fn module_set_equals_go_version_m_plus_the_stdlib() {
    let (_dir, bin) = build_app(&[], &[]);
    let cdx = sbom_json(&["--format", "cyclonedx", bin.to_str().unwrap()]);
    let expected = go_version_m(&bin);
    assert_eq!(
        expected.len(),
        4,
        "sbomapp links uuid, cobra and pflag: {expected:?}"
    );
    assert_eq!(cdx_modules(&cdx), expected);
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    let names: BTreeSet<(String, String)> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] != "stdlib")
        .map(|p| {
            let v = p["versionInfo"].as_str().unwrap_or("(devel)");
            (p["name"].as_str().unwrap().to_string(), v.to_string())
        })
        .collect();
    assert_eq!(names, expected);
    // Plus exactly one stdlib.
    let stdlib = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "stdlib")
        .count();
    assert_eq!(stdlib, 1);
}

/// syft (run only, never copied): `GOPACK_SYFT`, else on PATH, else in `$(go env GOPATH)/bin`
/// (`go install github.com/anchore/syft/cmd/syft@v1.57.1`; .ci/run puts it on PATH).
fn syft() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOPACK_SYFT").map(PathBuf::from) {
        return Some(p);
    }
    let out = run_ok(Command::new("go").args(["env", "GOPATH"]));
    let gopath = String::from_utf8(out.stdout).unwrap();
    let installed = std::env::split_paths(gopath.trim())
        .next()
        .map(|p| p.join("bin/syft"))
        .filter(|p| p.is_file());
    match installed {
        Some(p) => Some(p),
        None => common::require_tool("syft").then(|| PathBuf::from("syft")),
    }
}

#[test]
fn module_set_equals_what_syft_reports_needs_syft() {
    let Some(syft) = syft() else {
        return;
    };
    let (dir, bin) = build_app(&[], &[]);
    let syft_out = dir.path().join("syft.cdx.json");
    run_ok(
        Command::new(syft)
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .arg("scan")
            .arg(format!("file:{}", bin.display()))
            .arg("-o")
            .arg(format!("cyclonedx-json={}", syft_out.display()))
            .arg("-q"),
    );
    let syft: Value = serde_json::from_slice(&std::fs::read(&syft_out).unwrap()).unwrap();
    let syft_modules: BTreeSet<(String, String)> = syft["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:golang/"))
        })
        .filter(|c| c["name"] != "stdlib")
        .map(|c| {
            // syft writes UNKNOWN where the build info says (devel).
            let v = c["version"]
                .as_str()
                .filter(|v| !v.is_empty() && *v != "UNKNOWN")
                .unwrap_or("(devel)");
            (c["name"].as_str().unwrap().to_string(), v.to_string())
        })
        .collect();
    let ours = sbom_json(&["-f", "cyclonedx", bin.to_str().unwrap()]);
    assert_eq!(cdx_modules(&ours), syft_modules);
    // The same stdlib purl as syft's.
    let purl = |doc: &Value| -> Vec<String> {
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == "stdlib")
            .map(|c| {
                c["purl"]
                    .as_str()
                    .unwrap()
                    .split('?')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(purl(&ours), purl(&syft));
}

#[test]
fn main_version_comes_from_x_values_and_says_so() {
    let (_dir, bin) = build_app(&["-ldflags=-X main.version=1.2.3"], &[]);
    let cdx = sbom_json(&["-f", "cyclonedx", bin.to_str().unwrap()]);
    let app = &cdx["metadata"]["component"];
    assert_eq!(app["type"], "application");
    assert_eq!(app["name"], "example.com/sbomapp");
    assert_eq!(app["version"], "1.2.3");
    assert_eq!(app["purl"], "pkg:golang/example.com/sbomapp@1.2.3");
    assert_eq!(
        property(app, "gopack:version:source"),
        Some("-ldflags -X main.version")
    );
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    let pkg = spdx_package(&spdx, "example.com/sbomapp");
    assert_eq!(pkg["versionInfo"], "1.2.3");
    assert_eq!(pkg["sourceInfo"], "version from -ldflags -X main.version");
    // -trimpath drops -ldflags from the build info: a binary alone then has no version, and
    // the document says the version is unknown rather than inventing one.
    let (_dir, bin) = build_app(&["-trimpath", "-ldflags=-X main.version=1.2.3"], &[]);
    let cdx = sbom_json(&["-f", "cyclonedx", bin.to_str().unwrap()]);
    let app = &cdx["metadata"]["component"];
    assert!(app.get("version").is_none(), "{app}");
    assert_eq!(property(app, "gopack:version:source"), Some("unknown"));
}

#[test]
fn stdlib_is_a_component_with_purl_cpe_licence_and_experiments() {
    let (_dir, bin) = build_app(&[], &[("GOEXPERIMENT", "jsonv2")]);
    let version = go_version().trim_start_matches("go").to_string();
    let cdx = sbom_json(&["-f", "cyclonedx", bin.to_str().unwrap()]);
    let stdlib = component(&cdx, "stdlib");
    assert_eq!(stdlib["version"], version.as_str());
    assert_eq!(stdlib["purl"], format!("pkg:golang/stdlib@{version}"));
    assert_eq!(
        stdlib["cpe"],
        format!("cpe:2.3:a:golang:go:{version}:*:*:*:*:*:*:*")
    );
    assert_eq!(stdlib["licenses"][0]["license"]["id"], "BSD-3-Clause");
    assert_eq!(property(stdlib, "gopack:go:experiments"), Some("jsonv2"));
    assert_eq!(
        property(stdlib, "gopack:go:toolchain"),
        Some(format!("go{version}-X:jsonv2").as_str())
    );
    let app = &cdx["metadata"]["component"];
    assert_eq!(
        property(app, "cdx:gomod:build:env:GOEXPERIMENT"),
        Some("jsonv2")
    );
    assert_eq!(property(app, "cdx:gomod:build:env:GOOS"), Some("linux"));
    assert_eq!(property(app, "cdx:gomod:binary:name"), Some("sbomapp"));
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    let pkg = spdx_package(&spdx, "stdlib");
    assert_eq!(pkg["versionInfo"], version.as_str());
    assert_eq!(pkg["licenseDeclared"], "BSD-3-Clause");
    let refs = pkg["externalRefs"].as_array().unwrap();
    assert!(refs.iter().any(|r| r["referenceType"] == "cpe23Type"));
    // The binary depends on the standard library.
    let deps = cdx["dependencies"].as_array().unwrap();
    let app_ref = app["bom-ref"].as_str().unwrap();
    let stdlib_ref = stdlib["bom-ref"].as_str().unwrap();
    let app_deps = deps.iter().find(|d| d["ref"] == app_ref).unwrap();
    assert!(
        app_deps["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == stdlib_ref)
    );
}

#[test]
fn purls_and_h1_hashes_match_go_sum() {
    let (_dir, bin) = build_app(&[], &[]);
    let cdx = sbom_json(&["-f", "cyclonedx", bin.to_str().unwrap()]);
    let uuid = component(&cdx, "github.com/google/uuid");
    assert_eq!(uuid["purl"], "pkg:golang/github.com/google/uuid@v1.6.0");
    // go.sum: github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=
    assert_eq!(
        uuid["hashes"][0],
        serde_json::json!({"alg": "SHA-256", "content": "348bda24330eb231c0f27d630212d2833ac0cf2d4782bfa136b6f9edefbde05d"})
    );
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    let pkg = spdx_package(&spdx, "github.com/google/uuid");
    assert_eq!(
        pkg["checksums"][0]["checksumValue"],
        "348bda24330eb231c0f27d630212d2833ac0cf2d4782bfa136b6f9edefbde05d"
    );
    assert_eq!(
        pkg["downloadLocation"],
        "https://proxy.golang.org/github.com/google/uuid/@v/v1.6.0.zip"
    );
}

#[test]
fn dependencies_are_the_binary_and_its_modules() {
    let (_dir, bin) = build_app(&[], &[]);
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    let id = |name: &str| {
        spdx_package(&spdx, name)["SPDXID"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let rels: BTreeSet<(String, String, String)> = spdx["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_string(),
                r["relationshipType"].as_str().unwrap().to_string(),
                r["relatedSpdxElement"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let app = id("example.com/sbomapp");
    assert!(rels.contains(&("SPDXRef-DOCUMENT".into(), "DESCRIBES".into(), app.clone())));
    for m in [
        "github.com/google/uuid",
        "github.com/spf13/cobra",
        "github.com/spf13/pflag",
        "stdlib",
    ] {
        assert!(
            rels.contains(&(app.clone(), "DEPENDS_ON".into(), id(m))),
            "{m}: {rels:?}"
        );
    }
}

#[test]
fn same_binary_and_created_time_give_the_same_bytes() {
    let (dir, bin) = build_app(&[], &[]);
    for format in ["spdx", "cyclonedx"] {
        let run = |created: &str| {
            run_ok(
                gp().args(["sbom", "-f", format, "--created", created])
                    .arg(&bin),
            )
            .stdout
        };
        let a = run("2026-01-02T03:04:05Z");
        // A copy of the binary elsewhere describes the same content.
        let copy = dir.path().join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(&bin, copy.join("sbomapp")).unwrap();
        let b = run("2026-01-02T03:04:05Z");
        assert_eq!(a, b, "{format}");
        let c = run("2026-01-02T03:04:06Z");
        assert_ne!(a, c, "{format}: another time is another document");
        let (va, vc): (Value, Value) = (
            serde_json::from_slice(&a).unwrap(),
            serde_json::from_slice(&c).unwrap(),
        );
        let id = if format == "spdx" {
            "documentNamespace"
        } else {
            "serialNumber"
        };
        assert_ne!(va[id], vc[id]);
    }
    // SOURCE_DATE_EPOCH gives the creation time when --created is not given.
    let out = run_ok(
        gp().args(["sbom"])
            .arg(&bin)
            .env("SOURCE_DATE_EPOCH", "1700000000"),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
}

#[test]
fn licences_are_read_from_the_module_cache() {
    let (dir, bin) = build_app(&[], &[]);
    let spdx = sbom_json(&[bin.to_str().unwrap()]);
    assert_eq!(
        spdx_package(&spdx, "github.com/google/uuid")["licenseDeclared"],
        "BSD-3-Clause"
    );
    assert_eq!(
        spdx_package(&spdx, "github.com/spf13/cobra")["licenseDeclared"],
        "Apache-2.0"
    );
    assert_eq!(
        spdx_package(&spdx, "github.com/spf13/pflag")["licenseDeclared"],
        "BSD-3-Clause"
    );
    assert_eq!(
        spdx_package(&spdx, "github.com/spf13/pflag")["licenseConcluded"],
        "NOASSERTION"
    );

    // Not in the cache: NOASSERTION, and the package says why.
    let empty = dir.path().join("empty-cache");
    std::fs::create_dir_all(&empty).unwrap();
    let spdx = sbom_json(&["--modcache", empty.to_str().unwrap(), bin.to_str().unwrap()]);
    let uuid = spdx_package(&spdx, "github.com/google/uuid");
    assert_eq!(uuid["licenseDeclared"], "NOASSERTION");
    assert!(
        uuid["comment"]
            .as_str()
            .unwrap()
            .contains("not in the Go module cache"),
        "{uuid}"
    );

    // A licence file gopack does not know is listed as such, with its text, never as
    // NOASSERTION and never as the licence it resembles.
    let cache = dir.path().join("cache");
    let real = modcache().join("github.com/spf13/pflag@v1.0.9");
    let copy = cache.join("github.com/spf13/pflag@v1.0.9");
    copy_tree(&real, &copy);
    let text = std::fs::read_to_string(real.join("LICENSE")).unwrap()
        + "\nThis software may not be used by any organisation whose name starts with Q.\n";
    std::fs::set_permissions(
        copy.join("LICENSE"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    std::fs::write(copy.join("LICENSE"), &text).unwrap();
    let out = dir.path().join("odd.spdx.json");
    run_ok(
        gp().args(["sbom", "--modcache"])
            .arg(&cache)
            .arg("-o")
            .arg(&out)
            .arg(&bin),
    );
    let spdx: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let declared = spdx_package(&spdx, "github.com/spf13/pflag")["licenseDeclared"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(declared.starts_with("LicenseRef-gopack-"), "{declared}");
    let extracted = spdx["hasExtractedLicensingInfos"].as_array().unwrap();
    let info = extracted
        .iter()
        .find(|e| e["licenseId"] == declared.as_str())
        .unwrap();
    assert_eq!(info["extractedText"], text.as_str());
    assert!(info["comment"].as_str().unwrap().contains("BSD-3-Clause"));
    let cdx_out = dir.path().join("odd.cdx.json");
    run_ok(
        gp().args(["sbom", "-f", "cyclonedx", "--modcache"])
            .arg(&cache)
            .arg("-o")
            .arg(&cdx_out)
            .arg(&bin),
    );
    let cdx: Value = serde_json::from_slice(&std::fs::read(&cdx_out).unwrap()).unwrap();
    let pflag = component(&cdx, "github.com/spf13/pflag");
    assert_eq!(pflag["licenses"][0]["license"]["name"], declared.as_str());
    assert_eq!(
        pflag["licenses"][0]["license"]["text"]["content"],
        text.as_str()
    );
    assert_eq!(
        property(pflag, "gopack:license:status"),
        Some("unrecognised")
    );
    if has_validators() {
        validate_spdx(&out);
        validate_cdx(&cdx_out);
    }
}

#[test]
fn bad_input_is_refused_clearly_and_leaves_outputs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let not_go = dir.path().join("script.sh");
    std::fs::write(&not_go, "#!/bin/sh\necho hi\n").unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, "previous good output").unwrap();
    let (code, err) = run_fail(gp().args(["sbom", "-o"]).arg(&good).arg(&not_go));
    assert_eq!(code, 1);
    assert!(err.contains("is not a Go binary"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "previous good output"
    );
    let (code, err) = run_fail(gp().args(["sbom", "./no/such/binary"]));
    assert_eq!(code, 1);
    assert!(err.contains("no such file"), "{err}");
    let (code, err) = run_fail(gp().args(["sbom", "--format", "swid"]).arg(&not_go));
    assert_eq!(code, 2);
    assert!(err.contains("unknown SBOM format"), "{err}");
    let (code, err) = run_fail(gp().args(["sbom", "--created", "yesterday"]).arg(&not_go));
    assert_eq!(code, 2, "{err}");
    // Nothing but the good file is left in the directory (no temp files).
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn output_files_follow_the_umask_and_replace_atomically() {
    let (dir, bin) = build_app(&[], &[]);
    let out = dir.path().join("sbom.json");
    std::fs::write(&out, "old").unwrap();
    run_ok(gp().args(["sbom", "-o"]).arg(&out).arg(&bin));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions());
    // The process's umask applies, as for `cp`.
    // SAFETY: reading the umask sets it and sets it back at once.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    assert_eq!(mode & 0o777, 0o666 & !mask, "{mode:o}");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
}
