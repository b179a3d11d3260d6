//! The checks, one function per group, over an [`Analysis`]: the config (user, ENV, history),
//! the final file system (shells, package managers, set-id and world-writable files, sensitive
//! files, symlink loops), copies hidden in lower layers, the layers themselves, and each Go
//! binary against what the image holds.

use std::collections::HashSet;

use serde::Serialize;

use super::Analysis;
use super::merge::Merged;
use super::record::FLAG_PRIVATE_KEY;
use super::rules::RuleId;
use super::sensitive;
use super::users::{self, RunUser};
use crate::dockerfile::Severity;
use crate::oci::{FileTree, FileType, NodeId};

/// One problem found in an image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The check.
    #[serde(serialize_with = "code")]
    pub rule: RuleId,
    /// How bad it is (the rule's default unless the check says otherwise).
    pub severity: Severity,
    /// What was found, for this image: specific, with the path and the reason.
    pub message: String,
    /// The path in the image (absolute, `/etc/passwd`), when the finding is about a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 0-based index of the layer concerned, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
}

fn code<S: serde::Serializer>(rule: &RuleId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.code())
}

impl Finding {
    fn new(rule: RuleId, message: String) -> Finding {
        Finding {
            rule,
            severity: rule.rule().severity,
            message,
            path: None,
            layer: None,
        }
    }

    fn at(mut self, path: &str) -> Finding {
        self.path = Some(format!("/{path}"));
        self
    }

    fn in_layer(mut self, layer: u32) -> Finding {
        self.layer = Some(layer);
        self
    }

    fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
}

/// Every finding for the image, sorted by rule, then path.
pub fn check(a: &Analysis) -> Vec<Finding> {
    let user = run_user(a);
    let mut out = Vec::new();
    check_user(&user, &mut out);
    check_env(a, &mut out);
    check_history(a, &mut out);
    check_well_known_files(&a.merged.tree, &mut out);
    check_walk(&a.merged, &mut out);
    check_keys(&a.merged, &mut out);
    check_buried(&a.merged, &mut out);
    check_layers(a, &mut out);
    super::needs::check_binaries(a, &user, &mut out);
    super::needs::check_entrypoint(a, &mut out);
    out.sort_by(|x, y| (x.rule, &x.path, x.layer).cmp(&(y.rule, &y.path, y.layer)));
    out
}

/// The run user, resolved against the image's /etc/passwd and /etc/group.
pub fn run_user(a: &Analysis) -> RunUser {
    let spec = a.image.config.config.user.clone().unwrap_or_default();
    users::resolve(
        spec.trim(),
        a.merged.captured("etc/passwd"),
        a.merged.captured("etc/group"),
    )
}

fn check_user(user: &RunUser, out: &mut Vec<Finding>) {
    if user.is_root() {
        let how = if user.spec.is_empty() {
            "no USER is set, so it runs as root (uid 0)".to_string()
        } else {
            format!("USER `{}` is uid 0", printable(&user.spec))
        };
        out.push(Finding::new(
            RuleId::RunsAsRoot,
            format!("the image runs as root: {how}"),
        ));
    }
    if let Some(name) = &user.unknown_user {
        out.push(Finding::new(
            RuleId::UnknownUser,
            format!(
                "USER `{}` names the user `{name}`, which the image's /etc/passwd does not \
                 list (or the image has none): the container will not start",
                printable(&user.spec),
                name = printable(name)
            ),
        ));
    }
    if let Some(name) = &user.unknown_group {
        out.push(Finding::new(
            RuleId::UnknownUser,
            format!(
                "USER `{}` names the group `{name}`, which the image's /etc/group does not list: \
                 the container will not start",
                printable(&user.spec),
                name = printable(name)
            ),
        ));
    }
}

fn check_env(a: &Analysis, out: &mut Vec<Finding>) {
    for var in a.image.config.config.env.iter().flatten() {
        let (name, value) = var.split_once('=').unwrap_or((var, ""));
        if let Some(why) = sensitive::secret_assignment(name, value) {
            out.push(Finding::new(
                RuleId::SecretInEnv,
                format!(
                    "ENV {}={}: {why}; it is stored in the image config",
                    printable(name),
                    sensitive::mask(value)
                ),
            ));
        }
    }
}

