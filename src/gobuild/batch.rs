//! Many main packages, one `go build`: requests that differ only in their package (same module
//! root, flags, environment and platform) are built by one `go build -o DIR/ pkg1 pkg2 …`, so
//! Go loads the package graph once and compiles shared packages once (ko#314: three istio
//! binaries took 11 s as separate builds, 5 s in one invocation). Each batch writes into its
//! own directory, kept between runs: `go build -o DIR/` skips a link whose output already holds
//! the same build ID, as for single builds.
//!
//! Two packages with the same binary name cannot share `-o DIR/` (go refuses), so they go into
//! separate batches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{BuiltBinary, GoBuildError, GoBuildRequest, canonical, shell_quote};
use crate::config::GoEnv;

/// Requests grouped into batches: each batch is one `go build` (indices into the input).
pub fn batches(requests: &[&GoBuildRequest]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<Vec<usize>>> = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let key = batch_key(r);
        let slots = groups.entry(key).or_default();
        let free = slots.iter_mut().find(|batch| {
            batch.iter().all(|&j| {
                requests[j].package.name != r.package.name
                    && canonical(&requests[j].package.dir) != canonical(&r.package.dir)
            })
        });
        match free {
            Some(batch) => batch.push(i),
            None => slots.push(vec![i]),
        }
    }
    groups.into_values().flatten().collect()
}

/// What must agree for two builds to share one `go build`.
fn batch_key(r: &GoBuildRequest) -> String {
    format!(
        "{}\0{}\0{:?}\0{:?}",
        canonical(&r.module_root).display(),
        r.flags.ldflags,
        r.flags.tags,
        r.env()
    )
}

/// The `go build` arguments of a batch writing into `dir`.
fn args(
    first: &GoBuildRequest,
    packages: &[&str],
    dir: &Path,
    procs: Option<usize>,
) -> Vec<String> {
    let mut args = vec![
        "build".to_string(),
        "-trimpath".into(),
        format!("-ldflags={}", first.flags.ldflags),
    ];
    if let Some(p) = procs {
        args.push(format!("-p={p}"));
    }
    if !first.flags.tags.is_empty() {
        args.push(format!("-tags={}", first.flags.tags.join(",")));
    }
    // A trailing slash makes go treat -o as a directory for every package.
    args.extend(["-o".into(), format!("{}/", dir.display())]);
    args.extend(packages.iter().map(|p| p.to_string()));
    args
}

/// Runs one batch (all of `requests` share [`batch_key`]) into `dir`; the binaries, in order.
pub fn run_batch(
    goenv: &GoEnv,
    requests: &[&GoBuildRequest],
    dir: &Path,
    procs: Option<usize>,
) -> Result<Vec<BuiltBinary>, GoBuildError> {
    let first = requests[0];
    std::fs::create_dir_all(dir).map_err(|source| GoBuildError::Scratch {
        path: dir.to_path_buf(),
        source,
    })?;
    let packages: Vec<&str> = requests
        .iter()
        .map(|r| r.package.import_path.as_str())
        .collect();
    let args = args(first, &packages, dir, procs);
    let outputs: Vec<PathBuf> = requests.iter().map(|r| dir.join(binary_file(r))).collect();
    let invocation = super::stamp::Invocation {
        module_root: &first.module_root,
        cgo: first.cgo,
        // Without -p: how many jobs go runs does not change what it writes.
        args: args
            .iter()
            .filter(|a| !a.starts_with("-p="))
            .cloned()
            .collect(),
        env: first.env(),
    };
    let command_line = command_line(first, &args);
    let started = Instant::now();
    // The record sits in the batch directory under a name no binary can have.
    let record = dir.join(".gopack-stamp");
    let pending = match super::stamp::before(goenv, &invocation, record, outputs.clone()) {
        super::stamp::Before::Skip => {
            crate::log::verbose(&format!(
                "skip: {command_line} (go not run: nothing it reads changed since it wrote \
                 {}; GOPACK_ALWAYS_GO_BUILD=1 runs it)",
                dir.display()
            ));
            return built(&outputs, &command_line, started.elapsed());
        }
        super::stamp::Before::Run(pending) => pending,
    };
    crate::log::verbose(&format!("run: {command_line}"));
    let mut cmd = goenv.command(&first.module_root);
    cmd.args(&args);
    for (k, v) in first.env() {
        cmd.env(k, v);
    }
    let result = cmd.output().map_err(|source| GoBuildError::GoNotFound {
        program: goenv.program().display().to_string(),
        source,
    })?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr)
            .trim_end()
            .to_string();
        let hint = crate::project::hint_for_go_error(&stderr).to_string();
        return Err(GoBuildError::Compile {
            package: packages.join(" "),
            platform: first.platform.to_string(),
            stderr,
            hint,
        });
    }
    let binaries = built(&outputs, &command_line, started.elapsed())?;
    pending.done();
    Ok(binaries)
}

