//! The checks `gopack inspect` runs on an image, one ID each, in `gopack lint`'s style: an ID,
//! a default severity (a check may lower or raise it for one finding, and says why), a summary,
//! and an explanation with the fix. Where dockle or the CIS Docker Benchmark has the same check,
//! its ID is given too, so teams moving from dockle recognise it.

use crate::dockerfile::Severity;

macro_rules! rules {
    ($($variant:ident $id:literal $name:literal $sev:ident [$($peer:literal),*] $summary:literal $expl:literal;)*) => {
        /// Every check inspect runs. A typo in an ID is a compile error.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $(#[doc = $summary] $variant,)* }

        /// Every rule, in ID order.
        pub static RULES: &[Rule] = &[$(Rule {
            id: RuleId::$variant, code: $id, name: $name, severity: Severity::$sev,
            peer_ids: &[$($peer),*], summary: $summary, explanation: $expl,
        }),*];
    };
}

/// A check and its documentation.
#[derive(Debug)]
pub struct Rule {
    /// The check.
    pub id: RuleId,
    /// Its stable code (`IMG101`).
    pub code: &'static str,
    /// Short kebab-case name (SARIF `name`).
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// dockle / CIS Docker Benchmark IDs with the same meaning.
    pub peer_ids: &'static [&'static str],
    /// One line: what is wrong.
    pub summary: &'static str,
    /// Why it matters and how to fix it.
    pub explanation: &'static str,
}

impl RuleId {
    /// The rule's documentation.
    pub fn rule(self) -> &'static Rule {
        RULES.iter().find(|r| r.id == self).unwrap_or(&RULES[0])
    }

    /// The stable code (`IMG101`).
    pub fn code(self) -> &'static str {
        self.rule().code
    }
}

/// The rule with this code or name (case-insensitive), for `--explain` and `--fail-on`.
pub fn find_rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.eq_ignore_ascii_case(code)
            || r.name.eq_ignore_ascii_case(code)
            || r.peer_ids.iter().any(|p| p.eq_ignore_ascii_case(code))
    })
}

rules! {
RunsAsRoot "IMG101" "runs-as-root" Warning ["CIS-DI-0001"] "The image runs as root"
"With no USER (or USER root/0), the process runs as uid 0: a container escape or a writable
host mount is then root's. Kubernetes `runAsNonRoot: true` also refuses such an image unless the
pod overrides the user. Fix: set a numeric non-root user, e.g. `gopack build --user 65532:65532`
(the default) or `USER 65532:65532` in a Dockerfile.";

UnknownUser "IMG102" "user-not-in-passwd" Error [] "The image's user or group is a name the image cannot resolve"
"A USER given by name must be listed in the image's /etc/passwd (a group name in /etc/group):
the runtime resolves it before starting the process and fails with `unable to find user …: no
matching entries in passwd file`. Fix: use numeric ids (`USER 65532:65532`), or add the entry.";

SecretInEnv "IMG103" "secret-in-env" Error ["CIS-DI-0010"] "An environment variable of the image looks like a secret"
"ENV values are stored in the image config in clear text: anyone who can pull the image reads
them (`gopack inspect`, `docker inspect`, the registry). Fix: pass secrets at run time (a
Kubernetes Secret, `--env-file`, a mounted file) and keep only a reference such as
`DB_PASSWORD_FILE=/run/secrets/db` in the image.";

SecretInHistory "IMG104" "secret-in-history" Error ["CIS-DI-0010"] "A history line of the image looks like it holds a secret"
"Build arguments and RUN lines are kept in the image history (`created_by`), with their values.
Fix: use BuildKit secrets (`RUN --mount=type=secret,id=token …`) instead of ARG or inline values,
and rotate the secret: it has been published with the image.";

ShellPresent "IMG201" "shell-present" Info [] "A shell is present"
"A shell lets an attacker who gets code execution run commands, and most exploits assume one.
A Go service does not need it. Fix: build on scratch or distroless (gopack's default) and use
exec-form ENTRYPOINT/CMD; debug with ephemeral containers (`kubectl debug`) instead.";

PackageManager "IMG202" "package-manager" Warning [] "A package manager or its database is present"
"A package manager (apt/dpkg, apk, rpm/yum/dnf) lets an attacker install tools in a running
container, and is dead weight for a Go service. Its database alone is harmless (scanners read it)
and reported as info. Fix: use a multi-stage build and copy only the binary into scratch or
distroless, or remove the manager in the final stage.";

PackageCache "IMG203" "package-cache" Info ["DKL-DI-0005"] "Package manager caches are kept"
"Index files and downloaded packages (/var/lib/apt/lists, /var/cache/apt, /var/cache/apk,
/var/cache/yum) only make the image bigger. Fix: clean them in the same RUN that installs
(`rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`).";

SetId "IMG204" "setuid-setgid" Warning ["CIS-DI-0008"] "A file has the setuid or setgid bit"
"A setuid/setgid executable runs with its owner's rights whoever starts it: a classic privilege
escalation path. Fix: remove the bit (`chmod u-s,g-s FILE`) or the file; Kubernetes can also
block it with `allowPrivilegeEscalation: false`.";

WorldWritable "IMG205" "world-writable" Warning [] "A file or directory outside /tmp is world-writable"
"Anyone in the container can change a world-writable file (mode o+w), including binaries and
configuration another process trusts. Fix: `chmod o-w PATH`; keep shared scratch space in /tmp
(mode 1777).";

SensitiveFile "IMG301" "sensitive-file" Error ["CIS-DI-0010"] "A credentials file, private key or .env file is in the image"
"Files such as .env, id_rsa, .git-credentials, kubeconfig, .docker/config.json or a PEM private
key are readable by anyone who pulls the image. Fix: keep them out of the build context
(.dockerignore), mount them at run time, and rotate what leaked.";

GitDirectory "IMG302" "git-directory" Warning [] "A .git directory is in the image"
"A .git directory carries the whole history (deleted secrets included), remotes and sometimes
tokens in .git/config. Fix: add `.git` to .dockerignore.";

BuriedSecret "IMG303" "secret-in-deleted-file" Error ["CIS-DI-0010"] "A sensitive file deleted or overwritten by a later layer is still in the image"
"Deleting a file in a later layer only hides it: the earlier layer blob still holds it and anyone
can extract it (`tar -xf` of that layer). Fix: never add the file (.dockerignore, BuildKit secret
mounts, multi-stage builds), and rotate the secret: it has been published with the image.";

MissingCaBundle "IMG401" "go-missing-ca-bundle" Error [] "A Go binary loads the system CA roots and the image has none"
"crypto/x509 reads /etc/ssl/certs/ca-certificates.crt (and other well-known paths, or
SSL_CERT_FILE/SSL_CERT_DIR); with none, every TLS connection fails with `x509: certificate signed by
unknown authority`. Fix: `gopack build` adds the Mozilla bundle when the binary needs it
(`--certs=yes`), or COPY /etc/ssl/certs/ca-certificates.crt from the build stage, or import
golang.org/x/crypto/x509roots/fallback.";

