//! Which base files an image gets — CA bundle, zoneinfo, passwd/group, /tmp — decided from what
//! the linked binary needs, the image's configuration (TZ, the run user, `--ca-file`) and the
//! user's `--certs/--tz/--userdb/--tmp`; each decision with its reason.

use std::path::PathBuf;

use serde::Serialize;

use super::user::UserPlan;
use crate::binary::needs::{NeedsReport, RuntimeNeed};
use crate::rootfs::{CA_BUNDLE_PATH, ZONEINFO_DIR};

/// `--certs`, `--tz`, `--userdb`, `--tmp`: include when needed (auto), always, or never.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toggle {
    /// Follow what the binary and the config need.
    #[default]
    Auto,
    /// Always.
    Yes,
    /// Never.
    No,
}

/// `--certs`, `--tz`, `--userdb`, `--tmp` as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileChoices {
    /// `--certs`.
    pub certs: Toggle,
    /// `--tz`.
    pub tz: Toggle,
    /// `--userdb`.
    pub userdb: Toggle,
    /// `--tmp`.
    pub tmp: Toggle,
}

/// A group of base files decided together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileGroup {
    /// The CA bundle.
    CaCertificates,
    /// /usr/share/zoneinfo.
    Zoneinfo,
    /// /etc/passwd, /etc/group and home directories.
    UserDatabase,
    /// /tmp (1777).
    Tmp,
}

impl FileGroup {
    /// The files, as shown to people.
    pub fn files(self) -> &'static str {
        match self {
            FileGroup::CaCertificates => CA_BUNDLE_PATH,
            FileGroup::Zoneinfo => ZONEINFO_DIR,
            FileGroup::UserDatabase => "/etc/passwd, /etc/group, /home/nonroot",
            FileGroup::Tmp => "/tmp",
        }
    }
}

/// Whether one group of base files goes in, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileDecision {
    /// The group.
    pub group: FileGroup,
    /// Its files, as shown to people.
    pub files: String,
    /// gopack's layer writes these files.
    pub included: bool,
    /// Why.
    pub reason: String,
    /// The base image's file these files are merged with (its CA bundle with `--ca-file`
    /// appended; its /etc/passwd with the run user added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_with_base: Option<String>,
}

impl FileDecision {
    fn new(group: FileGroup, included: bool, reason: impl Into<String>) -> FileDecision {
        FileDecision {
            group,
            files: group.files().to_string(),
            included,
            reason: reason.into(),
            merged_with_base: None,
        }
    }
}

/// The four decisions, one per group (serialised as a list in that order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDecisions {
    /// The CA bundle.
    pub ca_certificates: FileDecision,
    /// The zoneinfo database.
    pub zoneinfo: FileDecision,
    /// passwd, group, homes.
    pub user_database: FileDecision,
    /// /tmp.
    pub tmp: FileDecision,
}

impl FileDecisions {
    /// The four decisions in report order.
    pub fn iter(&self) -> impl Iterator<Item = &FileDecision> {
        [
            &self.ca_certificates,
            &self.zoneinfo,
            &self.user_database,
            &self.tmp,
        ]
        .into_iter()
    }
}

impl Serialize for FileDecisions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// What the file decisions are made from.
#[derive(Clone, Copy, Debug)]
pub struct FileInputs<'a> {
    /// `--certs/--tz/--userdb/--tmp`.
    pub choices: FileChoices,
    /// What the linked binary needs; `Err` (why) when its function table could not be read,
    /// and then every group goes in.
    pub needs: Result<&'a NeedsReport, &'a str>,
    /// The run user (resolved against the base).
    pub user: &'a UserPlan,
    /// TZ in the image config.
    pub tz: Option<&'a str>,
    /// `--ca-file` was given.
    pub extra_ca: bool,
}

/// Decides the base files for one binary.
pub fn decide_files(inputs: &FileInputs<'_>) -> FileDecisions {
    FileDecisions {
        ca_certificates: decide_certs(inputs),
        zoneinfo: decide_zoneinfo(inputs),
        user_database: decide_userdb(inputs),
        tmp: forced(inputs.choices.tmp, FileGroup::Tmp).unwrap_or_else(|| {
            FileDecision::new(
                FileGroup::Tmp,
                true,
                "always included: an empty 1777 directory costs 512 bytes, and os.TempDir() is \
                 inlined, so the binary cannot prove it never writes there",
            )
        }),
    }
}

