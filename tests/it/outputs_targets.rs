//! gopack.toml `[[target]]`s and several outputs in one build (issue 13): each target pushed
//! to its own repository *and* written to one shared OCI layout, with the same digests in both
//! (read back with skopeo and the registry's own API), one pin per target on stdout, the
//! `--metadata-file` records, and `--sbom` referrers attached to each target's own images — in
//! its own repository and once in the layout.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use gopack::oci::Digest;
use serde_json::Value;

use crate::common::{self, copy_tree, gopack, run_ok, testdata};
use crate::registry_support::Registry;

const SPDX: &str = "application/spdx+json";
const CYCLONEDX: &str = "application/vnd.cyclonedx+json";

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outputs-targets-cache")
}

fn gp(cwd: &Path) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(cwd)
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE")
        .env_remove("GOFLAGS")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env("GOENV", "off")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

/// testdata/multi (cmd/api, cmd/worker) in a temp dir, with `toml` as its gopack.toml.
fn module(toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    std::fs::write(tmp.path().join("gopack.toml"), toml).unwrap();
    tmp
}

/// Two targets with their own repositories: `api` named `api-server` in HOST/team/api,
/// `worker` in HOST/jobs/worker (`worker_extra`: more keys of its table).
fn two_targets(host: &str, worker_extra: &str) -> String {
    format!(
        "[[target]]\npackage = \"./cmd/api\"\nname = \"api-server\"\nrepository = \
         \"{host}/team/api\"\n\n[[target]]\npackage = \"./cmd/worker\"\nrepository = \
         \"{host}/jobs/worker\"\n{worker_extra}"
    )
}

/// The image name in the layout and the repository of each target.
const TARGETS: [(&str, &str); 2] = [("api-server", "team/api"), ("worker", "jobs/worker")];

/// `skopeo inspect --raw REF`: the manifest or index bytes as stored.
fn raw(reference: &str) -> Vec<u8> {
    let mut cmd = common::tool("skopeo");
    cmd.args(["inspect", "--raw"]);
    if reference.starts_with("docker://") {
        cmd.arg("--tls-verify=false");
    }
    run_ok(cmd.arg(reference)).stdout
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The repositories the registry holds (`GET /v2/_catalog`).
fn catalog(host: &str) -> BTreeSet<String> {
    let mut resp = ureq::get(&format!("http://{host}/v2/_catalog"))
        .call()
        .unwrap();
    let body = json(&resp.body_mut().read_to_vec().unwrap());
    body["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// The platform manifest digests of a top-level manifest or index (itself when single).
fn platform_manifests(top: &[u8]) -> Vec<String> {
    let doc = json(top);
    match doc["manifests"].as_array() {
        Some(list) => list
            .iter()
            .map(|m| m["digest"].as_str().unwrap().to_string())
            .collect(),
        None => vec![Digest::of(top).to_string()],
    }
}

/// The layout's unnamed SBOM entries: (subject manifest digest, artifactType, referrer digest),
/// the subject read from each referrer manifest.
fn layout_referrers(layout: &Path) -> Vec<(String, String, String)> {
    let index = json(&std::fs::read(layout.join("index.json")).unwrap());
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["artifactType"].is_string())
        .map(|e| {
            let digest = e["digest"].as_str().unwrap();
            let manifest = json(&blob(layout, digest));
            (
                manifest["subject"]["digest"].as_str().unwrap().to_string(),
                e["artifactType"].as_str().unwrap().to_string(),
                digest.to_string(),
            )
        })
        .collect()
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
}

/// How many times each blob (by hex digest) was uploaded, from the registry's access log: the
/// PUT that completes an upload names the blob's digest.
fn uploads(log: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("\"PUT /v2/") && l.contains("/blobs/uploads/"))
    {
        let Some(at) = line.find("digest=sha256") else {
            continue;
        };
        let rest = &line[at + "digest=sha256".len()..];
        let rest = ["%3A", "%3a", ":"]
            .iter()
            .find_map(|sep| rest.strip_prefix(sep))
            .unwrap_or(rest);
        let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        *count.entry(hex).or_default() += 1;
    }
    count
}

/// The metadata file's record of the target named `name`.
fn record<'a>(meta: &'a Value, name: &str) -> &'a Value {
    meta["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no record of {name}: {meta}"))
}

