use super::*;
use crate::oci::testing::{Member, image_of, tar_of};
use crate::oci::{BlobStore, StoreBlobs};

fn tree(layers: &[Vec<u8>]) -> FileTree {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let image = image_of(&store, layers);
    FileTree::read_image(&StoreBlobs(&store), &image, TarLimits::default()).unwrap()
}

fn paths(t: &FileTree) -> Vec<String> {
    t.walk().map(|(p, _)| p).collect()
}

#[test]
fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
    use Member::*;
    let t = tree(&[
        tar_of(&[
            File("etc/passwd", b"root"),
            File("etc/group", b""),
            File("opt/a/x", b""),
            File("opt/a/y", b""),
            File("var/old/f", b""),
        ]),
        // Same layer: delete lower opt/a's content and add a new file, marker last; delete
        // var/old and recreate it as a file before the whiteout member.
        tar_of(&[
            File("opt/a/new", b"n"),
            File("opt/a/.wh..wh..opq", b""),
            File("var/old", b"now a file"),
            File("var/.wh.old", b""),
            File("etc/.wh.passwd", b""),
        ]),
    ]);
    assert_eq!(
        paths(&t),
        [
            "etc",
            "etc/group",
            "opt",
            "opt/a",
            "opt/a/new",
            "var",
            "var/old"
        ]
    );
    let old = t.lookup("var/old").unwrap();
    assert_eq!(t.info(old).file_type, FileType::Regular);
    assert_eq!(t.info(old).size, 10);
}

#[test]
fn whiteouts_report_what_they_delete() {
    use Member::*;
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let image = image_of(
        &store,
        &[
            tar_of(&[File("a/b/c", b"123"), File("a/d", b"")]),
            tar_of(&[File(".wh.a", b"")]),
        ],
    );
    let mut t = FileTree::new();
    let mut deleted = Vec::new();
    for (i, layer) in image.manifest.layers.iter().enumerate() {
        let mut r = open_layer(&StoreBlobs(&store), layer, TarLimits::default()).unwrap();
        t.begin_layer(i as u32);
        while let Some(e) = r.next_entry().unwrap() {
            t.apply(&e);
        }
        t.end_layer_with(|p, info| deleted.push((p.to_string(), info.size)));
    }
    deleted.sort();
    assert_eq!(
        deleted,
        [
            ("a".to_string(), 0),
            ("a/b".into(), 0),
            ("a/b/c".into(), 3),
            ("a/d".into(), 0)
        ]
    );
    assert!(t.is_empty());
}

#[test]
fn symlinks_resolve_relative_absolute_and_through_directories() {
    use Member::*;
    let t = tree(&[tar_of(&[
        File("usr/lib/libc.so.6", b""),
        File("usr/lib64/ld-linux-x86-64.so.2", b""),
        Symlink("lib", "usr/lib"),
        Symlink("lib64", "/usr/lib64"),
        Symlink("usr/lib/libc.so", "../lib/./libc.so.6"),
        Symlink("dangling", "nowhere"),
        Hardlink("usr/bin/ld.so", "./usr/lib64/ld-linux-x86-64.so.2"),
    ])]);
    let ld = t.lookup("usr/bin/ld.so").unwrap();
    assert_eq!(
        t.info(ld).link_target.as_deref(),
        Some("usr/lib64/ld-linux-x86-64.so.2")
    );
    assert!(t.exists("/lib/libc.so.6"));
    assert!(t.exists("lib64/ld-linux-x86-64.so.2"));
    assert!(t.exists("/lib/libc.so"));
    assert!(!t.exists("/lib/libm.so.6"));
    assert!(!t.exists("dangling"));
    assert!(t.lookup_link("dangling").is_some());
    assert_eq!(
        t.path(t.lookup("lib/libc.so").unwrap()),
        "usr/lib/libc.so.6"
    );
}

