//! SBOMs attached as OCI referrers (`gopack sbom REF --attach`, listed with `--referrers`):
//! to the real docker-registry (distribution 2.8, no referrers API: the tag-schema fallback,
//! done completely — other tools' entries kept, duplicates skipped) and to a small registry in
//! this test that answers `OCI-Subject` and serves `/referrers/` in pages without filtering
//! (the API path, with the client paging and filtering).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use gopack::oci::Digest;
use gopack::registry::{Reference, RegistryClient, RegistryOptions};
use serde_json::{Value, json};

use crate::common::{self, run_ok};
use crate::registry_support::Registry;
use crate::registry_support::hostile::{HostileServer, Reply, Request};
use crate::sbom::{gp, validate_cdx, validate_spdx};
use crate::sbom_image::build_image;

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    )
}

/// GET with an Accept header: (status, body).
fn get(url: &str, accept: &str) -> (u16, Vec<u8>) {
    let mut resp = agent().get(url).header("Accept", accept).call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap())
}

/// A blob upload (POST a session, PUT the bytes with the digest), as distribution 2.8 takes it.
fn put_blob(host: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = Digest::of(bytes).to_string();
    let resp = agent()
        .post(&format!("http://{host}/v2/{repo}/blobs/uploads/"))
        .send_empty()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202, "upload session");
    let location = resp
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("http://{host}{location}")
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let resp = agent()
        .put(&format!("{url}{sep}digest={digest}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "blob upload");
    digest
}

fn put_manifest(host: &str, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
    let resp = agent()
        .put(&format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .header("Content-Type", media_type)
        .send(bytes)
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "manifest PUT {reference}");
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Pushes the sbomapp image built by gopack to `host/sbomapp:v1`; returns its manifest digest.
fn push_app(host: &str) -> String {
    let out = run_ok(gp().current_dir(common::repo_root()).args([
        "build",
        "./testdata/sbomapp",
        "--push",
        "-t",
        &format!("{host}/sbomapp:v1"),
        "--insecure-registry",
        host,
        "-q",
    ]));
    let printed = String::from_utf8(out.stdout).unwrap();
    printed
        .trim()
        .split_once('@')
        .expect("REF@DIGEST")
        .1
        .to_string()
}

#[test]
fn attach_to_a_registry_without_the_api_keeps_the_tag_schema_index_needs_docker_registry() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_plain();
    let host = registry.host();
    let subject = push_app(&host);
    let tag = subject.replace(':', "-");
    let tag_url = format!("http://{host}/v2/sbomapp/manifests/{tag}");

    // Another tool already keeps a referrer there, with fields gopack does not know.
    let config = put_blob(&host, "sbomapp", b"{}");
    let sig = put_blob(&host, "sbomapp", b"not really a signature");
    let foreign = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": sig, "size": 22}],
        "subject": {"mediaType": MANIFEST, "digest": subject, "size": 1}
    }))
    .unwrap();
    let foreign_digest = Digest::of(&foreign).to_string();
    put_manifest(&host, "sbomapp", &foreign_digest, MANIFEST, &foreign);
    let foreign_entry = json!({
        "mediaType": MANIFEST,
        "digest": foreign_digest,
        "size": foreign.len(),
        "artifactType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "annotations": {"dev.sigstore.cosign/bundle": "{\"x\":1}"},
        "io.example.unknown-field": {"kept": true}
    });
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [foreign_entry],
        "annotations": {"io.example.index": "kept too"}
    }))
    .unwrap();
    put_manifest(&host, "sbomapp", &tag, INDEX, &index);

    let reference = format!("docker://{host}/sbomapp:v1");
    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--attach",
        "--format",
        "spdx,cyclonedx",
        "--insecure-registry",
        &host,
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("referrers tag schema (no OCI-Subject; added")
            .count(),
        2,
        "{err}"
    );
    let printed = lines(&out.stdout);
    assert_eq!(printed.len(), 2, "{printed:?}");

    let (status, body) = get(&tag_url, INDEX);
    assert_eq!(status, 200);
    let index: Value = serde_json::from_slice(&body).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{index}");
    assert_eq!(
        entries[0], foreign_entry,
        "the other tool's entry is kept as it was"
    );
    assert_eq!(index["annotations"]["io.example.index"], "kept too");
    let mut types = Vec::new();
    for entry in &entries[1..] {
        let artifact_type = entry["artifactType"].as_str().unwrap().to_string();
        // The descriptor carries ALL the manifest's annotations.
        let (_, manifest) = get(
            &format!(
                "http://{host}/v2/sbomapp/manifests/{}",
                entry["digest"].as_str().unwrap()
            ),
            MANIFEST,
        );
        let manifest: Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(entry["annotations"], manifest["annotations"]);
        assert!(entry["annotations"]["org.opencontainers.image.created"].is_string());
        check_sbom_manifest(&host, &manifest, &artifact_type, &subject);
        types.push(artifact_type);
    }
    types.sort();
    assert_eq!(
        types,
        ["application/spdx+json", "application/vnd.cyclonedx+json"]
    );

    // Attaching again finds both already listed and leaves the index alone.
    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--attach",
        "-f",
        "spdx,cyclonedx",
        "--insecure-registry",
        &host,
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("already in the index").count(), 2, "{err}");
    let (_, again) = get(&tag_url, INDEX);
    assert_eq!(again, body);

    // Listed back, from the tag schema.
    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--referrers",
        "--json",
        "--insecure-registry",
        &host,
    ]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["subject"], subject.as_str());
    assert_eq!(listed[0]["source"], "tag-schema");
    assert_eq!(listed[0]["referrers"].as_array().unwrap().len(), 3);
    let text = run_ok(gp().args([
        "sbom",
        &reference,
        "--referrers",
        "--insecure-registry",
        &host,
    ]));
    let rows = lines(&text.stdout);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("application/spdx+json")));
}

