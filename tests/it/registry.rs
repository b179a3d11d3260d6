//! Push and pull against a real `docker-registry` over plain HTTP (`--insecure-registry`),
//! with a fault-injecting proxy in front of it for the retry tests.

use crate::registry_support;

use std::sync::atomic::{AtomicUsize, Ordering};

use gopack::oci::{BlobStore, Platform};
use gopack::registry::{PushRequest, Reference, RegistryClient, RegistryError};
use registry_support::*;

fn reference(host: &str, repo: &str) -> Reference {
    format!("{host}/{repo}").parse().unwrap()
}

fn client_for(host: &str) -> RegistryClient {
    RegistryClient::new(test_options(&[host.to_string()])).unwrap()
}

#[test]
fn push_single_and_multi_platform_images_read_back_by_skopeo() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let client = client_for(&host);

    // One platform: the manifest is what tags point at.
    let (images, _) = build_images(&store, 1, &["linux/amd64"], 300_000);
    let report = client
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "team/app:v1"),
                images: &images,
                index: None,
                tags: &["latest".into()],
            },
        )
        .unwrap();
    assert_eq!(report.digest, images[0].manifest_digest);
    assert_eq!(report.tags, vec!["v1", "latest"]);
    assert_eq!(report.blobs_uploaded, 3);
    let blob_bytes: u64 = images[0]
        .manifest
        .layers
        .iter()
        .map(|l| l.size)
        .sum::<u64>()
        + images[0].config_descriptor.size;
    assert!(report.blob_bytes_uploaded >= blob_bytes);
    assert_eq!(
        report.reference.to_string(),
        format!("{host}/team/app:v1@{}", images[0].manifest_digest)
    );
    for tag in ["v1", "latest"] {
        let raw = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{host}/team/app:{tag}"),
        ]);
        assert_eq!(raw, images[0].manifest_bytes, "manifest under :{tag}");
    }
    let mut tags = registry.tags("team/app");
    tags.sort();
    assert_eq!(tags, vec!["latest", "v1"]);

    // Two platforms: blobs, both manifests, then the index, byte for byte.
    let (images, index) = build_images(&store, 2, &["linux/amd64", "linux/arm64"], 200_000);
    let (index_bytes, index_digest) = index.unwrap();
    let report = client
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "multi"),
                images: &images,
                index: Some((&index_bytes, &index_digest)),
                tags: &["v2".into()],
            },
        )
        .unwrap();
    assert_eq!(report.digest, index_digest);
    assert_eq!(report.manifests_pushed, 3);
    // The base layer is shared by both platforms: 1 base + 2 app layers + 2 configs.
    assert_eq!(report.blobs_total, 5);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{host}/multi:v2"),
    ]);
    assert_eq!(raw, index_bytes);
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("copy");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &format!("docker://{host}/multi:v2"),
        &format!("oci:{}", layout.display()),
    ]);
    assert_eq!(digest_in_layout(&layout), index_digest.to_string());
    for image in &images {
        let blob = layout
            .join("blobs/sha256")
            .join(image.manifest_digest.hex());
        assert_eq!(std::fs::read(blob).unwrap(), image.manifest_bytes);
    }
}

#[test]
fn second_push_sends_no_blob_bytes_and_other_repos_mount() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let (images, _) = build_images(&store, 3, &["linux/amd64"], 500_000);
    let push = |client: &RegistryClient, repo: &str| {
        client
            .push(
                &store,
                &PushRequest {
                    reference: &reference(&host, repo),
                    images: &images,
                    index: None,
                    tags: &["v1".into()],
                },
            )
            .unwrap()
    };
    let first = push(&client_for(&host), "app");
    assert!(first.blob_bytes_uploaded > 500_000);
    let second = push(&client_for(&host), "app");
    assert_eq!(second.blob_bytes_uploaded, 0, "{second:?}");
    assert_eq!(second.blobs_present, 3);
    assert_eq!(second.blobs_uploaded, 0);
    // A new image sharing the base layer: that blob is found by HEAD and not sent again.
    let (other, _) = build_images(&store, 33, &["linux/amd64"], 100_000);
    let fourth = client_for(&host)
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "app"),
                images: &other,
                index: None,
                tags: &["v2".into()],
            },
        )
        .unwrap();
    assert_eq!(
        (fourth.blobs_present, fourth.blobs_uploaded),
        (1, 2),
        "{fourth:?}"
    );
    let shared = &other[0].manifest.layers[0];
    assert_eq!(shared.digest, images[0].manifest.layers[0].digest);
    assert!(fourth.blob_bytes_uploaded < 200_000 + other[0].manifest.layers[1].size);
    // Another repository of the same registry: blobs are mounted, not uploaded.
    let third = push(&client_for(&host), "other/app");
    assert_eq!(third.blob_bytes_uploaded, 0, "{third:?}");
    assert_eq!(third.blobs_mounted, 3);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{host}/other/app:v1"),
    ]);
    assert_eq!(raw, images[0].manifest_bytes);
}