fn forced(toggle: Toggle, group: FileGroup) -> Option<FileDecision> {
    match toggle {
        Toggle::Yes => Some(FileDecision::new(group, true, "forced on by flag")),
        Toggle::No => Some(FileDecision::new(group, false, "forced off by flag")),
        Toggle::Auto => None,
    }
}

fn unreadable(group: FileGroup, why: &str) -> FileDecision {
    FileDecision::new(
        group,
        true,
        format!("included because the binary's function table could not be read ({why})"),
    )
}

/// The reason a need's linked function gives, or `None` when it is not linked.
fn linked(report: &NeedsReport, need: RuntimeNeed) -> Option<String> {
    report
        .needs
        .iter()
        .find(|n| n.need == need)
        .map(|hit| format!("{} is linked: {}", hit.function, hit.why))
}

fn not_needed(report: &NeedsReport, need: RuntimeNeed) -> String {
    match report.satisfied_in_binary.iter().find(|n| n.need == need) {
        Some(own) => format!("not needed: {} ({})", own.function, own.why),
        None => format!(
            "not needed: no function that reads {} survived dead-code elimination",
            need.paths()[0]
        ),
    }
}

fn decide_certs(inputs: &FileInputs<'_>) -> FileDecision {
    let group = FileGroup::CaCertificates;
    if let Some(d) = forced(inputs.choices.certs, group) {
        return d;
    }
    let report = match inputs.needs {
        Err(why) => return unreadable(group, why),
        Ok(r) => r,
    };
    if let Some(reason) = linked(report, RuntimeNeed::CaCertificates) {
        return FileDecision::new(group, true, reason);
    }
    if inputs.extra_ca {
        return FileDecision::new(
            group,
            true,
            "--ca-file was given: the bundle goes in to carry your certificates",
        );
    }
    FileDecision::new(
        group,
        false,
        not_needed(report, RuntimeNeed::CaCertificates),
    )
}

/// Why embedded tzdata does not make zoneinfo unnecessary for TZ at startup.
const TZDATA_INIT_ORDER: &str = "time/tzdata is embedded, but Go initialises packages in \
    import-path order, so a package such as github.com/… that reads time.Local during its init \
    runs before time/tzdata registers its database, and then TZ falls back to UTC for the whole \
    run: the files are added to be safe";

fn decide_zoneinfo(inputs: &FileInputs<'_>) -> FileDecision {
    let group = FileGroup::Zoneinfo;
    if let Some(d) = forced(inputs.choices.tz, group) {
        return d;
    }
    let report = match inputs.needs {
        Err(why) => return unreadable(group, why),
        Ok(r) => r,
    };
    let embedded = report
        .satisfied_in_binary
        .iter()
        .any(|n| n.need == RuntimeNeed::Zoneinfo);
    let with_tzdata_note = |reason: String| {
        let note = if embedded {
            format!("; {TZDATA_INIT_ORDER}")
        } else {
            String::new()
        };
        format!("{reason}{note}; --tz=no leaves the files out")
    };
    if let Some(tz) = inputs.tz {
        let reason = format!(
            "TZ={tz} is set in the image config: the zone it names is loaded from {ZONEINFO_DIR}"
        );
        return FileDecision::new(group, true, with_tzdata_note(reason));
    }
    if let Some(reason) = linked(report, RuntimeNeed::Zoneinfo) {
        return FileDecision::new(group, true, reason);
    }
    if let Some(hit) = report
        .reads_environment
        .iter()
        .find(|n| n.need == RuntimeNeed::Zoneinfo)
    {
        let reason = format!(
            "{} is linked: {} (TZ may be set where the image runs)",
            hit.function, hit.why
        );
        return FileDecision::new(group, true, with_tzdata_note(reason));
    }
    FileDecision::new(group, false, not_needed(report, RuntimeNeed::Zoneinfo))
}

fn decide_userdb(inputs: &FileInputs<'_>) -> FileDecision {
    let group = FileGroup::UserDatabase;
    if let Some(d) = forced(inputs.choices.userdb, group) {
        return d;
    }
    let report = match inputs.needs {
        Err(why) => return unreadable(group, why),
        Ok(r) => r,
    };
    if let Some(reason) = linked(report, RuntimeNeed::UserDatabase) {
        return FileDecision::new(group, true, reason);
    }
    if let Some(name) = inputs.user.name_to_resolve() {
        return FileDecision::new(
            group,
            true,
            format!(
                "the image runs as the named user `{name}`, which needs /etc/passwd to resolve"
            ),
        );
    }
    FileDecision::new(group, false, not_needed(report, RuntimeNeed::UserDatabase))
}

