//! Whether the image holds what each of its Go binaries needs to run, and what its entrypoint
//! names: the loader and shared libraries of a dynamic binary, the CA bundle, zoneinfo, user
//! database and /tmp its linked functions show it uses (read from the binary, not guessed), the
//! right architecture, and execute permission for the user the image runs as. Paths are looked
//! up in the final file system, following symlinks inside the image only.

use super::Analysis;
use super::findings::{Finding, printable};
use super::merge::FoundBinary;
use super::rules::RuleId;
use super::users::RunUser;
use crate::binary::needs::RuntimeNeed;
use crate::oci::{FileTree, FileType};

/// Where crypto/x509 looks on Linux (root_linux.go), files first, then directories.
const CA_FILES: &[&str] = &[
    "etc/ssl/certs/ca-certificates.crt",
    "etc/pki/tls/certs/ca-bundle.crt",
    "etc/ssl/ca-bundle.pem",
    "etc/pki/tls/cacert.pem",
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "etc/ssl/cert.pem",
];
const CA_DIRS: &[&str] = &["etc/ssl/certs", "etc/pki/tls/certs"];

/// Where time.LoadLocation looks (zoneinfo_unix.go platformZoneSources).
const ZONE_DIRS: &[&str] = &[
    "usr/share/zoneinfo",
    "usr/share/lib/zoneinfo",
    "usr/lib/locale/TZ",
    "etc/zoneinfo",
];

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn env<'a>(a: &'a Analysis, name: &str) -> Option<&'a str> {
    a.image
        .config
        .config
        .env
        .iter()
        .flatten()
        .rev()
        .find_map(|v| v.strip_prefix(name)?.strip_prefix('='))
}

fn is_file(tree: &FileTree, path: &str) -> bool {
    tree.lookup(path)
        .is_some_and(|id| tree.info(id).file_type == FileType::Regular)
}

fn is_dir(tree: &FileTree, path: &str) -> bool {
    tree.lookup(path)
        .is_some_and(|id| tree.info(id).file_type == FileType::Directory)
}

fn dir_has_file(tree: &FileTree, path: &str) -> bool {
    tree.lookup(path).is_some_and(|id| {
        tree.children(id)
            .any(|(name, _)| is_file(tree, &format!("{path}/{name}")))
    })
}

/// Checks every Go binary the final image shows.
pub fn check_binaries(a: &Analysis, user: &RunUser, out: &mut Vec<Finding>) {
    for b in a
        .merged
        .binaries
        .iter()
        .filter(|b| a.merged.is_current(&b.path, b.layer))
    {
        check_loader(a, b, out);
        check_files(a, b, user, out);
        check_exec(a, b, user, out);
    }
}

/// A finding about binary `b`: its path leads the message.
fn finding(rule: RuleId, b: &FoundBinary, message: String) -> Finding {
    Finding {
        rule,
        severity: rule.rule().severity,
        message: format!("/{}: {message}", printable(&b.path)),
        path: Some(format!("/{}", b.path)),
        layer: Some(b.layer),
    }
}

