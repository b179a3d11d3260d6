//! Templates in gopack.toml values, in the spelling ko and goreleaser users know:
//! `{{.Git.Tag}}`, `{{.Git.Commit}}`, `{{.Git.ShortCommit}}`, `{{.Git.CommitDate}}`,
//! `{{.Env.NAME}}` and `{{.Version}}`. Only field references are supported (no pipelines or
//! functions); anything else is an error naming the valid fields, and a template that cannot
//! be filled (no git repository, an unset variable) is an error too: nothing is dropped
//! silently.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fields a template may name.
pub const TEMPLATE_FIELDS: &str = "{{.Git.Tag}}, {{.Git.Commit}}, {{.Git.ShortCommit}}, \
                                   {{.Git.CommitDate}}, {{.Env.NAME}}, {{.Version}}";

/// What the git work tree says about HEAD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitFacts {
    /// The tag pointing at HEAD (the newest when several), if any.
    pub tag: Option<String>,
    /// The full commit hash of HEAD.
    pub commit: String,
    /// HEAD's committer date, strict ISO 8601 (`git log -1 --format=%cI`).
    pub commit_date: String,
    /// `git describe --tags --always --dirty`.
    pub describe: String,
}

impl GitFacts {
    /// Reads HEAD of the work tree holding `dir`; `Err` with git's message when there is none.
    pub fn read(dir: &Path) -> Result<GitFacts, String> {
        let git = |args: &[&str]| -> Result<String, String> {
            let out = Command::new("git")
                .args(args)
                .current_dir(dir)
                .output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let commit = git(&["rev-parse", "HEAD"])?;
        let tag = git(&["tag", "--points-at", "HEAD", "--sort=-creatordate"])
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string));
        Ok(GitFacts {
            tag,
            commit_date: git(&["log", "-1", "--format=%cI", "HEAD"])?,
            describe: git(&["describe", "--tags", "--always", "--dirty"])?,
            commit,
        })
    }

    /// `{{.Version}}`: the tag at HEAD without a leading `v` (as goreleaser does), else `git
    /// describe` without it (`1.4.0-3-gabc1234`, or the short commit when there is no tag).
    pub fn version(&self) -> String {
        let v = self.tag.as_deref().unwrap_or(&self.describe);
        v.strip_prefix('v').unwrap_or(v).to_string()
    }
}

/// Looks an environment variable up.
type EnvLookup = Box<dyn Fn(&str) -> Option<String>>;

/// Fills templates; git is read at most once, and only when a template asks for it.
pub struct Templater {
    dir: PathBuf,
    git: OnceCell<Result<GitFacts, String>>,
    env: EnvLookup,
}

impl Templater {
    /// Templates filled from the git work tree holding `dir` and the process environment.
    pub fn new(dir: &Path) -> Templater {
        Templater::with_env(dir, |name| std::env::var(name).ok())
    }

    /// The same, with the environment read through `env` (for tests).
    pub fn with_env(dir: &Path, env: impl Fn(&str) -> Option<String> + 'static) -> Templater {
        Templater {
            dir: dir.to_path_buf(),
            git: OnceCell::new(),
            env: Box::new(env),
        }
    }

    /// A templater whose git facts are given (for tests).
    pub fn with_git(git: GitFacts, env: impl Fn(&str) -> Option<String> + 'static) -> Templater {
        let cell = OnceCell::new();
        let _ = cell.set(Ok(git));
        Templater {
            dir: PathBuf::new(),
            git: cell,
            env: Box::new(env),
        }
    }

    fn git(&self) -> Result<&GitFacts, String> {
        self.git
            .get_or_init(|| GitFacts::read(&self.dir))
            .as_ref()
            .map_err(|e| {
                format!(
                    "it needs git facts, and {} has none: {e}",
                    self.dir.display()
                )
            })
    }

    /// `text` with every `{{…}}` replaced. `Err` says which template and why.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("`{text}`: `{{{{` without a closing `}}}}`"))?;
            let field = after[..end].trim();
            let value = self
                .field(field)
                .map_err(|why| format!("`{{{{{field}}}}}` in `{text}`: {why}"))?;
            out.push_str(&value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn field(&self, field: &str) -> Result<String, String> {
        if let Some(name) = field.strip_prefix(".Env.") {
            return (self.env)(name)
                .ok_or_else(|| format!("{name} is not set in gopack's environment"));
        }
        match field {
            ".Git.Tag" => self.git()?.tag.clone().ok_or_else(|| {
                "no tag points at HEAD; tag the commit or use {{.Version}} (git describe)".into()
            }),
            ".Git.Commit" => Ok(self.git()?.commit.clone()),
            ".Git.ShortCommit" => Ok(self.git()?.commit.chars().take(7).collect()),
            ".Git.CommitDate" => Ok(self.git()?.commit_date.clone()),
            ".Version" => Ok(self.git()?.version()),
            _ => Err(format!(
                "unknown template field; gopack knows {TEMPLATE_FIELDS}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templater() -> Templater {
        Templater::with_git(
            GitFacts {
                tag: Some("v1.4.0".into()),
                commit: "0123456789abcdef".into(),
                commit_date: "2026-11-29T10:00:00+00:00".into(),
                describe: "v1.4.0".into(),
            },
            |n| (n == "STAGE").then(|| "prod".to_string()),
        )
    }

    #[test]
    fn fields_fill_in_place() {
        let t = templater();
        assert_eq!(
            t.expand("-X main.version={{.Version}} -X main.commit={{ .Git.ShortCommit }}")
                .unwrap(),
            "-X main.version=1.4.0 -X main.commit=0123456"
        );
        assert_eq!(
            t.expand("{{.Git.Tag}}-{{.Env.STAGE}}").unwrap(),
            "v1.4.0-prod"
        );
        assert_eq!(t.expand("plain").unwrap(), "plain");
    }

    #[test]
    fn what_cannot_be_filled_is_an_error() {
        let t = templater();
        let e = t.expand("{{.Env.NOPE}}").unwrap_err();
        assert!(e.contains("NOPE is not set"), "{e}");
        let e = t.expand("{{.Git.Branch}}").unwrap_err();
        assert!(
            e.contains("unknown template field") && e.contains(".Git.Tag"),
            "{e}"
        );
        let e = t.expand("x {{.Version").unwrap_err();
        assert!(e.contains("without a closing"), "{e}");
        let no_git = Templater::with_env(Path::new("/"), |_| None);
        assert!(
            no_git
                .expand("{{.Git.Commit}}")
                .unwrap_err()
                .contains("git")
        );
        assert_eq!(no_git.expand("no templates").unwrap(), "no templates");
    }
}
