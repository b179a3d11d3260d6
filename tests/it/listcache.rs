//! The `go list` answer cache (issue 15): an edit inside a function body reuses the answer, so
//! the edit loop runs only `go build`; an edit that changes what `go list` reads (imports, cgo
//! files and `#cgo` lines, embed patterns and embedded files) is seen by the very next command.

use crate::common;

use std::io::Read;
use std::path::Path;

use common::*;
use serde_json::Value;

fn plan(cache: &Path, dir: &Path) -> Value {
    let out = run_ok(gopack(cache).current_dir(dir).args(["plan", "--json"]));
    serde_json::from_slice(&out.stdout).expect("plan --json prints JSON")
}

fn answers(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("golist")).map_or(0, |d| d.count())
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn cgo_package(plan: &Value) -> &Value {
    &plan["cgo"]["packages"][0]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_function_body_edit_reuses_the_go_list_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    plan(&cache, &src);
    assert_eq!(answers(&cache), 1);
    edit(&src.join("main.go"), "\"ok\\n\"", "\"ok, edited\\n\"");
    edit(
        &src.join("main.go"),
        "return fallback",
        "return fallback + \"\"",
    );
    plan(&cache, &src);
    assert_eq!(
        answers(&cache),
        1,
        "a body edit must not need a new go list answer"
    );
}

#[test]
fn copies_of_a_module_in_two_places_never_share_an_answer() {
    // `gopack dockerfile . --main .` asks go list in the relative directory `.`: the key must
    // still tell the copies apart, since the answer holds absolute package directories.
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    for name in ["a", "b"] {
        let src = tmp.path().join(name);
        copy_tree(&testdata("hello"), &src);
        run_ok(gopack(&cache).current_dir(&src).args([
            "dockerfile",
            ".",
            "--main",
            ".",
            "--force",
        ]));
        let p = plan(&cache, &src);
        let dir = p["images"][0]["dir"].as_str().unwrap().to_string();
        assert!(
            Path::new(&dir).ends_with(name),
            "the plan for {name} names {dir}"
        );
    }
}

#[test]
fn import_and_cgo_edits_are_seen_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let main = src.join("main.go");
    let first = plan(&cache, &src);
    assert!(!strings(&first["cgo"]["std_packages"]).contains(&"os/user".to_string()));

    edit(&main, "\"os\"\n", "\"os\"\n\t_ \"os/user\"\n");
    let p = plan(&cache, &src);
    assert!(
        strings(&p["cgo"]["std_packages"]).contains(&"os/user".to_string()),
        "a new import is seen at once: {}",
        p["cgo"]
    );

    edit(
        &main,
        "import (",
        "// #cgo LDFLAGS: -lm\n// static int one(void) { return 1; }\nimport \"C\"\n\nimport (",
    );
    edit(&main, "func main() {", "var _ = C.one\n\nfunc main() {");
    let p = plan(&cache, &src);
    assert_eq!(
        p["cgo"]["mode"], "static",
        "import \"C\" in an existing file"
    );
    assert_eq!(strings(&cgo_package(&p)["libraries"]), ["m"]);

    edit(&main, "-lm", "-lm -lz");
    let p = plan(&cache, &src);
    assert_eq!(
        strings(&cgo_package(&p)["libraries"]),
        ["m", "z"],
        "a changed #cgo line is seen at once"
    );

    std::fs::write(src.join("extra.c"), "int two(void) { return 2; }\n").unwrap();
    let p = plan(&cache, &src);
    assert_eq!(
        strings(&cgo_package(&p)["native_files"]),
        ["extra.c"],
        "a new C file is seen at once"
    );
}

#[test]
fn embed_patterns_and_new_embedded_files_are_seen_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    copy_tree(&testdata("hello"), &src);
    let cache = tmp.path().join("cache");
    let layout = tmp.path().join("out");
    let build = || {
        run_ok(gopack(&cache).current_dir(&src).args([
            "build",
            "-q",
            "-o",
            &format!("oci:{}", layout.display()),
        ]))
    };
    std::fs::create_dir(src.join("static")).unwrap();
    std::fs::write(src.join("static/a.txt"), "marker-a-5f1c").unwrap();
    std::fs::write(
        src.join("assets.go"),
        "package main\n\nimport \"embed\"\n\n//go:embed static\nvar assets embed.FS\n\nfunc init() { _, _ = assets.ReadFile(\"static/a.txt\") }\n",
    )
    .unwrap();
    build();
    assert!(contains(&binary_of(&layout), b"marker-a-5f1c"));

    std::fs::write(src.join("static/b.txt"), "marker-b-93e0").unwrap();
    build();
    assert!(
        contains(&binary_of(&layout), b"marker-b-93e0"),
        "a new file under an embedded directory is in the very next image"
    );

    edit(
        &src.join("assets.go"),
        "//go:embed static",
        "//go:embed static missing.txt",
    );
    let (_, stderr) = run_fail(gopack(&cache).current_dir(&src).args([
        "build",
        "-o",
        &format!("oci:{}", layout.display()),
    ]));
    assert!(
        stderr.contains("missing.txt"),
        "a new embed pattern is checked at once:\n{stderr}"
    );
    std::fs::write(src.join("missing.txt"), "marker-c-0b7d").unwrap();
    build();
    assert!(contains(&binary_of(&layout), b"marker-c-0b7d"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The binary from the top layer of the single image in an OCI layout.
fn binary_of(layout: &Path) -> Vec<u8> {
    let json = |digest: &str| -> Value {
        let path = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = json(index["manifests"][0]["digest"].as_str().unwrap());
    let layer = manifest["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let blob = std::fs::File::open(layout.join("blobs/sha256").join(layer)).unwrap();
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(blob));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().starts_with("usr/local/bin") && entry.header().size().unwrap() > 0
        {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("no binary in the top layer of {}", layout.display());
}