/// The referrer manifest is exactly what trivy and oras read, and its one layer is a valid
/// document of its type.
fn check_sbom_manifest(host: &str, manifest: &Value, artifact_type: &str, subject: &str) {
    assert_eq!(manifest["mediaType"], MANIFEST);
    assert_eq!(manifest["artifactType"], artifact_type);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        manifest["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(manifest["config"]["size"], 2);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], artifact_type);
    assert_eq!(manifest["subject"]["digest"], subject);
    assert_eq!(manifest["subject"]["mediaType"], MANIFEST);
    assert!(manifest["annotations"]["org.opencontainers.image.created"].is_string());
    let (status, doc) = get(
        &format!(
            "http://{host}/v2/sbomapp/blobs/{}",
            layers[0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    assert_eq!(status, 200);
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), &doc).unwrap();
    if common::require_tool("pyspdxtools") {
        if artifact_type == "application/spdx+json" {
            validate_spdx(file.path());
        } else {
            validate_cdx(file.path());
        }
    }
}

/// A registry with the referrers API, in memory: blobs, manifests (by digest and tag), and for
/// each subject the descriptors of the manifests that name it. `/referrers/` answers one
/// descriptor per page (with `Link: rel="next"`) and ignores `artifactType`, so the client must
/// page and filter itself.
#[derive(Default)]
struct ApiRegistry {
    blobs: HashMap<String, Vec<u8>>,
    manifests: HashMap<String, (String, Vec<u8>)>,
    referrers: BTreeMap<String, Vec<Value>>,
    uploads: usize,
    /// Behave like a registry without the API: no `OCI-Subject`, 404 on `/referrers/`;
    /// manifests carry an ETag and a PUT with a stale `If-Match` gets 412.
    no_api: bool,
    /// Another writer changes a tag-schema index just before gopack's first PUT of it.
    race_once: bool,
    /// Indexes PUT under a tag, in order (to see the retry).
    tag_puts: Vec<String>,
}

impl ApiRegistry {
    fn answer(&mut self, r: &Request) -> Reply {
        let path = r.path().to_string();
        let query = r
            .target
            .split_once('?')
            .map(|(_, q)| q.to_string())
            .unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches("/v2/").split('/').collect();
        let json_reply = |status, body: Vec<u8>, extra: Vec<(String, String)>| {
            let mut headers = vec![("Content-Type".to_string(), INDEX.to_string())];
            headers.extend(extra);
            Reply::Full(status, headers, body)
        };
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", [""]) => Reply::json(200, "{}"),
            ("HEAD" | "GET", [_, "blobs", digest]) => match self.blobs.get(*digest) {
                Some(b) => Reply::Full(
                    200,
                    vec![("Docker-Content-Digest".into(), digest.to_string())],
                    b.clone(),
                ),
                None => Reply::status(404),
            },
            ("POST", [repo, "blobs", "uploads", ""]) => {
                self.uploads += 1;
                let location = format!("/v2/{repo}/blobs/uploads/u{}", self.uploads);
                Reply::Full(202, vec![("Location".into(), location)], vec![])
            }
            ("PUT", [_, "blobs", "uploads", _]) => {
                let digest = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("digest="))
                    .unwrap_or("")
                    .replace("%3A", ":");
                if Digest::of(&r.body).to_string() != digest {
                    return Reply::status(400);
                }
                self.blobs.insert(digest.clone(), r.body.clone());
                Reply::Full(201, vec![("Docker-Content-Digest".into(), digest)], vec![])
            }
            ("PUT", [_, "manifests", reference])
                if self.no_api && reference.starts_with("sha256-") =>
            {
                self.tag_puts.push(reference.to_string());
                if self.race_once {
                    self.race_once = false;
                    let other = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
                        {"mediaType": MANIFEST, "digest": format!("sha256:{}", "1".repeat(64)), "size": 7, "artifactType": "application/example"}
                    ]});
                    self.manifests.insert(
                        reference.to_string(),
                        (INDEX.into(), serde_json::to_vec(&other).unwrap()),
                    );
                }
                let current = self
                    .manifests
                    .get(*reference)
                    .map(|(_, b)| format!("\"{}\"", Digest::of(b)));
                let stale = match (r.header("if-match"), r.header("if-none-match")) {
                    (Some(etag), _) => Some(etag.to_string()) != current,
                    (None, Some("*")) => current.is_some(),
                    _ => false,
                };
                if stale {
                    return Reply::Full(412, vec![], vec![]);
                }
                self.manifests
                    .insert(reference.to_string(), (INDEX.into(), r.body.clone()));
                Reply::Full(
                    201,
                    vec![(
                        "Docker-Content-Digest".into(),
                        Digest::of(&r.body).to_string(),
                    )],
                    vec![],
                )
            }
            ("PUT", [_, "manifests", reference]) => {
                let digest = Digest::of(&r.body).to_string();
                let media_type = r.header("content-type").unwrap_or(MANIFEST).to_string();
                let doc: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                self.manifests
                    .insert(digest.clone(), (media_type.clone(), r.body.clone()));
                self.manifests
                    .insert(reference.to_string(), (media_type.clone(), r.body.clone()));
                let mut headers = vec![("Docker-Content-Digest".to_string(), digest.clone())];
                if let Some(subject) = doc["subject"]["digest"].as_str().filter(|_| !self.no_api) {
                    let list = self.referrers.entry(subject.to_string()).or_default();
                    if !list.iter().any(|d| d["digest"] == digest.as_str()) {
                        list.push(json!({
                            "mediaType": media_type,
                            "digest": digest,
                            "size": r.body.len(),
                            "artifactType": doc["artifactType"],
                            "annotations": doc["annotations"],
                        }));
                    }
                    headers.push(("OCI-Subject".into(), subject.to_string()));
                }
                Reply::Full(201, headers, vec![])
            }
            ("HEAD" | "GET", [_, "manifests", reference]) => match self.manifests.get(*reference) {
                Some((media_type, bytes)) => Reply::Full(
                    200,
                    vec![
                        ("Content-Type".into(), media_type.clone()),
                        (
                            "Docker-Content-Digest".into(),
                            Digest::of(bytes).to_string(),
                        ),
                        ("ETag".into(), format!("\"{}\"", Digest::of(bytes))),
                    ],
                    bytes.clone(),
                ),
                None => Reply::status(404),
            },
            ("GET", [_, "referrers", _]) if self.no_api => Reply::status(404),
            ("GET", [repo, "referrers", subject]) => {
                let list = self.referrers.get(*subject).cloned().unwrap_or_default();
                let page: usize = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let body = serde_json::to_vec(&json!({
                    "schemaVersion": 2,
                    "mediaType": INDEX,
                    "manifests": list.get(page).into_iter().collect::<Vec<_>>(),
                }))
                .unwrap();
                let mut extra = Vec::new();
                if page + 1 < list.len() {
                    extra.push((
                        "Link".to_string(),
                        format!(
                            "</v2/{repo}/referrers/{subject}?page={}>; rel=\"next\"",
                            page + 1
                        ),
                    ));
                }
                json_reply(200, body, extra)
            }
            _ => Reply::status(404),
        }
    }

    /// Serves the image `oci:DIR:app` as `REPO:v1`.
    fn seed_from_layout(&mut self, dir: &Path) {
        for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let entry = entry.unwrap();
            let digest = format!("sha256:{}", entry.file_name().to_string_lossy());
            let bytes = std::fs::read(entry.path()).unwrap();
            self.blobs.insert(digest.clone(), bytes.clone());
            let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if doc["config"].is_object() {
                self.manifests.insert(digest, (MANIFEST.into(), bytes));
            }
        }
        let index: Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let top = index["manifests"][0]["digest"].as_str().unwrap();
        let found = self
            .manifests
            .get(top)
            .cloned()
            .expect("the layout's image manifest");
        self.manifests.insert("v1".into(), found);
    }
}

