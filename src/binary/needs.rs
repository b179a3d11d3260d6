//! What a Go binary needs from the filesystem at run time, read from the functions that survived
//! dead-code elimination (its pclntab), not guessed from imports.
//!
//! [`NEED_SIGNALS`] is the one table mapping linked functions to needs. Every function in it was
//! checked against binaries built by Go 1.26 (`tests/needs.rs` fails if one no longer appears in
//! the test programs of `testdata/needs/`).
//!
//! Known blind spot: `os.TempDir` and its helper `os.tempDir` are always inlined, so a program
//! that only calls `os.TempDir()` (and opens files there itself) leaves no trace; the callers
//! that do leave one are `os.CreateTemp` and `os.MkdirTemp` (and everything built on them:
//! `io/ioutil.TempFile`/`TempDir`, `mime/multipart` spilling large forms to disk).

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};
use serde::Serialize;

use super::pclntab::{self, Function, PclnTable, PclntabError};

/// A file or directory a scratch image may have to provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeNeed {
    /// A CA bundle, for TLS clients that verify servers against the system roots.
    CaCertificates,
    /// The zoneinfo database, for named time zones.
    Zoneinfo,
    /// `/etc/passwd` and `/etc/group`, for `os/user` lookups.
    UserDatabase,
    /// A writable `/tmp` (mode 1777), for temporary files and directories.
    TempDir,
}

impl RuntimeNeed {
    /// Every need, in report order.
    pub const ALL: [RuntimeNeed; 4] = [
        RuntimeNeed::CaCertificates,
        RuntimeNeed::Zoneinfo,
        RuntimeNeed::UserDatabase,
        RuntimeNeed::TempDir,
    ];

    /// Where Go looks on Linux (go-facts §7); the first path is the one gopack provides.
    pub fn paths(self) -> &'static [&'static str] {
        match self {
            // crypto/x509/root_linux.go: the first existing file wins; then the directories.
            RuntimeNeed::CaCertificates => {
                &["/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs"]
            }
            // time/zoneinfo_unix.go platformZoneSources.
            RuntimeNeed::Zoneinfo => &["/usr/share/zoneinfo/"],
            RuntimeNeed::UserDatabase => &["/etc/passwd", "/etc/group"],
            RuntimeNeed::TempDir => &["/tmp"],
        }
    }

    /// Short human name.
    pub fn describe(self) -> &'static str {
        match self {
            RuntimeNeed::CaCertificates => "CA certificates",
            RuntimeNeed::Zoneinfo => "time zone database",
            RuntimeNeed::UserDatabase => "user and group database",
            RuntimeNeed::TempDir => "temporary directory",
        }
    }
}

/// What a linked function says about a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The function reads the files of the need.
    Requires,
    /// The function shows the binary carries the data itself: the need is met without files.
    SatisfiedInBinary,
    /// The function reads an environment variable that selects files of the need at run time
    /// (`TZ` names a zone in /usr/share/zoneinfo), so whether the files are used depends on how
    /// the image is run.
    ReadsEnvironment,
}

/// One row of [`NEED_SIGNALS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NeedSignal {
    /// The need.
    pub need: RuntimeNeed,
    /// Full function name as it appears in the pclntab.
    pub function: &'static str,
    /// Whether the function requires the files or shows they are embedded.
    pub effect: Effect,
    /// Why, for people.
    pub why: &'static str,
}

const fn requires(need: RuntimeNeed, function: &'static str, why: &'static str) -> NeedSignal {
    NeedSignal {
        need,
        function,
        effect: Effect::Requires,
        why,
    }
}

