//! A registry over TLS (certificate from a CA made by the test) with htpasswd basic auth:
//! `gopack login`, push with the saved credentials, `gopack pull`, and the failures people hit
//! (wrong password, untrusted certificate, no credentials). No secret may appear in any output.

use crate::registry_support;

use base64::Engine as _;
use gopack::oci::BlobStore;
use gopack::registry::{CredentialStore, PushRequest, Reference, RegistryClient, RegistryError};
use registry_support::*;

fn login(
    registry: &Registry,
    docker_config: &std::path::Path,
    password: &str,
    ca: bool,
) -> std::process::Output {
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", docker_config).args([
        "login",
        &registry.host(),
        "-u",
        USER,
        "--password-stdin",
    ]);
    if ca {
        cmd.arg("--registry-ca")
            .arg(registry.ca_pem.as_ref().unwrap());
    }
    run_with_stdin(cmd, &format!("{password}\n"))
}

#[test]
fn login_push_and_pull_over_tls_with_basic_auth() {
    let registry = Registry::start_tls_auth();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let docker_config = dir.path().join("docker");

    let out = login(&registry, &docker_config, PASSWORD, true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Login succeeded"), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
    let config_file = docker_config.join("config.json");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config_file).unwrap()).unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(config["auths"][&host]["auth"], expected.as_str());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&config_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Push with the saved credentials and the test CA.
    let mut options = test_options(&[]);
    options.credentials = CredentialStore::from_files(vec![config_file.clone()]);
    options.ca_files = vec![registry.ca_pem.clone().unwrap()];
    let client = RegistryClient::new(options).unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let (images, index) = build_images(&store, 21, &["linux/amd64", "linux/arm64"], 100_000);
    let (index_bytes, index_digest) = index.unwrap();
    let reference: Reference = format!("{host}/secure/app:v1").parse().unwrap();
    let report = client
        .push(
            &store,
            &PushRequest {
                reference: &reference,
                images: &images,
                index: Some((&index_bytes, &index_digest)),
                tags: &[],
            },
        )
        .unwrap();
    assert_eq!(report.digest, index_digest);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &format!("{USER}:{PASSWORD}"),
        &format!("docker://{host}/secure/app:v1"),
    ]);
    assert_eq!(raw, index_bytes);

    // gopack pull with the same config and CA.
    let layout = dir.path().join("layout");
    let out = gopack()
        .env("DOCKER_CONFIG", &docker_config)
        .env("GOPACK_CACHE", dir.path().join("cache"))
        .args(["pull", &format!("{host}/secure/app:v1")])
        .arg(format!("oci:{}", layout.display()))
        .arg("--registry-ca")
        .arg(registry.ca_pem.as_ref().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(digest_in_layout(&layout), index_digest.to_string());

    // Re-login keeps other entries and stays valid JSON.
    let out = login(&registry, &docker_config, PASSWORD, true);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn wrong_password_missing_credentials_and_untrusted_certificates_fail_clearly() {
    let registry = Registry::start_tls_auth();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let docker_config = dir.path().join("docker");
    let wrong = "not-the-Password-7731";

    let out = login(&registry, &docker_config, wrong, true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("refused the credentials"), "{msg}");
    assert!(!msg.contains(wrong), "{msg}");
    assert!(!docker_config.join("config.json").exists());

    // Without the CA: the certificate is not trusted, and the message says what to pass.
    let out = login(&registry, &docker_config, PASSWORD, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("TLS"), "{msg}");
    assert!(msg.contains("--registry-ca"), "{msg}");
    assert!(!msg.contains(PASSWORD), "{msg}");

    // Stored but wrong credentials on push: refused, secret not in the error.
    let config_file = dir.path().join("bad.json");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{wrong}"));
    std::fs::write(
        &config_file,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let store = BlobStore::open(dir.path().join("store")).unwrap();
    let (images, _) = build_images(&store, 22, &["linux/amd64"], 10_000);
    let reference: Reference = format!("{host}/secure/app:v1").parse().unwrap();
    let push = |files: Vec<std::path::PathBuf>| {
        let mut options = test_options(&[]);
        options.credentials = CredentialStore::from_files(files);
        options.ca_files = vec![registry.ca_pem.clone().unwrap()];
        RegistryClient::new(options)
            .unwrap()
            .push(
                &store,
                &PushRequest {
                    reference: &reference,
                    images: &images,
                    index: None,
                    tags: &[],
                },
            )
            .unwrap_err()
    };
    let err = push(vec![config_file]);
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(wrong), "{shown}");
        assert!(!shown.contains(&auth), "{shown}");
    }
    assert!(err.to_string().contains("gopack login"), "{err}");

    // No credentials at all.
    let err = push(vec![]);
    assert!(matches!(err, RegistryError::NoCredentials { .. }), "{err}");
    assert!(err.to_string().contains("none is stored"), "{err}");
    assert!(registry.tags("secure/app").is_empty());

    // Passwords are never taken as arguments.
    let out = gopack()
        .args(["login", &host, "-u", USER])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--password-stdin"));
}
