//! Outputs under faults (issue 8 items 2 and 3): every rename, link, unlink, mkdir, open for
//! writing, write, fsync and flock that `gopack build` makes on an output path is made to fail
//! (EIO) and, separately, to kill the process (SIGKILL) — with strace's syscall fault
//! injection, one call at a time. After each: the previous output is whole (or the new one is),
//! no temp file is left once a run ends, and the next build succeeds and cleans what a killed
//! run left. Plus concurrent writers of one layout from threads.

use crate::common;
use crate::outputs::{oci, ref_names, tar_member};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use gopack::oci::{
    BlobStore, Compression, Descriptor, Image, ImageConfig, LayerEntry, LayerSpec, LayerWriter,
    Platform, RootFs,
};
use gopack::sink::{ImageSet, write_oci_layout};
use serde_json::Value;

/// Syscalls that change files (or take locks) and may be made to fail.
const SYSCALLS: &str = "rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,\
                        rmdir,openat,write,writev,pwrite64,fsync,fdatasync,flock,copy_file_range,sendfile";

#[derive(Clone, Debug)]
struct Call {
    name: String,
    /// 1-based position among the calls of the same name in gopack's main thread.
    nth: usize,
    line: String,
}

fn is_mutating(name: &str, line: &str) -> bool {
    match name {
        "openat" => ["O_CREAT", "O_WRONLY", "O_RDWR"]
            .iter()
            .any(|f| line.contains(f)),
        _ => true,
    }
}

/// The calls of gopack's main thread (strace without -f) that touch `prefix`.
fn calls_on(log: &Path, prefix: &str) -> Vec<Call> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, _)) = line.split_once('(') else {
            continue;
        };
        if name.starts_with("---") || name.starts_with("+++") || name.contains(' ') {
            continue;
        }
        let nth = counts.entry(name.to_string()).or_default();
        *nth += 1;
        let args = &line[name.len() + 1..];
        let on_output = match name {
            // fd calls: the path strace -y shows for the descriptor, not the data written.
            "write" | "writev" | "pwrite64" | "fsync" | "fdatasync" | "flock"
            | "copy_file_range" | "sendfile" => args
                .split_once(',')
                .map_or(args, |(fd, _)| fd)
                .contains(&format!("<{prefix}")),
            _ => args.contains(&format!("\"{prefix}")),
        };
        if on_output && is_mutating(name, line) {
            out.push(Call {
                name: name.into(),
                nth: *nth,
                line: line.into(),
            });
        }
    }
    out
}

struct Scenario {
    tmp: tempfile::TempDir,
    cache: PathBuf,
    /// What the output looked like before the build under test (restored before each run).
    before: PathBuf,
    output: String,
    out_path: PathBuf,
}

impl Scenario {
    fn gopack(&self) -> Command {
        let mut cmd = gopack(&self.cache);
        cmd.current_dir(repo_root());
        cmd
    }

    fn build_args(&self) -> Vec<String> {
        ["build", "./testdata/withdep", "-q", "-o", &self.output]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn restore(&self) {
        let _ = std::fs::remove_dir_all(&self.out_path);
        let _ = std::fs::remove_file(&self.out_path);
        for entry in std::fs::read_dir(self.work()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".gopack-")
            {
                let _ = std::fs::remove_dir_all(&path);
                let _ = std::fs::remove_file(&path);
            }
        }
        if self.before.exists() {
            run_ok(
                Command::new("cp")
                    .arg("-a")
                    .arg(&self.before)
                    .arg(&self.out_path),
            );
        }
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    /// Runs the build under strace with `extra` options; returns (status, stderr, log).
    fn traced(&self, trace: &str, extra: &[String]) -> (std::process::ExitStatus, String, String) {
        let log = self.tmp.path().join("strace.log");
        let mut cmd = tool("strace");
        cmd.arg("-o")
            .arg(&log)
            .args(["-y", "-e", &format!("trace={trace}")])
            .args(extra)
            .arg(env!("CARGO_BIN_EXE_gopack"))
            .args(self.build_args())
            .env("GOPACK_CACHE", &self.cache)
            .env_remove("SOURCE_DATE_EPOCH")
            .current_dir(repo_root());
        let out = cmd.output().unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
            std::fs::read_to_string(&log).unwrap_or_default(),
        )
    }
}

