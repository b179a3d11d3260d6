//! `gopack build` end to end: real Go programs from testdata/, real images, read back by skopeo
//! and umoci, and started with runc.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-e2e-cache")
}

fn build_json(args: &[&str], cwd: &Path) -> Value {
    let out = run_ok(
        gopack(&cache())
            .current_dir(cwd)
            .arg("build")
            .args(args)
            .arg("--json"),
    );
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn hello_image_runs_as_nonroot_with_ca_roots_and_no_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let built = build_json(
        &[
            "./testdata/hello",
            "--output",
            &format!("oci:{}", layout.display()),
            "--port",
            "8080",
            "--label",
            "team=core",
        ],
        &repo_root(),
    );
    let image = &built["images"][0];
    assert_eq!(image["name"], "hello");
    assert_eq!(image["user"], "65532:65532");

    let reference = format!("oci:{}:latest", layout.display());
    let inspected = skopeo_inspect(&reference, &[]);
    assert_eq!(inspected["Digest"], image["digest"]);
    assert_eq!(
        inspected["Layers"].as_array().unwrap().len(),
        2,
        "base files + binary"
    );
    let config = skopeo_inspect(&reference, &["--config"]);
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/hello"])
    );
    assert!(config["config"]["ExposedPorts"]["8080/tcp"].is_object());
    assert_eq!(config["config"]["Labels"]["team"], "core");
    assert_eq!(config["history"].as_array().unwrap().len(), 2);

    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
    let rootfs = bundle.join("rootfs");
    assert!(!rootfs.join("bin/sh").exists(), "no shell in the image");
    assert!(rootfs.join("etc/ssl/certs/ca-certificates.crt").is_file());
    use std::os::unix::fs::MetadataExt;
    let tmp_meta = std::fs::metadata(rootfs.join("tmp")).unwrap();
    assert_eq!(tmp_meta.mode() & 0o7777, 0o1777);
    // hello never looks users up, so it gets no user database (issue 4: files follow needs).
    assert!(!rootfs.join("etc/passwd").exists());

    let port = free_port();
    let _container = RuncContainer::start(&bundle, &[("PORT", &port.to_string())]);
    let health = http_get(port, "/healthz", Duration::from_secs(20))
        .expect("the server answers on 127.0.0.1");
    assert_eq!(health, "ok\n");
    let info: Value =
        serde_json::from_str(&http_get(port, "/info", Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(info["uid"], 65532);
    assert_eq!(info["gid"], 65532);
    assert!(info["ca_roots"].as_u64().unwrap() > 100, "{info}");
    assert_eq!(info["has_shell"], false);
}

#[test]
fn oci_archive_and_docker_archive_are_readable_by_skopeo() {
    let tmp = tempfile::tempdir().unwrap();
    let oci_archive = tmp.path().join("hello-oci.tar");
    let built = build_json(
        &[
            "./testdata/hello",
            "-o",
            &format!("oci-archive:{}", oci_archive.display()),
        ],
        &repo_root(),
    );
    let inspected = skopeo_inspect(&format!("oci-archive:{}", oci_archive.display()), &[]);
    assert_eq!(inspected["Digest"], built["images"][0]["digest"]);

    let docker_archive = tmp.path().join("hello-docker.tar");
    run_ok(gopack(&cache()).current_dir(repo_root()).args([
        "build",
        "./testdata/hello",
        "--output",
        &format!("docker-archive:{}", docker_archive.display()),
        "--tag",
        "example.com/app:v1",
    ]));
    let reference = format!("docker-archive:{}", docker_archive.display());
    // skopeo finds the image by the tag recorded in manifest.json.
    let inspected = skopeo_inspect(&format!("{reference}:example.com/app:v1"), &[]);
    assert_eq!(inspected["Name"], "example.com/app");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);

    // A full copy out of the docker archive verifies every layer against the config's diff_ids.
    let copied = tmp.path().join("copied");
    run_ok(tool("skopeo").args(["copy", &reference, &format!("oci:{}:x", copied.display())]));
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:x", copied.display()), &bundle);
    assert!(bundle.join("rootfs/usr/local/bin/hello").is_file());
}

