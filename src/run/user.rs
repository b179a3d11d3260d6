//! The image's `User` as numbers, the way Docker and runc's libcontainer read it: `""` is root;
//! `user`, `uid`, `user:group`, `uid:gid` (and mixed); names are looked up in the unpacked
//! root's `/etc/passwd` and `/etc/group` (read inside the root, bounded); a numeric uid with no
//! passwd entry gets gid 0 and home `/`.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};

/// Who the container's process runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunUser {
    /// User id inside the container.
    pub uid: u32,
    /// Primary group id inside the container.
    pub gid: u32,
    /// Home directory from the passwd entry (for `HOME`), `/` when there is none.
    pub home: String,
}

/// Largest `/etc/passwd` or `/etc/group` read, bytes.
const MAX_DB: u64 = 4 << 20;

/// A passwd or group line's fields.
fn entries(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(':').collect::<Vec<_>>())
}

/// Resolves `spec` (the image's `User`) against the root file system at `root`.
pub fn resolve_user(spec: &str, root: &Path) -> Result<RunUser, String> {
    let spec = spec.trim();
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = read_in_root(root, "etc/passwd").unwrap_or_default();
    let numeric = |s: &str| s.parse::<u32>().ok();
    let (uid, mut gid, home) = if user.is_empty() {
        (0, 0, "/root".to_string())
    } else {
        let entry = entries(&passwd)
            .find(|f| f.len() >= 4 && (f[0] == user || (numeric(user).is_some() && f[2] == user)));
        match (entry, numeric(user)) {
            (Some(f), _) => (
                numeric(f[2]).ok_or_else(|| format!("/etc/passwd gives `{user}` a bad uid"))?,
                numeric(f[3]).unwrap_or(0),
                f.get(5)
                    .filter(|h| !h.is_empty())
                    .unwrap_or(&"/")
                    .to_string(),
            ),
            (None, Some(uid)) => (uid, 0, "/".to_string()),
            (None, None) => {
                return Err(format!(
                    "the image's user `{user}` is not in its /etc/passwd; rebuild with a \
                     numeric user (--user 65532:65532) or one the image defines"
                ));
            }
        }
    };
    if let Some(group) = group.filter(|g| !g.is_empty()) {
        gid = match numeric(group) {
            Some(g) => g,
            None => {
                let groups = read_in_root(root, "etc/group").unwrap_or_default();
                entries(&groups)
                    .find(|f| f.len() >= 3 && f[0] == group)
                    .and_then(|f| numeric(f[2]))
                    .ok_or_else(|| {
                        format!("the image's group `{group}` is not in its /etc/group")
                    })?
            }
        };
    }
    Ok(RunUser { uid, gid, home })
}

/// The text of `path` inside the root (symlinks resolved inside it), when it is there.
pub(super) fn read_in_root(root: &Path, path: &str) -> Option<String> {
    let dir: OwnedFd = std::fs::File::open(root).ok()?.into();
    let fd = rustix::fs::openat2(
        &dir,
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()?;
    let file = std::fs::File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_DB).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/sbin/nologin\n\
             nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        dir
    }

    #[test]
    fn users_read_as_docker_reads_them() {
        let dir = root();
        let r = |s: &str| resolve_user(s, dir.path());
        assert_eq!(
            r("").unwrap(),
            RunUser {
                uid: 0,
                gid: 0,
                home: "/root".into()
            }
        );
        assert_eq!(
            r("nonroot").unwrap(),
            RunUser {
                uid: 65532,
                gid: 65532,
                home: "/home/nonroot".into()
            }
        );
        assert_eq!(r("65532").unwrap().home, "/home/nonroot");
        assert_eq!(
            r("1000").unwrap(),
            RunUser {
                uid: 1000,
                gid: 0,
                home: "/".into()
            }
        );
        assert_eq!(r("1000:1000").unwrap().gid, 1000);
        assert_eq!(r("nonroot:staff").unwrap().gid, 50);
        assert!(r("ghost").unwrap_err().contains("not in its /etc/passwd"));
        assert!(r("0:ghosts").unwrap_err().contains("/etc/group"));
    }

    #[test]
    fn an_etc_symlink_out_of_the_root_is_read_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("etc")).unwrap();
        // /etc inside the root is the root itself, which holds no passwd: not the host's.
        assert_eq!(read_in_root(dir.path(), "etc/passwd"), None);
        assert!(resolve_user("root", dir.path()).is_err());
    }
}

/// One `uidMappings`/`gidMappings` entry: container ids `container..container+size` are host
/// ids `host..host+size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    /// First id inside.
    pub container: u32,
    /// First id outside.
    pub host: u32,
    /// How many.
    pub size: u32,
}

/// The user namespace of a container started by a normal user, and who its process is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootlessIds {
    /// User id mappings.
    pub uid: Vec<IdMap>,
    /// Group id mappings.
    pub gid: Vec<IdMap>,
    /// The process's user inside (the image's, or root when it cannot be mapped).
    pub process: RunUser,
    /// Why the image's user could not be kept, when it could not.
    pub note: Option<String>,
}

