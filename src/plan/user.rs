//! Who the image runs as, and where that user can write. The config's `User` must be something
//! runtimes accept (a name they can find in /etc/passwd, or numbers) and Kubernetes'
//! `runAsNonRoot` can verify (numbers); a user the program looks up (`user.Current`) must have
//! an /etc/passwd entry.

use serde::Serialize;

pub use crate::rootfs::Account;
use crate::rootfs::{NONROOT_UID, NONROOT_USER};

/// The uid gopack gives a named `--user` it creates (the first regular uid many distributions
/// hand out to service accounts, well clear of system users).
pub const CREATED_UID: u32 = 10001;

/// Users every gopack user database has: (name, uid, home).
const KNOWN_USERS: &[(&str, u32, &str)] = &[
    ("root", 0, "/root"),
    ("nobody", 65534, "/nonexistent"),
    ("nonroot", NONROOT_UID as u32, "/home/nonroot"),
];

/// The run user, decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    /// The config's `User`.
    pub user: String,
    /// Why.
    pub reason: String,
    /// The uid the image runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The gid the image runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// The entry gopack adds to /etc/passwd when the user database goes in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// `--user NAME` as given, for a name runtimes must resolve in /etc/passwd.
    #[serde(skip)]
    named: Option<String>,
}

impl UserPlan {
    /// The name runtimes (or the program) must find in /etc/passwd, if the user was named.
    pub fn name_to_resolve(&self) -> Option<&str> {
        self.named.as_deref()
    }

    /// The user's home directory, when it has one gopack makes.
    pub fn home(&self) -> Option<&str> {
        match (&self.account, self.uid) {
            (Some(a), _) => Some(&a.home),
            (None, Some(uid)) if u64::from(uid) == NONROOT_UID => Some("/home/nonroot"),
            _ => None,
        }
    }

    /// The same user once the base image's /etc/passwd is known: a name the base defines is
    /// its user (no entry is created), and the config names it by its numbers.
    pub fn with_base_passwd(&self, passwd: &str) -> UserPlan {
        let Some(account) = &self.account else {
            return self.clone();
        };
        let by_name = passwd.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() >= 4 && Some(f[0]) == self.named.as_deref())
                .then(|| Some((f[2].parse::<u32>().ok()?, f[3].parse::<u32>().ok()?)))
                .flatten()
        });
        match by_name {
            Some((uid, gid)) => UserPlan {
                user: format!("{uid}:{gid}"),
                reason: format!(
                    "--user {}: the base image's /etc/passwd defines it as {uid}:{gid}; the image \
                     runs as those numbers",
                    account.name
                ),
                uid: Some(uid),
                gid: Some(gid),
                account: None,
                named: self.named.clone(),
            },
            None => self.clone(),
        }
    }

    /// Whether the base's /etc/passwd has this user (by uid, or by name when named).
    pub fn known_in(&self, passwd: &str) -> bool {
        passwd.lines().any(|line| {
            let f: Vec<&str> = line.split(':').collect();
            f.len() >= 3
                && (Some(f[0]) == self.named.as_deref()
                    || self.uid.is_some_and(|u| f[2] == u.to_string()))
        })
    }
}