MissingZoneinfo "IMG402" "go-missing-zoneinfo" Warning [] "A Go binary loads time zones and the image has no zoneinfo"
"time.LoadLocation reads /usr/share/zoneinfo (or $ZONEINFO); without it, loading any zone but UTC
fails with `unknown time zone`. Fix: `gopack build --tz=yes`, import time/tzdata (or build with
-tags timetzdata), or copy /usr/share/zoneinfo.";

MissingUserDatabase "IMG403" "go-missing-passwd" Warning [] "A Go binary looks users up and /etc/passwd lacks the user"
"os/user reads /etc/passwd and /etc/group (pure Go); user.Current fails when the uid the image
runs as is not listed, and lookups by name fail without the files. Fix: `gopack build --userdb=yes`,
or add the entry for the run user.";

MissingInterpreter "IMG404" "go-missing-interpreter" Error [] "A dynamically linked Go binary's loader is not in the image"
"The kernel starts a dynamic binary through its ELF interpreter (PT_INTERP, e.g.
/lib64/ld-linux-x86-64.so.2); if it is missing the container fails with `exec …: no such file or
directory` although the binary exists. Fix: build statically (CGO_ENABLED=0, or gopack's static
cgo link) or use a base with the matching libc.";

MissingLibrary "IMG405" "go-missing-library" Error [] "A shared library a Go binary needs is not in the image"
"Every DT_NEEDED library must be found by the loader in its search path (/lib, /usr/lib and the
multiarch directories); one missing aborts start-up with `error while loading shared libraries`.
Fix: link statically or install the library in the image.";

MissingTmp "IMG406" "go-missing-tmp" Warning [] "A Go binary creates temporary files and /tmp is missing"
"os.CreateTemp and os.MkdirTemp use $TMPDIR or /tmp, which scratch images lack. Fix:
`gopack build` adds /tmp (1777); or set TMPDIR to a writable directory.";

NotExecutable "IMG407" "go-not-executable" Error [] "The image's user cannot execute a Go binary"
"The user the image runs as needs the execute bit that applies to it (owner, group or other) on
the binary. Fix: `chmod 0755` the binary, or run as its owner.";

WrongArchitecture "IMG408" "go-wrong-architecture" Error [] "A Go binary is built for another architecture than the image"
"An image whose platform says one architecture but whose binary is built for another fails with
`exec format error`. Fix: build the binary for the image's platform (GOARCH), or fix the
image's platform.";

MissingEntrypoint "IMG409" "entrypoint-missing" Error [] "The entrypoint's executable is not in the image"
"The first word of ENTRYPOINT (or CMD when there is no ENTRYPOINT) must exist in the image, found
directly when absolute or through PATH otherwise. Fix: correct the path, or add the file.";

OddPath "IMG901" "hostile-path" Warning [] "A layer member has an absolute, `..` or escaping path"
"Tar members should have relative paths inside the image root. A path that is absolute, has
`..` components or climbs above the root is how archive-extraction attacks write outside the
target. gopack reads it as containerd does (kept inside the root) and never follows it; a naive
extractor might not. Fix: rebuild the layer with a well-behaved tool.";

LayerUnreadable "IMG902" "layer-unreadable" Error [] "A layer cannot be read whole or does not match its descriptor or diff_id"
"The layer blob is truncated, its size or digest differs from its descriptor, its compression is
corrupt, a tar header is over gopack's limits, or its uncompressed content does not match the
diff_id of the config. Runtimes refuse such an image. Fix: push or save the image again.";

SymlinkLoop "IMG903" "symlink-loop" Warning [] "A symbolic link loops or nests too deep"
"A symlink that resolves to itself (directly or through others) or nests deeper than 40 links
makes every access fail with ELOOP, and naive tools that follow links hang on it. gopack resolves
links with a depth limit and never follows them outside the image. Fix: repair the link.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_found_by_code_name_or_peer_id() {
        let mut codes: Vec<_> = RULES.iter().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RULES.len());
        assert_eq!(find_rule("img101").unwrap().id, RuleId::RunsAsRoot);
        assert_eq!(find_rule("setuid-setgid").unwrap().id, RuleId::SetId);
        assert_eq!(find_rule("CIS-DI-0008").unwrap().id, RuleId::SetId);
        assert_eq!(RuleId::MissingCaBundle.code(), "IMG401");
    }
}
