use super::*;

const MANIFESTS: &str = "\
# the api
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api   # inline comment
spec:
  template:
    spec:
      containers:
        - name: api
          image: &api gopack://example.com/m/cmd/api
        - name: sidecar
          image: \"ko://example.com/m/cmd/sidecar\"
---
kind: Job
spec:
  images: [ 'gopack://example.com/m/cmd/api', other:1.0 ]
  same: *api
  text: \"not gopack://example.com/m/cmd/api\"
";

fn images() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "example.com/m/cmd/api".to_string(),
            "r:5000/api@sha256:aa".to_string(),
        ),
        (
            "example.com/m/cmd/sidecar".to_string(),
            "r:5000/sidecar@sha256:bb".to_string(),
        ),
    ])
}

#[test]
fn references_are_found_in_every_document_and_style() {
    let found = find(MANIFESTS, "k.yaml").unwrap();
    let packages: Vec<(&str, &str, usize)> = found
        .iter()
        .map(|f| (f.package.as_str(), f.scheme, f.line))
        .collect();
    assert_eq!(
        packages,
        [
            ("example.com/m/cmd/api", "gopack://", 11),
            ("example.com/m/cmd/sidecar", "ko://", 13),
            ("example.com/m/cmd/api", "gopack://", 17),
        ]
    );
}

#[test]
fn only_the_references_change() {
    let found = find(MANIFESTS, "k.yaml").unwrap();
    let out = substitute(MANIFESTS, &found, &images());
    let expected = MANIFESTS
        .replace(
            "&api gopack://example.com/m/cmd/api",
            "&api r:5000/api@sha256:aa",
        )
        .replace(
            "\"ko://example.com/m/cmd/sidecar\"",
            "\"r:5000/sidecar@sha256:bb\"",
        )
        .replace("'gopack://example.com/m/cmd/api'", "'r:5000/api@sha256:aa'");
    assert_eq!(out, expected);
    assert!(out.contains("\"not gopack://example.com/m/cmd/api\""));
}

#[test]
fn block_scalars_and_bad_yaml_are_refused_with_the_place() {
    let e = find("a:\n  image: |\n    gopack://x/cmd/a\n", "b.yaml").unwrap_err();
    assert!(
        e.to_string().contains("b.yaml line 3") && e.to_string().contains("block scalar"),
        "{e}"
    );
    let e = find("a: [unclosed\n", "c.yaml").unwrap_err();
    assert!(e.to_string().contains("c.yaml: not valid YAML"), "{e}");
    let e = find("image: gopack://\n", "d.yaml").unwrap_err();
    assert!(e.to_string().contains("does not name a package"), "{e}");
}

#[test]
fn multibyte_text_before_a_reference_keeps_offsets_right() {
    let text = "# café ☕\nimage: gopack://example.com/m/cmd/api # ünïcode\n";
    let found = find(text, "u.yaml").unwrap();
    let out = substitute(text, &found, &images());
    assert_eq!(out, "# café ☕\nimage: r:5000/api@sha256:aa # ünïcode\n");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, timeout: 2000, ..ProptestConfig::default() })]
        /// Any input gives an answer (never a panic), and substituting nothing is the identity.
        #[test]
        fn any_text_is_handled(text in "(\\PC|\\n|[:\\-'\"&*#\\[\\]{}|>]){0,200}") {
            if let Ok(found) = find(&text, "p.yaml") {
                prop_assert_eq!(substitute(&text, &found, &BTreeMap::new()), text.clone());
                for f in &found {
                    prop_assert!(text.get(f.range.clone()).is_some());
                }
            }
        }
    }
}
