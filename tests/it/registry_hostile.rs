//! Registries that misbehave on purpose, built here on 127.0.0.1: a TLS registry that sends
//! credentials to a plain-HTTP token server elsewhere, redirects to other hosts, to plain HTTP,
//! to `file://` and to an untrusted certificate, terminal escapes in error messages, bodies
//! trickled one byte at a time or far longer than their descriptor, a 900 KB token. Credentials
//! stay on TLS to the registry or a realm the user trusts; every transfer is bounded; every
//! message says what really happened.

use crate::common;
use crate::registry_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use gopack::oci::BlobStore;
use gopack::registry::{Reference, RegistryClient, RegistryError};
use registry_support::hostile::{FakeImage, HostileServer, Reply, TlsIdentity};
use registry_support::*;

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

/// A docker config dir whose `auths` hold USER/PASSWORD for `host`.
fn docker_config(dir: &std::path::Path, host: &str) -> std::path::PathBuf {
    let config = dir.join(format!("docker-{}", host.replace(':', "_")));
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#, basic()),
    )
    .unwrap();
    config
}

fn pull(
    dir: &std::path::Path,
    reference: &str,
    config: Option<&std::path::Path>,
    flags: &[String],
) -> std::process::Output {
    let n = std::fs::read_dir(dir).unwrap().count();
    let mut cmd = gopack();
    cmd.env("GOPACK_CACHE", dir.join(format!("cache{n}")))
        .args(["pull", reference])
        .arg(format!("oci:{}", dir.join(format!("out{n}")).display()))
        .args(flags);
    if let Some(c) = config {
        cmd.env("DOCKER_CONFIG", c);
    }
    output_within(cmd, Duration::from_secs(120)).expect("gopack pull ends")
}

#[test]
fn credentials_never_go_in_cleartext_to_a_token_realm_on_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let id = TlsIdentity::new(dir.path());
    let realm = HostileServer::plain(|_| Reply::json(200, r#"{"token":"granted-token"}"#));
    let realm_url = format!("http://{}/token", realm.localhost());
    let image = Arc::new(FakeImage::new("app", 1));
    let registry = {
        let (image, realm_url) = (image.clone(), realm_url.clone());
        HostileServer::tls(&id, move |r| {
            if r.header("authorization") != Some("Bearer granted-token") {
                return Reply::challenge(&format!(
                    r#"Bearer realm="{realm_url}",service="hostile""#
                ));
            }
            image.answer(r).unwrap_or(Reply::status(404))
        })
    };
    let host = registry.host();
    let config = docker_config(dir.path(), &host);
    let ca = vec!["--registry-ca".to_string(), id.ca_pem.display().to_string()];

    // Pull: refused before anything is sent, with the realm named and the way to trust it.
    let out = pull(dir.path(), &format!("{host}/app:v1"), Some(&config), &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains(&realm_url), "{msg}");
    assert!(
        msg.contains(&format!("--insecure-registry {}", realm.localhost())),
        "{msg}"
    );
    assert!(!msg.contains(PASSWORD) && !msg.contains(&basic()), "{msg}");
    assert!(!realm.saw_authorization(), "{:?}", realm.requests());

    // Login: the same.
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", dir.path().join("login"))
        .args(["login", &host, "-u", USER, "--password-stdin"])
        .args(&ca);
    let out = run_with_stdin(cmd, PASSWORD);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&realm_url), "{}", text(&out));
    assert!(!realm.saw_authorization(), "{:?}", realm.requests());
    assert!(!dir.path().join("login/config.json").exists());

    // An identity token is a secret too: no refresh grant over plain HTTP.
    let id_config = dir.path().join("id");
    std::fs::create_dir_all(&id_config).unwrap();
    std::fs::write(
        id_config.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{REFRESH_TOKEN}"}}}}}}"#),
    )
    .unwrap();
    let out = pull(dir.path(), &format!("{host}/app:v1"), Some(&id_config), &ca);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        realm.requests().iter().all(
            |r| !String::from_utf8_lossy(&r.body).contains(REFRESH_TOKEN)
                && !r.target.contains(REFRESH_TOKEN)
        ),
        "{:?}",
        realm.requests()
    );

    // Naming the realm's host insecure is the user's explicit trust: then it works.
    let mut flags = ca.clone();
    flags.extend(["--insecure-registry".to_string(), realm.localhost()]);
    let out = pull(dir.path(), &format!("{host}/app:v1"), Some(&config), &flags);
    assert!(out.status.success(), "{}", text(&out));
    assert!(realm.saw_authorization());
}

