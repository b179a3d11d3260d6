//! Property tests: the reference parser and the parsers of registry answers never panic, and
//! references that print round-trip.

use gopack::registry::{
    Reference, TokenResponse, parse_challenge, parse_manifest_document, parse_range_end,
    parse_retry_after, registry_message,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn reference_parser_never_panics(s in ".{0,300}") {
        let _ = s.parse::<Reference>();
    }

    #[test]
    fn reference_parser_never_panics_on_reference_like_text(
        s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,120}"
    ) {
        if let Ok(r) = s.parse::<Reference>() {
            // What prints parses back to the same reference.
            let again: Reference = r.to_string().parse().unwrap();
            prop_assert_eq!(again, r);
        }
    }

    #[test]
    fn valid_references_round_trip(
        host in "(localhost|[a-z]{1,10}\\.[a-z]{2,5}|127\\.0\\.0\\.1)(:[0-9]{1,5})?",
        repo in "[a-z0-9]{1,8}((\\.|_|__|-+)[a-z0-9]{1,8}){0,2}(/[a-z0-9]{1,8}){0,3}",
        tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,20}"),
        digest in proptest::option::of("[0-9a-f]{64}"),
    ) {
        let mut text = format!("{host}/{repo}");
        if let Some(t) = &tag { text.push(':'); text.push_str(t); }
        if let Some(d) = &digest { text.push_str("@sha256:"); text.push_str(d); }
        let r: Reference = text.parse().unwrap();
        prop_assert_eq!(&r.registry, &host);
        prop_assert_eq!(&r.repository, &repo);
        prop_assert_eq!(&r.tag, &tag);
        prop_assert_eq!(r.to_string(), text);
    }

    #[test]
    fn challenge_parser_never_panics(s in ".{0,300}") {
        let _ = parse_challenge(&s);
    }

    #[test]
    fn challenge_parser_finds_quoted_params(realm in "[ -~]{0,40}", service in "[a-z.]{1,20}") {
        let escaped = realm.replace('\\', "\\\\").replace('"', "\\\"");
        let header = format!("Bearer realm=\"{escaped}\", service=\"{service}\"");
        let c = parse_challenge(&header).unwrap();
        prop_assert_eq!(c.scheme, "bearer");
        prop_assert_eq!(&c.params["realm"], &realm);
        prop_assert_eq!(&c.params["service"], &service);
    }

    #[test]
    fn response_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = registry_message(&bytes);
        let _ = TokenResponse::parse(&bytes);
        let _ = parse_manifest_document(&bytes, None);
        let _ = parse_manifest_document(&bytes, Some("application/vnd.oci.image.index.v1+json"));
        let _ = parse_retry_after(&String::from_utf8_lossy(&bytes));
        let _ = parse_range_end(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn json_shaped_answers_never_panic(s in "\\{(\"(errors|manifests|config|mediaType|schemaVersion|token)\":(\\[|\\{|1|\"x\"|null|\\]|\\}|,)*){0,4}\\}?") {
        let _ = registry_message(s.as_bytes());
        let _ = TokenResponse::parse(s.as_bytes());
        let _ = parse_manifest_document(s.as_bytes(), None);
    }
}

#[test]
fn registry_messages_quote_the_registry() {
    assert_eq!(
        registry_message(
            br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#
        ),
        "BLOB_UNKNOWN: blob unknown to registry"
    );
    assert_eq!(
        registry_message(b"<html>\n bad   gateway</html>"),
        "<html> bad gateway</html>"
    );
    assert_eq!(registry_message(b""), "no explanation in the response");
    assert_eq!(
        TokenResponse::parse(br#"{"access_token":"t","expires_in":300}"#),
        Some(("t".into(), 300))
    );
    assert!(
        parse_manifest_document(br#"{"schemaVersion":1,"fsLayers":[]}"#, None)
            .unwrap_err()
            .contains("schema 1")
    );
}
