//! Bearer-token auth against a real `docker-registry` configured for token auth, with a token
//! server issuing JWTs it verifies: credentials from a docker config (`auths`), from a
//! credential helper (`credHelpers`), and an identity token (OAuth2 refresh grant); tokens are
//! cached; a refused login never shows the secret.

use crate::registry_support;

use std::sync::atomic::Ordering;

use base64::Engine as _;
use gopack::oci::BlobStore;
use gopack::registry::{CredentialStore, PushRequest, Reference, RegistryClient, RegistryError};
use registry_support::*;

fn push_with(
    files: Vec<std::path::PathBuf>,
    host: &str,
    store: &BlobStore,
    images: &[gopack::oci::Image],
    repo: &str,
) -> Result<gopack::registry::PushReport, RegistryError> {
    let mut options = test_options(&[host.to_string()]);
    options.credentials = CredentialStore::from_files(files);
    let reference: Reference = format!("{host}/{repo}").parse().unwrap();
    RegistryClient::new(options).unwrap().push(
        store,
        &PushRequest {
            reference: &reference,
            images,
            index: None,
            tags: &["latest".into()],
        },
    )
}

#[test]
fn bearer_tokens_from_auths_identity_tokens_and_helpers() {
    let token = TokenServer::start();
    let registry = Registry::start_token_auth(&token);
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let (images, _) = build_images(&store, 31, &["linux/amd64"], 50_000);

    // Basic credentials exchanged for one token, cached for every request of the push.
    let config = dir.path().join("config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        &config,
        format!(r#"{{"auths":{{"http://{host}/v1/":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let report = push_with(vec![config.clone()], &host, &store, &images, "tok/app:v1").unwrap();
    assert_eq!(report.blobs_uploaded, 3);
    assert_eq!(
        token.issued.load(Ordering::SeqCst),
        1,
        "one token for the whole push"
    );

    // An identity token (OAuth2 refresh grant).
    let idconfig = dir.path().join("id.json");
    std::fs::write(
        &idconfig,
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{REFRESH_TOKEN}"}}}}}}"#),
    )
    .unwrap();
    let report = push_with(vec![idconfig], &host, &store, &images, "tok/app:v2").unwrap();
    assert_eq!(report.blobs_present, 3);

    // A credential helper named in credHelpers, found on PATH by gopack pull.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-gopacktest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{host}":"gopacktest"}}}}"#),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = gopack()
        .env("PATH", &path)
        .env("DOCKER_CONFIG", &docker)
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args([
            "pull",
            &format!("{host}/tok/app:v1"),
            "--insecure-registry",
            &host,
        ])
        .arg(format!("oci:{}", dir.path().join("layout").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        digest_in_layout(&dir.path().join("layout")),
        images[0].manifest_digest.to_string()
    );
    // The same through REGISTRY_AUTH_FILE (podman's variable).
    let out = gopack()
        .env("REGISTRY_AUTH_FILE", &config)
        .env("GOPACK_CACHE", dir.path().join("cache2"))
        .args([
            "pull",
            &format!("{host}/tok/app:v2"),
            "--insecure-registry",
            &host,
        ])
        .arg(format!("oci:{}", dir.path().join("layout2").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // Anonymous and wrong credentials: refused by the token server, nothing leaks.
    let refused_before = token.refused.load(Ordering::SeqCst);
    let err = push_with(vec![], &host, &store, &images, "tok/anon:v1").unwrap_err();
    assert!(matches!(err, RegistryError::NoCredentials { .. }), "{err}");
    let bad = dir.path().join("bad.json");
    let wrong = "Wrong-pass-5512";
    let bad_auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{wrong}"));
    std::fs::write(
        &bad,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{bad_auth}"}}}}}}"#),
    )
    .unwrap();
    let err = push_with(vec![bad], &host, &store, &images, "tok/bad:v1").unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    assert!(
        err.to_string().contains("incorrect username or password"),
        "{err}"
    );
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains(wrong) && !shown.contains(&bad_auth),
            "{shown}"
        );
    }
    assert!(token.refused.load(Ordering::SeqCst) >= refused_before + 2);
    let out = run_with_stdin(
        {
            let mut c = gopack();
            c.env("DOCKER_CONFIG", dir.path().join("login"))
                .args(["login", &host, "-u", USER, "--password-stdin"])
                .args(["--insecure-registry", &host]);
            c
        },
        wrong,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(wrong), "{}", text(&out));
    let out = run_with_stdin(
        {
            let mut c = gopack();
            c.env("DOCKER_CONFIG", dir.path().join("login"))
                .args(["login", &host, "-u", USER, "--password-stdin"])
                .args(["--insecure-registry", &host]);
            c
        },
        PASSWORD,
    );
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn login_stores_through_the_configured_credential_helper() {
    let token = TokenServer::start();
    let registry = Registry::start_token_auth(&token);
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stored = dir.path().join("stored.json");
    let helper = bin.join("docker-credential-gopackstore");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = store ] || exit 1\ncat > '{}'\n",
            stored.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        r#"{"credsStore":"gopackstore","auths":{"other.example":{"auth":"eDp5"}}}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = gopack();
    cmd.env("PATH", &path)
        .env("DOCKER_CONFIG", &docker)
        .args(["login", &host, "-u", USER, "--password-stdin"])
        .args(["--insecure-registry", &host]);
    let out = run_with_stdin(cmd, PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
    let handed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stored).unwrap()).unwrap();
    assert_eq!(handed["ServerURL"], host.as_str());
    assert_eq!(handed["Username"], USER);
    assert_eq!(handed["Secret"], PASSWORD);
    let config = std::fs::read_to_string(docker.join("config.json")).unwrap();
    assert!(!config.contains(PASSWORD), "{config}");
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["auths"][&host], serde_json::json!({}));
    assert_eq!(config["auths"]["other.example"]["auth"], "eDp5");
    assert_eq!(config["credsStore"], "gopackstore");
}