#[test]
fn redirects_carry_no_credentials_elsewhere_never_downgrade_and_are_reported_truly() {
    let dir = tempfile::tempdir().unwrap();
    let id = TlsIdentity::new(&dir.path().join("ca"));
    let other_id = TlsIdentity::new(&dir.path().join("other-ca"));
    let image = Arc::new(FakeImage::new("app", 2));
    let layer = image.layer_digest().to_string();
    let serve_blob = {
        let image = image.clone();
        move |r: &registry_support::hostile::Request| {
            let digest = r.path().rsplit('/').next().unwrap_or("").to_string();
            match image.blobs.iter().find(|(d, _)| *d == digest) {
                Some((_, b)) => Reply::ok(b.clone()),
                None => Reply::status(404),
            }
        }
    };
    let cdn = HostileServer::tls(&id, serve_blob.clone());
    let plain = HostileServer::plain(serve_blob.clone());
    let untrusted = HostileServer::tls(&other_id, serve_blob);
    let target: Arc<Mutex<String>> = Arc::default();
    let registry = {
        let (image, target, layer) = (image.clone(), target.clone(), layer.clone());
        HostileServer::tls(&id, move |r| {
            if r.header("authorization") != Some(&format!("Basic {}", basic())) {
                return Reply::challenge(r#"Basic realm="hostile""#);
            }
            if r.path().ends_with(&layer) {
                return Reply::redirect(307, &target.lock().unwrap());
            }
            image.answer(r).unwrap_or(Reply::status(404))
        })
    };
    let host = registry.host();
    let config = docker_config(dir.path(), &host);
    let ca = vec!["--registry-ca".to_string(), id.ca_pem.display().to_string()];
    let reference = format!("{host}/app:v1");

    // To another TLS host: followed, without the registry's credentials.
    *target.lock().unwrap() = format!("https://{}/cdn/{layer}", cdn.localhost());
    let out = pull(dir.path(), &reference, Some(&config), &ca);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(cdn.requests().len(), 1);
    assert!(!cdn.saw_authorization(), "{:?}", cdn.requests());

    // From HTTPS to plain HTTP: refused before connecting, and the message says so.
    *target.lock().unwrap() = format!("http://{}/cdn/{layer}", plain.localhost());
    let out = pull(dir.path(), &reference, Some(&config), &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("plain HTTP"), "{msg}");
    assert!(msg.contains(&plain.localhost()), "{msg}");
    assert!(plain.requests().is_empty(), "{:?}", plain.requests());

    // To file://: said as it is, not "too many redirects".
    *target.lock().unwrap() = "file:///etc/passwd".into();
    let out = pull(dir.path(), &reference, Some(&config), &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("file:///etc/passwd"), "{msg}");
    assert!(!msg.to_lowercase().contains("too many redirects"), "{msg}");
    assert!(!msg.contains("root:"), "{msg}");

    // A TLS failure at the redirect target is blamed on the target, not on the registry.
    *target.lock().unwrap() = format!("https://{}/cdn/{layer}", untrusted.localhost());
    let out = pull(dir.path(), &reference, Some(&config), &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains(&untrusted.localhost()), "{msg}");
    assert!(
        !msg.contains(&format!("TLS connection to {host} failed")),
        "{msg}"
    );
    assert!(!untrusted.saw_authorization());
    assert!(!msg.contains(&basic()) && !msg.contains(PASSWORD), "{msg}");
}

#[test]
fn registry_text_reaches_the_terminal_without_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    const EVIL: &str = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"\u001b]0;owned\u0007\u001b[2J\u001b[31mmanifest gone\u009b0m"}]}"#;
    let registry = HostileServer::plain(|r| match r.path() {
        "/v2/" => Reply::json(200, "{}"),
        _ => Reply::json(404, EVIL),
    });
    let host = registry.host();
    let out = pull(
        dir.path(),
        &format!("{host}/app:v1"),
        None,
        &["--insecure-registry".into(), host.clone()],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("manifest gone"), "{msg}");
    for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(!msg.contains(c), "{c:?} reached the terminal: {msg:?}");
    }

    // The token server's words go through the same filter.
    let realm = HostileServer::plain(|_| {
        Reply::json(
            401,
            r#"{"errors":[{"code":"DENIED","message":"\u001b[8mhidden\u001b[0m denied"}]}"#,
        )
    });
    let realm_url = format!("http://{}/token", realm.host());
    let registry = HostileServer::plain(move |_| {
        Reply::challenge(&format!(r#"Bearer realm="{realm_url}",service="x""#))
    });
    let out = pull(
        dir.path(),
        &format!("{}/app:v1", registry.host()),
        None,
        &["--insecure-registry".into(), registry.host()],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("denied"), "{msg}");
    assert!(!msg.contains('\u{1b}'), "{msg:?}");
}

/// A client whose transfers may take 1 s plus 1 s per MiB, retried within 10 s.
fn strict_client(host: &str) -> RegistryClient {
    let mut options = test_options(&[host.to_string()]);
    options.min_transfer_time = Duration::from_secs(1);
    options.min_bytes_per_second = 1 << 20;
    options.retry.max_total = Duration::from_secs(10);
    RegistryClient::new(options).unwrap()
}

/// Runs `f` on a thread and gives its result, or panics if it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still running after {limit:?}: the transfer is unbounded"))
}

