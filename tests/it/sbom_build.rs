//! `gopack build --sbom spdx,cyclonedx`: each platform manifest gets one SBOM referrer per
//! format, made from the build itself (the `-X` values gopack passed, `go list -deps` edges),
//! listed as unnamed entries of an OCI layout's `index.json` or pushed to a registry (the real
//! docker-registry: tag-schema fallback), and listed back with `gopack inspect REF --referrers`
//! (the same listing as `gopack sbom REF --referrers`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{self, repo_root, run_fail, run_ok};
use crate::registry_support::Registry;
use crate::sbom::{cdx_modules, gp, validate_cdx, validate_spdx};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&blob(layout, digest)).unwrap()
}

fn build_with_sbom(layout: &Path) -> Value {
    let out = run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--ldflags",
        "-X main.version=2.3.4",
        "--sbom",
        "spdx,cyclonedx",
        "-o",
        &format!("oci:{}:app", layout.display()),
        "--json",
    ]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn expected_modules() -> BTreeSet<(String, String)> {
    [
        ("example.com/sbomapp", "2.3.4"),
        ("github.com/google/uuid", "v1.6.0"),
        ("github.com/spf13/cobra", "v1.10.2"),
        ("github.com/spf13/pflag", "v1.0.9"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// Checks one referrer manifest's shape and returns its document.
fn sbom_of(layout: &Path, manifest: &Value, artifact_type: &str, subject: &str) -> Vec<u8> {
    assert_eq!(manifest["mediaType"], MANIFEST);
    assert_eq!(manifest["artifactType"], artifact_type);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        blob(layout, manifest["config"]["digest"].as_str().unwrap()),
        b"{}"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], artifact_type);
    assert_eq!(manifest["subject"]["digest"], subject);
    assert_eq!(manifest["subject"]["mediaType"], MANIFEST);
    blob(layout, layers[0]["digest"].as_str().unwrap())
}

#[test]
fn build_sbom_into_a_layout_lists_referrers_in_index_json() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let outcome = build_with_sbom(&layout);
    let platform = &outcome["images"][0]["platforms"][0];
    let subject = platform["manifest_digest"].as_str().unwrap().to_string();
    let reported = platform["sboms"].as_array().unwrap();
    assert_eq!(reported.len(), 2, "{platform}");
    assert!(reported.iter().all(|s| s["attached_by"] == "layout-index"));

    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let named: Vec<&Value> = entries
        .iter()
        .filter(|e| e["annotations"]["org.opencontainers.image.ref.name"].is_string())
        .collect();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0]["digest"], subject.as_str());
    let referrers: Vec<&Value> = entries
        .iter()
        .filter(|e| e["artifactType"].is_string())
        .collect();
    assert_eq!(referrers.len(), 2, "{index}");

    let mut seen = BTreeSet::new();
    for entry in referrers {
        let artifact_type = entry["artifactType"].as_str().unwrap();
        seen.insert(artifact_type.to_string());
        let manifest = json_blob(&layout, entry["digest"].as_str().unwrap());
        let document = sbom_of(&layout, &manifest, artifact_type, &subject);
        let file = tmp.path().join("doc.json");
        std::fs::write(&file, &document).unwrap();
        let doc: Value = serde_json::from_slice(&document).unwrap();
        if artifact_type == "application/spdx+json" {
            if common::require_tool("pyspdxtools") {
                validate_spdx(&file);
            }
            let app = doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "example.com/sbomapp")
                .unwrap();
            assert_eq!(app["versionInfo"], "2.3.4");
        } else {
            if common::require_tool("python3") {
                validate_cdx(&file);
            }
            // The build passes -trimpath, so only gopack's own record knows the version.
            assert_eq!(cdx_modules(&doc), expected_modules());
            let app = doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "example.com/sbomapp")
                .unwrap();
            let source = app["properties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "gopack:version:source")
                .map(|p| p["value"].clone());
            assert_eq!(source, Some("-ldflags -X main.version".into()), "{app}");
            // Edges come from go list: cobra imports pflag, the binary does not.
            let deps = doc["dependencies"].as_array().unwrap();
            let of = |needle: &str| -> Vec<String> {
                deps.iter()
                    .find(|d| d["ref"].as_str().unwrap().contains(needle))
                    .unwrap()["dependsOn"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            };
            assert!(
                of("spf13/cobra@")
                    .iter()
                    .any(|d| d.contains("spf13/pflag@"))
            );
            assert!(!of("binary:").iter().any(|d| d.contains("spf13/pflag@")));
            assert_eq!(
                doc["metadata"]["component"]["version"],
                subject.as_str(),
                "the image is the document's subject"
            );
        }
    }
    assert_eq!(seen.len(), 2);

    // Listed back; the image is still readable without naming it (referrers are not images).
    let out = run_ok(gp().args([
        "inspect",
        &format!("oci:{}:app", layout.display()),
        "--referrers",
        "--json",
    ]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["source"], "layout-index");
    assert_eq!(listed[0]["subject"], subject.as_str());
    assert_eq!(listed[0]["referrers"].as_array().unwrap().len(), 2);
    run_ok(gp().args(["sbom", &format!("oci:{}", layout.display())]));
    if common::require_tool("skopeo") {
        let inspected = common::skopeo_inspect(&format!("oci:{}:app", layout.display()), &[]);
        assert_eq!(inspected["Digest"], subject.as_str());
    }

    // The same build again: the same documents, listed once; gc keeps them.
    let before = std::fs::read(layout.join("index.json")).unwrap();
    build_with_sbom(&layout);
    assert_eq!(std::fs::read(layout.join("index.json")).unwrap(), before);
    run_ok(gp().args(["gc", &format!("oci:{}", layout.display())]));
    for entry in index["manifests"].as_array().unwrap() {
        let manifest = json_blob(&layout, entry["digest"].as_str().unwrap());
        for layer in manifest["layers"].as_array().unwrap() {
            blob(&layout, layer["digest"].as_str().unwrap());
        }
    }

    // A changed build under the same name: the replaced image's SBOMs go with it, so gc can
    // remove that image; the new image has its own two.
    run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--ldflags",
        "-X main.version=2.3.5",
        "--sbom",
        "spdx,cyclonedx",
        "-o",
        &format!("oci:{}:app", layout.display()),
        "-q",
    ]));
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let named = entries
        .iter()
        .find(|e| e["annotations"]["org.opencontainers.image.ref.name"] == "app")
        .unwrap();
    assert_ne!(named["digest"], subject.as_str());
    let referrers: Vec<&Value> = entries
        .iter()
        .filter(|e| e["artifactType"].is_string())
        .collect();
    assert_eq!(referrers.len(), 2, "{index}");
    for entry in referrers {
        let manifest = json_blob(&layout, entry["digest"].as_str().unwrap());
        assert_eq!(manifest["subject"]["digest"], named["digest"]);
    }
    run_ok(gp().args(["gc", &format!("oci:{}", layout.display())]));
    let old = layout
        .join("blobs/sha256")
        .join(subject.strip_prefix("sha256:").unwrap());
    assert!(!old.exists(), "the replaced image is collected");
}