fn check_history(a: &Analysis, out: &mut Vec<Finding>) {
    for (i, h) in a.image.config.history.iter().enumerate() {
        let Some(line) = &h.created_by else { continue };
        let mut reasons: Vec<String> = sensitive::assignments(line)
            .into_iter()
            .filter_map(|(n, v)| {
                sensitive::secret_assignment(n, v)
                    .map(|why| format!("{}={} ({why})", printable(n), sensitive::mask(v)))
            })
            .collect();
        if reasons.is_empty() {
            reasons = sensitive::bare_tokens(line)
                .into_iter()
                .map(|(w, kind)| format!("{} ({kind})", sensitive::mask(w)))
                .collect();
        }
        if !reasons.is_empty() {
            out.push(Finding::new(
                RuleId::SecretInHistory,
                format!("history entry {} keeps {}", i + 1, reasons.join(", ")),
            ));
        }
    }
}

const SHELLS: &[&str] = &[
    "bin/sh",
    "bin/bash",
    "bin/dash",
    "bin/ash",
    "bin/zsh",
    "bin/ksh",
    "bin/busybox",
    "usr/bin/sh",
    "usr/bin/bash",
    "usr/bin/dash",
    "usr/bin/zsh",
    "usr/bin/ksh",
    "usr/bin/busybox",
];

/// (family, manager executables, databases)
const PACKAGE_MANAGERS: &[(&str, &[&str], &[&str])] = &[
    (
        "apt/dpkg",
        &["usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "bin/dpkg"],
        &["var/lib/dpkg/status"],
    ),
    (
        "apk",
        &["sbin/apk", "usr/sbin/apk"],
        &["lib/apk/db/installed"],
    ),
    (
        "rpm",
        &[
            "usr/bin/rpm",
            "usr/bin/yum",
            "usr/bin/dnf",
            "usr/bin/microdnf",
            "usr/bin/zypper",
        ],
        &["var/lib/rpm", "usr/lib/sysimage/rpm"],
    ),
];

const PACKAGE_CACHES: &[&str] = &[
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/cache/apk",
    "var/cache/yum",
    "var/cache/dnf",
];

fn check_well_known_files(tree: &FileTree, out: &mut Vec<Finding>) {
    let present: Vec<&str> = SHELLS.iter().copied().filter(|p| tree.exists(p)).collect();
    if !present.is_empty() {
        let list: Vec<String> = present.iter().map(|p| format!("/{p}")).collect();
        out.push(
            Finding::new(
                RuleId::ShellPresent,
                format!("the image has a shell: {}", list.join(", ")),
            )
            .at(present[0]),
        );
    }
    for (family, managers, databases) in PACKAGE_MANAGERS {
        let found: Vec<&str> = managers
            .iter()
            .copied()
            .filter(|p| tree.exists(p))
            .collect();
        let dbs: Vec<&str> = databases
            .iter()
            .copied()
            .filter(|p| tree.exists(p))
            .collect();
        if let Some(first) = found.first() {
            let list: Vec<String> = found.iter().map(|p| format!("/{p}")).collect();
            out.push(
                Finding::new(
                    RuleId::PackageManager,
                    format!(
                        "the {family} package manager is present: {}",
                        list.join(", ")
                    ),
                )
                .at(first),
            );
        } else if let Some(db) = dbs.first() {
            out.push(
                Finding::new(
                    RuleId::PackageManager,
                    format!("the {family} package database is present (without the manager)"),
                )
                .at(db)
                .severity(Severity::Info),
            );
        }
    }
    for dir in PACKAGE_CACHES {
        if let Some(id) = tree.lookup(dir) {
            let bytes = file_bytes_below(tree, id);
            if bytes > 0 {
                out.push(
                    Finding::new(
                        RuleId::PackageCache,
                        format!("/{dir} holds {bytes} bytes of package manager cache"),
                    )
                    .at(dir),
                );
            }
        }
    }
}

fn file_bytes_below(tree: &FileTree, id: NodeId) -> u64 {
    let mut total = 0;
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        total += tree.info(n).size;
        stack.extend(tree.children(n).map(|(_, c)| c));
    }
    total
}