/// The table: linked function → runtime need. Within a need, rows are ordered from the most
/// telling function to the least; the first one present is reported as the cause.
pub const NEED_SIGNALS: &[NeedSignal] = &[
    requires(
        RuntimeNeed::CaCertificates,
        "crypto/x509.loadSystemRoots",
        "loads the system CA roots (/etc/ssl/certs/ca-certificates.crt…) to verify TLS peers; linked by any TLS client, including net/http",
    ),
    requires(
        RuntimeNeed::Zoneinfo,
        "time.LoadLocation",
        "loads named time zones from /usr/share/zoneinfo",
    ),
    NeedSignal {
        need: RuntimeNeed::Zoneinfo,
        function: "time.initLocal",
        effect: Effect::ReadsEnvironment,
        why: "time.Local is used (formatting or reading local time), so TZ is read at the first use and the zone it names is loaded from /usr/share/zoneinfo; without the files, TZ silently falls back to UTC",
    },
    NeedSignal {
        need: RuntimeNeed::Zoneinfo,
        function: "time/tzdata.loadFromEmbeddedTZData",
        effect: Effect::SatisfiedInBinary,
        why: "time/tzdata (import or -tags timetzdata) embeds the zone database in the binary",
    },
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.current",
        "user.Current (also tried first by user.Lookup and user.LookupId) looks the process's uid up in /etc/passwd",
    ),
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.lookupUser",
        "user.Lookup reads /etc/passwd",
    ),
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.lookupUserId",
        "user.LookupId reads /etc/passwd",
    ),
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.lookupGroup",
        "user.LookupGroup reads /etc/group",
    ),
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.lookupGroupId",
        "user.LookupGroupId reads /etc/group",
    ),
    requires(
        RuntimeNeed::UserDatabase,
        "os/user.listGroups",
        "User.GroupIds reads /etc/group",
    ),
    requires(
        RuntimeNeed::TempDir,
        "os.CreateTemp",
        "creates temporary files in os.TempDir() ($TMPDIR, else /tmp)",
    ),
    requires(
        RuntimeNeed::TempDir,
        "os.MkdirTemp",
        "creates temporary directories in os.TempDir() ($TMPDIR, else /tmp)",
    ),
];

/// A need found in a binary, with the function that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedNeed {
    /// The need.
    pub need: RuntimeNeed,
    /// The linked function that caused the detection.
    pub function: String,
    /// Why that function implies the need.
    pub why: String,
}

/// Needs of one binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct NeedsReport {
    /// Needs the image must provide, in [`RuntimeNeed::ALL`] order.
    pub needs: Vec<DetectedNeed>,
    /// Needs the binary would have but meets itself (e.g. embedded tzdata).
    pub satisfied_in_binary: Vec<DetectedNeed>,
    /// Needs that an environment variable turns on at run time (`TZ` → zoneinfo).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub reads_environment: Vec<DetectedNeed>,
    /// The linked function that starts other programs (`os.StartProcess`, behind os/exec),
    /// when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub starts_processes: Option<String>,
    /// Number of functions examined.
    pub functions_scanned: usize,
}

impl NeedsReport {
    /// True when the image must provide `need`.
    pub fn requires(&self, need: RuntimeNeed) -> bool {
        self.needs.iter().any(|n| n.need == need)
    }
}

/// The function every way of starting another program goes through (os/exec, syscall's
/// ForkExec wrappers aside).
const START_PROCESS: &str = "os.StartProcess";

/// Accumulates table hits over a stream of function names.
#[derive(Debug, Default)]
pub struct NeedDetector {
    /// For each table row, whether its function was seen.
    seen: Vec<bool>,
    starts_processes: bool,
    scanned: usize,
}

impl NeedDetector {
    /// An empty detector.
    pub fn new() -> Self {
        NeedDetector {
            seen: vec![false; NEED_SIGNALS.len()],
            starts_processes: false,
            scanned: 0,
        }
    }

    /// Feeds one function name.
    pub fn observe(&mut self, name: &str) {
        self.scanned += 1;
        // Cheap filter: every table function starts with one of these bytes.
        if !matches!(name.as_bytes().first(), Some(b'c' | b't' | b'o')) {
            return;
        }
        for (row, signal) in NEED_SIGNALS.iter().enumerate() {
            if signal.function == name {
                self.seen[row] = true;
            }
        }
        if name == START_PROCESS {
            self.starts_processes = true;
        }
    }

