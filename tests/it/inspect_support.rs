//! Helpers for the inspect tests: images made for real with umoci (layers that add, overwrite,
//! chmod and delete files), a Debian root file system from Debian packages, copies between
//! transports with skopeo, and running `gopack inspect --json`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{gopack, run_ok, tool};

/// `gopack inspect ARGS --json` with its own cache: the parsed document and the exit code.
pub fn inspect_json(cache: &Path, args: &[&str]) -> (serde_json::Value, i32) {
    let out = gopack(cache)
        .arg("inspect")
        .args(args)
        .arg("--json")
        .output()
        .expect("gopack runs");
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "inspect {args:?} printed no JSON ({e}), exit {code}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, code)
}

/// `gopack inspect ARGS` (any format): the output.
pub fn inspect(cache: &Path, args: &[&str]) -> Output {
    gopack(cache)
        .arg("inspect")
        .args(args)
        .output()
        .expect("gopack runs")
}

/// An OCI layout whose one image `TAG` is built layer by layer with umoci (as root).
pub struct UmociImage {
    pub layout: PathBuf,
    pub tag: String,
    bundle: PathBuf,
}

impl UmociImage {
    /// A new, empty image `layout:tag`.
    pub fn new(work: &Path, tag: &str) -> UmociImage {
        let layout = work.join("layout");
        run_ok(tool("umoci").args(["init", "--layout"]).arg(&layout));
        run_ok(
            tool("umoci")
                .args(["new", "--image"])
                .arg(format!("{}:{tag}", layout.display())),
        );
        let bundle = work.join(format!("bundle-{tag}"));
        run_ok(
            tool("umoci")
                .args(["unpack", "--image"])
                .arg(format!("{}:{tag}", layout.display()))
                .arg(&bundle),
        );
        UmociImage {
            layout,
            tag: tag.into(),
            bundle,
        }
    }

    /// The root file system being edited.
    pub fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    /// Commits what changed in the root file system since the last layer as a new layer, with
    /// `created_by` in the history.
    pub fn layer(&self, created_by: &str) {
        run_ok(
            tool("umoci")
                .args(["repack", "--history.created_by", created_by, "--image"])
                .arg(self.reference_no_transport())
                .arg(&self.bundle),
        );
        // umoci 0.4 diffs a repack against the unpacked state: unpack again for the next layer.
        std::fs::remove_dir_all(&self.bundle).unwrap();
        run_ok(
            tool("umoci")
                .args(["unpack", "--image"])
                .arg(self.reference_no_transport())
                .arg(&self.bundle),
        );
    }

    /// Sets config fields with umoci's flags (`--config.user`, `--config.env`…).
    pub fn config(&self, args: &[&str]) {
        run_ok(
            tool("umoci")
                .arg("config")
                .args(args)
                .arg("--image")
                .arg(self.reference_no_transport()),
        );
    }

    fn reference_no_transport(&self) -> String {
        format!("{}:{}", self.layout.display(), self.tag)
    }

    /// `oci:LAYOUT:TAG`.
    pub fn reference(&self) -> String {
        format!("oci:{}", self.reference_no_transport())
    }
}

/// `skopeo copy FROM TO` (with TLS verification off for the local test registry).
pub fn skopeo_copy(from: &str, to: &str) {
    run_ok(tool("skopeo").args([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        from,
        to,
    ]));
}

/// Debian packages unpacked into `root` with `dpkg -x` (downloaded once with
/// `apt-get download` into the cargo target directory), plus the dpkg status database made from
/// their control files. `None` (after printing why) when the packages cannot be fetched and
/// `CI` is not set.
pub fn debian_root(root: &Path, packages: &[&str]) -> Option<()> {
    let debs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inspect-debs");
    std::fs::create_dir_all(&debs).unwrap();
    let have = |p: &str| {
        std::fs::read_dir(&debs).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{p}_"))
        })
    };
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        let out = Command::new("apt-get")
            .arg("download")
            .args(&missing)
            .current_dir(&debs)
            .output()
            .expect("apt-get runs");
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                std::env::var_os("CI").is_none(),
                "apt-get download {missing:?} failed: {why}"
            );
            eprintln!("skipped: needs Debian packages ({why})");
            return None;
        }
    }
    let mut status = String::new();
    for entry in std::fs::read_dir(&debs).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !packages.iter().any(|p| name.starts_with(&format!("{p}_"))) {
            continue;
        }
        run_ok(Command::new("dpkg").arg("-x").arg(entry.path()).arg(root));
        let control = run_ok(Command::new("dpkg-deb").arg("-f").arg(entry.path()));
        status.push_str(&String::from_utf8_lossy(&control.stdout));
        status.push_str("Status: install ok installed\n\n");
    }
    let dpkg = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dpkg).unwrap();
    std::fs::write(dpkg.join("status"), status).unwrap();
    Some(())
}

/// The one image of an inspect document.
pub fn image(doc: &serde_json::Value) -> &serde_json::Value {
    let images = doc["images"].as_array().expect("images");
    assert_eq!(images.len(), 1, "{doc:#}");
    &images[0]
}

/// Codes of an image report's findings.
pub fn codes(image: &serde_json::Value) -> Vec<String> {
    image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The findings of one rule.
pub fn findings<'a>(image: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == code)
        .collect()
}

/// Deterministic bytes that do not compress.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `go` from the environment (the tests need it to build Go programs).
pub fn go_version() -> String {
    let out = run_ok(Command::new("go").args(["env", "GOVERSION"]));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
