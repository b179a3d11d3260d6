//! What one streaming pass over a layer learns, kept per layer blob digest so a layer shared by
//! many images (a base) is read once: every member's metadata and content digest, the Go
//! binaries found in it with their analysis, the other ELF files with what their headers say,
//! and the few small files later checks read
//! (`/etc/passwd`, `/etc/group`, `os-release`). A record holds no other file content.
//!
//! Records are plain data; [`super::scan`] makes them and [`super::cache`] stores them.

use serde::{Deserialize, Serialize};

use crate::oci::{FileType, PathIssue};

/// Version of what a scan records. Bump it when a scan learns something new (a new flag, a new
/// captured file), so cached records from an older gopack are read again instead of trusted.
/// 2: member names keep bytes that are not UTF-8 (`tar_reader::name_text`).
/// 3: ELF files that are not Go binaries ([`LayerRecord::elf_files`]).
pub const RECORD_FORMAT: u32 = 3;

/// Files whose content a scan keeps (up to [`MAX_CAPTURED`] bytes each), because checks read them.
pub const CAPTURED_PATHS: &[&str] = &[
    "etc/passwd",
    "etc/group",
    "etc/os-release",
    "usr/lib/os-release",
];

/// Largest captured file, in bytes; a bigger one is recorded without its content.
pub const MAX_CAPTURED: u64 = 1 << 20;

/// One layer, as read.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LayerRecord {
    /// [`RECORD_FORMAT`] of the gopack that wrote it.
    pub format: u32,
    /// The layer blob's digest (`sha256:…`), the cache key.
    pub digest: String,
    /// sha256 of the uncompressed tar (the diff_id the config should list).
    pub diff_id: String,
    /// Bytes of the uncompressed tar stream.
    pub uncompressed_size: u64,
    /// Compression found in the blob's first bytes: `gzip`, `zstd` or `none`.
    pub compression: String,
    /// Members in stream order (whiteouts included, aufs metadata left out).
    pub entries: Vec<Entry>,
    /// Go binaries among the regular files, by index into `entries`.
    pub binaries: Vec<GoBinary>,
    /// The other ELF regular files (no Go build-info magic, or too large to look), by index
    /// into `entries`.
    pub elf_files: Vec<ElfFile>,
    /// Content of the [`CAPTURED_PATHS`] present in this layer.
    pub captured: Vec<Captured>,
    /// Members whose stored path or link target was odd (absolute, `..`, escaping the root).
    pub path_problems: Vec<PathProblem>,
    /// Why the pass stopped early (truncated blob, digest mismatch, over a limit); a record with
    /// an error is partial and never cached.
    pub error: Option<String>,
}

/// What a member is. Whiteouts are members too: they delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A hard link to an earlier member.
    Hardlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A sparse file (listed with its real size; content not read).
    Sparse,
    /// Another tar type, listed but not interpreted.
    Other,
    /// `.wh.NAME`: deletes `path` from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides what lower layers put in the directory `path`.
    Opaque,
}

impl Kind {
    /// The kind of a tar member type.
    pub fn of(file_type: FileType) -> Kind {
        match file_type {
            FileType::Regular => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            FileType::Hardlink => Kind::Hardlink,
            FileType::CharDevice => Kind::CharDevice,
            FileType::BlockDevice => Kind::BlockDevice,
            FileType::Fifo => Kind::Fifo,
            FileType::Sparse => Kind::Sparse,
            FileType::Other(_) => Kind::Other,
        }
    }

    /// The tar member type of a kind that is not a whiteout.
    pub fn file_type(self) -> FileType {
        match self {
            Kind::File => FileType::Regular,
            Kind::Dir => FileType::Directory,
            Kind::Symlink => FileType::Symlink,
            Kind::Hardlink => FileType::Hardlink,
            Kind::CharDevice => FileType::CharDevice,
            Kind::BlockDevice => FileType::BlockDevice,
            Kind::Fifo => FileType::Fifo,
            Kind::Sparse => FileType::Sparse,
            Kind::Other | Kind::Whiteout | Kind::Opaque => FileType::Other(b'?'),
        }
    }

    /// Short name used in reports: `file`, `dir`, `symlink`, `hardlink`, `char`, `block`,
    /// `fifo`, `sparse`, `other`, `whiteout`, `opaque`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Hardlink => "hardlink",
            Kind::CharDevice => "char",
            Kind::BlockDevice => "block",
            Kind::Fifo => "fifo",
            Kind::Sparse => "sparse",
            Kind::Other => "other",
            Kind::Whiteout => "whiteout",
            Kind::Opaque => "opaque",
        }
    }
}

