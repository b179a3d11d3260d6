use super::*;

const MIT: &str = include_str!("../licences/MIT.txt");
const APACHE: &str = include_str!("../licences/Apache-2.0.txt");

fn ids(v: FileVerdict) -> Vec<String> {
    match v {
        FileVerdict::Identified(ids) => ids,
        other => panic!("expected identified, got {other:?}"),
    }
}

fn closest(v: FileVerdict) -> Option<String> {
    match v {
        FileVerdict::Unrecognised { closest } => closest,
        other => panic!("expected unrecognised, got {other:?}"),
    }
}

#[test]
fn every_template_is_recognised_as_itself() {
    for (id, text) in TEMPLATES {
        let text = text
            .replace("<year>", "2024")
            .replace("<copyright holders>", "Ada Lovelace")
            .replace("<owner>", "Ada Lovelace");
        assert_eq!(ids(classify(&text)), [*id], "{id}");
    }
}

#[test]
fn common_real_world_forms() {
    let mit = MIT
        .replace("MIT License\n", "The MIT License (MIT)\n")
        .replace(
            "<year> <copyright holders>",
            "2014-2020 Jane Doe <jane@example.com>",
        );
    assert_eq!(ids(classify(&mit)), ["MIT"]);
    let appendix = APACHE.find("APPENDIX").unwrap();
    assert_eq!(ids(classify(&APACHE[..appendix])), ["Apache-2.0"]);
    let notice = "Copyright 2021 in-toto Developers\n\n".to_string()
        + include_str!("../licences/Apache-2.0-notice.txt");
    assert_eq!(ids(classify(&notice)), ["Apache-2.0"]);
    // Go's own licence: BSD-3-Clause naming Google, wrapped at 70 columns.
    let go = "Copyright 2009 The Go Authors.\n\nRedistribution and use in source and binary forms, with or without\nmodification, are permitted provided that the following conditions are\nmet:\n\n   * Redistributions of source code must retain the above copyright\nnotice, this list of conditions and the following disclaimer.\n   * Redistributions in binary form must reproduce the above\ncopyright notice, this list of conditions and the following disclaimer\nin the documentation and/or other materials provided with the\ndistribution.\n   * Neither the name of Google LLC nor the names of its\ncontributors may be used to endorse or promote products derived from\nthis software without specific prior written permission.\n\nTHIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS\n\"AS IS\" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT\nLIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR\nA PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT\nOWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,\nSPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT\nLIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,\nDATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY\nTHEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT\n(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE\nOF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\n";
    assert_eq!(ids(classify(go)), ["BSD-3-Clause"]);
    // Without the third clause it is the 2-clause licence.
    let start = go.find("   * Neither").unwrap();
    let end = go.find("THIS SOFTWARE").unwrap();
    let two = format!("{}{}", &go[..start], &go[end..]);
    assert_eq!(ids(classify(&two)), ["BSD-2-Clause"]);
}

#[test]
fn a_wrapped_line_starting_with_copyright_notice_is_licence_text() {
    // go-spew's ISC licence wraps so a line starts with "copyright notice": that line is
    // part of the terms (without it the text reads as 0BSD).
    let isc = "ISC License\n\nCopyright (c) 2012-2016 Dave Collins <dave@davec.name>\n\nPermission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee is hereby granted, provided that the above\ncopyright notice and this permission notice appear in all copies.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\" AND THE AUTHOR DISCLAIMS ALL WARRANTIES\nWITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF\nMERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR\nANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\nWHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN\nACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF\nOR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.\n";
    assert_eq!(ids(classify(isc)), ["ISC"]);
}

#[test]
fn near_variants_pick_the_right_member_of_the_family() {
    assert_eq!(
        ids(classify(include_str!("../licences/MIT-0.txt"))),
        ["MIT-0"]
    );
    assert_eq!(
        ids(classify(include_str!("../licences/JSON.txt"))),
        ["JSON"]
    );
    assert_eq!(
        ids(classify(include_str!("../licences/0BSD.txt"))),
        ["0BSD"]
    );
    assert_eq!(
        ids(classify(include_str!("../licences/GPL-3.0.txt"))),
        ["GPL-3.0-only"]
    );
    assert_eq!(
        ids(classify(include_str!("../licences/AGPL-3.0.txt"))),
        ["AGPL-3.0-only"]
    );
    let lgpl_with_gpl = format!(
        "{}\n{}",
        include_str!("../licences/LGPL-3.0.txt"),
        include_str!("../licences/GPL-3.0.txt")
    );
    assert_eq!(ids(classify(&lgpl_with_gpl)), ["LGPL-3.0-only"]);
}

