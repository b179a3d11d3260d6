//! Credentials from docker config files and credential helpers, and the login/logout commands:
//! no byte of a helper's output or of a config value in any message, a bad entry for one
//! registry never breaks the others, a helper that hangs is stopped, `gopack login` prompts on a
//! terminal without echo, `gopack logout` forgets, and the advice in auth errors works as printed.

use crate::common;
use crate::registry_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use gopack::registry::{Credential, CredentialStore};
use registry_support::*;

const HELPER_SECRET: &str = "helper-Secret-0d9e41";
const CONFIG_SECRET: &str = "c2VjcmV0LWluLWNvbmZpZy04ODMx";

/// Writes `docker-credential-NAME` with this shell body into `bin`.
fn helper(bin: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(bin).unwrap();
    let path = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

/// `gopack pull HOST/REPO:TAG oci:…` with the docker config in `docker` and `bin` on PATH,
/// trusting the registry's CA.
fn pull(
    registry: &Registry,
    dir: &Path,
    docker: &Path,
    bin: &Path,
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let n = std::fs::read_dir(dir).unwrap().count();
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", docker)
        .env("PATH", path_with(bin))
        .env("GOPACK_CACHE", dir.join(format!("cache{n}")))
        .args(["pull", &format!("{}/cred/app:v1", registry.host())])
        .arg(format!("oci:{}", dir.join(format!("out{n}")).display()))
        .arg("--registry-ca")
        .arg(registry.ca_pem.as_ref().unwrap());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    output_within(cmd, Duration::from_secs(120)).expect("gopack pull ends")
}

/// A TLS registry with basic auth holding `cred/app:v1`.
fn registry_with_image(dir: &Path) -> Registry {
    let registry = Registry::start_tls_auth();
    let store = gopack::oci::BlobStore::open(dir.join("push-store")).unwrap();
    let (images, _) = build_images(&store, 41, &["linux/amd64"], 5_000);
    let mut options = test_options(&[]);
    options.ca_files = vec![registry.ca_pem.clone().unwrap()];
    let file = dir.join("push-auth.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            registry.host(),
            basic()
        ),
    )
    .unwrap();
    options.credentials = CredentialStore::from_files(vec![file]);
    let reference: gopack::registry::Reference =
        format!("{}/cred/app:v1", registry.host()).parse().unwrap();
    gopack::registry::RegistryClient::new(options)
        .unwrap()
        .push(
            &store,
            &gopack::registry::PushRequest {
                reference: &reference,
                images: &images,
                index: None,
                tags: &[],
            },
        )
        .unwrap();
    registry
}

#[test]
fn a_failing_credential_helper_never_shows_what_it_printed() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    helper(
        &bin,
        "leaky",
        &format!(
            "printf '{{\"Username\":\"{USER}\",\"Secret\":\"{HELPER_SECRET}\"}}'\necho \"stderr {HELPER_SECRET}\" >&2\nexit 3"
        ),
    );
    let registry = Registry::start_tls_auth();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"leaky"}}}}"#, registry.host()),
    )
    .unwrap();
    let out = pull(&registry, dir.path(), &docker, &bin, &[]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("docker-credential-leaky"), "{msg}");
    assert!(msg.contains("exit"), "{msg}");
    assert!(!msg.contains(HELPER_SECRET), "{msg}");
}

#[test]
fn a_hanging_credential_helper_is_stopped_and_named() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    helper(&bin, "stuck", "sleep 300");
    let registry = Registry::start_tls_auth();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"stuck"}}}}"#, registry.host()),
    )
    .unwrap();
    let started = Instant::now();
    let out = pull(
        &registry,
        dir.path(),
        &docker,
        &bin,
        &[("GOPACK_CREDENTIAL_HELPER_TIMEOUT", "2")],
    );
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(60), "{msg}");
    assert!(msg.contains("docker-credential-stuck"), "{msg}");
    assert!(msg.contains("did not answer within 2 s"), "{msg}");
    assert!(msg.contains("GOPACK_CREDENTIAL_HELPER_TIMEOUT"), "{msg}");
}

