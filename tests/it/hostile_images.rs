//! Hostile and broken base images (issue 8, items 9–12, 14, 16, 17), built here byte by byte and
//! given to `gopack build --base` / `gopack pull`: each is reported with a clear error or read
//! correctly, within a deadline, and nothing is written outside the store or followed to the host.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gopack::oci::Digest;
use serde_json::{Value, json};

/// One layer blob of a test layout, with what its descriptor and config will claim.
struct Blob {
    bytes: Vec<u8>,
    media_type: String,
    diff_id: Digest,
    declared_size: Option<u64>,
}

fn tar_layer(members: &[(&str, u8, &[u8], &str)]) -> Blob {
    let tar = raw_tar(members);
    Blob {
        diff_id: Digest::of(&tar),
        bytes: tar,
        media_type: "application/vnd.oci.image.layer.v1.tar".into(),
        declared_size: None,
    }
}

/// A tar with raw names and typeflags: `(name, typeflag, data, link target)`.
fn raw_tar(members: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data, link) in members {
        let mut h = tar::Header::new_gnu();
        h.set_mode(if *kind == b'5' { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::new(*kind));
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn host_arch() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    }
}

fn put(dir: &Path, bytes: &[u8]) -> Digest {
    let digest = Digest::of(bytes);
    std::fs::write(dir.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
    digest
}

/// Writes an OCI layout of one image over `layers` at `dir`; returns its manifest bytes.
fn write_layout(dir: &Path, layers: &[Blob]) -> Vec<u8> {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.to_string()).collect();
    let config = json!({
        "architecture": host_arch(), "os": "linux", "config": {"Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = put(dir, &config);
    let descriptors: Vec<Value> = layers
        .iter()
        .map(|l| {
            let digest = put(dir, &l.bytes);
            json!({"mediaType": l.media_type, "digest": digest.to_string(),
                   "size": l.declared_size.unwrap_or(l.bytes.len() as u64)})
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest.to_string(), "size": config.len()},
        "layers": descriptors
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let digest = put(dir, &manifest);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(), "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "1"}
    }]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    manifest
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    /// Largest resident set seen while polling, in bytes.
    peak_rss: u64,
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs `cmd`, killing it after `deadline` (then `code` is `None`).
fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> Outcome {
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(err_file.reopen().unwrap())
        .spawn()
        .expect("gopack starts");
    let mut peak_rss = 0;
    let code = loop {
        peak_rss = peak_rss.max(rss_of(child.id()));
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code,
        stderr: std::fs::read_to_string(err_file.path()).unwrap_or_default(),
        elapsed: started.elapsed(),
        peak_rss,
    }
}

/// `gopack build testdata/hello --base oci:BASE` into `tmp/out`, within `deadline`.
fn build_on(base: &str, tmp: &Path, deadline: Duration) -> Outcome {
    let mut cmd = gopack(&tmp.join("cache"));
    cmd.current_dir(testdata("hello"))
        .env_remove("GOPACK_BASE")
        .args(["build", "--base", base, "-q", "-o"])
        .arg(format!("oci:{}", tmp.join("out").display()));
    run_with_deadline(&mut cmd, deadline)
}

fn assert_built(o: &Outcome) {
    assert_eq!(
        o.code,
        Some(0),
        "build did not finish cleanly in {:?}:\n{}",
        o.elapsed,
        o.stderr
    );
}

fn assert_refused(o: &Outcome, words: &[&str]) {
    assert_eq!(
        o.code,
        Some(1),
        "expected a clear failure, got {:?} after {:?}:\n{}",
        o.code,
        o.elapsed,
        o.stderr
    );
    for w in words {
        assert!(o.stderr.contains(w), "stderr lacks `{w}`:\n{}", o.stderr);
    }
    assert!(
        !o.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in the message: {:?}",
        o.stderr
    );
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

fn base_files() -> Blob {
    tar_layer(&[
        ("etc/", b'5', b"", ""),
        ("etc/passwd", b'0', b"root:x:0:0::/:/bin/sh\n", ""),
        ("tmp/", b'5', b"", ""),
    ])
}

/// Issue 8, item 9: a fan of symlinks (each names the one below it twice, `d/lK → lJ/lJ`) made
/// base reading exponential (9 links: 48 s); 30 levels must still build at once.
#[test]
fn a_symlink_fan_in_a_base_builds_in_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..31).map(|i| format!("d/l{i}")).collect();
    let targets: Vec<String> = (0..31)
        .map(|i| {
            if i == 0 {
                ".".into()
            } else {
                format!("l{0}/l{0}", i - 1)
            }
        })
        .collect();
    let mut members: Vec<(&str, u8, &[u8], &str)> = vec![
        ("d/", b'5', b"", ""),
        ("d/real/", b'5', b"", ""),
        ("d/real/etc/", b'5', b"", ""),
        ("d/real/etc/passwd", b'0', b"root:x:0:0::/:/bin/sh\n", ""),
    ];
    for i in 0..31 {
        members.push((&names[i], b'2', b"", &targets[i]));
    }
    members.push(("etc", b'2', b"", "d/l30/real/etc"));
    let base = tmp.path().join("base");
    write_layout(&base, &[tar_layer(&members)]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_built(&o);
}

/// Issue 8, item 10: 50k whiteouts over 50k files made base reading quadratic (> 120 s).
#[test]
fn fifty_thousand_whiteouts_in_a_base_build_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<String> = (0..50_000).map(|i| format!("d/f{i:05}")).collect();
    let outs: Vec<String> = (0..50_000).map(|i| format!("d/.wh.f{i:05}")).collect();
    let lower: Vec<(&str, u8, &[u8], &str)> = files
        .iter()
        .map(|f| (f.as_str(), b'0', &b""[..], ""))
        .collect();
    let upper: Vec<(&str, u8, &[u8], &str)> = outs
        .iter()
        .map(|f| (f.as_str(), b'0', &b""[..], ""))
        .collect();
    let base = tmp.path().join("base");
    write_layout(&base, &[base_files(), tar_layer(&lower), tar_layer(&upper)]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_built(&o);
}

/// Issue 8, item 11: a GNU long-name header declaring 1 GiB, in a 1 MiB gzip layer, must be
/// refused before it is read, not held in memory.
#[test]
fn a_one_gib_long_name_header_is_refused_not_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(1 << 30);
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_cksum();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(h.as_bytes()).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..1024 {
        gz.write_all(&chunk).unwrap();
    }
    let mut tar = raw_tar(&[("x", b'0', b"", "")]);
    tar.truncate(512);
    gz.write_all(&tar).unwrap();
    let blob = gz.finish().unwrap();
    assert!(blob.len() < 4 << 20, "the layer is small: {}", blob.len());
    let base = tmp.path().join("base");
    let layer = Blob {
        bytes: blob,
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        diff_id: Digest::of(b"unknown"),
        declared_size: None,
    };
    write_layout(&base, &[base_files(), layer]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_refused(&o, &["long name declaring 1073741824 bytes"]);
    assert!(o.peak_rss < 256 << 20, "peak RSS {} bytes", o.peak_rss);
    assert!(!tmp.path().join("out").exists());
}

/// Issue 8, item 12 (layout part): a blob that is a FIFO hangs a reader that opens it
/// blocking; one that links to /dev/zero fills the disk. Both are refused at once.
#[test]
fn fifo_and_dev_zero_blobs_in_a_base_are_refused_at_once() {
    for (kind, words) in [
        ("fifo", "named pipe (FIFO), not a regular file"),
        ("zero", "character device, not a regular file"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("base");
        let manifest = write_layout(&base, &[base_files()]);
        let manifest: Value = serde_json::from_slice(&manifest).unwrap();
        let layer = manifest["layers"][0]["digest"].as_str().unwrap();
        let path = base
            .join("blobs/sha256")
            .join(layer.trim_start_matches("sha256:"));
        std::fs::remove_file(&path).unwrap();
        if kind == "fifo" {
            let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        }
        let o = build_on(
            &format!("oci:{}", base.display()),
            tmp.path(),
            Duration::from_secs(30),
        );
        assert_refused(&o, &[words]);
        let store_size = dir_size(&tmp.path().join("cache"));
        assert!(
            store_size < 64 << 20,
            "the cache grew to {store_size} bytes"
        );
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Issue 8, item 14: a base whose layer sizes or diff_ids lie used to build (exit 0) into an
/// image umoci rejects.
#[test]
fn a_base_whose_sizes_or_diff_ids_lie_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lying_size = base_files();
    lying_size.declared_size = Some(lying_size.bytes.len() as u64 + 512);
    let base = tmp.path().join("size");
    write_layout(&base, &[lying_size]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_refused(&o, &["descriptor says"]);
    assert!(!tmp.path().join("out").exists());

    let mut lying_diff_id = base_files();
    lying_diff_id.diff_id = Digest::of(b"something else");
    let base = tmp.path().join("diffid");
    write_layout(&base, &[lying_diff_id]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_refused(&o, &["diff_id", &Digest::of(b"something else").to_string()]);
    assert!(!tmp.path().join("out").exists());
}

/// Issue 8, item 16: a `text/plain` layer printed raw binary; an empty index printed
/// "(it has: )".
#[test]
fn odd_media_types_and_empty_indexes_get_readable_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plain = base_files();
    plain.bytes = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain.bytes).unwrap();
        gz.finish().unwrap()
    };
    plain.media_type = "text/plain".into();
    let base = tmp.path().join("plain");
    write_layout(&base, &[plain]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_refused(&o, &["`text/plain` is not a layer type"]);

    let base = tmp.path().join("empty");
    write_layout(&base, &[base_files()]);
    let empty = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let digest = put(&base, empty);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": digest.to_string(), "size": empty.len()
    }]});
    std::fs::write(base.join("index.json"), index.to_string()).unwrap();
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_refused(&o, &["the index is empty"]);
    assert!(!o.stderr.contains("(it has: )"), "{}", o.stderr);
}

/// `..`, absolute paths and symlinks to host paths in a base are read as paths inside the
/// image: never followed to the host, never written anywhere but the store.
#[test]
fn escaping_paths_in_a_base_stay_inside_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let escape = format!("../../../../../../..{}/planted", victim.display());
    let layer = tar_layer(&[
        ("etc/", b'5', b"", ""),
        (&escape, b'0', b"x", ""),
        ("/etc/passwd", b'0', b"root:x:0:0::/:/bin/sh\n", ""),
        ("etc/ssl", b'2', b"", "/etc/ssl"),
        ("tmp", b'2', b"", "../../../../tmp"),
    ]);
    let base = tmp.path().join("base");
    write_layout(&base, &[layer]);
    let o = build_on(
        &format!("oci:{}", base.display()),
        tmp.path(),
        Duration::from_secs(120),
    );
    assert_built(&o);
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
}

/// Issue 8, item 17: `oci:pl:mytag` is the directory `pl` with the tag `mytag`, for pull's
/// destination as for every other argument; and pull reads any source, not just registries.
#[test]
fn pull_from_a_layout_to_oci_dir_colon_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("src");
    write_layout(&base, &[base_files()]);
    let mut cmd = gopack(&tmp.path().join("cache"));
    cmd.current_dir(tmp.path())
        .args(["pull", "oci:src:1", "oci:pl:mytag"]);
    let o = run_with_deadline(&mut cmd, Duration::from_secs(60));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(!tmp.path().join("pl:mytag").exists());
    let index: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("pl/index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "mytag"
    );
    if require_tool("skopeo") {
        let pl = tmp.path().join("pl");
        skopeo_inspect(&format!("oci:{}:mytag", pl.display()), &[]);
    }
}
