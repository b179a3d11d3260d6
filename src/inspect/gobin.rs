//! Go binaries inside images: found by content (ELF + the build-info blob where Go's
//! debug/buildinfo finds it: the `.go.buildinfo` section, else the magic `\xff Go buildinf:` at
//! a 16-byte boundary), never by name, and read with gopack's own binary analysis
//! ([`crate::binary`]): build information, linkage (PT_INTERP, DT_NEEDED, stripped) and the
//! runtime needs its linked functions show (CA roots, zoneinfo, user database, /tmp).

use super::record::GoBinary;
use crate::binary::buildinfo::{BuildInfoError, read_build_info};
use crate::binary::elf::read_linkage;
use crate::binary::needs::{DetectedNeed, RuntimeNeed, needs_of_binary};

const BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// The stable name of a need in records and reports.
pub fn need_name(need: RuntimeNeed) -> &'static str {
    match need {
        RuntimeNeed::CaCertificates => "ca_certificates",
        RuntimeNeed::Zoneinfo => "zoneinfo",
        RuntimeNeed::UserDatabase => "user_database",
        RuntimeNeed::TempDir => "temp_dir",
    }
}

/// The need a [`need_name`] names.
pub fn need_of(name: &str) -> Option<RuntimeNeed> {
    RuntimeNeed::ALL.into_iter().find(|n| need_name(*n) == name)
}

/// Reads an ELF file's bytes as a Go binary; `None` when it has no build-info blob (not Go).
/// What cannot be read (a corrupt function table) is kept in [`GoBinary::error`].
pub fn analyse(bytes: &[u8], entry: u32) -> Option<GoBinary> {
    // A quick no for most files; the magic alone is not a yes: programs that read Go binaries
    // (gopack itself) hold it as a constant, not as a build-info blob.
    memchr::memmem::find(bytes, BUILDINFO_MAGIC)?;
    let build_info = read_build_info(bytes);
    if build_info == Err(BuildInfoError::NotFound) {
        return None;
    }
    let mut binary = GoBinary {
        entry,
        ..GoBinary::default()
    };
    let mut errors = Vec::new();
    match build_info {
        Ok(info) => {
            binary.go_version = info.go_version;
            binary.main_package = info.path;
            binary.main_module = info.main.map(|m| (m.path, m.version));
            binary.deps = info
                .deps
                .into_iter()
                .map(|m| {
                    let version = match &m.replace {
                        Some(r) => format!("{} => {} {}", m.version, r.path, r.version),
                        None => m.version.clone(),
                    };
                    (m.path, version)
                })
                .collect();
            binary.settings = info.settings;
        }
        Err(e) => errors.push(format!("build information: {e}")),
    }
    match read_linkage(bytes) {
        Ok(l) => {
            binary.interpreter = l.interpreter;
            binary.needed = l.needed_libraries;
            binary.runpath = l.runpath;
            binary.stripped = l.stripped;
            binary.goarch = l.goarch.map(str::to_string);
        }
        Err(e) => errors.push(format!("ELF headers: {e}")),
    }
    match needs_of_binary(bytes) {
        Ok(report) => {
            let pair = |n: DetectedNeed| (need_name(n.need).to_string(), n.function);
            binary.needs = report.needs.into_iter().map(pair).collect();
            binary.satisfied = report.satisfied_in_binary.into_iter().map(pair).collect();
        }
        Err(e) => errors.push(format!("function table: {e}")),
    }
    if !errors.is_empty() {
        binary.error = Some(errors.join("; "));
    }
    Some(binary)
}

impl GoBinary {
    /// The value of a build setting (`CGO_ENABLED`, `-trimpath`, `GOAMD64`…).
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Static: no interpreter and no shared libraries.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }

    /// Whether the binary needs `need` from the image.
    pub fn requires(&self, need: RuntimeNeed) -> bool {
        self.needs.iter().any(|(n, _)| n == need_name(need))
    }

    /// The linked function that shows `need`.
    pub fn need_function(&self, need: RuntimeNeed) -> Option<&str> {
        self.needs
            .iter()
            .find(|(n, _)| n == need_name(need))
            .map(|(_, f)| f.as_str())
    }
}