    /// The report for everything observed.
    pub fn finish(self) -> NeedsReport {
        let mut report = NeedsReport {
            functions_scanned: self.scanned,
            starts_processes: self.starts_processes.then(|| START_PROCESS.to_string()),
            ..NeedsReport::default()
        };
        let hit = |need: RuntimeNeed, effect: Effect| {
            NEED_SIGNALS
                .iter()
                .zip(&self.seen)
                .find(|(s, seen)| **seen && s.need == need && s.effect == effect)
                .map(|(s, _)| DetectedNeed {
                    need,
                    function: s.function.to_owned(),
                    why: s.why.to_owned(),
                })
        };
        for need in RuntimeNeed::ALL {
            let reads = hit(need, Effect::ReadsEnvironment);
            let Some(required) = hit(need, Effect::Requires) else {
                // Only read through the environment: say whether the data is embedded too.
                if reads.is_some() {
                    report
                        .satisfied_in_binary
                        .extend(hit(need, Effect::SatisfiedInBinary));
                }
                report.reads_environment.extend(reads);
                continue;
            };
            report.reads_environment.extend(reads);
            match hit(need, Effect::SatisfiedInBinary) {
                Some(embedded) => report.satisfied_in_binary.push(embedded),
                None => report.needs.push(required),
            }
        }
        report
    }
}

impl AsRef<str> for Function {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// Needs shown by a list of linked functions ([`Function`]s, `String`s or `&str`s).
pub fn detect_needs<N: AsRef<str>>(functions: &[N]) -> Vec<DetectedNeed> {
    analyze_needs(functions).needs
}

/// Like [`detect_needs`], also naming the needs the binary meets itself.
pub fn analyze_needs<N: AsRef<str>>(functions: &[N]) -> NeedsReport {
    let mut detector = NeedDetector::new();
    for f in functions {
        detector.observe(f.as_ref());
    }
    detector.finish()
}

/// Reads the pclntab of an ELF Go binary (stripped or not) and reports its runtime needs.
pub fn needs_of_binary(bytes: &[u8]) -> Result<NeedsReport, PclntabError> {
    let mut detector = NeedDetector::new();
    pclntab::for_each_function_name(bytes, |name| detector.observe(name))?;
    Ok(detector.finish())
}

/// Why the needs of a binary file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NeedsError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The binary.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a Go ELF binary with a readable function table.
    #[error("{}: {source}", path.display())]
    Pclntab {
        /// The binary.
        path: PathBuf,
        /// The cause.
        source: PclntabError,
    },
}

/// Like [`needs_of_binary`] for a file on disk, reading only the ELF headers and the
/// `.gopclntab` section (a quarter of a stripped binary) when the section exists, the whole
/// file otherwise.
pub fn needs_of_file(path: &Path) -> Result<NeedsReport, NeedsError> {
    let io = |source| NeedsError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let cache = object::ReadCache::new(file);
    if let Ok(elf) = object::File::parse(&cache)
        && matches!(elf.format(), object::BinaryFormat::Elf)
        && let Some(section) = elf.section_by_name(".gopclntab")
        && let Ok(data) = section.data()
    {
        let table = PclnTable::parse(data).map_err(|source| NeedsError::Pclntab {
            path: path.to_owned(),
            source,
        })?;
        let mut detector = NeedDetector::new();
        for f in table.functions() {
            let f = f.map_err(|source| NeedsError::Pclntab {
                path: path.to_owned(),
                source,
            })?;
            detector.observe(f.name);
        }
        return Ok(detector.finish());
    }
    drop(cache);
    let bytes = std::fs::read(path).map_err(io)?;
    needs_of_binary(&bytes).map_err(|source| NeedsError::Pclntab {
        path: path.to_owned(),
        source,
    })
}
