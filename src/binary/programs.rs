//! Absolute program paths a Go binary may run (`exec.Command("/bin/sh", …)`), read from its
//! read-only data. A heuristic, used only to warn: Go packs string constants back to back with
//! no terminator (`/bin/shecho hi…`), so a path's end is not marked. A candidate is a run of
//! file-name bytes after one of the usual program directories; it is reported as the longest
//! well-known program name it starts with, or whole when it is followed by a byte that cannot
//! be part of a file name.

use object::{Object, ObjectSection};

/// Directories programs are run from by absolute path.
const PROGRAM_DIRS: &[&str] = &[
    "/usr/local/sbin/",
    "/usr/local/bin/",
    "/usr/sbin/",
    "/usr/bin/",
    "/sbin/",
    "/bin/",
];

/// Programs Go services commonly run by absolute path (shells, VCS, archivers, network and
/// system tools).
const KNOWN_PROGRAMS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "ksh",
    "env",
    "git",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "curl",
    "wget",
    "tar",
    "gzip",
    "gunzip",
    "bzip2",
    "xz",
    "zip",
    "unzip",
    "cp",
    "mv",
    "rm",
    "ln",
    "ls",
    "cat",
    "echo",
    "true",
    "false",
    "sleep",
    "kill",
    "date",
    "hostname",
    "uname",
    "id",
    "whoami",
    "su",
    "sudo",
    "mount",
    "umount",
    "ip",
    "ifconfig",
    "iptables",
    "ip6tables",
    "nft",
    "sysctl",
    "modprobe",
    "ps",
    "openssl",
    "gpg",
    "sendmail",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "java",
    "docker",
    "kubectl",
    "helm",
    "busybox",
    "nsenter",
    "unshare",
    "chroot",
    "systemctl",
    "journalctl",
    "logger",
    "crontab",
    "find",
    "xargs",
    "sed",
    "awk",
    "grep",
    "sort",
    "ldconfig",
    "getent",
    "useradd",
    "groupadd",
    "chown",
    "chmod",
    "mkdir",
    "touch",
    "tee",
    "head",
    "tail",
    "ffmpeg",
    "ffprobe",
    "convert",
    "lsof",
    "tc",
    "blkid",
    "lsblk",
    "losetup",
    "dmsetup",
    "cryptsetup",
    "mkfs",
    "fsck",
    "df",
    "du",
    "stat",
    "nc",
    "ping",
    "dig",
    "nslookup",
    "ssh-keygen",
    "ssh-agent",
    "pg_dump",
    "mysqldump",
    "sqlite3",
    "tini",
    "dumb-init",
];

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._+-".contains(&b)
}

/// Candidate program paths in `rodata`, sorted and without duplicates.
pub fn program_paths_in(rodata: &[u8]) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    for dir in PROGRAM_DIRS {
        let needle = dir.as_bytes();
        let mut at = 0;
        while let Some(offset) = find(&rodata[at..], needle) {
            let start = at + offset;
            let name_start = start + needle.len();
            let len = rodata[name_start..]
                .iter()
                .take(64)
                .take_while(|b| is_name_byte(**b))
                .count();
            let run = &rodata[name_start..name_start + len];
            // Skip `/usr/bin/` found inside `/usr/local/bin/`: the longer directory matched too.
            let inside_longer = PROGRAM_DIRS.iter().any(|longer| {
                longer.len() > dir.len()
                    && longer.ends_with(dir)
                    && rodata[..start + needle.len()].ends_with(longer.as_bytes())
            });
            if !inside_longer && let Some(name) = program_name(run, rodata.get(name_start + len)) {
                found.insert(format!("{dir}{name}"));
            }
            at = name_start.max(start + 1);
        }
    }
    found.into_iter().collect()
}

/// The program a run of name bytes names: the longest known program it starts with, or the
/// whole run when a NUL follows it (the only byte that cannot start the next packed string).
fn program_name(run: &[u8], next: Option<&u8>) -> Option<String> {
    let text = std::str::from_utf8(run).ok()?;
    let known = KNOWN_PROGRAMS
        .iter()
        .filter(|p| text.starts_with(*p))
        .max_by_key(|p| p.len());
    match known {
        Some(p) => Some((*p).to_string()),
        None if !text.is_empty() && next == Some(&0) => Some(text.to_string()),
        None => None,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Candidate program paths in the read-only data of an ELF binary (`.rodata`); empty when it
/// has none or cannot be read.
pub fn program_paths(binary: &[u8]) -> Vec<String> {
    let Ok(file) = object::File::parse(binary) else {
        return Vec::new();
    };
    file.section_by_name(".rodata")
        .and_then(|s| s.data().ok())
        .map(program_paths_in)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_strings_are_cut_at_known_programs() {
        let data = b"cmd/gocryptonetdns/bin/shecho hiversion/usr/bin/gitexit status";
        assert_eq!(program_paths_in(data), ["/bin/sh", "/usr/bin/git"]);
    }

    #[test]
    fn unknown_programs_count_only_when_their_end_is_marked() {
        assert_eq!(
            program_paths_in(b"x/usr/local/bin/mytool\0y"),
            ["/usr/local/bin/mytool"]
        );
        assert!(program_paths_in(b"x/usr/local/bin/mytoolexit status").is_empty());
        assert_eq!(program_paths_in(b"/bin/bashx"), ["/bin/bash"]);
    }
}
