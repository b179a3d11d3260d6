//! `gopack inspect` on gopack's own images and on images made here: Go binaries and what they
//! need (CA bundle present or not, a dynamic cgo binary on a base without its libc), the layer
//! cache, views that read no layer, the file listing, `--cat`, diff, CI gates and formats.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{gopack, repo_root, require_tool, run_ok, testdata};
use crate::inspect_support::*;

/// `gopack build DIR -o oci:OUT:TAG ARGS…` with its own cache.
fn build(cache: &Path, dir: &Path, out: &Path, tag: &str, args: &[&str]) -> String {
    run_ok(
        gopack(cache)
            .current_dir(repo_root())
            .arg("build")
            .arg(dir)
            .arg("-o")
            .arg(format!("oci:{}:{tag}", out.display()))
            .args(args),
    );
    format!("oci:{}:{tag}", out.display())
}

#[test]
fn a_gopack_image_shows_its_go_binary_and_no_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let image_ref = build(
        &cache,
        &testdata("hello"),
        &tmp.path().join("out"),
        "v1",
        &[],
    );
    let (doc, code) = inspect_json(&cache, &[&image_ref]);
    assert_eq!(code, 0);
    assert_eq!(doc["schema"], "gopack.inspect/v1");
    let im = image(&doc);
    assert_eq!(codes(im), Vec::<String>::new(), "{:#}", im["findings"]);
    let bins = im["go_binaries"].as_array().unwrap();
    assert_eq!(bins.len(), 1);
    let b = &bins[0];
    assert_eq!(b["path"], "/usr/local/bin/hello");
    assert_eq!(b["go_version"], go_version().as_str());
    assert_eq!(b["module"], "example.com/hello");
    assert_eq!(b["static"], true);
    assert_eq!(b["stripped"], true);
    assert!(
        b["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[0] == "CGO_ENABLED" && s[1] == "0")
    );
    assert_eq!(im["config"]["user"], "65532:65532");
    assert_eq!(im["layers"].as_array().unwrap().len(), 2);
    let l = &im["layers"][1];
    assert!(
        l["created_by"]
            .as_str()
            .unwrap()
            .contains("/usr/local/bin/hello")
    );
    assert!(l["uncompressed_size"].as_u64().unwrap() > l["size"].as_u64().unwrap());
    assert_eq!(im["waste"]["reclaimable_bytes"], 0);
}

#[test]
fn a_tls_client_without_a_ca_bundle_is_a_finding_and_with_one_it_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dir = testdata("needs/tlsclient");
    let without = build(
        &cache,
        &dir,
        &tmp.path().join("a"),
        "nocerts",
        &["--certs=no"],
    );
    let with = build(&cache, &dir, &tmp.path().join("b"), "certs", &[]);
    let (doc, _) = inspect_json(&cache, &[&without]);
    let f = findings(image(&doc), "IMG401");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert_eq!(f[0]["path"], "/usr/local/bin/tlsclient");
    assert_eq!(f[0]["severity"], "error");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("crypto/x509.loadSystemRoots")
    );
    let (doc, _) = inspect_json(&cache, &[&with]);
    assert!(findings(image(&doc), "IMG401").is_empty(), "{doc:#}");
}

fn root_and(tools: &[&str]) -> bool {
    if unsafe { libc::geteuid() } != 0 {
        assert!(std::env::var_os("CI").is_none(), "needs root");
        eprintln!("skipped: needs root");
        return false;
    }
    tools.iter().all(|t| require_tool(t))
}