#[test]
fn symlink_loops_and_deep_chains_end() {
    use Member::*;
    let t = tree(&[tar_of(&[
        Symlink("a", "b"),
        Symlink("b", "a"),
        Symlink("self", "."),
    ])]);
    assert!(!t.exists("a/x"));
    assert!(t.exists("self/self/self"));
    let mut links = vec![File("d/f", b"")];
    let names: Vec<String> = (0..60).map(|i| format!("l{i}")).collect();
    let targets: Vec<String> = (0..60)
        .map(|i| {
            if i == 0 {
                "d".into()
            } else {
                format!("l{}", i - 1)
            }
        })
        .collect();
    for i in 0..60 {
        links.push(Symlink(&names[i], &targets[i]));
    }
    let t = tree(&[tar_of(&links)]);
    assert!(t.exists("l30/f"), "30 nested links resolve");
    assert!(
        !t.exists("l59/f"),
        "more than 40 nested links do not (ELOOP)"
    );
}

/// Issue 8, item 9: each link names the one below it several times, so resolving without
/// memoisation takes 3^N steps (N = 30 here: forever).
#[test]
fn a_fan_of_symlinks_resolves_in_linear_time() {
    use Member::*;
    let mut members = vec![Dir("d"), File("d/f", b"")];
    let names: Vec<String> = (0..31).map(|i| format!("l{i}")).collect();
    let targets: Vec<String> = (0..31)
        .map(|i| {
            if i == 0 {
                "d".into()
            } else {
                let p = &names[i - 1];
                format!("{p}/../{p}/../{p}")
            }
        })
        .collect();
    for i in 0..31 {
        members.push(Symlink(&names[i], &targets[i]));
    }
    let t = tree(&[tar_of(&members)]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(t.exists("l30/f")).unwrap());
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("resolving a fan of 31 links finishes (it is exponential without memoisation)");
    assert!(found, "31 nested links are within the limit of 40");
}

#[test]
fn insert_with_reports_nodes_dropped_by_a_change_of_kind() {
    let file = |layer, size| NodeInfo {
        file_type: FileType::Regular,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
        link_target: None,
        layer,
        implicit: false,
    };
    let mut t = FileTree::new();
    t.begin_layer(0);
    t.insert("a/x", file(0, 3));
    t.insert("a/y/z", file(0, 4));
    t.insert("b", file(0, 5));
    t.end_layer();
    t.begin_layer(1);
    let mut dropped = Vec::new();
    // A file where a directory was: everything below it goes.
    let applied = t.insert_with("a", file(1, 1), &mut |p, i| {
        dropped.push((p.to_string(), i.size))
    });
    assert!(matches!(applied, Applied::Replaced(i) if i.file_type == FileType::Directory));
    // A member below a file: the file goes.
    t.insert_with("b/c", file(1, 2), &mut |p, i| {
        dropped.push((p.to_string(), i.size))
    });
    dropped.sort();
    assert_eq!(
        dropped,
        [
            ("a/x".to_string(), 3),
            ("a/y".to_string(), 0),
            ("a/y/z".to_string(), 4),
            ("b".to_string(), 5)
        ]
    );
}

#[test]
fn queued_whiteouts_apply_like_whiteout_members() {
    let mut t = FileTree::new();
    let dir = NodeInfo::implicit_dir(0);
    t.begin_layer(0);
    t.insert("opt/a/x", dir.clone());
    t.insert("etc/passwd", dir);
    t.end_layer();
    t.begin_layer(1);
    t.whiteout(Whiteout::Opaque("opt".into()));
    t.whiteout(Whiteout::Remove("etc/passwd".into()));
    t.whiteout(Whiteout::Meta);
    let mut removed = Vec::new();
    t.end_layer_with(|p, _| removed.push(p.to_string()));
    assert_eq!(removed, ["opt/a", "opt/a/x", "etc/passwd"]);
    assert_eq!(paths(&t), ["etc", "opt"]);
}