#[test]
fn large_blobs_go_up_in_chunks_and_resume_after_a_reset() {
    let registry = Registry::start_plain();
    let patches = AtomicUsize::new(0);
    let proxy = FaultProxy::start(registry.port, move |method, _| {
        (method == "PATCH" && patches.fetch_add(1, Ordering::SeqCst) == 2).then_some(Fault::Reset)
    });
    let host = proxy.host();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let (images, _) = build_images(&store, 4, &["linux/amd64"], 1_100_000);
    let mut options = test_options(std::slice::from_ref(&host));
    options.chunk_size = 256 * 1024;
    let client = RegistryClient::new(options).unwrap();
    client
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "chunked:v1"),
                images: &images,
                index: None,
                tags: &[],
            },
        )
        .unwrap();
    let patches = proxy
        .entries()
        .iter()
        .filter(|e| e.starts_with("PATCH "))
        .count();
    assert!(patches >= 6, "expected chunked PATCHes, saw {patches}");
    // The reset chunk was resumed (a GET on the upload session), not restarted (a new POST).
    let log = proxy.entries();
    assert!(
        log.iter()
            .any(|e| e.starts_with("PATCH ") && e.ends_with("Reset")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|e| e.starts_with("GET ") && e.contains("/blobs/uploads/")),
        "{log:#?}"
    );
    let posts = log.iter().filter(|e| e.starts_with("POST ")).count();
    assert_eq!(posts, 3, "one upload session per blob: {log:#?}");
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("copy");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &format!("docker://{}/chunked:v1", registry.host()),
        &format!("oci:{}", layout.display()),
    ]);
    assert_eq!(
        digest_in_layout(&layout),
        images[0].manifest_digest.to_string()
    );
}

#[test]
fn push_survives_timeouts_resets_500s_and_429s() {
    let registry = Registry::start_plain();
    let heads = AtomicUsize::new(0);
    let posts = AtomicUsize::new(0);
    let puts = AtomicUsize::new(0);
    let manifests = AtomicUsize::new(0);
    let pings = AtomicUsize::new(0);
    let proxy = FaultProxy::start(registry.port, move |method, path| {
        let nth = |c: &AtomicUsize| c.fetch_add(1, Ordering::SeqCst);
        match method {
            "GET" if path == "/v2/" && nth(&pings) == 0 => {
                Some(Fault::Stall(std::time::Duration::from_secs(3)))
            }
            "HEAD" if path.contains("/blobs/") && nth(&heads) == 0 => Some(Fault::Status(500, "")),
            "POST" if path.contains("/blobs/uploads/") && nth(&posts) == 1 => {
                Some(Fault::Status(503, ""))
            }
            "PUT" if path.contains("/blobs/uploads/") && nth(&puts) == 0 => Some(Fault::Reset),
            "PUT" if path.contains("/manifests/") && nth(&manifests) == 0 => {
                Some(Fault::Status(429, "Retry-After: 1\r\n"))
            }
            _ => None,
        }
    });
    let host = proxy.host();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let (images, _) = build_images(&store, 5, &["linux/amd64"], 200_000);
    let started = std::time::Instant::now();
    let mut options = test_options(std::slice::from_ref(&host));
    options.io_timeout = std::time::Duration::from_millis(500);
    let report = RegistryClient::new(options)
        .unwrap()
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "flaky:v1"),
                images: &images,
                index: None,
                tags: &[],
            },
        )
        .unwrap();
    assert_eq!(report.digest, images[0].manifest_digest);
    // Retry-After: 1 was honoured.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let log = proxy.entries();
    for fault in ["Stall", "Status(500", "Status(503", "Reset", "Status(429"] {
        assert!(
            log.iter().any(|e| e.contains(fault)),
            "{fault} was not injected: {log:#?}"
        );
    }
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/flaky:v1", registry.host()),
    ]);
    assert_eq!(raw, images[0].manifest_bytes);
}