/// Decides the run user from `--user` (`uid[:gid]` or `name[:group]`), with the warnings it
/// deserves. `Err` for a value runtimes cannot use.
pub fn decide_user(given: Option<&str>) -> Result<(UserPlan, Vec<String>), String> {
    let Some(given) = given else {
        return Ok((default_user(), Vec::new()));
    };
    let (user, group) = match given.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (given, None),
    };
    if user.is_empty() || group.is_some_and(str::is_empty) || given.contains(char::is_whitespace) {
        return Err(format!(
            "--user `{given}` is not a user: give uid[:gid] (1000:1000) or name[:group] (app)"
        ));
    }
    let mut warnings = Vec::new();
    let numeric = |s: &str| s.parse::<u32>().ok();
    let uid = numeric(user).or_else(|| known(user).map(|(uid, _)| uid));
    if uid == Some(0) {
        warnings.push(format!(
            "--user {given}: the image runs as root (uid 0), so a process that escapes the \
             container is root on the node, and Kubernetes runAsNonRoot refuses to start it. \
             Leave --user out to run as {NONROOT_USER} (nonroot)"
        ));
    }
    let plan = match (uid, numeric(user)) {
        (Some(uid), Some(_)) => numeric_user(given, uid, group.map(|g| (g, numeric(g)))),
        (Some(uid), None) => UserPlan {
            user: given.to_string(),
            reason: format!("--user {given}: a user every gopack /etc/passwd has ({uid})"),
            uid: Some(uid),
            gid: group.and_then(numeric).or(Some(uid)),
            account: None,
            named: Some(user.to_string()),
        },
        (None, _) => created_user(given, user, group),
    };
    Ok((plan, warnings))
}

fn known(name: &str) -> Option<(u32, &'static str)> {
    KNOWN_USERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, uid, home)| (*uid, *home))
}

/// The default run user: 65532:65532 (nonroot).
pub fn default_user() -> UserPlan {
    UserPlan {
        user: NONROOT_USER.into(),
        reason: "default: 65532:65532 (nonroot), numeric so Kubernetes runAsNonRoot can verify \
                 it, with the same uid/gid as distroless"
            .into(),
        uid: Some(NONROOT_UID as u32),
        gid: Some(NONROOT_UID as u32),
        account: None,
        named: None,
    }
}

/// `--user 1234[:1234]`: kept as given; a uid gopack's /etc/passwd lacks gets an entry `app`
/// (used only when the user database goes in). With no gid, runtimes run it with gid 0, and
/// the entry says the same.
fn numeric_user(given: &str, uid: u32, group: Option<(&str, Option<u32>)>) -> UserPlan {
    let gid = match group {
        Some((_, Some(gid))) => gid,
        Some((_, None)) => uid,
        None => 0,
    };
    let known_uid = KNOWN_USERS.iter().any(|(_, u, _)| *u == uid);
    let account = (!known_uid).then(|| Account {
        name: "app".into(),
        uid,
        gid,
        home: "/home/app".into(),
        group: match group {
            Some((name, None)) => Some((name.to_string(), gid)),
            _ if KNOWN_USERS.iter().any(|(_, u, _)| *u == gid) => None,
            _ => Some(("app".into(), gid)),
        },
    });
    let reason = match &account {
        Some(a) => format!(
            "--user {given}: when the program looks users up (os/user), /etc/passwd gets user {} \
             ({uid}:{gid}, home {})",
            a.name, a.home
        ),
        None => format!("--user {given}"),
    };
    UserPlan {
        user: given.to_string(),
        reason,
        uid: Some(uid),
        gid: Some(gid),
        account,
        named: None,
    }
}

/// `--user app[:group]`: a name no gopack /etc/passwd has. gopack creates it with uid
/// [`CREATED_UID`] (unless a base image defines it) and the config names it by number.
fn created_user(given: &str, name: &str, group: Option<&str>) -> UserPlan {
    let uid = CREATED_UID;
    let gid = group.and_then(|g| g.parse::<u32>().ok()).unwrap_or(uid);
    let group_name = match group {
        Some(g) if g.parse::<u32>().is_err() => g,
        Some(_) => "",
        None => name,
    };
    let account = Account {
        name: name.to_string(),
        uid,
        gid,
        home: format!("/home/{name}"),
        group: (!group_name.is_empty()).then(|| (group_name.to_string(), gid)),
    };
    UserPlan {
        user: format!("{uid}:{gid}"),
        reason: format!(
            "--user {given}: gopack creates user {name} with uid {uid} (gid {gid}, home \
             /home/{name}) in /etc/passwd and /etc/group — unless the base image defines it — \
             and the image runs as {uid}:{gid}, numeric so Kubernetes runAsNonRoot can verify it"
        ),
        uid: Some(uid),
        gid: Some(gid),
        account: Some(account),
        named: Some(name.to_string()),
    }
}