/// What a base image already holds, as far as the base files are concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaseProvides {
    /// The path of the base's CA bundle (the first of Go's list it has, or its SSL_CERT_FILE).
    pub ca_bundle: Option<String>,
    /// /usr/share/zoneinfo exists.
    pub zoneinfo: bool,
    /// /etc/passwd and /etc/group exist.
    pub user_database: bool,
    /// The run user is in the base's /etc/passwd (by uid, or by name for a named user).
    pub knows_user: bool,
    /// /tmp exists.
    pub tmp: bool,
}

/// With a base image, leaves out the files the base already provides, and merges with the
/// base's own files where gopack must add to them (`--ca-file` to its CA bundle, the run user
/// to its /etc/passwd), saying so in each decision.
pub fn apply_base(
    decisions: &mut FileDecisions,
    base: &BaseProvides,
    user: &UserPlan,
    extra_ca: bool,
) {
    let ca = &mut decisions.ca_certificates;
    if let (true, Some(path)) = (ca.included, &base.ca_bundle) {
        if extra_ca {
            ca.merged_with_base = Some(path.clone());
            ca.reason = format!(
                "{}; the base image has {path}: your --ca-file certificates are appended to it",
                ca.reason
            );
        } else {
            ca.included = false;
            ca.reason = format!("{}; the base image provides {path}", ca.reason);
        }
    }
    let zone = &mut decisions.zoneinfo;
    if zone.included && base.zoneinfo {
        zone.included = false;
        zone.reason = format!("{}; the base image provides {ZONEINFO_DIR}", zone.reason);
    }
    let users = &mut decisions.user_database;
    if users.included && base.user_database {
        if user.account.is_some() && !base.knows_user {
            users.merged_with_base = Some("/etc/passwd".into());
            users.reason = format!(
                "{}; the base image has /etc/passwd and /etc/group without {}: it is added to them",
                users.reason, user.user
            );
        } else {
            users.included = false;
            users.reason = format!("{}; the base image provides /etc/passwd", users.reason);
        }
    }
    let tmp = &mut decisions.tmp;
    if tmp.included && base.tmp {
        tmp.included = false;
        tmp.reason = format!("{}; the base image provides /tmp", tmp.reason);
    }
}

/// How the files are chosen, shown before anything is built.
#[derive(Clone, Debug, Serialize)]
pub struct FilesPlan {
    /// Where the decisions come from.
    pub decided_from: String,
    /// One rule per group of files, with the flag that overrides it.
    pub rules: Vec<FileRule>,
    /// `--ca-file`: PEM files appended to the CA bundle (the base's, when it has one).
    pub extra_ca_files: Vec<PathBuf>,
}

/// The rule for one group of files.
#[derive(Clone, Debug, Serialize)]
pub struct FileRule {
    /// The files.
    pub files: String,
    /// The flag that overrides the rule.
    pub flag: String,
    /// The flag's value.
    pub choice: Toggle,
    /// The rule, for people.
    pub rule: String,
}

