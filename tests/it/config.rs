//! gopack.toml end to end: precedence (flag > env > [[target]] > [defaults]) as `gopack plan`
//! shows it and as the image gets it, errors with the line and the valid keys, templates,
//! the JSON schema against check-jsonschema, and `gopack init` (from the plan, and from three
//! real .ko.yaml files recorded in testdata/koyaml/SOURCES.md).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("config-cache")
}

fn gp(cwd: &Path) -> Command {
    let mut cmd = gopack(&cache());
    cmd.current_dir(cwd)
        .env_remove("GOPACK_REPO")
        .env_remove("GOPACK_BASE")
        .env_remove("GOFLAGS")
        .env("GOENV", "off");
    cmd
}

/// testdata/multi copied to a temp dir, with `toml` as its gopack.toml.
fn multi_with(toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    std::fs::write(tmp.path().join("gopack.toml"), toml).unwrap();
    tmp
}

const CONFIG: &str = r#"
[defaults]
user = "1:1"
labels = { team = "core", tier = "backend" }
ports = [9090]

[[target]]
package = "./cmd/api"
user = "1000:1000"
ports = [8080, "53/udp"]
labels = { tier = "edge" }
env = { GREETING = "hi {{.Env.WHO}}" }
"#;

#[test]
fn plan_shows_where_each_setting_came_from() {
    let tmp = multi_with(CONFIG);
    let out = run_ok(gp(tmp.path()).env("WHO", "you").args(["plan", "./..."]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("user 1000:1000 (from gopack.toml [[target]] api)"),
        "{text}"
    );
    assert!(
        text.contains("user 1:1 (from gopack.toml [defaults])"),
        "{text}"
    );
    assert!(
        text.contains(
            "labels team=core tier=edge (from gopack.toml [[target]] api, gopack.toml [defaults])"
        ),
        "{text}"
    );
    // A flag beats the target, an environment variable beats the target too.
    let out = run_ok(
        gp(tmp.path())
            .env("WHO", "you")
            .env("GOPACK_BASE", "scratch")
            .args(["plan", "./...", "--user", "2:2"]),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("user 2:2 (from --user)"), "{text}");
    assert!(text.contains("base scratch (from $GOPACK_BASE)"), "{text}");
    assert!(!text.contains("user 1000:1000"), "{text}");
}

#[test]
fn each_target_gets_its_own_settings_in_the_image() {
    let tmp = multi_with(CONFIG);
    let out_dir = tmp.path().join("out");
    let out = run_ok(gp(tmp.path()).env("WHO", "you").args([
        "build",
        "./...",
        "--json",
        "-o",
        &format!("oci:{}", out_dir.display()),
    ]));
    let built: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = built["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "worker"]);
    let config = |name: &str| {
        skopeo_inspect(&format!("oci:{}:{name}", out_dir.display()), &["--config"])["config"]
            .clone()
    };
    let api = config("api");
    assert_eq!(api["User"], "1000:1000");
    assert_eq!(api["Labels"]["tier"], "edge");
    assert_eq!(api["Labels"]["team"], "core");
    assert!(api["ExposedPorts"]["8080/tcp"].is_object());
    assert!(api["ExposedPorts"]["53/udp"].is_object());
    assert!(
        api["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("GREETING=hi you")),
        "{api}"
    );
    let worker = config("worker");
    assert_eq!(worker["User"], "1:1");
    assert_eq!(worker["Labels"]["tier"], "backend");
    assert!(worker["ExposedPorts"]["9090/tcp"].is_object());
}

#[test]
fn unknown_keys_and_wrong_types_name_the_line_and_the_valid_keys() {
    let tmp = multi_with("[defaults]\nuser = \"1:1\"\nusr = \"2\"\n");
    let (code, err) = run_fail(gp(tmp.path()).arg("build"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gopack.toml is not valid"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("unknown field `usr`"), "{err}");
    assert!(
        err.contains("`user`") && err.contains("`platforms`"),
        "{err}"
    );

    std::fs::write(
        tmp.path().join("gopack.toml"),
        "[[target]]\npackage = \"./cmd/api\"\nports = \"8080\"\n",
    )
    .unwrap();
    let (code, err) = run_fail(gp(tmp.path()).arg("plan"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 3"), "{err}");

    std::fs::write(tmp.path().join("gopack.toml"), "[lint]\nignore = 3\n").unwrap();
    let (code, err) = run_fail(gp(tmp.path()).arg("plan"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 2") && err.contains("sequence"), "{err}");
}

#[test]
fn templates_fill_from_git_and_the_environment_or_say_why_not() {
    let tmp = multi_with(
        "[defaults]\nldflags = [\"-X main.v={{.Git.Tag}} -X main.c={{.Git.ShortCommit}}\"]\n",
    );
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(tmp.path()),
        )
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    git(&["tag", "v1.4.0"]);
    let commit = String::from_utf8(git(&["rev-parse", "--short=7", "HEAD"]).stdout).unwrap();
    let out = run_ok(gp(tmp.path()).args(["plan", "./cmd/api", "--json"]));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let go_build = plan["targets"][0]["go_build"].as_str().unwrap();
    assert!(
        go_build.contains(&format!("-X main.v=v1.4.0 -X main.c={}", commit.trim())),
        "{go_build}"
    );

    std::fs::write(
        tmp.path().join("gopack.toml"),
        "[defaults]\nenv = { A = \"{{.Env.GOPACK_TEST_UNSET}}\" }\n",
    )
    .unwrap();
    let (code, err) = run_fail(gp(tmp.path()).env_remove("GOPACK_TEST_UNSET").arg("plan"));
    assert_eq!(code, 2);
    assert!(
        err.contains("[defaults] env") && err.contains("GOPACK_TEST_UNSET is not set"),
        "{err}"
    );
}

#[test]
fn lint_reads_its_table_through_the_one_parser() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("Dockerfile"), "FROM golang:1.22\n").unwrap();
    std::fs::write(
        tmp.path().join("gopack.toml"),
        "[lint]\nignroe = [\"GO106\"]\n",
    )
    .unwrap();
    let (code, err) = run_fail(gp(tmp.path()).args(["lint", "Dockerfile"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown field `ignroe`") && err.contains("`ignore`"),
        "{err}"
    );
}

/// The samples the schema must accept (and one it must refuse).
const SAMPLES: &[(&str, &str, bool)] = &[
    ("full.toml", CONFIG, true),
    (
        "every-table.toml",
        "[defaults]\nbase = \"scratch\"\nplatforms = [\"linux/amd64\"]\nfiles = { tz = \"yes\" }\n\
         sbom = [\"spdx\"]\ncgo = \"off\"\n[[target]]\npackage = \"./cmd/a\"\nname = \"a\"\n\
         [lint]\nignore = [\"GO106\"]\nfailure-threshold = \"warning\"\n[lint.severity]\n\
         GO103 = \"info\"\n[inspect]\nlowest-efficiency = 0.9\nmax-size = \"50MB\"\n\
         [size]\nmax = \"12MB\"\nmax_growth = \"2%\"\n",
        true,
    ),
    ("typo.toml", "[defaults]\nusr = \"1\"\n", false),
    (
        "bad-type.toml",
        "[defaults]\nplatforms = \"linux/amd64\"\n",
        false,
    ),
];

#[test]
fn the_json_schema_matches_what_gopack_reads_under_check_jsonschema() {
    if !require_tool("check-jsonschema") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(gp(tmp.path()).args(["init", "--schema"]));
    let schema = tmp.path().join("gopack.schema.json");
    std::fs::write(&schema, &out.stdout).unwrap();
    // The committed copy editors point at is the generated one.
    let committed: Value =
        serde_json::from_slice(&std::fs::read(repo_root().join("gopack.schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        committed,
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        "gopack.schema.json is stale: gopack init --schema > gopack.schema.json"
    );
    for (name, text, valid) in SAMPLES {
        let file = tmp.path().join(name);
        std::fs::write(&file, text).unwrap();
        let check = tool("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            check.status.success(),
            *valid,
            "{name}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
        // gopack agrees with the schema.
        let ours = gopack::config::ConfigFile::parse(text, &file);
        assert_eq!(ours.is_ok(), *valid, "{name}: {ours:?}");
    }
}

#[test]
fn init_writes_a_file_gopack_reads_and_keeps_an_existing_one() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&testdata("multi"), tmp.path());
    let out = run_ok(gp(tmp.path()).arg("init"));
    let path = tmp.path().join("gopack.toml");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "./gopack.toml"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("package = \"./cmd/api\""), "{text}");
    assert!(text.contains("package = \"./cmd/worker\""), "{text}");
    // With no argument, build and plan take the targets of the file.
    let out = run_ok(gp(tmp.path()).args(["plan", "--json"]));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["images"].as_array().unwrap().len(), 2, "{plan}");
    let (code, err) = run_fail(gp(tmp.path()).arg("init"));
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

fn convert(file: &str) -> (gopack::config::ConfigFile, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_ok(
        gp(tmp.path())
            .args(["init", "--stdout", "--from"])
            .arg(repo_root().join("testdata/koyaml").join(file)),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let notes = String::from_utf8(out.stderr).unwrap();
    let parsed = gopack::config::ConfigFile::parse(&text, Path::new("gopack.toml"))
        .unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
    (parsed, notes)
}

#[test]
fn init_from_prow_ko_yaml_merges_base_overrides_into_builds() {
    let (file, notes) = convert("prow.ko.yaml");
    let deck = file
        .targets
        .iter()
        .find(|t| t.package == "./cmd/deck")
        .expect("builds[deck]");
    assert_eq!(
        deck.base.as_deref(),
        Some("gcr.io/k8s-staging-test-infra/git-custom-k8s-auth:v20260512-1f34ef0df3")
    );
    assert_eq!(
        deck.ldflags.as_deref().unwrap(),
        [
            "-X sigs.k8s.io/prow/pkg/version.Version={{.Env.VERSION}}",
            "-X sigs.k8s.io/prow/pkg/version.Name=deck"
        ]
    );
    // Overrides without a build keep their import path as the package.
    assert!(file.targets.iter().any(|t| {
        t.package == "sigs.k8s.io/prow/test/integration/cmd/fakepubsub"
            && t.base.as_deref() == Some("google/cloud-sdk:389.0.0")
    }));
    // One note per kind of change, naming every build it applies to.
    assert_eq!(notes.matches("-s/-w dropped").count(), 1, "{notes}");
    assert!(notes.contains("builds[admission], builds[mkpj]"), "{notes}");
}

#[test]
fn init_from_monaco_ko_yaml_converts_flags_and_names_what_it_cannot() {
    let (file, notes) = convert("dynatrace-monaco.ko.yaml");
    assert_eq!(file.defaults.base.as_deref(), Some("alpine:3.23"));
    assert_eq!(
        file.defaults.platforms.as_deref().unwrap(),
        ["linux/arm64", "linux/amd64"]
    );
    let t = &file.targets[0];
    assert_eq!(t.package, "./cmd/monaco");
    assert_eq!(t.build_tags.as_deref().unwrap(), ["netgo"]);
    assert!(notes.contains("defaultAppDirectory"), "{notes}");
    assert!(notes.contains("flag -a dropped"), "{notes}");
    assert!(notes.contains("-extldflags '-static'"), "{notes}");
}

#[test]
fn init_from_mtg_ko_yaml_keeps_go_flags_it_cannot_fold() {
    let (file, notes) = convert("mtg.ko.yaml");
    let t = &file.targets[0];
    assert_eq!(t.package, ".");
    assert_eq!(t.flags.as_deref().unwrap(), ["-mod=readonly"]);
    assert_eq!(
        t.ldflags.as_deref().unwrap(),
        ["-X main.version={{.Env.VERSION}}"]
    );
    assert!(
        !notes.contains("trimpath"),
        "-trimpath is gopack's own: {notes}"
    );
}

/// The first fenced block of `lang` after `heading` in README.md.
fn readme_block(heading: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = &readme[readme.find(heading).expect(heading)..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a fenced block") + fence.len();
    let len = section[start..].find("```").unwrap();
    section[start..start + len].to_string()
}

/// The README's gopack.toml reference is a file gopack reads (every key in it is real), and its
/// GitHub Actions matrix example is a valid workflow (check-jsonschema's vendored schema).
#[test]
fn the_readme_examples_are_what_gopack_and_github_accept() {
    let toml = readme_block("### gopack.toml", "toml");
    let parsed = gopack::config::ConfigFile::parse(&toml, Path::new("README.md"));
    let file = parsed.unwrap_or_else(|e| panic!("README's gopack.toml: {e}"));
    assert_eq!(file.targets.len(), 2);
    assert!(file.lint.is_some() && file.inspect.is_some() && file.size.is_some());
    let workflow = readme_block("## Many binaries, monorepos and CI", "yaml");
    assert!(
        workflow.contains("--shard ${{ matrix.shard }}/3"),
        "{workflow}"
    );
    assert!(workflow.contains("gopack resolve -f"), "{workflow}");
    if !require_tool("check-jsonschema") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("images.yml");
    std::fs::write(&file, &workflow).unwrap();
    let check = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `sbom` in gopack.toml attaches SBOMs as `--sbom` does, and plan says where it came from;
/// the metadata file lists the referrer of each platform manifest.
#[test]
fn sbom_in_gopack_toml_attaches_referrers() {
    let tmp = multi_with("[defaults]\nsbom = [\"spdx\"]\n\n[[target]]\npackage = \"./cmd/api\"\n");
    let out = run_ok(gp(tmp.path()).args(["plan", "./cmd/api"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("sbom spdx (from gopack.toml [defaults])"),
        "{text}"
    );
    let meta = tmp.path().join("meta.json");
    let out = run_ok(gp(tmp.path()).args([
        "build",
        "./cmd/api",
        "--json",
        "--metadata-file",
        meta.to_str().unwrap(),
        "-o",
        &format!("oci:{}", tmp.path().join("out").display()),
    ]));
    let built: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sboms = &built["images"][0]["platforms"][0]["sboms"];
    assert_eq!(sboms[0]["format"], "spdx", "{built}");
    let meta: Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    assert_eq!(
        meta["targets"][0]["platforms"][0]["referrers"][0], sboms[0]["digest"],
        "{meta}"
    );
}