/// One `gopack build` with two targets (worker on two platforms: its own plan), `--push` and
/// `--output oci:DIR`: each target's image is in its own repository and in the layout under
/// its name, with the same digest; stdout holds exactly one pin per target (the registry's, as
/// documented: a layout name cannot carry a digest); `--metadata-file` has one record per
/// target naming it in both outputs, with one entry per platform.
#[test]
fn targets_pushed_and_kept_in_a_layout_agree_on_digests_stdout_and_metadata() {
    if !common::require_tool("docker-registry") || !common::require_tool("skopeo") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = module(&two_targets(
        &host,
        "platforms = [\"linux/amd64\", \"linux/arm64\"]\n",
    ));
    let layout = tmp.path().join("images");
    let meta_file = tmp.path().join("meta.json");
    let out = run_ok(
        gp(tmp.path())
            .args(["build", "--push", "--insecure-registry", &host, "-o"])
            .arg(format!("oci:{}", layout.display()))
            .arg("--metadata-file")
            .arg(&meta_file),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: BTreeSet<&str> = stdout.lines().collect();
    assert_eq!(stdout.lines().count(), 2, "one line per target:\n{stdout}");

    // Every blob went up once: what the targets share (the base-files layer) was uploaded to
    // one repository and mounted into the other.
    let log = registry.access_log();
    let uploaded = uploads(&log);
    assert!(!uploaded.is_empty(), "{log}");
    let again: Vec<_> = uploaded.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        again.is_empty(),
        "uploaded more than once: {again:?}\n{log}"
    );
    assert!(log.contains("?mount=sha256"), "{log}");

    assert_eq!(
        catalog(&host),
        BTreeSet::from(["jobs/worker".to_string(), "team/api".to_string()]),
        "each target in its own repository, nothing else"
    );
    let mut names = crate::outputs::ref_names(&layout);
    names.sort();
    assert_eq!(names, ["api-server", "worker"]);

    let meta = json(&std::fs::read(&meta_file).unwrap());
    assert_eq!(meta["targets"].as_array().unwrap().len(), 2, "{meta}");
    for (name, repo) in TARGETS {
        let pushed = raw(&format!("docker://{host}/{repo}:latest"));
        let local = raw(&format!("oci:{}:{name}", layout.display()));
        let digest = Digest::of(&pushed).to_string();
        assert_eq!(
            Digest::of(&local).to_string(),
            digest,
            "{name}: layout = registry"
        );
        let pin = format!("{host}/{repo}@{digest}");
        assert!(printed.contains(pin.as_str()), "{pin} in\n{stdout}");
        assert_eq!(registry.tags(repo), ["latest"]);

        let r = record(&meta, name);
        assert_eq!(r["reference"], pin.as_str(), "{r}");
        assert_eq!(r["digest"], digest.as_str(), "{r}");
        let references: BTreeSet<&str> = r["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected = format!("oci:{}:{name}", layout.display());
        let tagged = format!("{host}/{repo}:latest");
        assert_eq!(
            references,
            BTreeSet::from([expected.as_str(), tagged.as_str()]),
            "{r}"
        );
        assert_eq!(r["references"].as_array().unwrap().len(), 2, "{r}");
        let platforms: Vec<&str> = r["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["digest"].as_str().unwrap())
            .collect();
        assert_eq!(platforms, platform_manifests(&pushed), "{r}");
    }
    let worker = json(&raw(&format!("docker://{host}/jobs/worker:latest")));
    assert_eq!(worker["manifests"].as_array().unwrap().len(), 2, "{worker}");
}

/// `--sbom spdx,cyclonedx` with two targets (one plan), a push and a layout: every platform
/// manifest has one referrer per format in its own repository (tag schema: docker-registry has
/// no referrers API) and none in the other, the layout lists each referrer exactly once with
/// the same digests, each document names the repository its image went to, and the metadata
/// file lists the same referrers per target and platform.
#[test]
fn sbom_referrers_of_each_target_go_where_its_images_went() {
    if !common::require_tool("docker-registry") || !common::require_tool("skopeo") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let tmp = module(&two_targets(&host, ""));
    let layout = tmp.path().join("images");
    let meta_file = tmp.path().join("meta.json");
    run_ok(
        gp(tmp.path())
            .args(["build", "--push", "--insecure-registry", &host])
            .args(["--sbom", "spdx,cyclonedx"])
            .args(["--platform", "linux/amd64,linux/arm64", "-o"])
            .arg(format!("oci:{}", layout.display()))
            .arg("--metadata-file")
            .arg(&meta_file),
    );
    let meta = json(&std::fs::read(&meta_file).unwrap());
    let in_layout = layout_referrers(&layout);
    let unique: BTreeSet<&String> = in_layout.iter().map(|(_, _, d)| d).collect();
    assert_eq!(unique.len(), in_layout.len(), "each referrer once");
    assert_eq!(in_layout.len(), 2 * 2 * 2, "targets × platforms × formats");

    for (name, repo) in TARGETS {
        let manifests = platform_manifests(&raw(&format!("docker://{host}/{repo}:latest")));
        assert_eq!(manifests.len(), 2);
        let mut expected_tags = BTreeSet::from(["latest".to_string()]);
        let r = record(&meta, name);
        for (i, m) in manifests.iter().enumerate() {
            let tag = m.replace(':', "-");
            expected_tags.insert(tag.clone());
            let listed = json(&raw(&format!("docker://{host}/{repo}:{tag}")));
            let mut pushed = BTreeMap::new();
            for entry in listed["manifests"].as_array().unwrap() {
                let digest = entry["digest"].as_str().unwrap().to_string();
                let manifest = json(&raw(&format!("docker://{host}/{repo}@{digest}")));
                assert_eq!(manifest["subject"]["digest"], m.as_str());
                pushed.insert(entry["artifactType"].as_str().unwrap().to_string(), digest);
            }
            assert_eq!(
                pushed.keys().map(String::as_str).collect::<Vec<_>>(),
                [SPDX, CYCLONEDX],
                "{name} {m}: {listed}"
            );
            let local: BTreeMap<String, String> = in_layout
                .iter()
                .filter(|(subject, _, _)| subject == m)
                .map(|(_, t, d)| (t.clone(), d.clone()))
                .collect();
            assert_eq!(
                local, pushed,
                "{name} {m}: the same referrers in the layout"
            );
            let platform = &r["platforms"][i];
            assert_eq!(platform["digest"], m.as_str(), "{r}");
            let recorded: BTreeSet<&str> = platform["referrers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let expected: BTreeSet<&str> = pushed.values().map(String::as_str).collect();
            assert_eq!(recorded, expected, "{r}");
            // The document names the repository this image was pushed to.
            let manifest = json(&blob(&layout, &pushed[SPDX]));
            let document = blob(&layout, manifest["layers"][0]["digest"].as_str().unwrap());
            let document = String::from_utf8(document).unwrap();
            assert!(
                document.contains(&format!("repository_url={host}/{repo}\"")),
                "{name}: {document}"
            );
        }
        // Nothing of the other target's in this repository.
        let tags: BTreeSet<String> = registry.tags(repo).into_iter().collect();
        assert_eq!(tags, expected_tags, "{repo}");
    }
}

/// `sbom` set in one target's table: that target's images get SBOM referrers, the other
/// target's (built in the same plan) none.
#[test]
fn an_sbom_setting_of_one_target_is_that_targets_only() {
    let tmp = module(
        "[[target]]\npackage = \"./cmd/api\"\nsbom = [\"spdx\"]\n\n[[target]]\npackage = \
         \"./cmd/worker\"\n",
    );
    let layout = tmp.path().join("images");
    let out = run_ok(
        gp(tmp.path())
            .args(["build", "--json", "-o"])
            .arg(format!("oci:{}", layout.display())),
    );
    let built = json(&out.stdout);
    let digest_of = |name: &str| {
        built["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {built}"))["platforms"][0]
            .clone()
    };
    let (api, worker) = (digest_of("api"), digest_of("worker"));
    assert_eq!(api["sboms"].as_array().map(Vec::len), Some(1), "{api}");
    assert!(worker["sboms"].is_null(), "{worker}");
    let in_layout = layout_referrers(&layout);
    assert_eq!(in_layout.len(), 1, "{in_layout:?}");
    assert_eq!(in_layout[0].0, api["manifest_digest"].as_str().unwrap());
    assert_eq!(in_layout[0].1, SPDX);
}