fn check_loader(a: &Analysis, b: &FoundBinary, out: &mut Vec<Finding>) {
    let linked = Linked {
        path: &b.path,
        interpreter: b.binary.interpreter.as_deref(),
        needed: &b.binary.needed,
        runpath: &b.binary.runpath,
        goarch: b.binary.goarch.as_deref(),
    };
    let missing = missing_from_image(&a.merged.tree, &linked);
    if let Some(interp) = &missing.interpreter {
        out.push(finding(
            RuleId::MissingInterpreter,
            b,
            format!(
                "it is dynamically linked and its loader {} is not in the image: starting it \
                 fails with `no such file or directory`",
                printable(interp)
            ),
        ));
    }
    for lib in &missing.libraries {
        out.push(finding(
            RuleId::MissingLibrary,
            b,
            format!(
                "it needs the shared library {} (DT_NEEDED), which is in none of {}",
                printable(lib),
                missing
                    .searched
                    .iter()
                    .map(|d| format!("/{d}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(arch) = &b.binary.goarch
        && *arch != a.image.platform.architecture
    {
        out.push(finding(
            RuleId::WrongArchitecture,
            b,
            format!(
                "it is built for {arch}, but the image's platform is {}: it fails with \
                 `exec format error`",
                a.image.platform
            ),
        ));
    }
}

/// How an ELF file is linked: what [`missing_from_image`] looks for.
pub struct Linked<'a> {
    /// The file's normalised path in the image (what `$ORIGIN` expands from).
    pub path: &'a str,
    /// PT_INTERP, the loader path.
    pub interpreter: Option<&'a str>,
    /// DT_NEEDED names.
    pub needed: &'a [String],
    /// DT_RUNPATH (else DT_RPATH) directories as written.
    pub runpath: &'a [String],
    /// The ELF machine as a GOARCH name (picks the multiarch library directories).
    pub goarch: Option<&'a str>,
}

/// What of its loader and libraries the image does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// The loader path, when it is not a regular file in the image (symlinks followed).
    pub interpreter: Option<String>,
    /// DT_NEEDED names found in none of [`Missing::searched`].
    pub libraries: Vec<String>,
    /// The directories searched, relative to the root: DT_RUNPATH (else DT_RPATH) with
    /// `$ORIGIN` expanded, then the loader's default path plus the Debian/Ubuntu multiarch
    /// ones for the architecture.
    pub searched: Vec<String>,
}

/// Looks a dynamic ELF file's loader and DT_NEEDED libraries up in the final file system, as
/// the loader would find them without `LD_LIBRARY_PATH` or `ld.so.cache` (and so without
/// `/etc/ld.so.conf.d` directories). A name with a `/` is a path, looked up as it is.
pub fn missing_from_image(tree: &FileTree, linked: &Linked<'_>) -> Missing {
    let origin = linked.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut searched: Vec<String> = linked
        .runpath
        .iter()
        .map(|d| {
            d.replace("${ORIGIN}", &format!("/{origin}"))
                .replace("$ORIGIN", &format!("/{origin}"))
                .trim_start_matches('/')
                .to_string()
        })
        .collect();
    searched.extend(library_dirs(linked.goarch));
    let interpreter = linked
        .interpreter
        .filter(|i| !is_file(tree, i))
        .map(String::from);
    let libraries = linked
        .needed
        .iter()
        .filter(|lib| {
            if lib.contains('/') {
                return !is_file(tree, lib);
            }
            !searched
                .iter()
                .any(|d| is_file(tree, &format!("{d}/{lib}")))
        })
        .cloned()
        .collect();
    Missing {
        interpreter,
        libraries,
        searched,
    }
}

/// The loader's default search path for an architecture (plus the multiarch directories Debian
/// and Ubuntu use).
fn library_dirs(goarch: Option<&str>) -> Vec<String> {
    let mut dirs: Vec<String> = ["lib", "usr/lib", "lib64", "usr/lib64", "usr/local/lib"]
        .map(String::from)
        .to_vec();
    let triplet = match goarch {
        Some("amd64") => Some("x86_64-linux-gnu"),
        Some("arm64") => Some("aarch64-linux-gnu"),
        Some("arm") => Some("arm-linux-gnueabihf"),
        Some("386") => Some("i386-linux-gnu"),
        Some("ppc64le") => Some("powerpc64le-linux-gnu"),
        Some("s390x") => Some("s390x-linux-gnu"),
        Some("riscv64") => Some("riscv64-linux-gnu"),
        _ => None,
    };
    if let Some(t) = triplet {
        dirs.push(format!("lib/{t}"));
        dirs.push(format!("usr/lib/{t}"));
    }
    dirs
}

fn check_files(a: &Analysis, b: &FoundBinary, user: &RunUser, out: &mut Vec<Finding>) {
    let tree = &a.merged.tree;
    let why = |need| b.binary.need_function(need).unwrap_or("").to_string();
    if b.binary.requires(RuntimeNeed::CaCertificates) && !has_ca_bundle(a) {
        out.push(finding(
            RuleId::MissingCaBundle,
            b,
            format!(
                "it loads the system CA roots ({} is linked) and the image has no CA bundle at \
                 /etc/ssl/certs/ca-certificates.crt or any other place Go looks: TLS connections \
                 will fail with `x509: certificate signed by unknown authority`",
                why(RuntimeNeed::CaCertificates)
            ),
        ));
    }
    if b.binary.requires(RuntimeNeed::Zoneinfo) {
        let from_env = env(a, "ZONEINFO").is_some_and(|z| tree.exists(z));
        if !from_env && !ZONE_DIRS.iter().any(|d| is_dir(tree, d)) {
            out.push(finding(
                RuleId::MissingZoneinfo,
                b,
                format!(
                    "it calls {} without embedding time/tzdata and the image has no \
                     /usr/share/zoneinfo: loading any zone but UTC fails with `unknown time zone`",
                    why(RuntimeNeed::Zoneinfo)
                ),
            ));
        }
    }
    if b.binary.requires(RuntimeNeed::UserDatabase) {
        let gap = if !is_file(tree, "etc/passwd") {
            Some("the image has no /etc/passwd".to_string())
        } else if !user.in_passwd && user.unknown_user.is_none() {
            Some(format!(
                "/etc/passwd does not list uid {} the image runs as",
                user.uid.map(|u| u.to_string()).unwrap_or_default()
            ))
        } else {
            None
        };
        if let Some(gap) = gap {
            out.push(finding(
                RuleId::MissingUserDatabase,
                b,
                format!(
                    "it looks users up ({} is linked) and {gap}: user.Current and lookups fail",
                    why(RuntimeNeed::UserDatabase)
                ),
            ));
        }
    }
    if b.binary.requires(RuntimeNeed::TempDir) {
        let tmp = env(a, "TMPDIR").unwrap_or("/tmp");
        if !is_dir(tree, tmp) {
            out.push(finding(
                RuleId::MissingTmp,
                b,
                format!(
                    "it creates temporary files ({} is linked) and {} is not a directory in \
                     the image",
                    why(RuntimeNeed::TempDir),
                    printable(tmp)
                ),
            ));
        }
    }
}

fn has_ca_bundle(a: &Analysis) -> bool {
    let tree = &a.merged.tree;
    let files: Vec<&str> = match env(a, "SSL_CERT_FILE") {
        Some(f) => vec![f],
        None => CA_FILES.to_vec(),
    };
    let dirs: Vec<&str> = match env(a, "SSL_CERT_DIR") {
        Some(d) => d.split(':').collect(),
        None => CA_DIRS.to_vec(),
    };
    files.iter().any(|f| is_file(tree, f))
        || dirs
            .iter()
            .any(|d| dir_has_file(tree, d.trim_start_matches('/')))
}

fn check_exec(a: &Analysis, b: &FoundBinary, user: &RunUser, out: &mut Vec<Finding>) {
    let (Some(uid), Some(id)) = (user.uid, a.merged.tree.lookup_link(&b.path)) else {
        return;
    };
    let info = a.merged.tree.info(id);
    let bit = if uid == 0 {
        0o111
    } else if uid == info.uid {
        0o100
    } else if user.gid == Some(info.gid) {
        0o010
    } else {
        0o001
    };
    if info.mode & bit == 0 {
        out.push(finding(
            RuleId::NotExecutable,
            b,
            format!(
                "its mode is {:04o} (owner {}:{}), so uid {uid} the image runs as cannot \
                 execute it",
                info.mode, info.uid, info.gid
            ),
        ));
    }
}

/// Checks that the entrypoint (or CMD, without one) names an executable in the image.
pub fn check_entrypoint(a: &Analysis, out: &mut Vec<Finding>) {
    let c = &a.image.config.config;
    let argv = c
        .entrypoint
        .as_ref()
        .filter(|e| !e.is_empty())
        .or(c.cmd.as_ref())
        .filter(|v| !v.is_empty());
    let Some(program) = argv.map(|v| v[0].as_str()) else {
        return;
    };
    let tree = &a.merged.tree;
    let workdir = c.working_dir.as_deref().unwrap_or("/");
    let found = if program.starts_with('/') {
        is_file(tree, program)
    } else if program.contains('/') {
        is_file(tree, &format!("{workdir}/{program}"))
    } else {
        env(a, "PATH")
            .unwrap_or(DEFAULT_PATH)
            .split(':')
            .any(|d| is_file(tree, &format!("{d}/{program}")))
    };
    if !found {
        let mut f = Finding {
            rule: RuleId::MissingEntrypoint,
            severity: RuleId::MissingEntrypoint.rule().severity,
            message: format!(
                "the entrypoint runs `{}`, which is not a file in the image: the container \
                 will fail to start",
                printable(program)
            ),
            path: None,
            layer: None,
        };
        if program.starts_with('/') {
            f.path = Some(program.to_string());
        }
        out.push(f);
    }
}
