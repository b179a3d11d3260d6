//! `--output docker-daemon:NAME[:TAG]` through the Docker Engine API socket (`DOCKER_HOST`),
//! against podman's Docker-compatible service (started and stopped here, on its own storage),
//! read back by skopeo's `docker-daemon:` transport; and against small fake daemons for the
//! answers podman does not give (an old API, an error in the progress stream, a hang-up).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, gopack, repo_root, run_fail, run_ok, testdata};

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("daemon-cache")
}

fn gp(docker_host: &str) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(repo_root())
        .env("DOCKER_HOST", docker_host)
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE");
    cmd
}

/// `podman system service` on a socket of its own, with its own storage (nothing touches the
/// machine's images); stopped (SIGTERM, then SIGKILL after 10 s) on drop.
pub struct PodmanService {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl PodmanService {
    /// Starts it and waits (at most 30 s) until `GET /_ping` answers `OK`.
    pub fn start() -> Option<PodmanService> {
        if !common::require_tool("podman") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("podman.sock");
        let child = Command::new("podman")
            .arg("--root")
            .arg(dir.path().join("root"))
            .arg("--runroot")
            .arg(dir.path().join("run"))
            .args(["--storage-driver", "vfs", "system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman starts");
        let service = PodmanService { child, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if ping(&socket) {
                return Some(service);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "podman system service did not answer on {}",
            socket.display()
        );
    }

    /// An HTTP/1.0 request on the socket; returns the body.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> String {
        use std::io::{Read, Write};
        let mut stream =
            std::os::unix::net::UnixStream::connect(self.dir.path().join("podman.sock")).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let head = format!(
            "{method} {path} HTTP/1.0\r\nHost: podman\r\nContent-Type: application/x-tar\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (status, rest) = response.split_once("\r\n").unwrap();
        assert!(status.contains(" 200 "), "{status}: {rest}");
        rest.split_once("\r\n\r\n").unwrap().1.to_string()
    }

    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.dir.path().join("podman.sock").display())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ping(socket: &Path) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.ends_with("OK")
}

/// `skopeo inspect [--config] docker-daemon:NAME` against `host`.
fn skopeo_daemon(host: &str, name: &str, config: bool) -> Value {
    let mut cmd = common::tool("skopeo");
    cmd.arg("inspect").args(["--daemon-host", host]);
    if config {
        cmd.arg("--config");
    }
    let out = run_ok(cmd.arg(format!("docker-daemon:{name}")));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn build_loads_into_podman_under_every_name_and_skopeo_reads_it_back() {
    let Some(podman) = PodmanService::start() else {
        return;
    };
    if !common::require_tool("skopeo") {
        return;
    }
    let host = podman.docker_host();
    let out = run_ok(gp(&host).arg("build").arg(testdata("hello")).args([
        "-o",
        "docker-daemon:hello:dev",
        "-t",
        "v2",
        "-q",
    ]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello:dev");

    // The same build as a layout: the daemon holds the very layers and config.
    let dir = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:x", dir.path().display());
    run_ok(
        gp(&host)
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", &layout, "-q"]),
    );
    let ours = common::skopeo_inspect(&layout, &["--config"]);
    for name in ["hello:dev", "hello:v2"] {
        let theirs = skopeo_daemon(&host, name, true);
        assert_eq!(
            theirs["rootfs"]["diff_ids"], ours["rootfs"]["diff_ids"],
            "{name}"
        );
        assert_eq!(theirs["config"]["Entrypoint"], ours["config"]["Entrypoint"]);
        assert_eq!(theirs["config"]["User"], "65532:65532");
    }
}

#[test]
fn several_binaries_get_a_name_each_in_the_daemon() {
    let Some(podman) = PodmanService::start() else {
        return;
    };
    if !common::require_tool("skopeo") {
        return;
    }
    let host = podman.docker_host();
    let out = run_ok(gp(&host).current_dir(testdata("multi")).args([
        "build",
        "./cmd/...",
        "-o",
        "docker-daemon:team/app:v1",
        "-q",
    ]));
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(names, ["team/app/api:v1", "team/app/worker:v1"]);
    for name in &names {
        let image = skopeo_daemon(&host, name, false);
        assert_eq!(
            image["Architecture"],
            std::env::consts::ARCH.replace("x86_64", "amd64")
        );
    }
}

#[test]
fn a_daemon_output_is_checked_before_anything_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let gone = format!("unix://{}", dir.path().join("docker.sock").display());
    let started = Instant::now();
    let (code, err) = run_fail(
        gp(&gone)
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", "docker-daemon:hello:dev"]),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&gone) && err.contains("DOCKER_HOST"), "{err}");
    assert!(err.contains("docker-archive:FILE"), "{err}");
    // Several platforms cannot go into one daemon name: said before building (no go build).
    let (_, err) = run_fail(gp(&gone).arg("build").arg(testdata("hello")).args([
        "-o",
        "docker-daemon:hello:dev",
        "--platform",
        "linux/amd64,linux/arm64",
    ]));
    assert!(err.contains("2 platforms"), "{err}");
    for (value, words) in [
        ("ssh://me@build-host", "unix:// or tcp://"),
        ("unix://relative.sock", "absolute"),
    ] {
        let (_, err) = run_fail(
            gp(value)
                .arg("build")
                .arg(testdata("hello"))
                .args(["-o", "docker-daemon:hello:dev"]),
        );
        assert!(err.contains(words), "{value}: {err}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "no build ran");
}

/// A fake daemon on a Unix socket: answers each connection with `reply(request head)`, after
/// reading the request (its body too, when `drain`).
struct FakeDaemon {
    pub host: String,
    _dir: tempfile::TempDir,
}

impl FakeDaemon {
    fn start(reply: impl Fn(&str) -> String + Send + 'static) -> FakeDaemon {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("fake.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming().take(16) {
                let Ok(mut conn) = conn else { return };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut head = String::new();
                while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
                let answer = reply(&head);
                let _ = conn.write_all(answer.as_bytes());
                let _ = conn.shutdown(std::net::Shutdown::Both);
            }
        });
        FakeDaemon {
            host: format!("unix://{}", socket.display()),
            _dir: dir,
        }
    }
}

fn json_reply(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn an_old_engine_api_is_refused_with_its_version() {
    let fake = FakeDaemon::start(|_| json_reply("200 OK", r#"{"ApiVersion":"1.12"}"#));
    let (code, err) = run_fail(
        gp(&fake.host)
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", "docker-daemon:hello:dev"]),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("Engine API 1.12") && err.contains("1.24"),
        "{err}"
    );
}

#[test]
fn the_daemons_own_error_is_shown_printable() {
    let fake = FakeDaemon::start(|head| {
        if head.starts_with("GET /version") {
            json_reply("200 OK", r#"{"ApiVersion":"1.43"}"#)
        } else {
            let body = "{\"stream\":\"Loading\"}\n{\"errorDetail\":{\"message\":\"no space left \
                        on device\\u001b[2J\"},\"error\":\"no space\"}\n";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: \
                 chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            )
        }
    });
    let (code, err) = run_fail(
        gp(&fake.host)
            .arg("build")
            .arg(testdata("hello"))
            .args(["-o", "docker-daemon:hello:dev"]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("no space left on device"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn a_daemon_that_hangs_up_mid_upload_is_an_error_not_a_sigpipe() {
    let fake = FakeDaemon::start(|head| {
        if head.starts_with("GET /version") {
            json_reply("200 OK", r#"{"ApiVersion":"1.43"}"#)
        } else {
            json_reply(
                "500 Internal Server Error",
                r#"{"message":"disk quota exceeded"}"#,
            )
        }
    });
    let out = gp(&fake.host)
        .arg("build")
        .arg(testdata("hello"))
        .args(["-o", "docker-daemon:hello:dev"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "killed by a signal? {err}");
    assert!(
        err.contains("disk quota exceeded") || err.contains("Broken pipe"),
        "{err}"
    );
}

/// Image sets built in a store of their own (two platforms when asked).
fn sets_in(store: &gopack::oci::BlobStore, platforms: &[&str]) -> Vec<gopack::sink::ImageSet> {
    let (images, index) = crate::registry_support::build_images(store, 11, platforms, 2000);
    vec![gopack::sink::ImageSet {
        name: "app".into(),
        images,
        index: index.map(|(bytes, digest)| gopack::sink::IndexBlob::oci(bytes, digest)),
    }]
}

fn output(text: &str) -> gopack::sink::Output {
    gopack::sink::Output::new(
        gopack::oci::ImageRef::parse(text, gopack::oci::Bare::Refuse).unwrap(),
    )
}

#[test]
fn several_outputs_are_all_checked_first_then_written_local_first() {
    let Some(podman) = PodmanService::start() else {
        return;
    };
    if !common::require_tool("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = gopack::oci::BlobStore::open(dir.path().join("store")).unwrap();
    let sets = sets_in(&store, &["linux/amd64"]);
    let layout = format!("oci:{}:v1", dir.path().join("layout").display());
    let archive = format!(
        "docker-archive:{}:app:v1",
        dir.path().join("app.tar").display()
    );
    // Written local first, whatever the order given.
    let registry = "docker://localhost:1/app:v1";
    let outputs = [output(registry), output(&layout), output(&archive)];
    let ordered = gopack::sink::OutputSet::new(&outputs, &Default::default()).unwrap();
    assert_eq!(
        ordered.destinations(),
        [
            format!("oci:{}", dir.path().join("layout").display()),
            format!("docker-archive:{}", dir.path().join("app.tar").display()),
            registry.to_string(),
        ]
    );
    let daemon = gopack::sink::DockerDaemonSink::new(
        gopack::sink::daemon::engine::DockerHost::parse(&podman.docker_host(), false).unwrap(),
        "app:v1".parse().unwrap(),
        Vec::new(),
    )
    .unwrap();
    let set = gopack::sink::OutputSet::from_sinks(vec![
        output(&layout).sink(&Default::default()).unwrap(),
        output(&archive).sink(&Default::default()).unwrap(),
        Box::new(daemon),
    ]);
    set.check(1).unwrap();
    // The daemon cannot take two platforms: refused by check, before any build.
    let err = set.check(2).unwrap_err().to_string();
    assert!(err.contains("2 platforms"), "{err}");
    let per_output = set.publish(&store, &sets, &|_| {}).unwrap();
    assert_eq!(per_output.len(), 3);
    let merged = gopack::sink::merge_published(per_output);
    assert_eq!(
        merged[0].references,
        [
            layout.clone(),
            archive.clone(),
            "docker-daemon:app:v1".to_string()
        ]
    );
    let digest = sets[0].top_descriptor().digest.to_string();
    assert_eq!(common::skopeo_inspect(&layout, &[])["Digest"], digest);
    assert_eq!(
        common::skopeo_inspect(&archive, &[])["Name"],
        "docker.io/library/app"
    );
    let host = podman.docker_host();
    let theirs = skopeo_daemon(&host, "app:v1", true);
    let ours = common::skopeo_inspect(&layout, &["--config"]);
    assert_eq!(theirs["rootfs"], ours["rootfs"]);
}

#[test]
fn a_failed_output_after_others_names_what_was_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = gopack::oci::BlobStore::open(dir.path().join("store")).unwrap();
    let sets = sets_in(&store, &["linux/amd64"]);
    let layout = format!("oci:{}", dir.path().join("layout").display());
    let fake = FakeDaemon::start(|head| {
        if head.starts_with("GET /version") {
            json_reply("200 OK", r#"{"ApiVersion":"1.43"}"#)
        } else {
            json_reply(
                "500 Internal Server Error",
                r#"{"message":"storage is broken"}"#,
            )
        }
    });
    let sinks: Vec<Box<dyn gopack::sink::ImageSink>> = vec![
        Box::new(
            gopack::sink::LayoutSink::new(dir.path().join("layout"), vec!["v1".into()]).unwrap(),
        ),
        Box::new(
            gopack::sink::DockerDaemonSink::new(
                gopack::sink::daemon::engine::DockerHost::parse(&fake.host, false).unwrap(),
                "app:v1".parse().unwrap(),
                Vec::new(),
            )
            .unwrap(),
        ),
    ];
    let set = gopack::sink::OutputSet::from_sinks(sinks);
    set.check(1).unwrap();
    let err = set.publish(&store, &sets, &|_| {}).unwrap_err().to_string();
    assert!(
        err.contains("docker-daemon:app:v1")
            && err.contains(&format!("{layout} already written and kept"))
            && err.contains("storage is broken"),
        "{err}"
    );
    if common::require_tool("skopeo") {
        common::skopeo_inspect(&format!("{layout}:v1"), &[]);
    }
    // The same destination twice is refused up front.
    let twice = [output(&layout), output(&layout)];
    let err = gopack::sink::OutputSet::new(&twice, &Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("named twice"), "{err}");
}

#[test]
fn docker_daemon_is_a_source_too() {
    let Some(podman) = PodmanService::start() else {
        return;
    };
    if !common::require_tool("skopeo") {
        return;
    }
    let host = podman.docker_host();
    run_ok(gp(&host).arg("build").arg(testdata("hello")).args([
        "-o",
        "docker-daemon:hello:src",
        "-q",
    ]));
    let dir = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:copy", dir.path().display());
    run_ok(gp(&host).args(["pull", "docker-daemon:hello:src", &layout]));
    let copied = common::skopeo_inspect(&layout, &["--config"]);
    let theirs = skopeo_daemon(&host, "hello:src", true);
    assert_eq!(copied["rootfs"], theirs["rootfs"]);
    assert_eq!(
        copied["config"]["Entrypoint"],
        theirs["config"]["Entrypoint"]
    );
    let (code, err) = run_fail(gp(&host).args(["pull", "docker-daemon:nothere:v9", &layout]));
    assert_eq!(code, 1);
    assert!(
        err.contains("docker-daemon:nothere:v9") && err.contains("404"),
        "{err}"
    );
}
