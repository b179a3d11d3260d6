//! cgo detection with the machine's Go (`CGO_ENABLED=1 go list -deps -json`) on real modules:
//! `testdata/cgo/twocgo` (three cgo modules from the module proxy) and `testdata/cgo/stdhttp`
//! (standard library only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gopack::config::GoEnv;
use gopack::project::ProjectError;
use gopack::project::cgo::{CgoQuery, CgoReport, alternatives_for, detect_cgo};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/cgo")
        .join(name)
}

fn goenv() -> GoEnv {
    GoEnv::read().expect("go is installed")
}

/// `require` lines of a go.mod: module path → version.
fn required_versions(dir: &Path) -> BTreeMap<String, String> {
    let gomod = std::fs::read_to_string(dir.join("go.mod")).unwrap();
    gomod
        .lines()
        .map(|l| l.trim().trim_start_matches("require").trim())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (path, version) = (words.next()?, words.next()?);
            version
                .starts_with('v')
                .then(|| (path.to_owned(), version.to_owned()))
        })
        .collect()
}

#[test]
fn module_with_cgo_dependencies_names_each_package_and_module() {
    let dir = testdata("twocgo");
    let report = detect_cgo(&goenv(), &dir, &["."], &CgoQuery::default()).unwrap();
    assert!(report.needs_cgo);
    assert!(report.runtime_cgo_in_deps);

    let required = required_versions(&dir);
    assert_eq!(required.len(), 3, "{required:?}");
    let named: BTreeMap<String, (String, Option<String>)> = report
        .packages
        .iter()
        .map(|p| {
            let m = p.module.as_ref().expect("module");
            assert!(!m.main && m.replaced_by.is_none());
            (p.import_path.clone(), (m.path.clone(), m.version.clone()))
        })
        .collect();
    // Each cgo module is one package here, and each is named with its module and version.
    let expected: BTreeMap<String, (String, Option<String>)> = required
        .iter()
        .map(|(path, v)| (path.clone(), (path.clone(), Some(v.clone()))))
        .collect();
    assert_eq!(named, expected);

    let pkg = |path: &str| {
        report
            .packages
            .iter()
            .find(|p| p.import_path == path)
            .unwrap()
    };
    let sqlite = pkg("github.com/mattn/go-sqlite3");
    assert!(sqlite.cgo_files.iter().any(|f| f == "sqlite3.go"));
    assert!(
        sqlite.native_files.iter().any(|f| f == "sqlite3-binding.c"),
        "{:?}",
        sqlite.native_files
    );
    assert!(
        sqlite.libraries.contains(&"dl".to_owned()),
        "{:?}",
        sqlite.libraries
    );
    let alts: Vec<&str> = sqlite
        .alternatives
        .iter()
        .map(|a| a.module.as_str())
        .collect();
    assert_eq!(
        alts,
        ["modernc.org/sqlite", "github.com/ncruces/go-sqlite3"]
    );

    let zmq = pkg("github.com/pebbe/zmq4");
    assert_eq!(zmq.pkg_config, ["libzmq"]);
    assert_eq!(zmq.alternatives[0].module, "github.com/go-zeromq/zmq4");

    let zstd = pkg("github.com/DataDog/zstd");
    assert!(!zstd.native_files.is_empty());
    assert_eq!(zstd.alternatives[0].module, "github.com/klauspost/compress");

    // The standard library's own cgo users are listed apart and do not count.
    assert!(
        report.std_packages.contains(&"runtime/cgo".to_owned()),
        "{:?}",
        report.std_packages
    );
    assert!(
        report
            .packages
            .iter()
            .all(|p| !p.import_path.starts_with("runtime/"))
    );
}

#[test]
fn standard_library_http_server_needs_no_cgo() {
    let dir = testdata("stdhttp");
    let report = detect_cgo(&goenv(), &dir, &["."], &CgoQuery::default()).unwrap();
    assert!(!report.needs_cgo, "{report:?}");
    assert!(report.packages.is_empty());
    // net and os/user use cgo when it is on, which pulls in runtime/cgo: still no cgo need.
    assert!(report.runtime_cgo_in_deps);
    for std in ["net", "os/user", "runtime/cgo"] {
        assert!(
            report.std_packages.contains(&std.to_owned()),
            "{std} missing from {:?}",
            report.std_packages
        );
    }
}

#[test]
fn netgo_osusergo_tags_drop_runtime_cgo() {
    let query = CgoQuery {
        tags: vec!["netgo".into(), "osusergo".into()],
        ..CgoQuery::default()
    };
    let report = detect_cgo(&goenv(), &testdata("stdhttp"), &["."], &query).unwrap();
    assert!(!report.runtime_cgo_in_deps, "{report:?}");
    assert!(!report.std_packages.contains(&"net".to_owned()));
}

#[test]
fn cross_target_still_sees_cgo_packages() {
    // With CGO_ENABLED unset, cgo is off when cross-compiling; detection sets it to 1.
    let query = CgoQuery {
        goos: Some("linux".into()),
        goarch: Some("arm64".into()),
        tags: vec![],
    };
    let report = detect_cgo(&goenv(), &testdata("twocgo"), &["."], &query).unwrap();
    assert_eq!(report.packages.len(), 3);
}

