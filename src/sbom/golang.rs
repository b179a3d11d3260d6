//! What a Go binary's build information says about its toolchain and its main module's
//! version, in the terms SBOM consumers match on (OSV, grype, trivy):
//! - the standard library version `1.x.y` (no `go` prefix, no suffix: syft's and trivy's
//!   `pkg:golang/stdlib@1.x.y`), with the raw toolchain string, GOEXPERIMENT and FIPS mode kept
//!   beside it, because suffixes such as `X:boringcrypto` or a vendor's `(Red Hat 1.22.7-1)`
//!   break matching when left in the version (trivy #6698, #11119);
//! - the main module's version and where it came from: the build info (`go build` stamps it
//!   from VCS tags since Go 1.24), else a `-X` value the build passed for a variable of the main
//!   package or module (`-trimpath` drops `-ldflags` from the build info, golang/go#63432, so the
//!   values gopack itself passed are the only trustworthy record).

use crate::binary::buildinfo::BuildInfo;

/// The Go toolchain that linked a binary, split into what matching needs and what it must not
/// see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The build info's string as written (`go1.26.8`, `go1.22.0 X:boringcrypto`).
    pub raw: String,
    /// `1.26.8`; `1.20.0` for `go1.20` (Go's first releases before 1.21 had no `.0`);
    /// `1.27rc1` for pre-releases. `None` when the string is not a Go version (`devel …`).
    pub version: Option<String>,
    /// Whatever followed the version in `raw` (`X:boringcrypto`, `(Red Hat 1.22.7-1.el9_5)`),
    /// trimmed; empty when nothing did.
    pub suffix: String,
    /// GOEXPERIMENT values: the `GOEXPERIMENT` build setting and any `X:a,b` in the suffix,
    /// each once, in order.
    pub experiments: Vec<String>,
    /// FIPS 140 mode, when the build shows one: `GOFIPS140=<v>` (Go 1.24+), the
    /// `boringcrypto` experiment, or `fips` in the toolchain suffix.
    pub fips: Option<String>,
}

impl Toolchain {
    /// Reads the toolchain facts of `info`. Never fails: an unreadable version gives
    /// `version: None` and the raw string in `suffix`.
    pub fn of(info: &BuildInfo) -> Toolchain {
        let raw = info.go_version.trim().to_string();
        let (version, suffix) = split_go_version(&raw);
        let mut experiments: Vec<String> = Vec::new();
        let mut add = |list: &str| {
            for e in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if !experiments.iter().any(|x| x == e) {
                    experiments.push(e.to_string());
                }
            }
        };
        if let Some(list) = info.setting("GOEXPERIMENT") {
            add(list);
        }
        for word in suffix.split_whitespace() {
            if let Some(list) = word.strip_prefix("X:") {
                add(list);
            }
        }
        let fips = info
            .setting("GOFIPS140")
            .filter(|v| !v.is_empty() && *v != "off")
            .map(|v| format!("GOFIPS140={v}"))
            .or_else(|| {
                experiments
                    .iter()
                    .any(|e| e == "boringcrypto")
                    .then(|| "boringcrypto".to_string())
            })
            .or_else(|| {
                suffix
                    .to_ascii_lowercase()
                    .contains("fips")
                    .then(|| suffix.clone())
            });
        Toolchain {
            raw,
            version,
            suffix,
            experiments,
            fips,
        }
    }
}

/// `go1.26.8 X:foo` → (`Some("1.26.8")`, `"X:foo"`). The version is the longest prefix made of
/// digits and dots, optionally followed by `rc`/`beta` and digits.
fn split_go_version(raw: &str) -> (Option<String>, String) {
    let Some(rest) = raw.strip_prefix("go") else {
        return (None, raw.to_string());
    };
    let bytes = rest.as_bytes();
    let mut end = 0;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
        end += 1;
    }
    for pre in ["rc", "beta"] {
        if rest[end..].starts_with(pre) {
            let digits = rest[end + pre.len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits > 0 {
                end += pre.len() + digits;
            }
        }
    }
    let version = rest[..end].trim_end_matches('.');
    let numbers: Vec<&str> = version
        .split(['r', 'b'])
        .next()
        .unwrap_or("")
        .split('.')
        .collect();
    if numbers.len() < 2 || numbers.iter().any(|n| n.is_empty()) {
        return (None, raw.to_string());
    }
    let mut version = version.to_string();
    let prerelease = version.contains("rc") || version.contains("beta");
    if numbers.len() == 2 && !prerelease {
        version.push_str(".0");
    }
    let suffix = rest[end..]
        .trim_start_matches(['-', '+', ' '])
        .trim()
        .to_string();
    (Some(version), suffix)
}