#[test]
fn a_dynamic_cgo_binary_on_a_base_without_its_libc_under_umoci() {
    if !root_and(&["umoci", "gcc", "apt-get", "dpkg"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("stdhttp");
    run_ok(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .current_dir(testdata("cgo/stdhttp"))
            .env("CGO_ENABLED", "1")
            .env("GOTOOLCHAIN", "local"),
    );
    let put = |img: &UmociImage| {
        let dest = img.rootfs().join("usr/local/bin");
        fs::create_dir_all(&dest).unwrap();
        fs::copy(&bin, dest.join("stdhttp")).unwrap();
        img.layer("COPY stdhttp /usr/local/bin/");
        img.config(&[
            "--config.entrypoint",
            "/usr/local/bin/stdhttp",
            "--config.user",
            "65534:65534",
        ]);
    };
    let scratch = UmociImage::new(&tmp.path().join("a"), "scratch");
    put(&scratch);
    let cache = tmp.path().join("cache");
    let (doc, _) = inspect_json(&cache, &[&scratch.reference()]);
    let im = image(&doc);
    let b = &im["go_binaries"][0];
    assert_eq!(b["static"], false, "{b:#}");
    let loader = findings(im, "IMG404");
    assert_eq!(loader.len(), 1, "{:#}", im["findings"]);
    assert!(loader[0]["message"].as_str().unwrap().contains("ld-linux"));
    let libs = findings(im, "IMG405");
    assert!(
        libs.iter()
            .any(|f| f["message"].as_str().unwrap().contains("libc.so.6")),
        "{libs:#?}"
    );
    // os/user with no /etc/passwd at all.
    assert_eq!(findings(im, "IMG403").len(), 1, "{:#}", im["findings"]);
    // The same binary on a Debian base that has libc: no loader or library finding.
    let debian = UmociImage::new(&tmp.path().join("b"), "debian");
    let Some(()) = debian_root(&debian.rootfs(), &["libc6", "base-files"]) else {
        return;
    };
    debian.layer("debian libc6");
    put(&debian);
    let (doc, _) = inspect_json(&cache, &[&debian.reference()]);
    let c = codes(image(&doc));
    assert!(
        !c.contains(&"IMG404".into()) && !c.contains(&"IMG405".into()),
        "{c:?}"
    );
}

#[test]
fn a_second_inspect_reads_no_layer_and_views_of_manifest_and_config_read_none() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    let image_ref = build(&cache, &testdata("hello"), &out, "v1", &[]);
    let (first, _) = inspect_json(&cache, &[&image_ref]);
    assert!(
        image(&first)["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["from_cache"] == false)
    );
    // Remove the layer blobs from the layout: the cached records still answer.
    let layers: Vec<String> = image(&first)["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:")
                .to_string()
        })
        .collect();
    for hex in &layers {
        fs::remove_file(out.join("blobs/sha256").join(hex)).unwrap();
    }
    let (second, code) = inspect_json(&cache, &[&image_ref]);
    assert_eq!(code, 0);
    assert!(
        image(&second)["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["from_cache"] == true)
    );
    let strip = |mut d: serde_json::Value| {
        for l in d["images"][0]["layers"].as_array_mut().unwrap() {
            l["from_cache"] = serde_json::Value::Null;
        }
        d
    };
    assert_eq!(strip(first), strip(second));
    // Manifest and config views need no layer either, and print the stored bytes exactly.
    let manifest = inspect(&cache, &[&image_ref, "--manifest", "--no-cache"]);
    assert!(manifest.status.success());
    let m: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);
    let config = inspect(&cache, &[&image_ref, "--image-config"]);
    let c: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(c["config"]["User"], "65532:65532");
    // The records are a part of gopack's cache: `cache info` counts them, `cache prune` removes
    // them, and the next inspect reads the layers again.
    let info = run_ok(gopack(&cache).args(["cache", "info"]));
    let info = String::from_utf8_lossy(&info.stdout);
    let line = info
        .lines()
        .find(|l| l.contains("inspect layer records"))
        .unwrap();
    assert!(line.contains("2 files"), "{info}");
    run_ok(gopack(&cache).args(["cache", "prune", "--all"]));
    let info = run_ok(gopack(&cache).args(["cache", "info"]));
    let info = String::from_utf8_lossy(&info.stdout);
    let line = info
        .lines()
        .find(|l| l.contains("inspect layer records"))
        .unwrap();
    assert!(line.contains(" 0 files"), "{info}");
    // Without the cache the missing blob is an error naming it, not a crash.
    let out = inspect(&cache, &[&image_ref, "--no-cache"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("IMG902"), "{text}");
}

#[test]
fn files_find_and_cat_show_the_final_file_system_safely() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let data = tmp.path().join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("small.txt"), "hello\n").unwrap();
    fs::write(data.join("big.bin"), noise(7, 50_000)).unwrap();
    fs::write(data.join("evil.txt"), "title\x1b]0;pwned\x07\x1b[2J\n").unwrap();
    let image_ref = build(
        &cache,
        &testdata("hello"),
        &tmp.path().join("out"),
        "v1",
        &["--data", &format!("{}:/srv", data.display())],
    );
    let (doc, _) = inspect_json(&cache, &[&image_ref, "--files", "--sort", "size"]);
    let files = image(&doc)["files"].as_array().unwrap().clone();
    let sizes: Vec<u64> = files.iter().map(|f| f["size"].as_u64().unwrap()).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "sorted by size: {sizes:?}"
    );
    let srv = files.iter().find(|f| f["path"] == "/srv").unwrap();
    assert_eq!(srv["kind"], "dir");
    assert!(srv["size"].as_u64().unwrap() >= 50_006);
    let (doc, _) = inspect_json(&cache, &[&image_ref, "--find", "srv/*.txt"]);
    let found: Vec<&str> = image(&doc)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["/srv/evil.txt", "/srv/small.txt"]);
    let out = run_ok(gopack(&cache).args(["inspect", &image_ref, "--cat", "/srv/small.txt"]));
    assert_eq!(out.stdout, b"hello\n");
    let out = run_ok(gopack(&cache).args(["inspect", &image_ref, "--cat", "srv/evil.txt"]));
    assert!(
        !out.stdout.contains(&0x1b),
        "escape sequences reach the terminal"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "title\\x1b]0;pwned\\x07\\x1b[2J\n"
    );
    let out = run_ok(gopack(&cache).args([
        "inspect",
        &image_ref,
        "--cat",
        "/srv/big.bin",
        "--cat-limit",
        "100",
    ]));
    assert!(out.stdout.len() < 100 * 4 + 2);
    let out = gopack(&cache)
        .args(["inspect", &image_ref, "--cat", "/nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nope is not in the image"));
}

