//! Runtime needs read from real binaries built here from `testdata/needs/` by the machine's Go.

use crate::needs_support;

use std::collections::BTreeSet;

use gopack::binary::needs::{self, Effect, NEED_SIGNALS, NeedsReport, RuntimeNeed};
use gopack::binary::pclntab;
use needs_support::{AMD64, AMD64_STRIPPED, Flavor, built};

fn report(program: &str, flavor: Flavor) -> NeedsReport {
    let bytes = std::fs::read(built(program, flavor)).unwrap();
    needs::needs_of_binary(&bytes).unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// (need, causing function) pairs of a stripped amd64 build.
fn needs_of(program: &str) -> Vec<(RuntimeNeed, String)> {
    report(program, AMD64_STRIPPED)
        .needs
        .into_iter()
        .map(|n| (n.need, n.function))
        .collect()
}

fn functions(program: &str, flavor: Flavor) -> Vec<pclntab::Function> {
    pclntab::parse_elf(&std::fs::read(built(program, flavor)).unwrap())
        .unwrap()
        .functions
}

#[test]
fn tls_client_needs_ca_certificates_only() {
    assert_eq!(
        needs_of("tlsclient"),
        [(
            RuntimeNeed::CaCertificates,
            "crypto/x509.loadSystemRoots".to_owned()
        )]
    );
    // net/http links time.loadLocation (time.Local honours $TZ), but not time.LoadLocation:
    // that must not count as a zoneinfo need.
    let names: BTreeSet<String> = functions("tlsclient", AMD64_STRIPPED)
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(names.contains("time.loadLocation"));
    assert!(!names.contains("time.LoadLocation"));
}

#[test]
fn load_location_needs_zoneinfo() {
    assert_eq!(
        needs_of("tzload"),
        [(RuntimeNeed::Zoneinfo, "time.LoadLocation".to_owned())]
    );
}

#[test]
fn embedded_tzdata_meets_the_zoneinfo_need() {
    let r = report("tzembed", AMD64_STRIPPED);
    assert!(r.needs.is_empty(), "{:?}", r.needs);
    assert_eq!(r.satisfied_in_binary.len(), 1);
    assert_eq!(r.satisfied_in_binary[0].need, RuntimeNeed::Zoneinfo);
    assert_eq!(
        r.satisfied_in_binary[0].function,
        "time/tzdata.loadFromEmbeddedTZData"
    );
}

#[test]
fn user_current_needs_the_user_database() {
    assert_eq!(
        needs_of("userdb"),
        [(RuntimeNeed::UserDatabase, "os/user.current".to_owned())]
    );
    // user.Lookup and user.LookupId try user.Current first, so os/user.current is linked too.
    assert_eq!(
        needs_of("userlookups"),
        [(RuntimeNeed::UserDatabase, "os/user.current".to_owned())]
    );
}

#[test]
fn pure_compute_needs_nothing() {
    let r = report("compute", AMD64_STRIPPED);
    assert!(
        r.needs.is_empty() && r.satisfied_in_binary.is_empty(),
        "{r:?}"
    );
    assert!(r.functions_scanned > 1000);
}

#[test]
fn temp_files_and_dirs_need_tmp() {
    assert_eq!(
        needs_of("tempfile"),
        [(RuntimeNeed::TempDir, "os.CreateTemp".to_owned())]
    );
    assert_eq!(
        needs_of("tempdir"),
        [(RuntimeNeed::TempDir, "os.MkdirTemp".to_owned())]
    );
}

#[test]
fn stripping_and_architecture_do_not_change_needs() {
    for program in ["tlsclient", "tzload", "tzembed", "userdb"] {
        let amd64 = report(program, AMD64_STRIPPED);
        assert_eq!(
            report(program, AMD64),
            amd64,
            "{program}: -s changed the needs"
        );
        let arm64 = report(
            program,
            Flavor {
                goarch: "arm64",
                stripped: true,
            },
        );
        assert_eq!(arm64.needs, amd64.needs, "{program}: arm64 differs");
        assert_eq!(
            arm64.satisfied_in_binary, amd64.satisfied_in_binary,
            "{program}: arm64 differs"
        );
    }
}

#[test]
fn detect_needs_takes_functions_or_names() {
    let funcs = functions("tzload", AMD64);
    let from_functions = needs::detect_needs(&funcs);
    let names: Vec<&str> = funcs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(needs::detect_needs(&names), from_functions);
    assert_eq!(from_functions, report("tzload", AMD64).needs);
    // Exact names only: a longer or shorter name is a different function.
    assert!(
        needs::detect_needs(&[
            "crypto/x509.loadSystemRootsX",
            "time.LoadLocationFromTZData",
            "os.CreateTem"
        ])
        .is_empty()
    );
}

/// The table is not guessed: every function in it is linked in at least one test program.
#[test]
fn every_table_function_is_linked_in_a_test_program() {
    let programs = [
        "tlsclient",
        "tzload",
        "tzembed",
        "userdb",
        "userlookups",
        "compute",
        "tempfile",
        "tempdir",
    ];
    let mut linked = BTreeSet::new();
    for p in programs {
        linked.extend(functions(p, AMD64_STRIPPED).into_iter().map(|f| f.name));
    }
    for signal in NEED_SIGNALS {
        assert!(
            linked.contains(signal.function),
            "{} ({:?}) is in no test binary",
            signal.function,
            signal.need
        );
    }
    // Each need has a rule that requires it.
    for need in RuntimeNeed::ALL {
        assert!(
            NEED_SIGNALS
                .iter()
                .any(|s| s.need == need && s.effect == Effect::Requires)
        );
    }
}

#[test]
fn needs_of_a_non_go_file_is_an_error() {
    let err = needs::needs_of_binary(&std::fs::read(std::env::current_exe().unwrap()).unwrap())
        .unwrap_err();
    assert_eq!(err, pclntab::PclntabError::NotFound);
}

#[test]
fn report_serializes_with_stable_names() {
    let json = serde_json::to_value(report("tzembed", AMD64_STRIPPED)).unwrap();
    assert_eq!(json["needs"], serde_json::json!([]));
    assert_eq!(json["satisfied_in_binary"][0]["need"], "zoneinfo");
    assert_eq!(
        json["satisfied_in_binary"][0]["function"],
        "time/tzdata.loadFromEmbeddedTZData"
    );
}

#[test]
fn needs_of_file_reads_only_the_table_and_agrees() {
    for program in ["tlsclient", "tzembed", "compute"] {
        let path = built(program, AMD64_STRIPPED);
        assert_eq!(
            needs::needs_of_file(&path).unwrap(),
            report(program, AMD64_STRIPPED),
            "{program}"
        );
    }
    let missing = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-binary");
    let err = needs::needs_of_file(&missing).unwrap_err();
    assert!(matches!(err, needs::NeedsError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot read "), "{err}");
}