/// Temp files and staging directories gopack left under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".gopack-") && name.ends_with(".tmp") {
            out.push(path.clone());
        }
        if path.is_dir() && !path.is_symlink() {
            out.extend(leftovers(&path));
        }
    }
    out
}

/// Checks a layout: index.json parses and every blob its names reach is present; returns the
/// digest per ref name.
fn layout_digests(dir: &Path) -> BTreeMap<String, String> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let mut out = BTreeMap::new();
    for m in index["manifests"].as_array().unwrap() {
        let digest = m["digest"].as_str().unwrap();
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(blob(digest)).unwrap()).unwrap();
        let config = manifest["config"]["digest"].as_str().unwrap();
        assert!(
            blob(config).is_file(),
            "config {config} of {digest} missing"
        );
        for layer in manifest["layers"].as_array().unwrap() {
            let l = layer["digest"].as_str().unwrap();
            assert!(blob(l).is_file(), "layer {l} of {digest} missing");
        }
        let name = m["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        out.insert(name, digest.to_string());
    }
    out
}

/// The state an output is in after a faulted run: the digest per name, or `None` when there
/// is no output.
fn state(scenario: &Scenario) -> Option<BTreeMap<String, String>> {
    let path = &scenario.out_path;
    if !path.exists() {
        return None;
    }
    if path.is_dir() {
        return Some(layout_digests(path));
    }
    let index = tar_member(path, "index.json");
    let inspected = skopeo_inspect(&format!("oci-archive:{}", path.display()), &[]);
    let mut out = BTreeMap::new();
    for m in index["manifests"].as_array().unwrap() {
        out.insert(
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
                .to_string(),
            inspected["Digest"].as_str().unwrap().to_string(),
        );
    }
    Some(out)
}

/// Sets up `output` (relative to a work dir; `{}` is replaced by it) with hello in it (unless
/// `fresh`), warms the cache for withdep, and returns the scenario.
fn scenario(output: &str, out_name: &str, fresh: bool) -> Scenario {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let output = output.replace("{}", &work.display().to_string());
    let s = Scenario {
        cache: tmp.path().join("cache"),
        before: tmp.path().join("before"),
        out_path: work.join(out_name),
        output,
        tmp,
    };
    let warm = format!("oci:{}", s.tmp.path().join("warm").display());
    run_ok(
        s.gopack()
            .args(["build", "./testdata/withdep", "-q", "-o", &warm]),
    );
    if !fresh {
        run_ok(
            s.gopack()
                .args(["build", "./testdata/hello", "-q", "-o", &s.output]),
        );
        if s.out_path.is_dir() {
            run_ok(tool("skopeo").args([
                "copy",
                &oci(&s.out_path, "latest"),
                &oci(&s.out_path, "other"),
            ]));
        }
        run_ok(Command::new("cp").arg("-a").arg(&s.out_path).arg(&s.before));
    }
    s
}

/// Fails every output call in turn, then kills the process at each; checks the invariants.
fn inject_everywhere(s: &Scenario) {
    let old = state(s);
    s.restore();
    let (status, stderr, log) = s.traced(SYSCALLS, &[]);
    assert!(status.success(), "{stderr}");
    let new = state(s);
    let log_path = s.tmp.path().join("record.log");
    std::fs::write(&log_path, &log).unwrap();
    let prefix = s.work().display().to_string();
    let calls = calls_on(&log_path, &prefix);
    assert!(calls.len() >= 5, "few calls on the output: {calls:?}");
    eprintln!("injecting faults at {} calls on {prefix}", calls.len());
    for c in &calls {
        eprintln!("  {}#{}: {}", c.name, c.nth, c.line);
    }
    for call in &calls {
        for action in ["error=EIO", "signal=KILL"] {
            s.restore();
            let inject = format!("inject={}:{action}:when={}", call.name, call.nth);
            let (status, stderr, log) = s.traced(&call.name, &["-e".into(), inject.clone()]);
            let lines: Vec<&str> = log.lines().filter(|l| !l.starts_with("---")).collect();
            let hit = match lines.iter().position(|l| l.starts_with("+++ killed")) {
                Some(i) if i > 0 => lines[i - 1],
                _ => lines.iter().find(|l| l.contains("INJECTED")).unwrap_or(&""),
            };
            assert!(
                hit.contains(&prefix),
                "{inject}: the call injected is not the one recorded ({}): {hit}",
                call.line
            );
            let after = state(s);
            assert!(
                after == old || after == new,
                "{inject} at {}: the output is neither the old nor the new one: {after:?}",
                call.line
            );
            if action == "error=EIO" {
                if !status.success() {
                    assert!(
                        stderr.contains("error: ")
                            && (stderr.contains(&prefix) || stderr.contains("gopack's")),
                        "{inject}: a bare error: {stderr}"
                    );
                }
                assert_eq!(leftovers(&s.work()), Vec::<PathBuf>::new(), "{inject}");
            } else {
                run_ok(s.gopack().args(s.build_args()));
                assert_eq!(state(s), new, "{inject}: the next build completes");
                assert_eq!(leftovers(&s.work()), Vec::<PathBuf>::new(), "{inject}");
                let tmp = s.cache.join("store/tmp");
                assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "{inject}");
            }
        }
    }
}