#[test]
fn trickling_bodies_are_cut_off_by_a_deadline_that_scales_with_size() {
    let image = Arc::new(FakeImage::new("app", 3));
    let layer = image.layer_digest().to_string();
    let registry = {
        let (image, layer) = (image.clone(), layer.clone());
        HostileServer::plain(move |r| {
            if r.path().ends_with(&layer) {
                let body = image.blobs.last().unwrap().1.clone();
                return Reply::Trickle(vec![], body, Duration::from_millis(100));
            }
            image.answer(r).unwrap_or(Reply::status(404))
        })
    };
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let reference: Reference = format!("{host}/app:v1").parse().unwrap();
    let started = Instant::now();
    let client = strict_client(&host);
    let err = within(Duration::from_secs(60), move || {
        client.pull(&store, &reference, &[]).unwrap_err()
    });
    let msg = err.to_string();
    assert!(started.elapsed() < Duration::from_secs(30), "{msg}");
    assert!(msg.contains(&layer), "{msg}");
    assert!(msg.contains("did not finish within"), "{msg}");

    // A trickled manifest (or error body) is cut off the same way.
    let registry = HostileServer::plain(|r| match r.path() {
        "/v2/" => Reply::json(200, "{}"),
        _ => Reply::Trickle(vec![], vec![b' '; 100_000], Duration::from_millis(100)),
    });
    let host = registry.host();
    let reference: Reference = format!("{host}/app:v1").parse().unwrap();
    let store = BlobStore::open(dir.path().join("2")).unwrap();
    let client = strict_client(&host);
    let err = within(Duration::from_secs(60), move || {
        client.pull(&store, &reference, &[]).unwrap_err()
    });
    assert!(err.to_string().contains("did not finish within"), "{err}");
}

#[test]
fn a_blob_longer_than_its_descriptor_is_cut_and_not_retried() {
    let image = Arc::new(FakeImage::new("app", 4));
    let layer = image.layer_digest().to_string();
    let declared = image.blobs.last().unwrap().1.len();
    let announce: Arc<Mutex<Option<u64>>> = Arc::default();
    let registry = {
        let (image, layer, announce) = (image.clone(), layer.clone(), announce.clone());
        HostileServer::plain(move |r| {
            if r.path().ends_with(&layer) {
                return Reply::Flood {
                    content_length: *announce.lock().unwrap(),
                    total: 64 << 20,
                };
            }
            image.answer(r).unwrap_or(Reply::status(404))
        })
    };
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    for claimed in [None, Some(10u64 << 30)] {
        *announce.lock().unwrap() = claimed;
        let before = registry.requests().len();
        let out = pull(
            dir.path(),
            &format!("{host}/app:v1"),
            None,
            &["--insecure-registry".into(), host.clone()],
        );
        let msg = text(&out);
        assert_eq!(out.status.code(), Some(1), "{msg}");
        assert!(msg.contains(&layer), "{msg}");
        assert!(msg.contains(&format!("{declared} bytes")), "{msg}");
        assert!(msg.contains("larger than"), "{msg}");
        assert!(
            !msg.contains("gave up after"),
            "not a network failure: {msg}"
        );
        let gets = registry.requests()[before..]
            .iter()
            .filter(|r| r.path().ends_with(&layer))
            .count();
        assert_eq!(gets, 1, "refused, not retried");
    }
    // Nothing of it stays on disk.
    let leftovers: u64 = walk_sizes(dir.path());
    assert!(leftovers < 1 << 20, "{leftovers} bytes left in the cache");
}

fn walk_sizes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            walk_sizes(&e.path())
        } else {
            m.len()
        };
    }
    total
}

