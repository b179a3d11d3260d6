//! Runtime needs end to end: each program of testdata/needs (and a mattn/go-sqlite3 program) is
//! built by `gopack build`, unpacked by umoci and run with runc. The image holds exactly the
//! files the linked binary needs, and the program works inside it.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("needs-e2e-cache")
}

/// An image built from `dir` and unpacked, with the build's JSON summary.
struct Built {
    _tmp: tempfile::TempDir,
    json: Value,
    bundle: PathBuf,
}

impl Built {
    fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    fn platform(&self) -> &Value {
        &self.json["images"][0]["platforms"][0]
    }

    /// The file decision for the group of files starting with `prefix`.
    fn decision(&self, prefix: &str) -> (bool, String) {
        let d = self.platform()["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["files"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no decision for {prefix}: {}", self.platform()));
        (
            d["included"].as_bool().unwrap(),
            d["reason"].as_str().unwrap().to_string(),
        )
    }

    /// Runs the image's entrypoint with `args` appended, returning (exit code, stdout, stderr).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
        let config_path = self.bundle.join("config.json");
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        let process_args = config["process"]["args"].as_array_mut().unwrap();
        process_args.truncate(1);
        process_args.extend(args.iter().map(|a| Value::from(*a)));
        // Replace the image's value of a variable (Go reads the first occurrence).
        let process_env = config["process"]["env"].as_array_mut().unwrap();
        process_env.retain(|e| {
            let key = e.as_str().unwrap().split('=').next().unwrap();
            !env.iter().any(|(k, _)| *k == key)
        });
        process_env.extend(env.iter().map(|(k, v)| Value::from(format!("{k}={v}"))));
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        RuncContainer::start(&self.bundle, &[]).wait_output(Duration::from_secs(30))
    }
}

fn build(dir: &Path, extra: &[&str]) -> Built {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let out = run_ok(
        gopack(&cache())
            .current_dir(dir)
            .arg("build")
            .args(extra)
            .args(["--json", "-o", &format!("oci:{}", layout.display())]),
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
    Built {
        _tmp: tmp,
        json,
        bundle,
    }
}

fn needs(name: &str) -> PathBuf {
    testdata("needs").join(name)
}

/// A CA and a server certificate for 127.0.0.1 signed by it: (CA PEM, cert PEM, key PEM).
pub(crate) fn test_pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gopack needs test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// A tiny HTTPS server on 127.0.0.1 (rustls) answering every request with `body`. Serves
/// connections until the test process ends.
pub(crate) fn https_server(cert_pem: &str, key_pem: &str, body: &'static str) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, &mut stream);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn tls_client_verifies_a_local_server_with_the_ca_file_inside_the_image() {
    let (ca, cert, key) = test_pki();
    let port = https_server(&cert, &key, "hello over tls");
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = tmp.path().join("test-ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let built = build(
        &needs("tlsclient"),
        &["--ca-file", ca_file.to_str().unwrap()],
    );

    let (included, reason) = built.decision("/etc/ssl/certs");
    assert!(included, "{reason}");
    assert!(reason.contains("crypto/x509"), "{reason}");
    let bundle =
        std::fs::read_to_string(built.rootfs().join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    assert!(
        bundle.ends_with(&ca),
        "the test CA is appended to the bundle"
    );
    assert!(
        bundle.matches("BEGIN CERTIFICATE").count() > 100,
        "Mozilla roots too"
    );

    let url = format!("https://127.0.0.1:{port}/");
    let (status, stdout, stderr) = built.run(&[&url], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "200 OK 14\n"),
        "{stderr}"
    );
    // The same image without a readable bundle fails verification: the bundle did the work.
    let no_bundle = [
        ("SSL_CERT_FILE", "/nonexistent.pem"),
        ("SSL_CERT_DIR", "/nonexistent"),
    ];
    let (status, _, stderr) = built.run(&[&url], &no_bundle);
    assert_eq!(status, Some(1));
    assert!(
        stderr.contains("certificate signed by unknown authority"),
        "{stderr}"
    );
}

const PARIS_NOON: &str = "2026-01-01 13:00:00 +0100 CET\n";

#[test]
fn load_location_gets_zoneinfo_and_works_on_scratch() {
    let built = build(&needs("tzload"), &[]);
    let (included, reason) = built.decision("/usr/share/zoneinfo");
    assert!(included && reason.contains("time.LoadLocation"), "{reason}");
    assert!(
        built
            .rootfs()
            .join("usr/share/zoneinfo/Europe/Paris")
            .is_file()
    );
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!((status, stdout.as_str()), (Some(0), PARIS_NOON), "{stderr}");
    // Zones with the same bytes are symlinks to one file (Asia/Calcutta holds Asia/Kolkata's
    // bytes): loading the linked name works inside the image.
    let kolkata = built.rootfs().join("usr/share/zoneinfo/Asia/Kolkata");
    assert!(kolkata.is_symlink(), "{}", kolkata.display());
    let (status, stdout, stderr) = built.run(&["Asia/Kolkata"], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "2026-01-01 17:30:00 +0530 IST\n"),
        "{stderr}"
    );
}

