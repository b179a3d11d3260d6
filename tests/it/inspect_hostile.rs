//! Hostile images: members with `..` and absolute paths, hard links out of the root, symlink
//! loops, a huge pax header, a truncated blob, a blob whose digest lies and a config whose
//! diff_id lies. Each is reported (IMG901/IMG902/IMG903), none is followed or written to disk,
//! and inspect ends quickly with exit 1 when a layer cannot be read whole.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::inspect_support::*;

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A tar member with a raw name (the tar crate refuses `..` through its safe setters).
fn member(tar: &mut Vec<u8>, name: &str, kind: u8, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    tar.extend_from_slice(h.as_bytes());
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
}

fn end(mut tar: Vec<u8>) -> Vec<u8> {
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

/// Writes an OCI layout at `dir` with one image of `layers` (uncompressed tars), the config
/// listing `diff_ids` (their real ones unless given).
fn layout(dir: &Path, layers: &[Vec<u8>], diff_ids: Option<Vec<String>>) -> Vec<String> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha(bytes);
        fs::write(blobs.join(&d[7..]), bytes).unwrap();
        d
    };
    let digests: Vec<String> = layers.iter().map(|l| put(l)).collect();
    let diff_ids = diff_ids.unwrap_or_else(|| digests.clone());
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "65532"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = put(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layers.iter().zip(&digests).map(|(l, d)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.len()
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let manifest_digest = put(&manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len()}],
    });
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digests
}

fn timed(cache: &Path, dir: &Path) -> (serde_json::Value, i32) {
    let start = Instant::now();
    let r = inspect_json(cache, &[&format!("oci:{}", dir.display()), "--no-cache"]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    r
}

#[test]
fn escaping_paths_links_and_loops_are_reported_and_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Vec::new();
    member(&mut t, "../../../tmp/gopack-evil-escape", b'0', "", b"evil");
    member(&mut t, "/abs/file", b'0', "", b"abs");
    member(&mut t, "a/../b", b'0', "", b"dotdot");
    member(&mut t, "hl", b'1', "../../etc/shadow", b"");
    member(&mut t, "loop1", b'2', "loop2", b"");
    member(&mut t, "loop2", b'2', "loop1", b"");
    member(&mut t, "etc/passwd", b'2', "/etc/passwd", b"");
    member(&mut t, "out", b'2', "../../../../etc", b"");
    let dir = tmp.path().join("layout");
    layout(&dir, &[end(t)], None);
    let (doc, code) = timed(&tmp.path().join("cache"), &dir);
    assert_eq!(code, 0, "{doc:#}");
    let im = image(&doc);
    let odd: Vec<(&str, &str)> = findings(im, "IMG901")
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert!(
        odd.contains(&("/tmp/gopack-evil-escape", "error")),
        "{odd:?}"
    );
    assert!(odd.contains(&("/abs/file", "info")), "{odd:?}");
    assert!(odd.contains(&("/b", "warning")), "{odd:?}");
    assert!(odd.contains(&("/hl", "error")), "{odd:?}");
    let loops: Vec<&str> = findings(im, "IMG903")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        loops.contains(&"/loop1") && loops.contains(&"/etc/passwd"),
        "{loops:?}"
    );
    assert!(
        !loops.contains(&"/out"),
        "a link that leaves the root is clamped, not a loop"
    );
    assert!(!Path::new("/tmp/gopack-evil-escape").exists());
    // --cat of a link out of the root stays inside the image.
    let out = inspect(
        &tmp.path().join("cache"),
        &[&format!("oci:{}", dir.display()), "--cat", "/out/shadow"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

/// A name, how to spoil the layout, the layer, the diff_ids to list.
type Case = (&'static str, Spoil, Vec<u8>, Option<Vec<String>>);
type Spoil = Box<dyn Fn(&Path, &[String])>;

#[test]
fn unreadable_layers_are_reported_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let mut good = Vec::new();
    member(&mut good, "etc/hostname", b'0', "", b"box\n");
    let good = end(good);
    // A pax header declaring more than the 1 MiB limit.
    let mut huge = Vec::new();
    member(
        &mut huge,
        "PaxHeaders/x",
        b'x',
        "",
        &vec![b'a'; (1 << 20) + 600],
    );
    member(&mut huge, "x", b'0', "", b"x");
    let cases: Vec<Case> = vec![
        ("huge header", Box::new(|_, _| {}), end(huge), None),
        (
            "truncated",
            Box::new(|dir, d| {
                let p = dir.join("blobs/sha256").join(&d[0][7..]);
                let b = fs::read(&p).unwrap();
                fs::write(&p, &b[..b.len() / 2]).unwrap();
            }),
            good.clone(),
            None,
        ),
        (
            "digest lies",
            Box::new(|dir, d| {
                let p = dir.join("blobs/sha256").join(&d[0][7..]);
                let mut b = fs::read(&p).unwrap();
                b[520] ^= 0xff;
                fs::write(&p, &b).unwrap();
            }),
            good.clone(),
            None,
        ),
        (
            "diff_id lies",
            Box::new(|_, _| {}),
            good.clone(),
            Some(vec![sha(b"something else")]),
        ),
    ];
    for (name, spoil, layer, diff_ids) in cases {
        let dir = tmp.path().join(name.replace(' ', "-"));
        let digests = layout(&dir, &[layer], diff_ids);
        spoil(&dir, &digests);
        let (doc, code) = timed(&cache, &dir);
        let f = findings(image(&doc), "IMG902");
        assert_eq!(f.len(), 1, "{name}: {doc:#}");
        assert_eq!(code, 1, "{name}");
        let msg = f[0]["message"].as_str().unwrap();
        let expected = match name {
            "huge header" => "refused",
            "truncated" => "bytes",
            "digest lies" => "digest",
            _ => "diff_id",
        };
        assert!(msg.contains(expected), "{name}: {msg}");
    }
}