const SHARED_TMP: &[&str] = &["tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"];

/// Calls `visit(path, node)` for every path below the root, depth first in name order, reusing
/// one path buffer (no allocation per node: walking is a large part of inspecting a 300k-file
/// image).
pub fn for_each_path(tree: &FileTree, mut visit: impl FnMut(&str, NodeId)) {
    let mut path = String::new();
    // (name, node, length of the parent's path in `path`)
    let mut todo: Vec<(&str, NodeId, usize)> =
        tree.children(tree.root()).map(|(n, c)| (n, c, 0)).collect();
    todo.reverse();
    while let Some((name, id, parent_len)) = todo.pop() {
        path.truncate(parent_len);
        if parent_len > 0 {
            path.push('/');
        }
        path.push_str(name);
        visit(&path, id);
        let len = path.len();
        let before = todo.len();
        todo.extend(tree.children(id).map(|(n, c)| (n, c, len)));
        todo[before..].reverse();
    }
}

fn check_walk(m: &Merged, out: &mut Vec<Finding>) {
    for_each_path(&m.tree, |path, id| check_node(m, path, id, out));
}

fn check_node(m: &Merged, path: &str, id: NodeId, out: &mut Vec<Finding>) {
    let info = m.tree.info(id);
    if info.file_type == FileType::Regular && info.mode & 0o6000 != 0 {
        let bits = match info.mode & 0o6000 {
            0o6000 => "setuid and setgid",
            0o4000 => "setuid",
            _ => "setgid",
        };
        out.push(
            Finding::new(
                RuleId::SetId,
                format!(
                    "/{} is {bits} (mode {:04o}, owner {}:{})",
                    printable(path),
                    info.mode,
                    info.uid,
                    info.gid
                ),
            )
            .at(path)
            .in_layer(info.layer),
        );
    }
    if info.mode & 0o002 != 0 && info.file_type != FileType::Symlink && !in_shared_tmp(path) {
        out.push(
            Finding::new(
                RuleId::WorldWritable,
                format!(
                    "/{} ({}) is world-writable (mode {:04o})",
                    printable(path),
                    info.file_type,
                    info.mode
                ),
            )
            .at(path)
            .in_layer(info.layer),
        );
    }
    check_sensitive(m, path, id, out);
    if info.file_type == FileType::Symlink && m.tree.lookup(path).is_none() && loops(&m.tree, path)
    {
        out.push(
            Finding::new(
                RuleId::SymlinkLoop,
                format!(
                    "/{} -> {} loops or nests deeper than 40 links",
                    printable(path),
                    printable(info.link_target.as_deref().unwrap_or(""))
                ),
            )
            .at(path)
            .in_layer(info.layer),
        );
    }
}

fn check_sensitive(m: &Merged, path: &str, id: NodeId, out: &mut Vec<Finding>) {
    let info = m.tree.info(id);
    if let Some(s) = sensitive::classify(path) {
        let dir = info.file_type == FileType::Directory;
        if s.vcs && dir {
            out.push(
                Finding::new(
                    RuleId::GitDirectory,
                    format!("/{} is {}", printable(path), s.why),
                )
                .at(path)
                .in_layer(info.layer),
            );
            return;
        }
        if !s.vcs && (info.file_type == FileType::Regular || path.contains("/.ssh/")) && !dir {
            out.push(
                Finding::new(
                    RuleId::SensitiveFile,
                    format!("/{} is {}", printable(path), s.why),
                )
                .at(path)
                .in_layer(info.layer),
            );
        }
    }
}