#[test]
fn a_huge_token_gets_a_message_about_the_token() {
    let realm = HostileServer::plain(|_| {
        Reply::json(200, format!(r#"{{"token":"{}"}}"#, "a".repeat(900_000)))
    });
    let realm_url = format!("http://{}/token", realm.host());
    let registry = HostileServer::plain(move |_| {
        Reply::challenge(&format!(r#"Bearer realm="{realm_url}",service="x""#))
    });
    let dir = tempfile::tempdir().unwrap();
    let out = pull(
        dir.path(),
        &format!("{}/app:v1", registry.host()),
        None,
        &["--insecure-registry".into(), registry.host()],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("token"), "{msg}");
    assert!(msg.contains("900000 bytes"), "{msg}");
    assert!(!msg.contains("output too small"), "{msg}");
}

#[test]
fn plain_http_to_an_https_registry_says_it_serves_https() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let registry = Registry::start_tls_auth();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let out = pull(
        dir.path(),
        &format!("{host}/app:v1"),
        None,
        &["--insecure-registry".into(), host.clone()],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("serves HTTPS"), "{msg}");
    assert!(msg.contains("--insecure-registry"), "{msg}");
    assert!(!msg.contains("does not look like an OCI registry"), "{msg}");
}

#[test]
fn loopback_registries_work_over_plain_http_without_insecure_registry() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let (images, _) = build_images(&store, 5, &["linux/amd64"], 20_000);
    for bind in ["127.0.0.1", "[::1]"] {
        let registry = Registry::start_plain_on(bind);
        let port = registry.port;
        let mut hosts = vec![registry.host()];
        if bind == "127.0.0.1" {
            hosts.push(format!("localhost:{port}"));
        }
        for host in hosts {
            let mut options = test_options(&[]);
            options.insecure_hosts.clear();
            let client = RegistryClient::new(options).unwrap();
            let reference: Reference = format!("{host}/loop/app:v1").parse().unwrap();
            client
                .push(
                    &store,
                    &gopack::registry::PushRequest {
                        reference: &reference,
                        images: &images,
                        index: None,
                        tags: &[],
                    },
                )
                .unwrap_or_else(|e| panic!("push to {host}: {e}"));
            let out = pull(dir.path(), &format!("{host}/loop/app:v1"), None, &[]);
            assert!(out.status.success(), "{host}: {}", text(&out));
        }
    }
    // A loopback registry over TLS is still reached over TLS (and its CA still needed).
    let registry = Registry::start_tls_auth();
    let out = pull(
        dir.path(),
        &format!("{}/app:v1", registry.host()),
        None,
        &[],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("--registry-ca"), "{msg}");
}

#[test]
fn unknown_errors_stay_registry_errors() {
    // A 400 from /v2/ of a plain registry is not blamed on TLS.
    let registry = HostileServer::plain(|_| Reply::json(400, "{}"));
    let client = RegistryClient::new(test_options(&[registry.host()])).unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(store_dir.path()).unwrap();
    let reference: Reference = format!("{}/app:v1", registry.host()).parse().unwrap();
    let err = client.pull(&store, &reference, &[]).unwrap_err();
    assert!(matches!(err, RegistryError::BadResponse { .. }), "{err}");
    assert!(!err.to_string().contains("HTTPS"), "{err}");
}

#[test]
fn refusals_and_certificate_failures_are_told_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let id = TlsIdentity::new(dir.path());
    // Accepted credentials without the permission: not "refused the credentials".
    let registry = HostileServer::tls(&id, |r| {
        if r.header("authorization") != Some(&format!("Basic {}", basic())) {
            return Reply::challenge(r#"Basic realm="hostile""#);
        }
        match r.path() {
            "/v2/" => Reply::json(200, "{}"),
            _ => Reply::json(
                403,
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
        }
    });
    let host = registry.host();
    let config = docker_config(dir.path(), &host);
    let ca = vec!["--registry-ca".to_string(), id.ca_pem.display().to_string()];
    let out = pull(dir.path(), &format!("{host}/app:v1"), Some(&config), &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("requested access to the resource is denied"),
        "{msg}"
    );
    assert!(msg.contains("do not allow"), "{msg}");
    assert!(!msg.contains("refused the credentials"), "{msg}");

    // Without credentials: a refusal that may also mean "no such repository".
    let out = pull(dir.path(), &format!("{host}/app:v1"), None, &ca);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("none is stored"), "{msg}");
    assert!(msg.contains("not exist"), "{msg}");

    // A certificate for another name: the hint is about the name, not about CAs or HTTP.
    let named = TlsIdentity::for_names(&dir.path().join("named"), &["localhost"]);
    let image = Arc::new(FakeImage::new("app", 6));
    let other = {
        let image = image.clone();
        HostileServer::tls(&named, move |r| {
            image.answer(r).unwrap_or(Reply::status(404))
        })
    };
    let out = pull(
        dir.path(),
        &format!("{}/app:v1", other.host()),
        None,
        &["--registry-ca".into(), named.ca_pem.display().to_string()],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("not issued for the name"), "{msg}");
    assert!(!msg.contains("--insecure-registry"), "{msg}");
    let out = pull(
        dir.path(),
        &format!("{}/app:v1", other.localhost()),
        None,
        &["--registry-ca".into(), named.ca_pem.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Logging in where nothing is asked: not a silent "success" of unchecked credentials.
    let open = HostileServer::plain(|_| Reply::json(200, "{}"));
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", dir.path().join("open"))
        .args(["login", &open.host(), "-u", USER, "--password-stdin"])
        .args(["--insecure-registry", &open.host()]);
    let out = run_with_stdin(cmd, PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("asks for no credentials"),
        "{}",
        text(&out)
    );
    assert!(!open.saw_authorization());
}
