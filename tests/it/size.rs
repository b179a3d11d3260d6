//! `gopack size`: every byte in one bucket, checked on binaries of many shapes, against
//! `go tool nm -size`, and through the command line (tables, JSON, Markdown, diff, budgets,
//! --why, go:embed, variants).

use std::collections::HashMap;
use std::path::Path;

use gopack::binary::attribution::{Part, SymbolKind, attribute};
use gopack::binary::layout::read_layout;
use gopack::binary::symbols::package_of;
use gopack::size::report::{SizeReport, report_file};

use crate::common::{gopack, repo_root, run_fail, run_ok};
use crate::size_support::{all_binaries, go_build, have_cc, nm_sizes};

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn buckets_sum_to_the_file_size_on_every_test_binary() {
    for (label, path) in all_binaries() {
        let data = read(&path);
        let a = attribute(&data, &[]).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            a.total(),
            data.len() as u64,
            "{label}: buckets do not add up"
        );
        for s in &a.sections {
            assert_eq!(
                s.attributed + s.remainder + s.overlapped,
                s.file_size,
                "{label} {}",
                s.name
            );
            if s.memory_only {
                assert_eq!(s.file_size, 0, "{label}: {} is NOBITS", s.name);
            }
        }
        assert!(a.sources.pclntab_functions > 1000, "{label}");
        assert!(a.symbols.iter().any(|s| s.name == "main.main"), "{label}");
        // The report built on it keeps the same sum.
        let r = report_file(&path, &[]).unwrap();
        let t = &r.totals;
        assert_eq!(
            t.owners + t.linker_symbols + t.section_remainders + t.headers + t.padding,
            t.file_size,
            "{label}"
        );
        let packages: u64 = r.packages.iter().map(|p| p.size).sum();
        assert_eq!(packages, t.owners + t.linker_symbols, "{label}");
        assert!(
            t.owner_share > 50.0,
            "{label}: only {:.1}% attributed",
            t.owner_share
        );
    }
}

#[test]
fn a_stripped_binary_names_its_data_through_an_unstripped_twin() {
    use crate::needs_support::{AMD64, AMD64_STRIPPED, built};
    use gopack::binary::attribution::attribute_with_twin;
    let stripped = read(&built("tlsclient", AMD64_STRIPPED));
    let twin = read(&built("tlsclient", AMD64));
    let alone = attribute(&stripped, &[]).unwrap();
    let with = attribute_with_twin(&stripped, &[], Some(&twin)).unwrap();
    assert_eq!(with.total(), stripped.len() as u64);
    assert!(with.sources.twin_symbols > 1000, "{:?}", with.sources.notes);
    let data = |a: &gopack::binary::attribution::Attribution| -> u64 {
        a.symbols.iter().map(|s| s.bytes[Part::Data as usize]).sum()
    };
    assert_eq!(data(&alone), 0);
    assert!(data(&with) > 100_000, "{}", data(&with));
    // A twin of another program is refused, with the reason.
    let other = read(&built("compute", AMD64));
    let refused = attribute_with_twin(&stripped, &[], Some(&other)).unwrap();
    assert_eq!(refused.sources.twin_symbols, 0);
    assert!(
        refused
            .sources
            .notes
            .iter()
            .any(|n| n.starts_with("unstripped twin not used")),
        "{:?}",
        refused.sources.notes
    );
}

#[test]
fn memory_only_sections_own_no_bytes_even_when_huge() {
    // crypto/internal/fips140/drbg has a 32 MiB .noptrbss array in every TLS program: gsa
    // counted such arrays as file bytes (#522).
    let path = crate::needs_support::built("tlsclient", crate::needs_support::AMD64);
    let data = read(&path);
    let layout = read_layout(&data).unwrap();
    let bss: u64 = layout
        .sections
        .iter()
        .filter(|s| s.nobits)
        .map(|s| s.mem_size)
        .sum();
    assert!(
        bss > 32 << 20,
        "expected the drbg array in .noptrbss: {bss}"
    );
    let a = attribute(&data, &[]).unwrap();
    let biggest = a.symbols.iter().map(|s| s.total()).max().unwrap();
    assert!(biggest < data.len() as u64 / 5, "{biggest}");
    assert_eq!(a.total(), data.len() as u64);
}