#[test]
fn builds_are_reproducible_across_directories_and_share_the_base_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for name in ["a", "b"] {
        let src = tmp.path().join(name).join("hello");
        copy_tree(&testdata("hello"), &src);
        let out = run_ok(
            gopack(&tmp.path().join(format!("cache-{name}")))
                .current_dir(&src)
                .args([
                    "build",
                    "--json",
                    "-o",
                    &format!("oci:{}", tmp.path().join(name).join("out").display()),
                ]),
        );
        let built: Value = serde_json::from_slice(&out.stdout).unwrap();
        digests.push(built["images"][0]["digest"].as_str().unwrap().to_string());
    }
    assert_eq!(
        digests[0], digests[1],
        "same source in two directories → same manifest digest"
    );

    let hello = build_json(
        &[
            "./testdata/hello",
            "-o",
            &format!("oci:{}", tmp.path().join("h").display()),
        ],
        &repo_root(),
    );
    // withdep never loads CA roots nor reads TZ; forcing both gives it the same file set as
    // hello (a TLS-capable server that logs local time), and then the very same base-files
    // layer.
    let withdep = build_json(
        &[
            "./testdata/withdep",
            "--certs",
            "--tz",
            "-o",
            &format!("oci:{}", tmp.path().join("w").display()),
        ],
        &repo_root(),
    );
    let base = |v: &Value| {
        v["images"][0]["platforms"][0]["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        base(&hello),
        base(&withdep),
        "the base-files layer is byte-identical across apps"
    );
    let bin = |v: &Value| {
        v["images"][0]["platforms"][0]["layers"][1]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(bin(&hello), bin(&withdep));
}

#[test]
fn source_date_epoch_sets_created_and_changes_only_the_app_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        gopack(&cache())
            .current_dir(repo_root())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args([
                "build",
                "./testdata/hello",
                "--json",
                "-o",
                &format!("oci:{}", tmp.path().join("o").display()),
            ]),
    );
    let built: Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = skopeo_inspect(
        &format!("oci:{}:latest", tmp.path().join("o").display()),
        &["--config"],
    );
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    let again = build_json(
        &[
            "./testdata/hello",
            "-o",
            &format!("oci:{}", tmp.path().join("p").display()),
        ],
        &repo_root(),
    );
    let layer = |v: &Value, i: usize| v["images"][0]["platforms"][0]["layers"][i]["digest"].clone();
    assert_eq!(
        layer(&built, 0),
        layer(&again, 0),
        "base files ignore SOURCE_DATE_EPOCH"
    );
}

#[test]
fn multi_platform_builds_make_an_index_with_correct_platforms() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("multi");
    build_json(
        &[
            "./testdata/hello",
            "--platform",
            "linux/amd64,linux/arm64,linux/arm/v7",
            "-o",
            &format!("oci:{}", layout.display()),
        ],
        &repo_root(),
    );
    let raw = skopeo_inspect(&format!("oci:{}:latest", layout.display()), &["--raw"]);
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    let platforms: Vec<Value> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"].clone())
        .collect();
    assert_eq!(
        platforms,
        vec![
            serde_json::json!({"os": "linux", "architecture": "amd64"}),
            serde_json::json!({"os": "linux", "architecture": "arm64"}),
            serde_json::json!({"os": "linux", "architecture": "arm", "variant": "v7"}),
        ]
    );
    for (arch, variant) in [("arm64", None), ("arm", Some("v7"))] {
        let config = skopeo_inspect(
            &format!("oci:{}:latest", layout.display()),
            &[
                "--config",
                "--override-arch",
                arch,
                "--override-os",
                "linux",
            ],
        );
        assert_eq!(config["architecture"], arch);
        assert_eq!(config["variant"].as_str(), variant);
    }
}