/// Where the main module's version came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSource {
    /// The build info's `mod` line (VCS tag or pseudo-version stamped by `go build`, or the
    /// version `go install module@version` fetched).
    BuildInfo,
    /// A `-X symbol=value` linker flag the build passed.
    LinkerFlag {
        /// `main.version`, `example.com/app/internal/version.Version`.
        symbol: String,
    },
    /// No version is known (`(devel)` and no `-X` value that names one).
    Unknown,
}

impl VersionSource {
    /// The words recorded in the `gopack:version:source` property.
    pub fn describe(&self) -> String {
        match self {
            VersionSource::BuildInfo => "go build info".into(),
            VersionSource::LinkerFlag { symbol } => format!("-ldflags -X {symbol}"),
            VersionSource::Unknown => "unknown".into(),
        }
    }
}

/// Variable names that hold a program's version, most specific first (the names trivy, syft
/// and goreleaser's defaults use).
const VERSION_NAMES: &[&str] = &[
    "version",
    "Version",
    "VERSION",
    "appVersion",
    "AppVersion",
    "gitVersion",
    "GitVersion",
    "ver",
    "Ver",
];

/// The main module's version and where it came from: the build info's version unless it is
/// `(devel)` or empty; else the first `-X` assignment, in the order given, to a version-named
/// variable (`VERSION_NAMES`) of package `main` or of a package inside the main module, whose
/// value is not empty. Other modules' variables are never used (syft #3062).
pub fn main_version(
    info: &BuildInfo,
    x_values: &[(String, String)],
) -> (Option<String>, VersionSource) {
    let main = info.main.as_ref();
    if let Some(m) = main
        && !m.version.is_empty()
        && m.version != "(devel)"
    {
        return (Some(m.version.clone()), VersionSource::BuildInfo);
    }
    let module = main.map(|m| m.path.as_str()).unwrap_or("");
    for name in VERSION_NAMES {
        for (symbol, value) in x_values {
            let Some((package, var)) = symbol.rsplit_once('.') else {
                continue;
            };
            let in_main = package == "main"
                || (!module.is_empty()
                    && (package == module || package.starts_with(&format!("{module}/"))));
            if in_main && var == *name && !value.trim().is_empty() {
                return (
                    Some(value.trim().to_string()),
                    VersionSource::LinkerFlag {
                        symbol: symbol.clone(),
                    },
                );
            }
        }
    }
    (None, VersionSource::Unknown)
}

/// The `-X` assignments in a list of linker flag words (`-X`, `sym=value` or `-X=sym=value`,
/// with one or two dashes), in order; later assignments to the same symbol win, as in the
/// linker.
pub fn x_assignments<S: AsRef<str>>(words: &[S]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut words = words.iter().map(AsRef::as_ref);
    while let Some(word) = words.next() {
        let flag = word.trim_start_matches('-');
        let assignment = if word.starts_with('-') && flag == "X" {
            words.next()
        } else if word.starts_with('-') {
            flag.strip_prefix("X=")
        } else {
            None
        };
        if let Some((symbol, value)) = assignment.and_then(|a| a.split_once('=')) {
            out.retain(|(s, _)| s != symbol);
            out.push((symbol.to_string(), value.to_string()));
        }
    }
    out
}