#[test]
fn attach_to_a_registry_with_the_referrers_api_uses_it_and_lists_by_it() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build_image(&layout);
    let state = Arc::new(Mutex::new(ApiRegistry::default()));
    state.lock().unwrap().seed_from_layout(&layout);
    let handler_state = state.clone();
    let server = HostileServer::plain(move |r| handler_state.lock().unwrap().answer(r));
    let host = server.host();
    let reference = format!("docker://{host}/sbomapp:v1");

    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--attach",
        "-f",
        "spdx,cyclonedx",
        "--insecure-registry",
        &host,
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("by the referrers API (the registry answered OCI-Subject)")
            .count(),
        2,
        "{err}"
    );
    // No tag-schema index was read or written.
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path().contains("/manifests/sha256-")),
        "the fallback must not run when the registry answers OCI-Subject"
    );
    let subject = {
        let s = state.lock().unwrap();
        Digest::of(&s.manifests["v1"].1).to_string()
    };
    {
        let s = state.lock().unwrap();
        let listed = &s.referrers[&subject];
        assert_eq!(listed.len(), 2);
        for d in listed {
            let (_, bytes) = &s.manifests[d["digest"].as_str().unwrap()];
            let manifest: Value = serde_json::from_slice(bytes).unwrap();
            assert_eq!(manifest["subject"]["digest"], subject.as_str());
            assert_eq!(manifest["layers"][0]["mediaType"], manifest["artifactType"]);
        }
    }

    // Listed back by the API, across its two pages.
    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--referrers",
        "--json",
        "--insecure-registry",
        &host,
    ]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["source"], "referrers-api");
    assert_eq!(listed[0]["referrers"].as_array().unwrap().len(), 2);
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.target.contains("/referrers/") && r.target.contains("page=1"))
        .count();
    assert!(pages >= 1, "the client followed Link: rel=next");

    // The registry ignored the artifactType filter (no OCI-Filters-Applied): the client
    // filters.
    let client = RegistryClient::new(RegistryOptions {
        insecure_hosts: vec![host.clone()],
        ..RegistryOptions::default()
    })
    .unwrap();
    let r: Reference = format!("{host}/sbomapp:v1").parse().unwrap();
    let (only_spdx, _) = client
        .list_referrers(&r, &subject.parse().unwrap(), Some("application/spdx+json"))
        .unwrap();
    assert_eq!(only_spdx.len(), 1);
    assert_eq!(
        only_spdx[0].artifact_type.as_deref(),
        Some("application/spdx+json")
    );
}