/// Where the run user can write in the image.
#[derive(Clone, Debug, Serialize)]
pub struct WritablePlan {
    /// The run user.
    pub user: String,
    /// Writable places.
    pub paths: Vec<WritablePath>,
    /// What the user cannot write, and how to change that.
    pub read_only: String,
}

/// A place the run user can write.
#[derive(Clone, Debug, Serialize)]
pub struct WritablePath {
    /// The path.
    pub path: String,
    /// Why it is writable.
    pub why: String,
}

/// The writable places for `user`: /tmp, its home, and each `--writable` directory.
pub fn writable_plan(user: &UserPlan, tmp: bool, writable: &[String]) -> WritablePlan {
    if user.uid == Some(0) {
        return WritablePlan {
            user: user.user.clone(),
            paths: vec![WritablePath {
                path: "/".into(),
                why: "the image runs as root".into(),
            }],
            read_only: "nothing: root can write anywhere".into(),
        };
    }
    let mut paths = Vec::new();
    if tmp {
        paths.push(WritablePath {
            path: "/tmp".into(),
            why: "mode 1777, for everyone".into(),
        });
    }
    if let Some(home) = user.home() {
        paths.push(WritablePath {
            path: home.to_string(),
            why: "the user's home: only in images that get /etc/passwd (see the files each binary needs)"
                .into(),
        });
    }
    for path in writable {
        paths.push(WritablePath {
            path: path.clone(),
            why: format!("--writable: owned by {}", user.user),
        });
    }
    WritablePlan {
        user: user.user.clone(),
        paths,
        read_only: format!(
            "everything else belongs to root: {} (next to the binary), / and --data \
             directories are read-only to {}. A program that writes beside its binary or into \
             its data (pocketbase's pb_data) fails with \"permission denied\"; give the \
             directory with --writable PATH",
            super::BINARY_DIR,
            user.user
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserPlan {
        decide_user(Some(s)).unwrap().0
    }

    #[test]
    fn numeric_users_get_an_entry_only_when_unknown() {
        let u = user("1234:1234");
        let a = u.account.clone().unwrap();
        assert_eq!(
            a.passwd_line(),
            "app:x:1234:1234:app:/home/app:/sbin/nologin\n"
        );
        assert_eq!(a.group_line().unwrap(), "app:x:1234:\n");
        assert_eq!(user("1234").account.unwrap().gid, 0);
        assert!(user("65532:65532").account.is_none());
        assert!(user("65532").name_to_resolve().is_none());
    }

    #[test]
    fn named_users_are_created_with_numbers_or_known() {
        let u = user("app");
        assert_eq!(u.user, "10001:10001");
        assert_eq!(u.name_to_resolve(), Some("app"));
        assert_eq!(u.account.as_ref().unwrap().home, "/home/app");
        let n = user("nonroot");
        assert!(n.account.is_none() && n.user == "nonroot" && n.uid == Some(65532));
        let based =
            u.with_base_passwd("root:x:0:0::/root:/bin/sh\napp:x:1500:1600::/app:/bin/sh\n");
        assert_eq!(based.user, "1500:1600");
        assert!(based.account.is_none());
    }

    #[test]
    fn root_is_warned_about_and_garbage_refused() {
        for root in ["root", "0", "0:0", "root:root"] {
            let (_, warnings) = decide_user(Some(root)).unwrap();
            assert!(warnings[0].contains("root"), "{root}");
        }
        assert!(decide_user(Some(":1")).is_err());
        assert!(decide_user(Some("a b")).is_err());
    }

    #[test]
    fn writable_places_are_named() {
        let w = writable_plan(&user("65532:65532"), true, &["/data/db".into()]);
        let paths: Vec<&str> = w.paths.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/tmp", "/home/nonroot", "/data/db"]);
        assert!(w.read_only.contains("/usr/local/bin"));
    }
}