#[test]
fn several_main_packages_make_one_image_each() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let built = build_json(
        &["./cmd/...", "-o", &format!("oci:{}", layout.display())],
        &testdata("multi"),
    );
    let names: Vec<&str> = built["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "worker"]);
    for name in names {
        let config = skopeo_inspect(&format!("oci:{}:{name}", layout.display()), &["--config"]);
        assert_eq!(
            config["config"]["Entrypoint"][0],
            format!("/usr/local/bin/{name}")
        );
    }
    // Run one of them to see it is the right program.
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:worker", layout.display()), &bundle);
    let (status, stdout, _) =
        RuncContainer::start(&bundle, &[]).wait_output(Duration::from_secs(20));
    assert_eq!((status, stdout.as_str()), (Some(0), "worker\n"));
}

fn build_fails(args: &[&str], cwd: &Path) -> (i32, String) {
    run_fail(gopack(&cache()).current_dir(cwd).arg("build").args(args))
}

#[test]
fn not_a_module_says_to_run_go_mod_init() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.go"), "package main\nfunc main() {}\n").unwrap();
    let (code, err) = build_fails(&["."], tmp.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("no go.mod found") && err.contains("go mod init"),
        "{err}"
    );
}

#[test]
fn a_library_package_is_refused() {
    let (code, err) = build_fails(&["./internal/greet"], &testdata("multi"));
    assert_eq!(code, 1);
    assert!(
        err.contains("is package `greet`, not a main package"),
        "{err}"
    );
}

#[test]
fn compile_errors_show_go_own_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = build_fails(
        &["-o", &format!("oci:{}", tmp.path().join("o").display())],
        &testdata("broken"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("go build failed for example.com/broken"),
        "{err}"
    );
    assert!(
        err.contains("undefined: undefinedFunction"),
        "Go's own message: {err}"
    );
    assert!(
        !tmp.path().join("o").exists(),
        "no output after a failed build"
    );
}

#[test]
fn unknown_platform_is_a_usage_error() {
    let (code, err) = build_fails(&["--platform", "linux/sparc"], &testdata("hello"));
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown platform `linux/sparc`") && err.contains("linux/arm64"),
        "{err}"
    );
}

#[test]
fn unwritable_output_fails_before_building() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, err) = build_fails(
        &["-o", &format!("oci-archive:{}/out.tar", file.display())],
        &testdata("hello"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot write") && err.contains("a-file"),
        "{err}"
    );
}

#[test]
fn a_directory_that_is_not_a_layout_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
    let (code, err) = build_fails(
        &["-o", &format!("oci:{}", tmp.path().display())],
        &testdata("hello"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("is not an OCI image layout"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn a_cgo_package_is_linked_statically_and_runs_on_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("o");
    let built = build_json(
        &["-o", &format!("oci:{}", layout.display())],
        &testdata("cgoonly"),
    );
    assert_eq!(built["cgo"]["mode"], "static");
    assert!(
        built["images"][0]["platforms"][0]["go_build"]
            .as_str()
            .unwrap()
            .contains("-extldflags")
    );
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
    let (status, stdout, stderr) =
        RuncContainer::start(&bundle, &[]).wait_output(Duration::from_secs(20));
    assert_eq!((status, stdout.as_str()), (Some(0), "42\n"), "{stderr}");
}

#[test]
fn cgo_off_on_a_cgo_package_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, err) = build_fails(
        &[
            "--cgo",
            "off",
            "-o",
            &format!("oci:{}", tmp.path().join("o").display()),
        ],
        &testdata("cgoonly"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("--cgo off is refused") && err.contains("example.com/cgoonly"),
        "{err}"
    );
}

#[test]
fn go_older_than_go_mod_is_reported_before_building() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("hello"), tmp.path());
    std::fs::write(
        tmp.path().join("go.mod"),
        "module example.com/hello\n\ngo 1.99.0\n",
    )
    .unwrap();
    let (code, err) = build_fails(&["."], tmp.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("requires go >= 1.99.0") && err.contains("GOTOOLCHAIN"),
        "{err}"
    );
}

