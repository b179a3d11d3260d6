//! `gopack resolve` and `gopack apply` against a real docker-registry: multi-document YAML
//! with comments, anchors and a reference inside a list; the output parsed (PyYAML, an
//! independent reader) equals the input parsed except the image fields, which name the pushed
//! digests; the text outside the references is unchanged byte for byte.

use crate::common;
use crate::registry_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use registry_support::Registry;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("resolve-cache")
}

fn gp(cwd: &Path) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(cwd)
        .env_remove("GOPACK_BASE")
        .env_remove("DOCKER_CONFIG")
        .env("GOENV", "off");
    cmd
}

const MANIFESTS: &str = "\
# Two deployments and a job; the api image is anchored and reused.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api   # the public API
spec:
  template:
    spec:
      containers:
        - name: api
          image: &api gopack://example.com/multi/cmd/api
          args: [\"--port\", \"8080\"]
        - name: worker
          image: \"ko://example.com/multi/cmd/worker\"
        - name: api-again
          image: *api
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      initContainers:
        - {name: first, image: 'gopack://example.com/multi/cmd/worker'}
      containers:
        - name: again
          image: gopack://example.com/multi/cmd/api
      note: \"text mentioning gopack://example.com/multi/cmd/api stays\"
";

/// Every YAML document of `text` as JSON, read by PyYAML.
fn parse_yaml(text: &str) -> Value {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn has_pyyaml() -> bool {
    require_tool("python3")
        && Command::new("python3")
            .args(["-c", "import yaml"])
            .status()
            .is_ok_and(|s| s.success())
}

#[test]
fn resolve_replaces_only_the_references_and_keeps_the_rest_byte_for_byte() {
    if !require_tool("docker-registry") || !require_tool("skopeo") || !has_pyyaml() {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    let file = tmp.path().join("deploy.yaml");
    std::fs::write(&file, MANIFESTS).unwrap();
    let out = run_ok(
        gp(tmp.path())
            .env("GOPACK_REPO", format!("{host}/team"))
            .args(["resolve", "-f", "deploy.yaml"]),
    );
    let resolved = String::from_utf8(out.stdout).unwrap();
    let api = image_ref(&resolved, "&api ");
    let worker = image_ref(&resolved, "image: \"");
    assert!(
        api.starts_with(&format!("{host}/team/api@sha256:")),
        "{resolved}"
    );
    assert!(
        worker.starts_with(&format!("{host}/team/worker@sha256:")),
        "{resolved}"
    );
    // The text: exactly the input with each reference replaced.
    let expected = MANIFESTS
        .replace(
            "&api gopack://example.com/multi/cmd/api",
            &format!("&api {api}"),
        )
        .replace(
            "image: gopack://example.com/multi/cmd/api",
            &format!("image: {api}"),
        )
        .replace(
            "\"ko://example.com/multi/cmd/worker\"",
            &format!("\"{worker}\""),
        )
        .replace(
            "'gopack://example.com/multi/cmd/worker'",
            &format!("'{worker}'"),
        );
    assert_eq!(resolved, expected);
    // Parsed: the same documents except the image fields (the alias follows its anchor).
    let before = parse_yaml(MANIFESTS);
    let after = parse_yaml(&resolved);
    let mut patched = before.clone();
    patched[0]["spec"]["template"]["spec"]["containers"][0]["image"] = api.clone().into();
    patched[0]["spec"]["template"]["spec"]["containers"][1]["image"] = worker.clone().into();
    patched[0]["spec"]["template"]["spec"]["containers"][2]["image"] = api.clone().into();
    patched[1]["spec"]["template"]["spec"]["initContainers"][0]["image"] = worker.clone().into();
    patched[1]["spec"]["template"]["spec"]["containers"][0]["image"] = api.clone().into();
    assert_eq!(after, patched);
    assert_ne!(after, before);
    // The references pin what the registry holds.
    let inspected = skopeo_inspect(&format!("docker://{api}"), &["--tls-verify=false"]);
    assert_eq!(inspected["Digest"], api.split_once('@').unwrap().1);

    // Reading stdin gives the same text.
    let mut child = gp(tmp.path())
        .env("GOPACK_REPO", format!("{host}/team"))
        .args(["resolve", "-q", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), MANIFESTS.as_bytes()).unwrap();
    let again = child.wait_with_output().unwrap();
    assert!(again.status.success());
    assert_eq!(String::from_utf8(again.stdout).unwrap(), expected);
}

/// The reference after `marker` on its line (up to a quote or the end of the line).
fn image_ref(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap() + marker.len();
    text[at..]
        .split(['"', '\'', '\n'])
        .next()
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn apply_pipes_the_resolved_yaml_to_kubectl_or_says_it_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    let plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # no images\n";
    std::fs::write(tmp.path().join("cm.yaml"), plain).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, err) = run_fail(
        gp(tmp.path())
            .env("PATH", &empty)
            .env_remove("GOPACK_KUBECTL")
            .args(["apply", "-f", "cm.yaml"]),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("kubectl is not on PATH") && err.contains("gopack resolve"),
        "{err}"
    );

    // A stand-in kubectl that keeps its arguments and stdin: kubectl itself needs a cluster.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let kubectl = bin.join("kubectl");
    std::fs::write(
        &kubectl,
        format!(
            "#!/bin/sh\necho \"$@\" > {0}/args\ncat > {0}/stdin\n",
            tmp.path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &kubectl,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    run_ok(gp(tmp.path()).env("PATH", path).args([
        "apply",
        "-f",
        "cm.yaml",
        "--",
        "--dry-run=server",
    ]));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("args"))
            .unwrap()
            .trim(),
        "apply -f - --dry-run=server"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("stdin")).unwrap(),
        plain
    );
}

#[test]
fn a_reference_in_a_block_scalar_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("bad.yaml"),
        "a: 1\nscript: |\n  gopack://example.com/x/cmd/a\n",
    )
    .unwrap();
    let (code, err) = run_fail(gp(tmp.path()).args(["resolve", "-f", "bad.yaml"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.yaml line 3") && err.contains("block scalar"),
        "{err}"
    );
}