#[test]
fn diff_shows_reused_layers_pull_bytes_config_and_binary_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    let dir = testdata("hello");
    fs::create_dir_all(&out).unwrap();
    let old = build(
        &cache,
        &dir,
        &out.join("old"),
        "old",
        &["--env", "MODE=old"],
    );
    let new = build(
        &cache,
        &dir,
        &out.join("new"),
        "new",
        &[
            "--env",
            "MODE=new",
            "--ldflags",
            "-X main.unused=1",
            "--tags",
            "extra",
        ],
    );
    let (d, code) = inspect_json(&cache, &[&old, &new]);
    assert_eq!(code, 0);
    assert_eq!(d["schema"], "gopack.inspect-diff/v1");
    let layers = &d["layers"];
    assert_eq!(layers["reused"].as_array().unwrap().len(), 1, "{layers:#}");
    let added = layers["added"].as_array().unwrap();
    assert_eq!(added.len(), 1);
    assert!(layers["pull_bytes"].as_u64().unwrap() > added[0][1].as_u64().unwrap());
    let changed: Vec<&str> = d["files"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["/usr/local/bin/hello"], "{:#}", d["files"]);
    let env = d["config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "env")
        .unwrap();
    assert!(env["new"].as_str().unwrap().contains("MODE=new"));
    let b = &d["go_binaries"][0];
    assert_eq!(b["status"], "changed");
    assert!(
        b["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[0] == "-tags"),
        "{b:#}"
    );
    // Each kind of noise has its switch.
    let (d, _) = inspect_json(&cache, &[&old, &new, "--ignore", "timestamps,labels"]);
    let fields: Vec<&str> = d["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        !fields
            .iter()
            .any(|f| *f == "created" || f.starts_with("labels.")),
        "{fields:?}"
    );
    let text = run_ok(gopack(&cache).args(["inspect", &old, &new]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 reused, 1 new"), "{text}");
}

#[test]
fn gates_fail_with_exit_1_and_pass_with_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let image_ref = build(
        &cache,
        &testdata("needs/tlsclient"),
        &tmp.path().join("out"),
        "v1",
        &["--certs=no"],
    );
    let run = |dir: &Path, args: &[&str]| {
        gopack(&cache)
            .current_dir(dir)
            .args(["inspect", &image_ref])
            .args(args)
            .output()
            .unwrap()
    };
    let plain = tmp.path().join("plain");
    fs::create_dir_all(&plain).unwrap();
    // A report alone exits 0 even with findings.
    assert_eq!(run(&plain, &[]).status.code(), Some(0));
    // --ci with nothing configured: dive's thresholds and error findings (IMG401 is one).
    let out = run(&plain, &["--ci"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Result:FAIL"));
    // A .dive-ci file is read as dive reads it.
    let dive_dir = tmp.path().join("dive");
    fs::create_dir_all(&dive_dir).unwrap();
    fs::write(
        dive_dir.join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 1KB\n",
    )
    .unwrap();
    let (doc, code) = inspect_json(
        &cache,
        &[
            &image_ref,
            "--ci",
            "--ci-config",
            &dive_dir.join(".dive-ci").display().to_string(),
        ],
    );
    assert_eq!(code, 1, "error findings still fail: {:#}", doc["gate"]);
    assert!(
        doc["gate"]["config"]
            .as_str()
            .unwrap()
            .ends_with(".dive-ci")
    );
    // gopack.toml [inspect] wins; ignoring the rule by path passes.
    let toml_dir = tmp.path().join("toml");
    fs::create_dir_all(&toml_dir).unwrap();
    fs::write(
        toml_dir.join("gopack.toml"),
        "[inspect]\nfail-on = [\"error\"]\nignore-paths = [\"/usr/local/bin/*\"]\n",
    )
    .unwrap();
    let out = run(&toml_dir, &["--ci"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // gopack.toml is read by the one parser every verb uses: an unknown key in [inspect], or
    // anywhere else in the file, is a usage error naming its line and the valid keys.
    for (toml, line, key, valid) in [
        (
            "[inspect]\nfail-on = [\"error\"]\nignore-path = [\"/x\"]\n",
            "line 3",
            "ignore-path",
            "`ignore-paths`",
        ),
        (
            "[defaults]\nusr = \"1\"\n[inspect]\nfail-on = [\"error\"]\n",
            "line 2",
            "usr",
            "`user`",
        ),
    ] {
        fs::write(toml_dir.join("gopack.toml"), toml).unwrap();
        let out = run(&toml_dir, &["--ci"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(line) && err.contains(&format!("unknown field `{key}`")),
            "{err}"
        );
        assert!(err.contains(valid), "{err}");
    }
    // --max-size and --fail-on by rule.
    assert_eq!(run(&plain, &["--max-size", "1kB"]).status.code(), Some(1));
    assert_eq!(run(&plain, &["--max-size", "1GB"]).status.code(), Some(0));
    assert_eq!(
        run(&plain, &["--fail-on", "go-missing-ca-bundle"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(run(&plain, &["--fail-on", "IMG101"]).status.code(), Some(0));
    // Usage errors exit 2.
    assert_eq!(run(&plain, &["--fail-on", "IMG999"]).status.code(), Some(2));
    assert_eq!(run(&plain, &["--max-size", "lots"]).status.code(), Some(2));
}

#[test]
fn json_sarif_and_junit_validate() {
    if !require_tool("check-jsonschema") || !require_tool("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let image_ref = build(
        &cache,
        &testdata("needs/tlsclient"),
        &tmp.path().join("out"),
        "v1",
        &["--certs=no"],
    );
    let write = |name: &str, args: &[&str]| {
        let out = gopack(&cache)
            .args(["inspect", &image_ref])
            .args(args)
            .output()
            .unwrap();
        let path = tmp.path().join(name);
        fs::write(&path, &out.stdout).unwrap();
        path
    };
    let json = write("report.json", &["--json", "--files", "--fail-on", "error"]);
    let schema = repo_root().join("src/inspect/inspect-v1.schema.json");
    run_ok(
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema)
            .arg(&json),
    );
    let sarif = write("report.sarif", &["--format", "sarif"]);
    run_ok(
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(testdata("dockerfiles/sarif-schema-2.1.0.json"))
            .arg(&sarif),
    );
    let s: serde_json::Value = serde_json::from_slice(&fs::read(&sarif).unwrap()).unwrap();
    assert!(
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "IMG401")
    );
    let junit = write("report.xml", &["--format", "junit"]);
    let check = run_ok(Command::new("python3").arg("-c").arg(
        "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); \
         f = [c.get('name') for c in r.iter('testcase') if c.find('failure') is not None]; print(r.get('failures'), f)",
    ).arg(&junit));
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.starts_with("1 ") && text.contains("IMG401"), "{text}");
}

#[test]
fn platforms_of_an_index_are_chosen_like_everywhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let image_ref = build(
        &cache,
        &testdata("hello"),
        &tmp.path().join("out"),
        "multi",
        &["--platform", "linux/amd64,linux/arm64"],
    );
    let platforms = |args: &[&str]| {
        let mut all = vec![image_ref.as_str()];
        all.extend_from_slice(args);
        let (doc, code) = inspect_json(&cache, &all);
        assert_eq!(code, 0, "{doc:#}");
        doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let arch = i["platform"].as_str().unwrap().to_string();
                // The binary is built for the image's platform: no IMG408.
                assert!(findings(i, "IMG408").is_empty(), "{arch}");
                arch
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(platforms(&["--platform", "linux/arm64"]), ["linux/arm64"]);
    assert_eq!(platforms(&["--platform", "all"]).len(), 2);
    let host = if cfg!(target_arch = "aarch64") {
        "linux/arm64"
    } else {
        "linux/amd64"
    };
    assert_eq!(platforms(&[]), [host]);
    let out = inspect(&cache, &[&image_ref, "--platform", "linux/s390x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("linux/arm64"));
}

#[test]
fn secrets_in_env_are_findings_and_never_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let image_ref = build(
        &cache,
        &testdata("hello"),
        &tmp.path().join("out"),
        "v1",
        &[
            "--env",
            &format!("GITHUB={token}"),
            "--env",
            "DB_PASSWORD=hunter2",
            "--env",
            "DB_PASSWORD_FILE=/run/secrets/db",
        ],
    );
    let (doc, _) = inspect_json(&cache, &[&image_ref]);
    let im = image(&doc);
    assert_eq!(findings(im, "IMG103").len(), 2, "{:#}", im["findings"]);
    let env = im["config"]["env"].to_string();
    assert!(env.contains("DB_PASSWORD_FILE=/run/secrets/db"), "{env}");
    for format in [
        &["--json"][..],
        &[][..],
        &["--format", "sarif"][..],
        &["--format", "junit"][..],
    ] {
        let mut args = vec![image_ref.as_str()];
        args.extend_from_slice(format);
        let out = inspect(&cache, &args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains(token) && !text.contains("hunter2"),
            "{format:?}: {text}"
        );
    }
}

#[test]
fn a_user_name_the_image_cannot_resolve_is_an_error_under_umoci() {
    if !root_and(&["umoci"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = UmociImage::new(tmp.path(), "u");
    fs::create_dir_all(img.rootfs().join("etc")).unwrap();
    fs::write(
        img.rootfs().join("etc/passwd"),
        "root:x:0:0::/root:/sbin/nologin\n",
    )
    .unwrap();
    img.layer("passwd");
    img.config(&["--config.user", "app:staff"]);
    let (doc, _) = inspect_json(&tmp.path().join("cache"), &[&img.reference()]);
    let f = findings(image(&doc), "IMG102");
    assert_eq!(f.len(), 2, "{doc:#}");
    assert!(
        f.iter()
            .any(|f| f["message"].as_str().unwrap().contains("user `app`"))
    );
    assert!(
        f.iter()
            .any(|f| f["message"].as_str().unwrap().contains("group `staff`"))
    );
}