#[test]
fn added_terms_make_a_text_unrecognised_not_the_licence_it_resembles() {
    let evil = MIT.replace(
        "THE SOFTWARE IS PROVIDED",
        "This software may not be used by any military organisation or contractor.\n\nTHE SOFTWARE IS PROVIDED",
    );
    assert_eq!(closest(classify(&evil)).as_deref(), Some("MIT"));
    assert_eq!(closest(classify("All of this is mine. Do not copy.")), None);
    assert_eq!(closest(classify("")), None);
}

#[test]
fn several_licences_in_one_file_are_all_found_in_order() {
    let both = format!("{APACHE}\n\n----\n\nCopyright (c) 2020 X\n\n{MIT}");
    assert_eq!(ids(classify(&both)), ["Apache-2.0", "MIT"]);
}

#[test]
fn spdx_identifier_lines_are_taken_as_written() {
    assert_eq!(
        ids(classify("// SPDX-License-Identifier: MIT OR Apache-2.0\n")),
        ["MIT OR Apache-2.0"]
    );
    // Not an expression: the text is classified instead.
    assert_eq!(closest(classify("SPDX-License-Identifier: ((\n")), None);
}

#[test]
fn licence_file_names() {
    for yes in [
        "LICENSE",
        "LICENCE.md",
        "license.txt",
        "COPYING",
        "COPYING.LESSER",
        "LICENSE-APACHE",
        "LICENSE-MIT",
        "UNLICENSE",
        "LICENSE.code",
        "License.rst",
        "MIT-LICENSE.txt",
        "LICENSE_THIRD_PARTY",
    ] {
        assert!(is_licence_file_name(yes), "{yes}");
    }
    for no in [
        "license.go",
        "license_test.go",
        "README.md",
        "licenses",
        "LICENSE.go",
        "NOTICE",
        "mylicense",
    ] {
        assert!(!is_licence_file_name(no), "{no}");
    }
}

#[test]
fn module_cache_lookup_escapes_paths_and_reads_every_licence_file() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("github.com/!burnt!sushi/toml@v1.4.0");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("LICENSE"), MIT).unwrap();
    std::fs::write(dir.join("COPYING.extra"), "Use it only on Tuesdays.").unwrap();
    std::fs::write(dir.join("license.go"), "package toml").unwrap();
    let finder = LicenceFinder::new(Some(cache.path().to_path_buf()));
    let licence = finder.module("github.com/BurntSushi/toml", "v1.4.0");
    assert_eq!(licence.identifiers(), ["MIT"]);
    let unknown = licence.unrecognised();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].name, "COPYING.extra");
    assert_eq!(unknown[0].text.as_deref(), Some("Use it only on Tuesdays."));
    assert_eq!(
        finder.module("github.com/BurntSushi/toml", "v9.9.9"),
        Licence::NotInCache
    );
    assert_eq!(
        finder.module("example.com/app", "(devel)"),
        Licence::NotInCache
    );
    let empty = cache.path().join("example.com/empty@v1.0.0");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(
        finder.module("example.com/empty", "v1.0.0"),
        Licence::NoFile
    );
    assert_eq!(
        LicenceFinder::new(None).module("a.b/c", "v1.0.0"),
        Licence::NotInCache
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, timeout: 2000, ..Default::default() })]
    /// Any text is classified without panicking and quickly, and a known licence with
    /// arbitrary text around it is never called something else.
    #[test]
    fn classify_is_total_and_bounded(noise in "\\PC{0,3000}") {
        let start = std::time::Instant::now();
        let _ = classify(&noise);
        let v = classify(&format!("{noise}\n{MIT}"));
        proptest::prop_assert!(start.elapsed() < std::time::Duration::from_secs(1));
        if let FileVerdict::Identified(ids) = v {
            proptest::prop_assert!(ids.iter().all(|i| i == "MIT" || i.contains(' ') || TEMPLATES.iter().any(|(t, _)| t == i)));
        }
    }
}

#[test]
fn terms_added_after_the_licence_make_it_unrecognised_but_titles_and_notes_do_not() {
    let bsd = include_str!("../licences/BSD-3-Clause.txt");
    let restricted = format!(
        "{bsd}\nThis software may not be used by any organisation whose name starts with Q.\n"
    );
    assert_eq!(
        closest(classify(&restricted)).as_deref(),
        Some("BSD-3-Clause")
    );
    let titled = format!(
        "BSD 3-Clause License\n\n{bsd}\n\nSee https://example.com/project for the sources.\n"
    );
    assert_eq!(ids(classify(&titled)), ["BSD-3-Clause"]);
}