#[test]
fn permanent_failure_names_the_blob_and_leaves_no_tag() {
    let registry = Registry::start_plain();
    let proxy = FaultProxy::start(registry.port, |method, path| {
        (method == "PUT" && path.contains("/blobs/uploads/")).then_some(Fault::Status(500, ""))
    });
    let host = proxy.host();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let (images, _) = build_images(&store, 6, &["linux/amd64"], 100_000);
    let err = client_for(&host)
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "broken:v1"),
                images: &images,
                index: None,
                tags: &["latest".into()],
            },
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RegistryError::GaveUp { .. }), "{msg}");
    let blobs: Vec<String> = std::iter::once(&images[0].config_descriptor)
        .chain(&images[0].manifest.layers)
        .map(|d| d.digest.to_string())
        .collect();
    assert!(
        blobs.iter().any(|b| msg.contains(b)),
        "no blob named: {msg}"
    );
    assert!(msg.contains("injected fault from the test proxy"), "{msg}");
    assert!(registry.tags("broken").is_empty());

    // Blobs go through, every manifest PUT fails: still no tag.
    let proxy = FaultProxy::start(registry.port, |method, path| {
        (method == "PUT" && path.contains("/manifests/")).then_some(Fault::Status(500, ""))
    });
    let host = proxy.host();
    let err = client_for(&host)
        .push(
            &store,
            &PushRequest {
                reference: &reference(&host, "broken2:v1"),
                images: &images,
                index: None,
                tags: &[],
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&images[0].manifest_digest.to_string()),
        "{err}"
    );
    assert!(registry.tags("broken2").is_empty());
}

