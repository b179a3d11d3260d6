//! Properties of the parsers of untrusted registry input — image references, docker
//! `config.json`, `WWW-Authenticate` challenges, token answers, error bodies, manifests,
//! `Range` and `Retry-After` — each case within a time budget: what parses means what it says,
//! what does not parse is an error that quotes no secret, and nothing panics.
//!
//! `GOPACK_FUZZ_CASES=N` runs N cases per property instead of the default (for longer runs;
//! BENCHMARKS.md records them).

use std::time::{Duration, Instant};

use base64::Engine as _;
use gopack::registry::{
    Credential, Reference, TokenResponse, parse_challenge, parse_config, parse_manifest_document,
    parse_range_end, parse_retry_after, registry_message,
};
use gopack::text::printable;
use proptest::prelude::*;

/// Longest one case may take (inputs are at most a few hundred KiB; linear parsers take
/// microseconds; the margin is for a loaded 2-core machine).
const CASE_BUDGET: Duration = Duration::from_millis(500);

fn cases() -> u32 {
    std::env::var("GOPACK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < CASE_BUDGET, "{what} took {took:?}");
    out
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// One `auths` entry of a generated config file: what it holds and how it is written.
#[derive(Clone, Debug)]
enum Entry {
    Auth(String, String),
    UserPassword(String, String),
    IdentityToken(String),
    Empty,
    /// Malformed in one of the ways seen in the wild, carrying a secret that must not leak.
    Bad(u8, String),
}

fn entry() -> impl Strategy<Value = Entry> {
    let text = "[ -~]{1,30}";
    prop_oneof![
        ("[a-zA-Z0-9_.@-]{1,20}", text).prop_map(|(u, p)| Entry::Auth(u, p)),
        ("[a-zA-Z0-9_.@-]{1,20}", text).prop_map(|(u, p)| Entry::UserPassword(u, p)),
        "[a-zA-Z0-9._-]{1,40}".prop_map(Entry::IdentityToken),
        Just(Entry::Empty),
        (0u8..6, "[a-zA-Z0-9]{12,30}").prop_map(|(k, s)| Entry::Bad(k, format!("SECRET{s}"))),
    ]
}

impl Entry {
    fn json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Entry::Auth(u, p) => json!({ "auth": b64(&format!("{u}:{p}")) }),
            Entry::UserPassword(u, p) => json!({ "username": u, "password": p }),
            Entry::IdentityToken(t) => json!({ "identitytoken": t }),
            Entry::Empty => json!({}),
            Entry::Bad(kind, secret) => match kind {
                0 => json!(secret),
                1 => json!({ "auth": format!("!{secret}") }),
                2 => json!({ "auth": b64(secret) }),
                3 => json!({ "auth": [secret] }),
                4 => json!([{ "auth": secret }]),
                _ => json!({ "username": secret, "password": 12 }),
            },
        }
    }

    fn credential(&self) -> Option<Credential> {
        match self {
            Entry::Auth(u, p) | Entry::UserPassword(u, p) => Some(Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            }),
            Entry::IdentityToken(t) => Some(Credential::IdentityToken(t.clone())),
            _ => None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn references_that_parse_print_back_the_same(s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,120}") {
        match timed("reference", || s.parse::<Reference>()) {
            Ok(r) => {
                let again: Reference = r.to_string().parse().unwrap();
                prop_assert_eq!(&again, &r);
                prop_assert!(!r.repository.is_empty() && !r.registry.is_empty());
            }
            Err(e) => prop_assert!(e.to_string().contains("is not an image reference"), "{e}"),
        }
    }

    #[test]
    fn any_text_is_a_reference_or_a_reasoned_error(s in ".{0,300}") {
        if let Err(e) = timed("reference", || s.parse::<Reference>()) {
            prop_assert!(e.to_string().contains("is not an image reference"));
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
    fn config_files_give_every_good_entry_and_skip_the_bad_ones_without_quoting_them(
        entries in proptest::collection::btree_map("[a-z]{1,8}\\.example(:[0-9]{2,5})?", entry(), 0..12),
        helpers in proptest::collection::btree_map("[a-z]{1,8}\\.example", "[a-z0-9-]{1,12}", 0..4),
    ) {
        let auths: serde_json::Map<String, serde_json::Value> =
            entries.iter().map(|(k, e)| (k.clone(), e.json())).collect();
        let text = serde_json::json!({
            "auths": auths,
            "credHelpers": helpers,
            "HttpHeaders": {"User-Agent": "x"},
        })
        .to_string();
        let config = timed("config", || parse_config(text.as_bytes())).unwrap();
        for (key, e) in &entries {
            let expected = e.credential();
            prop_assert_eq!(config.auths.get(key), expected.as_ref(), "{}", key);
            let warned = config.warnings.iter().any(|w| w.contains(&format!("`{key}`")));
            prop_assert_eq!(warned, matches!(e, Entry::Bad(..)), "{}: {:?}", key, config.warnings);
            if let Entry::Bad(_, secret) = e {
                let all = config.warnings.join("\n");
                prop_assert!(!all.contains(secret.as_str()), "{}", all);
                prop_assert!(!all.contains(&b64(secret)), "{}", all);
            }
        }
        for (key, helper) in &helpers {
            prop_assert_eq!(config.cred_helpers.get(key), Some(helper));
            prop_assert_eq!(config.helper_for(key), Some(helper.as_str()));
        }
    }

    #[test]
    fn text_that_is_not_a_config_is_an_error_with_a_position_only(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        if let Err(e) = timed("config", || parse_config(&bytes)) {
            prop_assert!(
                e.starts_with("it is not valid JSON (line ") || e.starts_with("it is not a JSON object"),
                "{}", e
            );
            prop_assert!(e.len() < 120, "{}", e);
        }
    }

    #[test]
    fn challenges_give_back_every_parameter(
        scheme in "[A-Za-z][A-Za-z0-9-]{0,10}",
        params in proptest::collection::btree_map("[a-z][a-z_]{0,10}", "[ -~]{0,60}", 1..6),
        spaces in "[ ]{0,3}",
    ) {
        let header = format!(
            "{scheme} {}",
            params
                .iter()
                .map(|(k, v)| format!("{k}{spaces}={spaces}\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(&format!(",{spaces}"))
        );
        let c = timed("challenge", || parse_challenge(&header)).unwrap();
        prop_assert_eq!(c.scheme, scheme.to_ascii_lowercase());
        prop_assert_eq!(c.params.len(), params.len());
        for (k, v) in &params {
            prop_assert_eq!(&c.params[k], v);
        }
    }

    #[test]
    fn unquoted_challenge_values_are_tokens(
        params in proptest::collection::btree_map("[a-z]{1,8}", "[A-Za-z0-9._:/~+-]{1,30}", 1..5),
    ) {
        let header = format!(
            "Bearer {}",
            params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
        );
        let c = parse_challenge(&header).unwrap();
        for (k, v) in &params {
            prop_assert_eq!(&c.params[k], v);
        }
    }

    #[test]
    fn any_header_is_a_challenge_with_clean_names_or_none(s in ".{0,400}") {
        if let Some(c) = timed("challenge", || parse_challenge(&s)) {
            prop_assert!(!c.scheme.is_empty());
            prop_assert!(c.scheme.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            for k in c.params.keys() {
                // RFC 7235 parameter names are tokens; gopack keeps them lowercased.
                prop_assert!(!k.is_empty(), "{:?}", c);
                prop_assert!(
                    k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)),
                    "{:?}", k
                );
            }
        }
    }

    #[test]
    fn error_bodies_become_short_printable_text(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let m = timed("registry message", || registry_message(&bytes));
        prop_assert!(!m.chars().any(|c| c.is_control()), "{:?}", m);
        prop_assert!(m.chars().count() <= 1000, "{}", m.len());
        prop_assert!(!m.is_empty());
    }

    #[test]
    fn registry_errors_are_quoted_without_control_characters(
        items in proptest::collection::vec(("[A-Z_]{1,20}", "\\PC{0,40}|[\\x00-\\x1f\\x7f-\\u{9f}a-z]{0,40}"), 1..4),
    ) {
        let body = serde_json::json!({
            "errors": items.iter().map(|(c, m)| serde_json::json!({"code": c, "message": m})).collect::<Vec<_>>()
        });
        let m = registry_message(body.to_string().as_bytes());
        prop_assert!(!m.chars().any(|c| c.is_control()), "{:?}", m);
        let (code, message) = &items[0];
        prop_assert!(m.starts_with(code.as_str()), "{}", m);
        let shown = printable(message, 1000);
        let head: String = shown.chars().take(20).collect();
        prop_assert!(m.contains(head.trim()), "{} / {}", m, shown);
    }

    #[test]
    fn token_answers_give_the_token_and_a_bounded_lifetime(
        token in "[A-Za-z0-9._-]{1,200}",
        expires in proptest::option::of(0u64..100_000),
        oauth in any::<bool>(),
    ) {
        let key = if oauth { "access_token" } else { "token" };
        let mut answer = serde_json::json!({ key: token });
        if let Some(e) = expires {
            answer["expires_in"] = e.into();
        }
        let (t, ttl) = TokenResponse::parse(answer.to_string().as_bytes()).unwrap();
        prop_assert_eq!(t, token);
        prop_assert_eq!(ttl, expires.unwrap_or(60).clamp(10, 3600));
        prop_assert_eq!(TokenResponse::parse(br#"{"token":""}"#), None);
    }

    #[test]
    fn any_answer_is_a_token_or_none(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Some((t, ttl)) = timed("token", || TokenResponse::parse(&bytes)) {
            prop_assert!(!t.is_empty());
            prop_assert!((10..=3600).contains(&ttl));
        }
    }

    #[test]
    fn ranges_say_how_many_bytes_are_held(n in 0u64..u64::MAX, prefix in any::<bool>(), start in 1u64..1000) {
        let p = if prefix { "bytes=" } else { "" };
        prop_assert_eq!(parse_range_end(&format!("{p}0-{n}")), Some(n + 1));
        prop_assert_eq!(parse_range_end(&format!(" 0-{n} ")), Some(n + 1));
        prop_assert_eq!(parse_range_end(&format!("{start}-{n}")), None);
        prop_assert_eq!(parse_range_end(&format!("0-{}", u64::MAX)), None);
        prop_assert_eq!(parse_range_end(&format!("0-{n}x")), None);
    }

    #[test]
    fn retry_after_is_seconds_capped_at_five_minutes(s in 0u64..1_000_000, junk in "[a-zA-Z ,:]{1,30}") {
        prop_assert_eq!(parse_retry_after(&s.to_string()), Some(Duration::from_secs(s.min(300))));
        prop_assert_eq!(parse_retry_after(&format!("{junk}x")), None);
    }

    #[test]
    fn manifests_and_indexes_are_told_apart(
        n in 0usize..5,
        docker in any::<bool>(),
        with_media_type in any::<bool>(),
    ) {
        let digest = format!("sha256:{}", "a".repeat(64));
        let desc = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 10});
        let mut index = serde_json::json!({"schemaVersion": 2, "manifests": vec![desc.clone(); n]});
        let mut manifest = serde_json::json!({"schemaVersion": 2, "config": desc, "layers": vec![desc.clone(); n]});
        if with_media_type {
            let (i, m) = if docker {
                ("application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json")
            } else {
                ("application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json")
            };
            index["mediaType"] = i.into();
            manifest["mediaType"] = m.into();
        }
        prop_assert_eq!(parse_manifest_document(index.to_string().as_bytes(), None), Ok(true));
        prop_assert_eq!(parse_manifest_document(manifest.to_string().as_bytes(), None), Ok(false));
    }

    #[test]
    fn any_answer_is_a_document_or_a_reason(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        for ct in [None, Some("application/vnd.oci.image.index.v1+json")] {
            if let Err(e) = timed("manifest", || parse_manifest_document(&bytes, ct)) {
                prop_assert!(!e.is_empty());
            }
        }
    }

    #[test]
    fn printable_text_has_no_control_characters_and_a_bound(s in "\\PC{0,50}|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}a-z ]{0,200}", max in 1usize..100) {
        let p = printable(&s, max);
        prop_assert!(!p.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{:?}", p);
        // Escapes count toward the bound; the cut adds one `…`.
        prop_assert!(p.chars().count() <= max + 12, "{} > {}", p.chars().count(), max);
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
        registry_message(br#"{"errors":[{"code":"DENIED","message":"\u001b[31mno\u0007"}]}"#),
        "DENIED: \\u{1b}[31mno\\u{7}"
    );
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

/// Big inputs stay linear: a 4 MiB config file of 20,000 entries and a 60 KiB challenge (ureq
/// caps response headers at 64 KiB) each parse in well under a second.
#[test]
fn large_inputs_parse_in_linear_time() {
    let mut auths = serde_json::Map::new();
    for i in 0..20_000 {
        auths.insert(
            format!("r{i}.example"),
            serde_json::json!({"auth": b64(&format!("user{i}:pass-{i}-{}", "x".repeat(150)))}),
        );
    }
    let text = serde_json::json!({ "auths": auths }).to_string();
    assert!(text.len() > 3 << 20, "{}", text.len());
    let started = Instant::now();
    let config = parse_config(text.as_bytes()).unwrap();
    assert_eq!(config.auths.len(), 20_000);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let header = format!(
        "Bearer {}",
        (0..3000)
            .map(|i| format!("p{i}=\"v\\\"{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(header.len() > 30_000);
    let started = Instant::now();
    let c = parse_challenge(&header).unwrap();
    assert_eq!(c.params.len(), 3000);
    assert_eq!(c.params["p7"], "v\"7");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