#[test]
fn stripped_and_unstripped_twins_give_functions_the_same_code_bytes() {
    use crate::needs_support::{AMD64, AMD64_STRIPPED, built};
    let code = |p: &Path| -> HashMap<String, u64> {
        let a = attribute(&read(p), &[]).unwrap();
        a.symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Function && s.bytes[Part::Code as usize] > 0)
            .map(|s| (s.name.clone(), s.bytes[Part::Code as usize]))
            .collect()
    };
    let full = code(&built("tlsclient", AMD64));
    let stripped = code(&built("tlsclient", AMD64_STRIPPED));
    assert_eq!(full.len(), stripped.len());
    for (name, bytes) in &stripped {
        assert_eq!(full.get(name), Some(bytes), "{name}");
    }
}

/// Package totals (code + data) against `go tool nm -size` of the unstripped binary, over the
/// symbols that take file space. Ours may be larger by the alignment padding between functions
/// (a function's bytes run to the next entry; nm's size stops at its last instruction), so the
/// tolerance is one-sided: 0 ≤ ours − nm ≤ 6 % of nm + 256 bytes.
#[test]
fn package_totals_match_go_tool_nm_of_the_unstripped_twin() {
    let path = go_build("hello", "hello", &[], &[]);
    let data = read(&path);
    let layout = read_layout(&data).unwrap();
    let file_backed = |addr: u64| layout.offset_of(addr).is_some();
    let mut nm: HashMap<String, u64> = HashMap::new();
    for (addr, size, _kind, name) in nm_sizes(&path) {
        if size == 0 || !file_backed(addr) {
            continue;
        }
        if let Some(p) = package_of(&name) {
            *nm.entry(p).or_default() += size;
        }
    }
    let r = report_file(&path, &[]).unwrap();
    let ours: HashMap<&str, u64> = r
        .packages
        .iter()
        .map(|p| (p.path.as_str(), p.code + p.data))
        .collect();
    let mut top: Vec<(&String, &u64)> = nm.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1));
    for (pkg, &theirs) in top.into_iter().take(20) {
        let mine = ours.get(pkg.as_str()).copied().unwrap_or(0);
        let slack = theirs * 6 / 100 + 256;
        assert!(
            mine + 64 >= theirs && mine <= theirs + slack,
            "{pkg}: ours {mine}, go tool nm {theirs}"
        );
    }
}

#[test]
fn cgo_code_is_attributed_from_symtab_and_dwarf() {
    if !have_cc() {
        return;
    }
    let path = go_build("size/cgo", "cgo", &[("CGO_ENABLED", "1")], &[]);
    let r = report_file(&path, &[]).unwrap();
    assert!(r.binary.cgo_units > 0, "no C compile unit read from DWARF");
    let c = r
        .symbols
        .iter()
        .find(|s| s.name == "gopack_size_checksum")
        .expect("the C function of the preamble is a symbol");
    assert_eq!(c.kind, SymbolKind::Cgo);
    assert!(c.package.starts_with("cgo:"), "{}", c.package);
    let cgo = r
        .modules
        .iter()
        .find(|m| m.path == "cgo")
        .expect("a cgo module");
    assert!(cgo.size > 1000);
}

fn report_json(args: &[&str], cwd: &Path) -> SizeReport {
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        gopack(cache.path())
            .current_dir(cwd)
            .arg("size")
            .args(args)
            .arg("--json"),
    );
    serde_json::from_slice(&out.stdout).expect("size --json is a report")
}

#[test]
fn go_embed_files_are_attributed_to_the_embedding_package() {
    let dir = repo_root().join("testdata/size/embed");
    let r = report_json(&["."], &dir);
    assert_eq!(r.binary.path, "example.com/sizeembed");
    assert!(
        r.binary.stripped,
        "size PKG builds as gopack build does (-s)"
    );
    assert_eq!((r.binary.embeds_found, r.binary.embeds_named), (3, 3));
    let main = r.packages.iter().find(|p| p.path == "main").unwrap();
    let expected: u64 = ["notice.txt", "static/app.css", "static/app.js"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .sum();
    assert_eq!(main.embed, expected);
    assert!(
        r.symbols
            .iter()
            .any(|s| s.name == "embed:main/static/app.js" && s.kind == SymbolKind::Embed)
    );
}

#[test]
fn text_markdown_and_levels() {
    let path = go_build("hello", "hello", &[], &[]);
    let cache = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = run_ok(gopack(cache.path()).arg("size").arg(&path).args(args));
        String::from_utf8(out.stdout).unwrap()
    };
    let packages = run(&["--top", "5"]);
    assert!(packages.contains("runtime"), "{packages}");
    assert!(
        packages.contains("attributed to code owners:"),
        "{packages}"
    );
    assert!(
        packages.contains("file size (sum of the above)"),
        "{packages}"
    );
    let modules = run(&["--by", "module"]);
    assert!(modules.lines().any(|l| l.starts_with("std ")), "{modules}");
    let symbols = run(&["--by", "symbol", "--top", "3"]);
    assert_eq!(
        symbols.lines().take_while(|l| !l.is_empty()).count(),
        1 + 1 + 3,
        "{symbols}"
    );
    let sections = run(&["--by", "section", "--top", "0"]);
    assert!(
        sections.contains(".gopclntab") && !sections.contains(".noptrbss"),
        "{sections}"
    );
    let md = run(&["--format", "markdown", "--top", "3"]);
    assert!(md.starts_with("### Size of"), "{md}");
    assert!(md.contains("|---|---:|"), "{md}");
}