/// Splits a flag list by Go's quoting rules (`cmd/internal/quoted.Split`): fields separated by
/// spaces, a field *starting* with `'` or `"` runs to the matching quote. An unterminated quote
/// takes the rest of the string. Used for the build info's `-ldflags` setting.
pub fn split_quoted(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let Some(first) = rest.chars().next() else {
            return fields;
        };
        if first == '\'' || first == '"' {
            let body = &rest[1..];
            let end = body.find(first).unwrap_or(body.len());
            fields.push(body[..end].to_string());
            rest = body.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
            fields.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::buildinfo::Module;

    fn info(version: &str, settings: &[(&str, &str)]) -> BuildInfo {
        BuildInfo {
            go_version: version.into(),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..BuildInfo::default()
        }
    }

    #[test]
    fn toolchain_versions_and_suffixes() {
        let cases = [
            ("go1.26.8", Some("1.26.8"), ""),
            ("go1.20", Some("1.20.0"), ""),
            ("go1.27rc1", Some("1.27rc1"), ""),
            ("go1.22.0 X:boringcrypto", Some("1.22.0"), "X:boringcrypto"),
            ("go1.26.0-X:nodwarf5", Some("1.26.0"), "X:nodwarf5"),
            (
                "go1.22.7 (Red Hat 1.22.7-1.el9_5)",
                Some("1.22.7"),
                "(Red Hat 1.22.7-1.el9_5)",
            ),
            ("devel go1.27-abcdef", None, "devel go1.27-abcdef"),
            ("go", None, "go"),
        ];
        for (raw, version, suffix) in cases {
            let t = Toolchain::of(&info(raw, &[]));
            assert_eq!(t.version.as_deref(), version, "{raw}");
            assert_eq!(t.suffix, suffix, "{raw}");
        }
    }

    #[test]
    fn experiments_and_fips() {
        let t = Toolchain::of(&info(
            "go1.22.0 X:boringcrypto,loopvar",
            &[("GOEXPERIMENT", "loopvar,arenas")],
        ));
        assert_eq!(t.experiments, ["loopvar", "arenas", "boringcrypto"]);
        assert_eq!(t.fips.as_deref(), Some("boringcrypto"));
        let t = Toolchain::of(&info("go1.26.8", &[("GOFIPS140", "v1.0.0")]));
        assert_eq!(t.fips.as_deref(), Some("GOFIPS140=v1.0.0"));
        assert_eq!(
            Toolchain::of(&info("go1.26.8", &[("GOFIPS140", "off")])).fips,
            None
        );
        assert_eq!(Toolchain::of(&info("go1.26.8", &[])).fips, None);
    }

    fn with_main(version: &str) -> BuildInfo {
        BuildInfo {
            main: Some(Module {
                path: "example.com/app".into(),
                version: version.into(),
                ..Module::default()
            }),
            ..BuildInfo::default()
        }
    }

    #[test]
    fn main_version_prefers_build_info_then_main_x_values() {
        let x = x_assignments(&[
            "-s",
            "-X",
            "github.com/other/lib.Version=9.9.9",
            "-X=main.version=1.2.3",
        ]);
        assert_eq!(
            main_version(&with_main("v1.0.0"), &x).0.as_deref(),
            Some("v1.0.0")
        );
        let (v, source) = main_version(&with_main("(devel)"), &x);
        assert_eq!(v.as_deref(), Some("1.2.3"));
        assert_eq!(source.describe(), "-ldflags -X main.version");
        let x = x_assignments(&["-X", "example.com/app/internal/build.Version=2.0.0"]);
        assert_eq!(main_version(&with_main(""), &x).0.as_deref(), Some("2.0.0"));
        let x = x_assignments(&[
            "-X",
            "github.com/other/lib.Version=9.9.9",
            "-X",
            "main.version=",
        ]);
        assert_eq!(
            main_version(&with_main("(devel)"), &x),
            (None, VersionSource::Unknown)
        );
    }

    #[test]
    fn quoted_splitting() {
        assert_eq!(
            split_quoted("-s -X 'main.v=a b' -X \"main.c=x\""),
            ["-s", "-X", "main.v=a b", "-X", "main.c=x"]
        );
        assert_eq!(split_quoted("  "), Vec::<String>::new());
        assert_eq!(split_quoted("-X 'oops"), ["-X", "oops"]);
    }

    #[test]
    fn x_assignments_forms() {
        assert_eq!(
            x_assignments(&[
                "-X",
                "main.a=1",
                "--X=main.b=x=y",
                "-w",
                "-X",
                "main.a=2",
                "-X"
            ]),
            [
                ("main.b".to_string(), "x=y".to_string()),
                ("main.a".into(), "2".into())
            ]
        );
    }
}
