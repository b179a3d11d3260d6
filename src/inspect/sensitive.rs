//! What looks like a secret: files by name (credentials, keys, `.env`, kubeconfig) and values
//! in `ENV` and history lines (by variable name, and by the shape of well-known tokens). Values
//! found are never printed: [`mask`] keeps only their length.

/// Why a path is sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sensitive {
    /// One phrase: what the file is.
    pub why: &'static str,
    /// A version-control directory rather than a credential (a lesser finding).
    pub vcs: bool,
}

const fn s(why: &'static str) -> Option<Sensitive> {
    Some(Sensitive { why, vcs: false })
}

/// Classifies a normalised path (no leading `/`) by its name and place.
pub fn classify(path: &str) -> Option<Sensitive> {
    let slash = |s: &str| s.as_bytes().iter().rposition(|&b| b == b'/');
    let (dir, name) = match slash(path) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    // Every name below starts with '.', 'i', 'k', '_' or ends like a key file: most paths stop here.
    let key_like = name.ends_with(".key") || name.ends_with(".p12") || name.ends_with(".pfx");
    if !matches!(
        name.as_bytes().first(),
        Some(b'.' | b'i' | b'k' | b'_' | b'c')
    ) && !key_like
        && !dir.contains(".ssh")
    {
        return None;
    }
    let parent = match slash(dir) {
        Some(i) => &dir[i + 1..],
        None => dir,
    };
    if name == ".git" {
        return Some(Sensitive {
            why: "a git repository (history, remotes, sometimes credentials)",
            vcs: true,
        });
    }
    match name {
        ".env" => return s("a .env file (application secrets)"),
        ".git-credentials" => return s("git credentials"),
        ".netrc" | "_netrc" => return s("a .netrc file (login credentials)"),
        ".npmrc" | ".pypirc" => return s("a package registry credentials file"),
        ".pgpass" => return s("a PostgreSQL password file"),
        ".htpasswd" => return s("an htpasswd file"),
        "kubeconfig" => return s("a kubeconfig (cluster credentials)"),
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk" => {
            return s("an SSH private key");
        }
        _ => {}
    }
    if name.starts_with(".env.") && !name.ends_with(".example") && !name.ends_with(".sample") {
        return s("a .env file (application secrets)");
    }
    match (parent, name) {
        (".kube", "config") => return s("a kubeconfig (cluster credentials)"),
        (".docker", "config.json") => return s("docker registry credentials"),
        (".aws", "credentials") => return s("AWS credentials"),
        (".ssh", _) if name != "known_hosts" && !name.ends_with(".pub") && name != "config" => {
            return s("a file in an .ssh directory (keys)");
        }
        _ => {}
    }
    if (name.ends_with(".key") || name.ends_with(".p12") || name.ends_with(".pfx"))
        && !path.starts_with("usr/share/")
    {
        return s("a private key or key store file");
    }
    None
}

/// Variable names that hold secrets (upper-cased substring match), as lint's GO307 uses.
const SECRET_NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Suffixes of names that point at a secret instead of holding one.
const INDIRECT: &[&str] = &["_FILE", "_PATH", "_DIR", "_URL", "_ID", "_NAME"];

/// Prefixes of well-known token formats: a value starting with one is a secret whatever the
/// variable is called.
const TOKEN_PREFIXES: &[(&str, usize, &str)] = &[
    ("AKIA", 20, "an AWS access key id"),
    ("ASIA", 20, "an AWS temporary access key id"),
    ("ghp_", 40, "a GitHub personal access token"),
    ("gho_", 40, "a GitHub OAuth token"),
    ("ghs_", 40, "a GitHub app token"),
    ("github_pat_", 40, "a GitHub fine-grained token"),
    ("glpat-", 26, "a GitLab personal access token"),
    ("xoxb-", 20, "a Slack bot token"),
    ("xoxp-", 20, "a Slack user token"),
    ("sk_live_", 24, "a Stripe secret key"),
    ("AIza", 39, "a Google API key"),
    ("-----BEGIN", 20, "a PEM block"),
];