#[test]
fn build_sbom_refuses_outputs_that_cannot_hold_referrers() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("app.tar");
    let (code, err) = run_fail(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--sbom",
        "spdx",
        "-o",
        &format!("oci-archive:{}", archive.display()),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("referrers") && err.contains("gopack sbom"),
        "{err}"
    );
    assert!(!archive.exists());
    let (code, err) = run_fail(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--sbom",
        "spdx,syft",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("syft"), "{err}");
}

#[test]
fn build_sbom_push_attaches_to_each_platform_manifest_needs_docker_registry() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let out = run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--platform",
        "linux/amd64,linux/arm64",
        "--sbom",
        "spdx,cyclonedx",
        "--push",
        "-t",
        &format!("{host}/sbomapp:v1"),
        "--insecure-registry",
        &host,
        "--json",
    ]));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    let platforms = outcome["images"][0]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    let mut subjects = BTreeSet::new();
    for p in platforms {
        let sboms = p["sboms"].as_array().unwrap();
        assert_eq!(sboms.len(), 2, "{p}");
        assert!(
            sboms.iter().all(|s| s["attached_by"] == "tag-schema"),
            "{p}"
        );
        subjects.insert(p["manifest_digest"].as_str().unwrap().to_string());
    }

    let out = run_ok(gp().args([
        "inspect",
        &format!("docker://{host}/sbomapp:v1"),
        "--referrers",
        "--json",
        "--insecure-registry",
        &host,
    ]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    for subject in &subjects {
        let l = listed
            .iter()
            .find(|l| l["subject"] == subject.as_str())
            .unwrap();
        assert_eq!(l["source"], "tag-schema");
        let types: BTreeSet<&str> = l["referrers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["artifactType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            BTreeSet::from(["application/spdx+json", "application/vnd.cyclonedx+json"])
        );
    }
    // The index over the platforms has none of its own.
    let top = listed.iter().find(|l| l["platform"].is_null()).unwrap();
    assert!(top["referrers"].as_array().unwrap().is_empty());
}

#[test]
fn sbom_attach_in_a_layout_adds_one_referrer_per_format_per_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--platform",
        "linux/amd64,linux/arm64",
        "-o",
        &format!("oci:{}:app", layout.display()),
        "-q",
    ]));
    let target = format!("oci:{}:app", layout.display());
    let out = run_ok(gp().args(["sbom", &target, "--attach", "-f", "spdx,cyclonedx"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);
    // Twice: nothing is listed twice.
    run_ok(gp().args(["sbom", &target, "--attach", "-f", "spdx,cyclonedx"]));
    let out = run_ok(gp().args(["sbom", &target, "--referrers", "--json"]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3, "two platform manifests and the index");
    for l in listed {
        let n = l["referrers"].as_array().unwrap().len();
        if l["platform"].is_null() {
            assert_eq!(n, 0);
        } else {
            assert_eq!(n, 2, "{l}");
            for r in l["referrers"].as_array().unwrap() {
                let manifest = json_blob(&layout, r["digest"].as_str().unwrap());
                sbom_of(
                    &layout,
                    &manifest,
                    r["artifactType"].as_str().unwrap(),
                    l["subject"].as_str().unwrap(),
                );
            }
        }
    }

    // An archive holds no referrers: refused as usage, the archive untouched.
    let archive = tmp.path().join("app.tar");
    run_ok(gp().current_dir(repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "-o",
        &format!("oci-archive:{}", archive.display()),
        "-q",
    ]));
    let before = std::fs::read(&archive).unwrap();
    let (code, err) = run_fail(gp().args([
        "sbom",
        &format!("oci-archive:{}", archive.display()),
        "--attach",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("-o FILE"), "{err}");
    assert_eq!(std::fs::read(&archive).unwrap(), before);
}
