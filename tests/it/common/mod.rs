//! Helpers shared by the end-to-end tests: running gopack, and the independent readers and
//! runtime we check its output with (skopeo, umoci, runc). Every loop is bounded.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(name: &str) -> PathBuf {
    repo_root().join("testdata").join(name)
}

/// A gopack command with its own cache directory (so tests never touch the user's cache).
pub fn gopack(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gopack"));
    cmd.env("GOPACK_CACHE", cache);
    cmd.env_remove("SOURCE_DATE_EPOCH");
    cmd
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_fail(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("command starts");
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `name` is on PATH. When it is not, prints `skipped: <test>: needs <name>` and gives
/// `false` so the caller returns early — unless `CI` is set (`.ci/run` installs every tool), where
/// a missing tool fails the test instead of hiding it.
pub fn require_tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs `{name}`, which is not installed (CI must install it: .ci/run)"
    );
    eprintln!("skipped: {test}: needs {name}");
    false
}

pub fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .expect("sh runs");
    assert!(
        found.status.success(),
        "`{name}` is not installed; `.ci/run` installs it (apt-get install {name})"
    );
    Command::new(name)
}

/// `skopeo inspect [--raw|--config] REF` as JSON.
pub fn skopeo_inspect(reference: &str, extra: &[&str]) -> serde_json::Value {
    let out = run_ok(tool("skopeo").arg("inspect").args(extra).arg(reference));
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}

/// Copies a tree (Go sources) to a new place, for tests that need the same source elsewhere.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET http://127.0.0.1:PORT/PATH, retried until the server answers or `timeout` passes.
pub fn http_get(port: u16, path: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut response = String::new();
                if stream.read_to_string(&mut response).is_ok() && response.starts_with("HTTP/1.") {
                    return response
                        .split_once("\r\n\r\n")
                        .map(|(_, body)| body.to_string());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// An image unpacked by umoci into an OCI runtime bundle, and started with runc on the host
/// network. The container is killed and deleted on drop.
pub struct RuncContainer {
    id: String,
    pub bundle: PathBuf,
    child: Option<std::process::Child>,
}

/// `umoci unpack` of `layout:tag` into `bundle`.
pub fn umoci_unpack(image: &str, bundle: &Path) {
    run_ok(tool("umoci").args(["unpack", "--image", image]).arg(bundle));
}

impl RuncContainer {
    pub fn start(bundle: &Path, env: &[(&str, &str)]) -> RuncContainer {
        let config_path = bundle.join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
        let namespaces = config["linux"]["namespaces"].as_array_mut().unwrap();
        namespaces.retain(|n| n["type"] != "network");
        config["process"]["terminal"] = false.into();
        let process_env = config["process"]["env"].as_array_mut().unwrap();
        for (k, v) in env {
            process_env.push(format!("{k}={v}").into());
        }
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        let id = format!("gopack-test-{}-{}", std::process::id(), free_port());
        let child = tool("runc")
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(&id)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runc starts");
        RuncContainer {
            id,
            bundle: bundle.to_path_buf(),
            child: Some(child),
        }
    }

    /// Waits (bounded) for the container's process to exit and returns its output.
    pub fn wait_output(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stdout, stderr)
    }
}

impl Drop for RuncContainer {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["kill", &self.id, "KILL"])
            .output();
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("runc")
            .args(["delete", "-f", &self.id])
            .output();
    }
}