/// Why `NAME=value` looks like a secret, or `None`. Empty values, references (`$OTHER`) and
/// names that point at a secret (`…_FILE`, `…_PATH`) are not secrets.
pub fn secret_assignment(name: &str, value: &str) -> Option<String> {
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    if value.is_empty() || value.starts_with('$') {
        return None;
    }
    if let Some(kind) = token_kind(value) {
        return Some(format!("its value looks like {kind}"));
    }
    let upper = name.to_ascii_uppercase();
    let named = SECRET_NAMES.iter().any(|s| upper.contains(s));
    let indirect = INDIRECT.iter().any(|s| upper.ends_with(s));
    (named && !indirect).then(|| format!("`{name}` is named like a secret"))
}

fn token_kind(value: &str) -> Option<&'static str> {
    TOKEN_PREFIXES
        .iter()
        .find(|(p, min, _)| value.starts_with(p) && value.len() >= *min)
        .map(|(_, _, kind)| *kind)
}

/// `NAME=value` assignments in a history line (`created_by`): shell assignments, `ENV`/`ARG`
/// lines, and the `|N NAME=value …` prefix BuildKit writes for build arguments.
pub fn assignments(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ';' || c == '&') {
        let word = word.trim_start_matches(['"', '\'', '(']);
        let Some((name, value)) = word.split_once('=') else {
            continue;
        };
        let name = name.trim_start_matches("--").trim_start_matches('-');
        let is_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            && name.bytes().any(|b| b.is_ascii_alphabetic());
        if is_name {
            out.push((name, value));
        }
    }
    out
}

/// Words in free text that look like well-known tokens, whatever their name.
pub fn bare_tokens(text: &str) -> Vec<(&str, &'static str)> {
    text.split(|c: char| c.is_whitespace() || "\"'=;&,()".contains(c))
        .filter_map(|w| token_kind(w).map(|k| (w, k)))
        .collect()
}

/// A value shown without its content: `****** (N chars)`.
pub fn mask(value: &str) -> String {
    format!("****** ({} chars)", value.chars().count())
}

/// `text` with every secret-looking value (as [`assignments`] and [`bare_tokens`] find them)
/// replaced by [`mask`].
pub fn mask_text(text: &str) -> String {
    let mut out = text.to_string();
    let mut secrets: Vec<String> = assignments(text)
        .into_iter()
        .filter(|(n, v)| secret_assignment(n, v).is_some())
        .map(|(_, v)| v.trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect();
    secrets.extend(bare_tokens(text).into_iter().map(|(w, _)| w.to_string()));
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), &mask(secret));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_classified_by_name_and_place() {
        assert!(classify("app/.env").is_some());
        assert!(classify("app/.env.production").is_some());
        assert!(classify("app/.env.example").is_none());
        assert!(classify("root/.ssh/id_ed25519").is_some());
        assert!(classify("root/.ssh/known_hosts").is_none());
        assert!(classify("home/x/.kube/config").is_some());
        assert!(classify("src/.git").unwrap().vcs);
        assert!(classify("etc/ssl/private/server.key").is_some());
        assert!(classify("etc/passwd").is_none());
    }

    #[test]
    fn secret_values_are_found_by_name_and_shape_and_masked() {
        assert!(secret_assignment("DB_PASSWORD", "hunter2").is_some());
        assert!(secret_assignment("DB_PASSWORD_FILE", "/run/secrets/db").is_none());
        assert!(secret_assignment("DB_PASSWORD", "").is_none());
        assert!(secret_assignment("DB_PASSWORD", "$FROM_ENV").is_none());
        assert!(secret_assignment("X", "ghp_0123456789abcdef0123456789abcdef0123").is_some());
        assert!(secret_assignment("PATH", "/usr/bin").is_none());
        let line = "|1 API_TOKEN=s3cr3tvalue /bin/sh -c curl -H x";
        let masked = mask_text(line);
        assert!(!masked.contains("s3cr3tvalue"), "{masked}");
        assert!(masked.contains("****** (11 chars)"), "{masked}");
    }
}
