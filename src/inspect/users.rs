//! The user an image runs as, resolved the way runc does: `USER` is `user[:group]`, each part a
//! name (looked up in the image's /etc/passwd or /etc/group) or a numeric id.

/// One /etc/passwd line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u64,
    /// Primary group id.
    pub gid: u64,
}

/// Parses /etc/passwd (`name:x:uid:gid:gecos:home:shell`); malformed lines are skipped.
pub fn parse_passwd(text: &[u8]) -> Vec<PasswdEntry> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?.to_string();
            let _password = f.next()?;
            let uid = f.next()?.parse().ok()?;
            let gid = f.next()?.parse().ok()?;
            Some(PasswdEntry { name, uid, gid })
        })
        .collect()
}

/// Parses /etc/group (`name:x:gid:members`) into (name, gid); malformed lines are skipped.
pub fn parse_group(text: &[u8]) -> Vec<(String, u64)> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?.to_string();
            let _password = f.next()?;
            Some((name, f.next()?.parse().ok()?))
        })
        .collect()
}

/// The run user as far as it can be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunUser {
    /// `USER` as written (empty: root).
    pub spec: String,
    /// The uid, when numeric or found in /etc/passwd.
    pub uid: Option<u64>,
    /// The gid, when numeric, found in /etc/group, or the user's primary group.
    pub gid: Option<u64>,
    /// A user name absent from /etc/passwd (or no /etc/passwd at all).
    pub unknown_user: Option<String>,
    /// A group name absent from /etc/group.
    pub unknown_group: Option<String>,
    /// The uid is listed in /etc/passwd.
    pub in_passwd: bool,
}

impl RunUser {
    /// Whether this is uid 0.
    pub fn is_root(&self) -> bool {
        self.uid == Some(0)
    }
}

/// Resolves `USER` against the image's files (`None` when a file is absent).
pub fn resolve(spec: &str, passwd: Option<&[u8]>, group: Option<&[u8]>) -> RunUser {
    let users = passwd.map(parse_passwd).unwrap_or_default();
    let groups = group.map(parse_group).unwrap_or_default();
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let mut out = RunUser {
        spec: spec.to_string(),
        uid: None,
        gid: None,
        unknown_user: None,
        unknown_group: None,
        in_passwd: false,
    };
    let entry = if user.is_empty() {
        out.uid = Some(0);
        users.iter().find(|e| e.uid == 0)
    } else if let Ok(uid) = user.parse::<u64>() {
        out.uid = Some(uid);
        users.iter().find(|e| e.uid == uid)
    } else {
        let e = users.iter().find(|e| e.name == user);
        match e {
            Some(e) => out.uid = Some(e.uid),
            None => out.unknown_user = Some(user.to_string()),
        }
        e
    };
    out.in_passwd = entry.is_some();
    match grp {
        None | Some("") => out.gid = entry.map(|e| e.gid).or(out.uid.filter(|u| *u == 0)),
        Some(g) => match g.parse::<u64>() {
            Ok(gid) => out.gid = Some(gid),
            Err(_) => match groups.iter().find(|(n, _)| n == g) {
                Some((_, gid)) => out.gid = Some(*gid),
                None => out.unknown_group = Some(g.to_string()),
            },
        },
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\nbroken line\n";

    #[test]
    fn users_resolve_by_name_or_number() {
        let r = resolve("", Some(PASSWD), None);
        assert!(r.is_root() && r.in_passwd);
        let r = resolve("nonroot", Some(PASSWD), None);
        assert_eq!(
            (r.uid, r.gid, r.in_passwd),
            (Some(65532), Some(65532), true)
        );
        let r = resolve("1000:1000", Some(PASSWD), None);
        assert_eq!((r.uid, r.gid, r.in_passwd), (Some(1000), Some(1000), false));
        let r = resolve("app", None, None);
        assert_eq!(r.unknown_user.as_deref(), Some("app"));
        let r = resolve("65532:staff", Some(PASSWD), Some(b"staff:x:50:\n"));
        assert_eq!(r.gid, Some(50));
    }
}