#[test]
fn every_fault_while_updating_a_layout_keeps_a_whole_layout() {
    if !require_tool("strace") {
        return;
    }
    let s = scenario("oci:{}/out", "out", false);
    inject_everywhere(&s);
    assert_eq!(ref_names(&s.out_path), ["latest", "other"]);
}

#[test]
fn every_fault_while_creating_a_layout_leaves_none_or_a_whole_one() {
    if !require_tool("strace") {
        return;
    }
    let s = scenario("oci:{}/fresh", "fresh", true);
    inject_everywhere(&s);
}

#[test]
fn every_fault_while_replacing_an_archive_keeps_a_whole_archive() {
    if !require_tool("strace") {
        return;
    }
    let s = scenario("oci-archive:{}/app.tar", "app.tar", false);
    inject_everywhere(&s);
}

/// A one-layer image whose file holds `content`.
fn tiny_set(store: &BlobStore, name: &str, content: &str) -> ImageSet {
    let layer = LayerWriter::new(store, Compression::DEFAULT)
        .write(
            &LayerSpec {
                entries: vec![LayerEntry::file("/greeting", content.as_bytes(), 0o644)],
                mtime: 0,
                description: name.into(),
            }
            .with_parent_dirs(),
        )
        .unwrap();
    let platform: Platform = "linux/amd64".parse().unwrap();
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        ..ImageConfig::default()
    };
    let image = Image::assemble(
        store,
        platform,
        config,
        vec![Descriptor::of_layer(&layer)],
        BTreeMap::new(),
    )
    .unwrap();
    ImageSet {
        name: name.into(),
        images: vec![image],
        index: None,
    }
}

#[test]
fn concurrent_writers_of_one_layout_take_turns_and_every_tag_lands() {
    let tmp = tempfile::tempdir().unwrap();
    let store = BlobStore::open(tmp.path().join("store")).unwrap();
    let layout = tmp.path().join("out");
    let sets: Vec<ImageSet> = (0..3)
        .map(|i| tiny_set(&store, &format!("w{i}"), &format!("writer {i}")))
        .collect();
    let rounds = 20;
    std::thread::scope(|scope| {
        for (i, set) in sets.iter().enumerate() {
            let (store, layout) = (&store, &layout);
            scope.spawn(move || {
                for round in 0..rounds {
                    let tag = format!("w{i}-{round}");
                    write_oci_layout(store, layout, std::slice::from_ref(set), Some(&tag))
                        .unwrap_or_else(|e| panic!("writer {i}, round {round}: {e}"));
                    // Last writer wins on a shared tag.
                    write_oci_layout(store, layout, std::slice::from_ref(set), Some("shared"))
                        .unwrap_or_else(|e| panic!("writer {i}, round {round}: {e}"));
                }
            });
        }
    });
    let names: BTreeSet<String> = ref_names(&layout).into_iter().collect();
    assert_eq!(names.len(), 3 * rounds + 1, "{names:?}");
    let digests = layout_digests(&layout);
    let shared = &digests["shared"];
    assert!(
        sets.iter()
            .any(|s| &s.top_descriptor().digest.to_string() == shared)
    );
    run_ok(tool("skopeo").args(["inspect", &oci(&layout, "shared")]));
}