/// The rules for `c`, and the CA files.
pub fn files_plan(c: &FileChoices, extra_ca_files: &[PathBuf]) -> FilesPlan {
    let rule = |group: FileGroup, flag: &str, choice: Toggle, auto: &str| FileRule {
        files: group.files().into(),
        flag: flag.into(),
        choice,
        rule: match choice {
            Toggle::Auto => auto.into(),
            Toggle::Yes => format!("forced on by {flag} yes"),
            Toggle::No => format!("forced off by {flag} no"),
        },
    };
    FilesPlan {
        decided_from: "the linked binary: after go build, gopack reads the functions that \
                       survived dead-code elimination from its .gopclntab and adds only the \
                       files they read"
            .into(),
        rules: vec![
            rule(
                FileGroup::CaCertificates,
                "--certs",
                c.certs,
                "when crypto/x509 system-root loading is linked (TLS clients) or --ca-file is \
                 given; Mozilla's roots built into gopack, plus --ca-file",
            ),
            rule(
                FileGroup::Zoneinfo,
                "--tz",
                c.tz,
                "when TZ is set in the image config, or the program reads TZ (time.Local) or \
                 loads named zones (time.LoadLocation) — even with time/tzdata embedded, which \
                 does not cover TZ read during package init",
            ),
            rule(
                FileGroup::UserDatabase,
                "--userdb",
                c.userdb,
                "when os/user lookups are linked, or the image runs as a named --user; the run \
                 user gets its own entry",
            ),
            rule(
                FileGroup::Tmp,
                "--tmp",
                c.tmp,
                "always: an empty 1777 directory, since os.TempDir() leaves no trace in the binary",
            ),
        ],
        extra_ca_files: extra_ca_files.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::needs::analyze_needs;

    fn decide(
        functions: &[&str],
        choices: FileChoices,
        user: &str,
        tz: Option<&str>,
    ) -> FileDecisions {
        let report = analyze_needs(functions);
        let (user, _) = super::super::user::decide_user(Some(user)).unwrap();
        decide_files(&FileInputs {
            choices,
            needs: Ok(&report),
            user: &user,
            tz,
            extra_ca: false,
        })
    }

    #[test]
    fn files_follow_the_linked_functions() {
        let d = decide(
            &["crypto/x509.loadSystemRoots", "main.main"],
            FileChoices::default(),
            "65532:65532",
            None,
        );
        assert!(d.ca_certificates.included && !d.zoneinfo.included && !d.user_database.included);
        assert!(
            d.ca_certificates
                .reason
                .contains("crypto/x509.loadSystemRoots")
        );
        assert!(d.user_database.reason.starts_with("not needed"));
    }

    #[test]
    fn flags_and_named_users_override() {
        let choices = FileChoices {
            certs: Toggle::Yes,
            tmp: Toggle::No,
            ..FileChoices::default()
        };
        let d = decide(&["main.main"], choices, "nonroot", None);
        assert!(d.ca_certificates.included && d.user_database.included && !d.tmp.included);
    }

    #[test]
    fn tz_in_the_config_or_read_by_the_program_brings_zoneinfo() {
        let d = decide(
            &["main.main"],
            FileChoices::default(),
            "65532:65532",
            Some("Europe/Berlin"),
        );
        assert!(d.zoneinfo.included && d.zoneinfo.reason.contains("TZ=Europe/Berlin"));
        let d = decide(
            &["time.initLocal"],
            FileChoices::default(),
            "65532:65532",
            None,
        );
        assert!(d.zoneinfo.included && d.zoneinfo.reason.contains("time.initLocal"));
        // Embedded tzdata covers LoadLocation, not TZ read during init.
        let embedded = ["time.LoadLocation", "time/tzdata.loadFromEmbeddedTZData"];
        let d = decide(&embedded, FileChoices::default(), "65532:65532", None);
        assert!(!d.zoneinfo.included, "{}", d.zoneinfo.reason);
        let with_local = [
            "time.LoadLocation",
            "time.initLocal",
            "time/tzdata.loadFromEmbeddedTZData",
        ];
        let d = decide(&with_local, FileChoices::default(), "65532:65532", None);
        assert!(d.zoneinfo.included && d.zoneinfo.reason.contains("import-path order"));
    }

    #[test]
    fn unreadable_table_includes_everything_and_says_why() {
        let (user, _) = super::super::user::decide_user(Some("0")).unwrap();
        let d = decide_files(&FileInputs {
            choices: FileChoices::default(),
            needs: Err("truncated"),
            user: &user,
            tz: None,
            extra_ca: false,
        });
        assert!(d.ca_certificates.included && d.zoneinfo.included && d.user_database.included);
        assert!(d.zoneinfo.reason.contains("truncated"));
    }

    #[test]
    fn a_base_keeps_its_files_and_gets_ours_merged_in() {
        let mut d = decide(
            &["crypto/x509.loadSystemRoots", "os/user.current"],
            FileChoices::default(),
            "1234:1234",
            None,
        );
        let (user, _) = super::super::user::decide_user(Some("1234:1234")).unwrap();
        let base = BaseProvides {
            ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
            user_database: true,
            ..BaseProvides::default()
        };
        apply_base(&mut d, &base, &user, true);
        assert!(d.ca_certificates.included && d.ca_certificates.merged_with_base.is_some());
        assert!(d.user_database.included && d.user_database.merged_with_base.is_some());
        let mut d = decide(
            &["crypto/x509.loadSystemRoots"],
            FileChoices::default(),
            "65532:65532",
            None,
        );
        apply_base(&mut d, &base, &user, false);
        assert!(
            !d.ca_certificates.included && d.ca_certificates.reason.contains("base image provides")
        );
    }
}