#[test]
fn missing_go_says_how_to_install_it() {
    let (code, err) = run_fail(
        gopack(&cache())
            .current_dir(testdata("hello"))
            .env("GOPACK_GO", "/nonexistent/bin/go")
            .arg("build"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("/nonexistent/bin/go") && err.contains("https://go.dev/dl"),
        "{err}"
    );
}

#[test]
fn a_failed_or_interrupted_build_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("out");
    let target = format!("oci:{}", layout.display());
    build_json(&["./testdata/hello", "-o", &target], &repo_root());
    let before = snapshot(&layout);
    assert!(!before.is_empty());

    build_fails(&["./testdata/broken", "-o", &target], &repo_root());
    assert_eq!(snapshot(&layout), before, "a compile error changes nothing");

    // Interrupt a slow build (cold Go cache for another architecture) while `go build` runs:
    // a wrapper around go marks the moment the build starts.
    let marker = tmp.path().join("go-build-started");
    let wrapper = tmp.path().join("go");
    let real_go = String::from_utf8(
        run_ok(std::process::Command::new("sh").args(["-c", "command -v go"])).stdout,
    )
    .unwrap();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n[ \"$1\" = build ] && touch '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            real_go.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = gopack(&cache())
        .current_dir(repo_root())
        .env("GOCACHE", tmp.path().join("cold-gocache"))
        .env("GOPACK_GO", &wrapper)
        .args([
            "build",
            "./testdata/withdep",
            "--platform",
            "linux/s390x",
            "-o",
            &target,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !marker.exists() && std::time::Instant::now() < deadline {
        assert!(
            child.try_wait().unwrap().is_none(),
            "gopack ended before go build started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(marker.exists(), "go build started");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        snapshot(&layout),
        before,
        "an interrupted build changes nothing"
    );
    let inspected = skopeo_inspect(&format!("{target}:latest"), &[]);
    let host = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(inspected["Architecture"], host);
}

#[test]
fn data_dirs_and_extra_ca_files_land_in_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    let web = tmp.path().join("web");
    std::fs::create_dir_all(web.join("css")).unwrap();
    std::fs::write(web.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(web.join("css/site.css"), "h1{}").unwrap();
    let ca = tmp.path().join("company.pem");
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    std::fs::write(&ca, pem).unwrap();
    let layout = tmp.path().join("out");
    let built = build_json(
        &[
            "./testdata/hello",
            "--data",
            &format!("{}:/srv/web", web.display()),
            "--ca-file",
            ca.to_str().unwrap(),
            "--tz",
            "-o",
            &format!("oci:{}", layout.display()),
        ],
        &repo_root(),
    );
    assert_eq!(
        built["images"][0]["platforms"][0]["layers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
    let root = bundle.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(root.join("srv/web/css/site.css")).unwrap(),
        "h1{}"
    );
    assert!(
        std::fs::read_to_string(root.join("etc/ssl/certs/ca-certificates.crt"))
            .unwrap()
            .ends_with(pem)
    );
    assert!(root.join("usr/share/zoneinfo/Europe/Paris").is_file());
}

#[test]
fn go_list_answers_are_cached_and_a_source_change_invalidates_them() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let plan = |cache: &Path| -> Value {
        let out = run_ok(gopack(cache).current_dir(&src).args(["plan", "--json"]));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(plan(&cache)["cgo"]["mode"], "off");
    let cached: Vec<_> = std::fs::read_dir(cache.join("golist")).unwrap().collect();
    assert_eq!(cached.len(), 1, "the go list answer is kept");
    assert_eq!(plan(&cache)["cgo"]["mode"], "off", "served from the cache");

    std::fs::write(
        src.join("native.go"),
        "package main\n\n// static int one(void) { return 1; }\nimport \"C\"\n\nvar _ = C.one\n",
    )
    .unwrap();
    assert_eq!(
        plan(&cache)["cgo"]["mode"],
        "static",
        "a new cgo file is seen at once"
    );
}