/// The batch's command as a person would type it in a shell.
fn command_line(first: &GoBuildRequest, args: &[String]) -> String {
    format!(
        "{} go {}",
        first
            .env()
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect::<Vec<_>>()
            .join(" "),
        args.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The binaries a batch wrote, in order.
fn built(
    outputs: &[PathBuf],
    command_line: &str,
    duration: std::time::Duration,
) -> Result<Vec<BuiltBinary>, GoBuildError> {
    outputs
        .iter()
        .map(|path| {
            let size = std::fs::metadata(path)
                .map_err(|_| GoBuildError::NoOutput(path.clone()))?
                .len();
            Ok(BuiltBinary {
                path: path.clone(),
                size,
                command_line: command_line.to_string(),
                duration,
            })
        })
        .collect()
}

/// The file `go build -o DIR/` writes for a request: the binary name (`.exe` on windows).
fn binary_file(r: &GoBuildRequest) -> String {
    if r.platform.os == "windows" {
        format!("{}.exe", r.package.name)
    } else {
        r.package.name.clone()
    }
}

/// The directory a batch keeps its binaries in, under the module's build directory: one per
/// batch key and package set, so another set never overwrites these binaries.
pub fn batch_dir(module_dir: &Path, requests: &[&GoBuildRequest], toolchain: &str) -> PathBuf {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(batch_key(requests[0]));
    h.update(toolchain);
    for r in requests {
        h.update(b"\0");
        h.update(canonical(&r.package.dir).as_os_str().as_encoded_bytes());
    }
    module_dir.join(format!("batch-{}", &hex::encode(h.finalize())[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gobuild::{BuildFlags, CgoMode};
    use crate::oci::Platform;
    use crate::project::MainPackage;

    fn request(dir: &str, name: &str, arch: &str) -> GoBuildRequest {
        GoBuildRequest {
            module_root: "/src".into(),
            package: MainPackage {
                import_path: format!("example.com/m/{dir}"),
                dir: format!("/src/{dir}").into(),
                name: name.into(),
            },
            platform: Platform::linux(arch),
            cgo: CgoMode::Off,
            flags: BuildFlags {
                ldflags: "-s".into(),
                tags: vec![],
                goflags: None,
            },
            target_env: vec![("GOOS", "linux".into()), ("GOARCH", arch.into())],
        }
    }

    #[test]
    fn one_batch_per_platform_and_name_clashes_split() {
        let a = request("cmd/a", "a", "amd64");
        let b = request("cmd/b", "b", "amd64");
        let a_arm = request("cmd/a", "a", "arm64");
        let other_server = request("tools/a", "a", "amd64");
        let all = [&a, &b, &a_arm, &other_server];
        let mut got = batches(&all);
        got.sort();
        assert_eq!(got, vec![vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn a_batch_writes_into_a_directory() {
        let a = request("cmd/a", "a", "amd64");
        let b = request("cmd/b", "b", "amd64");
        let got = args(
            &a,
            &["example.com/m/cmd/a", "example.com/m/cmd/b"],
            Path::new("/o"),
            Some(2),
        );
        assert_eq!(
            got.join(" "),
            "build -trimpath -ldflags=-s -p=2 -o /o/ example.com/m/cmd/a example.com/m/cmd/b"
        );
        assert_ne!(
            batch_dir(Path::new("/c"), &[&a, &b], "local"),
            batch_dir(Path::new("/c"), &[&a], "local")
        );
    }
}