#[test]
fn a_bad_config_entry_is_skipped_with_a_warning_naming_only_its_key() {
    if !common::require_tool("docker-registry") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_with_image(dir.path());
    let host = registry.host();
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    // A string where an object belongs (serde would quote it), an `auth` that is not base64,
    // and the good entry for the registry pulled from.
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"other.example":"{CONFIG_SECRET}","broken.example":{{"auth":"!!{CONFIG_SECRET}"}},"{host}":{{"auth":"{}"}}}},"credHelpers":{{"odd.example":42}}}}"#,
            basic()
        ),
    )
    .unwrap();
    let out = pull(&registry, dir.path(), &docker, &dir.path().join("bin"), &[]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(!msg.contains(CONFIG_SECRET), "{msg}");
    assert!(msg.contains("warning"), "{msg}");
    assert!(msg.contains("other.example"), "{msg}");

    // In the library: the good entry is found, the bad ones are skipped, nothing is quoted.
    let store = CredentialStore::from_files(vec![docker.join("config.json")]);
    assert_eq!(
        store.lookup(&host).unwrap(),
        Some(Credential::Basic {
            username: USER.into(),
            password: PASSWORD.into()
        })
    );
    for key in ["other.example", "broken.example", "odd.example"] {
        match store.lookup(key) {
            Ok(found) => assert_eq!(found, None, "{key}"),
            Err(e) => panic!("{key}: one bad entry must not fail the lookup: {e}"),
        }
    }

    // A file that is not JSON at all is an error that quotes none of it.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{CONFIG_SECRET}"#),
    )
    .unwrap();
    let err = CredentialStore::from_files(vec![broken])
        .lookup(&host)
        .unwrap_err()
        .to_string();
    assert!(!err.contains(CONFIG_SECRET), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

fn login_command(registry: &Registry, docker: &Path) -> std::process::Command {
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", docker)
        .args(["login", &registry.host()])
        .arg("--registry-ca")
        .arg(registry.ca_pem.as_ref().unwrap());
    cmd
}

#[test]
fn login_prompts_on_a_terminal_without_echo_and_logout_forgets() {
    if !common::require_tool("docker-registry") || !common::require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start_tls_auth();
    let host = registry.host();
    let docker = dir.path().join("docker");
    let run = run_on_tty(
        &login_command(&registry, &docker),
        &[("Username: ", USER), ("Password: ", PASSWORD)],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(0), "{}", run.transcript);
    assert!(
        !run.transcript.contains(PASSWORD),
        "echoed: {}",
        run.transcript
    );
    assert!(
        run.transcript.contains("Login succeeded"),
        "{}",
        run.transcript
    );
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docker.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["auths"][&host]["auth"], basic().as_str());

    // A wrong password typed on the terminal: refused, nothing saved, not echoed.
    let run = run_on_tty(
        &login_command(&registry, &dir.path().join("other")),
        &[("Username: ", USER), ("Password: ", "Wrong-typed-771")],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(1), "{}", run.transcript);
    assert!(
        !run.transcript.contains("Wrong-typed-771"),
        "{}",
        run.transcript
    );
    assert!(!dir.path().join("other/config.json").exists());

    // logout removes the entry and keeps the rest of the file.
    let mut value = config.clone();
    value["auths"]["keep.example"] = serde_json::json!({"auth": "a2VlcDptZQ=="});
    std::fs::write(docker.join("config.json"), value.to_string()).unwrap();
    let out = gopack()
        .env("DOCKER_CONFIG", &docker)
        .args(["logout", &host])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&host), "{}", text(&out));
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docker.join("config.json")).unwrap()).unwrap();
    assert!(after["auths"].get(&host).is_none(), "{after}");
    assert_eq!(after["auths"]["keep.example"]["auth"], "a2VlcDptZQ==");
    let mode = std::fs::metadata(docker.join("config.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // A second logout is not an error, and says there was nothing to remove.
    let out = gopack()
        .env("DOCKER_CONFIG", &docker)
        .args(["logout", &host])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not logged in"), "{}", text(&out));
}

#[test]
fn logout_erases_from_the_credential_helper() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let erased = dir.path().join("erased");
    helper(
        &bin,
        "erasable",
        &format!("[ \"$1\" = erase ] || exit 1\ncat > '{}'", erased.display()),
    );
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        r#"{"credsStore":"erasable","auths":{"reg.example:5000":{}}}"#,
    )
    .unwrap();
    let out = gopack()
        .env("DOCKER_CONFIG", &docker)
        .env("PATH", path_with(&bin))
        .args(["logout", "reg.example:5000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&erased).unwrap().trim(),
        "reg.example:5000"
    );
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docker.join("config.json")).unwrap()).unwrap();
    assert!(after["auths"].get("reg.example:5000").is_none(), "{after}");
    assert_eq!(after["credsStore"], "erasable");
}

#[test]
fn the_login_advice_in_auth_errors_works_as_printed() {
    if !common::require_tool("docker-registry") || !common::require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_with_image(dir.path());
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let out = pull(&registry, dir.path(), &docker, &dir.path().join("bin"), &[]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    // The command between backticks after "run".
    let start = msg.find("`gopack login").unwrap_or_else(|| panic!("{msg}")) + 1;
    let end = start + msg[start..].find('`').unwrap();
    let advice = &msg[start..end];
    let words: Vec<&str> = advice.split_whitespace().collect();
    assert_eq!(words[..2], ["gopack", "login"], "{advice}");
    assert!(advice.contains("--registry-ca"), "{advice}");
    let mut cmd = gopack();
    cmd.env("DOCKER_CONFIG", &docker).args(&words[1..]);
    let run = run_on_tty(
        &cmd,
        &[("Username: ", USER), ("Password: ", PASSWORD)],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(0), "`{advice}`: {}", run.transcript);
    let out = pull(&registry, dir.path(), &docker, &dir.path().join("bin"), &[]);
    assert!(out.status.success(), "{}", text(&out));

    // Without a terminal the same command says how to pass the password instead.
    let out = output_within(
        {
            let mut c = gopack();
            c.env("DOCKER_CONFIG", dir.path().join("x"))
                .args(&words[1..]);
            c
        },
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--password-stdin"), "{}", text(&out));
}