#[test]
fn a_concurrent_writer_of_the_tag_schema_index_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    build_image(&layout);
    let state = Arc::new(Mutex::new(ApiRegistry {
        no_api: true,
        race_once: true,
        ..ApiRegistry::default()
    }));
    state.lock().unwrap().seed_from_layout(&layout);
    let handler_state = state.clone();
    let server = HostileServer::plain(move |r| handler_state.lock().unwrap().answer(r));
    let host = server.host();
    let reference = format!("docker://{host}/sbomapp:v1");
    let out = run_ok(gp().args(["sbom", &reference, "--attach", "--insecure-registry", &host]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("referrers tag schema (no OCI-Subject; added"),
        "{err}"
    );
    let s = state.lock().unwrap();
    let subject = Digest::of(&s.manifests["v1"].1).to_string();
    let tag = subject.replace(':', "-");
    // The first PUT lost the race (412); gopack read the index again and kept the other
    // writer's entry.
    assert_eq!(s.tag_puts, [tag.clone(), tag.clone()]);
    let index: Value = serde_json::from_slice(&s.manifests[&tag].1).unwrap();
    let types: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["application/example", "application/spdx+json"]);
    // Listing falls back to the tag schema when /referrers/ is 404.
    drop(s);
    let out = run_ok(gp().args([
        "sbom",
        &reference,
        "--referrers",
        "--json",
        "--insecure-registry",
        &host,
    ]));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["source"], "tag-schema");
    assert_eq!(listed[0]["referrers"].as_array().unwrap().len(), 2);
}