#[test]
fn diff_of_two_binaries_names_modules_packages_and_symbols() {
    let old = go_build("hello", "hello", &[], &[]);
    let new = go_build("withdep", "withdep", &[], &[]);
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(
        gopack(cache.path())
            .arg("size")
            .arg(&old)
            .arg(&new)
            .arg("--json"),
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |level: &str, name: &str| {
        d[level]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing from {level}"))
    };
    assert_eq!(find("modules", "github.com/google/uuid")["kind"], "add");
    assert_eq!(find("packages", "github.com/google/uuid")["kind"], "add");
    assert_eq!(find("packages", "net/http")["kind"], "remove");
    assert_eq!(
        find("symbols", "github.com/google/uuid.NewSHA1")["kind"],
        "add"
    );
    let text = run_ok(
        gopack(cache.path())
            .arg("size")
            .arg(&old)
            .arg(&new)
            .args(["--format", "markdown"]),
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("### Binary size:"), "{text}");
    for level in ["**By module**", "**By package**", "**By symbol**"] {
        assert!(text.contains(level), "{text}");
    }
}

#[test]
fn budgets_fail_with_the_top_contributors_and_pass_within_limits() {
    let old = go_build("needs/compute", "compute", &[], &[]);
    let new = go_build("hello", "hello", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A JSON report as the baseline.
    let baseline = run_ok(gopack(cache.path()).arg("size").arg(&old).arg("--json"));
    std::fs::write(dir.path().join("base.json"), &baseline.stdout).unwrap();
    std::fs::write(
        dir.path().join("gopack.toml"),
        "[size]\nmax = \"100MB\"\nmax_growth = \"2%\"\nbaseline = \"base.json\"\n",
    )
    .unwrap();
    let out = gopack(cache.path())
        .current_dir(dir.path())
        .arg("size")
        .arg(&new)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("over the allowed growth of 2%"), "{stderr}");
    assert!(
        stderr.contains("grew most:") && stderr.contains("net/http"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("gopack.toml"), "[size]\nmax = \"2MB\"\n").unwrap();
    let (code, stderr) = run_fail(
        gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&new),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("over the budget of 2.00 MB"), "{stderr}");

    // Within limits; a binary as the baseline on the command line.
    std::fs::write(
        dir.path().join("gopack.toml"),
        "[size]\nmax = \"100MB\"\nmax_growth = \"2%\"\n",
    )
    .unwrap();
    let ok = run_ok(
        gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&new)
            .arg("--baseline")
            .arg(&new),
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("size budget: ok"));

    // A bad gopack.toml is a usage error (exit 2), as for every verb.
    std::fs::write(dir.path().join("gopack.toml"), "[size]\nmax = \"huge\"\n").unwrap();
    let (code, stderr) = run_fail(
        gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&new),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("[size]") && stderr.contains("not a size"),
        "{stderr}"
    );
}