/// Embedded tzdata serves time.LoadLocation, but not TZ read during package init (issue 9,
/// item 8): a program that reads TZ gets zoneinfo anyway, and `--tz=no` leaves it out.
#[test]
fn embedded_tzdata_still_gets_zoneinfo_for_tz_and_works_either_way() {
    let built = build(&needs("tzembed"), &[]);
    let (included, reason) = built.decision("/usr/share/zoneinfo");
    assert!(
        included && reason.contains("time/tzdata") && reason.contains("import-path order"),
        "{reason}"
    );
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!((status, stdout.as_str()), (Some(0), PARIS_NOON), "{stderr}");

    let without = build(&needs("tzembed"), &["--tz=no"]);
    assert!(!without.rootfs().join("usr/share/zoneinfo").exists());
    let (status, stdout, stderr) = without.run(&[], &[]);
    assert_eq!((status, stdout.as_str()), (Some(0), PARIS_NOON), "{stderr}");
}

#[test]
fn current_user_gets_passwd_and_resolves_nonroot() {
    let built = build(&needs("userdb"), &[]);
    let (included, reason) = built.decision("/etc/passwd");
    assert!(included && reason.contains("os/user"), "{reason}");
    assert!(built.rootfs().join("etc/passwd").is_file());
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "65532 nonroot /home/nonroot\n"),
        "{stderr}"
    );
}

#[test]
fn pure_compute_image_is_the_binary_and_tmp_only() {
    let built = build(&needs("compute"), &[]);
    let layers = built.platform()["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "base (/tmp only) + binary: {layers:?}");
    for prefix in ["/etc/ssl", "/usr/share/zoneinfo", "/etc/passwd"] {
        let (included, reason) = built.decision(prefix);
        assert!(!included, "{prefix}: {reason}");
    }
    let root = built.rootfs();
    for absent in ["etc/ssl", "etc/passwd", "etc/group", "usr/share/zoneinfo"] {
        assert!(
            !root.join(absent).exists(),
            "{absent} should not be in the image"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp_mode = std::fs::metadata(root.join("tmp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(tmp_mode & 0o7777, 0o1777);
    assert!(root.join("usr/local/bin/compute").is_file());
    // The sum of the primes below 10000.
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "5736396\n"),
        "{stderr}"
    );
}

#[test]
fn go_sqlite3_links_statically_and_runs_a_query_on_scratch() {
    let built = build(&testdata("cgo/sqlite"), &[]);
    assert_eq!(built.json["cgo"]["mode"], "static");
    let go_build = built.platform()["go_build"].as_str().unwrap();
    assert!(
        go_build.contains("CGO_ENABLED=1")
            && go_build.contains("-tags=netgo,osusergo")
            && go_build.contains("-extldflags"),
        "{go_build}"
    );
    let plan_cgo = &built.json["plan"]["cgo"]["packages"][0];
    assert_eq!(plan_cgo["import_path"], "github.com/mattn/go-sqlite3");
    let (status, stdout, stderr) = built.run(&[], &[]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("sqlite 3.") && stdout.ends_with(" sum=55\n"),
        "{stdout}"
    );
}
