//! `gopack inspect` on real images made here with umoci: a Debian root file system from Debian
//! packages, with layers that overwrite, chmod and delete files; and dive, run on the same
//! archives, as the peer whose figures we reproduce (and whose double count we do not).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{require_tool, run_ok};
use crate::inspect_support::*;

fn root_and_tools(tools: &[&str]) -> bool {
    // umoci unpack/repack keep owners and modes only as root.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "the inspect image tests need root"
        );
        eprintln!("skipped: needs root");
        return false;
    }
    tools.iter().all(|t| require_tool(t))
}

/// Layer 1: a Debian root (dash, dpkg, libc6, passwd, base-files) plus an app with a planted
/// `.env`; layer 2: overwrite, chmod, delete (a file and a directory).
fn debian_image(work: &Path) -> Option<UmociImage> {
    let img = UmociImage::new(work, "deb");
    let root = img.rootfs();
    debian_root(&root, &["dash", "dpkg", "libc6", "passwd", "base-files"])?;
    fs::create_dir_all(root.join("app")).unwrap();
    fs::write(root.join("app/.env"), "DB_PASSWORD=hunter2-for-real\n").unwrap();
    fs::write(root.join("app/data.bin"), noise(1, 300_000)).unwrap();
    fs::write(root.join("app/big.bin"), noise(2, 200_000)).unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n",
    )
    .unwrap();
    img.layer("debian packages and the app");
    fs::remove_file(root.join("app/.env")).unwrap();
    fs::write(root.join("app/data.bin"), noise(3, 300_000)).unwrap();
    fs::set_permissions(root.join("app/big.bin"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::remove_dir_all(root.join("usr/share/doc")).unwrap();
    img.layer("rm .env, rewrite data.bin, chmod big.bin, rm -r /usr/share/doc");
    Some(img)
}

#[test]
fn debian_layers_show_waste_by_kind_and_security_findings_under_umoci() {
    if !root_and_tools(&["umoci", "apt-get", "dpkg"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path()) else {
        return;
    };
    let cache = tmp.path().join("cache");
    let (doc, code) = inspect_json(&cache, &[&img.reference()]);
    assert_eq!(code, 0, "{doc:#}");
    let im = image(&doc);
    let w = &im["waste"];
    // The rewrite and the chmod are told apart, the deleted .env and docs are counted once.
    assert_eq!(w["overwritten_bytes"], 300_000, "{w:#}");
    assert_eq!(w["metadata_only_bytes"], 200_000, "{w:#}");
    let deleted = w["deleted_bytes"].as_u64().unwrap();
    assert!(deleted > 29, "{w:#}");
    assert_eq!(
        w["reclaimable_bytes"].as_u64().unwrap(),
        300_000 + 200_000 + deleted
    );
    assert_eq!(
        w["kept_bytes"].as_u64().unwrap() + w["reclaimable_bytes"].as_u64().unwrap(),
        w["total_file_bytes"].as_u64().unwrap()
    );
    let codes = codes(im);
    for expected in ["IMG101", "IMG201", "IMG202", "IMG204", "IMG303"] {
        assert!(
            codes.contains(&expected.to_string()),
            "{expected} missing: {codes:?}"
        );
    }
    let setid: Vec<&str> = findings(im, "IMG204")
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(setid.contains(&"/usr/bin/passwd"), "{setid:?}");
    let buried = findings(im, "IMG303");
    assert!(
        buried
            .iter()
            .any(|f| f["path"] == "/app/.env" && f["layer"] == 0),
        "{buried:#?}"
    );
    // The secret itself is never printed.
    assert!(!doc.to_string().contains("hunter2"));
    // Layer history is tied to each layer.
    assert_eq!(
        im["layers"][1]["created_by"],
        "rm .env, rewrite data.bin, chmod big.bin, rm -r /usr/share/doc"
    );
    // dpkg and its database are seen; the shell through the /bin/sh symlink.
    let shell = &findings(im, "IMG201")[0];
    assert!(shell["message"].as_str().unwrap().contains("/bin/sh"));
}

#[test]
fn each_source_gives_the_same_report_under_umoci_and_a_registry() {
    if !root_and_tools(&["umoci", "apt-get", "dpkg", "skopeo", "docker-registry"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path()) else {
        return;
    };
    let archive = tmp.path().join("image.oci.tar");
    let docker = tmp.path().join("image.docker.tar");
    skopeo_copy(
        &img.reference(),
        &format!("oci-archive:{}", archive.display()),
    );
    skopeo_copy(
        &img.reference(),
        &format!("docker-archive:{}:example.com/deb:v1", docker.display()),
    );
    let registry = crate::registry_support::Registry::start_plain();
    let remote = format!("docker://{}/deb:v1", registry.host());
    skopeo_copy(&img.reference(), &remote);
    let cache = tmp.path().join("cache");
    let report = |reference: &str, extra: &[&str]| {
        let mut args = vec![reference, "--no-cache"];
        args.extend_from_slice(extra);
        let (mut doc, code) = inspect_json(&cache, &args);
        assert_eq!(code, 0, "{reference}: {doc:#}");
        let im = doc["images"][0].as_object_mut().unwrap();
        im.remove("source");
        doc
    };
    let layout = report(&img.reference(), &[]);
    let host = registry.host();
    assert_eq!(
        layout,
        report(&format!("oci-archive:{}", archive.display()), &[])
    );
    assert_eq!(layout, report(&remote, &["--insecure-registry", &host]));
    // skopeo stores docker-archive layers uncompressed: everything but the compressed form is
    // the same.
    let strip = |mut doc: serde_json::Value| {
        let im = &mut doc["images"][0];
        for key in ["manifest_digest", "manifest_media_type", "config_digest"] {
            im[key] = serde_json::Value::Null;
        }
        im["totals"]["compressed_bytes"] = serde_json::Value::Null;
        for l in im["layers"].as_array_mut().unwrap() {
            for key in ["digest", "media_type", "compression", "size"] {
                l[key] = serde_json::Value::Null;
            }
        }
        for f in im["findings"].as_array_mut().unwrap() {
            // Layer blobs are named in IMG902 messages only; none here.
            assert_ne!(f["rule"], "IMG902");
        }
        doc
    };
    assert_eq!(
        strip(layout),
        strip(report(&format!("docker-archive:{}", docker.display()), &[]))
    );
}

/// dive's JSON export (`--json FILE`) of a docker-archive: (efficiency, wasted bytes).
fn dive(archive: &Path, work: &Path) -> (f64, u64) {
    let out = work.join("dive.json");
    run_ok(
        std::process::Command::new("dive")
            .args(["--source", "docker-archive"])
            .arg(archive)
            .arg("--json")
            .arg(&out)
            .env_remove("CI"),
    );
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    (
        doc["image"]["efficiencyScore"].as_f64().unwrap(),
        doc["image"]["inefficientBytes"].as_u64().unwrap(),
    )
}

#[test]
fn efficiency_matches_dive_and_waste_is_dive_minus_its_double_count_under_umoci() {
    if !root_and_tools(&["umoci", "skopeo", "dive"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = UmociImage::new(tmp.path(), "hand");
    let root = img.rootfs();
    fs::write(root.join("a"), noise(1, 1000)).unwrap();
    fs::write(root.join("b"), noise(2, 500)).unwrap();
    fs::write(root.join("c"), noise(3, 300)).unwrap();
    fs::create_dir(root.join("d")).unwrap();
    fs::write(root.join("d/x"), noise(4, 10)).unwrap();
    fs::write(root.join("d/y"), noise(5, 20)).unwrap();
    img.layer("add a, b, c, d/x, d/y");
    fs::write(root.join("a"), noise(6, 1000)).unwrap();
    fs::remove_file(root.join("b")).unwrap();
    fs::set_permissions(root.join("c"), fs::Permissions::from_mode(0o755)).unwrap();
    img.layer("rewrite a, rm b, chmod c");
    let archive = tmp.path().join("hand.tar");
    skopeo_copy(
        &img.reference(),
        &format!("docker-archive:{}", archive.display()),
    );
    let (dive_efficiency, dive_wasted) = dive(&archive, tmp.path());
    // By hand: all visits 1000+500+300+10+20 + 1000+0+300 = 3130; smallest per path
    // 1000+0+300+10+20 = 1330. dive's waste: a 2000, b 500, c 600 = 3100, which counts the
    // 1000 + 300 bytes that stay; what can be reclaimed is 1800.
    assert!(
        (dive_efficiency - 1330.0 / 3130.0).abs() < 1e-9,
        "{dive_efficiency}"
    );
    assert_eq!(dive_wasted, 3100);
    let (doc, _) = inspect_json(
        &tmp.path().join("cache"),
        &[&format!("docker-archive:{}", archive.display())],
    );
    let w = &image(&doc)["waste"];
    assert!(
        (w["efficiency"].as_f64().unwrap() - dive_efficiency).abs() < 1e-9,
        "{w:#}"
    );
    assert_eq!(w["reclaimable_bytes"], 1800, "{w:#}");
    assert_eq!(
        w["reclaimable_bytes"].as_u64().unwrap(),
        dive_wasted - (1000 + 300)
    );
    assert_eq!(
        (
            w["overwritten_bytes"].as_u64(),
            w["deleted_bytes"].as_u64(),
            w["metadata_only_bytes"].as_u64()
        ),
        (Some(1000), Some(500), Some(300))
    );
    // And the figures dive would print are dive's own.
    assert!((w["dive"]["efficiency"].as_f64().unwrap() - dive_efficiency).abs() < 1e-9);
    assert_eq!(w["dive"]["wasted_bytes"], dive_wasted);
}

#[test]
fn dive_figures_are_reproduced_on_a_debian_image_under_umoci() {
    if !root_and_tools(&["umoci", "apt-get", "dpkg", "skopeo", "dive"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path()) else {
        return;
    };
    let archive = tmp.path().join("deb.tar");
    skopeo_copy(
        &img.reference(),
        &format!("docker-archive:{}", archive.display()),
    );
    let (dive_efficiency, dive_wasted) = dive(&archive, tmp.path());
    let (doc, _) = inspect_json(
        &tmp.path().join("cache"),
        &[&format!("docker-archive:{}", archive.display())],
    );
    let w = &image(&doc)["waste"];
    assert!(
        (w["dive"]["efficiency"].as_f64().unwrap() - dive_efficiency).abs() < 1e-9,
        "{w:#} vs {dive_efficiency}"
    );
    assert_eq!(
        w["dive"]["wasted_bytes"].as_u64().unwrap(),
        dive_wasted,
        "{w:#}"
    );
    // dive counts the copies that stay (data.bin 300 kB and big.bin 200 kB) and leaves out the
    // deleted /usr/share/doc (a directory whiteout is one visit of its path); ours is the
    // reverse: every hidden copy, and only those.
    let env_file = "DB_PASSWORD=hunter2-for-real\n".len() as u64;
    let docs = w["deleted_bytes"].as_u64().unwrap() - env_file;
    assert!(docs > 0);
    assert_eq!(
        w["reclaimable_bytes"].as_u64().unwrap(),
        dive_wasted - (300_000 + 200_000) + docs,
        "{w:#}"
    );
}