#[test]
fn broken_go_mod_fails_with_gos_own_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/broken\n\ngo 1.22\nrequire (\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.go"),
        "package main\n\nfunc main() {}\n",
    )
    .unwrap();
    let err = detect_cgo(&goenv(), dir.path(), &["."], &CgoQuery::default()).unwrap_err();
    let ProjectError::GoFailed { args, stderr, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(args.starts_with("list -deps -json="), "{args}");
    assert!(args.ends_with("(CGO_ENABLED=1)"), "{args}");
    // Go's own diagnostic, verbatim: it names go.mod and the line.
    assert!(stderr.contains("go.mod:"), "{stderr}");
    assert!(err.to_string().contains(stderr.as_str()));
}

#[test]
fn missing_package_fails_with_gos_own_message() {
    let err = detect_cgo(
        &goenv(),
        &testdata("stdhttp"),
        &["./does/not/exist"],
        &CgoQuery::default(),
    )
    .unwrap_err();
    let ProjectError::GoFailed { stderr, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(stderr.contains("does/not/exist"), "{stderr}");
}

#[test]
fn main_module_and_replaced_modules_are_reported() {
    // The shape `go list -json` prints for cgo in the user's own package and in a replaced fork.
    let json = r#"{"ImportPath":"example.com/app/native","Module":{"Path":"example.com/app","Main":true},"CgoFiles":["native.go"],"CgoLDFLAGS":["-L/opt/lib","-l","ssl","-lcrypto","-pthread"]}
{"ImportPath":"github.com/mattn/go-sqlite3","Module":{"Path":"github.com/mattn/go-sqlite3","Version":"v1.14.0","Replace":{"Path":"../sqlite-fork"}},"CgoFiles":["sqlite3.go"],"CFiles":["sqlite3-binding.c"]}
{"ImportPath":"github.com/acme/fork","Module":{"Path":"github.com/acme/fork","Version":"v0.1.0","Replace":{"Path":"github.com/confluentinc/confluent-kafka-go/v2","Version":"v2.6.0"}},"CgoFiles":["kafka.go"]}
{"ImportPath":"runtime/cgo","Standard":true,"CgoFiles":["cgo.go"],"CFiles":["gcc_linux_amd64.c"]}
{"ImportPath":"fmt","Standard":true}"#;
    let report = CgoReport::from_go_list_json(json).unwrap();
    assert!(report.needs_cgo && report.runtime_cgo_in_deps);
    assert_eq!(report.std_packages, ["runtime/cgo"]);
    let paths: Vec<&str> = report
        .packages
        .iter()
        .map(|p| p.import_path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "example.com/app/native",
            "github.com/acme/fork",
            "github.com/mattn/go-sqlite3"
        ]
    );

    let native = &report.packages[0];
    assert!(native.module.as_ref().unwrap().main);
    assert_eq!(native.libraries, ["ssl", "crypto"]);
    assert!(native.alternatives.is_empty());

    let fork = &report.packages[1];
    assert_eq!(
        fork.alternatives.len(),
        3,
        "replacement target's alternatives: {:?}",
        fork.alternatives
    );

    let sqlite = &report.packages[2];
    let m = sqlite.module.as_ref().unwrap();
    assert_eq!(m.version.as_deref(), Some("v1.14.0"));
    let r = m.replaced_by.as_ref().unwrap();
    assert_eq!(
        (r.path.as_str(), r.version.as_deref()),
        ("../sqlite-fork", None)
    );
    assert_eq!(sqlite.alternatives.len(), 2);
}

#[test]
fn bad_go_list_output_is_an_error() {
    let err = CgoReport::from_go_list_json("{\"ImportPath\": 3}").unwrap_err();
    assert!(err.starts_with("bad JSON from go list"), "{err}");
}

#[test]
fn alternatives_match_major_versions_only() {
    assert_eq!(
        alternatives_for("github.com/confluentinc/confluent-kafka-go/v2").len(),
        3
    );
    assert_eq!(
        alternatives_for("github.com/confluentinc/confluent-kafka-go").len(),
        3
    );
    assert!(alternatives_for("github.com/confluentinc/confluent-kafka-go-extra").is_empty());
    assert!(alternatives_for("github.com/confluentinc/confluent-kafka-go/vx").is_empty());
    assert!(alternatives_for("github.com/confluentinc/confluent-kafka-go/v").is_empty());
}

#[test]
fn report_json_shape_is_stable() {
    let report = detect_cgo(&goenv(), &testdata("twocgo"), &["."], &CgoQuery::default()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "needs_cgo",
            "runtime_cgo_in_deps",
            "packages",
            "std_packages"
        ]
    );
    let pkg = &json["packages"][0];
    let keys: Vec<&str> = pkg
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "import_path",
            "module",
            "cgo_files",
            "native_files",
            "pkg_config",
            "libraries",
            "alternatives"
        ]
    );
    let module: Vec<&str> = pkg["module"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(module, ["path", "version", "main", "replaced_by"]);
    let alt: Vec<&str> = pkg["alternatives"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(alt, ["module", "note"]);
}