#[test]
fn pull_round_trip_into_store_by_platform_and_offline_by_digest() {
    let mut registry = Registry::start_plain();
    let host = registry.host();
    let push_dir = tempfile::tempdir().unwrap();
    let push_store = BlobStore::open(push_dir.path()).unwrap();
    let (images, index) = build_images(&push_store, 7, &["linux/amd64", "linux/arm64"], 150_000);
    let (index_bytes, index_digest) = index.unwrap();
    client_for(&host)
        .push(
            &push_store,
            &PushRequest {
                reference: &reference(&host, "base:v1"),
                images: &images,
                index: Some((&index_bytes, &index_digest)),
                tags: &[],
            },
        )
        .unwrap();

    let pull_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(pull_dir.path()).unwrap();
    let client = client_for(&host);
    let pulled = client
        .pull(&store, &reference(&host, "base:v1"), &[])
        .unwrap();
    assert_eq!(pulled.digest, index_digest);
    assert_eq!(pulled.bytes, index_bytes);
    assert!(pulled.complete());
    assert_eq!(pulled.images.len(), 2);
    for (got, want) in pulled.images.iter().zip(&images) {
        assert_eq!(got.manifest_digest, want.manifest_digest);
        assert_eq!(got.platform, want.platform);
        assert_eq!(got.config, want.config);
        for l in &got.manifest.layers {
            assert!(store.contains(&l.digest));
        }
    }
    assert!(client.stats().bytes_downloaded.load(Ordering::Relaxed) > 300_000);

    let arm: Platform = "linux/arm64/v8".parse().unwrap();
    let one = client
        .pull(
            &store,
            &reference(&host, "base:v1"),
            std::slice::from_ref(&arm),
        )
        .unwrap();
    assert_eq!(one.images.len(), 1);
    assert_eq!(one.images[0].manifest_digest, images[1].manifest_digest);
    let err = client
        .pull(
            &store,
            &reference(&host, "base:v1"),
            &["linux/s390x".parse().unwrap()],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("linux/amd64, linux/arm64"), "{err}");

    // Pinned by digest and complete in the store: no registry needed.
    registry.stop();
    let pinned = reference(&host, "base").with_digest(index_digest.clone());
    let offline = client_for(&host).pull(&store, &pinned, &[arm]).unwrap();
    assert_eq!(offline.images[0].manifest_digest, images[1].manifest_digest);
    let err = client_for(&host)
        .pull(&store, &reference(&host, "base:v1"), &[])
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[test]
fn gopack_pull_writes_an_oci_layout_skopeo_reads() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let push_store = BlobStore::open(dir.path().join("push")).unwrap();
    let (images, index) = build_images(&push_store, 8, &["linux/amd64", "linux/arm/v7"], 100_000);
    let (index_bytes, index_digest) = index.unwrap();
    client_for(&host)
        .push(
            &push_store,
            &PushRequest {
                reference: &reference(&host, "saved:v3"),
                images: &images,
                index: Some((&index_bytes, &index_digest)),
                tags: &[],
            },
        )
        .unwrap();

    let layout = dir.path().join("out/base");
    let out = gopack()
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args(["pull", &format!("{host}/saved:v3")])
        .arg(format!("oci:{}", layout.display()))
        .args(["--insecure-registry", &host])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&index_digest.to_string()),
        "{}",
        text(&out)
    );
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}", layout.display())]);
    assert_eq!(raw, index_bytes);
    assert_eq!(digest_in_layout(&layout), index_digest.to_string());

    // One platform kept: the layout names that manifest; the old layout is replaced whole.
    let out = gopack()
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args([
            "pull",
            &format!("{host}/saved:v3"),
            "--platform",
            "linux/arm",
        ])
        .arg(format!("oci:{}", layout.display()))
        .env("GOPACK_INSECURE_REGISTRY", &host)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        digest_in_layout(&layout),
        images[1].manifest_digest.to_string()
    );
    let copy = dir.path().join("copy");
    skopeo(&[
        "copy",
        &format!("oci:{}", layout.display()),
        &format!("oci:{}", copy.display()),
    ]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("base")]);

    // Bad destination and bad reference are usage errors.
    let out = gopack()
        .args(["pull", "UPPER/case", "oci:x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = gopack().args(["pull", "alpine", "x.tar"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn garbage_and_unknown_hosts_give_clear_errors() {
    let registry = Registry::start_plain();
    let proxy = FaultProxy::start(registry.port, |method, path| {
        (method == "GET" && path.contains("/manifests/")).then_some(Fault::Garbage)
    });
    let host = proxy.host();
    let dir = tempfile::tempdir().unwrap();
    let out = gopack()
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args(["pull", &format!("{host}/anything:v1")])
        .arg(format!("oci:{}", dir.path().join("l").display()))
        .args(["--insecure-registry", &host])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("error: cannot pull"), "{msg}");
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(!dir.path().join("l").exists());

    let out = gopack()
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args(["pull", "registry.nonexistent.invalid/app:v1"])
        .arg(format!("oci:{}", dir.path().join("l").display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot resolve the host `registry.nonexistent.invalid`"),
        "{}",
        text(&out)
    );

    // A plain-HTTP loopback registry needs no flag (as with docker and ko): what is missing
    // is said as such.
    let out = gopack()
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args(["pull", &format!("{}/app:v1", registry.host())])
        .arg(format!("oci:{}", dir.path().join("l").display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("was not found"), "{}", text(&out));
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let registry = Registry::start_plain();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let push_store = BlobStore::open(dir.path().join("push")).unwrap();
    let (images, _) = build_images(&push_store, 9, &["linux/amd64"], 50_000);
    client_for(&host)
        .push(
            &push_store,
            &PushRequest {
                reference: &reference(&host, "pinned:v1"),
                images: &images,
                index: None,
                tags: &[],
            },
        )
        .unwrap();
    const FAKE: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}"#;

    // A manifest fetched by digest must hash to that digest.
    let proxy = FaultProxy::start(registry.port, |method, path| {
        (method == "GET" && path.contains("/manifests/sha256:")).then_some(Fault::Body(FAKE))
    });
    let pinned = reference(&proxy.host(), "pinned").with_digest(images[0].manifest_digest.clone());
    let store = BlobStore::open(dir.path().join("pull")).unwrap();
    let err = client_for(&proxy.host())
        .pull(&store, &pinned, &[])
        .unwrap_err();
    let fake = gopack::oci::Digest::of(FAKE.as_bytes());
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    let wanted = format!("digest is {fake}, not {}", images[0].manifest_digest);
    assert!(err.to_string().contains(&wanted), "{err}");
    assert!(!store.contains(&fake));

    // A blob whose bytes do not match is not kept, and the error names it.
    let proxy = FaultProxy::start(registry.port, |method, path| {
        (method == "GET" && path.contains("/blobs/")).then_some(Fault::Body("not the layer"))
    });
    let err = client_for(&proxy.host())
        .pull(&store, &reference(&proxy.host(), "pinned:v1"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("answered with content whose digest is"),
        "{err}"
    );
    let config = &images[0].config_descriptor.digest;
    let layer = &images[0].manifest.layers[1].digest;
    assert!(
        err.contains(&config.to_string()) || err.contains(&layer.to_string()),
        "{err}"
    );
    assert!(!store.contains(config) && !store.contains(layer));
}