/// The mapping for a normal user (`host_uid`/`host_gid`, named `host_name` when known) running
/// as the image's `user`. The container's root is always the user itself (runtimes need root
/// mapped). The image's other ids need a subordinate range (`/etc/subuid` and `/etc/subgid`
/// texts, shadow-utils' `NAME_OR_UID:START:COUNT`) and `newuidmap`/`newgidmap`
/// (`helpers`); without them the process runs as root inside, which is said in `note`.
pub fn rootless_ids(
    user: &RunUser,
    host: (u32, u32),
    host_name: Option<&str>,
    subuid: &str,
    subgid: &str,
    helpers: bool,
) -> RootlessIds {
    let own = |host_id| IdMap {
        container: 0,
        host: host_id,
        size: 1,
    };
    if user.uid == 0 && user.gid == 0 {
        return RootlessIds {
            uid: vec![own(host.0)],
            gid: vec![own(host.1)],
            process: user.clone(),
            note: None,
        };
    }
    let range = |text: &str| subordinate_range(text, host.0, host_name);
    match (range(subuid), range(subgid)) {
        (Some((us, uc)), Some((gs, gc))) if helpers && user.uid <= uc && user.gid <= gc => {
            RootlessIds {
                uid: vec![
                    own(host.0),
                    IdMap {
                        container: 1,
                        host: us,
                        size: uc,
                    },
                ],
                gid: vec![
                    own(host.1),
                    IdMap {
                        container: 1,
                        host: gs,
                        size: gc,
                    },
                ],
                process: user.clone(),
                note: None,
            }
        }
        (u, g) => {
            let who = host_name
                .map(str::to_string)
                .unwrap_or_else(|| host.0.to_string());
            let why = if u.is_none() || g.is_none() {
                format!("there is no /etc/subuid and /etc/subgid range for {who}")
            } else if !helpers {
                "newuidmap/newgidmap (package uidmap) are not installed".to_string()
            } else {
                format!("the /etc/subuid or /etc/subgid range of {who} is too small")
            };
            RootlessIds {
                uid: vec![own(host.0)],
                gid: vec![own(host.1)],
                process: RunUser {
                    uid: 0,
                    gid: 0,
                    home: user.home.clone(),
                },
                note: Some(format!(
                    "the image's user {}:{} cannot be mapped ({why}), so the program runs as \
                     root inside a user namespace (your own user outside). To keep the image's \
                     user: `sudo usermod --add-subuids 100000-165535 --add-subgids \
                     100000-165535 {who}`, or run as root",
                    user.uid, user.gid
                )),
            }
        }
    }
}

/// The `START, COUNT` of the first `/etc/subuid`-style line (`NAME_OR_UID:START:COUNT`) for
/// `uid` or `name`.
fn subordinate_range(text: &str, uid: u32, name: Option<&str>) -> Option<(u32, u32)> {
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() == 3 && (Some(f[0]) == name || f[0] == uid.to_string()))
        .and_then(|f| {
            Some((
                f[1].trim().parse::<u32>().ok()?,
                f[2].trim().parse::<u32>().ok()?,
            ))
        })
}

#[cfg(test)]
mod rootless_tests {
    use super::*;

    fn nonroot() -> RunUser {
        RunUser {
            uid: 65532,
            gid: 65532,
            home: "/home/nonroot".into(),
        }
    }

    #[test]
    fn a_subordinate_range_keeps_the_images_user() {
        let ids = rootless_ids(
            &nonroot(),
            (1000, 1000),
            Some("dev"),
            "dev:100000:65536\n",
            "1000:200000:65536\n",
            true,
        );
        assert_eq!(ids.process, nonroot());
        assert_eq!(
            ids.uid[1],
            IdMap {
                container: 1,
                host: 100000,
                size: 65536
            }
        );
        assert_eq!(
            ids.gid[1],
            IdMap {
                container: 1,
                host: 200000,
                size: 65536
            }
        );
        assert_eq!(ids.note, None);
    }

    #[test]
    fn without_one_the_program_runs_as_root_inside_and_says_why() {
        let ids = rootless_ids(&nonroot(), (1000, 1000), Some("dev"), "", "", true);
        assert_eq!(ids.process.uid, 0);
        assert_eq!(
            ids.uid,
            [IdMap {
                container: 0,
                host: 1000,
                size: 1
            }]
        );
        assert!(ids.note.unwrap().contains("no /etc/subuid"));
        let small = rootless_ids(
            &nonroot(),
            (1000, 1000),
            Some("dev"),
            "dev:100000:1000",
            "dev:100000:1000",
            true,
        );
        assert!(small.note.unwrap().contains("too small"));
        let no_helpers = rootless_ids(
            &nonroot(),
            (1000, 1000),
            Some("dev"),
            "dev:1:65536",
            "dev:1:65536",
            false,
        );
        assert!(no_helpers.note.unwrap().contains("newuidmap"));
        let root = RunUser {
            uid: 0,
            gid: 0,
            home: "/root".into(),
        };
        assert_eq!(
            rootless_ids(&root, (1000, 1000), None, "", "", false).note,
            None
        );
    }
}