/// `gopack size` reads gopack.toml through the one parser (as build, plan and lint do): an
/// unknown key in `[size]` gets the error every table gets (line, column, the valid keys; exit
/// 2), and so does one anywhere else in the file — the file is one config, and an invalid one
/// stops every verb that reads it, before anything is measured.
#[test]
fn size_reads_gopack_toml_through_the_one_parser() {
    let bin = go_build("hello", "hello", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let file = dir.path().canonicalize().unwrap().join("gopack.toml");
    let size = |toml: &str| {
        std::fs::write(&file, toml).unwrap();
        let out = gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&bin)
            .output()
            .unwrap();
        let shared = gopack::config::ConfigFile::parse(toml, &file)
            .unwrap_err()
            .to_string();
        (out, shared)
    };
    let (out, shared) = size("[size]\nmax = \"100MB\"\nmaxx = 1\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "nothing measured");
    assert!(err.contains(&shared), "{err}\nshould hold\n{shared}");
    assert!(
        err.contains("line 3") && err.contains("unknown field `maxx`"),
        "{err}"
    );
    assert!(err.contains("`max_growth`"), "{err}");

    let (out, shared) = size("[defaults]\nusr = \"1\"\n\n[size]\nmax = \"100MB\"\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&shared), "{err}\nshould hold\n{shared}");
    assert!(
        err.contains("line 2") && err.contains("unknown field `usr`"),
        "{err}"
    );
    assert!(err.contains("`user`"), "{err}");
}

#[test]
fn why_prints_the_shortest_import_chain() {
    let dir = repo_root().join("testdata/withdep");
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(gopack(cache.path()).current_dir(&dir).args([
        "size",
        ".",
        "--top",
        "1",
        "--why",
        "crypto/sha1",
    ]));
    let text = String::from_utf8(out.stdout).unwrap();
    // The answer only, not the size table before it.
    assert!(text.trim_start().starts_with("why crypto/sha1"), "{text}");
    let chain: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("why crypto/sha1"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(
        chain,
        vec![
            "example.com/withdep",
            "github.com/google/uuid",
            "crypto/sha1"
        ],
        "{text}"
    );
    let (code, stderr) = run_fail(gopack(cache.path()).current_dir(&dir).args([
        "size",
        ".",
        "--why",
        "github.com/aws/aws-sdk-go-v2",
    ]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("does not import github.com/aws/aws-sdk-go-v2"),
        "{stderr}"
    );
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let (code, stderr) = run_fail(gopack(cache.path()).arg("size").arg(&text));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("neither an ELF binary"), "{stderr}");

    let hello = read(&go_build("hello", "hello", &[], &[]));
    let truncated = dir.path().join("truncated");
    std::fs::write(&truncated, &hello[..hello.len() / 3]).unwrap();
    let (code, stderr) = run_fail(gopack(cache.path()).arg("size").arg(&truncated));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (code, stderr) = run_fail(
        gopack(cache.path())
            .arg("size")
            .arg(dir.path().join("none.bin")),
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("error:"), "{stderr}");

    let json = dir.path().join("bad.json");
    std::fs::write(&json, "{\"schema\": 1}").unwrap();
    let (code, stderr) = run_fail(gopack(cache.path()).arg("size").arg(&json));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not a `gopack size --json` report"),
        "{stderr}"
    );
}

#[test]
fn variants_tabulate_file_gzip_and_zstd_bytes() {
    let dir = repo_root().join("testdata/hello");
    let cache = tempfile::tempdir().unwrap();
    let out = run_ok(gopack(cache.path()).current_dir(&dir).args([
        "size",
        ".",
        "--variants",
        "--json",
        "--cgo",
        "off",
    ]));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let get = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {rows:?}"))
            .clone()
    };
    let file = |name: &str| {
        get(name)["file"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} failed: {:?}", get(name)))
    };
    assert!(file("-s -w") < file("default"));
    assert!(file("-s") < file("default"));
    assert!(
        file("+time/tzdata") > file("default"),
        "tzdata adds ~450 kB"
    );
    for r in &rows {
        if let (Some(f), Some(g), Some(z)) =
            (r["file"].as_u64(), r["gzip"].as_u64(), r["zstd"].as_u64())
        {
            assert!(g < f && z < f, "{r}");
        }
    }
    assert!(
        get("gopack build")["command"]
            .as_str()
            .unwrap()
            .contains("-trimpath")
    );
    assert!(
        get("GOAMD64=v3")["command"]
            .as_str()
            .unwrap()
            .contains("GOAMD64=v3")
    );
}

/// `[size] baseline` may be an image: the Go binary of the same name inside it (or its only
/// one) is the baseline, read from the image as inspect reads it.
#[test]
fn an_image_is_a_size_baseline() {
    // Built as gopack builds it, so it matches the binary in the image within 2 %.
    let small = go_build(
        "needs/compute",
        "compute-stripped",
        &[],
        &["-trimpath", "-ldflags=-s"],
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // The baseline image holds the small program; the binary measured is hello.
    let layout = dir.path().join("released");
    run_ok(
        gopack(cache.path())
            .current_dir(repo_root().join("testdata/needs/compute"))
            .args(["build", ".", "-q", "-o"])
            .arg(format!("oci:{}:v1", layout.display())),
    );
    let hello = go_build("hello", "hello", &[], &[]);
    std::fs::write(
        dir.path().join("gopack.toml"),
        "[size]\nmax_growth = \"2%\"\nbaseline = \"oci:released:v1\"\n",
    )
    .unwrap();
    let (code, stderr) = run_fail(
        gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&hello),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("over the allowed growth of 2%"), "{stderr}");
    // The same program as in the image: within budget.
    let ok = run_ok(
        gopack(cache.path())
            .current_dir(dir.path())
            .arg("size")
            .arg(&small),
    );
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("size budget: ok"),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