fn in_shared_tmp(path: &str) -> bool {
    SHARED_TMP
        .iter()
        .any(|t| path == *t || path.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
}

/// Files whose content holds a PEM private key (a flag of the scan), whatever their name.
fn check_keys(m: &Merged, out: &mut Vec<Finding>) {
    let mut keys: Vec<&str> = m
        .states
        .iter()
        .filter(|(_, s)| s.flags & FLAG_PRIVATE_KEY != 0)
        .map(|(p, _)| p.as_ref())
        .filter(|p| sensitive::classify(p).is_none())
        .collect();
    keys.sort();
    for path in keys {
        let Some(id) = m.tree.lookup_link(path) else {
            continue;
        };
        let info = m.tree.info(id);
        if info.file_type == FileType::Regular {
            out.push(
                Finding::new(
                    RuleId::SensitiveFile,
                    format!("/{} holds a PEM private key", printable(path)),
                )
                .at(path)
                .in_layer(info.layer),
            );
        }
    }
}

/// Whether following `path`'s links (last component) comes back to a link already followed.
fn loops(tree: &FileTree, path: &str) -> bool {
    let mut seen = HashSet::new();
    let mut current = path.to_string();
    for _ in 0..=crate::oci::tree::MAX_LINK_DEPTH {
        let Some(id) = tree.lookup_link(&current) else {
            return false;
        };
        let info = tree.info(id);
        if info.file_type != FileType::Symlink {
            return false;
        }
        if !seen.insert(current.clone()) {
            return true;
        }
        let target = info.link_target.as_deref().unwrap_or("");
        let parent = current.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let joined = if target.starts_with('/') {
            target.to_string()
        } else {
            format!("{parent}/{target}")
        };
        current = crate::oci::layer_reader::normalise_path(&joined).0;
    }
    true
}

fn check_buried(m: &Merged, out: &mut Vec<Finding>) {
    for b in &m.buried {
        let how = match b.hidden_by {
            super::merge::WasteKind::Deleted => "deleted by a later layer",
            _ => "overwritten by a later layer",
        };
        out.push(
            Finding::new(
                RuleId::BuriedSecret,
                format!(
                    "/{} is {}; {} bytes of it were {how} but are still stored in layer {}",
                    printable(&b.path),
                    b.why,
                    b.size,
                    b.layer + 1
                ),
            )
            .at(&b.path)
            .in_layer(b.layer),
        );
    }
}

fn check_layers(a: &Analysis, out: &mut Vec<Finding>) {
    for (i, l) in a.layers.iter().enumerate() {
        let n = i as u32;
        let short = l.descriptor.digest.short();
        if let Some(e) = &l.error {
            out.push(
                Finding::new(
                    RuleId::LayerUnreadable,
                    format!("layer {} ({short}) cannot be read whole: {e}", i + 1),
                )
                .in_layer(n),
            );
        } else if let Some(expected) = a.image.config.rootfs.diff_ids.get(i)
            && expected.to_string() != l.diff_id
        {
            out.push(
                Finding::new(
                    RuleId::LayerUnreadable,
                    format!(
                        "layer {} ({short}) has diff_id {}, but the config lists {expected}",
                        i + 1,
                        l.diff_id
                    ),
                )
                .in_layer(n),
            );
        }
    }
    for p in &a.merged.path_problems {
        use super::record::PathIssueKind::*;
        let what = if p.problem.in_link {
            "its hard-link target"
        } else {
            "its path"
        };
        let (issue, severity) = match p.problem.issue {
            Absolute => ("is absolute", Severity::Info),
            DotDot => ("has `..` components", Severity::Warning),
            EscapesRoot => ("climbs above the image root with `..`", Severity::Error),
        };
        out.push(
            Finding::new(
                RuleId::OddPath,
                format!(
                    "a member of layer {} read as /{}: {what} {issue}",
                    p.layer + 1,
                    printable(&p.path)
                ),
            )
            .at(&p.path)
            .in_layer(p.layer)
            .severity(severity),
        );
    }
}

/// Text from the image made safe to print (control characters replaced, length bounded).
pub fn printable(text: &str) -> String {
    crate::text::printable(text, 300)
}