/// The content starts like an ELF file.
pub const FLAG_ELF: u8 = 1;
/// The first 64 KiB hold a PEM private key (`-----BEGIN … PRIVATE KEY-----`).
pub const FLAG_PRIVATE_KEY: u8 = 2;

/// One member of a layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Normalised path (no leading `/`, no `.`/`..`); for whiteouts, the path deleted.
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// Permission, set-id and sticky bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Content bytes (uncompressed); 0 for all but files and sparse files.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Symlink target as stored, or hard-link target normalised.
    pub link: Option<String>,
    /// sha256 of the content, for regular files whose content was read.
    pub sha256: Option<[u8; 32]>,
    /// [`FLAG_ELF`], [`FLAG_PRIVATE_KEY`].
    pub flags: u8,
}

/// A small file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    /// Index into [`LayerRecord::entries`].
    pub entry: u32,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A member whose stored name was odd. gopack normalises it as containerd does (kept inside the
/// root) and reports it; it never follows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathProblem {
    /// Index into [`LayerRecord::entries`].
    pub entry: u32,
    /// The member's own path (`false`) or its hard-link target (`true`).
    pub in_link: bool,
    /// What was odd.
    pub issue: PathIssueKind,
}

/// [`PathIssue`], serialisable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathIssueKind {
    /// Started with `/`.
    Absolute,
    /// Had `..` components that stayed inside the root.
    DotDot,
    /// Had `..` components that climbed above the root.
    EscapesRoot,
}

impl From<PathIssue> for PathIssueKind {
    fn from(i: PathIssue) -> Self {
        match i {
            PathIssue::Absolute => PathIssueKind::Absolute,
            PathIssue::DotDot => PathIssueKind::DotDot,
            PathIssue::EscapesRoot => PathIssueKind::EscapesRoot,
        }
    }
}

/// A Go binary found in a layer (ELF with the build-info magic) and what it says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBinary {
    /// Index into [`LayerRecord::entries`].
    pub entry: u32,
    /// Go version as the toolchain spells it (`go1.26.1`), empty when unreadable.
    pub go_version: String,
    /// Import path of the main package.
    pub main_package: String,
    /// Main module path and version (`(devel)` when unstamped).
    pub main_module: Option<(String, String)>,
    /// Dependencies: module path and version.
    pub deps: Vec<(String, String)>,
    /// `build` settings in order (`-trimpath`, `CGO_ENABLED`, `GOAMD64`, `vcs.revision`…).
    pub settings: Vec<(String, String)>,
    /// PT_INTERP, the dynamic loader, if any.
    pub interpreter: Option<String>,
    /// DT_NEEDED shared libraries, in order.
    pub needed: Vec<String>,
    /// DT_RUNPATH (else DT_RPATH) directories, as written (`$ORIGIN` kept).
    pub runpath: Vec<String>,
    /// No `.symtab` (built with `-s`).
    pub stripped: bool,
    /// The ELF machine as a GOARCH name.
    pub goarch: Option<String>,
    /// Runtime needs the image must meet: need name (`ca_certificates`, `zoneinfo`,
    /// `user_database`, `temp_dir`) and the linked function that shows it.
    pub needs: Vec<(String, String)>,
    /// Needs the binary meets itself (embedded tzdata), same shape.
    pub satisfied: Vec<(String, String)>,
    /// What could not be read (build info or function table), if anything.
    pub error: Option<String>,
}

/// An ELF regular file that is not a Go binary (found by its first bytes, `\x7fELF`), and what
/// its headers say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfFile {
    /// Index into [`LayerRecord::entries`].
    pub entry: u32,
    /// The ELF file header, when it could be read (its first 64 bytes are enough).
    pub header: Option<ElfHeader>,
    /// PT_INTERP, the dynamic loader, if any.
    pub interpreter: Option<String>,
    /// DT_NEEDED shared libraries, in order.
    pub needed: Vec<String>,
    /// DT_RUNPATH (else DT_RPATH) directories, as written (`$ORIGIN` kept).
    pub runpath: Vec<String>,
    /// No `.symtab`.
    pub stripped: bool,
    /// Why the linkage (PT_INTERP, DT_NEEDED, sections) is unknown: too large to analyse, or
    /// malformed headers. `interpreter`, `needed` and `stripped` mean nothing then.
    pub error: Option<String>,
}

/// What an ELF file header says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfHeader {
    /// `ELF32` or `ELF64`.
    pub class: String,
    /// The machine as `uname -m` names it (`x86_64`, `aarch64`…; `EM_<n>` when unnamed).
    pub machine: String,
    /// The machine as a GOARCH name (`amd64`…), what image platforms use.
    pub goarch: Option<String>,
    /// Executable, PIE, shared object…; PIE is only told apart once the linkage is read.
    pub kind: crate::binary::elf::ElfKind,
}