#[test]
fn build_sbom_push_uses_the_referrers_api_when_the_registry_has_it() {
    let state = Arc::new(Mutex::new(ApiRegistry::default()));
    let handler_state = state.clone();
    let server = HostileServer::plain(move |r| handler_state.lock().unwrap().answer(r));
    let host = server.host();
    let out = run_ok(gp().current_dir(common::repo_root()).args([
        "build",
        "./testdata/sbomapp",
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
    let platform = &outcome["images"][0]["platforms"][0];
    let subject = platform["manifest_digest"].as_str().unwrap();
    let sboms = platform["sboms"].as_array().unwrap();
    assert_eq!(sboms.len(), 2, "{platform}");
    assert!(
        sboms.iter().all(|s| s["attached_by"] == "referrers-api"),
        "{platform}"
    );
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.path().contains("/manifests/sha256-")),
        "the tag schema is not touched when the registry answers OCI-Subject"
    );
    let s = state.lock().unwrap();
    let listed = &s.referrers[subject];
    let types: Vec<&str> = listed
        .iter()
        .map(|d| d["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["application/spdx+json", "application/vnd.cyclonedx+json"]
    );
    drop(s);
    // Listed back by the API through `gopack inspect --referrers`, one line per referrer.
    let out = run_ok(gp().args([
        "inspect",
        &format!("docker://{host}/sbomapp:v1"),
        "--referrers",
        "--insecure-registry",
        &host,
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines().all(|l| l.starts_with(subject)),
        "SUBJECT REFERRER TYPE CREATED: {text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the referrers API"));
}
